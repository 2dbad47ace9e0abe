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
  X(upstream_rq_bad_response)                                                     \
  X(http2_cx_total)           /* HTTP/2 connections (h2c and h2) */               \
  X(http2_rst_sent)           /* RST_STREAM sent with an error code */            \
  X(http2_goaway_sent)        /* GOAWAY frames sent with an error code */         \
  X(http2_glitch_close)       /* connections closed past max_glitches */          \
  X(http2_limit_streams)      /* streams refused: max_concurrent_streams */       \
  X(http2_limit_header_list)  /* 431: max_header_list_bytes / max_header_fields */ \
  X(http2_limit_flood)        /* PING/SETTINGS ACK flood (max_outbound_acks) */   \
  X(http2_limit_continuations)/* CONTINUATION flood (max_continuations) */        \
  X(http2_limit_settings)     /* too many SETTINGS entries (max_settings) */      \
  X(http2_limit_reset_rate)   /* Rapid Reset: stream reset rate limit */          \
  X(http2_idle_timeout)       /* closed after http2.idle_timeout */               \
  X(http2_stall_timeout)      /* response blocked by a closed window or slow read */ \
  X(tls_handshake)            /* TLS handshakes completed */                       \
  X(tls_handshake_error)      /* failed or abandoned TLS handshakes */             \
  X(tls_handshake_timeout)    /* no handshake within client_header */              \
  X(tls_session_reused)       /* resumed sessions (ticket or cache) */             \
  X(tls_client_cert_rejected) /* mTLS: client certificate did not verify */        \
  X(tls_plain_http)           /* plain HTTP sent to a TLS port (answered 400) */

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
