#include <gtest/gtest.h>

#include "filters/forwarded.h"
#include "filters/request_id.h"

namespace gw::filters {
namespace {

ForwardedConfig trusting(std::initializer_list<const char*> cidrs) {
  ForwardedConfig c;
  for (const char* s : cidrs) c.trusted.push_back(*Cidr::parse(s));
  return c;
}

TEST(ClientFromXff, WalksFromTheRightPastTrustedHops) {
  auto cfg = trusting({"10.0.0.0/8", "127.0.0.1/32"});
  // client, untrusted proxy, trusted proxy → the untrusted proxy is as far as we can believe.
  EXPECT_EQ(clientFromXff("203.0.113.7, 198.51.100.2, 10.1.1.1", "127.0.0.1", cfg), "198.51.100.2");
  EXPECT_EQ(clientFromXff("203.0.113.7, 10.9.9.9, 10.1.1.1", "127.0.0.1", cfg), "203.0.113.7");
  // All trusted: the leftmost.
  EXPECT_EQ(clientFromXff("10.2.2.2, 10.1.1.1", "127.0.0.1", cfg), "10.2.2.2");
  // Empty: the peer itself.
  EXPECT_EQ(clientFromXff("", "127.0.0.1", cfg), "127.0.0.1");
  // Garbage stops the walk at the last believable address.
  EXPECT_EQ(clientFromXff("203.0.113.7, junk, 10.1.1.1", "127.0.0.1", cfg), "10.1.1.1");
  // Ports and bracketed IPv6 are understood.
  EXPECT_EQ(clientFromXff("[2001:db8::1]:4711, 10.1.1.1:80", "127.0.0.1", cfg), "2001:db8::1");
}

TEST(ForwardedNode, QuotesIpv6) {
  EXPECT_EQ(forwardedNode("192.0.2.60"), "192.0.2.60");
  EXPECT_EQ(forwardedNode("2001:db8:cafe::17"), "\"[2001:db8:cafe::17]\"");
}

class FakeCallbacks : public http::StreamFilterCallbacks {
 public:
  void sendLocalReply(int status, std::string_view, std::string_view, const http::HeaderMap*) override {
    local_status = status;
  }
  void resume() override {}
  http::StreamInfo& streamInfo() override { return info; }
  http::StreamInfo info;
  int local_status = 0;
};

void expectForwarded(const http::StreamInfo& si, const http::RequestHead& head, std::string_view xff,
                     std::string_view proto, std::string_view host, std::string_view port, std::string_view rfc7239) {
  const http::ForwardedValues fwd(si, head);
  EXPECT_EQ(fwd.xff, xff);
  EXPECT_EQ(fwd.proto, proto);
  EXPECT_EQ(fwd.host, host);
  EXPECT_EQ(fwd.port, port);
  EXPECT_EQ(fwd.rfc7239, rfc7239);
}

http::RequestHead spoofedHead() {
  http::RequestHead h;
  h.method = "GET";
  h.path = "/";
  h.authority = "api.example.com";
  h.headers.add("Host", "api.example.com");
  h.headers.add("X-Forwarded-For", "1.2.3.4");
  h.headers.add("X-Forwarded-Proto", "https");
  h.headers.add("X-Forwarded-Host", "evil.example");
  h.headers.add("X-Forwarded-Port", "1");
  h.headers.add("X-Real-IP", "1.2.3.4");
  h.headers.add("Forwarded", "for=1.2.3.4");
  h.headers.add("X-Request-Id", "client-chosen");
  return h;
}

TEST(ForwardedFilter, UntrustedPeerCannotSpoof) {
  auto cfg = std::make_shared<ForwardedConfig>(trusting({"10.0.0.0/8"}));
  cfg->rfc7239 = true;
  ForwardedFilter f(cfg);
  FakeCallbacks cb;
  cb.info.peer = *SocketAddress::parseNumeric("[2001:db8::9]:5555");
  cb.info.peer_ip = cb.info.peer.ip();
  cb.info.local_port = 8080;
  f.setCallbacks(cb);
  auto h = spoofedHead();
  EXPECT_EQ(f.onRequestHeaders(h, true), http::FilterStatus::Continue);
  EXPECT_EQ(cb.info.client_address, "2001:db8::9");
  EXPECT_FALSE(cb.info.peer_trusted);
  // The peer's forwarding fields are gone; what the upstream will be told is this hop's facts.
  for (const char* n : {"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port",
                        "X-Real-IP", "Forwarded"}) {
    EXPECT_FALSE(h.headers.get(n)) << n;
  }
  expectForwarded(cb.info, h, "2001:db8::9", "http", "api.example.com", "8080",
                  "for=\"[2001:db8::9]\";host=\"api.example.com\";proto=http");

  RequestIdFilter rid(std::make_shared<RequestIdConfig>());
  rid.setCallbacks(cb);
  rid.onRequestHeaders(h, true);
  EXPECT_NE(*h.headers.get("X-Request-Id"), "client-chosen");
  EXPECT_EQ(*h.headers.get("X-Request-Id"), cb.info.request_id);
}

TEST(ForwardedFilter, TrustedPeerKeepsAndAppends) {
  auto cfg = std::make_shared<ForwardedConfig>(trusting({"10.0.0.0/8"}));
  cfg->rfc7239 = true;
  ForwardedFilter f(cfg);
  FakeCallbacks cb;
  cb.info.peer = *SocketAddress::parseNumeric("10.0.0.5:5555");
  cb.info.peer_ip = cb.info.peer.ip();
  cb.info.local_port = 8080;
  f.setCallbacks(cb);
  auto h = spoofedHead();
  f.onRequestHeaders(h, true);
  EXPECT_TRUE(cb.info.peer_trusted);
  EXPECT_EQ(cb.info.client_address, "1.2.3.4");
  // The trusted proxy's fields stay as it sent them (a FastCGI or uwsgi app sees them); an HTTP
  // upstream gets the combined values instead.
  EXPECT_EQ(h.headers.getCombined("X-Forwarded-For"), "1.2.3.4");
  EXPECT_EQ(h.headers.getCombined("X-Real-IP"), "1.2.3.4");
  expectForwarded(cb.info, h, "1.2.3.4, 10.0.0.5", "https", "evil.example", "1",
                  "for=1.2.3.4, for=10.0.0.5;host=\"api.example.com\";proto=http");

  RequestIdFilter rid(std::make_shared<RequestIdConfig>());
  rid.setCallbacks(cb);
  rid.onRequestHeaders(h, true);
  EXPECT_EQ(cb.info.request_id, "client-chosen");
}

// A direct client's values are the connection's, derived when written (nothing allocated); a
// stream that never met the filter (a health probe), or an upstream with forwarded_headers off,
// gets none.
TEST(ForwardedFilter, DirectClientValuesComeFromTheConnection) {
  ForwardedFilter f(std::make_shared<ForwardedConfig>(trusting({"10.0.0.0/8"})));
  FakeCallbacks cb;
  cb.info.peer = *SocketAddress::parseNumeric("192.0.2.7:40000");
  cb.info.peer_ip = cb.info.peer.ip();
  cb.info.local_port = 8443;
  cb.info.tls = true;
  auto h = spoofedHead();
  h.scheme = "https";  // set from the connection by the codecs (ActiveStream, the h2 codec)
  expectForwarded(cb.info, h, "", "", "", "", "");  // before the filter: a probe
  f.setCallbacks(cb);
  f.onRequestHeaders(h, true);
  EXPECT_EQ(cb.info.forwarded, nullptr);
  expectForwarded(cb.info, h, "192.0.2.7", "https", "api.example.com", "8443", "");
  const http::ForwardedValues off(cb.info, h, false);
  EXPECT_TRUE(off.xff.empty() && off.proto.empty() && off.host.empty() && off.port.empty() && off.rfc7239.empty());
}

TEST(ForwardingField, Names) {
  for (const char* n : {"X-Forwarded-For", "x-forwarded-proto", "X-FORWARDED-HOST", "X-Forwarded-Port", "X-Real-IP",
                        "Forwarded"}) {
    EXPECT_TRUE(http::isForwardingField(n)) << n;
  }
  for (const char* n : {"X-Forwarded", "X-Forwarded-Fox", "Forwarder", "X-Request-Id", "Host"}) {
    EXPECT_FALSE(http::isForwardingField(n)) << n;
  }
}

TEST(RequestId, Validation) {
  EXPECT_TRUE(validRequestId("abc-123_x.y:z"));
  EXPECT_FALSE(validRequestId(""));
  EXPECT_FALSE(validRequestId("a b"));
  EXPECT_FALSE(validRequestId(std::string(129, 'a')));
}

}  // namespace
}  // namespace gw::filters
