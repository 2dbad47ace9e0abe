// Fuzzes the uwsgi response path as the uwsgi upstream runs it (framed_upstream.cc): the raw
// HTTP/1.x answer a uWSGI worker sends, fed to uwsgi::ResponseReader (http1::ResponseParser with
// "HTTP/2.0" accepted) in splits chosen by the input's first byte (bit 7 of the second byte: the
// request was HEAD), then EOF; and again in one piece. Checks: no crash; one head with a status
// in 200..599 and valid fields; Complete with a Content-Length means exactly that many body
// bytes; no body for HEAD; the split and the whole run agree.
#include <event2/buffer.h>

#include <cstdint>
#include <cstdlib>

#include "../response_sink_check.h"
#include "upstream/uwsgi/response_reader.h"

namespace {

using namespace gw;

struct Run {
  uwsgi::ResponseReader::Status status;
  gwfuzz::CheckingSink sink;
};

void run(Run& r, const uint8_t* data, size_t size, size_t step, bool is_head) {
  uwsgi::ResponseReader reader(is_head);
  evbuffer* in = evbuffer_new();
  r.status = uwsgi::ResponseReader::Status::NeedMore;
  for (size_t off = 0; off < size && r.status == uwsgi::ResponseReader::Status::NeedMore; off += step) {
    evbuffer_add(in, data + off, std::min(step, size - off));
    r.status = reader.feed(in, r.sink);
  }
  if (r.status == uwsgi::ResponseReader::Status::NeedMore) r.status = reader.finishAtEof(r.sink);
  if (r.status == uwsgi::ResponseReader::Status::Complete) {
    if (!r.sink.head) abort();
    if (is_head && r.sink.body != 0) abort();
    if (!is_head && r.sink.cl && r.sink.body != *r.sink.cl) abort();
  }
  if (r.status == uwsgi::ResponseReader::Status::Error && !reader.error()) abort();
  evbuffer_free(in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  size_t step = 1 + data[0] % 61;
  bool is_head = data[1] & 0x80;
  data += 2;
  size -= 2;
  Run split, whole;
  run(split, data, size, step, is_head);
  run(whole, data, size, size > 0 ? size : 1, is_head);
  if (split.status != whole.status) abort();
  if (whole.status == uwsgi::ResponseReader::Status::Complete &&
      (split.sink.body != whole.sink.body || split.sink.cl != whole.sink.cl)) {
    abort();
  }
  return 0;
}
