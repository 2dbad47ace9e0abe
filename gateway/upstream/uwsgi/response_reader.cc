#include "upstream/uwsgi/response_reader.h"

#include <algorithm>

#include "core/util.h"
#include "http/headers.h"
#include "http1/parser_glue.h"

namespace gw::uwsgi {

ResponseReader::ResponseReader(bool head_request)
    : head_request_(head_request), head_(std::make_unique<http::ResponseHead>()), body_(evbuffer_new()) {
  http_parser_init(&parser_, HTTP_RESPONSE);
  parser_.data = this;
}

ResponseReader::~ResponseReader() { evbuffer_free(body_); }

void ResponseReader::commitHeader() {
  std::string_view v = trim(value_);
  if (!head_ready_ && !informational_) {
    if (!http::isValidFieldName(name_) || !http::isValidFieldValue(v) || ++header_count_ > 1000) {
      bad_header_ = true;
    } else {
      head_->headers.add(name_, v);
    }
  }
  name_.clear();
  value_.clear();
  last_was_value_ = false;
}

int ResponseReader::onHeaderField(const char* at, size_t len) {
  if (last_was_value_) commitHeader();
  name_.append(at, len);
  return 0;
}

int ResponseReader::onHeaderValue(const char* at, size_t len) {
  last_was_value_ = true;
  value_.append(at, len);
  return 0;
}

int ResponseReader::onHeadersComplete() {
  if (!name_.empty() || !value_.empty()) commitHeader();
  if (bad_header_) return -1;
  int status = parser_.status_code;
  // uWSGI writes SERVER_PROTOCOL into its status line: "HTTP/2.0 200" for an HTTP/2 client.
  if ((parser_.http_major != 1 && parser_.http_major != 2) || status < 100 || status > 599 || status == 101) {
    bad_header_ = true;
    return -1;
  }
  if (status < 200) {
    informational_ = true;
    return 0;
  }
  head_->status = status;
  if ((parser_.flags & F_CONTENTLENGTH) && !(parser_.flags & F_CHUNKED)) head_->content_length = parser_.content_length;
  if (status == 204 || status == 304) head_->content_length.reset();
  head_ready_ = true;
  if (!head_request_ && head_->content_length && *head_->content_length > 0) direct_left_ = *head_->content_length;
  return head_request_ ? 1 : 0;
}

int ResponseReader::onBody(const char* at, size_t len) {
  direct_left_ -= std::min<uint64_t>(direct_left_, len);
  evbuffer_add(body_, at, len);
  return 0;
}

int ResponseReader::onMessageComplete() {
  if (informational_) {
    informational_ = false;
    head_ = std::make_unique<http::ResponseHead>();
    header_count_ = 0;
    return 0;
  }
  complete_ = true;
  http_parser_pause(&parser_, 1);
  return 0;
}

ResponseReader::Status ResponseReader::flush(upstream::ResponseSink& sink) {
  if (head_ready_ && !head_delivered_) {
    head_delivered_ = true;
    if (!sink.onResponseHead(std::move(head_))) {
      stopped_ = true;
      return Status::Stopped;
    }
  }
  if (head_delivered_ && evbuffer_get_length(body_) > 0) {
    if (!sink.onResponseBody(body_)) {
      stopped_ = true;
      return Status::Stopped;
    }
    evbuffer_drain(body_, evbuffer_get_length(body_));
  }
  return complete_ ? Status::Complete : Status::NeedMore;
}

ResponseReader::Status ResponseReader::feed(evbuffer* in, upstream::ResponseSink& sink) {
  if (error_) return Status::Error;
  if (stopped_) return Status::Stopped;
  while (!complete_ && evbuffer_get_length(in) > 0) {
    saw_bytes_ = true;
    if (direct_left_ > 0 && head_ready_) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(direct_left_, evbuffer_get_length(in)));
      evbuffer_remove_buffer(in, body_, n);
      direct_left_ -= n;
      if (direct_left_ == 0) complete_ = true;  // the parser never sees this body
    } else {
      evbuffer_iovec v;
      if (evbuffer_peek(in, -1, nullptr, &v, 1) < 1) break;
      http_parser_pause(&parser_, 0);
      size_t n = http_parser_execute(&parser_, &http1::parserSettingsFor<ResponseReader>(),
                                     static_cast<const char*>(v.iov_base), v.iov_len);
      evbuffer_drain(in, n);
      http_errno err = HTTP_PARSER_ERRNO(&parser_);
      if (bad_header_ || (err != HPE_OK && err != HPE_PAUSED)) {
        error_ = bad_header_ ? "invalid response header" : http_errno_description(err);
        return Status::Error;
      }
      if (n < v.iov_len && !complete_ && err != HPE_PAUSED) {
        error_ = "parser stopped";
        return Status::Error;
      }
    }
    Status s = flush(sink);
    if (s != Status::NeedMore) return s;
  }
  return flush(sink);
}

ResponseReader::Status ResponseReader::finishAtEof(upstream::ResponseSink& sink) {
  if (error_) return Status::Error;
  if (stopped_) return Status::Stopped;
  if (!complete_ && direct_left_ == 0) {
    http_parser_pause(&parser_, 0);
    http_parser_execute(&parser_, &http1::parserSettingsFor<ResponseReader>(), nullptr, 0);
  }
  if (!complete_) {
    error_ = head_delivered_ || head_ready_ ? "response body cut short" : "no complete response head";
    return Status::Error;
  }
  return flush(sink);
}

}  // namespace gw::uwsgi
