#include "upstream/cgi/environ.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace gw::cgi {
namespace {

http::RequestHead sampleHead() {
  http::RequestHead h;
  h.method = "POST";
  h.path = "/app/hello%20world/a%2Fb";
  h.query = "x=1&y=%20";
  h.authority = "example.com:8443";
  h.headers.add("Host", "example.com:8443");
  h.headers.add("Content-Type", "application/json");
  h.headers.add("Content-Length", "5");
  h.headers.add("X-Forwarded-For", "1.1.1.1");
  h.headers.add("Accept", "text/html");
  h.headers.add("accept", "application/json");
  h.headers.add("Cookie", "a=1");
  h.headers.add("Cookie", "b=2");
  h.headers.add("Proxy", "http://evil:8080");
  h.content_length = 5;
  return h;
}

std::map<std::string, std::string> asMap(const Environ& env) {
  std::map<std::string, std::string> m;
  for (const Var& v : env) {
    EXPECT_FALSE(m.contains(v.name)) << "duplicate " << v.name;
    m[v.name] = v.value;
  }
  return m;
}

TEST(Environ, CgiVariables) {
  EnvironOptions o;
  o.mount_prefix = "/app/";
  o.server_port = 8443;
  o.remote_addr = "10.0.0.7";
  o.remote_port = 51234;
  o.https = true;
  auto env = buildEnviron(sampleHead(), o);
  ASSERT_TRUE(env);
  auto m = asMap(*env);
  EXPECT_EQ(m["REQUEST_METHOD"], "POST");
  EXPECT_EQ(m["SCRIPT_NAME"], "/app");
  EXPECT_EQ(m["PATH_INFO"], "/hello world/a/b");
  EXPECT_EQ(m["REQUEST_URI"], "/app/hello%20world/a%2Fb?x=1&y=%20");
  EXPECT_EQ(m["QUERY_STRING"], "x=1&y=%20");
  EXPECT_EQ(m["CONTENT_TYPE"], "application/json");
  EXPECT_EQ(m["CONTENT_LENGTH"], "5");
  EXPECT_EQ(m["SERVER_NAME"], "example.com");
  EXPECT_EQ(m["SERVER_PORT"], "8443");
  EXPECT_EQ(m["SERVER_PROTOCOL"], "HTTP/1.1");
  EXPECT_EQ(m["GATEWAY_INTERFACE"], "CGI/1.1");
  EXPECT_EQ(m["REMOTE_ADDR"], "10.0.0.7");
  EXPECT_EQ(m["REMOTE_PORT"], "51234");
  EXPECT_EQ(m["HTTPS"], "on");
  EXPECT_EQ(m["HTTP_HOST"], "example.com:8443");
  EXPECT_EQ(m["HTTP_X_FORWARDED_FOR"], "1.1.1.1");
  EXPECT_EQ(m["HTTP_ACCEPT"], "text/html, application/json");
  EXPECT_EQ(m["HTTP_COOKIE"], "a=1; b=2");
  EXPECT_FALSE(m.contains("HTTP_CONTENT_TYPE"));
  EXPECT_FALSE(m.contains("HTTP_CONTENT_LENGTH"));
  EXPECT_FALSE(m.contains("REMOTE_USER"));
  EXPECT_FALSE(m.contains("SCRIPT_FILENAME"));
}

TEST(Environ, Httpoxy) {
  http::RequestHead h = sampleHead();
  h.headers.add("PROXY", "x");
  h.headers.add("proxy", "y");
  EnvironOptions o;
  o.allow_underscores_in_headers = true;
  auto env = buildEnviron(h, o);
  ASSERT_TRUE(env);
  for (const Var& v : *env) EXPECT_NE(v.name, "HTTP_PROXY");
}

TEST(Environ, UnderscoreHeadersDroppedUnlessAllowed) {
  http::RequestHead h = sampleHead();
  h.headers.add("X_Forwarded_For", "6.6.6.6");
  auto env = buildEnviron(h, {});
  ASSERT_TRUE(env);
  EXPECT_EQ(asMap(*env)["HTTP_X_FORWARDED_FOR"], "1.1.1.1");
  EnvironOptions o;
  o.allow_underscores_in_headers = true;
  auto env2 = buildEnviron(h, o);
  ASSERT_TRUE(env2);
  EXPECT_EQ(asMap(*env2)["HTTP_X_FORWARDED_FOR"], "1.1.1.1, 6.6.6.6");
}

// An upstream's forwarded_headers: the gateway's HTTP_X_FORWARDED_* replace the request's fields of
// those names, whatever their spelling, and X-Real-IP; empty ones are not sent.
TEST(Environ, GatewayForwardedVarsReplaceTheRequests) {
  http::RequestHead h = sampleHead();
  h.headers.add("X_Forwarded_For", "6.6.6.6");
  h.headers.add("X-Real-IP", "6.6.6.6");
  h.headers.add("x-forwarded-proto", "https");
  const std::pair<std::string_view, std::string_view> fwd[] = {
      {"HTTP_X_FORWARDED_FOR", "1.1.1.1, 10.0.0.7"}, {"HTTP_X_FORWARDED_PROTO", "http"}, {"HTTP_FORWARDED", ""}};
  EnvironOptions o;
  o.allow_underscores_in_headers = true;
  o.forwarded = fwd;
  auto env = buildEnviron(h, o);
  ASSERT_TRUE(env);
  std::map<std::string, int> count;
  for (const Var& v : *env) ++count[v.name];
  auto m = asMap(*env);
  EXPECT_EQ(m["HTTP_X_FORWARDED_FOR"], "1.1.1.1, 10.0.0.7");
  EXPECT_EQ(count["HTTP_X_FORWARDED_FOR"], 1);
  EXPECT_EQ(m["HTTP_X_FORWARDED_PROTO"], "http");
  EXPECT_EQ(count["HTTP_X_FORWARDED_PROTO"], 1);
  EXPECT_FALSE(m.contains("HTTP_X_REAL_IP"));
  EXPECT_FALSE(m.contains("HTTP_FORWARDED"));
  EXPECT_EQ(m["HTTP_ACCEPT"], "text/html, application/json");  // others untouched
}

TEST(Environ, NotHttpsNoHttpsVar) {
  auto env = buildEnviron(sampleHead(), {});
  ASSERT_TRUE(env);
  auto m = asMap(*env);
  EXPECT_FALSE(m.contains("HTTPS"));
  EXPECT_EQ(m["SCRIPT_NAME"], "");
  EXPECT_EQ(m["PATH_INFO"], "/app/hello world/a/b");
}

TEST(Environ, OptionalVarsAndExtras) {
  EnvironOptions o;
  o.remote_user = "alice";
  o.script_filename = "/srv/www/index.php";
  o.document_root = "/srv/www";
  o.server_name = "configured.example";
  const std::vector<std::pair<std::string, std::string>> params = {{"APP_ENV", "prod"}, {"SERVER_NAME", "override"}};
  o.extra = params;
  auto env = buildEnviron(sampleHead(), o);
  ASSERT_TRUE(env);
  auto m = asMap(*env);
  EXPECT_EQ(m["REMOTE_USER"], "alice");
  EXPECT_EQ(m["SCRIPT_FILENAME"], "/srv/www/index.php");
  EXPECT_EQ(m["DOCUMENT_ROOT"], "/srv/www");
  EXPECT_EQ(m["APP_ENV"], "prod");
  EXPECT_EQ(m["SERVER_NAME"], "override");
}

std::vector<std::string> names(const Environ& env) {
  std::vector<std::string> n;
  for (const Var& v : env) n.push_back(v.name);
  return n;
}

TEST(Environ, RepeatedFieldsCombinedWhereFirstSeen) {
  http::RequestHead h;
  h.method = "GET";
  h.path = "/";
  h.headers.add("X-A", "1");
  h.headers.add("Accept", "a");
  h.headers.add("x-a", "2");
  h.headers.add("X_A", "3");
  h.headers.add("cookie", "c=1");
  h.headers.add("Cookie", "d=2");
  auto env = buildEnviron(h, {});
  ASSERT_TRUE(env);
  const auto n = names(*env);
  auto at = [&](std::string_view name) { return std::find(n.begin(), n.end(), name) - n.begin(); };
  EXPECT_LT(at("HTTP_X_A"), at("HTTP_ACCEPT"));
  EXPECT_LT(at("HTTP_ACCEPT"), at("HTTP_COOKIE"));
  EXPECT_EQ(asMap(*env)["HTTP_X_A"], "1, 2");
  EXPECT_EQ(asMap(*env)["HTTP_COOKIE"], "c=1; d=2");
  EnvironOptions o;
  o.allow_underscores_in_headers = true;
  EXPECT_EQ(asMap(*buildEnviron(h, o))["HTTP_X_A"], "1, 2, 3");
}

// A head of more than 64 fields (the classification spills from the stack to the heap): repeats
// still combine in order, each name once.
TEST(Environ, ManyFieldsCombineAcrossTheFirstSixtyFour) {
  http::RequestHead h = sampleHead();
  for (int i = 0; i < 100; ++i) h.headers.add("X-" + std::to_string(i % 10), std::to_string(i));
  auto env = buildEnviron(h, {});
  ASSERT_TRUE(env);
  auto m = asMap(*env);
  EXPECT_EQ(m.size(), env->size()) << "a name appears twice";
  EXPECT_EQ(m["HTTP_X_3"], "3, 13, 23, 33, 43, 53, 63, 73, 83, 93");
}

TEST(Environ, ParamsReplaceInPlaceOthersFollowInOrder) {
  http::RequestHead h = sampleHead();
  const std::vector<std::pair<std::string, std::string>> params = {
      {"APP", "1"}, {"SERVER_NAME", "x"}, {"B", "b"}, {"APP", "2"}, {"HTTP_ACCEPT", "y"}};
  EnvironOptions o;
  o.extra = params;
  auto plain = buildEnviron(h, {});
  auto env = buildEnviron(h, o);
  ASSERT_TRUE(plain && env);
  ASSERT_EQ(env->size(), plain->size() + 2);
  for (size_t i = 0; i < plain->size(); ++i) EXPECT_EQ((*env)[i].name, (*plain)[i].name);  // same places
  EXPECT_EQ(asMap(*env)["SERVER_NAME"], "x");
  EXPECT_EQ(asMap(*env)["HTTP_ACCEPT"], "y");
  EXPECT_EQ((*env)[plain->size()].name, "APP");  // where it first appears, with its last value
  EXPECT_EQ((*env)[plain->size()].value, "2");
  EXPECT_EQ((*env)[plain->size() + 1].name, "B");
}

TEST(Environ, ScriptFilenameLastFromTheFinalEnviron) {
  http::RequestHead h;
  h.method = "GET";
  h.path = "/app/a%20b.php";
  EnvironOptions o;
  o.mount_prefix = "/app";
  o.document_root = "/srv";
  o.script_filename = "{document_root}{path_info}";
  auto env = buildEnviron(h, o);
  ASSERT_TRUE(env);
  EXPECT_EQ(env->back().name, "SCRIPT_FILENAME");
  EXPECT_EQ(env->back().value, "/srv/a b.php");
  // A param may replace PATH_INFO / DOCUMENT_ROOT (the template sees it) or name SCRIPT_FILENAME
  // (the template's value goes in its place).
  const std::vector<std::pair<std::string, std::string>> params = {
      {"SCRIPT_FILENAME", "ignored"}, {"PATH_INFO", "/p"}, {"Z", "z"}};
  o.extra = params;
  env = buildEnviron(h, o);
  ASSERT_TRUE(env);
  ASSERT_GE(env->size(), 2u);
  EXPECT_EQ((*env)[env->size() - 2].name, "SCRIPT_FILENAME");
  EXPECT_EQ((*env)[env->size() - 2].value, "/srv/p");
  EXPECT_EQ(env->back().name, "Z");
  EXPECT_EQ(asMap(*env)["PATH_INFO"], "/p");
}

TEST(Environ, Http2AuthorityWithoutHost) {
  http::RequestHead h;
  h.method = "GET";
  h.path = "/";
  h.authority = "[::1]:8080";
  h.version_major = 2;
  h.version_minor = 0;
  auto env = buildEnviron(h, {});
  ASSERT_TRUE(env);
  auto m = asMap(*env);
  EXPECT_EQ(m["HTTP_HOST"], "[::1]:8080");
  EXPECT_EQ(m["SERVER_NAME"], "[::1]");
  EXPECT_EQ(m["SERVER_PROTOCOL"], "HTTP/2.0");
  EXPECT_FALSE(m.contains("CONTENT_LENGTH"));
  EXPECT_FALSE(m.contains("CONTENT_TYPE"));
}

TEST(Environ, PercentDecoding) {
  EXPECT_EQ(percentDecodePath("/a%20b"), "/a b");
  EXPECT_EQ(percentDecodePath("/%e2%82%AC"), "/\xe2\x82\xac");
  EXPECT_EQ(percentDecodePath("/a+b"), "/a+b");
  EXPECT_EQ(percentDecodePath("/100%"), "/100%");
  EXPECT_EQ(percentDecodePath("/%4"), "/%4");
  EXPECT_EQ(percentDecodePath("/%zz%4g"), "/%zz%4g");
  EXPECT_EQ(percentDecodePath("/%2541"), "/%41");  // decoded once only
  EXPECT_EQ(percentDecodePath("/a%00b"), std::nullopt);
  http::RequestHead h;
  h.method = "GET";
  h.path = "/x%00";
  EXPECT_EQ(buildEnviron(h, {}).error(), EnvironError::BadPath);
  h.path = "relative";
  EXPECT_EQ(buildEnviron(h, {}).error(), EnvironError::BadPath);
}

TEST(Environ, ScriptNameSplit) {
  using P = std::pair<std::string_view, std::string_view>;
  EXPECT_EQ(splitScriptName("/app/x", "/app"), P("/app", "/x"));
  EXPECT_EQ(splitScriptName("/app", "/app"), P("/app", ""));
  EXPECT_EQ(splitScriptName("/app/", "/app/"), P("/app", "/"));
  EXPECT_EQ(splitScriptName("/application", "/app"), P("", "/application"));
  EXPECT_EQ(splitScriptName("/other", "/app"), P("", "/other"));
  EXPECT_EQ(splitScriptName("/x", "/"), P("", "/x"));
  EXPECT_EQ(splitScriptName("/x", ""), P("", "/x"));
}

TEST(Environ, HeaderName) {
  EXPECT_EQ(cgiHeaderName("X-Forwarded-For"), "HTTP_X_FORWARDED_FOR");
  EXPECT_EQ(cgiHeaderName("accept-encoding"), "HTTP_ACCEPT_ENCODING");
  EXPECT_EQ(cgiHeaderName("dnt"), "HTTP_DNT");
}

}  // namespace
}  // namespace gw::cgi
