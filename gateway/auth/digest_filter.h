#pragma once
// DigestAuthFilter: HTTP Digest authentication (RFC 7616) for routes with an `auth` section.
// Runs after the router (it needs StreamInfo::route) and before the upstream is chosen.
//  - no/invalid credentials: 401 problem+json with one WWW-Authenticate challenge per offered
//    algorithm, strongest first (qop="auth", charset=UTF-8, userhash=true; stale=true when only
//    the nonce had expired);
//  - a valid user outside the route's `users`: 403; a uri parameter unlike the request target: 400;
//  - too many failures from one client address: 429 with Retry-After;
//  - success: the user goes upstream in `digest.user_header` (a client-sent copy is always removed,
//    on every route), Authorization is removed unless the route forwards it, and optionally
//    Authentication-Info (rspauth, nextnonce) is added to the response.
//  - qop=auth-int (when the route enables it): the body is read (up to auth_int_max_body, else
//    413), hashed as it arrives, and only then is the request let through or refused;
//  - from max_failures/2 failures on, each further 401 is delayed (failure_delay more each time,
//    at most 2 s) before the 429 block starts.
// State shared between workers (replay table, throttle, credential tables) lives in one
// DigestRuntime per Config, built with the filter chain.
#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "auth/credentials.h"
#include "auth/digest.h"
#include "auth/nonce.h"
#include "auth/throttle.h"
#include "config/config.h"
#include "http/filter.h"

namespace gw::auth {

// Process-wide Digest counters (relaxed atomics, statistics only), like core/counters.h.
struct DigestCounters {
  std::atomic<uint64_t> challenged{0};   // 401 without credentials
  std::atomic<uint64_t> success{0};
  std::atomic<uint64_t> failure{0};      // wrong credentials, bad header, tampered nonce, wrong uri
  std::atomic<uint64_t> stale{0};
  std::atomic<uint64_t> replay{0};
  std::atomic<uint64_t> forbidden{0};
  std::atomic<uint64_t> throttled{0};    // 429 answers
  std::atomic<uint64_t> blocks{0};       // addresses that started a block
  std::atomic<uint64_t> delayed{0};      // 401 answers held back (failure_delay)
};
DigestCounters& digestCounters();
// "digest_<name> value\n" lines, logged with the core counters.
std::string digestCountersText();

struct RouteDigest {
  std::string realm;
  std::vector<Algorithm> algorithms;  // strongest first
  std::unordered_set<std::string> users;
  std::shared_ptr<CredentialStore> store;  // null: the file could not be loaded (fail closed, 503)
  bool forward_authorization = false;
  bool authentication_info = false;
  bool auth_int = false;
  uint64_t auth_int_max_body = 0;
};

class DigestRuntime {
 public:
  // Built once per config with the filter chain (net::buildFilterChain) and shared by every
  // worker: nonces, replay table and throttle are process-wide. Keeps `cfg` alive (routes_
  // points into cfg->routes).
  explicit DigestRuntime(config::ConfigConstSharedPtr cfg);
  // nullptr when the route has no auth.
  const RouteDigest* forRoute(const config::Route* route) const;
  bool any() const { return !routes_.empty(); }

  NonceCodec nonces;
  ReplayTable replay;
  Throttle throttle;
  std::string user_header;
  uint32_t delay_after;  // failures in the window before answers are delayed
  Millis failure_delay;

 private:
  config::ConfigConstSharedPtr cfg_;
  std::unordered_map<const config::Route*, RouteDigest> routes_;
};

class DigestAuthFilter : public http::StreamFilter {
 public:
  explicit DigestAuthFilter(std::shared_ptr<DigestRuntime> rt) : rt_(std::move(rt)) {}
  http::FilterStatus onRequestHeaders(http::RequestHead& head, bool end_stream) override;
  http::FilterStatus onRequestBody(evbuffer* chunk, bool end_stream) override;
  http::FilterStatus onResponseHeaders(http::ResponseHead& head, bool end_stream) override;

 private:
  // A request whose credentials parsed and whose nonce verified, waiting for the response check.
  struct Attempt {
    const RouteDigest* rd = nullptr;
    DigestCredentials creds;
    Algorithm alg;
    std::string user;        // resolved from userhash; empty if unknown
    const std::string* ha1;  // null if the user is unknown (points into `table`)
    std::shared_ptr<const CredentialTable> table;
    NonceCodec::Verified nonce;
    http::RequestHead* head = nullptr;
    std::unique_ptr<BodyHasher> body;  // auth-int
    uint64_t body_bytes = 0;
  };
  http::FilterStatus verify(Attempt& a, std::string_view body_hash);
  http::FilterStatus challenge(const RouteDigest& rd, int status, std::string_view code, std::string_view detail,
                               bool stale, Millis delay = Millis(0));
  http::FilterStatus fail(const RouteDigest& rd, std::string_view code, std::string_view detail);
  std::shared_ptr<DigestRuntime> rt_;
  std::string auth_info_;            // Authentication-Info value to add on success
  std::unique_ptr<Attempt> pending_;  // auth-int: waiting for the body
  std::unique_ptr<Timer> delay_;      // a delayed 401
};

}  // namespace gw::auth
