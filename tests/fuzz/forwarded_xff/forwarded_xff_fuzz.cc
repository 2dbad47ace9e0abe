// Fuzzes the parsers that read client-controlled routing and forwarding input: the
// X-Forwarded-For walk, CIDR and address parsing, Host normalisation and dot-segment detection.
#include <cstdint>
#include <string>

#include "filters/forwarded.h"
#include "filters/router.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const gw::filters::ForwardedConfig cfg = [] {
    gw::filters::ForwardedConfig c;
    for (const char* s : {"10.0.0.0/8", "127.0.0.1", "::1/128", "2001:db8::/32"}) c.trusted.push_back(*gw::Cidr::parse(s));
    return c;
  }();
  std::string in(reinterpret_cast<const char*>(data), size);
  std::string client = gw::filters::clientFromXff(in, "127.0.0.1", cfg);
  if (client.empty()) __builtin_trap();  // the walk always yields an address
  gw::Cidr::parse(in);
  gw::SocketAddress::parseNumeric(in);
  gw::filters::RouteTable::normalizeHost(in);
  gw::filters::RouteTable::hasDotSegment(in);
  if (!in.empty() && in[0] == '/') gw::filters::RouteTable::stripPrefix("/", in);
  return 0;
}
