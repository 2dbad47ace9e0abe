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

// TLS termination on a listener (gateway/tls/ loads and checks the files; README "TLS").
struct TlsCertificate {
  std::string cert;                // PEM certificate (may hold the chain after the leaf)
  std::string key;                 // PEM private key
  std::string chain;               // optional PEM intermediates
  std::vector<std::string> names;  // SNI names (lower-case, "*.x" wildcards); empty = the cert's DNS SANs
  std::string pointer;             // JSON Pointer of this entry, for errors found later
  int cert_line = 0, key_line = 0, chain_line = 0;  // source lines, for errors found later
};

struct ListenerTls {
  std::vector<TlsCertificate> certificates;  // the first one is the default (no or unknown SNI)
  std::string min_version = "1.2";           // "1.2" or "1.3"; TLS 1.3 is always the maximum
  std::string ciphers;                       // TLS 1.2 cipher list; empty = the built-in modern list
  std::string ciphersuites;                  // TLS 1.3 suites; empty = ours (server_context.cc)
  std::vector<std::string> alpn{"h2", "http/1.1"};  // server preference order
  bool session_tickets = true;
  Millis ticket_key_rotation{3600000};  // a new ticket key this often; old ones decrypt for session_timeout
  Millis session_timeout{3600000};      // session / ticket lifetime
  size_t session_cache_size = 20480;    // server-side session cache entries (0 = no cache)
  struct ClientCertificates {
    std::string ca;                     // PEM CA bundle the client certificate must chain to
    bool required = true;               // false: a certificate is asked for but optional
    int verify_depth = 4;
    std::string subject_header = "X-Client-Subject";  // the verified subject (RFC 2253) upstream
    int line = 0;
  };
  std::optional<ClientCertificates> client_certificates;
  std::string pointer;  // "/listeners/N/tls"
  int line = 0;
};

struct Listener {
  std::string name;
  std::string address = "127.0.0.1";
  uint16_t port = 8080;
  int backlog = 511;
  std::optional<ListenerTls> tls;
};

struct Limits {
  size_t max_uri_bytes = 8192;
  size_t max_header_bytes = 65536;  // request line + header section
  size_t max_headers = 100;
  uint64_t max_body_bytes = 1ULL << 30;
  size_t max_connections = 10000;  // per worker
  uint64_t max_requests_per_connection = 0;  // 0 = unlimited
  size_t buffer_bytes = 256 * 1024;  // high watermark of every per-stream buffer
  // Where bodies of unknown length bound for FastCGI / uwsgi are spooled past buffer_bytes.
  std::string body_temp_dir = "/tmp";
};

struct Timeouts {
  Millis client_header{10000};
  Millis client_body{30000};
  Millis keepalive{60000};
  Millis send{60000};
  Millis shutdown{30000};
};

// HTTP/2 server settings (top-level "http2"; gateway/http2/). Every limit is explicit; each hit is
// counted and logged once per connection.
struct Http2 {
  bool enabled = true;                    // h2c with prior knowledge on cleartext, "h2" in ALPN
  uint32_t max_concurrent_streams = 100;  // SETTINGS_MAX_CONCURRENT_STREAMS
  size_t max_header_list_bytes = 65536;   // decoded header list (name + value + 32 each): 431
  size_t max_header_fields = 100;         // fields per header list (pseudo-headers included): 431
  uint32_t initial_stream_window = 65535;       // SETTINGS_INITIAL_WINDOW_SIZE (request bodies)
  uint32_t initial_connection_window = 1048576; // connection-level receive window
  uint32_t max_frame_size = 16384;        // SETTINGS_MAX_FRAME_SIZE
  uint64_t reset_burst = 1000;            // nghttp2_option_set_stream_reset_rate_limit (Rapid Reset)
  uint64_t reset_rate = 33;               //   tokens per second
  size_t max_continuations = 8;           // CONTINUATION frames after one HEADERS
  size_t max_settings = 32;               // entries in one SETTINGS frame
  size_t max_outbound_acks = 1000;        // queued PING/SETTINGS ACKs (flood protection)
  uint32_t max_glitches = 100;            // invalid frames, stream errors, resets sent: then GOAWAY
  Millis idle_timeout{60000};             // no open stream for this long: GOAWAY and close
  Millis drain_notice{1000};              // graceful shutdown: between the two GOAWAY frames
};

