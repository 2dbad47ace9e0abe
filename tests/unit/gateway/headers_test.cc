#include <gtest/gtest.h>

#include "http/headers.h"
#include "http/problem.h"

namespace gw::http {
namespace {

TEST(HeaderMap, CaseInsensitiveAndCombining) {
  HeaderMap h;
  h.add("Accept", "text/html");
  h.add("accept", "application/json");
  h.add("X-One", "1");
  EXPECT_EQ(h.count("ACCEPT"), 2u);
  EXPECT_EQ(*h.get("x-one"), "1");
  EXPECT_EQ(h.getCombined("Accept"), "text/html, application/json");
  h.set("accept", "*/*");
  EXPECT_EQ(h.count("Accept"), 1u);
  EXPECT_EQ(h.remove("x-ONE"), 1u);
  EXPECT_EQ(h.get("X-One"), nullptr);
}

TEST(HeaderMap, RemovesHopByHopAndNamedByConnection) {
  HeaderMap h;
  h.add("Connection", "keep-alive, X-Secret, Content-Length, Host");
  h.add("Keep-Alive", "timeout=5");
  h.add("TE", "trailers");
  h.add("Transfer-Encoding", "chunked");
  h.add("Upgrade", "websocket");
  h.add("Proxy-Connection", "keep-alive");
  h.add("Trailer", "X-Checksum");
  h.add("X-Secret", "s");
  h.add("Content-Length", "3");
  h.add("Host", "a");
  h.add("X-Keep", "k");
  removeHopByHop(h);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_NE(h.get("X-Keep"), nullptr);
  // Framing and identity cannot be stripped by naming them in Connection.
  EXPECT_NE(h.get("Content-Length"), nullptr);
  EXPECT_NE(h.get("Host"), nullptr);
}

TEST(FieldValidation, RefusesInjection) {
  EXPECT_TRUE(isValidFieldName("X-Good_Header.1"));
  EXPECT_FALSE(isValidFieldName(""));
  EXPECT_FALSE(isValidFieldName("Bad Header"));
  EXPECT_FALSE(isValidFieldName("Bad:Header"));
  EXPECT_TRUE(isValidFieldValue("a value\twith tab"));
  EXPECT_FALSE(isValidFieldValue("a\r\nInjected: yes"));
  EXPECT_FALSE(isValidFieldValue(std::string("nul\0byte", 8)));
  EXPECT_FALSE(isValidFieldValue("del\x7f"));
  EXPECT_TRUE(isValidFieldValue("obs-text \xe9\xff"));  // RFC 9110 obs-text is allowed
}

TEST(SplitList, TrimsAndSkipsEmpty) {
  auto v = splitList(" a , ,b,\tc ");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0], "a");
  EXPECT_EQ(v[1], "b");
  EXPECT_EQ(v[2], "c");
}

TEST(Problem, IsStableJsonWithoutInternals) {
  std::string p = problemJson(404, "route_not_found", "no \"route\"", "abc");
  EXPECT_EQ(p,
            "{\"type\":\"urn:gatewayd:problem:route_not_found\",\"title\":\"Not Found\",\"status\":404,"
            "\"detail\":\"no \\\"route\\\"\",\"request_id\":\"abc\"}\n");
}

}  // namespace
}  // namespace gw::http

TEST(Trailers, ForbiddenFieldsAreRemovedAndOthersKept) {
  gw::http::HeaderMap t;
  for (const char* n : {"grpc-status", "Content-Length", "transfer-encoding", "Host", "Authorization", "Set-Cookie",
                        "If-Match", "X-Forwarded-For", "Forwarded", "Connection", "X-Checksum", "X-Remote-User",
                        "x-client-subject", ":path"}) {
    t.add(n, "v");
  }
  gw::http::removeForbiddenTrailers(t, {"x-remote-user", "X-Client-Subject"});
  std::vector<std::string> left;
  for (const auto& f : t.fields()) left.push_back(f.name);
  EXPECT_EQ(left, (std::vector<std::string>{"grpc-status", "X-Checksum"}));
}
