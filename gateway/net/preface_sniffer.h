#pragma once
// Tells HTTP/1.1 from HTTP/2 with prior knowledge (h2c) on a cleartext listener by the first
// bytes the client sends (RFC 9113 §3.3): the connection preface "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
// means HTTP/2; anything that departs from it means HTTP/1.x. Usually decided by the first read
// (an HTTP/1.1 request line departs from "PRI " within four bytes). The bytes read stay in the
// bufferevent's input for the codec that takes over.
//
// Threading: one worker. Lifetime: owned by the worker as a connection until it hands the
// bufferevent over (onDecided) or closes (owner.onConnectionClosed).
#include <event2/bufferevent.h>

#include <functional>

#include "core/dispatcher.h"
#include "http/codec.h"

namespace gw::net {

enum class AppProtocol { Http1, Http2 };

class PrefaceSniffer : public http::DownstreamConnection {
 public:
  // Called once with the bufferevent (ownership passes) and the protocol.
  using Decided = std::function<void(PrefaceSniffer& self, bufferevent* bev, AppProtocol proto)>;

  PrefaceSniffer(Dispatcher& dispatcher, bufferevent* bev, uint64_t id, Millis timeout, Decided decided,
                 http::ConnectionOwner& owner);
  ~PrefaceSniffer() override;

  uint64_t id() const override { return id_; }
  void startDrain() override { close(); }  // nothing was asked yet

  // The comparison, exposed for tests: 1 = HTTP/2 preface complete, 0 = need more, -1 = HTTP/1.
  static int classify(const char* data, size_t len);

 private:
  void onRead();
  void close();

  bufferevent* bev_;
  uint64_t id_;
  Timer timer_;
  Decided decided_;
  http::ConnectionOwner& owner_;
};

}  // namespace gw::net
