// Fuzzes the upstream HTTP/1.x response path. The input is a response; its last byte picks a
// split step, and its bit 7 says the request was HEAD.
//  1. http1::ResponseParser alone, in one piece and in splits with a pause at every sink call:
//     both give the same result, and nothing invalid is ever delivered (a 1xx or junk status,
//     an invalid field, body for HEAD, more or less body than a Content-Length said).
//  2. Differential against Debian's http_parser (lenient build): where both accept the
//     response, same status, fields, body, trailers, bytes consumed and keep-alive decision.
//  3. The gateway's own path: a real Http1Upstream sends a request over a unix socket to this
//     harness, which answers with the input and closes (pooling decision, EOF handling).
#include <event2/buffer.h>
#include <event2/event.h>
#include <http_parser.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/log.h"
#include "core/util.h"
#include "http1/response_parser.h"
#include "upstream/http1_upstream.h"

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;
using gw::http1::ResponseParser;

#define CHECK(c) \
  do {           \
    if (!(c)) __builtin_trap(); \
  } while (0)

// ---------------------------------------------------------------- 1. the parser alone

struct Outcome {
  ResponseParser::Status status = ResponseParser::Status::NeedMore;
  int heads = 0;
  int code = 0;
  Fields headers;
  std::optional<uint64_t> content_length;
  bool head_end = false;
  std::string body;
  bool body_end = false;
  Fields trailers;
  bool keep_alive = false;
  size_t consumed = 0;
  bool operator==(const Outcome&) const = default;
};

Fields fieldsOf(const gw::http::HeaderMap& m) {
  Fields out;
  for (const auto& f : m.fields()) {
    std::string_view n(f.name), v(f.value);
    CHECK(gw::http::isValidFieldName(n) && gw::http::isValidFieldValue(v));
    out.emplace_back(std::string(n), std::string(v));
  }
  return out;
}

struct ParserSink : ResponseParser::Sink {
  Outcome* o;
  bool pause;
  bool onHead(gw::http::ResponseHeadPtr head, bool end) override {
    CHECK(o->heads == 0 && head->status >= 200 && head->status <= 599);
    ++o->heads;
    o->code = head->status;
    o->headers = fieldsOf(head->headers);
    o->content_length = head->content_length;
    o->head_end = end;
    return !pause;
  }
  bool onBody(evbuffer* data, bool end) override {
    CHECK(o->heads == 1 && !o->head_end && !o->body_end);
    size_t n = evbuffer_get_length(data);
    std::string s(n, '\0');
    evbuffer_remove(data, s.data(), n);
    o->body += s;
    o->body_end = end;
    return !pause;
  }
  void onTrailers(gw::http::HeaderMap&& t) override {
    CHECK(o->heads == 1 && !o->body_end && o->trailers.empty());
    o->trailers = fieldsOf(t);
    CHECK(!o->trailers.empty() && o->trailers.size() <= ResponseParser::kMaxTrailers);
  }
};

Outcome parse(const uint8_t* data, size_t size, bool is_head, size_t step, bool pause) {
  Outcome o;
  ResponseParser p({.head_request = is_head});
  ParserSink sink;
  sink.o = &o;
  sink.pause = pause;
  evbuffer* in = evbuffer_new();
  auto s = ResponseParser::Status::NeedMore;
  size_t fed = 0;
  for (size_t off = 0; off < size && s == ResponseParser::Status::NeedMore; off += step) {
    evbuffer_add(in, data + off, std::min(step, size - off));
    fed += std::min(step, size - off);
    do {
      s = p.feed(in, sink);
    } while (s == ResponseParser::Status::Paused);
  }
  if (s == ResponseParser::Status::NeedMore) s = p.finishAtEof(sink);
  o.status = s;
  o.keep_alive = s == ResponseParser::Status::Complete && p.keepAlive();
  o.consumed = fed - evbuffer_get_length(in);  // where the response ended
  if (s == ResponseParser::Status::Complete) {
    CHECK(o.heads == 1 && (o.head_end || o.body_end || !o.trailers.empty()));
    if (is_head || o.code == 204 || o.code == 304) CHECK(o.head_end);
    if (o.content_length && !is_head && o.code != 204 && o.code != 304) CHECK(o.body.size() == *o.content_length);
  } else if (s == ResponseParser::Status::Error) {
    CHECK(p.error() != nullptr && !p.keepAlive());
  }
  evbuffer_free(in);
  return o;
}

// ---------------------------------------------------------------- 2. http_parser

