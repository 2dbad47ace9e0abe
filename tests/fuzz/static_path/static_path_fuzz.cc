// Fuzzes the static-file upstream's pure logic (gateway/upstream/static/static_logic.h). The input
// is split on '\n' into: a request path, a Range header, a file size (decimal), and a conditional
// header value (used as If-None-Match / If-Modified-Since / If-Range).
// Checks: no crash; resolved segments are never empty, ".", "..", never contain '/', '\\' or NUL,
// and start with '.' only when dotfiles are allowed; a Single range lies inside the file; a
// parsed date formats and parses back to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "upstream/static/static_logic.h"

using namespace gw::statics;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts;
  while (parts.size() < 3) {
    size_t nl = in.find('\n');
    parts.push_back(in.substr(0, nl));
    if (nl == std::string_view::npos) {
      in = {};
      break;
    }
    in.remove_prefix(nl + 1);
  }
  parts.push_back(in);
  while (parts.size() < 4) parts.emplace_back();

  for (bool dots : {false, true}) {
    ResolvedPath r = resolvePath(parts[0], dots);
    if (r.error != PathError::None) {
      if (pathErrorStatus(r.error) != 400 && pathErrorStatus(r.error) != 404) __builtin_trap();
      continue;
    }
    for (const auto& s : r.segments) {
      if (s.empty() || s == "." || s == "..") __builtin_trap();
      if (s.find('/') != std::string::npos || s.find('\\') != std::string::npos ||
          s.find('\0') != std::string::npos) {
        __builtin_trap();
      }
      if (!dots && s[0] == '.') __builtin_trap();
    }
    std::string rel = r.relative();
    if (!rel.empty() && (rel.front() == '/' || rel.back() == '/')) __builtin_trap();
  }

  uint64_t file_size = 0;
  for (char c : parts[2].substr(0, 18)) {
    if (c >= '0' && c <= '9') file_size = file_size * 10 + static_cast<uint64_t>(c - '0');
  }
  RangeResult rr = parseRange(parts[1], file_size);
  if (rr.kind == RangeResult::Single && (rr.first > rr.last || rr.last >= file_size)) __builtin_trap();

  std::string cond(parts[3]);
  if (auto d = parseHttpDate(cond)) {
    if (*d >= 0 && *d < 253402300800LL) {  // years 1970..9999 format back to an IMF-fixdate
      if (parseHttpDate(formatHttpDate(*d)) != *d) __builtin_trap();
    }
  }
  Validators v{makeEtag(file_size, 1700000000, 5), 1700000000};
  ConditionalHeaders h;
  h.if_none_match = cond;
  (void)evaluatePreconditions(h, v, true);
  h = {};
  h.if_modified_since = cond;
  h.if_match = cond;
  (void)evaluatePreconditions(h, v, true);
  (void)ifRangeMatches(cond, v);
  if (etagListMatches(v.etag, v.etag, false) != true) __builtin_trap();
  return 0;
}
