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

#include "../codec_harness.h"
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

using Harness = gwfuzz::Harness<gw::http2::ServerConnection, FakeStream>;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gwfuzz::initOnce();
  if (size > 60000) size = 60000;  // stays within one socket buffer: no blocking write
  int sv[2];
  if (!gwfuzz::openPair(sv)) return 0;
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
    const gw::http::ConnectionInfo info = gwfuzz::connectionInfo();
    static const char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    ssize_t w = write(sv[1], kPreface, sizeof(kPreface) - 1);
    w = write(sv[1], data, size);
    (void)w;
    h.conn = std::make_unique<gw::http2::ServerConnection>(
        d, gw::newSocketTransport(d, sv[0]), info, settings, h, h);
    gwfuzz::pump(base, sv[1]);
    h.conn.reset();
    d.clearDeferred();
  }
  close(sv[1]);
  event_base_free(base);
  return 0;
}