struct Reference {
  http_parser p;
  bool is_head = false;
  bool informational = false;
  bool head_done = false;
  bool complete = false;
  bool keep_alive = false;
  bool has_content_length = false;
  int code = 0;
  Fields headers, trailers, pending;
  std::string name, value;
  bool last_was_value = false;
  std::string body;

  void commit() {
    if (name.empty() && value.empty()) return;
    pending.emplace_back(name, std::string(gw::trim(value)));
    name.clear();
    value.clear();
    last_was_value = false;
  }
};

Reference* ref(http_parser* p) { return static_cast<Reference*>(p->data); }

const http_parser_settings& referenceSettings() {
  static const http_parser_settings s = [] {
    http_parser_settings s;
    http_parser_settings_init(&s);
    s.on_header_field = [](http_parser* p, const char* at, size_t len) {
      Reference* r = ref(p);
      if (r->last_was_value) r->commit();
      r->name.append(at, len);
      return 0;
    };
    s.on_header_value = [](http_parser* p, const char* at, size_t len) {
      Reference* r = ref(p);
      r->value.append(at, len);
      r->last_was_value = true;
      return 0;
    };
    s.on_headers_complete = [](http_parser* p) {
      Reference* r = ref(p);
      r->commit();
      r->informational = p->status_code >= 100 && p->status_code < 200;
      if (!r->informational) {
        r->code = p->status_code;
        r->headers = std::move(r->pending);
        r->has_content_length = (p->flags & F_CONTENTLENGTH) != 0;
        r->head_done = true;
      }
      r->pending.clear();
      // 1: no body. http_parser leaves that to its user for HEAD, 204 and 304.
      return r->is_head || p->status_code == 204 || p->status_code == 304 ? 1 : 0;
    };
    s.on_body = [](http_parser* p, const char* at, size_t len) {
      ref(p)->body.append(at, len);
      return 0;
    };
    s.on_message_complete = [](http_parser* p) {
      Reference* r = ref(p);
      if (r->informational) {
        r->informational = false;
        return 0;
      }
      r->commit();
      r->trailers = std::move(r->pending);
      r->complete = true;
      r->keep_alive = http_should_keep_alive(p) != 0;
      http_parser_pause(p, 1);
      return 0;
    };
    return s;
  }();
  return s;
}

bool hasField(const Fields& f, std::string_view name) {
  for (const auto& [n, v] : f) {
    if (gw::iequals(n, name)) return true;
  }
  return false;
}

// A field whose name begins with `prefix`: http_parser sets its framing flags as soon as a name
// has matched "transfer-encoding" (or "connection", "content-length"), even when more name follows
// ("Transfer-Encoding1" turns chunked off in a trailer).
bool hasFieldPrefixed(const Fields& f, std::string_view prefix) {
  for (const auto& [n, v] : f) {
    if (n.size() >= prefix.size() && gw::iequals(std::string_view(n).substr(0, prefix.size()), prefix)) return true;
  }
  return false;
}

