// Fuzzes the uwsgi response path as the uwsgi upstream runs it (framed_upstream.cc): the raw
// HTTP/1.x answer a uWSGI worker sends, fed to uwsgi::ResponseReader in splits chosen by the
// input's first byte (bit 7 of the second byte: the request was HEAD), then EOF. Checks: no
// crash; one head with a status in 200..599 and valid fields; Complete with a Content-Length
// means exactly that many body bytes; no body for HEAD.
#include <event2/buffer.h>

#include <cstdint>
#include <cstdlib>

#include "../response_sink_check.h"
#include "upstream/uwsgi/response_reader.h"

namespace {

using namespace gw;

using Sink = gwfuzz::CheckingSink;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  size_t step = 1 + data[0] % 61;
  bool is_head = data[1] & 0x80;
  data += 2;
  size -= 2;
  uwsgi::ResponseReader reader(is_head);
  Sink sink;
  evbuffer* in = evbuffer_new();
  auto s = uwsgi::ResponseReader::Status::NeedMore;
  for (size_t off = 0; off < size && s == uwsgi::ResponseReader::Status::NeedMore; off += step) {
    evbuffer_add(in, data + off, std::min(step, size - off));
    s = reader.feed(in, sink);
  }
  if (s == uwsgi::ResponseReader::Status::NeedMore) s = reader.finishAtEof(sink);
  if (s == uwsgi::ResponseReader::Status::Complete) {
    if (!sink.head) abort();
    if (is_head && sink.body != 0) abort();
    if (!is_head && sink.cl && sink.body != *sink.cl) abort();
  }
  evbuffer_free(in);
  return 0;
}
