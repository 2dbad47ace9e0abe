#pragma once
// What the socket-free response readers (FastCGI STDOUT → CGI response, uwsgi → HTTP/1.x
// response) hand to their owner: a head once, then body chunks, then the end. Used by the
// FastCGI / uwsgi upstream (framed_upstream.cc) and by the fuzz targets.
//
// Threading: one reader per response, on one thread.
#include <event2/buffer.h>

#include "http/message.h"

namespace gw::upstream {

class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // The response head. Return false to stop (the owner was cancelled): nothing more is delivered.
  virtual bool onResponseHead(http::ResponseHeadPtr head) = 0;
  // Body bytes (drained by the callee). Return false to stop.
  virtual bool onResponseBody(evbuffer* data) = 0;
};

}  // namespace gw::upstream
