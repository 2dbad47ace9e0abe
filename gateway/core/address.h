#pragma once
// Socket addresses and CIDR ranges (trusted proxies). Value types, thread-safe to share.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t len = 0;

  int family() const { return storage.ss_family; }
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage); }
  // "1.2.3.4" / "::1" / "unix:/path" (no port)
  std::string ip() const;
  uint16_t port() const;
  // "1.2.3.4:80" / "[::1]:80" / "unix:/path"
  std::string str() const;

  static SocketAddress fromSockaddr(const sockaddr* sa, socklen_t len);
  // Parses "1.2.3.4:80", "[::1]:80" or "unix:/path"; numeric addresses only (no DNS).
  static std::optional<SocketAddress> parseNumeric(std::string_view text);
  // As parseNumeric, but resolves a host name with getaddrinfo (blocking: control plane only).
  static std::optional<SocketAddress> resolve(std::string_view text, std::string* error);
  // A bare IP ("1.2.3.4", "::1", "[::1]") with no port.
  static std::optional<SocketAddress> parseIp(std::string_view ip);
};

class Cidr {
 public:
  // "10.0.0.0/8", "::1/128", "192.168.1.7" (host route). IPv4-mapped IPv6 peers match IPv4 ranges.
  static std::optional<Cidr> parse(std::string_view text);
  bool contains(const SocketAddress& addr) const;
  const std::string& text() const { return text_; }

 private:
  int family_ = AF_INET;
  uint8_t bytes_[16] = {};
  int prefix_ = 0;
  std::string text_;
};

}  // namespace gw
