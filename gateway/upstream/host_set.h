#pragma once
// Server selection and passive health shared by every upstream kind (HTTP/1.1 pools, FastCGI and
// uwsgi worker pools): the per-server health state, the balancing walk (round robin or least
// outstanding requests, healthy-and-untried first, Envoy-style panic mode last) and ejection after
// max_fails consecutive failures.
//
// Threading: per worker, like the upstreams that embed it.
#include <bitset>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/address.h"
#include "core/util.h"

namespace gw::upstream {

struct UpstreamHost {
  SocketAddress address;
  std::string name;
  int consecutive_fails = 0;
  Clock::time_point down_until{};
  size_t active_requests = 0;
  bool healthy(Clock::time_point now) const { return down_until <= now; }
};

// Servers already tried by one request, by index (the schema caps servers at 256).
using HostSet = std::bitset<256>;

// Picks a server from `hosts` for which `eligible(host)` holds, preferring healthy ones not in
// `tried`: healthy+untried, then untried, then healthy, then any (trying a server that looks down
// beats refusing everything). Null only when no server is eligible. `rr_next` is the caller's
// round-robin cursor.
template <class Host, class Eligible>
Host* pickHost(std::vector<Host>& hosts, const HostSet& tried, config::Balance balance, size_t& rr_next,
               Eligible&& eligible) {
  const auto now = coarseNow();
  const size_t n = hosts.size();
  if (n == 0) return nullptr;
  for (auto [need_healthy, need_untried] : {std::pair{true, true}, {false, true}, {true, false}, {false, false}}) {
    Host* best = nullptr;
    for (size_t k = 0; k < n; ++k) {
      size_t i = (rr_next + k) % n;
      Host& h = hosts[i];
      if ((need_healthy && !h.healthy(now)) || (need_untried && tried[i]) || !eligible(h)) continue;
      if (balance == config::Balance::RoundRobin) {
        best = &h;
        break;
      }
      if (!best || h.active_requests < best->active_requests) best = &h;
    }
    if (best) {
      rr_next = (static_cast<size_t>(best - hosts.data()) + 1) % n;
      return best;
    }
  }
  return nullptr;
}

// Passive health: counts a failure; at max_fails the server is skipped for fail_timeout.
void reportHostFailure(UpstreamHost& host, const config::Upstream& cfg, const char* why);
inline void reportHostSuccess(UpstreamHost& host) { host.consecutive_fails = 0; }

}  // namespace gw::upstream
