#include "http1/response_parser.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/util.h"
#include "http1/head_scan.h"

namespace gw::http1 {

namespace {

constexpr size_t npos = std::string_view::npos;

// Index just past the first CRLF CRLF in s whose final LF is at or after `from`, or npos.
// Counts the LFs it passes in `lines` (a hint for reserving fields).
size_t findSectionEnd(std::string_view s, size_t from, size_t& lines) {
  size_t i = std::max<size_t>(from, 3);
  while (i < s.size()) {
    const void* p = memchr(s.data() + i, '\n', s.size() - i);
    if (!p) break;
    size_t k = static_cast<size_t>(static_cast<const char*>(p) - s.data());
    ++lines;
    if (s[k - 1] == '\r' && s[k - 2] == '\n' && s[k - 3] == '\r') return k + 1;
    i = k + 1;
  }
  return npos;
}

// Decimal digits only, no sign, no overflow.
std::optional<uint64_t> parseLength(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

const char* scanError(HeadScan r) {
  switch (r) {
    case HeadScan::BareLf: return "bare LF in the response";
    case HeadScan::BareCr: return "bare CR in the response";
    case HeadScan::Nul: return "NUL in the response";
    case HeadScan::ObsFold: return "obs-fold in the response";
    default: return "invalid response";
  }
}

}  // namespace

ResponseParser::ResponseParser(Options options) : options_(options), body_(evbuffer_new()) {}

ResponseParser::~ResponseParser() { evbuffer_free(body_); }

void ResponseParser::reset(Options options) {
  options_ = options;
  state_ = State::Head;
  if (const size_t left = evbuffer_get_length(body_); left > 0) evbuffer_drain(body_, left);
  partial_.clear();
  section_ = {};
  drain_ = 0;
  lines_ = 0;
  head_.reset();
  trailers_ = {};
  remaining_ = 0;
  chunk_line_ = ChunkLine::Size;
  chunk_line_bytes_ = 0;
  chunk_digit_ = false;
  trailers_end_ = false;
  keep_alive_ = false;
  head_delivered_ = false;
  end_delivered_ = false;
  error_ = nullptr;
}

ResponseParser::Status ResponseParser::fail(const char* why) {
  state_ = State::Failed;
  error_ = why;
  keep_alive_ = false;
  return Status::Error;
}

ResponseParser::Locate ResponseParser::locate(evbuffer* in) {
  evbuffer_iovec v;
  while (evbuffer_peek(in, -1, nullptr, &v, 1) == 1 && v.iov_len > 0) {
    std::string_view chunk(static_cast<const char*>(v.iov_base), v.iov_len);
    if (partial_.empty()) {
      // Usually the whole section is in the first chain: parsed where it lies.
      std::string_view s = chunk.substr(0, kMaxHeadBytes);
      size_t end = findSectionEnd(s, 0, lines_);
      if (end != npos) {
        section_ = s.substr(0, end);
        drain_ = end;
        return Locate::Ok;
      }
      if (chunk.size() >= kMaxHeadBytes) return Locate::TooLarge;
      partial_.assign(chunk);
      evbuffer_drain(in, chunk.size());
      continue;
    }
    // The section spans chains or reads: collected here, searched from where the last search
    // stopped.
    size_t old = partial_.size();
    size_t take = std::min(chunk.size(), kMaxHeadBytes - old);
    partial_.append(chunk.data(), take);
    size_t end = findSectionEnd(partial_, old, lines_);
    if (end != npos) {
      evbuffer_drain(in, end - old);
      partial_.resize(end);
      section_ = partial_;
      drain_ = 0;
      return Locate::Ok;
    }
    evbuffer_drain(in, take);
    if (partial_.size() >= kMaxHeadBytes) return Locate::TooLarge;
  }
  return Locate::NeedMore;
}

void ResponseParser::dropSection(evbuffer* in) {
  if (drain_ > 0) evbuffer_drain(in, drain_);
  drain_ = 0;
  section_ = {};
  partial_.clear();
  lines_ = 0;
}

// Field lines up to the empty line that ends `lines` (which ends in CRLF CRLF).
//
// The byte rules of head_scan.h hold without a separate pass over the bytes: a bare CR ends a
// line not followed by LF, and a bare LF, a NUL or a line starting with SP/HTAB (obs-fold) fail
// the name or value check. scanHead only names the error afterwards.
bool ResponseParser::parseFields(std::string_view lines, bool trailers) {
  size_t count = 0;
  size_t pos = 0;
  for (;;) {
    size_t cr = lines.find('\r', pos);
    if (cr == npos || lines[cr + 1] != '\n') return false;  // (a CR is never last)
    if (cr == pos) return true;                              // the empty line
    std::string_view line = lines.substr(pos, cr - pos);
    pos = cr + 2;
    // The name is checked as it is scanned: a valid one ends at the colon. A name that is not a
    // token includes whitespace before the colon (RFC 9112 §5.1).
    const size_t colon = http::tokenLength(line);
    if (colon == line.size() || line[colon] != ':' || colon == 0) {
      error_ = line.find(':') == npos ? "field line without a colon" : "invalid field name";
      return false;
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    if (!http::isValidFieldValue(value)) {  // the OWS trimmed below is valid
      error_ = "invalid field value";
      return false;
    }
    value = trim(value);
    if (trailers) {
      if (trailers_.size() < kMaxTrailers) trailers_.add(name, value);
      continue;
    }
    if (++count > kMaxFields) {
      error_ = "too many header fields";
      return false;
    }
    // The fields that decide framing and keep-alive; others only need their length compared.
    switch (name.size()) {
      case 14:
        if (iequals(name, "content-length")) {
          bool ok = true, any = false;
          http::forEachListItem(value, [&](std::string_view item) {
            auto n = parseLength(item);
            ok = n && (!content_length_ || *content_length_ == *n);
            if (ok) content_length_ = n;
            any = true;
            return ok;
          });
          if (!ok || !any) {
            error_ = any ? "invalid or conflicting Content-Length" : "empty Content-Length";
            return false;
          }
        }
        break;
      case 17:
        if (iequals(name, "transfer-encoding")) {
          te_ = true;
          if (value.empty()) {
            error_ = "empty Transfer-Encoding";
            return false;
          }
          http::forEachListItem(value, [&](std::string_view coding) {
            te_chunked_ = iequals(coding, "chunked");  // the final coding is what counts
            return true;
          });
        }
        break;
      case 10:
        if (iequals(name, "connection")) {
          http::forEachListItem(value, [&](std::string_view token) {
            conn_close_ = conn_close_ || iequals(token, "close");
            conn_keep_alive_ = conn_keep_alive_ || iequals(token, "keep-alive");
            return true;
          });
        }
        break;
    }
    if (!informational_) head_->headers.add(name, value);
  }
}

bool ResponseParser::parseHead(std::string_view head) {
  // status-line = HTTP-version SP status-code SP [ reason-phrase ]; "HTTP/1.1 200" (no SP) is
  // accepted as http_parser did. The reason is checked like a field value.
  size_t eol = head.find('\r');
  std::string_view line = head.substr(0, eol);
  if (head[eol + 1] != '\n' || line.size() < 12 || line.compare(0, 5, "HTTP/") != 0 || line[6] != '.' || line[8] != ' ') {
    error_ = "malformed status line";
    return false;
  }
  const char major = line[5], minor = line[7];
  const bool http10 = major == '1' && minor == '0';
  if (!http10 && !(major == '1' && minor == '1') && !(options_.accept_http2 && major == '2' && minor == '0')) {
    error_ = "unsupported HTTP version";
    return false;
  }
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') {
      error_ = "malformed status code";
      return false;
    }
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100 || status > 599 || (line.size() > 12 && line[12] != ' ') ||
      !http::isValidFieldValue(line.substr(std::min<size_t>(line.size(), 13)))) {
    error_ = "malformed status line";
    return false;
  }
  if (status == 101) {
    error_ = "101 Switching Protocols without an upgrade request";
    return false;
  }
  informational_ = status < 200;
  content_length_.reset();
  te_ = te_chunked_ = conn_close_ = conn_keep_alive_ = false;
  if (!informational_) {
    head_ = std::make_unique<http::ResponseHead>();
    // Lines seen while locating: the status line, the fields, the empty line.
    head_->headers.reserve(lines_ > 2 ? std::min(lines_ - 2, kMaxFields) : 0);
    head_->status = status;
  }
  if (!parseFields(head.substr(eol + 2), false)) return false;
  if (informational_) return true;

