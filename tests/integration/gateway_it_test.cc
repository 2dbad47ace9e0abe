// Integration tests for the gateway core: gatewayd + gunicorn (tests/support/wsgi_app.py) + a
// misbehaving raw backend (tests/support/bad_backend.py) on loopback, driven by curl and raw
// sockets. Every test starts its own gatewayd; peers are shared per test suite.
#include <signal.h>
#include <sys/socket.h>

#include <filesystem>
#include <regex>
#include <thread>

#include "it_common.h"

namespace gwtest {
namespace {

using GatewayIT = IntegrationTest;
using namespace std::string_literals;

std::string get(std::string_view path, std::string_view host = "x", std::string_view extra = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: " + std::string(host) + "\r\n" + std::string(extra) +
         "\r\n";
}

// The end-to-end cases that do not depend on HTTP/1.1 framing run over every downstream
// protocol (Envoy's protocol params): HTTP/1.1, h2c with prior knowledge on the same cleartext
// port, and h2 over TLS (ALPN). curl inside these tests is the member below, which adds the
// protocol's flags; everything else in a test is protocol-neutral.
enum class Proto { Http1, H2c, H2 };

std::string protoName(const ::testing::TestParamInfo<Proto>& info) {
  switch (info.param) {
    case Proto::Http1: return "http1";
    case Proto::H2c: return "h2c";
    case Proto::H2: return "h2";
  }
  return "unknown";
}

class ProtoIT : public IntegrationTest, public ::testing::WithParamInterface<Proto> {
 protected:
  Gateway& startGateway(GatewayOptions o = {}, const std::vector<std::string>& args = {}) {
    if (GetParam() == Proto::H2) o.listener_extra += selfSignedTlsBlock();
    return IntegrationTest::startGateway(o, args);
  }

  CurlResult curl(std::vector<std::string> args, Millis timeout = 30000ms) {
    if (GetParam() == Proto::Http1) return gwtest::curl(args, timeout);
    // Transfer-Encoding is HTTP/1.1 framing: an HTTP/2 request never carries it.
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == "-H" && args[i + 1].starts_with("Transfer-Encoding:")) {
        args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
        --i;
      }
    }
    if (GetParam() == Proto::H2c) {
      args.insert(args.begin(), "--http2-prior-knowledge");
    } else {
      for (auto& a : args) {
        if (a.starts_with("http://127.0.0.1:")) a = "https://" + a.substr(7);
      }
      args.insert(args.begin(), {"--http2", "--cacert", selfSignedCert()});
    }
    return gwtest::curl(args, timeout);
  }
};

// ---------------------------------------------------------------------------------------------
// Routing

TEST_P(ProtoIT, ServedOverTheRequestedProtocol) {
  startGateway();
  auto r = curl({"-H", "Cookie: a=1", "-H", "Cookie: b=2", gw_->url("/api/proto")});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.status, 200);
  auto log = waitAccessLog(1);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(jsonString(log[0], "protocol").value_or(""), GetParam() == Proto::Http1 ? "HTTP/1.1" : "HTTP/2.0")
      << log[0];
  // HTTP/2 cookie crumbs reach an HTTP/1.1 upstream as one field (RFC 9113 §8.2.3).
  if (GetParam() != Proto::Http1) {
    EXPECT_EQ(echoHeader(r.body, "cookie").value_or(""), "a=1; b=2") << r.body;
  }
}

TEST_P(ProtoIT, RoutesByExactHostAndStripsPrefix) {
  startGateway();
  auto r = curl({"-H", "Host: api.test", gw_->url("/svc/users/7?q=1")});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(jsonString(r.body, "path").value_or(""), "/users/7") << r.body;
  EXPECT_EQ(jsonString(r.body, "query").value_or(""), "q=1");
  EXPECT_TRUE(gunicorn_->waitForRecord("GET /users/7?q=1", 2000ms));
  // Host matching ignores case and the port; the prefix is stripped to "/" exactly.
  r = curl({"-H", "Host: API.Test:8443", gw_->url("/svc")});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(jsonString(r.body, "path").value_or(""), "/") << r.body;
  // Another host does not match the exact route, and "/svcx" is not under the "/svc" prefix.
  r = curl({"-H", "Host: other.test", gw_->url("/svc/users/7")});
  EXPECT_EQ(r.status, 404);
  r = curl({"-H", "Host: api.test", gw_->url("/svcx")});
  EXPECT_EQ(r.status, 404);
}

TEST_P(ProtoIT, RoutesByWildcardHost) {
  startGateway();
  for (const char* host : {"a.example.com", "deep.b.example.com", "C.EXAMPLE.COM"}) {
    auto r = curl({"-H", std::string("Host: ") + host, gw_->url("/anything/here")});
    EXPECT_EQ(r.status, 200) << host;
    EXPECT_EQ(jsonString(r.body, "path").value_or(""), "/anything/here") << host;  // no strip on this route
  }
  // The wildcard does not match the apex or a look-alike suffix.
  for (const char* host : {"example.com", "badexample.com", "example.com.evil"}) {
    auto r = curl({"-H", std::string("Host: ") + host, gw_->url("/anything/here")});
    EXPECT_EQ(r.status, 404) << host;
  }
  auto log = waitAccessLog(6);
  ASSERT_EQ(log.size(), 6u);
  EXPECT_EQ(jsonString(log[0], "route").value_or(""), "wildcard-host");
  EXPECT_EQ(jsonString(log[3], "route").value_or("?"), "");
}

TEST_P(ProtoIT, NoRouteIs404ProblemJson) {
  startGateway();
  auto r = curl({gw_->url("/nowhere")});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("content-type").value_or(""), "application/problem+json");
  EXPECT_EQ(jsonNumber(r.body, "status").value_or(0), 404) << r.body;
  EXPECT_FALSE(gunicorn_->sawPathContaining("/nowhere"));
  // Segment boundary: /api matches /api and /api/..., never /apix.
  EXPECT_EQ(curl({gw_->url("/apix")}).status, 404);
  EXPECT_EQ(curl({gw_->url("/api")}).status, 200);
  EXPECT_EQ(curl({gw_->url("/api/x")}).status, 200);
}

TEST_P(ProtoIT, MethodNotInRouteIs405WithAllow) {
  startGateway();
  const std::string refused = "/only-get-post/refused-" + protoName({GetParam(), 0});
  auto r = curl({"-X", "DELETE", gw_->url(refused)});
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("content-type").value_or(""), "application/problem+json");
  EXPECT_EQ(r.header("allow").value_or(""), "GET, POST");
  EXPECT_EQ(jsonNumber(r.body, "status").value_or(0), 405);
  EXPECT_FALSE(gunicorn_->sawPathContaining(refused));
  EXPECT_EQ(curl({gw_->url("/only-get-post/item")}).status, 200);
  EXPECT_EQ(curl({"-d", "x=1", gw_->url("/only-get-post/item")}).status, 200);
}

