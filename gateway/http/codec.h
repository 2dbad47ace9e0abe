#pragma once
// The seam between protocol codecs and the protocol-neutral stream (h2o's generator/ostream
// split): a codec turns bytes into RequestDecoder calls and implements ResponseEncoder for each
// stream it created. Codecs know nothing about filters or upstreams.
#include <event2/buffer.h>

#include <memory>
#include <string_view>

#include "core/dispatcher.h"
#include "http/message.h"
#include "http/stream_info.h"

namespace gw::http {

// Downstream side of one stream, implemented by the codec. Valid until the stream is destroyed.
class ResponseEncoder {
 public:
  virtual ~ResponseEncoder() = default;
  virtual void encode100Continue() = 0;
  // May take head's fields (HTTP/2 keeps them, instead of a copy, until they are sent).
  virtual void encodeHeaders(ResponseHead& head, bool end_stream) = 0;
  // Moves all of `data` out (no copy). `end_stream` completes the response.
  virtual void encodeData(evbuffer* data, bool end_stream) = 0;
  // Ends the response with a trailer section (after encodeHeaders / encodeData without
  // end_stream). A codec that cannot carry them (HTTP/1.1 without chunked) ends the body and
  // drops them; this default does exactly that.
  virtual void encodeTrailers(const HeaderMap& trailers) {
    evbuffer* empty = evbuffer_new();
    encodeData(empty, true);
    evbuffer_free(empty);
  }
  // Backpressure toward the client: stop (true) / resume (false) delivering request body.
  virtual void readDisable(bool disable) = 0;
  // Aborts the response mid-way (the client must see a truncated message, never a complete one).
  virtual void resetStream() = 0;
  // Asks the codec to close the connection once this response is done.
  virtual void closeAfterResponse() = 0;
};

// Implemented by the stream. The codec calls it in order: decodeHeaders, decodeData*.
class RequestDecoder : public Deletable {
 public:
  virtual void decodeHeaders(RequestHeadPtr head, bool end_stream) = 0;
  // `data` is drained by the callee (moved on or buffered).
  virtual void decodeData(evbuffer* data, bool end_stream) = 0;
  // Ends the request with a trailer section (HTTP/2; HTTP/1.1 request trailers are dropped).
  // The default ends the body and drops them.
  virtual void decodeTrailers(HeaderMap&& trailers) {
    evbuffer* empty = evbuffer_new();
    decodeData(empty, true);
    evbuffer_free(empty);
  }
  // The downstream went away or broke the protocol mid-stream: abort everything, send nothing.
  virtual void onResetStream() = 0;
  // The encoder's output buffer crossed its high / low watermark.
  virtual void onAboveWriteHighWatermark() = 0;
  virtual void onBelowWriteLowWatermark() = 0;
  virtual StreamInfo& streamInfo() = 0;
};
using RequestDecoderPtr = std::unique_ptr<RequestDecoder>;

// Facts about the downstream connection a stream arrived on.
struct ConnectionInfo {
  uint64_t id = 0;
  SocketAddress peer;
  std::string peer_ip;  // peer.ip(), formatted once per connection
  uint16_t local_port = 0;
  bool tls = false;
  // mTLS (gateway/tls): the verified client-certificate subject (RFC 2253; empty if none) and the
  // header that carries it upstream (points into the listener's TLS context, which outlives every
  // connection; null when the listener does not ask for client certificates).
  std::string tls_subject;
  const std::string* tls_subject_header = nullptr;
};

// A stream's facts about its connection (the client address starts as the TCP peer; the
// forwarded filter may replace it).
inline StreamInfo streamInfoFor(const ConnectionInfo& c, const char* protocol) {
  StreamInfo si;
  si.peer = c.peer;
  si.peer_ip = c.peer_ip;
  si.client_address = c.peer_ip;
  si.local_port = c.local_port;
  si.tls = c.tls;
  si.tls_subject = c.tls_subject;
  si.tls_subject_header = c.tls_subject_header;
  si.protocol = protocol;
  return si;
}

// One downstream connection, whatever its protocol (HTTP/1.1 or HTTP/2, cleartext or TLS), as its
// owner (the worker) sees it.
class DownstreamConnection : public Deletable {
 public:
  virtual uint64_t id() const = 0;
  // Graceful shutdown: stop taking new requests, finish those in flight, then close.
  virtual void startDrain() = 0;
};

class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  // The connection closed itself; the owner deletes it from the event loop (never inside its
  // own callbacks).
  virtual void onConnectionClosed(DownstreamConnection& conn) = 0;
};

class ServerConnectionCallbacks {
 public:
  virtual ~ServerConnectionCallbacks() = default;
  virtual RequestDecoderPtr newStream(ResponseEncoder& encoder, const ConnectionInfo& conn) = 0;
  // A request refused by the codec before a stream existed (malformed head): for the access log.
  virtual void onProtocolError(const StreamInfo& info) = 0;
};

}  // namespace gw::http
