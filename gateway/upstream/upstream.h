#pragma once
// The upstream interface every backend kind implements (HTTP/1.1 pool now; FastCGI, uwsgi and
// static files later). A stream asks its route's Upstream for an UpstreamRequest, sends the head
// and body through it, and gets the response back through UpstreamCallbacks.
//
// Threading: per worker; everything on that worker's thread.
// Lifetime: the Upstream outlives every UpstreamRequest it made. After cancel() (or after a
// terminal callback: end_stream or onUpstreamFailure) no callback is made.
#include <event2/buffer.h>

#include <memory>
#include <string_view>

#include "core/dispatcher.h"
#include "http/message.h"
#include "http/stream_info.h"

namespace gw::upstream {

enum class Failure {
  ConnectFailed,    // 502
  ConnectTimeout,   // 504
  ResponseTimeout,  // 504: no response head in time
  IdleTimeout,      // 504 (or a reset if the response had started)
  Reset,            // 502: the upstream closed or reset the connection
  BadResponse,      // 502: the upstream broke HTTP
  Overloaded,       // 503 + Retry-After: every server busy and the wait queue full (or waited too long)
  LengthRequired,   // 411: the upstream protocol needs a Content-Length (a guard: ActiveStream spools such bodies)
  BadRequest,       // 400: the request cannot be expressed in the upstream protocol (e.g. %00 in the path)
  HeadersTooLarge,  // 431: the header section does not fit the upstream protocol (uwsgi's 64 KiB)
};
const char* failureCode(Failure f);
int failureStatus(Failure f);

class UpstreamCallbacks {
 public:
  virtual ~UpstreamCallbacks() = default;
  virtual void onUpstreamHeaders(http::ResponseHeadPtr head, bool end_stream) = 0;
  // `data` is drained by the callee.
  virtual void onUpstreamData(evbuffer* data, bool end_stream) = 0;
  // Terminal: the response ends with this trailer section (after onUpstreamData without
  // end_stream). The default ends the body and drops them.
  virtual void onUpstreamTrailers(http::HeaderMap&& trailers) {
    evbuffer* empty = evbuffer_new();
    onUpstreamData(empty, true);
    evbuffer_free(empty);
  }
  // Terminal. Retries, if any, already happened.
  virtual void onUpstreamFailure(Failure failure, std::string_view detail) = 0;
  // Request bytes buffered toward the upstream crossed the high / low watermark.
  virtual void onUpstreamAboveWriteHighWatermark() = 0;
  virtual void onUpstreamBelowWriteLowWatermark() = 0;
  virtual http::StreamInfo& streamInfo() = 0;
};

class UpstreamRequest : public Deletable {
 public:
  // The head belongs to the stream, which keeps it, unchanged, until the request is destroyed;
  // hop-by-hop fields are already gone. end_stream: no body follows.
  virtual void sendHeaders(const http::RequestHead& head, bool end_stream) = 0;
  // Drains `data`.
  virtual void sendData(evbuffer* data, bool end_stream) = 0;
  // Ends the request with a trailer section (after sendData without end_stream). The default
  // ends the body and drops them (an upstream protocol without request trailers).
  virtual void sendTrailers(const http::HeaderMap& trailers) {
    evbuffer* empty = evbuffer_new();
    sendData(empty, true);
    evbuffer_free(empty);
  }
  // Backpressure from the downstream: stop (true) / resume (false) reading the response.
  virtual void readDisable(bool disable) = 0;
  // Abandons the request; the connection is recycled only if it is clean.
  virtual void cancel() = 0;
};
using UpstreamRequestPtr = std::unique_ptr<UpstreamRequest>;

class Upstream {
 public:
  virtual ~Upstream() = default;
  virtual UpstreamRequestPtr newRequest(UpstreamCallbacks& callbacks) = 0;
  // The request head must carry the body's length (FastCGI / uwsgi CONTENT_LENGTH): a body of
  // unknown length is spooled by the stream until its end first.
  virtual bool needsContentLength() const { return false; }
};
using UpstreamPtr = std::unique_ptr<Upstream>;

}  // namespace gw::upstream