enum class Balance { RoundRobin, LeastRequest };

// What an upstream speaks: HTTP/1.1 to plain HTTP servers, FastCGI or uwsgi to app workers, or
// files from a document root served by the gateway itself.
enum class UpstreamKind { Http, FastCgi, Uwsgi, Static };
const char* upstreamKindName(UpstreamKind k);

// Files served by the gateway itself (kind: static; gateway/upstream/static/).
struct StaticFiles {
  std::string root;            // canonical absolute path of an existing directory (checked at load)
  std::string index;           // file answered for "dir/" requests; empty = none (403)
  bool allow_dotfiles = false; // serve path segments starting with '.'
  std::string cache_control;   // Cache-Control on 200/206/304 answers; empty = none
  std::string mime_types;      // optional mime.types file extending the built-in table
};

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
  // X-Forwarded-* (and RFC 7239 Forwarded when enabled) toward this upstream: as headers for http,
  // as HTTP_X_FORWARDED_* vars for fastcgi/uwsgi. Default: on for http, off for fastcgi/uwsgi (the
  // app gets REMOTE_ADDR, HTTPS and SERVER_PORT instead, as from nginx's fastcgi_params).
  bool forwarded_headers = true;
  Millis fail_timeout{10000};
  // FastCGI / uwsgi worker pools (issue 4): concurrent requests per server per gateway worker
  // (0 = no cap), then a bounded wait queue (503 + Retry-After when full or after queue_timeout).
  size_t max_requests_per_server = 0;
  size_t queue_size = 100;
  Millis queue_timeout{5000};
  // Optional active health check: GET `path` through the upstream's protocol every `interval`;
  // a non-2xx/3xx answer, an error or `timeout` marks the server down until a probe succeeds.
  struct HealthCheck {
    std::string path = "/";
    std::string host = "localhost";
    Millis interval{5000};
    Millis timeout{2000};
    // The probe's CGI environ (php-fpm answers 404 without a SCRIPT_FILENAME of a real script).
    std::optional<std::string> script_filename;  // may hold {document_root}
    std::optional<std::string> document_root;
  };
  std::optional<HealthCheck> health_check;
  StaticFiles static_files;  // kind == Static only
};

// CGI environ settings of a route toward a FastCGI / uwsgi upstream. script_filename may hold
// {document_root} and {path_info} (percent-decoded), e.g. "{document_root}{path_info}".
struct RouteCgi {
  std::optional<std::string> script_filename;
  std::optional<std::string> document_root;
  std::vector<std::pair<std::string, std::string>> params;  // extra params, set last
};

// Digest authentication of one route (RFC 7616; gateway/auth/).
struct RouteAuth {
  std::string realm;
  std::string credentials;               // htdigest-format file (see README "Digest authentication")
  std::vector<std::string> users;        // allowed users; empty = any user of the realm
  std::vector<std::string> algorithms;   // RFC 7616 names; challenges are sent strongest first
  bool forward_authorization = false;    // keep the Authorization header toward the upstream
  bool authentication_info = false;      // send Authentication-Info (rspauth, nextnonce) on success
  bool auth_int = false;                 // also offer qop=auth-int (integrity of the request body)
  uint64_t auth_int_max_body = 1 << 20;  // bodies buffered for auth-int are refused (413) above this
};

struct Route {
  std::string name;
  std::vector<std::string> hosts;  // lower-case; "*.example.com" wildcards; empty = any host
  std::string prefix = "/";
  std::vector<std::string> methods;  // empty = any
  size_t upstream = 0;               // index into Config::upstreams
  bool strip_prefix = false;
  std::optional<RouteAuth> auth;
  std::optional<RouteCgi> cgi;  // only with a fastcgi / uwsgi upstream
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
  Millis failure_delay{250};                 // from max_failures/2 on, each 401 waits this much more (≤ 2 s)
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
  Http2 http2;
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
