#include <gtest/gtest.h>

#include "config/config.h"
#include "filters/router.h"

namespace gw::filters {
namespace {

config::ConfigConstSharedPtr makeConfig() {
  auto r = config::loadConfigText(R"(
upstreams:
  - {name: a, servers: ["127.0.0.1:1"]}
  - {name: b, servers: ["127.0.0.1:2"]}
routes:
  - {name: exact, hosts: [api.example.com], prefix: /v1, upstream: a, strip_prefix: true}
  - {name: wild, hosts: ["*.example.com"], prefix: /v1, upstream: b}
  - {name: ro, prefix: /ro, methods: [GET, HEAD], upstream: a}
  - {name: slash, prefix: /static/, upstream: b, strip_prefix: true}
)", "test.yaml");
  EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : r.errors[0].str());
  return r.config;
}

TEST(RouteTable, HostExactBeatsLaterWildcardAndWildcardSkipsApex) {
  RouteTable t(makeConfig());
  EXPECT_EQ(t.match("api.example.com", "/v1/users", "GET").route->name, "exact");
  EXPECT_EQ(t.match("API.Example.COM:8443", "/v1", "GET").route->name, "exact");
  EXPECT_EQ(t.match("www.example.com", "/v1/x", "GET").route->name, "wild");
  EXPECT_EQ(t.match("a.b.example.com", "/v1/x", "GET").route->name, "wild");
  EXPECT_EQ(t.match("example.com", "/v1/x", "GET").route, nullptr);
  EXPECT_EQ(t.match("evilexample.com", "/v1/x", "GET").route, nullptr);
}

TEST(RouteTable, PrefixOnSegmentBoundary) {
  EXPECT_TRUE(RouteTable::prefixMatches("/api", "/api"));
  EXPECT_TRUE(RouteTable::prefixMatches("/api", "/api/x"));
  EXPECT_FALSE(RouteTable::prefixMatches("/api", "/apix"));
  EXPECT_TRUE(RouteTable::prefixMatches("/api/", "/api/x"));
  EXPECT_FALSE(RouteTable::prefixMatches("/api/", "/api"));
  EXPECT_TRUE(RouteTable::prefixMatches("/", "/anything"));
}

TEST(RouteTable, MethodsGive405Allowed) {
  RouteTable t(makeConfig());
  EXPECT_EQ(t.match("x", "/ro/a", "GET").route->name, "ro");
  auto m = t.match("x", "/ro/a", "POST");
  EXPECT_EQ(m.route, nullptr);
  ASSERT_EQ(m.allowed.size(), 2u);
  EXPECT_EQ(m.allowed[0], "GET");
  EXPECT_EQ(m.allowed[1], "HEAD");
  EXPECT_TRUE(t.match("x", "/nowhere", "GET").allowed.empty());
}

TEST(RouteTable, StripPrefix) {
  EXPECT_EQ(RouteTable::stripPrefix("/v1", "/v1/users"), "/users");
  EXPECT_EQ(RouteTable::stripPrefix("/v1", "/v1"), "/");
  EXPECT_EQ(RouteTable::stripPrefix("/static/", "/static/css/a.css"), "/css/a.css");
}

TEST(RouteTable, DotSegmentsPlainAndEncoded) {
  EXPECT_TRUE(RouteTable::hasDotSegment("/api/../admin"));
  EXPECT_TRUE(RouteTable::hasDotSegment("/api/%2e%2E/admin"));
  EXPECT_TRUE(RouteTable::hasDotSegment("/api%2f..%2fadmin"));
  EXPECT_TRUE(RouteTable::hasDotSegment("/api/."));
  EXPECT_TRUE(RouteTable::hasDotSegment("/api\\..\\admin"));
  EXPECT_FALSE(RouteTable::hasDotSegment("/api/..hidden/file.txt"));
  EXPECT_FALSE(RouteTable::hasDotSegment("/api/v1.2/x"));
  EXPECT_FALSE(RouteTable::hasDotSegment("/%2"));
}

TEST(RouteTable, NormalizeHost) {
  EXPECT_EQ(RouteTable::normalizeHost("Example.COM:8080"), "example.com");
  EXPECT_EQ(RouteTable::normalizeHost("[::1]:8080"), "[::1]");
  EXPECT_EQ(RouteTable::normalizeHost("example.com."), "example.com");
}

}  // namespace
}  // namespace gw::filters
