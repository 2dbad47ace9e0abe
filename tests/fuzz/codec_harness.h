#pragma once
// Shared scaffolding of the downstream codec fuzzers (http1_request, http2_frames): the input is
// written into one end of a socketpair whose other end a real codec reads through a socket
// bufferevent on a real event loop; the codec's answers are read and discarded.
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <memory>

#include "core/dispatcher.h"
#include "core/log.h"
#include "http/codec.h"

namespace gwfuzz {

inline void initOnce() {
  static const bool init = [] {
    std::signal(SIGPIPE, SIG_IGN);
    gw::setLogLevel(gw::LogLevel::Error);
    return true;
  }();
  (void)init;
}

// Both ends non-blocking, with buffers big enough for one input (callers cap it at 60,000).
inline bool openPair(int sv[2]) {
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) return false;
  int big = 1 << 20;
  setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
  setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
  return true;
}

inline gw::http::ConnectionInfo connectionInfo() {
  gw::http::ConnectionInfo info;
  info.id = 1;
  info.peer = *gw::SocketAddress::parseNumeric("127.0.0.1:1");
  info.peer_ip = "127.0.0.1";
  return info;
}

// Owns the codec under test (Conn) and gives it a Stream per request.
template <class Conn, class Stream>
class Harness : public gw::http::ServerConnectionCallbacks, public gw::http::ConnectionOwner {
 public:
  explicit Harness(gw::Dispatcher& d) : d_(d) {}
  gw::http::RequestDecoderPtr newStream(gw::http::ResponseEncoder& enc, const gw::http::ConnectionInfo&) override {
    return std::make_unique<Stream>(enc);
  }
  void onProtocolError(const gw::http::StreamInfo&) override {}
  void onConnectionClosed(gw::http::DownstreamConnection&) override { d_.deferredDelete(std::move(conn)); }
  std::unique_ptr<Conn> conn;

 private:
  gw::Dispatcher& d_;
};

// Half-closes the client end, then runs the loop a bounded number of passes, draining answers.
inline void pump(event_base* base, int client_fd) {
  shutdown(client_fd, SHUT_WR);
  char sink[65536];
  for (int i = 0; i < 16; ++i) {
    event_base_loop(base, EVLOOP_NONBLOCK);
    while (read(client_fd, sink, sizeof(sink)) > 0) {
    }
  }
}

}  // namespace gwfuzz
