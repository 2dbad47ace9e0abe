#include <gtest/gtest.h>

#include "config/config.h"

namespace gw::config {
namespace {

std::string errorsOf(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.str() + "\n";
  return out;
}

TEST(Config, MinimalYamlGetsDefaults) {
  auto r = loadConfigText("upstreams: [{name: app, servers: [\"127.0.0.1:9000\"]}]\nroutes: [{upstream: app}]\n", "a.yaml");
  ASSERT_TRUE(r.errors.empty()) << errorsOf(r);
  const Config& c = *r.config;
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].port, 8080);
  EXPECT_EQ(c.limits.max_header_bytes, 65536u);
  EXPECT_EQ(c.timeouts.client_header, Millis(10000));
  EXPECT_EQ(c.routes[0].prefix, "/");
  EXPECT_EQ(c.upstreams[0].balance, Balance::RoundRobin);
}

TEST(Config, ForwardedHeadersDefaultByKind) {
  auto r = loadConfigText("upstreams:\n"
                          "  - {name: web, servers: [\"127.0.0.1:9000\"]}\n"
                          "  - {name: php, kind: fastcgi, servers: [\"127.0.0.1:9001\"]}\n"
                          "  - {name: py, kind: uwsgi, servers: [\"127.0.0.1:9002\"], forwarded_headers: true}\n"
                          "  - {name: web2, servers: [\"127.0.0.1:9003\"], forwarded_headers: false}\n"
                          "routes: [{upstream: web}]\n",
                          "a.yaml");
  ASSERT_TRUE(r.errors.empty()) << errorsOf(r);
  EXPECT_TRUE(r.config->upstreams[0].forwarded_headers);
  EXPECT_FALSE(r.config->upstreams[1].forwarded_headers);
  EXPECT_TRUE(r.config->upstreams[2].forwarded_headers);
  EXPECT_FALSE(r.config->upstreams[3].forwarded_headers);
  auto bad = loadConfigText("upstreams: [{name: s, kind: static, root: /tmp, forwarded_headers: true}]\n"
                            "routes: [{upstream: s}]\n",
                            "b.yaml");
  EXPECT_NE(errorsOf(bad).find("/upstreams/0/forwarded_headers: not used by static upstreams"), std::string::npos)
      << errorsOf(bad);
}

TEST(Config, JsonIsAccepted) {
  auto r = loadConfigText(R"({"upstreams":[{"name":"app","servers":["[::1]:9000"],"balance":"least_request"}],
                              "routes":[{"upstream":"app","prefix":"/api"}],
                              "timeouts":{"client_body":"250ms"}})", "a.json");
  ASSERT_TRUE(r.errors.empty()) << errorsOf(r);
  EXPECT_EQ(r.config->upstreams[0].balance, Balance::LeastRequest);
  EXPECT_EQ(r.config->timeouts.client_body, Millis(250));
}

TEST(Config, UnknownKeyNamesFileLineAndField) {
  auto r = loadConfigText("upstreams:\n  - name: app\n    servers: [\"127.0.0.1:1\"]\n    colour: red\nroutes: [{upstream: app}]\n",
                          "gw.yaml");
  ASSERT_FALSE(r.errors.empty());
  std::string all = errorsOf(r);
  EXPECT_NE(all.find("gw.yaml:4: /upstreams/0/colour: unknown key"), std::string::npos) << all;
  EXPECT_EQ(all.find("Failed to validate"), std::string::npos) << "cascade lines are noise: " << all;
  EXPECT_EQ(r.errors.size(), 1u) << all;
}

TEST(Config, OutOfRangeAndWrongType) {
  auto r = loadConfigText(
      "listeners:\n  - port: 70000\nlimits:\n  max_headers: lots\nupstreams: [{name: app, servers: [\"127.0.0.1:1\"]}]\n"
      "routes: [{upstream: app}]\n",
      "gw.yaml");
  std::string all = errorsOf(r);
  EXPECT_NE(all.find("gw.yaml:2: /listeners/0/port: must be <= 65535\n"), std::string::npos) << all;
  EXPECT_NE(all.find("gw.yaml:4: /limits/max_headers: wrong type for this field\n"), std::string::npos) << all;
  EXPECT_EQ(r.config, nullptr);
}