  if (te_ && content_length_) {
    // RFC 9112 §6.3: "ought to be handled as an error" (a smuggling attempt), as http_parser did.
    error_ = "both Transfer-Encoding and Content-Length";
    return false;
  }
  if (content_length_ && status != 204 && status != 304) head_->content_length = content_length_;
  keep_alive_ = http10 ? conn_keep_alive_ && !conn_close_ : !conn_close_;
  if (te_ && http10) keep_alive_ = false;  // faulty framing (RFC 9112 §6.1): close after it

  if (options_.head_request || status == 204 || status == 304) {
    state_ = State::Done;
  } else if (te_chunked_) {
    state_ = State::ChunkSize;
  } else if (!content_length_) {  // also a Transfer-Encoding not ending in chunked
    state_ = State::UntilClose;
    keep_alive_ = false;
  } else if (*content_length_ > 0) {
    state_ = State::Length;
    remaining_ = *content_length_;
  } else {
    state_ = State::Done;
  }
  return true;
}

// Consumes the chunk-size line (with extensions) byte by byte; need_more when `in` ran out.
bool ResponseParser::readChunkLine(evbuffer* in, bool& need_more) {
  evbuffer_iovec v;
  if (evbuffer_peek(in, -1, nullptr, &v, 1) < 1 || v.iov_len == 0) {
    need_more = true;
    return true;
  }
  const char* p = static_cast<const char*>(v.iov_base);
  size_t i = 0;
  bool done = false;
  for (; i < v.iov_len && !done; ++i) {
    char c = p[i];
    if (++chunk_line_bytes_ > kMaxChunkLine) {
      error_ = "chunk-size line too long";
      return false;
    }
    switch (chunk_line_) {
      case ChunkLine::Size:
        if (int h = hexValue(c); h >= 0) {
          if (remaining_ > (UINT64_MAX >> 4)) {
            error_ = "chunk size overflow";
            return false;
          }
          remaining_ = remaining_ << 4 | static_cast<uint64_t>(h);
          chunk_digit_ = true;
          continue;
        }
        if (!chunk_digit_) {
          error_ = "invalid chunk size";
          return false;
        }
        [[fallthrough]];
      case ChunkLine::Bws:
        if (c == ' ' || c == '\t') {
          chunk_line_ = ChunkLine::Bws;
        } else if (c == ';') {
          chunk_line_ = ChunkLine::Ext;
        } else if (c == '\r') {
          chunk_line_ = ChunkLine::Lf;
        } else {
          error_ = "invalid chunk size";
          return false;
        }
        continue;
      case ChunkLine::Ext:
        // Extensions are ignored; any visible byte, SP or HTAB up to the CR.
        if (c == '\r') {
          chunk_line_ = ChunkLine::Lf;
        } else if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
          error_ = "invalid chunk extension";
          return false;
        }
        continue;
      case ChunkLine::Lf:
        if (c != '\n') {
          error_ = "bare CR in a chunk-size line";
          return false;
        }
        done = true;
        continue;
    }
  }
  evbuffer_drain(in, i);
  if (!done) {
    need_more = evbuffer_get_length(in) == 0;  // else the line goes on in the next chain
    return true;
  }
  chunk_line_ = ChunkLine::Size;
  chunk_line_bytes_ = 0;
  chunk_digit_ = false;
  state_ = remaining_ > 0 ? State::ChunkData : State::TrailerStart;
  return true;
}

