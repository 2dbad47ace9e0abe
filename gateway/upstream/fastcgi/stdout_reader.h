#pragma once
// One FastCGI request's STDOUT stream read as a CGI response (RFC 3875 §6): the header section
// through cgi::ResponseParser (Status, Location, Content-Length), then the body, streamed. A
// Content-Length the body overruns, or (at END_REQUEST) does not reach, is an error: a short body
// must never be passed off as complete. Responses without a body (HEAD; 1xx, 204, 304) expect
// none: their Content-Length is not checked (kept on HEAD, dropped on 204 / 304). A local redirect (Location: /path without Status) is
// reported and its body swallowed, for the owner to re-dispatch. Pure: no sockets.
#include <event2/buffer.h>

#include <cstdint>
#include <optional>

#include "upstream/cgi/response.h"
#include "upstream/framed/response_sink.h"

namespace gw::fastcgi {

class StdoutReader {
 public:
  explicit StdoutReader(bool head_request = false, cgi::Limits limits = {}) : head_request_(head_request), parser_(limits) {}

  enum class Status { NeedMore, Stopped, Error };
  // STDOUT content (drained). end: the empty STDOUT record.
  Status onStdout(evbuffer* data, bool end, upstream::ResponseSink& sink);
  // END_REQUEST arrived: Error unless the head was complete and the body matches its length.
  Status finish();
  bool headDelivered() const { return head_delivered_; }
  bool localRedirect() const { return parser_.done() && parser_.kind() == cgi::ResponseKind::LocalRedirect; }
  const std::string& location() const { return parser_.location(); }
  bool sawBytes() const { return saw_bytes_; }
  const char* error() const { return error_; }

 private:
  bool head_request_;
  cgi::ResponseParser parser_;
  bool head_delivered_ = false;
  bool stdout_ended_ = false;
  bool saw_bytes_ = false;
  bool stopped_ = false;
  bool no_body_ = false;  // HEAD, 1xx, 204, 304: whatever STDOUT carries after the head is dropped
  uint64_t body_bytes_ = 0;
  std::optional<uint64_t> content_length_;
  const char* error_ = nullptr;
};

}  // namespace gw::fastcgi
