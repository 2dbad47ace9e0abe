#include "upstream/fastcgi/stdout_reader.h"

namespace gw::fastcgi {

StdoutReader::Status StdoutReader::onStdout(evbuffer* data, bool end, upstream::ResponseSink& sink) {
  if (error_) return Status::Error;
  if (stopped_) return Status::Stopped;
  if (stdout_ended_ && evbuffer_get_length(data) > 0) {
    error_ = "fastcgi_stdout_after_end";
    return Status::Error;
  }
  if (evbuffer_get_length(data) > 0) saw_bytes_ = true;
  if (!parser_.done()) {
    auto r = parser_.feed(data);
    if (!r) {
      error_ = cgi::parseErrorName(r.error());
      return Status::Error;
    }
    if (parser_.done() && !localRedirect()) {
      http::ResponseHeadPtr head = parser_.takeHead();
      // No body follows a HEAD response (its Content-Length is the GET's, and is kept) nor a
      // 1xx / 204 / 304 one (RFC 9110 §6.4.1): the length is not expected from STDOUT then.
      const int st = head->status;
      no_body_ = head_request_ || st < 200 || st == 204 || st == 304;
      if (st < 200 || st == 204 || st == 304) head->content_length.reset();
      content_length_ = no_body_ ? std::nullopt : head->content_length;
      head_delivered_ = true;
      if (!sink.onResponseHead(std::move(head))) {
        stopped_ = true;
        return Status::Stopped;
      }
    }
  }
  size_t n = evbuffer_get_length(data);
  if (parser_.done() && n > 0) {
    if (localRedirect() || no_body_) {
      evbuffer_drain(data, n);  // the redirect's own body, or a body HEAD / 204 / 304 must not have
    } else {
      body_bytes_ += n;
      if (content_length_ && body_bytes_ > *content_length_) {
        error_ = "fastcgi_body_longer_than_content_length";
        return Status::Error;
      }
      if (!sink.onResponseBody(data)) {
        stopped_ = true;
        return Status::Stopped;
      }
    }
  }
  if (end) {
    stdout_ended_ = true;
    if (!parser_.done()) {
      error_ = cgi::parseErrorName(cgi::ParseError::Incomplete);
      return Status::Error;
    }
  }
  return Status::NeedMore;
}

StdoutReader::Status StdoutReader::finish() {
  if (error_) return Status::Error;
  if (!parser_.done()) {
    error_ = cgi::parseErrorName(cgi::ParseError::Incomplete);
    return Status::Error;
  }
  if (content_length_ && body_bytes_ != *content_length_ && !localRedirect()) {
    error_ = "fastcgi_body_shorter_than_content_length";
    return Status::Error;
  }
  return Status::NeedMore;
}

}  // namespace gw::fastcgi
