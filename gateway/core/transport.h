#pragma once
// A connection's byte stream, as the HTTP codecs and the upstream connections see it: plaintext
// input and output evbuffers over either a plain socket (read and written by us,
// core/transport.cc; downstream and upstream) or TLS (tls/tls_transport.h, downstream: OpenSSL
// driven by us over the fd, because libevent's OpenSSL bufferevent writes one TLS record per
// evbuffer chain on a later loop turn).
//
// The contract, the same for both:
//  - Input: bytes arrive in input() and onTransportRead() is called; reading from the socket
//    stops while input() holds read_high bytes or more (0 = no bound) or while reading is
//    disabled, and resumes by itself once the codec drains input() or enables reading again.
//  - Output: the codec appends to output() and calls flush(), which writes what it can now.
//    flush() returns true when nothing is left (pending() == 0); otherwise the transport
//    continues on its own when the socket is writable and calls onTransportWritten() each time
//    pending() has fallen to write_low or less. pending() counts every byte not yet handed to
//    the kernel (for TLS: plaintext not yet encrypted plus encrypted records not yet written),
//    so it is what backpressure decisions look at.
//  - Events: onTransportEvent(BEV_EVENT_EOF | BEV_EVENT_READING) when the peer closed,
//    BEV_EVENT_ERROR (errno still set, for logDownstreamSocketError), BEV_EVENT_TIMEOUT |
//    BEV_EVENT_WRITING when output stayed pending for send_timeout without progress. Events are
//    reported from event callbacks, never from inside flush() or enableRead().
// Threading: one worker. Never throws, never blocks.
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <sys/socket.h>

#include <cstddef>
#include <memory>

#include "core/dispatcher.h"
#include "core/util.h"

namespace gw {

// Deletable: a codec closing from inside a transport callback hands it to deferredDelete.
class Transport : public Deletable {
 public:
  class Callbacks {
   public:
    virtual void onTransportRead() = 0;
    virtual void onTransportWritten() = 0;
    virtual void onTransportEvent(short what) = 0;

   protected:
    ~Callbacks() = default;
  };

  struct Limits {
    size_t read_high = 0;
    size_t write_low = 0;
    Millis send_timeout{0};
  };

  // nullptr detaches: no more callbacks, no more socket events (before a deferred delete).
  virtual void setCallbacks(Callbacks* cb) = 0;
  virtual void setLimits(const Limits& limits) = 0;
  virtual void enableRead(bool enable) = 0;

  virtual evbuffer* input() = 0;
  virtual evbuffer* output() = 0;
  virtual bool flush() = 0;
  virtual size_t pending() const = 0;

  // A body is streaming in: fetch up to `limit` bytes of input now if the socket has them
  // (saves a loop turn per 4 KiB on plain sockets; TLS already reads in large pieces).
  virtual void topUpInput(size_t /*limit*/) {}

  // Half-close once pending() is 0 (TLS: close_notify first), for a lingering close.
  virtual void shutdownWrite() = 0;
};

using TransportPtr = std::unique_ptr<Transport>;

// A plain socket (connected, non-blocking; owned from here on). `initial`, if given, is moved
// into the input first (bytes read while choosing the protocol).
TransportPtr newSocketTransport(Dispatcher& d, evutil_socket_t fd, evbuffer* initial = nullptr);
// Takes over the socket of `bev` (and the input it holds) and frees `bev`.
TransportPtr newSocketTransport(Dispatcher& d, bufferevent* bev);
// Connects a new non-blocking socket to `sa`, with these callbacks and limits and reading
// enabled. The outcome is onTransportEvent(BEV_EVENT_CONNECTED) or BEV_EVENT_ERROR (errno set),
// always from the loop, also when no socket could be created; output queued meanwhile goes out
// once connected.
TransportPtr connectSocketTransport(Dispatcher& d, const sockaddr* sa, socklen_t len, Transport::Callbacks& cb,
                                    const Transport::Limits& limits);
// Detaches `t` (no more callbacks) and deletes it from the loop: safe from inside one of its
// own callbacks.
void closeTransport(Dispatcher& d, TransportPtr t);

}  // namespace gw
