#include "http1/server_connection.h"

#include <cerrno>
#include <cstring>

#include "core/counters.h"
#include "core/io.h"
#include "core/log.h"
#include "http/problem.h"
#include "http1/head_scan.h"
#include "http1/parser_glue.h"

namespace gw::http1 {

namespace {

// Maps http_parser's own errors onto the answer a client should get.
std::pair<int, const char*> mapParserError(http_errno err) {
  switch (err) {
    case HPE_INVALID_TRANSFER_ENCODING: return {501, "unsupported_transfer_coding"};
    case HPE_UNEXPECTED_CONTENT_LENGTH: return {400, "conflicting_framing"};
    case HPE_INVALID_CONTENT_LENGTH: return {400, "invalid_content_length"};
    case HPE_INVALID_CHUNK_SIZE: return {400, "invalid_chunk_size"};
    case HPE_HEADER_OVERFLOW: return {431, "header_section_too_large"};
    case HPE_INVALID_VERSION: return {400, "invalid_version"};
    case HPE_INVALID_METHOD: return {400, "invalid_method"};
    case HPE_INVALID_URL: return {400, "invalid_request_target"};
    case HPE_INVALID_HEADER_TOKEN: return {400, "invalid_header"};
    case HPE_LF_EXPECTED: return {400, "malformed_head"};
    default: return {400, "malformed_request"};
  }
}

}  // namespace

ServerConnection::ServerConnection(Dispatcher& dispatcher, TransportPtr io, const http::ConnectionInfo& info,
                                   const ServerSettings& settings, http::ServerConnectionCallbacks& callbacks,
                                   http::ConnectionOwner& owner)
    : dispatcher_(dispatcher),
      info_(info),
      settings_(settings),
      callbacks_(callbacks),
      owner_(owner),
      io_(std::move(io)),
      body_buf_(evbuffer_new()),
      timer_(dispatcher, [this] { onTimer(); }),
      process_later_(dispatcher, [](evutil_socket_t, short, void* arg) { static_cast<ServerConnection*>(arg)->process(); },
                     this),
      flush_later_(dispatcher, [](evutil_socket_t, short, void* arg) { static_cast<ServerConnection*>(arg)->flushNow(); },
                   this) {
  io_->setCallbacks(this);
  // Input is bounded: a head may use max_header_bytes; a body streams through `buffer_bytes`.
  io_limits_.read_high = std::max(settings.limits.max_header_bytes + 1024, settings.limits.buffer_bytes);
  io_limits_.write_low = settings.limits.buffer_bytes / 4;
  io_limits_.send_timeout = settings.timeouts.send;
  io_->setLimits(io_limits_);
  io_->enableRead(true);
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
  timer_.enable(settings.timeouts.client_header);  // an idle new connection is closed quietly
  if (evbuffer_get_length(io_->input()) > 0) process_later_.activate();
}

ServerConnection::~ServerConnection() {
  if (stream_) {
    stream_->onResetStream();
    stream_.reset();
  }
  evbuffer_free(body_buf_);
}

void ServerConnection::onRead() {
  if (closed_) return;
  if (lingering_) {
    evbuffer* in = io_->input();
    evbuffer_drain(in, evbuffer_get_length(in));
    return;
  }
  // A body read may have been cut at libevent's 4 KiB: fetch what the socket holds in one call.
  if (state_ == State::Body && !read_disabled_ && evbuffer_get_length(io_->input()) >= 4096) {
    io_->topUpInput(settings_.limits.buffer_bytes);
  }
  process();
}

void ServerConnection::process() {
  while (!closed_ && !closing_after_flush_) {
    evbuffer* in = io_->input();
    if (state_ == State::AwaitHead) {
      if (stream_ || evbuffer_get_length(in) == 0) return;  // pipelined: wait for the response
      if (!parseHead(in)) return;
    } else if (state_ == State::Body) {
      if (read_disabled_ || !parseBody(in)) return;
    } else {
      return;
    }
  }
}

bool ServerConnection::parseHead(evbuffer* in) {
  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line.
  for (int i = 0; i < 4 && evbuffer_get_length(in) >= 2; ++i) {
    char two[2];
    evbuffer_copyout(in, two, 2);
    if (two[0] != '\r' || two[1] != '\n') break;
    evbuffer_drain(in, 2);
  }
  size_t avail = evbuffer_get_length(in);
  if (avail == 0) return false;
  if (!head_timer_armed_) {
    timer_.enable(settings_.timeouts.client_header);  // from the first byte; not extended by more
    head_timer_armed_ = true;
  }
  const size_t limit = settings_.limits.max_header_bytes;
  const size_t max_uri = settings_.limits.max_uri_bytes;
  auto uriError = [&] {
    sendError(414, "uri_too_long", "the request-target exceeds " + std::to_string(max_uri) + " bytes");
  };
  // Incremental: only bytes that arrived since the last read are searched and checked, so a
  // client dribbling its head byte by byte costs linear time, not quadratic.
  const size_t upto = std::min(avail, limit + 1);
  evbuffer_ptr search_from;
  evbuffer_ptr_set(in, &search_from, head_searched_, EVBUFFER_PTR_SET);
  evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, &search_from);
  const bool complete = end.pos >= 0 && static_cast<size_t>(end.pos) + 4 <= limit;
  const size_t check_to = complete ? static_cast<size_t>(end.pos) + 4 : upto;  // never into the body
  if (check_to > head_scanned_) {
    const size_t from = head_scanned_ > 0 ? head_scanned_ - 1 : 0;  // one byte of context
    thread_local std::string fresh;  // scratch, reused: no allocation per request
    fresh.resize(check_to - from);
    evbuffer_ptr pos;
    evbuffer_ptr_set(in, &pos, from, EVBUFFER_PTR_SET);
    evbuffer_copyout_from(in, &pos, fresh.data(), fresh.size());
    HeadScan r = scanHeadBytes(fresh, from == 0 ? 0 : 1);
    if (r != HeadScan::Ok) {
      sendError(400, headScanCode(r), "malformed request head");
      return false;
    }
    if (!request_line_checked_) {
      size_t eol = fresh.find('\r', from == 0 ? 0 : 1);
      if (eol != std::string::npos) {
        request_line_checked_ = true;
        thread_local std::string line;
        line.resize(from + eol);
        evbuffer_copyout(in, line.data(), line.size());
        if (uriTooLong(line, max_uri)) {
          uriError();
          return false;
        }
      } else if (check_to > max_uri + 32) {  // method + SP + target + SP + "HTTP/1.1" cannot fit
        uriError();
        return false;
      }
    }
    // A trailing CR is checked again next time, when its LF may be there.
    head_scanned_ = fresh.back() == '\r' ? check_to - 1 : check_to;
  }
  if (!complete) {
    head_searched_ = upto > 3 ? upto - 3 : 0;
    if (avail > limit) {
      sendError(431, "header_section_too_large", "the request head exceeds " + std::to_string(limit) + " bytes");
    }
    return false;
  }
  const size_t head_len = static_cast<size_t>(end.pos) + 4;
  const char* data = reinterpret_cast<const char*>(evbuffer_pullup(in, head_len));
  head_scanned_ = 0;
  head_searched_ = 0;
  request_line_checked_ = false;

