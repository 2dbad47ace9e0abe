#pragma once
// Per-stream facts gathered along the pipeline, read by the access log at the end.
// Owned by the stream; filters get a reference valid until onStreamComplete returns.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/address.h"
#include "core/util.h"

namespace gw::config {
struct Route;
}

namespace gw::http {

struct StreamInfo {
  Clock::time_point start = Clock::now();
  SocketAddress peer;          // the TCP peer (may be a trusted proxy)
  std::string peer_ip;         // peer.ip()
  std::string client_address;  // the real client, after trusted-proxy resolution
  uint16_t local_port = 0;
  bool tls = false;  // the downstream connection is TLS (HTTPS=on toward FastCGI / uwsgi)
  std::string tls_subject;                         // verified client certificate subject (mTLS), or empty
  const std::string* tls_subject_header = nullptr;  // its header toward the upstream (ConnectionInfo)
  bool peer_trusted = false;
  // Set by filters/forwarded for every client request (a health probe has none): the upstream
  // then tells the app who the client is, in X-Forwarded-For/-Proto/-Host/-Port (HTTP/1) or as
  // HTTP_X_FORWARDED_* (FastCGI/uwsgi with forwarded_headers). ForwardedValues gives the values.
  bool forward = false;
  // A trusted peer's combined values, and this hop's RFC 7239 element when enabled: allocated
  // only then. A direct client's values are this connection's facts, derived when written.
  struct Forwarded {
    std::string xff, proto, host, port, rfc7239;
  };
  std::unique_ptr<Forwarded> forwarded;
  std::string protocol = "HTTP/1.1";
  std::string method;
  std::string target;  // path + query, as received
  std::string host;
  std::string request_id;
  std::string user;  // the Digest-authenticated user (gateway/auth), empty if none
  std::string referer;
  std::string user_agent;
  int status = 0;                 // 0 = no response was sent (connection closed first)
  uint64_t request_body_bytes = 0;
  uint64_t response_body_bytes = 0;
  const config::Route* route = nullptr;
  std::string upstream_address;   // every server tried, comma-separated, like nginx $upstream_addr
  int64_t upstream_time_us = -1;  // from the first upstream attempt to response head; -1 = none
  std::string details;            // why the gateway answered or reset: a stable code
};

struct RequestHead;

// What an upstream tells the app about the client for one request: a trusted peer's combined
// values, else the connection's (the request's scheme and authority, which the codecs set from the
// connection; all empty when not enabled, or for a stream that has no forwarding, like a health
// probe). Views into the StreamInfo, the head and this object (the port digits): not copyable.
class ForwardedValues {
 public:
  ForwardedValues(const StreamInfo& si, const RequestHead& head, bool enabled = true);
  ForwardedValues(const StreamInfo&, RequestHead&&, bool = true) = delete;  // the views would dangle
  ForwardedValues(const ForwardedValues&) = delete;
  ForwardedValues& operator=(const ForwardedValues&) = delete;

  std::string_view xff, proto, host, port, rfc7239;

 private:
  char port_buf_[8];
};

}  // namespace gw::http