TEST_F(GatewayIT, AbsoluteFormTargetIsRoutedByItsAuthority) {
  startGateway();
  auto r = rawRequest(gw_->port(), "GET http://api.test/svc/abs?x=1 HTTP/1.1\r\nHost: other.test\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(jsonString(r->body, "path").value_or(""), "/abs") << r->body;
  EXPECT_EQ(echoHeader(r->body, "host").value_or(""), "api.test");
}

TEST_F(GatewayIT, DotSegmentsAreRefused) {
  startGateway();
  for (const char* path : {"/api/../admin", "/api/%2e%2e/admin", "/api/./x", "/api/%2E%2e%2Fadmin"}) {
    auto r = rawRequest(gw_->port(), get(path));
    ASSERT_TRUE(r) << path;
    expectProblem(*r, 400);
  }
  ASSERT_EQ(curl({gw_->url("/api/marker-dots")}).status, 200);
  ASSERT_TRUE(gunicorn_->waitForRecord("/api/marker-dots", 2000ms));
  EXPECT_FALSE(gunicorn_->sawPathContaining("admin"));
  EXPECT_FALSE(gunicorn_->sawPathContaining("/api/./x"));
}

TEST_F(GatewayIT, Http10KeepAliveOnlyWhenAsked) {
  startGateway();
  RawClient c(gw_->port());
  ASSERT_TRUE(c.send("GET /api/v10 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto r = c.readResponse(3000ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("connection").value_or(""), "keep-alive");
  ASSERT_TRUE(c.send("GET /api/v10b HTTP/1.0\r\n\r\n"));
  auto r2 = c.readResponse(3000ms);
  ASSERT_TRUE(r2);
  EXPECT_EQ(jsonString(r2->body, "path").value_or(""), "/api/v10b");
  c.readUntilClose(2000ms);
  EXPECT_TRUE(c.peerClosed()) << "an HTTP/1.0 request without keep-alive ends the connection";
}

// ---------------------------------------------------------------------------------------------
// Connection handling

TEST_F(GatewayIT, KeepAliveServesSequentialRequestsOnOneConnection) {
  startGateway();
  RawClient c(gw_->port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(c.send(get("/api/ka" + std::to_string(i))));
    auto r = c.readResponse(5000ms);
    ASSERT_TRUE(r) << "request " << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(r->complete);
    EXPECT_EQ(jsonString(r->body, "path").value_or(""), "/api/ka" + std::to_string(i));
    EXPECT_FALSE(r->header("connection").has_value() && r->header("connection") == "close");
  }
  EXPECT_FALSE(c.peerClosed());
  // curl reuses the connection for two URLs.
  auto r = curl({"-v", gw_->url("/api/one"), gw_->url("/api/two")});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.stderr_text.find("Re-using existing connection"), std::string::npos) << r.stderr_text;
}

TEST_F(GatewayIT, PipelinedRequestsAreAnsweredInOrder) {
  startGateway();
  RawClient c(gw_->port());
  std::string batch = get("/api/p1") + "POST /api/p2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
                      "HEAD /api/stream?n=1000 HTTP/1.1\r\nHost: x\r\n\r\n" + get("/api/p4");
  ASSERT_TRUE(c.send(batch));
  auto r1 = c.readResponse(5000ms);
  auto r2 = c.readResponse(5000ms);
  auto r3 = c.readResponse(5000ms, /*head_request=*/true);
  auto r4 = c.readResponse(5000ms);
  ASSERT_TRUE(r1 && r2 && r3 && r4);
  EXPECT_EQ(jsonString(r1->body, "path").value_or(""), "/api/p1");
  EXPECT_EQ(jsonString(r2->body, "path").value_or(""), "/api/p2");
  EXPECT_EQ(jsonNumber(r2->body, "body_len").value_or(-1), 5);
  EXPECT_EQ(r3->status, 200);
  EXPECT_EQ(r3->header("content-length").value_or(""), "1000");
  EXPECT_EQ(jsonString(r4->body, "path").value_or(""), "/api/p4");
  // Nothing extra (e.g. a HEAD body) follows the fourth response.
  EXPECT_EQ(c.readSome(1, 300ms), "");
}

TEST_F(GatewayIT, IdleKeepAliveConnectionIsClosedQuietly) {
  GatewayOptions o;
  o.timeouts = "  keepalive: 300ms\n";
  startGateway(o);
  RawClient c(gw_->port());
  ASSERT_TRUE(c.send(get("/api/idle")));
  auto r = c.readResponse(3000ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  std::string rest = c.readUntilClose(3000ms);
  EXPECT_TRUE(c.peerClosed()) << "an idle keep-alive connection must be closed after the keepalive timeout";
  EXPECT_EQ(rest, "") << "no 408 or other bytes on an idle keep-alive close";
}

// Response trailers of a chunked upstream response are passed on in the chunked trailer section
// (never as header fields), and the connection stays in sync.
TEST_F(GatewayIT, ResponseTrailersPassThroughChunked) {
  startGateway();
  RawClient c(gw_->port());
  ASSERT_TRUE(c.send(get("/bad/resp-trailers")));
  auto r = c.readResponse(3000ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->complete);
  EXPECT_EQ(r->body, "hello world");
  EXPECT_FALSE(r->header("x-checksum").has_value());
  EXPECT_FALSE(r->header("x-more").has_value());
  ASSERT_TRUE(c.send(get("/bad/fine")));
  auto r2 = c.readResponse(3000ms);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body, "ok");
  RawClient raw(gw_->port());
  ASSERT_TRUE(raw.send(get("/bad/resp-trailers", "x", "Connection: close\r\n")));
  std::string bytes = raw.readUntilClose(3000ms);
  EXPECT_NE(bytes.find("\r\n0\r\nX-Checksum: abc\r\nX-More: 1\r\n\r\n"), std::string::npos) << bytes;
}

TEST_F(GatewayIT, ManyPipelinedRequestsInOneWrite) {
  startGateway();
  RawClient c(gw_->port());
  std::string batch;
  const int n = 64;
  for (int i = 0; i < n; ++i) {
    if (i % 3 == 1) {
      batch += "POST /api/pipe" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\nContent-Length: " +
               std::to_string(i) + "\r\n\r\n" + std::string(static_cast<size_t>(i), 'p');
    } else {
      batch += get("/api/pipe" + std::to_string(i));
    }
  }
  ASSERT_TRUE(c.send(batch));
  for (int i = 0; i < n; ++i) {
    auto r = c.readResponse(5000ms);
    ASSERT_TRUE(r) << "response " << i;
    ASSERT_EQ(r->status, 200) << i;
    EXPECT_EQ(jsonString(r->body, "path").value_or(""), "/api/pipe" + std::to_string(i));
    EXPECT_EQ(jsonNumber(r->body, "body_len").value_or(-1), i % 3 == 1 ? i : 0);
  }
}

TEST_P(ProtoIT, ConcurrentClientsAreAllServedCorrectly) {
  startGateway();
  const std::string out = tmp_->file("parallel");
  std::filesystem::create_directory(out);
  std::vector<std::string> args{"-Z", "--parallel-max", "32", "--remote-name-all", "--output-dir", out};
  const int n = 200;
  for (int i = 0; i < n; ++i) args.push_back(gw_->url("/api/par/c" + std::to_string(i)));
  if (GetParam() == Proto::H2c) {
    // curl 7.88 fails -Z with --http2-prior-knowledge (against nghttpx too): nghttp multiplexes
    // all the requests over one connection instead, and writes every body to stdout.
    std::vector<std::string> argv{"/usr/bin/nghttp"};
    for (int i = 0; i < n; ++i) argv.push_back(gw_->url("/api/par/c" + std::to_string(i)));
    auto t = runTool(argv, 60000ms);
    ASSERT_EQ(t.exit_code, 0) << t.err;
    for (int i = 0; i < n; ++i) {
      EXPECT_NE(t.out.find("\"/api/par/c" + std::to_string(i) + "\""), std::string::npos) << i;
    }
    auto log = waitAccessLog(n);
    EXPECT_EQ(log.size(), static_cast<size_t>(n));
    for (const auto& line : log) EXPECT_EQ(jsonNumber(line, "status").value_or(0), 200) << line;
    return;
  }
  auto r = curl(args, 60000ms);
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  for (int i = 0; i < n; ++i) {
    std::string body = readFile(out + "/c" + std::to_string(i));
    EXPECT_EQ(jsonString(body, "path").value_or(""), "/api/par/c" + std::to_string(i)) << body;
  }
  auto log = waitAccessLog(n);
  EXPECT_EQ(log.size(), static_cast<size_t>(n));
  for (const auto& line : log) EXPECT_EQ(jsonNumber(line, "status").value_or(0), 200) << line;
}

TEST_F(GatewayIT, HeadHasHeadersButNoBody) {
  startGateway();
  RawClient c(gw_->port());
  ASSERT_TRUE(c.send("HEAD /api/stream?n=123456 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.readResponse(5000ms, /*head_request=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("content-length").value_or(""), "123456");
  // The connection stays usable and holds no stray body bytes.
  ASSERT_TRUE(c.send(get("/api/after-head")));
  auto r2 = c.readResponse(5000ms);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 200);
  EXPECT_EQ(jsonString(r2->body, "path").value_or(""), "/api/after-head");
  auto cr = curl({"-I", gw_->url("/api/stream?n=10")});
  EXPECT_EQ(cr.exit_code, 0) << cr.stderr_text;
  EXPECT_EQ(cr.status, 200);
  EXPECT_EQ(cr.header("content-length").value_or(""), "10");
}

// ---------------------------------------------------------------------------------------------
// Bodies

TEST_F(GatewayIT, ChunkedRequestBodyStreamsToBackend) {
  startGateway();
  RawClient c(gw_->port());
  std::string body;
  std::string req = "POST /api/chunked-up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  ASSERT_TRUE(c.send(req));
  for (int i = 0; i < 20; ++i) {
    std::string part(1000 + i * 37, static_cast<char>('a' + i));
    body += part;
    char size[32];
    snprintf(size, sizeof(size), "%zx\r\n", part.size());
    ASSERT_TRUE(c.send(std::string(size) + part + "\r\n"));
    if (i % 5 == 0) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(c.send("0\r\nX-Trailer: dropped\r\n\r\n"));
  auto r = c.readResponse(5000ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(jsonNumber(r->body, "body_len").value_or(-1), static_cast<long long>(body.size()));
  EXPECT_EQ(jsonString(r->body, "body_sha256").value_or(""), sha256Hex(body));
  EXPECT_FALSE(echoHeader(r->body, "x-trailer").has_value()) << "trailers must not become headers";
  // The connection is reusable after a chunked request.
  ASSERT_TRUE(c.send(get("/api/after-chunked")));
  auto r2 = c.readResponse(5000ms);
  ASSERT_TRUE(r2);
  EXPECT_EQ(jsonString(r2->body, "path").value_or(""), "/api/after-chunked");
}

TEST_F(GatewayIT, ChunkedResponsePassesThrough) {
  startGateway();
  const size_t n = 3 * 1000 * 1000 + 17;
  RawClient c(gw_->port());
  ASSERT_TRUE(c.send(get("/api/stream?n=" + std::to_string(n) + "&chunked=1")));
  auto r = c.readResponse(10000ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("transfer-encoding").value_or(""), "chunked");
  EXPECT_FALSE(r->header("content-length").has_value());
  EXPECT_TRUE(r->complete) << "the last chunk must be sent";
  EXPECT_EQ(r->body.size(), n);
  EXPECT_EQ(firstPatternMismatch(r->body), std::nullopt);
  // HTTP/1.0 client: no chunked coding; the close delimits the body.
  RawClient c10(gw_->port());
  ASSERT_TRUE(c10.send("GET /api/stream?n=5000&chunked=1 HTTP/1.0\r\nHost: x\r\n\r\n"));
  auto raw = c10.readUntilClose(5000ms);
  auto rs = parseAllResponses(raw);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_FALSE(rs[0].header("transfer-encoding").has_value());
  EXPECT_EQ(rs[0].body.size(), 5000u);
  EXPECT_EQ(firstPatternMismatch(rs[0].body), std::nullopt);
}

TEST_F(GatewayIT, ExpectContinueGets100BeforeTheBody) {
  startGateway();
  RawClient c(gw_->port());
  ASSERT_TRUE(c.send("POST /api/expect HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = c.readResponse(3000ms);
  ASSERT_TRUE(interim) << "no 100 Continue before the body was sent";
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(c.send("hello world"));
  auto r = c.readResponse(5000ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(jsonNumber(r->body, "body_len").value_or(-1), 11);
  EXPECT_FALSE(echoHeader(r->body, "expect").has_value()) << "Expect is hop-by-hop here";
  // A 404 is answered without asking for the body (no 100), and the connection is closed.
  RawClient c2(gw_->port());
  ASSERT_TRUE(c2.send("POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n"));
  auto r2 = c2.readResponse(3000ms);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 404);
}

// 100 MB each way, with gateway memory bounded well below the body size.
constexpr uint64_t kBig = 100ull * 1024 * 1024;
constexpr long kMaxGrowthKb = 64 * 1024;

TEST_P(ProtoIT, Upload100MBStreamsWithBoundedMemory) {
  startGateway();
  const std::string file = tmp_->file("upload.bin");
  const std::string sha = writePatternFile(file, kBig);
  ASSERT_EQ(curl({gw_->url("/api/warmup")}).status, 200);
  MemInfo before = readMem(gw_->pid());
  auto r = curl({"-T", file, gw_->url("/api/upload")}, 120000ms);
  MemInfo after = readMem(gw_->pid());
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(jsonNumber(r.body, "body_len").value_or(-1), static_cast<long long>(kBig));
  EXPECT_EQ(jsonString(r.body, "body_sha256").value_or(""), sha);
  EXPECT_LT(after.hwm_kb - before.hwm_kb, kMaxGrowthKb) << "VmHWM before " << before.hwm_kb << " kB, after "
                                                        << after.hwm_kb << " kB";
  // The same upload with chunked framing.
  r = curl({"-T", file, "-H", "Transfer-Encoding: chunked", gw_->url("/api/upload-chunked")}, 120000ms);
  MemInfo after2 = readMem(gw_->pid());
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(jsonNumber(r.body, "body_len").value_or(-1), static_cast<long long>(kBig));
  EXPECT_EQ(jsonString(r.body, "body_sha256").value_or(""), sha);
  EXPECT_LT(after2.hwm_kb - before.hwm_kb, kMaxGrowthKb);
}

// A backend that reads slowly: the gateway stops reading the client instead of buffering the body.
TEST_P(ProtoIT, SlowBackendReaderDoesNotMakeTheGatewayBuffer) {
  startGateway();
  const uint64_t n = 48ull * 1024 * 1024;
  const std::string file = tmp_->file("upload.bin");
  const std::string sha = writePatternFile(file, n);
  ASSERT_EQ(curl({gw_->url("/api/warmup")}).status, 200);
  MemInfo before = readMem(gw_->pid());
  auto r = curl({"--data-binary", "@" + file, "-H", "Content-Type: application/octet-stream",
                 gw_->url("/api/slowread?ms=3")},
                120000ms);
  MemInfo after = readMem(gw_->pid());
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(jsonNumber(r.body, "body_len").value_or(-1), static_cast<long long>(n));
  EXPECT_EQ(jsonString(r.body, "body_sha256").value_or(""), sha);
  EXPECT_LT(after.hwm_kb - before.hwm_kb, 24 * 1024)
      << "VmHWM before " << before.hwm_kb << " kB, after " << after.hwm_kb << " kB";
}

TEST_P(ProtoIT, Download100MBStreamsWithBoundedMemory) {
  startGateway();
  const std::string expected_sha = writePatternFile("/dev/null", kBig);
  ASSERT_EQ(curl({gw_->url("/api/warmup")}).status, 200);
  MemInfo before = readMem(gw_->pid());
  for (const char* chunked : {"0", "1"}) {
    const std::string out = tmp_->file(std::string("download") + chunked + ".bin");
    auto r = curl({"-o", out, gw_->url("/api/stream?n=" + std::to_string(kBig) + "&chunked=" + chunked)}, 120000ms);
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(std::filesystem::file_size(out), kBig) << "chunked=" << chunked;
    EXPECT_EQ(sha256File(out), expected_sha) << "chunked=" << chunked;
    std::filesystem::remove(out);
  }
  MemInfo after = readMem(gw_->pid());
  EXPECT_LT(after.hwm_kb - before.hwm_kb, kMaxGrowthKb) << "VmHWM before " << before.hwm_kb << " kB, after "
                                                        << after.hwm_kb << " kB";
}

TEST_F(GatewayIT, SlowClientDoesNotMakeTheGatewayBuffer) {
  startGateway();
  const uint64_t n = 64ull * 1024 * 1024;
  ASSERT_EQ(curl({gw_->url("/api/warmup")}).status, 200);
  MemInfo before = readMem(gw_->pid());
  RawClient c(gw_->port());
  ASSERT_TRUE(c.send(get("/api/stream?n=" + std::to_string(n))));
  // Read the head and a little body, then stop reading while the backend keeps sending.
  std::string first = c.readSome(64 * 1024, 5000ms);
  ASSERT_NE(first.find("200 OK"), std::string::npos);
  std::this_thread::sleep_for(2000ms);
  MemInfo stalled = readMem(gw_->pid());
  EXPECT_LT(stalled.rss_kb - before.rss_kb, 32 * 1024)
      << "gatewayd RSS grew from " << before.rss_kb << " kB to " << stalled.rss_kb << " kB for a stalled client";
  // Now read everything: the body is complete and exact.
  size_t head_end = first.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  const size_t total = head_end + 4 + n;
  std::string rest = first;
  rest.reserve(total);
  while (rest.size() < total) {
    std::string more = c.readSome(std::min<size_t>(1 << 20, total - rest.size()), 10000ms);
    if (more.empty()) break;
    rest += more;
  }
  auto r = takeResponse(rest, true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->complete);
  EXPECT_EQ(r->body.size(), n);
  EXPECT_EQ(firstPatternMismatch(r->body), std::nullopt);
  MemInfo end = readMem(gw_->pid());
  EXPECT_LT(end.hwm_kb - before.hwm_kb, kMaxGrowthKb);
}

// ---------------------------------------------------------------------------------------------
// Upstream failures

TEST_P(ProtoIT, UpstreamDownIs502ProblemJson) {
  startGateway();
  auto t0 = std::chrono::steady_clock::now();
  auto r = curl({gw_->url("/dead/x")});
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(r.header("content-type").value_or(""), "application/problem+json");
  EXPECT_EQ(jsonNumber(r.body, "status").value_or(0), 502);
  EXPECT_EQ(jsonString(r.body, "type").value_or(""), "urn:gatewayd:problem:upstream_connect_failed");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_EQ(curl({gw_->url("/api/ok")}).status, 200);
}

TEST_P(ProtoIT, UpstreamSlowIs504WithinResponseTimeout) {
  startGateway();
  auto t0 = std::chrono::steady_clock::now();
  auto r = curl({gw_->url("/bad/hang")});
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(r.header("content-type").value_or(""), "application/problem+json");
  EXPECT_EQ(jsonNumber(r.body, "status").value_or(0), 504);
  EXPECT_GE(took, 900ms);  // response_timeout: 1s
  EXPECT_LT(took, 4s);
  // A head that starts but does not finish in time is a 504 as well.
  r = curl({gw_->url("/bad/slow-headers")});
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(curl({gw_->url("/api/ok")}).status, 200);
}

TEST_P(ProtoIT, UpstreamInvalidResponseHeaderIs502) {
  startGateway();
  auto r = curl({gw_->url("/bad/bad-header")});
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(r.header("content-type").value_or(""), "application/problem+json");
  EXPECT_FALSE(r.header("x-evil").has_value());
  EXPECT_EQ(curl({gw_->url("/bad/fine")}).status, 200);
}

TEST_F(GatewayIT, UpstreamInterimAndBodylessResponses) {
  startGateway();
  RawClient c(gw_->port());
  ASSERT_TRUE(c.send(get("/bad/early-hints")));
  auto r = c.readResponse(3000ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << "interim responses from the upstream are dropped";
  EXPECT_EQ(r->body, "ok");
  ASSERT_TRUE(c.send(get("/bad/no-content")));
  auto r2 = c.readResponse(3000ms);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 204);
  EXPECT_EQ(r2->header("x-was").value_or(""), "204");
  EXPECT_FALSE(r2->header("transfer-encoding").has_value());
  ASSERT_TRUE(c.send(get("/bad/fine")));
  auto r3 = c.readResponse(3000ms);
  ASSERT_TRUE(r3);
  EXPECT_EQ(r3->status, 200);
  EXPECT_EQ(r3->body, "ok");
  auto sw = rawRequest(gw_->port(), get("/bad/switch"));
  ASSERT_TRUE(sw);
  expectProblem(*sw, 502);
}

// Ambiguous or broken response framing from the upstream is refused, never passed on or reused.
TEST_F(GatewayIT, UpstreamResponseFramingErrorsAre502) {
  startGateway();
  for (const char* path : {"/bad/resp-cl-te", "/bad/resp-dup-cl", "/bad/resp-bad-chunk"}) {
    RawClient c(gw_->port());
    ASSERT_TRUE(c.send(get(path)));
    auto r = c.readResponse(5000ms);
    ASSERT_TRUE(r) << path;
    if (r->status == 502) {
      expectProblem(*r, 502);
    } else {
      // A chunked body with a bad size can only be cut short once the head went out.
      EXPECT_EQ(std::string(path), "/bad/resp-bad-chunk") << "status " << r->status << " body " << r->body;
      EXPECT_FALSE(r->complete) << path;
    }
    EXPECT_EQ(r->body.find("EVIL"), std::string::npos) << path;
    // The same client connection (when still open) and a new one get correct answers.
    if (!c.peerClosed() && c.send(get("/bad/fine"))) {
      auto r2 = c.readResponse(3000ms);
      if (r2 && r2->status != 0) {
        EXPECT_EQ(r2->status, 200) << path;
        EXPECT_EQ(r2->body, "ok") << path;
      }
    }
    auto r3 = rawRequest(gw_->port(), get("/bad/fine"));
    ASSERT_TRUE(r3);
    EXPECT_EQ(r3->body, "ok") << "after " << path;
  }
}

TEST_F(GatewayIT, UpstreamResetMidResponseTruncatesTheClientResponse) {
  startGateway();
  for (const char* path : {"/bad/reset", "/bad/reset-chunked"}) {
    RawClient c(gw_->port());
    ASSERT_TRUE(c.send(get(path)));
    std::string raw = c.readUntilClose(5000ms);
    EXPECT_TRUE(c.peerClosed()) << path << ": the gateway must close a truncated response";
    std::string buf = raw;
    auto r = takeResponse(buf, true);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_FALSE(r->complete) << path << ": a truncated response must not look complete";
    EXPECT_EQ(r->body.size(), 1000u) << path;
    size_t head_end = raw.find("\r\n\r\n");
    ASSERT_NE(head_end, std::string::npos);
    EXPECT_EQ(raw.find("\r\n0\r\n\r\n", head_end), std::string::npos) << path << ": no last chunk";
    // curl sees the truncation as an error too.
    auto cr = curl({gw_->url(path)});
    EXPECT_NE(cr.exit_code, 0) << path;
  }
  EXPECT_EQ(curl({gw_->url("/bad/fine")}).status, 200);
  EXPECT_EQ(curl({gw_->url("/api/ok")}).status, 200);
}

// An upstream that stops in the middle of a body: idle_timeout (2s here) ends the attempt and the
// client's response is cut (closed, not completed), without waiting for response_timeout or for
// the upstream to close.
TEST_F(GatewayIT, UpstreamStalledMidBodyIsCutAfterIdleTimeout) {
  startGateway();
  RawClient c(gw_->port());
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.send(get("/bad/stall-body")));
  std::string raw = c.readUntilClose(8000ms);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(c.peerClosed()) << "the gateway must close a response it cannot finish";
  EXPECT_GE(took, 1900ms);  // idle_timeout: 2s after the last body bytes
  EXPECT_LT(took, 6s);
  std::string buf = raw;
  auto r = takeResponse(buf, true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->complete);
  EXPECT_EQ(r->body.size(), 100u);
  EXPECT_EQ(curl({gw_->url("/api/ok")}).status, 200);
}

// A non-conforming server may send a body after a HEAD response. Those bytes must never be read
// as the response to the next request sent on the same pooled upstream connection.
TEST_F(GatewayIT, HeadResponseWithStrayBodyDoesNotPoisonTheNextRequest) {
  GatewayOptions o;
  o.workers = 1;  // one upstream pool: the next request would reuse the connection
  startGateway(o);
  for (int i = 0; i < 3; ++i) {
    RawClient c(gw_->port());
    ASSERT_TRUE(c.send("HEAD /bad/head-body HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto r = c.readResponse(3000ms, /*head_request=*/true);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    ASSERT_TRUE(c.send(get("/bad/fine")));  // at once, before the stray bytes arrive
    auto r2 = c.readResponse(3000ms);
    ASSERT_TRUE(r2);
    EXPECT_EQ(r2->status, 200);
    EXPECT_EQ(r2->body, "ok") << "the stray HEAD body was served as the next response";
    std::this_thread::sleep_for(400ms);
  }
}

// A request that may have reached a server is retried on another only when that is safe: an
// idempotent request without a body. A POST whose connection broke after sending is not replayed.
TEST_P(ProtoIT, RetriesOnlyIdempotentRequestsAfterSending) {
  GatewayOptions o;
  o.workers = 1;  // round robin over [bad, gunicorn] in one upstream state
  startGateway(o);
  auto r = curl({gw_->url("/flaky/get/close-early")});  // bad first: closes without answering
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(jsonString(r.body, "path").value_or(""), "/flaky/get/close-early");
  r = curl({"-d", "once", gw_->url("/flaky/post/close-early")});  // bad again (round robin)
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_EQ(r.header("content-type").value_or(""), "application/problem+json");
  ASSERT_EQ(curl({gw_->url("/api/marker-retry")}).status, 200);
  ASSERT_TRUE(gunicorn_->waitForRecord("/api/marker-retry", 2000ms));
  EXPECT_FALSE(gunicorn_->sawPathContaining("/flaky/post/close-early")) << "a POST was replayed";
  EXPECT_TRUE(gunicorn_->sawPathContaining("GET /flaky/get/close-early"));
}

TEST_P(ProtoIT, TwoServersOneDeadRequestsSucceedOnTheLiveOne) {
  GatewayOptions o;
  o.workers = 1;  // one upstream state: the health skip is deterministic
  o.access_format = "combined";
  startGateway(o);
  for (int i = 0; i < 6; ++i) {
    auto r = curl({gw_->url("/mixed/get" + std::to_string(i))});
    EXPECT_EQ(r.status, 200) << i;
  }
  auto r = curl({"-d", "payload", gw_->url("/mixed/post")});  // nothing was sent to the dead one: retriable
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(jsonNumber(r.body, "body_len").value_or(-1), 7);
  auto log = waitAccessLog(7);
  ASSERT_EQ(log.size(), 7u);
  const std::string live = "ua=\"" + gunicorn_->address() + "\"";
  const std::string dead = "127.0.0.1:" + std::to_string(dead_port_);
  int via_dead = 0;
  for (const auto& line : log) {
    EXPECT_NE(line.find(" 200 "), std::string::npos) << line;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(line, m, std::regex("ua=\"([^\"]*)\""))) << line;
    std::string ua = m[1];
    EXPECT_TRUE(ua.ends_with(gunicorn_->address())) << line;
    if (ua.find(dead) != std::string::npos) ++via_dead;
  }
  EXPECT_LE(via_dead, 1) << "the dead server must be skipped after its first failure";
  EXPECT_NE(log.back().find(live), std::string::npos) << log.back();
}

TEST_F(GatewayIT, HopByHopHeadersAreRemovedBothWays) {
  startGateway();
  auto r = rawRequest(gw_->port(), get("/api/hop", "x",
                                       "Connection: keep-alive, X-Hop\r\nX-Hop: secret\r\nKeep-Alive: 5\r\n"
                                       "TE: trailers\r\nProxy-Connection: keep-alive\r\nUpgrade: websocket\r\n"
                                       "X-End-To-End: kept\r\n"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  for (const char* h : {"x-hop", "keep-alive", "te", "proxy-connection", "upgrade"}) {
    EXPECT_FALSE(echoHeader(r->body, h).has_value()) << h << " reached the backend: " << r->body;
  }
  EXPECT_EQ(echoHeader(r->body, "connection").value_or("").find("X-Hop"), std::string::npos);
  EXPECT_EQ(echoHeader(r->body, "x-end-to-end").value_or(""), "kept");
  auto resp = rawRequest(gw_->port(), get("/bad/hop"));
  ASSERT_TRUE(resp);
  ASSERT_EQ(resp->status, 200);
  for (const char* h : {"x-resp-hop", "keep-alive", "proxy-connection", "upgrade"}) {
    EXPECT_FALSE(resp->header(h).has_value()) << h << " reached the client";
  }
  EXPECT_EQ(resp->header("connection").value_or("").find("X-Resp-Hop"), std::string::npos);
  EXPECT_EQ(resp->header("x-end-to-end").value_or(""), "kept");
  EXPECT_EQ(resp->body, "ok");
}

// Clients that go away at every stage of an exchange: the gateway cancels the upstream side,
// keeps serving, and (in GW_SANITIZE builds) trips no sanitizer (checked in TearDown).
TEST_F(GatewayIT, ClientsVanishingMidExchangeAreHandled) {
  startGateway();
  auto abort_conn = [](RawClient& c) {
    linger lg{1, 0};
    setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  };
  {  // mid request body
    RawClient c(gw_->port());
    ASSERT_TRUE(c.send("POST /api/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n"));
    ASSERT_TRUE(c.send(std::string(1000000, 'u')));
    std::this_thread::sleep_for(50ms);
    abort_conn(c);
  }
  {  // mid chunked request body
    RawClient c(gw_->port());
    ASSERT_TRUE(c.send("POST /api/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n" +
                       std::string(0x100, 'c') + "\r\n"));
    std::this_thread::sleep_for(50ms);
  }
  {  // while the upstream is still connecting / thinking
    RawClient c(gw_->port());
    ASSERT_TRUE(c.send(get("/bad/hang")));
    std::this_thread::sleep_for(100ms);
    abort_conn(c);
  }
  {  // before the upstream answered, orderly close
    RawClient c(gw_->port());
    ASSERT_TRUE(c.send(get("/api/sleep?ms=300")));
    c.shutdownWrite();
  }
  {  // pipelined requests, gone before any answer
    RawClient c(gw_->port());
    ASSERT_TRUE(c.send(get("/api/sleep?ms=200") + get("/api/a") + get("/api/b")));
    abort_conn(c);
  }
  {  // mid response, with the upstream paused by backpressure
    RawClient c(gw_->port());
    ASSERT_TRUE(c.send(get("/api/stream?n=30000000")));
    c.readSome(1000, 3000ms);
    std::this_thread::sleep_for(300ms);
  }
  std::this_thread::sleep_for(500ms);
  expectStillServing();
  auto r = curl({"-d", "after", gw_->url("/api/after-chaos")});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(jsonNumber(r.body, "body_len").value_or(-1), 5);
}

TEST_F(GatewayIT, ShutdownTimeoutClosesStuckRequests) {
  GatewayOptions o;
  o.timeouts = "  shutdown: 500ms\n";
  o.bad_upstream_extra = "    response_timeout: 30s\n";
  startGateway(o);
  RawClient stuck(gw_->port());
  ASSERT_TRUE(stuck.send(get("/bad/hang")));
  ASSERT_TRUE(waitUntil([&] {
    for (const auto& l : bad_->recorded()) if (l == "/hang") return true;
    return false;
  }, 3000ms));
  auto t0 = std::chrono::steady_clock::now();
  gw_->process().signal(SIGTERM);
  auto code = gw_->process().waitExit(5000ms);
  ASSERT_TRUE(code) << "gatewayd did not exit after its shutdown timeout";
  EXPECT_EQ(*code, 0);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 400ms);
  EXPECT_LT(took, 3s);
  std::string rest = stuck.readUntilClose(2000ms);
  EXPECT_TRUE(stuck.peerClosed());
  EXPECT_EQ(rest.find("HTTP/1.1 200"), std::string::npos);
}

TEST_F(GatewayIT, SecondSigtermClosesAtOnce) {
  GatewayOptions o;
  o.timeouts = "  shutdown: 30s\n";
  o.bad_upstream_extra = "    response_timeout: 30s\n";
  startGateway(o);
  RawClient stuck(gw_->port());
  ASSERT_TRUE(stuck.send(get("/bad/hang")));
  std::this_thread::sleep_for(300ms);
  gw_->process().signal(SIGTERM);
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(gw_->process().running()) << "the first SIGTERM must drain, not exit";
  gw_->process().signal(SIGTERM);
  auto code = gw_->process().waitExit(3000ms);
  ASSERT_TRUE(code) << "a second SIGTERM must close at once";
  EXPECT_EQ(*code, 0);
}

TEST_F(GatewayIT, ClientResetIsNotLoggedAsAnError) {
  startGateway();
  for (int i = 0; i < 3; ++i) {
    RawClient c(gw_->port());
    ASSERT_TRUE(c.send(get("/api/stream?n=50000000")));
    ASSERT_FALSE(c.readSome(100000, 3000ms).empty());
    linger lg{1, 0};  // close with a reset while the gateway is still sending
    setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  }
  expectStillServing();
  std::this_thread::sleep_for(200ms);
  std::string err = gw_->errorLog();
  EXPECT_EQ(err.find("[error]"), std::string::npos) << err;
  EXPECT_EQ(err.find("[warn]"), std::string::npos) << err;
}

// ---------------------------------------------------------------------------------------------
// Forwarded headers and request ids

const char* kSpoofed =
    "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.test\r\n"
    "X-Forwarded-Port: 9999\r\nForwarded: for=6.6.6.6;proto=https\r\nX-Real-IP: 6.6.6.6\r\n"
    "X-Request-Id: spoofed-id-123\r\n";

TEST_F(GatewayIT, SpoofedForwardedHeadersFromUntrustedPeerAreReplaced) {
  startGateway();  // no trusted proxies
  auto r = rawRequest(gw_->port(), get("/api/fwd", "front.test", kSpoofed));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(echoHeader(r->body, "x-forwarded-for").value_or(""), "127.0.0.1") << r->body;
  EXPECT_EQ(echoHeader(r->body, "x-forwarded-proto").value_or(""), "http");
  EXPECT_EQ(echoHeader(r->body, "x-forwarded-host").value_or(""), "front.test");
  EXPECT_EQ(echoHeader(r->body, "x-forwarded-port").value_or(""), std::to_string(gw_->port()));
  EXPECT_FALSE(echoHeader(r->body, "forwarded").has_value()) << r->body;
  EXPECT_FALSE(echoHeader(r->body, "x-real-ip").has_value()) << r->body;
  // The request id is generated, not taken from an untrusted peer, and is the same both ways.
  auto id = r->header("x-request-id");
  ASSERT_TRUE(id);
  EXPECT_NE(*id, "spoofed-id-123");
  EXPECT_FALSE(id->empty());
  EXPECT_EQ(echoHeader(r->body, "x-request-id").value_or(""), *id);
  auto log = waitAccessLog(1);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(jsonString(log[0], "client").value_or(""), "127.0.0.1") << log[0];
  EXPECT_EQ(jsonString(log[0], "request_id").value_or(""), *id) << log[0];
}

TEST_F(GatewayIT, ForwardedHeadersFromTrustedPeerAreKept) {
  GatewayOptions o;
  o.trusted = "[\"127.0.0.1/32\", \"10.0.0.0/8\"]";
  o.extra = "forwarded:\n  rfc7239: true\n";
  startGateway(o);
  auto r = rawRequest(gw_->port(), get("/api/fwd", "front.test",
                                       "X-Forwarded-For: 198.51.100.9, 203.0.113.7, 10.1.2.3\r\n"
                                       "X-Forwarded-Proto: https\r\nX-Forwarded-Host: public.test\r\n"
                                       "X-Forwarded-Port: 443\r\nForwarded: for=198.51.100.9\r\n"
                                       "X-Request-Id: trusted-id-42\r\n"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(echoHeader(r->body, "x-forwarded-for").value_or(""), "198.51.100.9, 203.0.113.7, 10.1.2.3, 127.0.0.1");
  EXPECT_EQ(echoHeader(r->body, "x-forwarded-proto").value_or(""), "https");
  EXPECT_EQ(echoHeader(r->body, "x-forwarded-host").value_or(""), "public.test");
  EXPECT_EQ(echoHeader(r->body, "x-forwarded-port").value_or(""), "443");
  EXPECT_EQ(echoHeader(r->body, "forwarded").value_or(""),
            "for=198.51.100.9, for=127.0.0.1;host=\"front.test\";proto=http");
  EXPECT_EQ(r->header("x-request-id").value_or(""), "trusted-id-42");
  EXPECT_EQ(echoHeader(r->body, "x-request-id").value_or(""), "trusted-id-42");
  auto log = waitAccessLog(1);
  ASSERT_EQ(log.size(), 1u);
  // Walking X-Forwarded-For from the right: 127.0.0.1 (peer) and 10.1.2.3 are trusted hops.
  EXPECT_EQ(jsonString(log[0], "client").value_or(""), "203.0.113.7") << log[0];
  EXPECT_EQ(jsonString(log[0], "request_id").value_or(""), "trusted-id-42");
}

// forwarded_headers: false on an HTTP upstream: a plain reverse proxy (nginx's default) that adds no
// X-Forwarded-*; an untrusted client's are still removed, a trusted peer's pass as sent.
TEST_F(GatewayIT, ForwardedHeadersCanBeTurnedOffPerUpstream) {
  GatewayOptions o;
  o.trusted = "[\"10.0.0.0/8\"]";  // not the test client
  o.upstreams = "  - name: plain\n    servers: [\"" + gunicorn_->address() + "\"]\n    forwarded_headers: false\n";
  o.routes = "  - name: plain\n    prefix: /plain\n    upstream: plain\n";
  startGateway(o);
  auto r = rawRequest(gw_->port(), get("/plain/fwd", "front.test", "X-Forwarded-For: 6.6.6.6\r\n"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  for (const char* h : {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "forwarded"}) {
    EXPECT_FALSE(echoHeader(r->body, h).has_value()) << h << ": " << r->body;
  }
  EXPECT_TRUE(echoHeader(r->body, "x-request-id").has_value()) << r->body;
  // The default upstream next to it still gets them.
  r = rawRequest(gw_->port(), get("/api/fwd", "front.test", ""));
  ASSERT_TRUE(r);
  EXPECT_EQ(echoHeader(r->body, "x-forwarded-for").value_or(""), "127.0.0.1") << r->body;
}

// Without rfc7239 a trusted peer's Forwarded is not passed on (nothing would keep it current), nor
// its X-Real-IP; its X-Forwarded-* are, once, with this hop appended.
TEST_F(GatewayIT, TrustedPeersForwardedAndRealIpDroppedWithoutRfc7239) {
  GatewayOptions o;
  o.trusted = "[\"127.0.0.1/32\"]";
  startGateway(o);
  auto r = rawRequest(gw_->port(), get("/api/fwd", "front.test",
                                       "X-Forwarded-For: 203.0.113.7\r\nForwarded: for=203.0.113.7\r\n"
                                       "X-Real-IP: 203.0.113.7\r\n"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(echoHeader(r->body, "x-forwarded-for").value_or(""), "203.0.113.7, 127.0.0.1") << r->body;
  EXPECT_EQ(echoHeader(r->body, "x-forwarded-proto").value_or(""), "http");
  EXPECT_EQ(echoHeader(r->body, "x-forwarded-host").value_or(""), "front.test");
  EXPECT_FALSE(echoHeader(r->body, "forwarded").has_value()) << r->body;
  EXPECT_FALSE(echoHeader(r->body, "x-real-ip").has_value()) << r->body;
}

TEST_F(GatewayIT, Rfc7239ForwardedQuotesIpv6Clients) {
  GatewayOptions o;
  o.listen_address = "::1";
  o.extra = "forwarded:\n  rfc7239: true\n";
  startGateway(o);
  const std::string url = "http://[::1]:" + std::to_string(gw_->port()) + "/api/v6";
  auto r = curl({"-g", "-H", "Forwarded: for=6.6.6.6", url});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(echoHeader(r.body, "forwarded").value_or(""),
            "for=\"[::1]\";host=\"[::1]:" + std::to_string(gw_->port()) + "\";proto=http")
      << r.body;
  EXPECT_EQ(echoHeader(r.body, "x-forwarded-for").value_or(""), "::1");
  auto log = waitAccessLog(1);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(jsonString(log[0], "client").value_or(""), "::1") << log[0];
}

TEST_P(ProtoIT, RequestIdIsGeneratedPerRequestAndOnLocalReplies) {
  startGateway();
  auto a = curl({gw_->url("/api/a")});
  auto b = curl({gw_->url("/api/b")});
  auto nf = curl({gw_->url("/nowhere")});
  ASSERT_TRUE(a.header("x-request-id") && b.header("x-request-id") && nf.header("x-request-id"));
  EXPECT_NE(*a.header("x-request-id"), *b.header("x-request-id"));
  EXPECT_EQ(echoHeader(a.body, "x-request-id").value_or(""), *a.header("x-request-id"));
  EXPECT_EQ(jsonString(nf.body, "request_id").value_or(""), *nf.header("x-request-id")) << nf.body;
}

// ---------------------------------------------------------------------------------------------
// Logs

TEST_F(GatewayIT, LogsNeverContainCredentials) {
  for (const char* format : {"json", "combined"}) {
    SCOPED_TRACE(format);
    GatewayOptions o;
    o.access_format = format;
    gw_.reset();
    tmp_ = std::make_unique<TempDir>();
    startGateway(o, {"-vvv"});
    const std::vector<std::string> secrets{"SECRET-AUTH-123", "SECRET-COOKIE-456", "SECRET-SETCOOKIE-789"};
    auto r = curl({"-H", "Authorization: Bearer SECRET-AUTH-123", "-H", "Cookie: session=SECRET-COOKIE-456",
                   gw_->url("/api/setcookie")});
    ASSERT_EQ(r.status, 200);
    // The credentials do reach the backend and the client: only the logs must not have them.
    EXPECT_EQ(echoHeader(r.body, "authorization").value_or(""), "Bearer SECRET-AUTH-123");
    EXPECT_NE(r.header("set-cookie").value_or("").find("SECRET-SETCOOKIE-789"), std::string::npos);
    // A refused request (bad header after the credentials) and a 404 carry them too.
    rawRequest(gw_->port(), "GET /api/x HTTP/1.1\r\nHost: x\r\nAuthorization: Basic SECRET-AUTH-123\r\n"
                            "Cookie: a=SECRET-COOKIE-456\r\nBad Header: x\r\n\r\n");
    curl({"-H", "Authorization: Basic SECRET-AUTH-123", "-H", "Cookie: SECRET-COOKIE-456", gw_->url("/nowhere")});
    auto log = waitAccessLog(3);
    ASSERT_GE(log.size(), 3u);
    gw_->process().stop(SIGTERM, 5000ms);
    std::string all = readFile(accessLogPath()) + gw_->errorLog() + gw_->process().stdoutText();
    for (const auto& s : secrets) EXPECT_EQ(all.find(s), std::string::npos) << s << " leaked into a log:\n" << all;
  }
}

// ---------------------------------------------------------------------------------------------
// Bad input: each answered with the right status and problem+json, and the gateway keeps serving.

struct BadInputCase {
  const char* name;
  std::string request;
  int status;
  const char* problem = nullptr;  // expected problem type suffix, when pinned
};

std::string repeat(char c, size_t n) { return std::string(n, c); }

std::vector<BadInputCase> badInputCases() {
  std::string many_headers;
  for (int i = 0; i < 120; ++i) many_headers += "X-H" + std::to_string(i) + ": v\r\n";
  std::string big_chunked = "POST /api/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 40; ++i) big_chunked += "8000\r\n" + repeat('b', 0x8000) + "\r\n";
  return {
      {"MalformedRequestLine", "GARBAGE\r\n\r\n", 400},
      {"InvalidMethodToken", "G@T / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"MissingHostInHttp11", "GET /api/x HTTP/1.1\r\nUser-Agent: t\r\n\r\n", 400},
      {"DuplicateHost", "GET /api/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"CrInHeaderValue", "GET /api/x HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400},
      {"BareLfLineEnding", "GET /api/x HTTP/1.1\nHost: x\n\n", 400},
      {"NulInHeaderValue", "GET /api/x HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n"s, 400},
      {"NulInRequestTarget", "GET /api/x\0y HTTP/1.1\r\nHost: x\r\n\r\n"s, 400},
      {"SpaceInHeaderName", "GET /api/x HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n", 400},
      {"ObsFold", "GET /api/x HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n", 400},
      {"ContentLengthAndTransferEncoding",
       "POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"ConflictingContentLength",
       "POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400},
      {"NonNumericContentLength", "POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\n\r\nhello", 400},
      {"BadChunkSize", "POST /api/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
       400, "invalid_chunk_size"},
      {"ChunkSizeOverflow",
       "POST /api/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000001\r\nA\r\n0\r\n\r\n", 400,
       "invalid_chunk_size"},
      {"ChunkedAppliedTwice", "POST /api/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
       400, "invalid_transfer_encoding"},
      {"DuplicateTransferEncodingHeaders",
       "POST /api/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
       "invalid_transfer_encoding"},
      {"BodyOverLimitByContentLength", "POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\nabc", 413},
      {"ChunkedBodyOverLimit", big_chunked, 413},
      {"UriTooLong", "GET /api/" + repeat('u', 3000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
      {"HeaderSectionTooLarge", "GET /api/x HTTP/1.1\r\nHost: x\r\nX-Big: " + repeat('h', 20000) + "\r\n\r\n", 431},
      {"TooManyHeaders", "GET /api/x HTTP/1.1\r\nHost: x\r\n" + many_headers + "\r\n", 431},
      {"UnknownTransferCoding", "POST /api/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
       "unsupported_transfer_coding"},
      {"UnknownTransferCodingBeforeChunked",
       "POST /api/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
      {"HttpVersion12", "GET /api/x HTTP/1.2\r\nHost: x\r\n\r\n", 505},
      {"HttpVersion20", "GET /api/x HTTP/2.0\r\nHost: x\r\n\r\n", 505},
  };
}

class BadInputIT : public IntegrationTest, public ::testing::WithParamInterface<BadInputCase> {};

GatewayOptions badInputOptions() {
  GatewayOptions o;
  o.limits = "  max_uri_bytes: 2048\n  max_header_bytes: 8192\n  max_headers: 100\n  max_body_bytes: 1048576\n";
  o.timeouts = "  client_header: 2s\n  client_body: 2s\n";
  return o;
}

TEST_P(BadInputIT, AnsweredWithProblemJsonAndStillServing) {
  startGateway(badInputOptions());
  const auto& tc = GetParam();
  RawClient c(gw_->port());
  ASSERT_TRUE(c.connected());
  c.send(tc.request);  // may fail part-way when the gateway answers early: that is fine
  auto r = c.readResponse(5000ms);
  ASSERT_TRUE(r) << "no answer; stderr:\n" << gw_->errorLog();
  expectProblem(*r, tc.status);
  if (tc.problem) {
    EXPECT_EQ(jsonString(r->body, "type").value_or(""), std::string("urn:gatewayd:problem:") + tc.problem);
  }
  EXPECT_EQ(r->header("connection").value_or(""), "close");
  // The gateway closes the connection after a protocol error (reads nothing more from it).
  c.readUntilClose(3000ms);
  EXPECT_TRUE(c.peerClosed());
  expectStillServing();
  // The failure is logged.
  auto log = waitAccessLog(2);
  ASSERT_GE(log.size(), 1u);
  EXPECT_EQ(jsonNumber(log[0], "status").value_or(0), tc.status) << log[0];
}

INSTANTIATE_TEST_SUITE_P(Cases, BadInputIT, ::testing::ValuesIn(badInputCases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(GatewayIT, HeaderTimeoutIs408) {
  GatewayOptions o;
  o.timeouts = "  client_header: 400ms\n  client_body: 400ms\n";
  startGateway(o);
  RawClient c(gw_->port());
  ASSERT_TRUE(c.send("GET /api/x HTTP/1.1\r\nHost: x\r\n"));  // the head never ends
  auto t0 = std::chrono::steady_clock::now();
  auto r = c.readResponse(5000ms);
  ASSERT_TRUE(r);
  expectProblem(*r, 408);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  // Trickling header bytes does not extend the header timeout (slowloris).
  RawClient s(gw_->port());
  ASSERT_TRUE(s.send("GET /api/x HTTP/1.1\r\n"));
  std::optional<HttpResponse> r2;
  for (int i = 0; i < 20 && !r2; ++i) {
    s.send("X-" + std::to_string(i) + ": v\r\n");
    r2 = s.readResponse(100ms);
  }
  ASSERT_TRUE(r2) << "a trickled head must time out";
  expectProblem(*r2, 408);
  expectStillServing();
}

TEST_F(GatewayIT, BodyTimeoutIs408) {
  GatewayOptions o;
  o.timeouts = "  client_header: 400ms\n  client_body: 400ms\n";
  startGateway(o);
  RawClient c(gw_->port());
  ASSERT_TRUE(c.send("POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"));
  auto r = c.readResponse(5000ms);
  ASSERT_TRUE(r);
  expectProblem(*r, 408);
  expectStillServing();
}

// ---------------------------------------------------------------------------------------------
// Command line

TEST_F(GatewayIT, CheckConfigReportsFileLineAndPointer) {
  const std::string bad = tmp_->write("broken.yaml",
                                      "workers: 1\n"
                                      "listeners:\n"
                                      "  - port: 0\n"
                                      "upstreams:\n"
                                      "  - name: u\n"
                                      "    servers: [\"127.0.0.1:1\"]\n"
                                      "    balance: fastest\n"
                                      "    retries: \"three\"\n"
                                      "routes:\n"
                                      "  - upstream: u\n"
                                      "    prefx: /a\n");
  auto p = Process::spawn({gatewaydPath(), "--check-config", "-c", bad}, tmp_->file("cc.out"), tmp_->file("cc.err"));
  auto code = p->waitExit(10000ms);
  ASSERT_TRUE(code);
  EXPECT_NE(*code, 0);
  std::string err = p->stderrText();
  EXPECT_NE(err.find(bad + ":7: /upstreams/0/balance: "), std::string::npos) << err;
  EXPECT_NE(err.find(bad + ":8: /upstreams/0/retries: "), std::string::npos) << err;
  EXPECT_NE(err.find(bad + ":11: /routes/0/prefx: unknown key"), std::string::npos) << err;
  EXPECT_EQ(err.find("Failed to validate"), std::string::npos) << err;

  // A semantic error (an unknown upstream) names its field too.
  const std::string bad2 = tmp_->write("unknown-upstream.yaml",
                                       "listeners:\n  - port: 0\nupstreams:\n  - name: u\n    servers: [\"127.0.0.1:1\"]\n"
                                       "routes:\n  - upstream: nope\n");
  auto p2 = Process::spawn({gatewaydPath(), "--check-config", "-c", bad2}, tmp_->file("cc2.out"), tmp_->file("cc2.err"));
  auto code2 = p2->waitExit(10000ms);
  ASSERT_TRUE(code2);
  EXPECT_NE(*code2, 0);
  EXPECT_TRUE(std::regex_search(p2->stderrText(), std::regex(std::regex_replace(bad2, std::regex("[.]"), "\\.") +
                                                              ":7: /routes/0/upstream: .*nope")))
      << p2->stderrText();

  const std::string good = tmp_->write("good.yaml", configYaml({}));
  auto p3 = Process::spawn({gatewaydPath(), "--check-config", "-c", good}, tmp_->file("cc3.out"), tmp_->file("cc3.err"));
  auto code3 = p3->waitExit(10000ms);
  ASSERT_TRUE(code3);
  EXPECT_EQ(*code3, 0) << p3->stderrText();
  EXPECT_NE(p3->stdoutText().find("configuration OK"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Graceful shutdown

TEST_F(GatewayIT, SigtermLetsInFlightRequestsFinishAndRefusesNewConnections) {
  GatewayOptions o;
  o.timeouts = "  shutdown: 10s\n";
  startGateway(o);
  auto inflight = Process::spawn({"/usr/bin/curl", "-sS", "-o", tmp_->file("slow.body"), "-w", "%{http_code}",
                                  gw_->url("/api/sleep?ms=1500")},
                                 tmp_->file("slow.out"), tmp_->file("slow.err"));
  ASSERT_TRUE(gunicorn_->waitForRecord("/api/sleep?ms=1500", 3000ms)) << "the slow request never reached the backend";
  auto t0 = std::chrono::steady_clock::now();
  gw_->process().signal(SIGTERM);
  EXPECT_TRUE(waitUntil([&] { return !canConnect(gw_->port()); }, 1000ms)) << "still accepting after SIGTERM";
  EXPECT_TRUE(gw_->process().running()) << "exited with a request in flight";
  auto curl_code = inflight->waitExit(10000ms);
  ASSERT_TRUE(curl_code);
  EXPECT_EQ(*curl_code, 0) << inflight->stderrText();
  EXPECT_EQ(inflight->stdoutText(), "200");
  EXPECT_EQ(jsonString(readFile(tmp_->file("slow.body")), "path").value_or(""), "/api/sleep");
  auto gw_code = gw_->process().waitExit(5000ms);
  ASSERT_TRUE(gw_code) << "gatewayd did not exit after draining";
  EXPECT_EQ(*gw_code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_FALSE(canConnect(gw_->port()));
}

INSTANTIATE_TEST_SUITE_P(Protocols, ProtoIT, ::testing::Values(Proto::Http1, Proto::H2c, Proto::H2), protoName);

}  // namespace
}  // namespace gwtest