  http_parser_pause(&parser_, 0);
  size_t n = http_parser_execute(&parser_, &parserSettingsFor<ServerConnection>(), data, head_len);
  http_errno err = HTTP_PARSER_ERRNO(&parser_);
  if (error_status_ != 0) {
    sendError(error_status_, error_code_, error_detail_);
    return false;
  }
  // The head pass must end exactly with a complete header section; anything else (e.g. a
  // request line http_parser reads differently from our scan) is malformed.
  if ((err != HPE_OK && err != HPE_PAUSED) || !head_ || !headers_complete_ || (n != head_len && !message_complete_)) {
    auto [status, code] = mapParserError(err);
    sendError(status, code, http_errno_description(err));
    return false;
  }
  evbuffer_drain(in, head_len);
  timer_.disable();
  head_timer_armed_ = false;
  ++requests_;
  GW_INC(downstream_rq_total);
  keepalive_ = http_should_keep_alive(&parser_) != 0;
  if (settings_.limits.max_requests_per_connection && requests_ >= settings_.limits.max_requests_per_connection) {
    keepalive_ = false;
  }
  state_ = message_complete_ ? State::RequestComplete : State::Body;
  if (state_ == State::Body) timer_.enable(settings_.timeouts.client_body);

  stream_ = callbacks_.newStream(*this, info_);
  http::RequestDecoder* stream = stream_.get();
  stream->decodeHeaders(std::move(head_), message_complete_);
  return !closed_;
}

