#pragma once
// HTTP/1.1 upstream: several servers, round-robin or least-outstanding-requests balancing,
// per-server keep-alive pools, connect / response-header / idle timeouts, passive health
// (max_fails within a request path ejects a server for fail_timeout), and retries on another
// server when nothing was sent yet, or when the request is idempotent and had no body.
//
// One instance per configured upstream per worker (pools are per worker, like nginx's).
#include <bitset>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/dispatcher.h"
#include "core/transport.h"
#include "upstream/host_set.h"
#include "upstream/upstream.h"

namespace gw::upstream {

class Http1Upstream;

// One server of an upstream, with its idle keep-alive connections.
struct Http1Host : UpstreamHost {
  std::vector<std::unique_ptr<class PooledConnection>> idle;
};

// A connection parked in the pool, watched for close and idle timeout. Kept for the next park
// once its connection is taken (one object per park would be an allocation per request).
class PooledConnection : private Transport::Callbacks {
 public:
  explicit PooledConnection(Http1Upstream& upstream);
  ~PooledConnection();
  void park(Http1Host& host, TransportPtr io);
  TransportPtr release();  // hands the connection back to a request (which sets its callbacks)
  Http1Host& host() { return *host_; }

 private:
  void onTransportRead() override;
  void onTransportWritten() override {}
  void onTransportEvent(short what) override;
  void drop();
  Http1Upstream& upstream_;
  Http1Host* host_ = nullptr;
  TransportPtr io_;
  Timer idle_timer_;
};

class Http1Upstream : public Upstream {
 public:
  Http1Upstream(Dispatcher& dispatcher, const config::Upstream& config, size_t buffer_bytes);
  ~Http1Upstream() override;

  UpstreamRequestPtr newRequest(UpstreamCallbacks& callbacks) override;

  using HostSet = upstream::HostSet;

  // Internal, used by requests and pooled connections.
  Dispatcher& dispatcher() { return dispatcher_; }
  const config::Upstream& config() const { return config_; }
  size_t bufferBytes() const { return buffer_bytes_; }
  // Picks a server, preferring healthy ones not in `tried`.
  Http1Host* pickHost(const HostSet& tried);
  size_t hostIndex(const Http1Host& h) const { return static_cast<size_t>(&h - hosts_.data()); }
  size_t hostCount() const { return hosts_.size(); }
  // A healthy keep-alive connection to `host`, or null.
  TransportPtr takeIdle(Http1Host& host);
  void parkIdle(Http1Host& host, TransportPtr io);
  void removeIdle(PooledConnection* conn);
  void reportFailure(Http1Host& host, const char* why);
  void reportSuccess(Http1Host& host) { reportHostSuccess(host); }

 private:
  Dispatcher& dispatcher_;
  const config::Upstream& config_;
  size_t buffer_bytes_;
  std::vector<Http1Host> hosts_;
  size_t rr_next_ = 0;
  // Taken from the pools, ready for the next park: no more than were ever idle at once.
  std::vector<std::unique_ptr<PooledConnection>> spare_;
};

}  // namespace gw::upstream
