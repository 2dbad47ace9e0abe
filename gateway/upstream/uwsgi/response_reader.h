#pragma once
// The response side of the uwsgi protocol: uWSGI answers with a raw HTTP/1.x response, which
// this reader parses with http_parser (Debian's libhttp-parser) incrementally: Content-Length,
// chunked and close-delimited framing, 1xx dropped, 101 refused, CR/LF/NUL in fields refused,
// at most 1000 header fields. Body bytes are moved, not copied, where the framing allows
// (Content-Length bodies skip the parser). Pure: no sockets.
#include <event2/buffer.h>
#include <http_parser.h>

#include <cstdint>
#include <string>

#include "upstream/framed/response_sink.h"

namespace gw::uwsgi {

class ResponseReader {
 public:
  // head_request: the response has no body whatever its headers say.
  explicit ResponseReader(bool head_request = false);
  ResponseReader(const ResponseReader&) = delete;
  ResponseReader& operator=(const ResponseReader&) = delete;

  enum class Status { NeedMore, Complete, Stopped, Error };
  // Consumes `in` (what is left after Complete stays there: bytes past the response).
  Status feed(evbuffer* in, upstream::ResponseSink& sink);
  // The peer closed: completes a close-delimited body; Error if the response is incomplete.
  Status finishAtEof(upstream::ResponseSink& sink);
  const char* error() const { return error_; }
  bool sawBytes() const { return saw_bytes_; }
  bool headDelivered() const { return head_delivered_; }

  // http_parser callbacks (parser_glue)
  int onHeaderField(const char* at, size_t len);
  int onHeaderValue(const char* at, size_t len);
  int onHeadersComplete();
  int onBody(const char* at, size_t len);
  int onMessageComplete();

 private:
  void commitHeader();
  Status flush(upstream::ResponseSink& sink);  // delivers head / buffered body

  http_parser parser_;
  bool head_request_;
  http::ResponseHeadPtr head_;
  std::string name_, value_;
  bool last_was_value_ = false;
  bool bad_header_ = false;
  bool informational_ = false;
  bool head_ready_ = false;
  bool head_delivered_ = false;
  bool complete_ = false;
  bool stopped_ = false;
  bool saw_bytes_ = false;
  size_t header_count_ = 0;
  uint64_t direct_left_ = 0;  // Content-Length body bytes moved without the parser
  evbuffer* body_;
  const char* error_ = nullptr;

 public:
  ~ResponseReader();
};

}  // namespace gw::uwsgi
