// TLS termination (issue 3): gatewayd with TLS listeners in front of gunicorn, driven by curl and
// `openssl s_client`. Certificates are made at suite start with the openssl CLI: a test CA,
// leaves for a.test, b.test, *.wild.test and a default (default.test, localhost, 127.0.0.1), an
// expired leaf, a client CA with a client certificate for "alice", and an unrelated CA whose
// client certificate must be refused.
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <thread>

#include "it_common.h"

namespace gwtest {
namespace {

class TlsIT : public IntegrationTest {
 public:
  static void SetUpTestSuite() {
    IntegrationTest::SetUpTestSuite();
    certs_ = new TempDir();
    const std::string script = certs_->write("make-certs.sh", R"SH(
set -e
cd "$1"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() { key "$1.key"; openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 30 -subj "$2"; }
# leaf NAME SUBJECT SAN CA DAYS
leaf() {
  key "$1.key"
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4.key" -CAcreateserial -days "$5" -extfile "$1.ext" \
    -out "$1.pem" 2>/dev/null
}
ca ca "/CN=gatewayd test CA"
leaf dflt "/CN=default.test" "DNS:default.test,DNS:localhost,IP:127.0.0.1" ca 30
leaf a "/CN=a.test" "DNS:a.test" ca 30
leaf b "/CN=b.test" "DNS:b.test" ca 30
leaf wild "/CN=*.wild.test" "DNS:*.wild.test" ca 30
leaf expired "/CN=expired.test" "DNS:expired.test" ca -1
ca clientca "/CN=gatewayd test client CA"
leaf alice "/O=Example Clients/CN=alice" "DNS:alice" clientca 30
ca otherca "/CN=someone else's CA"
leaf mallory "/O=Example Clients/CN=mallory" "DNS:mallory" otherca 30
echo "this is not a certificate" > notpem.pem
)SH");
    auto r = runTool({"/bin/sh", script, certs_->path()}, 60000ms);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
    IntegrationTest::TearDownTestSuite();
  }

 protected:
  static std::string cert(const std::string& name) { return certs_->file(name); }

  // The TLS block of the test listener: default certificate first, then a, b and the wildcard.
  static std::string tlsBlock(const std::string& extra = "") {
    std::string y = "    tls:\n      certificates:\n";
    y += "        - {cert: " + cert("dflt.pem") + ", key: " + cert("dflt.key") + "}\n";
    y += "        - {cert: " + cert("a.pem") + ", key: " + cert("a.key") + "}\n";
    y += "        - {cert: " + cert("b.pem") + ", key: " + cert("b.key") + ", names: [b.test, b-alias.test]}\n";
    y += "        - {cert: " + cert("wild.pem") + ", key: " + cert("wild.key") + "}\n";
    return y + extra;
  }

  std::string tlsConfig(const std::string& tls_extra = "", GatewayOptions o = {}) const {
    std::string y = configYaml(o);
    const std::string listener = "    port: 0\n";
    size_t at = y.find(listener);
    y.insert(at + listener.size(), tlsBlock(tls_extra));
    return y;
  }

  Gateway& startTls(const std::string& tls_extra = "", GatewayOptions o = {}, std::vector<std::string> args = {"-v"}) {
    gw_ = Gateway::start(tmp_->path(), tlsConfig(tls_extra, o), args);
    return *gw_;
  }

  std::string port() const { return std::to_string(gw_->port()); }

  // curl over TLS with the test CA; `host` resolves to 127.0.0.1.
  CurlResult curlTls(std::vector<std::string> args, const std::string& host = "localhost", Millis timeout = 30000ms) {
    std::vector<std::string> a{"--cacert", cert("ca.pem"), "--resolve", host + ":" + port() + ":127.0.0.1"};
    a.insert(a.end(), args.begin(), args.end());
    return curl(a, timeout);
  }
  std::string url(const std::string& path, const std::string& host = "localhost") const {
    return gw_->httpsUrl(path, host);
  }

