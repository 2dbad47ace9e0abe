#include "upstream/cgi/response.h"

#include "core/util.h"
#include "http/headers.h"

namespace gw::cgi {

const char* parseErrorName(ParseError e) {
  switch (e) {
    case ParseError::HeaderTooLarge: return "cgi_header_too_large";
    case ParseError::TooManyHeaders: return "cgi_too_many_headers";
    case ParseError::BadHeaderLine: return "cgi_bad_header_line";
    case ParseError::BadHeaderValue: return "cgi_bad_header_value";
    case ParseError::BadStatus: return "cgi_bad_status";
    case ParseError::BadContentLength: return "cgi_bad_content_length";
    case ParseError::NoHeaders: return "cgi_no_headers";
    case ParseError::Incomplete: return "cgi_incomplete_headers";
  }
  return "cgi_error";
}

namespace {

bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

// RFC 3986 absolute URI: scheme ":" ...
bool isAbsoluteUri(std::string_view v) {
  if (v.empty() || !isAlpha(v[0])) return false;
  for (size_t i = 1; i < v.size(); ++i) {
    char c = v[i];
    if (c == ':') return true;
    if (!isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return false;
}

}  // namespace

proto::Expected<ResponseParser::State, ParseError> ResponseParser::feed(evbuffer* in) {
  if (!failed_) return proto::unexpected(failed_.error());
  if (done_) return State::Done;
  // Lines are parsed where they lie, one chain at a time, and drained once per chain; only a line
  // split across chains (or reads) is gathered in line_.
  while (evbuffer_get_length(in) > 0) {
    evbuffer_iovec v;
    if (evbuffer_peek(in, -1, nullptr, &v, 1) < 1) break;
    std::string_view chunk(static_cast<const char*>(v.iov_base), v.iov_len);
    size_t used = 0;
    auto r = feedLines(chunk, used);
    evbuffer_drain(in, used);  // body bytes after the blank line stay
    if (!r) {
      failed_ = proto::unexpected(r.error());
      return proto::unexpected(r.error());
    }
    if (done_) {
      line_.shrink_to_fit();
      return State::Done;
    }
  }
  return State::NeedMore;
}

proto::Expected<void, ParseError> ResponseParser::feedLines(std::string_view chunk, size_t& used) {
  while (used < chunk.size() && !done_) {
    size_t nl = chunk.find('\n', used);
    size_t take = (nl == std::string_view::npos ? chunk.size() : nl + 1) - used;
    if (header_bytes_ + take > limits_.max_header_bytes) return proto::unexpected(ParseError::HeaderTooLarge);
    header_bytes_ += take;
    std::string_view piece = chunk.substr(used, take);
    used += take;
    if (nl == std::string_view::npos) {
      line_.append(piece);  // continued in the next chain
      break;
    }
    std::string_view line = piece;
    if (!line_.empty()) line = line_.append(piece);
    line.remove_suffix(1);  // LF
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto r = onLine(line);
    line_.clear();
    if (!r) return r;
  }
  return {};
}

proto::Expected<void, ParseError> ResponseParser::finish() const {
  if (!failed_) return failed_;
  if (!done_) return proto::unexpected(ParseError::Incomplete);
  return {};
}

proto::Expected<void, ParseError> ResponseParser::onLine(std::string_view line) {
  if (line.empty()) return complete();
  if (line.front() == ' ' || line.front() == '\t') return proto::unexpected(ParseError::BadHeaderLine);  // obs-fold
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return proto::unexpected(ParseError::BadHeaderLine);
  std::string_view name = line.substr(0, colon);
  if (!http::isValidFieldName(name)) return proto::unexpected(ParseError::BadHeaderLine);
  std::string_view value = trim(line.substr(colon + 1));
  if (!http::isValidFieldValue(value)) return proto::unexpected(ParseError::BadHeaderValue);
  if (++fields_ > limits_.max_headers) return proto::unexpected(ParseError::TooManyHeaders);

  if (iequals(name, "Status")) {
    if (have_status_ || value.size() < 3 || !isDigit(value[0]) || !isDigit(value[1]) || !isDigit(value[2])) {
      return proto::unexpected(ParseError::BadStatus);
    }
    int code = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
    if (code < 200 || code > 599) return proto::unexpected(ParseError::BadStatus);
    std::string_view rest = value.substr(3);
    if (!rest.empty() && rest.front() != ' ' && rest.front() != '\t') return proto::unexpected(ParseError::BadStatus);
    head_->status = code;
    head_->reason = std::string(trim(rest));
    have_status_ = true;
    return {};
  }
  if (iequals(name, "Location")) {
    if (!location_.empty() || value.empty()) return proto::unexpected(ParseError::BadHeaderValue);
    location_ = std::string(value);
  } else if (iequals(name, "Content-Length")) {
    auto n = parseUint(value);
    if (!n || (head_->content_length && *head_->content_length != *n)) {
      return proto::unexpected(ParseError::BadContentLength);
    }
    head_->content_length = *n;
  }
  head_->headers.add(name, value);
  return {};
}

proto::Expected<void, ParseError> ResponseParser::complete() {
  if (fields_ == 0) return proto::unexpected(ParseError::NoHeaders);
  if (!location_.empty() && !have_status_) {
    if (location_.front() == '/' && !location_.starts_with("//")) {
      kind_ = ResponseKind::LocalRedirect;
    } else if (isAbsoluteUri(location_) || location_.starts_with("//")) {
      kind_ = ResponseKind::ClientRedirect;
      head_->status = 302;
    }
  }
  if (head_->reason.empty()) head_->reason = http::reasonPhrase(head_->status);
  done_ = true;
  return {};
}

}  // namespace gw::cgi
