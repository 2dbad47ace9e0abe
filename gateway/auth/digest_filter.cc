#include "auth/digest_filter.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "core/log.h"

namespace gw::auth {
namespace {

int64_t steadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

DigestCounters& digestCounters() {
  static DigestCounters c;
  return c;
}

std::string digestCountersText() {
  const DigestCounters& c = digestCounters();
  std::string out;
  auto line = [&](const char* name, const std::atomic<uint64_t>& v) {
    out += "digest_";
    out += name;
    out += " " + std::to_string(v.load(std::memory_order_relaxed)) + "\n";
  };
  line("challenged", c.challenged);
  line("success", c.success);
  line("failure", c.failure);
  line("stale", c.stale);
  line("replay", c.replay);
  line("forbidden", c.forbidden);
  line("throttled", c.throttled);
  line("blocks", c.blocks);
  line("delayed", c.delayed);
  return out;
}

DigestRuntime::DigestRuntime(config::ConfigConstSharedPtr config)
    : nonces(config->digest.nonce_secret, static_cast<uint64_t>(config->digest.nonce_lifetime.count() / 1000)),
      replay(config->digest.max_tracked_nonces, static_cast<uint64_t>(config->digest.nonce_lifetime.count() / 1000)),
      throttle(config->digest.max_failures, static_cast<uint64_t>(config->digest.failure_window.count() / 1000),
               static_cast<uint64_t>(config->digest.block.count() / 1000), 65536),
      user_header(config->digest.user_header),
      delay_after(std::max<uint32_t>(2, config->digest.max_failures / 2)),
      failure_delay(config->digest.failure_delay),
      cfg_(std::move(config)) {
  const config::Config& cfg = *cfg_;
  std::map<std::string, std::shared_ptr<CredentialStore>> stores;  // one store per file
  for (const auto& r : cfg.routes) {
    if (!r.auth) continue;
    RouteDigest rd;
    rd.realm = r.auth->realm;
    for (const auto& name : r.auth->algorithms) {
      if (auto a = parseAlgorithm(name)) rd.algorithms.push_back(*a);
    }
    std::sort(rd.algorithms.begin(), rd.algorithms.end(),
              [](Algorithm a, Algorithm b) { return algorithmRank(a) < algorithmRank(b); });
    rd.users.insert(r.auth->users.begin(), r.auth->users.end());
    rd.forward_authorization = r.auth->forward_authorization;
    rd.authentication_info = r.auth->authentication_info;
    rd.auth_int = r.auth->auth_int;
    rd.auth_int_max_body = r.auth->auth_int_max_body;
    auto& store = stores[r.auth->credentials];
    if (!store) {
      std::string why;
      store = CredentialStore::open(r.auth->credentials, &why);
      if (!store) GW_LOG(Error, "route %s: digest credentials unusable, the route answers 503: %s", r.name.c_str(), why.c_str());
    }
    rd.store = store;
    routes_.emplace(&r, std::move(rd));
  }
}

const RouteDigest* DigestRuntime::forRoute(const config::Route* route) const {
  if (!route) return nullptr;
  auto it = routes_.find(route);
  return it == routes_.end() ? nullptr : &it->second;
}

http::FilterStatus DigestAuthFilter::challenge(const RouteDigest& rd, int status, std::string_view code,
                                               std::string_view detail, bool stale, Millis delay) {
  http::HeaderMap extra;
  const std::string nonce = rt_->nonces.mint(rd.realm, unixSeconds());
  const char* qop = rd.auth_int ? "qop=\"auth,auth-int\"" : "qop=\"auth\"";
  for (Algorithm a : rd.algorithms) {
    std::string v = "Digest realm=" + quote(rd.realm) + ", " + qop + ", algorithm=" + algorithmName(a) +
                    ", nonce=\"" + nonce + "\", charset=UTF-8, userhash=true";
    if (stale) v += ", stale=true";
    extra.add("WWW-Authenticate", v);
  }
  Dispatcher* d = callbacks().dispatcher();
  if (delay.count() > 0 && d) {
    // Answered from a timer: slows a password guesser down without holding the worker.
    delay_ = std::make_unique<Timer>(*d, [this, status, code = std::string(code), detail = std::string(detail),
                                          extra = std::move(extra)] {
      callbacks().sendLocalReply(status, code, detail, &extra);
    });
    delay_->enable(delay);
    return http::FilterStatus::StopIteration;
  }
  callbacks().sendLocalReply(status, code, detail, &extra);
  return http::FilterStatus::StopIteration;
}

http::FilterStatus DigestAuthFilter::fail(const RouteDigest& rd, std::string_view code, std::string_view detail) {
  digestCounters().failure.fetch_add(1, std::memory_order_relaxed);
  const std::string& client = callbacks().streamInfo().client_address;
  uint32_t failures = 0;
  if (rt_->throttle.recordFailure(client, steadyMs() / 1000, &failures)) {
    digestCounters().blocks.fetch_add(1, std::memory_order_relaxed);
    GW_LOG(Warn, "digest: client %s blocked after repeated authentication failures", client.c_str());
  }
  GW_LOG(Info, "digest: %s from %s: %.*s", callbacks().streamInfo().target.c_str(), client.c_str(),
         static_cast<int>(code.size()), code.data());
  Millis delay(0);
  if (failures >= rt_->delay_after && rt_->failure_delay.count() > 0) {
    digestCounters().delayed.fetch_add(1, std::memory_order_relaxed);
    delay = std::min(Millis(2000), rt_->failure_delay * (failures - rt_->delay_after + 1));
  }
  return challenge(rd, 401, code, detail, false, delay);
}

http::FilterStatus DigestAuthFilter::onRequestHeaders(http::RequestHead& head, bool end_stream) {
  head.headers.remove(rt_->user_header);  // never trust a client-sent identity, on any route
  http::StreamInfo& info = callbacks().streamInfo();
  const RouteDigest* rd = rt_->forRoute(info.route);
  if (!rd) return http::FilterStatus::Continue;
  if (!rd->store) {
    callbacks().sendLocalReply(503, "digest_credentials_unavailable", "authentication is not available");
    return http::FilterStatus::StopIteration;
  }
  const int64_t now_ms = steadyMs();
  if (uint64_t wait = rt_->throttle.blockedFor(info.client_address, now_ms / 1000)) {
    digestCounters().throttled.fetch_add(1, std::memory_order_relaxed);
    http::HeaderMap extra;
    extra.add("Retry-After", std::to_string(wait));
    callbacks().sendLocalReply(429, "digest_throttled", "too many failed authentication attempts", &extra);
    return http::FilterStatus::StopIteration;
  }
  rd->store->maybeReload(now_ms);

  const size_t n = head.headers.count("authorization");
  if (n == 0) {
    digestCounters().challenged.fetch_add(1, std::memory_order_relaxed);
    return challenge(*rd, 401, "digest_auth_required", "authentication required", false);
  }
  if (n > 1) return fail(*rd, "digest_bad_header", "more than one Authorization header");
  ParseResult pr = parseAuthorization(*head.headers.get("authorization"));
  if (!pr.creds) {
    if (pr.error == ParseError::NotDigest) {
      digestCounters().challenged.fetch_add(1, std::memory_order_relaxed);
      return challenge(*rd, 401, "digest_auth_required", "Digest authentication required", false);
    }
    return fail(*rd, "digest_bad_header", parseErrorText(pr.error));
  }
  auto a = std::make_unique<Attempt>();
  a->rd = rd;
  a->creds = std::move(*pr.creds);
  a->head = &head;
  const DigestCredentials& c = a->creds;
  if (c.realm != rd->realm) return fail(*rd, "digest_bad_realm", "wrong realm");
  auto alg = c.algorithm.empty() ? std::optional<Algorithm>(Algorithm{}) : parseAlgorithm(c.algorithm);
  if (!alg || std::find(rd->algorithms.begin(), rd->algorithms.end(), *alg) == rd->algorithms.end()) {
    return fail(*rd, "digest_bad_algorithm", "algorithm not offered");
  }
  a->alg = *alg;
  const bool auth_int = c.qop == "auth-int";
  if (c.qop != "auth" && !(auth_int && rd->auth_int)) {
    return fail(*rd, "digest_bad_qop", rd->auth_int ? "qop=auth or auth-int is required" : "qop=auth is required");
  }
  if (c.uri != info.target) {
    digestCounters().failure.fetch_add(1, std::memory_order_relaxed);
    rt_->throttle.recordFailure(info.client_address, now_ms / 1000);
    callbacks().sendLocalReply(400, "digest_uri_mismatch", "the uri parameter does not match the request target");
    return http::FilterStatus::StopIteration;
  }
  a->nonce = rt_->nonces.verify(rd->realm, c.nonce, unixSeconds());
  if (a->nonce.status == NonceCodec::Status::Invalid) return fail(*rd, "digest_bad_nonce", "invalid nonce");

  a->table = rd->store->table();
  a->user = c.username;
  if (c.userhash) {
    if (const std::string* u = a->table->userForHash(alg->hash, rd->realm, c.username)) a->user = *u;
    else a->user.clear();
  }
  a->ha1 = a->user.empty() ? nullptr : a->table->find(a->user, rd->realm, alg->hash);
  if (!auth_int) return verify(*a, {});
  if (end_stream) return verify(*a, hashHex(alg->hash, ""));
  // auth-int: the body decides. Hash it as it arrives; the stream keeps reading it meanwhile.
  a->body = std::make_unique<BodyHasher>(alg->hash);
  pending_ = std::move(a);
  callbacks().bufferRequestBody(rd->auth_int_max_body);
  return http::FilterStatus::StopIteration;
}

http::FilterStatus DigestAuthFilter::onRequestBody(evbuffer* chunk, bool end_stream) {
  if (!pending_) return http::FilterStatus::Continue;
  Attempt& a = *pending_;
  const size_t len = evbuffer_get_length(chunk);
  a.body_bytes += len;
  if (a.body_bytes > a.rd->auth_int_max_body) {
    const std::string detail =
        "the body exceeds what qop=auth-int accepts (" + std::to_string(a.rd->auth_int_max_body) + " bytes); use qop=auth";
    pending_.reset();
    callbacks().sendLocalReply(413, "digest_body_too_large", detail);
    return http::FilterStatus::StopIteration;
  }
  int n = evbuffer_peek(chunk, -1, nullptr, nullptr, 0);
  std::vector<evbuffer_iovec> v(static_cast<size_t>(std::max(n, 0)));
  evbuffer_peek(chunk, -1, nullptr, v.data(), n);
  for (const auto& iov : v) a.body->update(iov.iov_base, iov.iov_len);
  if (!end_stream) return http::FilterStatus::StopIteration;
  auto attempt = std::move(pending_);
  if (verify(*attempt, attempt->body->finishHex()) == http::FilterStatus::Continue) callbacks().resume();
  return http::FilterStatus::StopIteration;
}

http::FilterStatus DigestAuthFilter::verify(Attempt& a, std::string_view body_hash) {
  const RouteDigest& rd = *a.rd;
  const DigestCredentials& c = a.creds;
  http::StreamInfo& info = callbacks().streamInfo();
  // An unknown user costs the same hashing as a wrong password (no user enumeration by timing).
  static const std::string kDummyHa1(64, '0');
  ResponseInput in{a.alg, a.ha1 ? std::string_view(*a.ha1) : std::string_view(kDummyHa1).substr(0, hashHexLength(a.alg.hash)),
                   c.nonce, c.nc, c.cnonce, c.qop, a.head->method, c.uri, body_hash};
  const bool match = hexEqualConstantTime(computeResponse(in), c.response);
  if (!a.ha1 || !match) return fail(rd, "digest_bad_credentials", "wrong credentials");
  if (a.nonce.status == NonceCodec::Status::Stale) {
    digestCounters().stale.fetch_add(1, std::memory_order_relaxed);
    return challenge(rd, 401, "digest_stale_nonce", "the nonce has expired", true);
  }
  const uint64_t now = unixSeconds();
  const uint32_t nc = static_cast<uint32_t>(std::stoul(c.nc, nullptr, 16));  // 8 hex digits, checked by the parser
  switch (rt_->replay.check(c.nonce, nc, a.nonce.issued, now)) {
    case ReplayTable::Verdict::Fresh:
      break;
    case ReplayTable::Verdict::Stale:
      digestCounters().stale.fetch_add(1, std::memory_order_relaxed);
      return challenge(rd, 401, "digest_stale_nonce", "the nonce has expired", true);
    case ReplayTable::Verdict::Replay:
      digestCounters().replay.fetch_add(1, std::memory_order_relaxed);
      return fail(rd, "digest_replay", "nonce count already used");
  }
  if (!rd.users.empty() && !rd.users.contains(a.user)) {
    digestCounters().forbidden.fetch_add(1, std::memory_order_relaxed);
    callbacks().sendLocalReply(403, "digest_user_forbidden", "this user may not use this route");
    return http::FilterStatus::StopIteration;
  }
  digestCounters().success.fetch_add(1, std::memory_order_relaxed);
  rt_->throttle.recordSuccess(info.client_address);
  info.user = a.user;
  a.head->headers.set(rt_->user_header, a.user);
  if (!rd.forward_authorization) a.head->headers.remove("authorization");
  if (rd.authentication_info) {
    // rspauth is optional (§3.5); under auth-int it would cover the response body, which is not
    // known when the head goes out, so only nextnonce is sent then.
    auth_info_ = "nextnonce=\"" + rt_->nonces.mint(rd.realm, now) + "\"";
    if (c.qop == "auth") {
      auth_info_ = "rspauth=\"" + computeRspauth(in) + "\", qop=auth, cnonce=" + quote(c.cnonce) + ", nc=" + c.nc +
                   ", " + auth_info_;
    }
  }
  return http::FilterStatus::Continue;
}

http::FilterStatus DigestAuthFilter::onResponseHeaders(http::ResponseHead& head, bool) {
  if (!auth_info_.empty()) head.headers.set("Authentication-Info", auth_info_);
  return http::FilterStatus::Continue;
}

}  // namespace gw::auth
