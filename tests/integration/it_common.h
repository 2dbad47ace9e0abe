#pragma once
// Shared fixture pieces for the integration suites: one gunicorn and one misbehaving backend per
// test suite (SetUpTestSuite), one gatewayd per test, started from a YAML config built here.
#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <string>

#include "harness.h"

namespace gwtest {

struct GatewayOptions {
  int workers = 2;
  std::string limits;    // YAML lines under "limits:", each indented by 2
  std::string timeouts;  // YAML lines under "timeouts:"
  std::string trusted;   // YAML flow list for trusted_proxies, e.g. ["127.0.0.1/32"]
  std::string access_format = "json";
  std::string bad_upstream_extra = "    response_timeout: 1s\n    idle_timeout: 2s\n";
  std::string extra;  // more top-level YAML
  std::string routes;  // YAML list items placed before the default routes (first match wins)
  std::string upstreams;  // YAML list items appended to the default upstreams
  std::string listen_address = "127.0.0.1";
  std::string listener_extra;  // YAML lines under the listener (indented by 4), e.g. a tls block
};

// A self-signed P-256 certificate for localhost and 127.0.0.1 (also its own CA for curl
// --cacert), made once per test program with the openssl CLI: the path of cert.pem / key.pem.
inline std::string selfSignedCert(const char* file = "cert.pem") {
  static const std::string dir = [] {
    static TempDir d;
    const std::string cmd =
        "/usr/bin/openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
        "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " + d.path() +
        "/key.pem -out " + d.path() + "/cert.pem >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) ADD_FAILURE() << "openssl could not make the test certificate";
    return d.path();
  }();
  return dir + "/" + file;
}
// A listener `tls:` block (for GatewayOptions::listener_extra) with that certificate.
inline std::string selfSignedTlsBlock() {
  return "    tls:\n      certificates:\n        - {cert: " + selfSignedCert() + ", key: " + selfSignedCert("key.pem") +
         "}\n";
}

// Stops a test's gatewayd with a clean drain and fails the test on any sanitizer report in its
// error log (GW_SANITIZE builds: leaks show at exit).
inline void stopChecked(std::unique_ptr<Gateway>& gw) {
  if (gw) {
    gw->process().stop(SIGTERM, 5000ms);
    std::string err = gw->errorLog();
    EXPECT_EQ(err.find("Sanitizer"), std::string::npos) << err;
    EXPECT_EQ(err.find("runtime error:"), std::string::npos) << err;
  }
  gw.reset();
}

class IntegrationTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    suite_dir_ = new TempDir();
    gunicorn_ = Gunicorn::start(suite_dir_->path()).release();
    bad_ = BadBackend::start(suite_dir_->path()).release();
    dead_port_ = deadPort();
  }
  static void TearDownTestSuite() {
    delete gunicorn_;
    gunicorn_ = nullptr;
    delete bad_;
    bad_ = nullptr;
    delete suite_dir_;
    suite_dir_ = nullptr;
  }

 protected:
  void SetUp() override { tmp_ = std::make_unique<TempDir>(); }
  void TearDown() override {
    stopChecked(gw_);
    tmp_.reset();
  }

  std::string accessLogPath() const { return tmp_->file("access.log"); }

  std::string configYaml(const GatewayOptions& o) const {
    const std::string g = gunicorn_->address();
    const std::string b = bad_->address();
    const std::string d = "127.0.0.1:" + std::to_string(dead_port_);
    std::string y;
    y += "workers: " + std::to_string(o.workers) + "\n";
    y += "listeners:\n  - name: main\n    address: " + o.listen_address + "\n    port: 0\n";
    y += o.listener_extra;
    y += "upstreams:\n";
    y += "  - name: echo\n    servers: [\"" + g + "\"]\n    keepalive: 8\n    idle_timeout: 10s\n"
         "    response_timeout: 30s\n";
    y += "  - name: bad\n    servers: [\"" + b + "\"]\n    retries: 0\n" + o.bad_upstream_extra;
    y += "  - name: dead\n    servers: [\"" + d + "\"]\n    connect_timeout: 1s\n";
    y += "  - name: mixed\n    servers: [\"" + d + "\", \"" + g +
         "\"]\n    retries: 1\n    max_fails: 1\n    fail_timeout: 30s\n    idle_timeout: 10s\n";
    y += "  - name: flaky\n    servers: [\"" + b + "\", \"" + g +
         "\"]\n    retries: 1\n    max_fails: 100\n    idle_timeout: 10s\n";
    y += o.upstreams;
    y += "routes:\n" + o.routes;
    y += "  - name: exact-host\n    hosts: [\"api.test\"]\n    prefix: /svc\n    strip_prefix: true\n"
         "    upstream: echo\n";
    y += "  - name: wildcard-host\n    hosts: [\"*.example.com\"]\n    prefix: /\n    upstream: echo\n";
    y += "  - name: methods\n    prefix: /only-get-post\n    methods: [GET, POST]\n    upstream: echo\n";
    y += "  - name: bad\n    prefix: /bad\n    strip_prefix: true\n    upstream: bad\n";
    y += "  - name: dead\n    prefix: /dead\n    upstream: dead\n";
    y += "  - name: mixed\n    prefix: /mixed\n    upstream: mixed\n";
    y += "  - name: flaky\n    prefix: /flaky\n    upstream: flaky\n";
    y += "  - name: api\n    prefix: /api\n    upstream: echo\n";
    if (!o.limits.empty()) y += "limits:\n" + o.limits;
    if (!o.timeouts.empty()) y += "timeouts:\n" + o.timeouts;
    if (!o.trusted.empty()) y += "trusted_proxies: " + o.trusted + "\n";
    y += "logs:\n  access: " + accessLogPath() + "\n  access_format: " + o.access_format + "\n";
    y += o.extra;
    return y;
  }

  Gateway& startGateway(const GatewayOptions& o = {}, const std::vector<std::string>& args = {}) {
    gw_ = Gateway::start(tmp_->path(), configYaml(o), args);
    return *gw_;
  }

  // A plain request on a fresh connection that must succeed: the gateway is still serving.
  void expectStillServing() {
    auto r = rawRequest(gw_->port(), "GET /api/still-alive HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(r) << "no answer after the previous case; gatewayd stderr:\n" << gw_->errorLog();
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(gw_->process().running());
  }

  std::vector<std::string> accessLog() const { return readLines(accessLogPath()); }
  // Waits until the access log has at least n lines (it is written when a stream ends).
  std::vector<std::string> waitAccessLog(size_t n, Millis timeout = 3000ms) const {
    waitUntil([&] { return accessLog().size() >= n; }, timeout);
    return accessLog();
  }

  static TempDir* suite_dir_;
  static Gunicorn* gunicorn_;
  static BadBackend* bad_;
  static uint16_t dead_port_;
  std::unique_ptr<TempDir> tmp_;
  std::unique_ptr<Gateway> gw_;
};

inline TempDir* IntegrationTest::suite_dir_ = nullptr;
inline Gunicorn* IntegrationTest::gunicorn_ = nullptr;
inline BadBackend* IntegrationTest::bad_ = nullptr;
inline uint16_t IntegrationTest::dead_port_ = 0;

// Asserts that `r` is a problem+json answer with the given status.
inline void expectProblem(const HttpResponse& r, int status) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.header("content-type").value_or(""), "application/problem+json");
  EXPECT_EQ(jsonNumber(r.body, "status").value_or(-1), status) << r.body;
  EXPECT_TRUE(jsonString(r.body, "type").has_value()) << r.body;
}

}  // namespace gwtest
