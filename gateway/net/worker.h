#pragma once
// A worker thread: one libevent event_base, its own SO_REUSEPORT listening sockets, its
// connections and its upstream pools (nghttpx Worker / Seastar shard model). Shares only the
// immutable config snapshot and the access log with other workers.
#include <event2/listener.h>

#include <atomic>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "filters/access_log.h"
#include "http/codec.h"
#include "http1/server_connection.h"
#include "http2/server_connection.h"
#include "net/preface_sniffer.h"
#include "tls/server_context.h"
#include "net/worker_context.h"

namespace gw::net {

// A bound, listening socket for one listener and one worker.
struct ListenSocket {
  evutil_socket_t fd = -1;
  uint16_t port = 0;
};

class Worker : public http::ServerConnectionCallbacks, public http::ConnectionOwner {
 public:
  Worker(int id, config::ConfigConstSharedPtr config, std::vector<ListenSocket> sockets,
         filters::AccessLogSharedPtr access_log, http::FilterFactoryList filters);
  ~Worker() override;

  // TLS contexts, index = config listener index (null: cleartext listener). Call before start();
  // they are shared read-only with other workers and must outlive this worker.
  void setTls(std::vector<tls::ServerContextConstSharedPtr> tls) { tls_ = std::move(tls); }

  void start();
  // Thread-safe. Graceful: stop accepting, finish in-flight requests, close within the shutdown
  // timeout. With force, close everything now.
  void stop(bool force);
  void join();

  // http::ServerConnectionCallbacks
  http::RequestDecoderPtr newStream(http::ResponseEncoder& encoder, const http::ConnectionInfo& conn) override;
  void onProtocolError(const http::StreamInfo& info) override;
  // http::ConnectionOwner
  void onConnectionClosed(http::DownstreamConnection& conn) override;

 private:
  void run();
  void onAccept(evutil_socket_t fd, const sockaddr* addr, int len, size_t listener);
  // The connection's protocol is known: its codec takes over `bev` (and replaces whatever object
  // held the connection until now under the same id).
  void startCodec(TransportPtr io, const http::ConnectionInfo& info, AppProtocol proto);
  void onStop();
  void closeAll();
  void maybeExit();

  int id_;
  config::ConfigConstSharedPtr config_;
  std::vector<ListenSocket> sockets_;
  http1::ServerSettings server_settings_;
  http2::ServerSettings h2_settings_;
  event_base* base_ = nullptr;
  std::unique_ptr<Dispatcher> dispatcher_;
  WorkerContext ctx_;
  std::vector<evconnlistener*> listeners_;  // index = config listener index
  std::vector<tls::ServerContextConstSharedPtr> tls_;  // index = config listener index
  std::unordered_map<uint64_t, std::unique_ptr<http::DownstreamConnection>> conns_;
  std::unique_ptr<Waker> stop_waker_;  // main thread → this worker
  std::unique_ptr<Timer> shutdown_timer_;
  std::atomic<int> stop_mode_{0};  // 0 running, 1 graceful, 2 force
  bool draining_ = false;
  bool accept_paused_ = false;
  std::thread thread_;
};

// Binds one socket per (listener, worker) with SO_REUSEPORT. Port 0 is resolved once, so every
// worker shares the port the OS chose. Returns sockets[listener][worker], or an error message.
std::vector<std::vector<ListenSocket>> bindListeners(const config::Config& cfg, int workers, std::string* error);

}  // namespace gw::net
