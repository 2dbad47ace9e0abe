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

http::FilterStatus ForwardedFilter::onRequestHeaders(http::RequestHead& head, bool) {
  http::StreamInfo& si = callbacks().streamInfo();
  const std::string& peer_ip = si.peer_ip;
  const bool trusted = si.peer.family() != AF_UNIX && cfg_->isTrusted(si.peer);
  si.peer_trusted = trusted;
  auto& h = head.headers;
  auto& out = si.forwarded;

  std::string_view proto = head.scheme, host = head.authority;
  char port_buf[8];
  const char* port_end = std::to_chars(port_buf, port_buf + sizeof(port_buf), si.local_port).ptr;
  std::string_view port(port_buf, static_cast<size_t>(port_end - port_buf));
  std::string proto_lower;
  if (trusted) {
    // A trusted proxy's fields stay in the head (an app behind FastCGI or uwsgi sees them as that
    // proxy sent them); an HTTP upstream gets the combined values below instead of them.
    std::string xff_in = h.getCombined("x-forwarded-for");
    si.client_address = clientFromXff(xff_in, peer_ip, *cfg_);
    if (auto p = h.get("x-forwarded-proto"); p && validProto(proto_lower = toLower(trim(*p)))) proto = proto_lower;
    if (auto v = h.get("x-forwarded-host"); v && !v->empty()) host = *v;
    if (auto v = h.get("x-forwarded-port"); v && parseUint(trim(*v)) && *parseUint(trim(*v)) <= 65535) {
      port = trim(*v);
    }
    out.xff = xff_in.empty() ? peer_ip : std::move(xff_in) + ", " + peer_ip;
    if (cfg_->rfc7239) out.rfc7239 = h.getCombined("forwarded");
  } else {
    si.client_address = peer_ip;
    out.xff = peer_ip;
    h.removeIf(http::isForwardingField);
  }
  out.proto = proto;
  out.host = host;
  out.port = port;
  if (cfg_->rfc7239) {
    std::string& e = out.rfc7239;
    if (!e.empty()) e += ", ";
    e += "for=";
    e += forwardedNode(peer_ip);
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
  return http::FilterStatus::Continue;
}

}  // namespace gw::filters