  // openssl s_client against the gateway; extra args appended. stdin is empty: it handshakes,
  // prints what it saw and closes.
  ToolResult sClient(const std::vector<std::string>& args) {
    std::vector<std::string> a{"/usr/bin/openssl", "s_client", "-connect", "127.0.0.1:" + port(), "-CAfile", cert("ca.pem")};
    a.insert(a.end(), args.begin(), args.end());
    return runTool(a, 20000ms);
  }
  // The same, kept open for `hold` so that TLS 1.3 session tickets (sent after the handshake)
  // arrive before it closes.
  ToolResult sClientHold(const std::string& args, const std::string& hold = "0.5") {
    return runTool({"/bin/sh", "-c",
                    "sleep " + hold + " | /usr/bin/openssl s_client -connect 127.0.0.1:" + port() + " -CAfile " +
                        cert("ca.pem") + " " + args + " 2>&1"},
                   20000ms);
  }
  static std::string subjectCn(const std::string& s_client_out) {
    std::smatch m;
    if (std::regex_search(s_client_out, m, std::regex("subject=.*CN ?= ?([^\\n,]+)"))) return m[1];
    return "";
  }
  static std::string alpn(const std::string& s_client_out) {
    std::smatch m;
    if (std::regex_search(s_client_out, m, std::regex("ALPN protocol: ([^\\n]+)"))) return m[1];
    if (s_client_out.find("No ALPN negotiated") != std::string::npos) return "none";
    return "?";
  }

  void expectTlsStillServing() {
    auto r = curlTls({"--http1.1", url("/api/still-alive")});
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text << "\n" << gw_->errorLog();
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(gw_->process().running());
  }

  static TempDir* certs_;
};

TempDir* TlsIT::certs_ = nullptr;

// ---------------------------------------------------------------------------------------------
// ALPN

TEST_F(TlsIT, AlpnSelectsH2ThenHttp11) {
  startTls();
  EXPECT_EQ(alpn(sClient({"-alpn", "h2,http/1.1"}).out), "h2");
  EXPECT_EQ(alpn(sClient({"-alpn", "http/1.1,h2"}).out), "h2");  // server preference
  EXPECT_EQ(alpn(sClient({"-alpn", "http/1.1"}).out), "http/1.1");
  EXPECT_EQ(alpn(sClient({"-alpn", "spdy/3"}).out), "none");      // no overlap: no ALPN, HTTP/1.1
  // End to end: curl speaks what was negotiated.
  auto r = curlTls({"--http2", url("/api/alpn-h2")});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.status, 200);
  r = curlTls({"--http1.1", url("/api/alpn-h1")});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(echoHeader(r.body, "x-forwarded-proto").value_or(""), "https") << r.body;
  auto log = waitAccessLog(2);
  ASSERT_GE(log.size(), 2u);
  EXPECT_NE(log[0].find("HTTP/2"), std::string::npos) << log[0];
  EXPECT_NE(log[1].find("HTTP/1.1"), std::string::npos) << log[1];
}

TEST_F(TlsIT, AlpnNeverOffersH2WhenHttp2IsOffOrNotListed) {
  startTls("      alpn: [http/1.1]\n");
  EXPECT_EQ(alpn(sClient({"-alpn", "h2,http/1.1"}).out), "http/1.1");
  EXPECT_EQ(alpn(sClient({"-alpn", "h2"}).out), "none");
  gw_->process().stop(SIGTERM, 5000ms);
  GatewayOptions o;
  o.extra = "http2:\n  enabled: false\n";
  startTls("", o);
  EXPECT_EQ(alpn(sClient({"-alpn", "h2,http/1.1"}).out), "http/1.1");
  auto r = curlTls({url("/api/h2-off")});  // curl offers h2 and falls back to HTTP/1.1
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.status, 200);
}

// ---------------------------------------------------------------------------------------------
// SNI