bool ServerConnection::parseBody(evbuffer* in) {
  bool progressed = false;
  http_parser_pause(&parser_, 0);
  while (!message_complete_ && evbuffer_get_length(in) > 0) {
    evbuffer_iovec v;
    if (evbuffer_peek(in, -1, nullptr, &v, 1) < 1) break;
    size_t n = http_parser_execute(&parser_, &parserSettingsFor<ServerConnection>(), static_cast<const char*>(v.iov_base), v.iov_len);
    evbuffer_drain(in, n);
    progressed = progressed || n > 0;
    http_errno err = HTTP_PARSER_ERRNO(&parser_);
    if (error_status_ != 0 || (err != HPE_OK && err != HPE_PAUSED)) {
      int status = error_status_;
      const char* code = error_code_;
      std::string detail = error_detail_;
      if (status == 0) {
        std::tie(status, code) = mapParserError(err);
        detail = http_errno_description(err);
        // http_parser reports an overflowing chunk size as HPE_INVALID_CONTENT_LENGTH.
        if (err == HPE_INVALID_CONTENT_LENGTH && (parser_.flags & F_CHUNKED)) code = "invalid_chunk_size";
      }
      if (stream_) {
        stream_->streamInfo().request_body_bytes = body_bytes_;
      }
      sendError(status, code, detail);
      return false;
    }
    if (n < v.iov_len && !message_complete_) break;
  }
  if (!progressed && !message_complete_) return false;
  if (message_complete_) {
    state_ = State::RequestComplete;
    timer_.disable();
  } else {
    timer_.enable(settings_.timeouts.client_body);  // idle timer: re-armed on progress
  }
  if (!stream_) {
    evbuffer_drain(body_buf_, evbuffer_get_length(body_buf_));
    return !message_complete_;
  }
  if (evbuffer_get_length(body_buf_) > 0 || message_complete_) {
    stream_->streamInfo().request_body_bytes = body_bytes_;
    stream_->decodeData(body_buf_, message_complete_);
  }
  return !closed_ && !message_complete_;
}

int ServerConnection::onMessageBegin() {
  head_ = std::make_unique<http::RequestHead>();
  head_->headers.reserve(16);
  url_.clear();
  field_.clear();
  in_trailers_ = false;
  header_count_ = 0;
  message_complete_ = false;
  headers_complete_ = false;
  body_bytes_ = 0;
  error_status_ = 0;
  error_code_ = nullptr;
  return 0;
}

int ServerConnection::onUrl(const char* at, size_t len) {
  url_.append(at, len);
  return 0;
}

int ServerConnection::onHeaderField(const char* at, size_t len) {
  if (field_.nameStartsAfterValue() && !commitHeader()) return -1;
  field_.appendName(at, len);
  return 0;
}

int ServerConnection::onHeaderValue(const char* at, size_t len) {
  field_.appendValue(at, len);
  return 0;
}

void ServerConnection::setParserError(int status, const char* code, std::string detail) {
  if (error_status_ != 0) return;
  error_status_ = status;
  error_code_ = code;
  error_detail_ = std::move(detail);
}

bool ServerConnection::commitHeader() {
  if (!field_.pending()) return true;
  if (in_trailers_) {  // request trailers are read and dropped (never forwarded)
    field_.clear();
    return true;
  }
  if (++header_count_ > settings_.limits.max_headers) {
    setParserError(431, "too_many_headers",
                   "more than " + std::to_string(settings_.limits.max_headers) + " header fields");
    return false;
  }
  std::string_view value = trim(field_.value());
  if (!http::isValidFieldName(field_.name())) {
    setParserError(400, "invalid_header_name", "a header field name is not a token");
    return false;
  }
  if (!http::isValidFieldValue(value)) {
    setParserError(400, "invalid_header_value", "a header field value holds control characters");
    return false;
  }
  head_->headers.add(field_.name(), value);
  field_.clear();
  return true;
}

