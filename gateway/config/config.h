#pragma once
// Typed, immutable gateway configuration. Built once by loadConfig (control plane, may block and
// allocate freely), then shared read-only by every worker through ConfigConstSharedPtr.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/util.h"

namespace gw::config {

struct Listener {
  std::string name;
  std::string address = "127.0.0.1";
  uint16_t port = 8080;
  int backlog = 511;
};

struct Limits {
  size_t max_uri_bytes = 8192;
  size_t max_header_bytes = 65536;  // request line + header section
  size_t max_headers = 100;
  uint64_t max_body_bytes = 1ULL << 30;
  size_t max_connections = 10000;  // per worker
  uint64_t max_requests_per_connection = 0;  // 0 = unlimited
  size_t buffer_bytes = 256 * 1024;  // high watermark of every per-stream buffer
};

struct Timeouts {
  Millis client_header{10000};
  Millis client_body{30000};
  Millis keepalive{60000};
  Millis send{60000};
  Millis shutdown{30000};
};

enum class Balance { RoundRobin, LeastRequest };

// What an upstream speaks: HTTP/1.1 to plain HTTP servers, FastCGI or uwsgi to app workers, or
// files from a document root served by the gateway itself.
enum class UpstreamKind { Http, FastCgi, Uwsgi, Static };
const char* upstreamKindName(UpstreamKind k);

struct Upstream {
  std::string name;
  UpstreamKind kind = UpstreamKind::Http;
  std::vector<SocketAddress> servers;
  Balance balance = Balance::RoundRobin;
  size_t keepalive = 32;
  Millis connect_timeout{5000};
  Millis response_timeout{60000};
  Millis idle_timeout{60000};
  int retries = 1;
  int max_fails = 1;
  Millis fail_timeout{10000};
};

// Digest authentication of one route (RFC 7616; gateway/auth/).
struct RouteAuth {
  std::string realm;
  std::string credentials;               // htdigest-format file (see README "Digest authentication")
  std::vector<std::string> users;        // allowed users; empty = any user of the realm
  std::vector<std::string> algorithms;   // RFC 7616 names; challenges are sent strongest first
  bool forward_authorization = false;    // keep the Authorization header toward the upstream
  bool authentication_info = false;      // send Authentication-Info (rspauth, nextnonce) on success
};

struct Route {
  std::string name;
  std::vector<std::string> hosts;  // lower-case; "*.example.com" wildcards; empty = any host
  std::string prefix = "/";
  std::vector<std::string> methods;  // empty = any
  size_t upstream = 0;               // index into Config::upstreams
  bool strip_prefix = false;
  std::optional<RouteAuth> auth;
};

// Process-wide Digest settings (top-level "digest").
struct DigestSettings {
  std::string nonce_secret;                  // empty = 32 random bytes at start
  Millis nonce_lifetime{300000};
  size_t max_tracked_nonces = 100000;        // replay table cap (all workers)
  std::string user_header = "X-Remote-User"; // authenticated user toward HTTP upstreams
  uint32_t max_failures = 10;                // per client address within failure_window ...
  Millis failure_window{60000};
  Millis block{300000};                      // ... then 429 for this long
};

enum class AccessFormat { Combined, Json };

struct Logs {
  std::string access = "stdout";  // path, "stdout" or "off"
  AccessFormat access_format = AccessFormat::Combined;
  std::string error = "stderr";
  std::string level = "notice";
};

struct Config {
  std::string source;  // file name, or "<built-in>"
  int workers = 0;     // 0 = number of CPUs
  std::vector<Listener> listeners;
  Limits limits;
  Timeouts timeouts;
  std::vector<Upstream> upstreams;
  std::vector<Route> routes;
  std::vector<Cidr> trusted_proxies;
  bool forwarded_rfc7239 = false;
  std::string request_id_header = "X-Request-Id";
  DigestSettings digest;
  Logs logs;
};
using ConfigConstSharedPtr = std::shared_ptr<const Config>;

// One problem found while loading: "file:line: /json/pointer: message".
struct ConfigError {
  std::string file;
  int line = 0;  // 1-based; 0 when unknown
  std::string pointer;
  std::string message;
  std::string str() const;
};

struct LoadResult {
  ConfigConstSharedPtr config;  // null when errors is not empty
  std::vector<ConfigError> errors;
};

// Parses YAML (or JSON), checks it against specs/gateway-config.schema.json (compiled into the
// binary), then runs the semantic checks (references, duplicates, addresses). Never throws.
LoadResult loadConfigText(const std::string& text, const std::string& source);
LoadResult loadConfigFile(const std::string& path);

// The JSON Schema text the config is checked against.
const char* configSchemaText();

}  // namespace gw::config
