#include "filters/router.h"

#include <algorithm>

#include "core/util.h"

namespace gw::filters {

std::string RouteTable::normalizeHost(std::string_view authority) {
  std::string_view host = authority;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close != std::string_view::npos) host = host.substr(0, close + 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);  // "example.com." is the same name
  return toLower(host);
}

bool RouteTable::hostMatches(const std::string& pattern, std::string_view host) {
  if (pattern == "*") return true;
  if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
    std::string_view suffix = std::string_view(pattern).substr(1);  // ".example.com"
    return host.size() > suffix.size() && host.ends_with(suffix);
  }
  return host == pattern;
}

bool RouteTable::prefixMatches(const std::string& prefix, std::string_view path) {
  if (!path.starts_with(prefix)) return false;
  if (path.size() == prefix.size() || prefix.back() == '/') return true;
  return path[prefix.size()] == '/';
}

bool RouteTable::hasDotSegment(std::string_view path) {
  // No dot, plain or percent-encoded: no dot segment (most paths), without decoding.
  if (std::none_of(path.begin(), path.end(), [](char c) { return c == '.' || c == '%'; })) return false;
  // Decode only %2e/%2E (dots) and %2f/%2F (slashes) to find segments; compare segment-wise.
  std::string decoded;
  decoded.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size()) {
      char a = path[i + 1], b = static_cast<char>(path[i + 2] | 0x20);
      if (a == '2' && (b == 'e' || b == 'f')) {
        decoded += b == 'e' ? '.' : '/';
        i += 2;
        continue;
      }
    }
    decoded += path[i] == '\\' ? '/' : path[i];
  }
  size_t start = 0;
  while (start <= decoded.size()) {
    size_t end = decoded.find('/', start);
    if (end == std::string::npos) end = decoded.size();
    std::string_view seg = std::string_view(decoded).substr(start, end - start);
    if (seg == "." || seg == "..") return true;
    start = end + 1;
  }
  return false;
}

std::string RouteTable::stripPrefix(const std::string& prefix, std::string_view path) {
  std::string_view rest = path.substr(prefix.size());
  if (rest.empty() || rest.front() != '/') return "/" + std::string(rest);
  return std::string(rest);
}

RouteTable::Match RouteTable::match(std::string_view authority, std::string_view path, std::string_view method) const {
  Match m;
  const std::string host = normalizeHost(authority);
  for (const auto& r : cfg_->routes) {
    if (!r.hosts.empty()) {
      bool any = false;
      for (const auto& p : r.hosts) any = any || hostMatches(normalizeHost(p), host);
      if (!any) continue;
    }
    if (!prefixMatches(r.prefix, path)) continue;
    if (!r.methods.empty()) {
      bool ok = false;
      for (const auto& mm : r.methods) ok = ok || mm == method;
      if (!ok) {
        for (const auto& mm : r.methods) {
          if (std::find(m.allowed.begin(), m.allowed.end(), mm) == m.allowed.end()) m.allowed.push_back(mm);
        }
        continue;
      }
    }
    m.route = &r;
    return m;
  }
  return m;
}

http::FilterStatus RouterFilter::onRequestHeaders(http::RequestHead& head, bool) {
  if (head.path == "*") {  // OPTIONS * concerns the gateway itself
    http::HeaderMap extra;
    extra.add("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    callbacks().sendLocalReply(200, "options", "server-wide OPTIONS", &extra);
    return http::FilterStatus::StopIteration;
  }
  if (RouteTable::hasDotSegment(head.path)) {
    callbacks().sendLocalReply(400, "dot_segment_in_path", "paths with '.' or '..' segments are refused");
    return http::FilterStatus::StopIteration;
  }
  auto m = table_->match(head.authority, head.path, head.method);
  if (!m.route) {
    if (!m.allowed.empty()) {
      std::string allow;
      for (const auto& a : m.allowed) allow += (allow.empty() ? "" : ", ") + a;
      http::HeaderMap extra;
      extra.add("Allow", allow);
      callbacks().sendLocalReply(405, "method_not_allowed", "this path does not accept " + head.method, &extra);
    } else {
      callbacks().sendLocalReply(404, "route_not_found", "no route matches this host and path");
    }
    return http::FilterStatus::StopIteration;
  }
  callbacks().streamInfo().route = m.route;
  if (m.route->strip_prefix) head.path = RouteTable::stripPrefix(m.route->prefix, head.path);
  return http::FilterStatus::Continue;
}

}  // namespace gw::filters