// Lists where http_parser's matchers go their own way, not compared: an empty element in a
// Transfer-Encoding or Connection list ("chunked,", ", close"), which RFC 9110 §5.6.1 says to
// ignore, and more than one transfer coding ("c, chunked" is not chunked to http_parser).
bool listsHttpParserMisreads(const Fields& f) {
  int codings = 0;
  for (const auto& [n, v] : f) {
    const bool te = gw::iequals(n, "transfer-encoding");
    if (!te && !gw::iequals(n, "connection")) continue;
    std::string_view rest(v);
    for (;;) {
      size_t comma = rest.find(',');
      if (gw::trim(rest.substr(0, comma)).empty()) return true;
      if (te && ++codings > 1) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

void differential(const uint8_t* data, size_t size, bool is_head, const Outcome& ours) {
  if (ours.status != ResponseParser::Status::Complete || listsHttpParserMisreads(ours.headers)) return;
  Reference r;
  r.is_head = is_head;
  http_parser_init(&r.p, HTTP_RESPONSE);
  r.p.data = &r;
  size_t n = http_parser_execute(&r.p, &referenceSettings(), reinterpret_cast<const char*>(data), size);
  if (HTTP_PARSER_ERRNO(&r.p) == HPE_OK && !r.complete) {
    http_parser_execute(&r.p, &referenceSettings(), nullptr, 0);  // EOF
  }
  if (!r.complete) return;  // http_parser refused or wants more: stricter on its side
  CHECK(r.code == ours.code);
  CHECK(r.headers == ours.headers);
  CHECK(r.body == ours.body);
  if (ours.trailers.size() < ResponseParser::kMaxTrailers) CHECK(r.trailers == ours.trailers);
  // Where the response ends (a close-delimited one ends at EOF, after everything).
  CHECK(n == ours.consumed);
  // We close after an HTTP/1.0 response with Transfer-Encoding (RFC 9112 §6.1); http_parser
  // does not know that rule, and lets trailer fields change its framing flags.
  const bool te10 = r.p.http_minor == 0 && hasField(ours.headers, "transfer-encoding");
  const bool framing_trailers = hasFieldPrefixed(ours.trailers, "transfer-encoding") ||
                                hasFieldPrefixed(ours.trailers, "connection") ||
                                hasFieldPrefixed(ours.trailers, "content-length");
  if (!te10 && !framing_trailers) CHECK(r.keep_alive == ours.keep_alive);
  if (!is_head && ours.code != 204 && ours.code != 304 && !hasField(ours.headers, "transfer-encoding")) {
    CHECK(r.has_content_length == ours.content_length.has_value());
  }
}

// ---------------------------------------------------------------- 3. through Http1Upstream

struct UpstreamSink : gw::upstream::UpstreamCallbacks {
  void onUpstreamHeaders(gw::http::ResponseHeadPtr head, bool end) override {
    CHECK(head->status >= 200 && head->status <= 599);  // 1xx and junk never reach the stream
    for (const auto& f : head->headers.fields()) CHECK(gw::http::isValidFieldValue(f.value));
    done = end;
  }
  void onUpstreamData(evbuffer* data, bool end) override {
    evbuffer_drain(data, evbuffer_get_length(data));
    done = end;
  }
  void onUpstreamTrailers(gw::http::HeaderMap&&) override { done = true; }
  void onUpstreamFailure(gw::upstream::Failure, std::string_view) override { done = true; }
  void onUpstreamAboveWriteHighWatermark() override {}
  void onUpstreamBelowWriteLowWatermark() override {}
  gw::http::StreamInfo& streamInfo() override { return info; }
  gw::http::StreamInfo info;
  bool done = false;
};

const std::string& socketPath() {
  static const std::string path = "/tmp/gw-fuzz-http1-response-" + std::to_string(getpid()) + ".sock";
  return path;
}

int listener() {
  static const int fd = [] {
    int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    strncpy(a.sun_path, socketPath().c_str(), sizeof(a.sun_path) - 1);
    unlink(a.sun_path);
    if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(l, 16) != 0) abort();
    atexit([] { unlink(socketPath().c_str()); });
    return l;
  }();
  return fd;
}

void throughUpstream(const uint8_t* data, size_t size, bool is_head) {
  const int lfd = listener();
  event_base* base = event_base_new();
  {
    gw::Dispatcher d(base);
    gw::config::Upstream cfg;
    cfg.name = "fuzz";
    cfg.servers.push_back(*gw::SocketAddress::parseNumeric("unix:" + socketPath()));
    cfg.retries = 0;
    cfg.connect_timeout = gw::Millis(1000);
    cfg.response_timeout = gw::Millis(1000);
    gw::upstream::Http1Upstream up(d, cfg, 16384);
    UpstreamSink sink;
    auto req = up.newRequest(sink);
    gw::http::RequestHead head;
    head.method = is_head ? "HEAD" : "GET";
    head.path = "/";
    head.authority = "fuzz";
    head.content_length = 0;
    req->sendHeaders(head, true);
    for (int i = 0; i < 4; ++i) event_base_loop(base, EVLOOP_NONBLOCK);  // connect + write the request
    int c = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c >= 0) {
      char buf[4096];
      ssize_t ignored = read(c, buf, sizeof(buf));  // the request (not checked here)
      ignored = write(c, data, size);
      (void)ignored;
      close(c);
    }
    for (int i = 0; i < 16 && !sink.done; ++i) event_base_loop(base, EVLOOP_NONBLOCK);
    req->cancel();
    req.reset();
    d.clearDeferred();
  }
  event_base_free(base);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = [] {
    std::signal(SIGPIPE, SIG_IGN);
    gw::setLogLevel(gw::LogLevel::Error);
    return true;
  }();
  (void)init;
  if (size > 60000) size = 60000;
  const bool is_head = size > 0 && (data[size - 1] & 0x80);
  const size_t step = size > 0 ? 1 + data[size - 1] % 61 : 1;

  Outcome whole = parse(data, size, is_head, size > 0 ? size : 1, false);
  Outcome split = parse(data, size, is_head, step, true);
  CHECK(split.status == whole.status);
  if (whole.status == ResponseParser::Status::Complete) {
    // Whether the end came with the head or with the body depends on the reads.
    split.head_end = split.body_end = whole.head_end = whole.body_end = false;
    CHECK(split == whole);
  }
  differential(data, size, is_head, whole);
  throughUpstream(data, size, is_head);
  return 0;
}
