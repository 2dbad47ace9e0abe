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
  EXPECT_FALSE(h.get("X-One"));
}

// Fields are views into the map's blocks: they must survive growth across blocks, removal of
// other fields, and moves; copies must own their bytes.
TEST(HeaderMap, StorageOutlivesGrowthMovesAndCopies) {
  HeaderMap h;
  h.add("First", "value-1");
  std::string_view first = h.fields()[0].value;
  const std::string big(40000, 'b');  // larger than any block
  for (int i = 0; i < 300; ++i) h.add("X-Field-" + std::to_string(i), std::string(50, static_cast<char>('a' + i % 26)));
  h.add("Big", big);
  h.add("Empty", "");
  EXPECT_EQ(first, "value-1");
  EXPECT_EQ(*h.get("x-field-299"), std::string(50, 'a' + 299 % 26));
  EXPECT_EQ(*h.get("big"), big);
  EXPECT_EQ(*h.get("empty"), "");

  h.remove("First");
  EXPECT_EQ(first, "value-1");  // bytes of removed fields stay until the map goes
  HeaderMap copy = h;
  HeaderMap moved = std::move(h);
  EXPECT_TRUE(h.empty());
  h.add("Reused", "after move");
  EXPECT_EQ(*h.get("reused"), "after move");
  ASSERT_EQ(moved.size(), copy.size());
  for (size_t i = 0; i < copy.size(); ++i) {
    EXPECT_EQ(copy.fields()[i].name, moved.fields()[i].name);
    EXPECT_EQ(copy.fields()[i].value, moved.fields()[i].value);
    EXPECT_NE(copy.fields()[i].value.data(), moved.fields()[i].value.data());
  }
  moved = {};  // the copy owns its bytes
  EXPECT_EQ(*copy.get("big"), big);
  copy = copy;
  EXPECT_EQ(copy.size(), 302u);
  copy.clear();
  EXPECT_TRUE(copy.empty());
  copy.reserve(4, 100);
  copy.add("A", "b");
  EXPECT_EQ(*copy.get("a"), "b");
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
  EXPECT_TRUE(h.get("X-Keep"));
  // Framing and identity cannot be stripped by naming them in Connection.
  EXPECT_TRUE(h.get("Content-Length"));
  EXPECT_TRUE(h.get("Host"));
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
  for (const auto& f : t.fields()) left.emplace_back(f.name);
  EXPECT_EQ(left, (std::vector<std::string>{"grpc-status", "X-Checksum"}));
}

namespace gw::http {
namespace {

// One check for Host (HTTP/1.1) and :authority (HTTP/2).
TEST(Headers, ValidAuthority) {
  for (const char* ok : {"example.com", "a-b.example.com:8443", "127.0.0.1:80", "[::1]:8080", "under_score"}) {
    EXPECT_TRUE(isValidAuthority(ok)) << ok;
  }
  for (std::string bad : {"", "a b", "a/b", "user@host", "a\tb", "\xc3\xa9.com"}) {
    EXPECT_FALSE(isValidAuthority(bad)) << bad;
  }
  EXPECT_TRUE(isValidAuthority(std::string(255, 'a')));
  EXPECT_FALSE(isValidAuthority(std::string(256, 'a')));
}

}  // namespace
}  // namespace gw::http
