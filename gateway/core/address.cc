#include "core/address.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>

#include "core/util.h"

namespace gw {

std::string SocketAddress::ip() const {
  char buf[INET6_ADDRSTRLEN] = "";
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, buf, sizeof(buf));
  } else if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, buf, sizeof(buf));
  } else if (family() == AF_UNIX) {
    return std::string("unix:") + reinterpret_cast<const sockaddr_un*>(&storage)->sun_path;
  }
  return buf;
}

uint16_t SocketAddress::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return 0;
}

std::string SocketAddress::str() const {
  if (family() == AF_UNIX) return ip();
  if (family() == AF_INET6) return "[" + ip() + "]:" + std::to_string(port());
  return ip() + ":" + std::to_string(port());
}

SocketAddress SocketAddress::fromSockaddr(const sockaddr* sa, socklen_t len) {
  SocketAddress a;
  len = std::min<socklen_t>(len, sizeof(a.storage));
  memcpy(&a.storage, sa, len);
  a.len = len;
  return a;
}

std::optional<SocketAddress> SocketAddress::parseIp(std::string_view ip) {
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  if (ip.empty() || ip.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  std::string s(ip);
  SocketAddress a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (inet_pton(AF_INET, s.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    a.len = sizeof(sockaddr_in);
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    a.len = sizeof(sockaddr_in6);
    return a;
  }
  return std::nullopt;
}

namespace {
bool splitHostPort(std::string_view text, std::string_view* host, uint16_t* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  auto p = parseUint(text.substr(colon + 1));
  if (!p || *p > 65535) return false;
  *host = text.substr(0, colon);
  *port = static_cast<uint16_t>(*p);
  return true;
}
void setPort(SocketAddress& a, uint16_t port) {
  if (a.family() == AF_INET) reinterpret_cast<sockaddr_in*>(&a.storage)->sin_port = htons(port);
  if (a.family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&a.storage)->sin6_port = htons(port);
}
}  // namespace

std::optional<SocketAddress> SocketAddress::parseNumeric(std::string_view text) {
  if (text.starts_with("unix:")) {
    std::string_view path = text.substr(5);
    SocketAddress a;
    auto* un = reinterpret_cast<sockaddr_un*>(&a.storage);
    if (path.empty() || path.size() >= sizeof(un->sun_path)) return std::nullopt;
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path.data(), path.size());
    a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    return a;
  }
  std::string_view host;
  uint16_t port = 0;
  if (!splitHostPort(text, &host, &port)) return std::nullopt;
  if (host.find(':') != std::string_view::npos && !(host.front() == '[' && host.back() == ']')) {
    return std::nullopt;  // IPv6 needs brackets when a port follows
  }
  auto a = parseIp(host);
  if (!a) return std::nullopt;
  setPort(*a, port);
  return a;
}

std::optional<SocketAddress> SocketAddress::resolve(std::string_view text, std::string* error) {
  if (auto a = parseNumeric(text)) return a;
  std::string_view host;
  uint16_t port = 0;
  if (!splitHostPort(text, &host, &port)) {
    *error = "expected host:port, [ipv6]:port or unix:/path";
    return std::nullopt;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string h(host);
  int rc = getaddrinfo(h.c_str(), nullptr, &hints, &res);
  if (rc != 0 || res == nullptr) {
    *error = std::string("cannot resolve '") + h + "': " + gai_strerror(rc);
    return std::nullopt;
  }
  SocketAddress a = fromSockaddr(res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  setPort(a, port);
  return a;
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
  Cidr c;
  c.text_ = std::string(text);
  std::string_view ip = text;
  std::optional<uint64_t> prefix;
  size_t slash = text.find('/');
  if (slash != std::string_view::npos) {
    ip = text.substr(0, slash);
    prefix = parseUint(text.substr(slash + 1));
    if (!prefix) return std::nullopt;
  }
  auto addr = SocketAddress::parseIp(ip);
  if (!addr) return std::nullopt;
  c.family_ = addr->family();
  int max = c.family_ == AF_INET ? 32 : 128;
  c.prefix_ = prefix ? static_cast<int>(*prefix) : max;
  if (c.prefix_ > max) return std::nullopt;
  if (c.family_ == AF_INET) {
    memcpy(c.bytes_, &reinterpret_cast<const sockaddr_in*>(&addr->storage)->sin_addr, 4);
  } else {
    memcpy(c.bytes_, &reinterpret_cast<const sockaddr_in6*>(&addr->storage)->sin6_addr, 16);
  }
  return c;
}

bool Cidr::contains(const SocketAddress& addr) const {
  const uint8_t* bytes = nullptr;
  int family = addr.family();
  if (family == AF_INET) {
    bytes = reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(&addr.storage)->sin_addr);
  } else if (family == AF_INET6) {
    bytes = reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in6*>(&addr.storage)->sin6_addr);
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (family_ == AF_INET && memcmp(bytes, kMapped, 12) == 0) {
      bytes += 12;
      family = AF_INET;
    }
  } else {
    return false;
  }
  if (family != family_) return false;
  int full = prefix_ / 8, rest = prefix_ % 8;
  if (memcmp(bytes, bytes_, full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (bytes[full] & mask) == (bytes_[full] & mask);
}

}  // namespace gw
