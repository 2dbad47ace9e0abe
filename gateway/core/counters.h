#pragma once
// Process-wide counters, declared once through an X-macro (Envoy ALL_*_STATS style).
// Relaxed atomics: counters are statistics, never used for synchronisation.
#include <atomic>
#include <cstdint>
#include <string>

namespace gw {

#define GW_ALL_COUNTERS(X)                                                        \
  X(downstream_cx_total)      /* accepted client connections */                   \
  X(downstream_cx_active)     /* gauge: open client connections */                \
  X(downstream_cx_reset)      /* client resets (EPIPE/ECONNRESET), not errors */  \
  X(downstream_cx_timeout)    /* idle / header / body / send timeouts */          \
  X(downstream_cx_overflow)   /* refused: max_connections reached */              \
  X(downstream_rq_total)      /* requests whose head was parsed */                \
  X(downstream_rq_local_reply)/* answered by the gateway itself */                \
  X(downstream_rq_protocol_error) /* malformed requests (4xx/5xx before routing) */ \
  X(downstream_rq_2xx) X(downstream_rq_3xx) X(downstream_rq_4xx) X(downstream_rq_5xx) \
  X(upstream_cx_total)        /* upstream connections opened */                   \
  X(upstream_cx_reused)       /* requests sent on a pooled keep-alive connection */ \
  X(upstream_cx_connect_fail)                                                     \
  X(upstream_cx_connect_timeout)                                                  \
  X(upstream_rq_timeout)      /* response-header or idle timeouts */              \
  X(upstream_rq_retry)                                                            \
  X(upstream_rq_reset)        /* upstream closed mid-request/response */          \
  X(upstream_host_ejected)    /* passive health: server marked down */            \
  X(upstream_rq_bad_response)

struct Counters {
#define GW_DECLARE_COUNTER(name) std::atomic<uint64_t> name{0};
  GW_ALL_COUNTERS(GW_DECLARE_COUNTER)
#undef GW_DECLARE_COUNTER
};

Counters& counters();
// "name value\n" lines, for the admin endpoint and logs at shutdown.
std::string countersText();

#define GW_INC(name) ::gw::counters().name.fetch_add(1, std::memory_order_relaxed)
#define GW_DEC(name) ::gw::counters().name.fetch_sub(1, std::memory_order_relaxed)

}  // namespace gw
