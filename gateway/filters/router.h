#pragma once
// Route matching: an ordered list; the first route whose Host pattern, path prefix and method
// list all match wins. Host patterns are exact ("api.example.com") or wildcards
// ("*.example.com" matches any sub-domain, not the apex; "*" matches all). Prefixes match on
// segment boundaries ("/api" matches "/api" and "/api/x", not "/apix"). No match: 404; a path
// that matches only with another method: 405 with Allow. Dot-segments are refused (400) so a
// prefix can never be escaped upstream.
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "http/filter.h"

namespace gw::filters {

class RouteTable {
 public:
  explicit RouteTable(config::ConfigConstSharedPtr cfg) : cfg_(std::move(cfg)) {}

  struct Match {
    const config::Route* route = nullptr;
    std::vector<std::string> allowed;  // when route is null but the path matched other methods
  };
  Match match(std::string_view authority, std::string_view path, std::string_view method) const;

  static bool hostMatches(const std::string& pattern, std::string_view host);
  static bool prefixMatches(const std::string& prefix, std::string_view path);
  // "Host: Example.COM:8080" → "example.com"; "[::1]:80" → "[::1]".
  static std::string normalizeHost(std::string_view authority);
  // True if the path has a "." or ".." segment, plain or percent-encoded.
  static bool hasDotSegment(std::string_view path);
  // The path the upstream sees after stripping `prefix`.
  static std::string stripPrefix(const std::string& prefix, std::string_view path);

 private:
  config::ConfigConstSharedPtr cfg_;
};

class RouterFilter : public http::StreamFilter {
 public:
  explicit RouterFilter(std::shared_ptr<const RouteTable> table) : table_(std::move(table)) {}
  http::FilterStatus onRequestHeaders(http::RequestHead& head, bool end_stream) override;

 private:
  std::shared_ptr<const RouteTable> table_;
};

}  // namespace gw::filters
