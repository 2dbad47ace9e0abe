#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "validators/contract.h"

namespace gw::validators::testing {

inline std::string specPath(const std::string& name) { return std::string(GW_SPECS_DIR) + "/" + name; }
inline std::string testdata(const std::string& rel) { return std::string(GW_TESTDATA_DIR) + "/" + rel; }
inline bool haveTestdata() { return std::filesystem::is_directory(GW_TESTDATA_DIR); }

#define GW_REQUIRE_TESTDATA()                                                                          \
  if (!::gw::validators::testing::haveTestdata())                                                      \
  GTEST_SKIP() << "NOT RUN: conformance data directory " GW_TESTDATA_DIR                               \
                  " is missing (it lives outside the repository, next to it in ../shared/testdata)"

inline ContractPtr mustLoad(const std::string& path) {
  auto c = loadContract(path);
  EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().toString());
  return c ? *c : nullptr;
}

inline std::vector<std::string> codes(const ViolationSink& sink) {
  std::vector<std::string> out;
  for (const auto& v : sink.violations()) out.push_back(v.code);
  return out;
}

inline std::string dump(const ViolationSink& sink) {
  std::string s;
  for (const auto& v : sink.violations()) s += v.toString() + " @ " + v.spec_pointer + "\n";
  return s;
}

// Owns the strings a request view points to.
struct Req {
  std::string method = "GET", path, query, body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool has_body = false;

  Req() = default;
  Req(std::string m, std::string p, std::string q = "", std::string b = "",
      std::vector<std::pair<std::string, std::string>> h = {}, bool hb = false)
      : method(std::move(m)), path(std::move(p)), query(std::move(q)), body(std::move(b)), headers(std::move(h)),
        has_body(hb) {}

  HttpRequestView view() const {
    HttpRequestView v;
    v.method = method;
    v.path = path;
    v.query = query;
    for (const auto& [k, val] : headers) v.headers.emplace_back(k, val);
    v.body = body;
    v.body_present = has_body;
    return v;
  }
};

struct Resp {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  HttpResponseView view() const {
    HttpResponseView v;
    v.status = status;
    for (const auto& [k, val] : headers) v.headers.emplace_back(k, val);
    v.body = body;
    v.body_present = !body.empty();
    return v;
  }
};

}  // namespace gw::validators::testing
