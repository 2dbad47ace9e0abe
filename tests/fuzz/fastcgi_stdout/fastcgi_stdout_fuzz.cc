// Fuzzes the FastCGI response path exactly as the FastCGI upstream runs it (framed_upstream.cc):
// fastcgi::Decoder over the bytes a worker sends, in splits chosen by the input's first byte,
// each request's STDOUT into a fastcgi::StdoutReader (CGI header parser + Content-Length
// accounting), END_REQUEST into finish(). Checks: no crash; a delivered head has a status in
// 200..599 and valid fields; the body delivered never exceeds a declared Content-Length; a
// request that ends cleanly has exactly that many bytes.
#include <event2/buffer.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>

#include "../response_sink_check.h"
#include "upstream/fastcgi/fastcgi.h"
#include "upstream/fastcgi/stdout_reader.h"

namespace {

using namespace gw;

using Sink = gwfuzz::CheckingSink;

struct Run : fastcgi::DecoderCallbacks {
  struct Req {
    fastcgi::StdoutReader reader{false, cgi::Limits{.max_header_bytes = 4096, .max_headers = 20}};
    Sink sink;
    bool failed = false;
  };
  std::map<uint16_t, std::unique_ptr<Req>> reqs;
  Req& req(uint16_t id) {
    auto& r = reqs[id];
    if (!r) r = std::make_unique<Req>();
    return *r;
  }
  void onStdout(uint16_t id, evbuffer* d, bool end) override {
    Req& r = req(id);
    if (r.failed) return (void)evbuffer_drain(d, evbuffer_get_length(d));
    if (r.reader.onStdout(d, end, r.sink) == fastcgi::StdoutReader::Status::Error) r.failed = true;
  }
  void onStderr(uint16_t, evbuffer* d, bool) override { evbuffer_drain(d, evbuffer_get_length(d)); }
  void onEndRequest(uint16_t id, uint32_t, fastcgi::ProtocolStatus) override {
    Req& r = req(id);
    if (r.failed) return;
    if (r.reader.finish() == fastcgi::StdoutReader::Status::Error) {
      r.failed = true;
      return;
    }
    if (!r.reader.localRedirect() && r.sink.cl && r.sink.body != *r.sink.cl) abort();
  }
  void onGetValuesResult(std::span<const fastcgi::NameValue>) override {}
  void onUnknownType(uint8_t) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t step = 1 + data[0] % 61;
  data++;
  size--;
  Run run;
  fastcgi::Decoder dec;
  evbuffer* in = evbuffer_new();
  for (size_t off = 0; off < size; off += step) {
    evbuffer_add(in, data + off, std::min(step, size - off));
    if (!dec.feed(in, run)) break;
  }
  evbuffer_free(in);
  return 0;
}
