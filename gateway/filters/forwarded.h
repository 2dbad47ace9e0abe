#pragma once
// Forwarded-header handling with a trusted-proxy model (nginx realip_recursive semantics).
//  - From an untrusted peer, incoming X-Forwarded-For/-Proto/-Host/-Port, X-Real-IP and
//    Forwarded are removed: the peer itself is the client.
//  - From a trusted peer they are kept, and the client is found by walking X-Forwarded-For from
//    the right past trusted hops.
//  - What an HTTP upstream is to be told (X-Forwarded-For appended, -Proto/-Host/-Port and, when
//    enabled, an RFC 7239 Forwarded element) is http::ForwardedValues: a direct client's from the
//    connection, a trusted peer's combined values and the RFC 7239 element from
//    StreamInfo::forwarded. The HTTP/1 upstream writes them in place of a trusted peer's fields.
//    FastCGI / uwsgi apps get REMOTE_ADDR, HTTPS and SERVER_PORT (and, with the upstream's
//    forwarded_headers, the same values as HTTP_X_FORWARDED_*).
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "http/filter.h"

namespace gw::filters {

struct ForwardedConfig {
  std::vector<Cidr> trusted;
  bool rfc7239 = false;
  bool isTrusted(const SocketAddress& a) const;
};

// Pure function behind the filter (unit-tested and fuzzed): the client address found by walking
// `xff` (a combined X-Forwarded-For value) from the right, starting from a trusted `peer_ip`.
std::string clientFromXff(std::string_view xff, const std::string& peer_ip, const ForwardedConfig& cfg);
// An RFC 7239 node: IPv6 is bracketed and quoted ("[2001:db8::1]").
std::string forwardedNode(const std::string& ip);

class ForwardedFilter : public http::StreamFilter {
 public:
  explicit ForwardedFilter(std::shared_ptr<const ForwardedConfig> cfg) : cfg_(std::move(cfg)) {}
  http::FilterStatus onRequestHeaders(http::RequestHead& head, bool end_stream) override;

 private:
  std::shared_ptr<const ForwardedConfig> cfg_;
};

}  // namespace gw::filters