TEST(Config, QuotedNumbersStayStrings) {
  auto r = loadConfigText("workers: \"2\"\nupstreams: [{name: app, servers: [\"127.0.0.1:1\"]}]\nroutes: [{upstream: app}]\n",
                          "gw.yaml");
  EXPECT_NE(errorsOf(r).find("/workers"), std::string::npos) << errorsOf(r);
}

TEST(Config, SemanticErrors) {
  auto r = loadConfigText(R"(
upstreams:
  - {name: app, servers: ["127.0.0.1:1"]}
  - {name: app, servers: ["127.0.0.1:0"]}
routes:
  - {upstream: nope}
trusted_proxies: ["10.0.0.0/99"]
limits: {max_uri_bytes: 70000, max_header_bytes: 65536}
)",
                          "gw.yaml");
  std::string all = errorsOf(r);
  EXPECT_NE(all.find("gw.yaml:4: /upstreams/1/name: duplicate upstream name 'app'"), std::string::npos) << all;
  EXPECT_NE(all.find("/upstreams/1/servers/0: port must be between 1 and 65535"), std::string::npos) << all;
  EXPECT_NE(all.find("gw.yaml:6: /routes/0/upstream: no upstream named 'nope'"), std::string::npos) << all;
  EXPECT_NE(all.find("/trusted_proxies/0: not an IP address or CIDR range"), std::string::npos) << all;
  EXPECT_NE(all.find("/limits/max_uri_bytes: must be smaller than max_header_bytes"), std::string::npos) << all;
}