int ServerConnection::onHeadersComplete() {
  if (!head_ || headers_complete_) return -1;  // never a second head inside one message
  headers_complete_ = true;
  if (field_.pending() && !commitHeader()) return -1;
  in_trailers_ = true;
  http::RequestHead& h = *head_;
  h.version_major = parser_.http_major;
  h.version_minor = parser_.http_minor;
  if (parser_.http_major != 1 || parser_.http_minor > 1) {
    setParserError(505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are served on this port");
    return -1;
  }
  if (parser_.method == HTTP_CONNECT) {
    setParserError(501, "method_not_supported", "CONNECT is not supported");
    return -1;
  }
  h.method = http_method_str(static_cast<http_method>(parser_.method));
  head_request_ = parser_.method == HTTP_HEAD;

  // Request target: origin-form, absolute-form, or asterisk-form for OPTIONS.
  if (url_ == "*" && parser_.method == HTTP_OPTIONS) {
    h.path = "*";
  } else if (url_.starts_with('/') && url_.find('#') == std::string::npos) {
    // origin-form, the usual case: its characters were checked as http_parser read the request
    // line, so splitting at the first '?' is all that http_parser_parse_url would do.
    const size_t q = url_.find('?');
    h.path.assign(url_, 0, q);
    if (q != std::string::npos) h.query.assign(url_, q + 1);
  } else {
    http_parser_url u;
    http_parser_url_init(&u);
    if (http_parser_parse_url(url_.data(), url_.size(), 0, &u) != 0) {
      setParserError(400, "invalid_request_target", "the request-target cannot be parsed");
      return -1;
    }
    if (u.field_set & (1 << UF_FRAGMENT)) {
      setParserError(400, "invalid_request_target", "a request-target never carries a fragment");
      return -1;
    }
    auto field = [&](int f) {
      return std::string_view(url_.data() + u.field_data[f].off, u.field_data[f].len);
    };
    if (u.field_set & (1 << UF_HOST)) {
      // absolute-form: its authority replaces Host (RFC 9112 §3.2.2)
      std::string authority(field(UF_HOST));
      if (authority.find(':') != std::string::npos) authority = "[" + authority + "]";
      if (u.field_set & (1 << UF_PORT)) authority += ":" + std::string(field(UF_PORT));
      h.headers.set("Host", authority);
    }
    h.path = (u.field_set & (1 << UF_PATH)) ? std::string(field(UF_PATH)) : "/";
    if (h.path.empty() || h.path[0] != '/') {
      setParserError(400, "invalid_request_target", "the request-target must start with '/'");
      return -1;
    }
    if (u.field_set & (1 << UF_QUERY)) h.query = std::string(field(UF_QUERY));
  }

  size_t hosts = h.headers.count("host");
  if (hosts > 1) {
    setParserError(400, "duplicate_host", "more than one Host header");
    return -1;
  }
  if (hosts == 0 && h.version_minor == 1) {
    setParserError(400, "missing_host", "HTTP/1.1 requests must carry a Host header");
    return -1;
  }
  if (hosts == 1) {
    h.authority = *h.headers.get("host");
    if (!http::isValidAuthority(h.authority)) {
      setParserError(400, "invalid_host", "the Host header is not a valid authority");
      return -1;
    }
  }

  if (h.headers.count("transfer-encoding") > 0) {
    const std::string te = h.headers.getCombined("transfer-encoding");  // the items are views into it
    size_t codings = 0;
    bool only_chunked = http::forEachListItem(te, [&](std::string_view c) {
      ++codings;
      return iequals(c, "chunked");
    });
    if (!only_chunked) {
      setParserError(501, "unsupported_transfer_coding", "only the chunked transfer coding is supported");
      return -1;
    }
    if (codings != 1) {
      setParserError(400, "invalid_transfer_encoding", "chunked must be applied exactly once");
      return -1;
    }
    if (h.headers.count("content-length") > 0) {
      setParserError(400, "conflicting_framing", "both Content-Length and Transfer-Encoding");
      return -1;
    }
  }
  if ((parser_.flags & F_CONTENTLENGTH) && !(parser_.flags & F_CHUNKED)) {
    h.content_length = parser_.content_length;
    if (parser_.content_length > settings_.limits.max_body_bytes) {
      setParserError(413, "body_too_large",
                     "the body exceeds " + std::to_string(settings_.limits.max_body_bytes) + " bytes");
      return -1;
    }
  } else if (!(parser_.flags & F_CHUNKED)) {
    h.content_length = 0;
  }
  if (auto expect = h.headers.get("expect")) {
    if (!iequals(trim(*expect), "100-continue")) {
      setParserError(417, "expectation_failed", "only 100-continue is supported in Expect");
      return -1;
    }
    h.expect_continue = true;
    h.headers.remove("expect");
  }
  http10_ = h.version_minor == 0;
  return 0;
}

int ServerConnection::onBody(const char* at, size_t len) {
  body_bytes_ += len;
  if (body_bytes_ > settings_.limits.max_body_bytes) {
    setParserError(413, "body_too_large",
                   "the body exceeds " + std::to_string(settings_.limits.max_body_bytes) + " bytes");
    return -1;
  }
  evbuffer_add(body_buf_, at, len);
  return 0;
}

int ServerConnection::onMessageComplete() {
  message_complete_ = true;
  http_parser_pause(&parser_, 1);  // one request at a time: pipelined ones wait in the input
  return 0;
}

void ServerConnection::sendError(int status, const char* code, const std::string& detail) {
  if (closed_) return;
  GW_INC(downstream_rq_protocol_error);
  if (stream_) {
    http::StreamInfo& si = stream_->streamInfo();
    if (!response_started_) si.status = status;
    si.details = code;
    auto s = std::move(stream_);
    s->onResetStream();
    dispatcher_.deferredDelete(std::move(s));
  } else {
    http::StreamInfo si = http::streamInfoFor(info_, "HTTP/1.1");
    if (head_ && !head_->method.empty()) si.method = head_->method;
    si.target = url_.substr(0, std::min<size_t>(url_.size(), 1024));
    si.status = status;
    si.details = code;
    callbacks_.onProtocolError(si);
  }
  GW_LOG(Info, "c%llu: %s %d %s (%s)", static_cast<unsigned long long>(info_.id), info_.peer.str().c_str(), status,
         code, detail.c_str());
  if (response_started_) {  // too late for an answer: the client must see a truncated message
    closeNow();
    return;
  }
  std::string body = http::problemJson(status, code, detail, "");
  std::string resp = "HTTP/1.1 " + std::to_string(status) + " " + http::reasonPhrase(status) +
                     "\r\nContent-Type: application/problem+json\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\nDate: " + std::string(httpDate()) + "\r\nConnection: close\r\n\r\n" + body;
  response_started_ = true;
  evbuffer_add(io_->output(), resp.data(), resp.size());
  scheduleFlush();
  closeAfterFlush();
}

void ServerConnection::encode100Continue() {
  if (closed_ || continue_sent_ || response_started_ || state_ != State::Body) return;
  continue_sent_ = true;
  static const char k100[] = "HTTP/1.1 100 Continue\r\n\r\n";
  evbuffer_add(io_->output(), k100, sizeof(k100) - 1);
  scheduleFlush();
}

void ServerConnection::encodeHeaders(http::ResponseHead& head, bool end_stream) {
  if (closed_) return;
  response_started_ = true;
  const int status = head.status;
  const bool no_body = head_request_ || status == 204 || status == 304 || status < 200;
  // A response that starts before the request body was read ends the connection afterwards.
  bool close = !keepalive_ || draining_ || close_after_response_ || state_ != State::RequestComplete;

  thread_local std::string h;  // scratch, reused: no allocation per response
  h.clear();
  h += "HTTP/1.1 ";
  h += std::to_string(status);
  h += ' ';
  h += http::reasonPhrase(status);
  h += "\r\n";
  bool has_date = false;
  for (const auto& f : head.headers.fields()) {
    if (iequals(f.name, "content-length") || iequals(f.name, "transfer-encoding") || iequals(f.name, "connection")) {
      continue;  // framing is this codec's job
    }
    has_date = has_date || iequals(f.name, "date");
    h += f.name;
    h += ": ";
    h += f.value;
    h += "\r\n";
  }
  if (!has_date) {
    h += "Date: ";
    h += httpDate();
    h += "\r\n";
  }
  if (no_body) {
    body_mode_ = BodyMode::None;
    if (head.content_length && status != 204 && status >= 200) {
      h += "Content-Length: " + std::to_string(*head.content_length) + "\r\n";
    }
  } else if (head.content_length) {
    body_mode_ = BodyMode::Length;
    h += "Content-Length: " + std::to_string(*head.content_length) + "\r\n";
  } else if (end_stream) {
    body_mode_ = BodyMode::None;
    h += "Content-Length: 0\r\n";
  } else if (!http10_) {
    body_mode_ = BodyMode::Chunked;
    h += "Transfer-Encoding: chunked\r\n";
  } else {
    body_mode_ = BodyMode::Close;  // HTTP/1.0 client, unknown length: the close delimits the body
    close = true;
  }
  if (close) {
    keepalive_ = false;
    h += "Connection: close\r\n";
  } else if (http10_) {
    h += "Connection: keep-alive\r\n";
  }
  h += "\r\n";
  evbuffer_add(io_->output(), h.data(), h.size());
  scheduleFlush();
  if (end_stream) onResponseComplete();
}

void ServerConnection::encodeData(evbuffer* data, bool end_stream) {
  if (closed_) {
    evbuffer_drain(data, evbuffer_get_length(data));
    return;
  }
  evbuffer* out = io_->output();
  size_t len = evbuffer_get_length(data);
  switch (body_mode_) {
    case BodyMode::None:
      evbuffer_drain(data, len);
      break;
    case BodyMode::Chunked:
      if (len > 0) {
        evbuffer_add_printf(out, "%zx\r\n", len);
        evbuffer_add_buffer(out, data);
        evbuffer_add(out, "\r\n", 2);
      }
      if (end_stream) evbuffer_add(out, "0\r\n\r\n", 5);
      break;
    case BodyMode::Length:
    case BodyMode::Close:
      evbuffer_add_buffer(out, data);
      break;
  }
  scheduleFlush();
  if (end_stream) {
    onResponseComplete();
    return;
  }
  if (!above_high_ && io_->pending() > settings_.limits.buffer_bytes) {
    above_high_ = true;
    if (stream_) stream_->onAboveWriteHighWatermark();
  }
}

void ServerConnection::encodeTrailers(const http::HeaderMap& trailers) {
  if (closed_ || body_mode_ != BodyMode::Chunked) {
    evbuffer* empty = evbuffer_new();
    encodeData(empty, true);
    evbuffer_free(empty);
    return;
  }
  evbuffer* out = io_->output();
  evbuffer_add(out, "0\r\n", 3);
  for (const auto& f : trailers.fields()) {
    if (!http::isValidFieldName(f.name) || !http::isValidFieldValue(f.value)) continue;
    evbuffer_add(out, f.name.data(), f.name.size());
    evbuffer_add(out, ": ", 2);
    evbuffer_add(out, f.value.data(), f.value.size());
    evbuffer_add(out, "\r\n", 2);
  }
  evbuffer_add(out, "\r\n", 2);
  scheduleFlush();
  onResponseComplete();
}

void ServerConnection::readDisable(bool disable) {
  if (closed_ || read_disabled_ == disable) return;
  read_disabled_ = disable;
  if (disable) {
    io_->enableRead(false);
    if (state_ == State::Body) timer_.disable();  // waiting on the upstream is not the client's fault
  } else {
    io_->enableRead(true);
    if (state_ == State::Body) timer_.enable(settings_.timeouts.client_body);
    process_later_.activate();  // parse what is already buffered
  }
}

void ServerConnection::resetStream() {
  if (stream_) dispatcher_.deferredDelete(std::move(stream_));
  closeNow();
}

void ServerConnection::onResponseComplete() {
  if (stream_) dispatcher_.deferredDelete(std::move(stream_));
  above_high_ = false;
  if (close_after_response_ || !keepalive_ || draining_ || state_ != State::RequestComplete) {
    closeAfterFlush();
    return;
  }
  startNextRequest();
}

void ServerConnection::startNextRequest() {
  state_ = State::AwaitHead;
  response_started_ = false;
  continue_sent_ = false;
  body_mode_ = BodyMode::None;
  head_request_ = false;
  close_after_response_ = false;
  if (read_disabled_) {
    read_disabled_ = false;
    io_->enableRead(true);
  }
  evbuffer_drain(body_buf_, evbuffer_get_length(body_buf_));
  timer_.enable(settings_.timeouts.keepalive);
  head_timer_armed_ = false;
  process_later_.activate();  // a pipelined request may already be buffered
}

void ServerConnection::onTimer() {
  if (closed_) return;
  if (lingering_) {
    closeNow();
    return;
  }
  switch (state_) {
    case State::AwaitHead:
      if (head_timer_armed_) {
        GW_INC(downstream_cx_timeout);
        sendError(408, "header_timeout", "the request head was not received in time");
      } else {
        closeNow();  // idle keep-alive connection: close quietly
      }
      break;
    case State::Body:
      GW_INC(downstream_cx_timeout);
      sendError(408, "body_timeout", "the request body was not received in time");
      break;
    case State::RequestComplete:
      break;
  }
}

void ServerConnection::scheduleFlush() {
  if (!closed_) flush_later_.activate();
}

void ServerConnection::flushNow() {
  if (closed_) return;
  if (io_->flush()) onWrite();  // all written: the bookkeeping the transport's callback would do
}

void ServerConnection::onWrite() {
  if (closed_) return;
  const size_t pending = io_->pending();
  if (closing_after_flush_) {
    if (!lingering_ && pending == 0) startLingeringClose();
    return;
  }
  if (above_high_ && pending <= settings_.limits.buffer_bytes / 4) {
    above_high_ = false;
    if (stream_) stream_->onBelowWriteLowWatermark();
  }
}

void ServerConnection::onEvent(short what) {
  if (closed_) return;
  if (what & BEV_EVENT_TIMEOUT) {
    GW_INC(downstream_cx_timeout);
    GW_LOG(Info, "c%llu: %s send timeout, client stopped reading", static_cast<unsigned long long>(info_.id),
           info_.peer.str().c_str());
    closeNow();
    return;
  }
  if (what & BEV_EVENT_ERROR) {
    logDownstreamSocketError(info_.id);
    closeNow();
    return;
  }
  if (what & BEV_EVENT_EOF) {
    if (stream_ && !lingering_) {
      GW_INC(downstream_cx_reset);
      GW_LOG(Debug, "c%llu: client closed before the response completed", static_cast<unsigned long long>(info_.id));
    }
    closeNow();
  }
}

void ServerConnection::closeAfterFlush() {
  if (closed_ || closing_after_flush_) return;
  closing_after_flush_ = true;
  timer_.disable();
  io_limits_.write_low = 0;  // called back only once everything is out
  io_->setLimits(io_limits_);
  if (io_->pending() == 0) startLingeringClose();
}

void ServerConnection::startLingeringClose() {
  // Half-close and discard what the client still sends for a moment, so that a client which is
  // still writing (a refused body) reads our answer instead of a reset.
  lingering_ = true;
  io_->shutdownWrite();
  evbuffer* in = io_->input();
  evbuffer_drain(in, evbuffer_get_length(in));
  io_limits_.read_high = 0;
  io_->setLimits(io_limits_);
  io_->enableRead(true);
  timer_.enable(Millis(2000));
}

void ServerConnection::closeNow() {
  if (closed_) return;
  closed_ = true;
  timer_.disable();
  if (stream_) {
    auto s = std::move(stream_);
    s->onResetStream();
    dispatcher_.deferredDelete(std::move(s));
  }
  closeTransport(dispatcher_, std::move(io_));  // may be inside one of its callbacks
  owner_.onConnectionClosed(*this);
}

void ServerConnection::startDrain() {
  draining_ = true;
  if (closed_) return;
  if (state_ == State::AwaitHead && !stream_ && !head_timer_armed_) closeNow();
}

}  // namespace gw::http1
