#pragma once
// ASCII case helpers shared by the validators' translation units (HTTP field names, media types,
// parameter names). validators/ stands alone, so it does not use gateway/core.
#include <string>
#include <string_view>

namespace gw::validators::text {

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

inline std::string lowerAscii(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = lower(c);
  return out;
}

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace gw::validators::text
