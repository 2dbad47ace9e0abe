#include "upstream/uwsgi/response_reader.h"

namespace gw::uwsgi {

ResponseReader::ResponseReader(bool head_request)
    : parser_({.head_request = head_request, .accept_http2 = true}) {}

bool ResponseReader::onHead(http::ResponseHeadPtr head, bool) {
  stopped_ = !sink_->onResponseHead(std::move(head));
  return !stopped_;
}

bool ResponseReader::onBody(evbuffer* data, bool) {
  if (evbuffer_get_length(data) == 0) return true;  // the end alone
  stopped_ = !sink_->onResponseBody(data);
  evbuffer_drain(data, evbuffer_get_length(data));
  return !stopped_;
}

void ResponseReader::onTrailers(http::HeaderMap&&) {}  // not relayed from uwsgi

ResponseReader::Status ResponseReader::map(http1::ResponseParser::Status s) {
  sink_ = nullptr;
  if (stopped_) return Status::Stopped;  // also when the refused call ended the response
  switch (s) {
    case http1::ResponseParser::Status::NeedMore: return Status::NeedMore;
    case http1::ResponseParser::Status::Complete: return Status::Complete;
    case http1::ResponseParser::Status::Error: return Status::Error;
    case http1::ResponseParser::Status::Paused: break;
  }
  return Status::Stopped;  // the sink refused (its owner was cancelled): nothing more
}

ResponseReader::Status ResponseReader::feed(evbuffer* in, upstream::ResponseSink& sink) {
  if (stopped_) return Status::Stopped;
  saw_bytes_ = saw_bytes_ || evbuffer_get_length(in) > 0;
  sink_ = &sink;
  return map(parser_.feed(in, *this));
}

ResponseReader::Status ResponseReader::finishAtEof(upstream::ResponseSink& sink) {
  if (stopped_) return Status::Stopped;
  sink_ = &sink;
  return map(parser_.finishAtEof(*this));
}

}  // namespace gw::uwsgi