// Hands out what is ready: the head (held back until the bytes that came with it are parsed, so
// an error there is found before anything is relayed), the body decoded so far, the end.
ResponseParser::Status ResponseParser::deliver(Sink& sink) {
  const bool done = state_ == State::Done;
  const bool trailers = done && !trailers_.empty();
  bool body = evbuffer_get_length(body_) > 0;
  if (head_) {
    const bool end = done && !body && !trailers;
    head_delivered_ = true;
    end_delivered_ = end;
    bool go_on = sink.onHead(std::move(head_), end);
    if (end) return Status::Complete;
    if (!go_on) return Status::Paused;
  }
  if (body || (done && !trailers)) {
    const bool end = done && !trailers;
    end_delivered_ = end;
    bool go_on = sink.onBody(body_, end);
    if (end) return Status::Complete;
    if (!go_on) return Status::Paused;  // trailers, if any, go out on the next feed()
  }
  if (trailers) {
    end_delivered_ = true;
    sink.onTrailers(std::move(trailers_));
    return Status::Complete;
  }
  return Status::NeedMore;
}

ResponseParser::Status ResponseParser::feed(evbuffer* in, Sink& sink) {
  if (end_delivered_) return Status::Complete;
  if (state_ == State::Failed) return Status::Error;
  if (head_ || evbuffer_get_length(body_) > 0 || state_ == State::Done) {
    Status s = deliver(sink);  // owed since a pause
    if (s != Status::NeedMore) return s;
  }
  for (;;) {
    switch (state_) {
      case State::Failed:
        return Status::Error;
      case State::Head:
      case State::Trailers: {
        const bool trailers = state_ == State::Trailers;
        Locate l = locate(in);
        if (l == Locate::NeedMore) return deliver(sink);
        if (l == Locate::TooLarge) return fail(trailers ? "trailer section too large" : "response head too large");
        error_ = "invalid field line";
        if (!(trailers ? parseFields(section_, true) : parseHead(section_))) {
          if (HeadScan r = scanHead(section_, 0); r != HeadScan::Ok) error_ = scanError(r);
          dropSection(in);
          return fail(error_);
        }
        dropSection(in);
        error_ = nullptr;
        // After trailers, the end. After a 1xx head (dropped), the next head. The final head
        // is held in head_ until deliver().
        if (trailers) state_ = State::Done;
        continue;
      }
      case State::Length: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, evbuffer_get_length(in)));
        evbuffer_remove_buffer(in, body_, n);
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::Done;
        return deliver(sink);
      }
      case State::UntilClose:
        evbuffer_add_buffer(body_, in);
        return deliver(sink);
      case State::ChunkSize: {
        bool need_more = false;
        if (!readChunkLine(in, need_more)) return fail(error_);
        if (need_more) return deliver(sink);
        continue;
      }
      case State::ChunkData: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, evbuffer_get_length(in)));
        if (n == 0) return deliver(sink);
        evbuffer_remove_buffer(in, body_, n);
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::ChunkCr;
        continue;
      }
      case State::ChunkCr:
      case State::ChunkLf:
      case State::TrailerStart: {
        evbuffer_iovec v;
        if (evbuffer_peek(in, -1, nullptr, &v, 1) < 1 || v.iov_len == 0) return deliver(sink);
        const char c = *static_cast<const char*>(v.iov_base);
        if (state_ == State::TrailerStart) {
          // CRLF: no trailers. Anything else starts a trailer section, located like a head.
          state_ = c == '\r' ? State::ChunkLf : State::Trailers;
          if (c == '\r') {
            evbuffer_drain(in, 1);
            trailers_end_ = true;
          }
          continue;
        }
        if (c != (state_ == State::ChunkCr ? '\r' : '\n')) return fail("missing CRLF in the chunked body");
        evbuffer_drain(in, 1);
        if (state_ == State::ChunkCr) {
          state_ = State::ChunkLf;
        } else {
          state_ = trailers_end_ ? State::Done : State::ChunkSize;
        }
        continue;
      }
      case State::Done:
        return deliver(sink);
    }
  }
}

ResponseParser::Status ResponseParser::finishAtEof(Sink& sink) {
  if (end_delivered_) return Status::Complete;
  switch (state_) {
    case State::Failed:
      return Status::Error;
    case State::UntilClose:
      state_ = State::Done;
      return deliver(sink);
    case State::Done:
      return deliver(sink);  // owed after a pause
    case State::Head:
      return fail(partial_.empty() ? "no response head" : "response head cut short");
    default:
      return fail("response body cut short");
  }
}

}  // namespace gw::http1
