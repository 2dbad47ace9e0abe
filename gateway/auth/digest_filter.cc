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
  return out;
}

DigestRuntime::DigestRuntime(config::ConfigConstSharedPtr config)
    : nonces(config->digest.nonce_secret, static_cast<uint64_t>(config->digest.nonce_lifetime.count() / 1000)),
      replay(config->digest.max_tracked_nonces, static_cast<uint64_t>(config->digest.nonce_lifetime.count() / 1000)),
      throttle(config->digest.max_failures, static_cast<uint64_t>(config->digest.failure_window.count() / 1000),
               static_cast<uint64_t>(config->digest.block.count() / 1000), 65536),
      user_header(config->digest.user_header),
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
                                               std::string_view detail, bool stale) {
  http::HeaderMap extra;
  const std::string nonce = rt_->nonces.mint(rd.realm, unixSeconds());
  for (Algorithm a : rd.algorithms) {
    std::string v = "Digest realm=" + quote(rd.realm) + ", qop=\"auth\", algorithm=" + algorithmName(a) +
                    ", nonce=\"" + nonce + "\", charset=UTF-8, userhash=true";
    if (stale) v += ", stale=true";
    extra.add("WWW-Authenticate", v);
  }
  callbacks().sendLocalReply(status, code, detail, &extra);
  return http::FilterStatus::StopIteration;
}

http::FilterStatus DigestAuthFilter::fail(const RouteDigest& rd, std::string_view code, std::string_view detail) {
  digestCounters().failure.fetch_add(1, std::memory_order_relaxed);
  const std::string& client = callbacks().streamInfo().client_address;
  if (rt_->throttle.recordFailure(client, steadyMs() / 1000)) {
    digestCounters().blocks.fetch_add(1, std::memory_order_relaxed);
    GW_LOG(Warn, "digest: client %s blocked after repeated authentication failures", client.c_str());
  }
  GW_LOG(Info, "digest: %s from %s: %.*s", callbacks().streamInfo().target.c_str(), client.c_str(),
         static_cast<int>(code.size()), code.data());
  return challenge(rd, 401, code, detail, false);
}

http::FilterStatus DigestAuthFilter::onRequestHeaders(http::RequestHead& head, bool) {
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
  const DigestCredentials& c = *pr.creds;
  if (c.realm != rd->realm) return fail(*rd, "digest_bad_realm", "wrong realm");
  auto alg = c.algorithm.empty() ? std::optional<Algorithm>(Algorithm{}) : parseAlgorithm(c.algorithm);
  if (!alg || std::find(rd->algorithms.begin(), rd->algorithms.end(), *alg) == rd->algorithms.end()) {
    return fail(*rd, "digest_bad_algorithm", "algorithm not offered");
  }
  if (c.qop != "auth") return fail(*rd, "digest_bad_qop", "qop=auth is required");
  if (c.uri != info.target) {
    digestCounters().failure.fetch_add(1, std::memory_order_relaxed);
    rt_->throttle.recordFailure(info.client_address, now_ms / 1000);
    callbacks().sendLocalReply(400, "digest_uri_mismatch", "the uri parameter does not match the request target");
    return http::FilterStatus::StopIteration;
  }
  const uint64_t now = unixSeconds();
  NonceCodec::Verified nv = rt_->nonces.verify(rd->realm, c.nonce, now);
  if (nv.status == NonceCodec::Status::Invalid) return fail(*rd, "digest_bad_nonce", "invalid nonce");

  auto table = rd->store->table();
  std::string user = c.username;
  const std::string* ha1 = nullptr;
  if (c.userhash) {
    if (const std::string* u = table->userForHash(alg->hash, rd->realm, c.username)) user = *u;
    else user.clear();
  }
  if (!user.empty()) ha1 = table->find(user, rd->realm, alg->hash);
  // An unknown user costs the same hashing as a wrong password (no user enumeration by timing).
  static const std::string kDummyHa1(64, '0');
  ResponseInput in{*alg, ha1 ? std::string_view(*ha1) : std::string_view(kDummyHa1).substr(0, hashHexLength(alg->hash)),
                   c.nonce, c.nc, c.cnonce, c.qop, head.method, c.uri};
  const bool match = hexEqualConstantTime(computeResponse(in), c.response);
  if (!ha1 || !match) return fail(*rd, "digest_bad_credentials", "wrong credentials");
  if (nv.status == NonceCodec::Status::Stale) {
    digestCounters().stale.fetch_add(1, std::memory_order_relaxed);
    return challenge(*rd, 401, "digest_stale_nonce", "the nonce has expired", true);
  }
  const uint32_t nc = static_cast<uint32_t>(std::stoul(c.nc, nullptr, 16));  // 8 hex digits, checked by the parser
  switch (rt_->replay.check(c.nonce, nc, nv.issued, now)) {
    case ReplayTable::Verdict::Fresh:
      break;
    case ReplayTable::Verdict::Stale:
      digestCounters().stale.fetch_add(1, std::memory_order_relaxed);
      return challenge(*rd, 401, "digest_stale_nonce", "the nonce has expired", true);
    case ReplayTable::Verdict::Replay:
      digestCounters().replay.fetch_add(1, std::memory_order_relaxed);
      return fail(*rd, "digest_replay", "nonce count already used");
  }
  if (!rd->users.empty() && !rd->users.contains(user)) {
    digestCounters().forbidden.fetch_add(1, std::memory_order_relaxed);
    callbacks().sendLocalReply(403, "digest_user_forbidden", "this user may not use this route");
    return http::FilterStatus::StopIteration;
  }
  digestCounters().success.fetch_add(1, std::memory_order_relaxed);
  rt_->throttle.recordSuccess(info.client_address);
  info.user = user;
  head.headers.set(rt_->user_header, user);
  if (!rd->forward_authorization) head.headers.remove("authorization");
  if (rd->authentication_info) {
    auth_info_ = "rspauth=\"" + computeRspauth(in) + "\", qop=auth, cnonce=" + quote(c.cnonce) + ", nc=" + c.nc +
                 ", nextnonce=\"" + rt_->nonces.mint(rd->realm, now) + "\"";
  }
  return http::FilterStatus::Continue;
}

http::FilterStatus DigestAuthFilter::onResponseHeaders(http::ResponseHead& head, bool) {
  if (!auth_info_.empty()) head.headers.set("Authentication-Info", auth_info_);
  return http::FilterStatus::Continue;
}

}  // namespace gw::auth
