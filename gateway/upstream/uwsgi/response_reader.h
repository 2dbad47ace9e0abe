#pragma once
// The response side of the uwsgi protocol: uWSGI answers with a raw HTTP/1.x response, parsed
// here incrementally by http1::ResponseParser (strict RFC 9112 framing, 1xx dropped, 101 refused,
// "HTTP/2.0" accepted in the status line since uWSGI echoes SERVER_PROTOCOL). Trailers are
// dropped. Body bytes are moved, not copied. Pure: no sockets.
#include <event2/buffer.h>

#include "http1/response_parser.h"
#include "upstream/framed/response_sink.h"

namespace gw::uwsgi {

class ResponseReader : private http1::ResponseParser::Sink {
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
  const char* error() const { return parser_.error(); }
  bool sawBytes() const { return saw_bytes_; }
  bool headDelivered() const { return parser_.headDelivered(); }

 private:
  Status map(http1::ResponseParser::Status s);
  bool onHead(http::ResponseHeadPtr head, bool end_stream) override;
  bool onBody(evbuffer* data, bool end_stream) override;
  void onTrailers(http::HeaderMap&& trailers) override;

  http1::ResponseParser parser_;
  upstream::ResponseSink* sink_ = nullptr;  // during feed() / finishAtEof()
  bool stopped_ = false;
  bool saw_bytes_ = false;
};

}  // namespace gw::uwsgi
