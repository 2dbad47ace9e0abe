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

#include "../codec_harness.h"
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

using Harness = gwfuzz::Harness<gw::http1::ServerConnection, FakeStream>;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gwfuzz::initOnce();
  if (size > 60000) size = 60000;  // stays within one socket buffer: no blocking write
  int sv[2];
  if (!gwfuzz::openPair(sv)) return 0;
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
    const gw::http::ConnectionInfo info = gwfuzz::connectionInfo();
    h.conn = std::make_unique<gw::http1::ServerConnection>(
        d, gw::newSocketTransport(d, sv[0]), info, settings, h, h);
    ssize_t w = write(sv[1], data, size);
    (void)w;
    gwfuzz::pump(base, sv[1]);
    h.conn.reset();
    d.clearDeferred();
  }
  close(sv[1]);
  event_base_free(base);
  return 0;
}
