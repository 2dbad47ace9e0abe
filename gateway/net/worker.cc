#include "net/worker.h"

#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/counters.h"
#include "core/log.h"
#include "net/active_stream.h"
#include "net/tls_handshake.h"
#include "upstream/factory.h"

namespace gw::net {

namespace {
std::atomic<uint64_t> g_next_conn_id{1};
}

std::vector<std::vector<ListenSocket>> bindListeners(const config::Config& cfg, int workers, std::string* error) {
  std::vector<std::vector<ListenSocket>> out;
  for (const auto& l : cfg.listeners) {
    auto addr = SocketAddress::parseIp(l.address);
    if (!addr) {
      *error = "listener " + l.name + ": bad address " + l.address;
      return {};
    }
    uint16_t port = l.port;
    std::vector<ListenSocket> per_worker;
    for (int w = 0; w < workers; ++w) {
      SocketAddress a = *addr;
      if (a.family() == AF_INET) reinterpret_cast<sockaddr_in*>(&a.storage)->sin_port = htons(port);
      else reinterpret_cast<sockaddr_in6*>(&a.storage)->sin6_port = htons(port);
      evutil_socket_t fd = socket(a.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
      if (a.family() == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
      if (bind(fd, a.sa(), a.len) != 0 || listen(fd, l.backlog) != 0) {
        *error = "listener " + l.name + ": cannot listen on " + a.str() + ": " + strerror(errno);
        close(fd);
        for (auto& v : out) for (auto& s : v) close(s.fd);
        for (auto& s : per_worker) close(s.fd);
        return {};
      }
      if (port == 0) {
        sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
        port = SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len).port();
      }
      per_worker.push_back({fd, port});
    }
    out.push_back(std::move(per_worker));
  }
  return out;
}

Worker::Worker(int id, config::ConfigConstSharedPtr config, std::vector<ListenSocket> sockets,
               filters::AccessLogSharedPtr access_log, http::FilterFactoryList filters)
    : id_(id), config_(std::move(config)), sockets_(std::move(sockets)) {
  server_settings_.limits = config_->limits;
  server_settings_.timeouts = config_->timeouts;
  h2_settings_.limits = config_->limits;
  h2_settings_.timeouts = config_->timeouts;
  h2_settings_.http2 = config_->http2;
  base_ = event_base_new();
  dispatcher_ = std::make_unique<Dispatcher>(base_);
  ctx_.dispatcher = dispatcher_.get();
  ctx_.config = config_;
  ctx_.access_log = access_log;
  ctx_.filter_factories = std::move(filters);
  for (const auto& u : config_->upstreams) {
    ctx_.upstreams.push_back(upstream::createUpstream(*dispatcher_, *config_, u));
  }
  stop_waker_ = std::make_unique<Waker>(base_, [this] { onStop(); });
  shutdown_timer_ = std::make_unique<Timer>(*dispatcher_, [this] {
    GW_LOG(Warn, "shutdown timeout: closing %zu connections with requests in flight", conns_.size());
    closeAll();
    maybeExit();
  });
  for (const auto& s : sockets_) {
    evconnlistener* l = evconnlistener_new(
        base_,
        [](evconnlistener* lst, evutil_socket_t fd, sockaddr* addr, int len, void* arg) {
          auto* self = static_cast<Worker*>(arg);
          for (size_t i = 0; i < self->listeners_.size(); ++i) {
            if (self->listeners_[i] == lst) return self->onAccept(fd, addr, len, i);
          }
          evutil_closesocket(fd);
        },
        this, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, s.fd);
    listeners_.push_back(l);
  }
}

Worker::~Worker() {
  closeAll();
  dispatcher_->clearDeferred();
  for (auto* l : listeners_) evconnlistener_free(l);
  listeners_.clear();
  ctx_.upstreams.clear();
  dispatcher_->clearDeferred();
  shutdown_timer_.reset();
  stop_waker_.reset();
  dispatcher_.reset();
  event_base_free(base_);
}

void Worker::start() { thread_ = std::thread([this] { run(); }); }

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::run() {
  setLogWorker(id_);
  event_base_dispatch(base_);
  closeAll();
  dispatcher_->clearDeferred();
}

void Worker::stop(bool force) {
  stop_mode_.store(force ? 2 : 1);
  stop_waker_->wake();
}

void Worker::onStop() {
  if (!draining_) {
    draining_ = true;
    for (auto* l : listeners_) evconnlistener_free(l);
    listeners_.clear();
    GW_LOG(Info, "draining %zu connections", conns_.size());
    std::vector<http::DownstreamConnection*> all;
    for (auto& [id, c] : conns_) all.push_back(c.get());
    for (auto* c : all) c->startDrain();
    shutdown_timer_->enable(config_->timeouts.shutdown);
  }
  if (stop_mode_.load() == 2) closeAll();
  maybeExit();
}

void Worker::closeAll() {
  auto conns = std::move(conns_);
  conns_.clear();
  for (size_t i = 0; i < conns.size(); ++i) GW_DEC(downstream_cx_active);
  conns.clear();  // destructors reset their streams
}

void Worker::maybeExit() {
  if (draining_ && conns_.empty()) event_base_loopexit(base_, nullptr);
}

void Worker::onAccept(evutil_socket_t fd, const sockaddr* addr, int len, size_t listener) {
  GW_INC(downstream_cx_total);
  if (conns_.size() >= config_->limits.max_connections) {
    GW_INC(downstream_cx_overflow);
    GW_LOG(Warn, "max_connections (%zu) reached: refusing a connection", config_->limits.max_connections);
    evutil_closesocket(fd);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  evutil_make_socket_nonblocking(fd);
  http::ConnectionInfo info;
  info.id = g_next_conn_id.fetch_add(1);
  info.peer = SocketAddress::fromSockaddr(addr, static_cast<socklen_t>(len));
  info.peer_ip = info.peer.ip();
  info.local_port = sockets_[listener].port;
  GW_INC(downstream_cx_active);
  if (listener < tls_.size() && tls_[listener]) {
    // TLS: peek at the first byte (plain HTTP gets a 400), handshake, then ALPN picks the codec.
    auto hs = std::make_unique<TlsHandshake>(
        *dispatcher_, fd, info, *tls_[listener], config_->timeouts.client_header,
        [this](TlsHandshake&, TransportPtr io, const http::ConnectionInfo& i, AppProtocol proto) {
          startCodec(std::move(io), i, proto);
        },
        *this, *this);
    conns_.emplace(info.id, std::move(hs));
    return;
  }
  bufferevent* bev = bufferevent_socket_new(base_, fd, BEV_OPT_CLOSE_ON_FREE);
  // Cleartext: HTTP/1.1 and h2c with prior knowledge share the port; the first bytes tell.
  auto sniffer = std::make_unique<PrefaceSniffer>(
      *dispatcher_, bev, info.id, config_->timeouts.client_header,
      [this, info](PrefaceSniffer&, bufferevent* b, AppProtocol proto) {
        startCodec(newSocketTransport(*dispatcher_, b), info, proto);
      },
      *this);
  conns_.emplace(info.id, std::move(sniffer));
}

void Worker::startCodec(TransportPtr io, const http::ConnectionInfo& info, AppProtocol proto) {
  std::unique_ptr<http::DownstreamConnection> codec;
  switch (proto) {
    case AppProtocol::Http2:
      if (config_->http2.enabled) {
        codec = std::make_unique<http2::ServerConnection>(*dispatcher_, std::move(io), info, h2_settings_, *this, *this);
        break;
      }
      [[fallthrough]];  // HTTP/2 off: HTTP/1.1 answers the preface (400)
    case AppProtocol::Http1:
      codec = std::make_unique<http1::ServerConnection>(*dispatcher_, std::move(io), info, server_settings_, *this, *this);
      break;
  }
  auto it = conns_.find(info.id);
  if (it != conns_.end()) {
    dispatcher_->deferredDelete(std::move(it->second));  // the object that held it until now
    it->second = std::move(codec);
  } else {
    conns_.emplace(info.id, std::move(codec));
  }
}

http::RequestDecoderPtr Worker::newStream(http::ResponseEncoder& encoder, const http::ConnectionInfo& conn) {
  return std::make_unique<ActiveStream>(ctx_, encoder, conn);
}

void Worker::onProtocolError(const http::StreamInfo& info) {
  ctx_.access_log->log(info);
  int cls = info.status / 100;
  if (cls == 4) GW_INC(downstream_rq_4xx);
  if (cls == 5) GW_INC(downstream_rq_5xx);
}

void Worker::onConnectionClosed(http::DownstreamConnection& conn) {
  auto it = conns_.find(conn.id());
  if (it == conns_.end()) return;
  GW_DEC(downstream_cx_active);
  dispatcher_->deferredDelete(std::move(it->second));
  conns_.erase(it);
  maybeExit();
}

}  // namespace gw::net
