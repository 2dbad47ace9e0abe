#pragma once
// The first moments of a connection on a TLS listener, until a codec can take over:
//  1. Wait (up to timeouts.client_header) for the first byte and peek at it (MSG_PEEK, nothing
//     consumed). A TLS handshake record starts with 0x16. Anything else is a client speaking
//     plain HTTP (or garbage) to a TLS port: it gets an HTTP/1.1 400 problem+json saying to use
//     https, an access-log line and an error-log line, then a lingering close.
//  2. Run the server handshake in a tls::TlsTransport (SNI, ALPN, client certificate: see
//     tls/server_context.h), within the same timeout.
//  3. On success, hand the transport (ownership passes) to `Done` with the connection facts
//     (tls = true, the verified client subject) and the protocol ALPN chose.
// Handshake failures are counted (tls_handshake_error / tls_handshake_timeout) and logged at
// info; nothing here throws or blocks.
//
// Threading: one worker. Lifetime: owned by the worker as a connection until Done hands the
// transport over (the worker then replaces this object), or until it closes itself
// (owner.onConnectionClosed).
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include <functional>

#include "core/dispatcher.h"
#include "http/codec.h"
#include "net/preface_sniffer.h"
#include "tls/server_context.h"
#include "tls/tls_transport.h"

namespace gw::net {

class TlsHandshake : public http::DownstreamConnection {
 public:
  using Done = std::function<void(TlsHandshake& self, TransportPtr io, const http::ConnectionInfo& info, AppProtocol proto)>;

  // Takes ownership of `fd` (a connected, non-blocking socket). `ctx` must outlive this object.
  TlsHandshake(Dispatcher& dispatcher, evutil_socket_t fd, const http::ConnectionInfo& info,
               const tls::ServerContext& ctx, Millis timeout, Done done, http::ServerConnectionCallbacks& callbacks,
               http::ConnectionOwner& owner);
  ~TlsHandshake() override;

  uint64_t id() const override { return info_.id; }
  void startDrain() override { close(); }  // nothing was asked yet

  // The 400 answer sent to plain HTTP, exposed for tests.
  static std::string plainHttpAnswer();

  // C trampolines only.
  void onPeek();
  void onPlainEvent(short what);
  void onPlainWritten();
  void onPlainRead();

 private:
  enum class Phase { Peek, Handshake, PlainReply, Linger, Closed };
  void startHandshake();
  void onHandshakeDone(bool ok);
  void answerPlainHttp();
  void handover();
  void onTimeout();
  void close();

  Dispatcher& dispatcher_;
  evutil_socket_t fd_;  // owned until the TLS transport or the plain-reply bufferevent takes it
  http::ConnectionInfo info_;
  const tls::ServerContext& ctx_;
  Done done_;
  http::ServerConnectionCallbacks& callbacks_;
  http::ConnectionOwner& owner_;
  Phase phase_ = Phase::Peek;
  event peek_ev_;
  bool peek_added_ = false;
  std::unique_ptr<tls::TlsTransport> tls_;
  bufferevent* bev_ = nullptr;  // the plain-HTTP answer
  Timer timer_;
};

}  // namespace gw::net