TEST_F(TlsIT, SniChoosesExactWildcardOrDefaultCertificate) {
  startTls();
  struct Case {
    const char* sni;
    const char* cn;
  } cases[] = {{"a.test", "a.test"},           {"A.TEST", "a.test"},         {"b.test", "b.test"},
               {"b-alias.test", "b.test"},     {"x.wild.test", "*.wild.test"}, {"other.wild.test", "*.wild.test"},
               {"deep.x.wild.test", "default.test"},  // one label deep only
               {"wild.test", "default.test"},         {"unknown.test", "default.test"}};
  for (const auto& c : cases) {
    auto r = sClient({"-servername", c.sni});
    EXPECT_EQ(subjectCn(r.out), c.cn) << c.sni << "\n" << r.out;
  }
  EXPECT_EQ(subjectCn(sClient({"-noservername"}).out), "default.test");
  // curl checks the name against the certificate it got: only the right choice passes.
  for (const char* host : {"a.test", "b.test", "api.wild.test", "localhost"}) {
    auto r = curlTls({"--http1.1", url("/api/sni", host)}, host);
    EXPECT_EQ(r.exit_code, 0) << host << ": " << r.stderr_text;
    EXPECT_EQ(r.status, 200) << host;
  }
}

// ---------------------------------------------------------------------------------------------
// Versions

