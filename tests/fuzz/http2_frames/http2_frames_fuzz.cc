// Fuzzes the downstream HTTP/2 codec as the server runs it: the connection preface followed by
// the input is written to one end of a socketpair whose other end is served by a real
// http2::ServerConnection (nghttp2 session, header checks, limits, flow control, glitch counter).
// A fake stream answers every complete request with 200, a body (deferred, so DATA goes through
// the NO_COPY path) and trailers when the request had a body.
#include <event2/event.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstring>
#include <memory>

#include "core/log.h"
#include "http2/server_connection.h"

namespace {

class FakeStream : public gw::http::RequestDecoder {
 public:
  explicit FakeStream(gw::http::ResponseEncoder& enc) : enc_(enc) {}
  void decodeHeaders(gw::http::RequestHeadPtr head, bool end_stream) override {
    if (head->expect_continue) enc_.encode100Continue();
    if (head->path.find("reset") != std::string::npos) {
      enc_.resetStream();
      return;
    }
    if (end_stream) respond(false);
  }
  void decodeData(evbuffer* data, bool end_stream) override {
    had_body_ = had_body_ || evbuffer_get_length(data) > 0;
    evbuffer_drain(data, evbuffer_get_length(data));
    if (++calls_ == 2) enc_.readDisable(true), enc_.readDisable(false);
    if (end_stream) respond(had_body_);
  }
  void decodeTrailers(gw::http::HeaderMap&&) override { respond(true); }
  void onResetStream() override {}
  void onAboveWriteHighWatermark() override {}
  void onBelowWriteLowWatermark() override {}
  gw::http::StreamInfo& streamInfo() override { return info_; }

 private:
  void respond(bool trailers) {
    gw::http::ResponseHead h;
    h.status = 200;
    h.headers.add("Content-Type", "text/plain");
    enc_.encodeHeaders(h, false);
    evbuffer* b = evbuffer_new();
    std::string body(20000, 'x');
    evbuffer_add(b, body.data(), body.size());
    enc_.encodeData(b, !trailers);
    evbuffer_free(b);
    if (trailers) {
      gw::http::HeaderMap t;
      t.add("X-Checksum", "abc");
      enc_.encodeTrailers(t);
    }
  }
  gw::http::ResponseEncoder& enc_;
  gw::http::StreamInfo info_;
  bool had_body_ = false;
  int calls_ = 0;
};

class Harness : public gw::http::ServerConnectionCallbacks, public gw::http::ConnectionOwner {
 public:
  explicit Harness(gw::Dispatcher& d) : d_(d) {}
  gw::http::RequestDecoderPtr newStream(gw::http::ResponseEncoder& enc, const gw::http::ConnectionInfo&) override {
    return std::make_unique<FakeStream>(enc);
  }
  void onProtocolError(const gw::http::StreamInfo&) override {}
  void onConnectionClosed(gw::http::DownstreamConnection&) override { d_.deferredDelete(std::move(conn)); }
  std::unique_ptr<gw::http2::ServerConnection> conn;

 private:
  gw::Dispatcher& d_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = [] {
    std::signal(SIGPIPE, SIG_IGN);
    gw::setLogLevel(gw::LogLevel::Error);
    return true;
  }();
  (void)init;
  if (size > 60000) size = 60000;  // stays within one socket buffer: no blocking write
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) return 0;
  int big = 1 << 20;
  setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
  setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
  event_base* base = event_base_new();
  {
    gw::Dispatcher d(base);
    gw::http2::ServerSettings settings;
    settings.limits.max_uri_bytes = 512;
    settings.limits.max_body_bytes = 16384;
    settings.limits.buffer_bytes = 8192;
    settings.http2.max_concurrent_streams = 8;
    settings.http2.max_header_list_bytes = 4096;
    settings.http2.max_header_fields = 20;
    settings.http2.reset_burst = 10;
    settings.http2.reset_rate = 1;
    settings.http2.max_glitches = 10;
    settings.http2.max_outbound_acks = 50;
    Harness h(d);
    gw::http::ConnectionInfo info;
    info.id = 1;
    info.peer = *gw::SocketAddress::parseNumeric("127.0.0.1:1");
    info.peer_ip = "127.0.0.1";
    static const char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    ssize_t w = write(sv[1], kPreface, sizeof(kPreface) - 1);
    w = write(sv[1], data, size);
    (void)w;
    h.conn = std::make_unique<gw::http2::ServerConnection>(
        d, bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE), info, settings, h, h);
    shutdown(sv[1], SHUT_WR);
    char sink[65536];
    for (int i = 0; i < 16; ++i) {
      event_base_loop(base, EVLOOP_NONBLOCK);
      while (read(sv[1], sink, sizeof(sink)) > 0) {
      }
    }
    h.conn.reset();
    d.clearDeferred();
  }
  close(sv[1]);
  event_base_free(base);
  return 0;
}
