// Fuzzes the downstream HTTP/1.1 codec exactly as the server runs it: the input is written to
// one end of a socketpair whose other end is served by a real ServerConnection (head scan,
// http_parser, header checks, body framing, pipelining, error answers). A fake stream answers
// every complete request with 200 so keep-alive and pipelining paths run too.
#include <event2/event.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <memory>

#include "core/log.h"
#include "http1/server_connection.h"

namespace {

class FakeStream : public gw::http::RequestDecoder {
 public:
  explicit FakeStream(gw::http::ResponseEncoder& enc) : enc_(enc) {}
  void decodeHeaders(gw::http::RequestHeadPtr head, bool end_stream) override {
    if (head->expect_continue) enc_.encode100Continue();
    if (end_stream) respond();
  }
  void decodeData(evbuffer* data, bool end_stream) override {
    evbuffer_drain(data, evbuffer_get_length(data));
    if (end_stream) respond();
  }
  void onResetStream() override {}
  void onAboveWriteHighWatermark() override {}
  void onBelowWriteLowWatermark() override {}
  gw::http::StreamInfo& streamInfo() override { return info_; }

 private:
  void respond() {
    gw::http::ResponseHead h;
    h.status = 200;
    h.headers.add("Content-Type", "text/plain");
    enc_.encodeHeaders(h, false);  // no length: exercises chunked / close-delimited encoding
    evbuffer* b = evbuffer_new();
    evbuffer_add(b, "ok", 2);
    enc_.encodeData(b, true);
    evbuffer_free(b);
  }
  gw::http::ResponseEncoder& enc_;
  gw::http::StreamInfo info_;
};

class Harness : public gw::http::ServerConnectionCallbacks, public gw::http::ConnectionOwner {
 public:
  explicit Harness(gw::Dispatcher& d) : d_(d) {}
  gw::http::RequestDecoderPtr newStream(gw::http::ResponseEncoder& enc, const gw::http::ConnectionInfo&) override {
    return std::make_unique<FakeStream>(enc);
  }
  void onProtocolError(const gw::http::StreamInfo&) override {}
  void onConnectionClosed(gw::http::DownstreamConnection&) override { d_.deferredDelete(std::move(conn)); }
  std::unique_ptr<gw::http1::ServerConnection> conn;

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
    gw::http1::ServerSettings settings;
    settings.limits.max_uri_bytes = 512;
    settings.limits.max_header_bytes = 4096;
    settings.limits.max_headers = 20;
    settings.limits.max_body_bytes = 16384;
    settings.limits.buffer_bytes = 8192;
    Harness h(d);
    gw::http::ConnectionInfo info;
    info.id = 1;
    info.peer = *gw::SocketAddress::parseNumeric("127.0.0.1:1");
    info.peer_ip = "127.0.0.1";
    h.conn = std::make_unique<gw::http1::ServerConnection>(
        d, bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE), info, settings, h, h);
    ssize_t w = write(sv[1], data, size);
    (void)w;
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
