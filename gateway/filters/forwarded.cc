#include "filters/forwarded.h"

#include <charconv>

#include "core/util.h"

namespace gw::filters {

bool ForwardedConfig::isTrusted(const SocketAddress& a) const {
  for (const auto& c : trusted) {
    if (c.contains(a)) return true;
  }
  return false;
}

namespace {
// An X-Forwarded-For element: "1.2.3.4", "1.2.3.4:5678", "::1", "[::1]:5678".
std::optional<SocketAddress> parseXffElement(std::string_view e) {
  if (auto a = SocketAddress::parseIp(e)) return a;
  if (auto a = SocketAddress::parseNumeric(e); a && a->family() != AF_UNIX) return a;
  return std::nullopt;
}
bool validProto(std::string_view p) { return p == "http" || p == "https"; }
}  // namespace

std::string clientFromXff(std::string_view xff, const std::string& peer_ip, const ForwardedConfig& cfg) {
  std::string client = peer_ip;
  auto items = http::splitList(xff);
  for (size_t i = items.size(); i-- > 0;) {
    auto addr = parseXffElement(items[i]);
    if (!addr) break;  // garbage: stop at the last address we could trust
    client = addr->ip();
    if (!cfg.isTrusted(*addr)) break;
  }
  return client;
}

std::string forwardedNode(const std::string& ip) {
  if (ip.find(':') != std::string::npos) return "\"[" + ip + "]\"";
  return ip;
}

namespace {
std::string portString(uint16_t port) {
  char buf[8];
  return std::string(buf, std::to_chars(buf, buf + sizeof(buf), port).ptr);
}

// A trusted proxy's word (out of line, to keep the direct-client path short). Its fields stay in
// the head (an app behind FastCGI or uwsgi sees them as that proxy sent them); an HTTP upstream
// gets the combined values instead of them.
[[gnu::noinline]] void believeTrustedPeer(const http::RequestHead& head, http::StreamInfo& si,
                                          const ForwardedConfig& cfg) {
  const auto& h = head.headers;
  si.forwarded = std::make_unique<http::StreamInfo::Forwarded>();
  auto& out = *si.forwarded;
  std::string xff_in = h.getCombined("x-forwarded-for");
  si.client_address = clientFromXff(xff_in, si.peer_ip, cfg);
  out.xff = xff_in.empty() ? si.peer_ip : std::move(xff_in) + ", " + si.peer_ip;
  std::string proto;
  if (auto p = h.get("x-forwarded-proto"); p && validProto(proto = toLower(trim(*p)))) {
    out.proto = std::move(proto);
  } else {
    out.proto = head.scheme;
  }
  auto host = h.get("x-forwarded-host");
  out.host = host && !host->empty() ? *host : head.authority;
  auto port = h.get("x-forwarded-port");
  auto port_value = port ? parseUint(trim(*port)) : std::nullopt;
  out.port = port_value && *port_value <= 65535 ? std::string(trim(*port)) : portString(si.local_port);
  if (cfg.rfc7239) out.rfc7239 = h.getCombined("forwarded");
}

// This hop's RFC 7239 element, appended to a trusted peer's Forwarded value (if any).
[[gnu::noinline]] void appendRfc7239(const http::RequestHead& head, http::StreamInfo& si) {
  if (!si.forwarded) si.forwarded = std::make_unique<http::StreamInfo::Forwarded>();
  std::string& e = si.forwarded->rfc7239;
  if (!e.empty()) e += ", ";
  e += "for=";
  e += forwardedNode(si.peer_ip);
  if (!head.authority.empty()) {
    e += ";host=\"";
    for (char c : head.authority) {
      if (c == '"' || c == '\\') e += '\\';
      e += c;
    }
    e += '"';
  }
  e += ";proto=";
  e += head.scheme;
}
}  // namespace

http::FilterStatus ForwardedFilter::onRequestHeaders(http::RequestHead& head, bool) {
  http::StreamInfo& si = callbacks().streamInfo();
  si.forward = true;
  si.peer_trusted = si.peer.family() != AF_UNIX && cfg_->isTrusted(si.peer);
  if (si.peer_trusted) {
    believeTrustedPeer(head, si, *cfg_);
  } else {
    // The peer is the client; what it says about others is dropped. What the upstream is told is
    // this connection's facts (http::ForwardedValues).
    si.client_address = si.peer_ip;
    head.headers.removeIf(http::isForwardingField);
  }
  if (cfg_->rfc7239) appendRfc7239(head, si);
  return http::FilterStatus::Continue;
}

}  // namespace gw::filters
