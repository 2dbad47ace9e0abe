// HTTP/2 conformance and abuse suite (tests/integration/h2_conformance.py, python3-h2 /
// hyperframe / hpack), one ctest case per Python case, each against its own gatewayd with the
// limits below; plus h2load and nghttp (Debian's nghttp2-client) against h2c and h2 over TLS.
#include <signal.h>

#include <cstdlib>

#include "it_common.h"

namespace gwtest {
namespace {

// The limits the Python cases rely on (small, so each attack trips quickly).
GatewayOptions h2Options() {
  GatewayOptions o;
  o.workers = 1;
  o.timeouts = "  send: 2s\n  client_header: 1s\n  client_body: 1s\n";
  o.extra =
      "http2:\n"
      "  max_concurrent_streams: 10\n"
      "  reset_burst: 50\n"
      "  reset_rate: 1\n"
      "  max_glitches: 20\n"
      "  idle_timeout: 2s\n"
      "  drain_notice: 500ms\n";
  return o;
}

const char* const kCases[] = {
    "preface_then_not_settings", "bad_preface_is_http1", "data_on_idle_stream", "headers_on_even_stream",
    "data_on_closed_stream", "stream_id_going_backwards", "missing_path_pseudo_header", "unknown_pseudo_header",
    "pseudo_header_after_regular", "duplicate_pseudo_header", "uppercase_header_name", "connection_specific_header",
    "content_length_mismatch", "connection_window_overflow", "stream_window_overflow",
    "window_update_zero_increment", "settings_initial_window_too_large", "settings_enable_push_invalid",
    "settings_max_frame_size_too_small", "settings_bad_length", "settings_ack_with_payload", "settings_on_a_stream",
    "too_many_settings_entries", "concurrent_streams_limit", "header_list_too_large_is_431",
    "request_and_response_trailers", "rapid_reset", "continuation_flood", "hpack_amplified_header_block",
    "ping_flood", "settings_flood", "glitch_limit", "zero_window_stall", "slow_read", "idle_timeout",
    "graceful_shutdown", "header_block_timeout", "header_frame_cut_short_times_out", "continuation_trickle_is_not_extended",
    "trailer_block_cut_short_times_out", "paused_before_head_is_not_a_timeout", "paused_before_head_is_not_a_timeout_fcgi",
    "body_timeout_is_408", "scheme_from_connection",
    "host_case_insensitive", "headers_only_response_completes",
};

class H2ConformanceIT : public IntegrationTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(H2ConformanceIT, Case) {
  const std::string name = GetParam();
  GatewayOptions o = h2Options();
  if (name == "trailer_block_cut_short_times_out") o.timeouts = "  send: 2s\n  client_header: 1s\n  client_body: 5s\n";
  // headers_only_response_completes, paused_before_head_is_not_a_timeout_fcgi: a FastCGI peer
  // (tests/support/fcgi_peer.py) under /fcgi.
  std::unique_ptr<Process> fcgi;
  const std::string fcgi_log = tmp_->file("fcgi_peer.log");
  if (name == "headers_only_response_completes" || name == "paused_before_head_is_not_a_timeout_fcgi") {
    const uint16_t port = deadPort();
    fcgi = Process::spawn({"/usr/bin/python3", supportDir() + "/fcgi_peer.py", std::to_string(port), fcgi_log},
                          tmp_->file("fcgi_peer.out"), tmp_->file("fcgi_peer.err"));
    ASSERT_TRUE(waitForPort(port, 10000ms)) << "fcgi_peer.py did not start";
    o.upstreams = "  - name: fcgi\n    kind: fastcgi\n    servers: [\"127.0.0.1:" + std::to_string(port) +
                  "\"]\n    response_timeout: " + std::string(name == "headers_only_response_completes" ? "3s" : "1s") +
                  "\n    retries: 0\n";
    o.routes = "  - prefix: /fcgi\n    upstream: fcgi\n";
  }
  startGateway(o);
  std::vector<std::string> argv{"/usr/bin/python3", sourceDir() + "/tests/integration/h2_conformance.py", "--port",
                                std::to_string(gw_->port()), "--case", name};
  if (name == "graceful_shutdown") {
    argv.push_back("--pid");
    argv.push_back(std::to_string(gw_->pid()));
  }
  auto r = runTool(argv, 60000ms);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\ngatewayd stderr:\n" << gw_->errorLog();
  EXPECT_NE(r.out.find("ok " + name), std::string::npos) << r.out << r.err;
  if (name == "headers_only_response_completes") {
    // A completion, not a reset: the access log has the 304 without downstream_reset, and the
    // upstream request was not aborted.
    bool found = false;
    for (const auto& line : waitAccessLog(2)) {
      if (line.find("not-modified-slow") == std::string::npos) continue;
      found = true;
      EXPECT_NE(line.find("304"), std::string::npos) << line;
      EXPECT_EQ(line.find("downstream_reset"), std::string::npos) << line;
    }
    EXPECT_TRUE(found) << gw_->errorLog();
    for (const auto& line : readLines(fcgi_log)) EXPECT_EQ(line.rfind("ABORT", 0), std::string::npos) << line;
  }
  if (name == "graceful_shutdown") {
    EXPECT_EQ(gw_->process().waitExit(10000ms).value_or(-1), 0) << gw_->errorLog();
  } else {
    EXPECT_TRUE(gw_->process().running()) << gw_->errorLog();
  }
}

INSTANTIATE_TEST_SUITE_P(H2, H2ConformanceIT, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<const char*>& i) { return std::string(i.param); });

// h2load: many streams per connection, every one answered.
class H2LoadIT : public IntegrationTest {
 protected:
  void expectAllSucceeded(const ToolResult& r, int n) {
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find(std::to_string(n) + " succeeded, 0 failed, 0 errored"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("status codes: " + std::to_string(n) + " 2xx"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Application protocol: h2"), std::string::npos) << r.out;
  }
};

TEST_F(H2LoadIT, H2cManyStreamsPerConnection) {
  startGateway();
  auto r = runTool({"/usr/bin/h2load", "-n", "2000", "-c", "8", "-m", "10", gw_->url("/api/load")}, 60000ms);
  expectAllSucceeded(r, 2000);
  // POST bodies over many concurrent streams (flow control both ways).
  TempDir d;
  const std::string body = d.write("body", std::string(100000, 'b'));
  r = runTool({"/usr/bin/h2load", "-n", "400", "-c", "4", "-m", "10", "-d", body, gw_->url("/api/load-post")}, 60000ms);
  expectAllSucceeded(r, 400);
}

TEST_F(H2LoadIT, H2OverTlsManyStreamsPerConnection) {
  GatewayOptions o;
  o.listener_extra = selfSignedTlsBlock();
  startGateway(o);
  auto r = runTool({"/usr/bin/h2load", "-n", "2000", "-c", "8", "-m", "10", gw_->httpsUrl("/api/load", "127.0.0.1")}, 60000ms);
  expectAllSucceeded(r, 2000);
}

TEST_F(H2LoadIT, NghttpGetsStreamedResponsesAndTrailers) {
  startGateway();
  auto r = runTool({"/usr/bin/nghttp", "-v", gw_->url("/bad/resp-trailers")}, 20000ms);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("x-checksum: abc"), std::string::npos) << r.out;
  r = runTool({"/usr/bin/nghttp", "-s", gw_->url("/api/stream?n=3000000&chunked=1")}, 20000ms);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
}

}  // namespace
}  // namespace gwtest
