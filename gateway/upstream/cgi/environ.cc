#include "upstream/cgi/environ.h"

#include "core/util.h"
#include "http/headers.h"

namespace gw::cgi {

const char* environErrorName(EnvironError e) {
  switch (e) {
    case EnvironError::BadPath: return "cgi_bad_path";
  }
  return "cgi_error";
}

namespace {

char toUpperAscii(char c) { return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c; }

std::string_view hostOf(std::string_view authority) {
  if (!authority.empty() && authority.front() == '[') {  // IPv6 literal
    size_t close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
  }
  return authority.substr(0, authority.find(':'));
}

}  // namespace

std::optional<std::string> percentDecodePath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%' && i + 2 < path.size()) {
      int hi = hexValue(path[i + 1]), lo = hexValue(path[i + 2]);
      if (hi >= 0 && lo >= 0) {
        c = char(hi * 16 + lo);
        i += 2;
      }
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

std::pair<std::string_view, std::string_view> splitScriptName(std::string_view path, std::string_view prefix) {
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  if (prefix.empty()) return {{}, path};
  if (path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/')) {
    return {prefix, path.substr(prefix.size())};
  }
  return {{}, path};
}

std::string cgiHeaderName(std::string_view field_name) {
  std::string n;
  n.reserve(5 + field_name.size());
  n += "HTTP_";
  for (char c : field_name) n.push_back(c == '-' ? '_' : toUpperAscii(c));
  return n;
}

proto::Expected<Environ, EnvironError> buildEnviron(const http::RequestHead& head, const EnvironOptions& o) {
  if (head.path.empty() || head.path.front() != '/') return proto::unexpected(EnvironError::BadPath);
  auto [script_name, path_info_raw] = splitScriptName(head.path, o.mount_prefix);
  auto path_info = percentDecodePath(path_info_raw);
  if (!path_info) return proto::unexpected(EnvironError::BadPath);

  Environ env;
  env.reserve(24 + head.headers.size());
  auto add = [&](std::string_view n, std::string_view v) { env.push_back(Var{std::string(n), std::string(v)}); };
  add("REQUEST_METHOD", head.method);
  add("SCRIPT_NAME", script_name);
  add("PATH_INFO", *path_info);
  add("REQUEST_URI", head.target());
  add("QUERY_STRING", head.query);
  if (const std::string* ct = head.headers.get("Content-Type")) add("CONTENT_TYPE", *ct);
  if (head.content_length) add("CONTENT_LENGTH", std::to_string(*head.content_length));
  add("SERVER_NAME", o.server_name.empty() ? hostOf(head.authority) : o.server_name);
  add("SERVER_PORT", std::to_string(o.server_port));
  add("SERVER_PROTOCOL", head.version_major >= 2 ? std::string("HTTP/2.0")
                                                  : "HTTP/" + std::to_string(head.version_major) + "." +
                                                        std::to_string(head.version_minor));
  add("GATEWAY_INTERFACE", "CGI/1.1");
  if (!o.server_software.empty()) add("SERVER_SOFTWARE", o.server_software);
  add("REMOTE_ADDR", o.remote_addr);
  add("REMOTE_PORT", std::to_string(o.remote_port));
  if (o.https) add("HTTPS", "on");
  if (o.remote_user) add("REMOTE_USER", *o.remote_user);
  if (o.script_filename) add("SCRIPT_FILENAME", *o.script_filename);
  if (o.document_root) add("DOCUMENT_ROOT", *o.document_root);

  // HTTP_*: first occurrence decides the position; later ones are combined into it.
  size_t first_http = env.size();
  bool have_host = false;
  for (const http::HeaderField& f : head.headers.fields()) {
    if (iequals(f.name, "Content-Type") || iequals(f.name, "Content-Length") || iequals(f.name, "Proxy")) continue;
    if (!o.allow_underscores_in_headers && f.name.find('_') != std::string::npos) continue;
    if (!http::isValidFieldName(f.name)) continue;  // codecs already refuse these; defence in depth
    if (iequals(f.name, "Host")) have_host = true;
    std::string name = cgiHeaderName(f.name);
    if (name == "HTTP_PROXY") continue;  // e.g. allowed "Proxy" spelled with '_' variants
    Var* existing = nullptr;
    for (size_t i = first_http; i < env.size(); ++i) {
      if (env[i].name == name) {
        existing = &env[i];
        break;
      }
    }
    if (existing) {
      existing->value += iequals(f.name, "Cookie") ? "; " : ", ";
      existing->value += f.value;
    } else {
      env.push_back(Var{std::move(name), f.value});
    }
  }
  if (!have_host && !head.authority.empty()) add("HTTP_HOST", head.authority);

  for (const auto& [n, v] : o.extra) {
    bool replaced = false;
    for (Var& var : env) {
      if (var.name == n) {
        var.value = v;
        replaced = true;
        break;
      }
    }
    if (!replaced) add(n, v);
  }
  return env;
}

}  // namespace gw::cgi
