// Fuzzes the FastCGI record decoder and the CGI response-header parser together, as a FastCGI
// upstream will run them: the input is the byte stream an application sends, fed in random
// splits (chosen by the input's first 4 bytes); each request's STDOUT goes to a CGI parser.
// Checks: no crash, bounded state, the same result for any split (vs. one whole feed), and
// parsed heads never carry an invalid status or field value.
#include <event2/buffer.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "http/headers.h"
#include "upstream/cgi/response.h"
#include "upstream/fastcgi/fastcgi.h"

namespace {

using namespace gw;

struct Run : fastcgi::DecoderCallbacks {
  struct Req {
    cgi::ResponseParser parser{cgi::Limits{.max_header_bytes = 4096, .max_headers = 20}};
    evbuffer* pending = evbuffer_new();
    std::string log;
    bool failed = false;
    ~Req() { evbuffer_free(pending); }
  };
  std::map<uint16_t, std::unique_ptr<Req>> reqs;
  std::string log;
  std::map<uint16_t, size_t> stderr_bytes;

  Req& req(uint16_t id) {
    auto& r = reqs[id];
    if (!r) r = std::make_unique<Req>();
    return *r;
  }
  void onStdout(uint16_t id, evbuffer* data, bool end) override {
    if (reqs.size() > 64 && !reqs.contains(id)) {
      evbuffer_drain(data, evbuffer_get_length(data));
      return;
    }
    Req& r = req(id);
    evbuffer_add_buffer(r.pending, data);
    auto st = r.parser.feed(r.pending);
    if (!st) {
      if (!r.failed) r.log += std::string("E") + cgi::parseErrorName(st.error());
      r.failed = true;
      evbuffer_drain(r.pending, evbuffer_get_length(r.pending));
    } else if (*st == cgi::ResponseParser::State::Done) {
      const http::ResponseHead* h = r.parser.head();
      if (h->status < 200 || h->status > 599) __builtin_trap();
      for (const auto& f : h->headers.fields()) {
        if (!http::isValidFieldName(f.name) || !http::isValidFieldValue(f.value)) __builtin_trap();
      }
      size_t n = evbuffer_get_length(r.pending);
      r.log += "B" + std::to_string(n);  // body bytes (split-independent in total only)
      evbuffer_drain(r.pending, n);
    }
    if (end) {
      auto fin = r.parser.finish();
      r.log += fin ? "|end" : "|incomplete";
    }
  }
  void onStderr(uint16_t id, evbuffer* data, bool end) override {
    stderr_bytes[id] += evbuffer_get_length(data);
    if (end) log += "e" + std::to_string(id) + "$";
    evbuffer_drain(data, evbuffer_get_length(data));
  }
  void onEndRequest(uint16_t id, uint32_t app_status, fastcgi::ProtocolStatus s) override {
    log += "END" + std::to_string(id) + "/" + std::to_string(app_status) + "/" + fastcgi::protocolStatusName(s);
  }
  void onGetValuesResult(std::span<const fastcgi::NameValue> values) override {
    for (const auto& v : values) log += "GV" + std::string(v.name) + "=" + std::string(v.value);
  }
  void onUnknownType(uint8_t type) override { log += "UT" + std::to_string(type); }

  // Normalised summary: per request, the concatenated log with body byte counts summed.
  std::string summary() const {
    std::string s = log;
    for (const auto& [id, n] : stderr_bytes) s += "E" + std::to_string(id) + "=" + std::to_string(n);
    for (const auto& [id, r] : reqs) {
      s += "#" + std::to_string(id) + (r->parser.done() ? "D" + std::to_string(r->parser.head() ? r->parser.head()->status : 0) : "N");
      size_t body = 0;
      std::string rest;
      for (size_t i = 0; i < r->log.size();) {
        if (r->log[i] == 'B') {
          size_t j = i + 1;
          while (j < r->log.size() && r->log[j] >= '0' && r->log[j] <= '9') ++j;
          body += std::stoull(r->log.substr(i + 1, j - i - 1));
          i = j;
        } else {
          rest += r->log[i++];
        }
      }
      s += rest + "body=" + std::to_string(body);
    }
    return s;
  }
};

std::string decode(const uint8_t* data, size_t size, uint32_t seed, bool split) {
  Run run;
  fastcgi::Decoder d;
  evbuffer* in = evbuffer_new();
  size_t off = 0;
  std::string result;
  while (off < size) {
    size_t n = size - off;
    if (split) {
      seed = seed * 1103515245u + 12345u;
      n = std::min<size_t>(n, 1 + (seed >> 16) % 17);
    }
    evbuffer_add(in, data + off, n);
    off += n;
    auto r = d.feed(in, run);
    if (evbuffer_get_length(in) != 0) __builtin_trap();  // the decoder always consumes everything
    if (!r) {
      result = std::string("ERR:") + fastcgi::errorName(r.error());
      break;
    }
  }
  evbuffer_free(in);
  return run.summary() + result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  uint32_t seed;
  std::memcpy(&seed, data, 4);
  data += 4;
  size -= 4;
  std::string whole = decode(data, size, seed, false);
  std::string split = decode(data, size, seed, true);
  // Error results may differ only in what was reported before the error within one feed; with
  // success they must match exactly.
  if (whole.find("ERR:") == std::string::npos && whole != split) __builtin_trap();
  return 0;
}
