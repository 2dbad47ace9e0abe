#pragma once
// The CGI 1.1 (RFC 3875 §4.1) / WSGI (PEP 3333) environ built from a request head, shared by the
// FastCGI PARAMS stream and the uwsgi vars packet.
//
//   REQUEST_METHOD, SCRIPT_NAME (the route's mount prefix), PATH_INFO (the rest of the path,
//   percent-decoded), REQUEST_URI (as received), QUERY_STRING, CONTENT_TYPE, CONTENT_LENGTH (only
//   when known), SERVER_NAME, SERVER_PORT, SERVER_PROTOCOL, GATEWAY_INTERFACE, SERVER_SOFTWARE,
//   REMOTE_ADDR, REMOTE_PORT, HTTPS=on (TLS only), REMOTE_USER (if authenticated),
//   DOCUMENT_ROOT (if configured), then HTTP_* for each request header.
//
// HTTP_*: name upper-cased with '-' → '_'; repeated fields combined with ", " ("; " for Cookie);
// Content-Type and Content-Length are only CONTENT_*; a `Proxy` header is never passed (httpoxy,
// CVE-2016-5385); names containing '_' are dropped unless allowed (they would alias a '-' name,
// as nginx's underscores_in_headers off). If there is no Host field, HTTP_HOST comes from the
// authority (HTTP/2). Extra params are applied last and replace a var of the same name (in its
// place; the last param of a name wins); the others follow, in order. SCRIPT_FILENAME (if
// configured) comes last of all, or replaces a param of that name in its place.
//
// writeEnviron() hands the variables to a sink one by one, without building the environ: values
// are views into the head and options wherever they can be (the FastCGI / uwsgi encoders append
// them straight to their wire format). buildEnviron() collects the same into a vector.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/message.h"
#include "upstream/cgi/expected.h"

namespace gw::cgi {

struct Var {
  std::string name;
  std::string value;
};
using Environ = std::vector<Var>;

struct EnvironOptions {
  std::string_view mount_prefix;  // SCRIPT_NAME; a trailing '/' is ignored; "" = mounted at root
  std::string_view path;          // "" = the head's path; else used instead (e.g. the path as received
                                  // when the router stripped the route's prefix from the head's)
  std::string_view server_name;   // "" = host part of the authority
  uint16_t server_port = 80;
  std::string_view remote_addr;   // the real client after trusted-proxy resolution
  uint16_t remote_port = 0;       // 0 = not known (a trusted proxy stood in between): not sent
  bool https = false;
  std::optional<std::string_view> remote_user;
  // PHP. {document_root} and {path_info} in script_filename are replaced by the environ's final
  // DOCUMENT_ROOT and PATH_INFO values (params included), e.g. "{document_root}{path_info}".
  std::optional<std::string_view> script_filename;
  std::optional<std::string_view> document_root;
  bool allow_underscores_in_headers = false;
  std::string_view server_software = "gatewayd";
  std::span<const std::pair<std::string, std::string>> extra;  // per-route params; not owned
  // HTTP_X_FORWARDED_* vars the gateway adds (an upstream's forwarded_headers), written after the
  // request's own fields, whose forwarding fields (a trusted proxy's) they replace. Not owned;
  // empty values are not sent.
  std::span<const std::pair<std::string_view, std::string_view>> forwarded;
};

enum class EnvironError {
  BadPath,  // the path decodes to a NUL byte, or does not start with '/'
};
const char* environErrorName(EnvironError e);  // "cgi_bad_path"

// Percent-decodes a path (RFC 3986 §2.1). Invalid escapes are kept as they are; '+' is not a space.
// nullopt if the result would hold a NUL byte.
std::optional<std::string> percentDecodePath(std::string_view path);

// Splits `path` (encoded, as received) at the mount prefix: {SCRIPT_NAME, encoded PATH_INFO}. A
// path that is not under the prefix (segment-wise) gives {"", path}.
std::pair<std::string_view, std::string_view> splitScriptName(std::string_view path, std::string_view prefix);

// HTTP_* name for a header field name ("X-Forwarded-For" → "HTTP_X_FORWARDED_FOR").
std::string cgiHeaderName(std::string_view field_name);

// Receives the environ one variable at a time, in order. Names are unique. The views are valid
// during the call only.
class EnvironSink {
 public:
  virtual ~EnvironSink() = default;
  virtual void onVar(std::string_view name, std::string_view value) = 0;
};

// Hands the environ to `sink`. On error nothing has been handed over. Allocates only to combine
// repeated header fields, percent-decode PATH_INFO, join REQUEST_URI with a query, expand
// script_filename, track params, or build an HTTP_* name of a very long field name.
proto::Expected<void, EnvironError> writeEnviron(const http::RequestHead& head, const EnvironOptions& options,
                                                 EnvironSink& sink);

// writeEnviron() collected into a vector (tests, fuzzing).
proto::Expected<Environ, EnvironError> buildEnviron(const http::RequestHead& head, const EnvironOptions& options);

}  // namespace gw::cgi