TEST_F(TlsIT, OnlyTls12And13AreAccepted) {
  startTls();
  auto r = sClient({"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"});
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_EQ(r.out.find("Cipher is (NONE)") != std::string::npos || r.out.find("no peer certificate") != std::string::npos,
            true)
      << r.out << r.err;
  r = sClient({"-tls1_2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("TLSv1.2"), std::string::npos) << r.out;
  r = sClient({"-tls1_3"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("TLSv1.3"), std::string::npos) << r.out;
  expectTlsStillServing();
  gw_->process().stop(SIGTERM, 5000ms);
  startTls("      min_version: \"1.3\"\n");
  EXPECT_NE(sClient({"-tls1_2"}).exit_code, 0);
  EXPECT_EQ(sClient({"-tls1_3"}).exit_code, 0);
}

// Server preference picks the suite: AES-128-GCM first by default (OpenSSL's own order would be
// AES-256 first), and a configured list is what is offered.
TEST_F(TlsIT, Tls13SuitesDefaultToAes128FirstAndFollowTheConfig) {
  startTls();
  auto r = sClient({"-tls1_3"});
  EXPECT_NE(r.out.find("Cipher is TLS_AES_128_GCM_SHA256"), std::string::npos) << r.out;
  r = sClient({"-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384"});
  EXPECT_NE(r.out.find("Cipher is TLS_AES_256_GCM_SHA384"), std::string::npos) << r.out;
  r = sClient({"-tls1_2"});
  EXPECT_NE(r.out.find("Cipher is ECDHE-ECDSA-AES128-GCM-SHA256"), std::string::npos) << r.out;
  gw_->process().stop(SIGTERM, 5000ms);
  startTls("      ciphersuites: \"TLS_CHACHA20_POLY1305_SHA256\"\n");
  r = sClient({"-tls1_3"});
  EXPECT_NE(r.out.find("Cipher is TLS_CHACHA20_POLY1305_SHA256"), std::string::npos) << r.out;
  EXPECT_NE(sClient({"-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256"}).exit_code, 0);
}

// ---------------------------------------------------------------------------------------------
// Plain HTTP and garbage on the TLS port

TEST_F(TlsIT, PlainHttpToTlsPortGets400SayingUseHttps) {
  startTls();
  auto r = rawRequest(gw_->port(), "GET /api/plain HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(r);
  expectProblem(*r, 400);
  EXPECT_NE(r->body.find("https"), std::string::npos) << r->body;
  EXPECT_EQ(jsonString(r->body, "type").value_or(""), "urn:gatewayd:problem:plain_http_on_tls_port");
  EXPECT_EQ(r->header("connection").value_or(""), "close");
  // curl's view: a clear 400, not a reset.
  auto c = curl({"http://127.0.0.1:" + port() + "/api/plain-curl"});
  ASSERT_EQ(c.exit_code, 0) << c.stderr_text;
  EXPECT_EQ(c.status, 400);
  EXPECT_NE(c.body.find("https://"), std::string::npos);
  // A request with a body the gateway never reads still gets the answer (lingering close).
  auto big = rawRequest(gw_->port(), "POST /api/plain HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n" +
                                         std::string(200000, 'x'));
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 400);
  EXPECT_TRUE(waitUntil([&] { return gw_->errorLog().find("sent plain HTTP to a TLS port (GET /api/plain)") != std::string::npos; }, 3000ms))
      << gw_->errorLog();
  auto log = waitAccessLog(3);
  ASSERT_GE(log.size(), 1u);
  EXPECT_NE(log[0].find("plain_http_on_tls_port"), std::string::npos) << log[0];
  EXPECT_FALSE(gunicorn_->sawPathContaining("/api/plain"));
  expectTlsStillServing();
}

TEST_F(TlsIT, GarbageSilenceAndAbortedHandshakesNeverCrash) {
  GatewayOptions o;
  o.timeouts = "  client_header: 1s\n";
  startTls("", o);
  std::mt19937 rng(12345);
  for (int i = 0; i < 40; ++i) {
    std::string junk(1 + rng() % 3000, '\0');
    for (auto& ch : junk) ch = static_cast<char>(rng());
    if (i % 2 == 0) junk[0] = 0x16;  // looks like a TLS record, then garbage
    if (i % 4 == 1 && junk.size() > 5) junk.replace(0, 5, "\x16\x03\x01\x00\x30", 5);  // a truncated ClientHello
    RawClient c(gw_->port());
    ASSERT_TRUE(c.connected());
    c.send(junk);
    if (i % 3 == 0) c.shutdownWrite();
    c.readUntilClose(3000ms);
    EXPECT_TRUE(c.peerClosed()) << "case " << i;
  }
  // Silence: closed after client_header, both before the first byte and mid-handshake.
  RawClient quiet(gw_->port());
  RawClient half(gw_->port());
  half.send(std::string("\x16\x03\x01\x02\x00\x01", 6));
  auto t0 = std::chrono::steady_clock::now();
  quiet.readUntilClose(5000ms);
  half.readUntilClose(5000ms);
  EXPECT_TRUE(quiet.peerClosed());
  EXPECT_TRUE(half.peerClosed());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4000ms);
  expectTlsStillServing();
  EXPECT_TRUE(waitUntil([&] { return gw_->errorLog().find("TLS handshake with") != std::string::npos; }, 2000ms));
  EXPECT_NE(gw_->errorLog().find("not complete within the client_header timeout"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// --check-config and startup

TEST_F(TlsIT, CheckConfigNamesTheFileAndWhy) {
  auto check = [&](const std::string& certs_yaml, const std::string& extra = "") {
    std::string y = "listeners:\n  - name: tls\n    port: 0\n    tls:\n      certificates:\n" + certs_yaml + extra +
                    "upstreams:\n  - {name: u, servers: [\"127.0.0.1:1\"]}\nroutes:\n  - {prefix: /, upstream: u}\n";
    const std::string path = tmp_->write("check.yaml", y);
    auto r = runTool({gatewaydPath(), "--check-config", "-c", path});
    return std::make_pair(r.exit_code, r.err + r.out);
  };
  auto entry = [&](const std::string& c, const std::string& k, const std::string& extra = "") {
    return "        - cert: " + cert(c) + "\n          key: " + cert(k) + "\n" + extra;
  };
  {
    auto [code, out] = check(entry("dflt.pem", "dflt.key"));
    EXPECT_EQ(code, 0) << out;
    EXPECT_NE(out.find("configuration OK"), std::string::npos) << out;
  }
  {
    auto [code, out] = check(entry("expired.pem", "expired.key"));
    EXPECT_EQ(code, 1);
    EXPECT_NE(out.find("check.yaml:6: /listeners/0/tls/certificates/0/cert: " + cert("expired.pem") +
                       ": certificate expired on "),
              std::string::npos)
        << out;
  }
  {
    auto [code, out] = check(entry("a.pem", "b.key"));
    EXPECT_EQ(code, 1);
    EXPECT_NE(out.find("check.yaml:7: /listeners/0/tls/certificates/0/key: " + cert("b.key") +
                       ": private key does not match the certificate in " + cert("a.pem")),
              std::string::npos)
        << out;
  }
  {
    auto [code, out] = check(entry("missing.pem", "a.key"));
    EXPECT_EQ(code, 1);
    EXPECT_NE(out.find("/listeners/0/tls/certificates/0/cert: " + cert("missing.pem") +
                       ": cannot read: No such file or directory"),
              std::string::npos)
        << out;
  }
  {
    auto [code, out] = check(entry("a.pem", "a.key") + entry("b.pem", "notpem.pem"));
    EXPECT_EQ(code, 1);
    EXPECT_NE(out.find("/listeners/0/tls/certificates/1/key: " + cert("notpem.pem") + ": no usable PEM private key"),
              std::string::npos)
        << out;
  }
  {
    auto [code, out] = check(entry("notpem.pem", "a.key"));
    EXPECT_EQ(code, 1);
    EXPECT_NE(out.find(cert("notpem.pem") + ": no PEM certificate in this file"), std::string::npos) << out;
  }
  {  // a chain that did not issue the leaf
    auto [code, out] = check(entry("a.pem", "a.key", "          chain: " + cert("otherca.pem") + "\n"));
    EXPECT_EQ(code, 1);
    EXPECT_NE(out.find("/listeners/0/tls/certificates/0/chain: " + cert("otherca.pem") + ": chain certificate #1"),
              std::string::npos)
        << out;
  }
  {  // a proper chain is fine
    auto [code, out] = check(entry("a.pem", "a.key", "          chain: " + cert("ca.pem") + "\n"));
    EXPECT_EQ(code, 0) << out;
  }
  {
    auto [code, out] = check(entry("a.pem", "a.key"), "      client_certificates: {ca: " + cert("nope.pem") + "}\n");
    EXPECT_EQ(code, 1);
    EXPECT_NE(out.find("/listeners/0/tls/client_certificates/ca: " + cert("nope.pem") + ": cannot read"),
              std::string::npos)
        << out;
  }
  {
    auto [code, out] = check(entry("a.pem", "a.key"), "      ciphers: \"NOSUCHCIPHER\"\n");
    EXPECT_EQ(code, 1);
    EXPECT_NE(out.find("/listeners/0/tls/ciphers: no usable TLS 1.2 cipher"), std::string::npos) << out;
  }
  {  // schema: unknown keys and bad versions are errors too
    auto [code, out] = check(entry("a.pem", "a.key"), "      min_version: \"1.1\"\n      colour: red\n");
    EXPECT_EQ(code, 1);
    EXPECT_NE(out.find("/listeners/0/tls/colour: unknown key"), std::string::npos) << out;
    EXPECT_NE(out.find("/listeners/0/tls/min_version"), std::string::npos) << out;
  }
  // Startup refuses the same problems, with the same message.
  std::string y = "listeners:\n  - name: tls\n    port: 0\n    tls:\n      certificates:\n" +
                  entry("expired.pem", "expired.key") +
                  "upstreams:\n  - {name: u, servers: [\"127.0.0.1:1\"]}\nroutes:\n  - {prefix: /, upstream: u}\n";
  auto r = runTool({gatewaydPath(), "-c", tmp_->write("start.yaml", y)}, 10000ms);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(cert("expired.pem") + ": certificate expired on "), std::string::npos) << r.err;
}

// ---------------------------------------------------------------------------------------------
// Mutual TLS

TEST_F(TlsIT, MtlsRequiredAcceptsVerifiedClientsAndPassesTheSubject) {
  startTls("      client_certificates:\n        ca: " + cert("clientca.pem") +
           "\n        required: true\n        subject_header: X-Client-Subject\n");
  // A verified client: the subject reaches the backend; a forged copy from the client does not.
  auto r = curlTls({"--http1.1", "--cert", cert("alice.pem"), "--key", cert("alice.key"), "-H",
                    "X-Client-Subject: CN=admin", "-H", "x-client-subject: CN=root", url("/api/mtls")});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text << gw_->errorLog();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(echoHeader(r.body, "x-client-subject").value_or(""), "CN=alice,O=Example Clients") << r.body;
  // Over HTTP/2 too.
  r = curlTls({"--http2", "--cert", cert("alice.pem"), "--key", cert("alice.key"), "-H", "X-Client-Subject: CN=admin",
               url("/api/mtls-h2")});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(echoHeader(r.body, "x-client-subject").value_or(""), "CN=alice,O=Example Clients") << r.body;
  // No certificate, or one from another CA: refused during the handshake, nothing upstream.
  r = curlTls({"--http1.1", url("/api/mtls-nocert")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.status, 200);
  r = curlTls({"--http1.1", "--cert", cert("mallory.pem"), "--key", cert("mallory.key"), url("/api/mtls-mallory")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.status, 200);
  EXPECT_FALSE(gunicorn_->sawPathContaining("/api/mtls-nocert"));
  EXPECT_FALSE(gunicorn_->sawPathContaining("/api/mtls-mallory"));
  EXPECT_TRUE(waitUntil([&] { return gw_->errorLog().find("client certificate: ") != std::string::npos; }, 2000ms))
      << gw_->errorLog();
  // The handshake with s_client shows the CA the gateway asks for.
  auto s = sClient({"-cert", cert("alice.pem"), "-key", cert("alice.key")});
  EXPECT_NE(s.out.find("Acceptable client certificate CA names"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("gatewayd test client CA"), std::string::npos) << s.out;
}

TEST_F(TlsIT, MtlsOptionalWithoutCertificateSendsNoSubject) {
  startTls("      client_certificates:\n        ca: " + cert("clientca.pem") + "\n        required: false\n");
  auto r = curlTls({"--http1.1", "-H", "X-Client-Subject: CN=forged", url("/api/mtls-opt")});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(echoHeader(r.body, "x-client-subject").has_value()) << r.body;
  r = curlTls({"--http1.1", "--cert", cert("alice.pem"), "--key", cert("alice.key"), url("/api/mtls-opt2")});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(echoHeader(r.body, "x-client-subject").value_or(""), "CN=alice,O=Example Clients") << r.body;
  // A certificate that does not verify is refused even when certificates are optional.
  r = curlTls({"--http1.1", "--cert", cert("mallory.pem"), "--key", cert("mallory.key"), url("/api/mtls-opt3")});
  EXPECT_NE(r.exit_code, 0);
}

// ---------------------------------------------------------------------------------------------
// Session resumption

TEST_F(TlsIT, SessionsResumeWithTicketsAndWithTheCache) {
  startTls();
  const std::string sess = tmp_->file("sess.pem");
  for (const char* version : {"-tls1_3", "-tls1_2"}) {
    auto first = sClientHold(std::string(version) + " -sess_out " + sess);
    ASSERT_NE(first.out.find("New, TLSv1."), std::string::npos) << first.out;
    auto again = sClientHold(std::string(version) + " -sess_in " + sess);
    EXPECT_NE(again.out.find("Reused, TLSv1."), std::string::npos) << version << "\n" << again.out;
  }
  gw_->process().stop(SIGTERM, 5000ms);
  // Tickets off: TLS 1.2 resumes by session id (the server cache), TLS 1.3 with stateful tickets.
  startTls("      session_tickets: false\n");
  for (const char* version : {"-tls1_2", "-tls1_3"}) {
    auto first = sClientHold(std::string(version) + " -sess_out " + sess);
    ASSERT_NE(first.out.find("New, TLSv1."), std::string::npos) << first.out;
    if (std::string(version) == "-tls1_2") {
      EXPECT_EQ(first.out.find("TLS session ticket:"), std::string::npos) << first.out;
    }
    auto again = sClientHold(std::string(version) + " -sess_in " + sess);
    EXPECT_NE(again.out.find("Reused, TLSv1."), std::string::npos) << version << "\n" << again.out;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 end to end over TLS

TEST_F(TlsIT, BodiesBothWaysAndKeepAliveOverTls) {
  startTls();
  const std::string file = tmp_->file("up.bin");
  const std::string sha = writePatternFile(file, 3 * 1024 * 1024 + 17);
  auto r = curlTls({"--http1.1", "--data-binary", "@" + file, "-H", "Content-Type: application/octet-stream",
                    url("/api/upload")});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(jsonString(r.body, "body_sha256").value_or(""), sha);
  r = curlTls({"--http1.1", "-T", file, "-H", "Transfer-Encoding: chunked", url("/api/upload-chunked")});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(jsonString(r.body, "body_sha256").value_or(""), sha);
  EXPECT_EQ(jsonNumber(r.body, "body_len").value_or(-1), 3 * 1024 * 1024 + 17);
  // Keep-alive: three requests on one TLS connection.
  r = curlTls({"--http1.1", "-v", url("/api/ka1"), url("/api/ka2"), url("/api/ka3")});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.status, 200);
  size_t reused = 0;
  for (size_t p = 0; (p = r.stderr_text.find("Re-using existing connection", p)) != std::string::npos; ++p) ++reused;
  EXPECT_EQ(reused, 2u) << r.stderr_text;
  // A chunked download.
  r = curlTls({"--http1.1", url("/api/stream?n=1000000&chunked=1")});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.body.size(), 1000000u);
  EXPECT_FALSE(firstPatternMismatch(r.body).has_value());
}

// The end of a TLS connection, both ways: a client's close_notify is answered with ours (RFC 8446
// §6.1), and a record that fails to decrypt gets a bad_record_mac alert before the close, not a
// bare TCP close. Python's ssl module shows both (unwrap() succeeds only on a close_notify).
TEST_F(TlsIT, CloseNotifyIsAnsweredAndFatalAlertsAreSent) {
  startTls();
  const std::string script = tmp_->write("ends.py", R"PY(
import os, socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
def connect():
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="localhost")
    s.sendall(b"GET /api/ends HTTP/1.1\r\nHost: localhost\r\n\r\n")
    got = b""
    while b"\r\n\r\n" not in got:
        got += s.recv(65536)
    head, _, body = got.partition(b"\r\n\r\n")
    length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
    while len(body) < length:
        body += s.recv(65536)
    print("status", head.split(b" ")[1].decode())
    return s
for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
    ctx.minimum_version = ctx.maximum_version = version
    s = connect()
    try:
        s.unwrap()
        print("close_notify answered", version.name)
    except Exception as e:
        print("close_notify NOT answered", version.name, e)
    s = connect()
    os.write(s.fileno(), b"\x17\x03\x03\x00\x20" + b"A" * 32)  # application data that cannot decrypt
    try:
        print("after bogus record:", s.recv(100))
    except ssl.SSLError as e:
        print("alert", version.name, e.reason)
    except Exception as e:
        print("no alert", version.name, type(e).__name__, e)
)PY");
  auto r = runTool({"/usr/bin/python3", script, port(), cert("ca.pem")}, 30000ms);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("status 200"), 0u) << r.out;
  for (const char* v : {"TLSv1_2", "TLSv1_3"}) {
    EXPECT_NE(r.out.find(std::string("close_notify answered ") + v), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(std::string("alert ") + v + " SSLV3_ALERT_BAD_RECORD_MAC"), std::string::npos) << r.out;
  }
  EXPECT_NE(gw_->errorLog().find("TLS error while reading"), std::string::npos) << gw_->errorLog();
  expectTlsStillServing();
}

TEST_F(TlsIT, Download100MBOverTlsWithBoundedMemory) {
  startTls();
  constexpr uint64_t kBig = 100ull * 1024 * 1024;
  const std::string expected_sha = writePatternFile("/dev/null", kBig);
  ASSERT_EQ(curlTls({"--http1.1", url("/api/warmup")}).status, 200);
  MemInfo before = readMem(gw_->pid());
  const std::string out = tmp_->file("download.bin");
  auto r = curlTls({"--http1.1", "-o", out, url("/api/stream?n=" + std::to_string(kBig))}, "localhost", 120000ms);
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(std::filesystem::file_size(out), kBig);
  EXPECT_EQ(sha256File(out), expected_sha);
  MemInfo after = readMem(gw_->pid());
  EXPECT_LT(after.hwm_kb - before.hwm_kb, 64 * 1024) << "VmHWM before " << before.hwm_kb << " kB, after "
                                                     << after.hwm_kb << " kB";
}

}  // namespace
}  // namespace gwtest