TEST(Config, YamlSyntaxErrorHasLine) {
  auto r = loadConfigText("upstreams:\n  - name: [unclosed\n", "bad.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, "bad.yaml");
  EXPECT_GT(r.errors[0].line, 0);
}

TEST(Config, DuplicateKeysAreErrors) {
  auto r = loadConfigText("workers: 1\nworkers: 2\nupstreams: [{name: app, servers: [\"127.0.0.1:1\"]}]\nroutes: [{upstream: app}]\n",
                          "d.yaml");
  EXPECT_NE(errorsOf(r).find("duplicate key 'workers'"), std::string::npos) << errorsOf(r);
}

TEST(Config, MissingFile) {
  auto r = loadConfigFile("/nonexistent/gw.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].str().find("cannot read file"), std::string::npos);
}

TEST(Config, ShippedExamplesAreValid) {
  for (const char* f : {"/deploy/gatewayd.example.yaml"}) {
    auto r = loadConfigFile(std::string(GW_SOURCE_DIR) + f);
    EXPECT_TRUE(r.errors.empty()) << f << ": " << errorsOf(r);
  }
}

TEST(Config, DigestAuthPerRouteAndTopLevel) {
  auto r = loadConfigText(
      "upstreams: [{name: app, servers: [\"127.0.0.1:9000\"]}]\n"
      "digest: {nonce_secret: \"0123456789abcdef0123456789abcdef\", nonce_lifetime: 2m, max_tracked_nonces: 500,\n"
      "         user_header: X-User, max_failures: 3, failure_window: 10s, block: 1m}\n"
      "routes:\n"
      "  - {prefix: /a, upstream: app, auth: {realm: \"my realm\", credentials: /etc/gw.htdigest, users: [alice, bob],\n"
      "     algorithms: [MD5, SHA-512-256-sess], forward_authorization: true, authentication_info: true}}\n"
      "  - {prefix: /b, upstream: app, auth: {realm: r, credentials: f}}\n"
      "  - {prefix: /, upstream: app}\n",
      "a.yaml");
  ASSERT_TRUE(r.errors.empty()) << errorsOf(r);
  const Config& c = *r.config;
  EXPECT_EQ(c.digest.nonce_lifetime, Millis(120000));
  EXPECT_EQ(c.digest.max_tracked_nonces, 500u);
  EXPECT_EQ(c.digest.user_header, "X-User");
  EXPECT_EQ(c.digest.max_failures, 3u);
  EXPECT_EQ(c.digest.block, Millis(60000));
  ASSERT_TRUE(c.routes[0].auth);
  EXPECT_EQ(c.routes[0].auth->realm, "my realm");
  EXPECT_EQ(c.routes[0].auth->users, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(c.routes[0].auth->algorithms, (std::vector<std::string>{"MD5", "SHA-512-256-sess"}));
  EXPECT_TRUE(c.routes[0].auth->forward_authorization);
  EXPECT_TRUE(c.routes[0].auth->authentication_info);
  ASSERT_TRUE(c.routes[1].auth);
  EXPECT_EQ(c.routes[1].auth->algorithms, (std::vector<std::string>{"SHA-512-256", "SHA-256"}));
  EXPECT_FALSE(c.routes[1].auth->forward_authorization);
  EXPECT_FALSE(c.routes[2].auth);
  EXPECT_EQ(Config{}.digest.user_header, "X-Remote-User");
}

TEST(Config, DigestAuthRefusals) {
  const std::string head = "upstreams: [{name: app, servers: [\"127.0.0.1:9000\"]}]\n";
  auto bad = [&](const std::string& tail, const std::string& expect) {
    auto r = loadConfigText(head + tail, "a.yaml");
    EXPECT_FALSE(r.errors.empty()) << tail;
    EXPECT_NE(errorsOf(r).find(expect), std::string::npos) << errorsOf(r);
  };
  bad("routes: [{upstream: app, auth: {realm: r}}]\n", "/routes/0/auth");
  bad("routes: [{upstream: app, auth: {realm: r, credentials: f, algorithms: [SHA-1]}}]\n", "/routes/0/auth/algorithms/0");
  bad("routes: [{upstream: app, auth: {realm: \"a:b\", credentials: f}}]\n", "/routes/0/auth/realm");
  bad("routes: [{upstream: app, auth: {realm: r, credentials: f, colour: red}}]\n", "/routes/0/auth/colour: unknown key");
  bad("routes: [{upstream: app}]\ndigest: {nonce_secret: short}\n", "/digest/nonce_secret");
  bad("routes: [{upstream: app}]\ndigest: {nonce_lifetime: 500ms}\n", "/digest/nonce_lifetime");
}

TEST(Config, Http2DefaultsAndOverrides) {
  const std::string base = "upstreams: [{name: app, servers: [\"127.0.0.1:9000\"]}]\nroutes: [{upstream: app}]\n";
  auto r = loadConfigText(base, "a.yaml");
  ASSERT_TRUE(r.errors.empty()) << errorsOf(r);
  const Http2& d = r.config->http2;
  EXPECT_TRUE(d.enabled);
  EXPECT_EQ(d.max_concurrent_streams, 100u);
  EXPECT_EQ(d.max_header_list_bytes, 65536u);
  EXPECT_EQ(d.max_header_fields, 100u);
  EXPECT_EQ(d.reset_burst, 1000u);
  EXPECT_EQ(d.reset_rate, 33u);
  EXPECT_EQ(d.max_continuations, 8u);
  EXPECT_EQ(d.idle_timeout, Millis(60000));
  r = loadConfigText(base + "http2: {enabled: false, max_concurrent_streams: 10, max_glitches: 5, idle_timeout: 2s, "
                            "initial_stream_window: 131072, max_outbound_acks: 50}\n", "a.yaml");
  ASSERT_TRUE(r.errors.empty()) << errorsOf(r);
  EXPECT_FALSE(r.config->http2.enabled);
  EXPECT_EQ(r.config->http2.max_concurrent_streams, 10u);
  EXPECT_EQ(r.config->http2.max_glitches, 5u);
  EXPECT_EQ(r.config->http2.idle_timeout, Millis(2000));
  EXPECT_EQ(r.config->http2.initial_stream_window, 131072u);
  EXPECT_EQ(r.config->http2.max_outbound_acks, 50u);
  // Unknown keys, out-of-range values and an inconsistent window pair are errors.
  r = loadConfigText(base + "http2:\n  max_streams: 1\n", "h.yaml");
  EXPECT_NE(errorsOf(r).find("h.yaml:4: /http2/max_streams: unknown key"), std::string::npos) << errorsOf(r);
  r = loadConfigText(base + "http2: {max_frame_size: 1000}\n", "h.yaml");
  EXPECT_NE(errorsOf(r).find("/http2/max_frame_size"), std::string::npos) << errorsOf(r);
  r = loadConfigText(base + "http2: {initial_stream_window: 1000000, initial_connection_window: 65535}\n", "h.yaml");
  EXPECT_NE(errorsOf(r).find("/http2/initial_connection_window"), std::string::npos) << errorsOf(r);
}

}  // namespace
}  // namespace gw::config
