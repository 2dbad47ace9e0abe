#include "validators/formats.h"

#include <arpa/inet.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>

namespace gw::validators {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isHex(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Reads exactly n digits at s[pos]; advances pos.
bool digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!isDigit(s[pos + i])) return false;
    v = v * 10 + (s[pos + i] - '0');
  }
  pos += n;
  out = v;
  return true;
}

bool isLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

bool parseDate(std::string_view s, size_t& pos) {
  int y, m, d;
  if (!digits(s, pos, 4, y) || pos >= s.size() || s[pos++] != '-') return false;
  if (!digits(s, pos, 2, m) || pos >= s.size() || s[pos++] != '-') return false;
  if (!digits(s, pos, 2, d)) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  int max_day = kDays[m - 1] + ((m == 2 && isLeap(y)) ? 1 : 0);
  return d <= max_day;
}

// RFC 3339 full-time. A leap second (:60) is valid only when the UTC time is 23:59.
bool parseTime(std::string_view s, size_t& pos) {
  int h, mi, se;
  if (!digits(s, pos, 2, h) || pos >= s.size() || s[pos++] != ':') return false;
  if (!digits(s, pos, 2, mi) || pos >= s.size() || s[pos++] != ':') return false;
  if (!digits(s, pos, 2, se)) return false;
  if (h > 23 || mi > 59 || se > 60) return false;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < s.size() && isDigit(s[pos])) ++pos;
    if (pos == start) return false;
  }
  if (pos >= s.size()) return false;
  int off_min = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int sign = s[pos] == '+' ? 1 : -1;
    ++pos;
    int oh, om;
    if (!digits(s, pos, 2, oh) || pos >= s.size() || s[pos++] != ':') return false;
    if (!digits(s, pos, 2, om)) return false;
    if (oh > 23 || om > 59) return false;
    off_min = sign * (oh * 60 + om);
  } else {
    return false;
  }
  if (se == 60) {
    int utc = ((h * 60 + mi - off_min) % 1440 + 1440) % 1440;
    if (utc != 23 * 60 + 59) return false;
  }
  return true;
}

bool checkDuration(std::string_view s) {
  // ISO 8601 duration as restricted by RFC 3339 appendix A: PnW | PnYnMnD[TnHnMnS] | PTnHnMnS
  if (s.size() < 2 || s[0] != 'P') return false;
  size_t pos = 1;
  bool in_time = false, any = false, weeks = false, time_any = false;
  const char* date_units = "YMD";
  const char* time_units = "HMS";
  int last_unit = -1;
  while (pos < s.size()) {
    if (s[pos] == 'T') {
      if (in_time) return false;
      in_time = true;
      last_unit = -1;
      ++pos;
      if (pos >= s.size()) return false;
      continue;
    }
    size_t start = pos;
    while (pos < s.size() && isDigit(s[pos])) ++pos;
    if (pos == start || pos >= s.size()) return false;
    char u = s[pos++];
    if (u == 'W') {
      if (in_time || any) return false;
      weeks = true;
      any = true;
      continue;
    }
    if (weeks) return false;
    const char* units = in_time ? time_units : date_units;
    int idx = -1;
    for (int i = 0; i < 3; ++i)
      if (units[i] == u) idx = i;
    // RFC 3339 appendix A: units come in order and none is skipped once started (P1Y2D and
    // PT1H2S are invalid).
    if (idx < 0 || idx <= last_unit || (last_unit >= 0 && idx != last_unit + 1)) return false;
    last_unit = idx;
    any = true;
    if (in_time) time_any = true;
  }
  if (in_time && !time_any) return false;
  return any;
}

bool checkHostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t label = 0;
  char prev = '.';
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else if (isAlpha(c) || isDigit(c) || c == '-') {
      if (label == 0 && c == '-') return false;
      if (++label > 63) return false;
    } else {
      return false;
    }
    prev = c;
  }
  return label > 0 && prev != '-';
}

bool checkIpv4(std::string_view s) {
  int parts = 0;
  size_t pos = 0;
  while (true) {
    size_t start = pos;
    int v = 0;
    while (pos < s.size() && isDigit(s[pos]) && pos - start < 4) v = v * 10 + (s[pos++] - '0');
    size_t len = pos - start;
    if (len == 0 || len > 3 || v > 255 || (len > 1 && s[start] == '0')) return false;
    ++parts;
    if (pos == s.size()) break;
    if (s[pos] != '.' || parts == 4) return false;
    ++pos;
  }
  return parts == 4;
}

bool checkIpv6(std::string_view s) {
  if (s.size() > 45) return false;
  for (char c : s)
    if (!(isHex(c) || c == ':' || c == '.')) return false;
  char buf[64];
  std::copy(s.begin(), s.end(), buf);
  buf[s.size()] = 0;
  unsigned char out[16];
  return inet_pton(AF_INET6, buf, out) == 1;
}

bool checkEmail(std::string_view s) {
  size_t at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= s.size()) return false;
  std::string_view local = s.substr(0, at), domain = s.substr(at + 1);
  if (local.size() > 64) return false;
  if (local.front() == '"') {
    if (local.size() < 2 || local.back() != '"') return false;
  } else {
    static constexpr std::string_view kAtext = "!#$%&'*+-/=?^_`{|}~";
    char prev = '.';
    for (char c : local) {
      if (c == '.') {
        if (prev == '.') return false;
      } else if (!(isAlpha(c) || isDigit(c) || kAtext.find(c) != std::string_view::npos ||
                   static_cast<unsigned char>(c) >= 0x80)) {
        return false;
      }
      prev = c;
    }
    if (prev == '.') return false;
  }
  if (domain.front() == '[') {
    if (domain.back() != ']') return false;
    std::string_view lit = domain.substr(1, domain.size() - 2);
    if (lit.substr(0, 5) == "IPv6:") return checkIpv6(lit.substr(5));
    return checkIpv4(lit);
  }
  return checkHostname(domain);
}

bool checkUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!isHex(s[i])) {
      return false;
    }
  }
  return true;
}

// RFC 3986 character classes.
bool isUnreserved(char c) {
  return isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool isSubDelim(char c) {
  return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
}

// Checks that every character of `part` is allowed (extra = additional allowed chars) and
// that '%' starts a valid escape.
bool validChars(std::string_view part, std::string_view extra) {
  for (size_t i = 0; i < part.size(); ++i) {
    char c = part[i];
    if (c == '%') {
      if (i + 2 >= part.size()) return false;
      if (!isHex(part[i + 1]) || !isHex(part[i + 2])) return false;
      i += 2;
    } else if (!(isUnreserved(c) || isSubDelim(c) || extra.find(c) != std::string_view::npos)) {
      return false;
    }
  }
  return true;
}

bool checkAuthority(std::string_view a) {
  size_t at = a.rfind('@');
  if (at != std::string_view::npos) {
    if (!validChars(a.substr(0, at), ":")) return false;
    a = a.substr(at + 1);
  }
  if (!a.empty() && a.front() == '[') {
    size_t close = a.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view lit = a.substr(1, close - 1);
    if (!lit.empty() && (lit[0] == 'v' || lit[0] == 'V')) {
      if (!validChars(lit, ":")) return false;
    } else if (!checkIpv6(lit)) {
      return false;
    }
    a = a.substr(close + 1);
    if (a.empty()) return true;
    if (a[0] != ':') return false;
    for (char c : a.substr(1))
      if (!isDigit(c)) return false;
    return true;
  }
  size_t colon = a.rfind(':');
  if (colon != std::string_view::npos) {
    for (char c : a.substr(colon + 1))
      if (!isDigit(c)) return false;
    a = a.substr(0, colon);
  }
  return validChars(a, "");
}

// Checks hier-part / relative-part + query + fragment (everything after "scheme:").
bool checkUriRest(std::string_view rest) {
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) {
    if (!validChars(rest.substr(hash + 1), ":@/?")) return false;
    rest = rest.substr(0, hash);
  }
  size_t q = rest.find('?');
  if (q != std::string_view::npos) {
    if (!validChars(rest.substr(q + 1), ":@/?")) return false;
    rest = rest.substr(0, q);
  }
  if (rest.substr(0, 2) == "//") {
    rest = rest.substr(2);
    size_t slash = rest.find('/');
    std::string_view auth = rest.substr(0, slash);
    if (!checkAuthority(auth)) return false;
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }
  return validChars(rest, ":@/");
}

bool schemeEnd(std::string_view s, size_t& colon) {
  if (s.empty() || !isAlpha(s[0])) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == ':') {
      colon = i;
      return true;
    }
    if (!(isAlpha(c) || isDigit(c) || c == '+' || c == '-' || c == '.')) return false;
  }
  return false;
}

bool checkUri(std::string_view s) {
  size_t colon;
  if (!schemeEnd(s, colon)) return false;
  return checkUriRest(s.substr(colon + 1));
}

bool checkUriReference(std::string_view s) {
  size_t colon;
  if (schemeEnd(s, colon)) return checkUriRest(s.substr(colon + 1));
  // relative-ref: a first path segment must not contain ':'
  size_t end = s.find_first_of("/?#");
  if (s.substr(0, end).find(':') != std::string_view::npos) return false;
  return checkUriRest(s);
}

bool checkByte(std::string_view s) {
  if (s.size() % 4 != 0) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (isAlpha(c) || isDigit(c) || c == '+' || c == '/') continue;
    if (c == '=' && i >= s.size() - 2) {
      if (i == s.size() - 2 && s[i + 1] != '=') return false;
      continue;
    }
    return false;
  }
  return true;
}

bool checkJsonPointer(std::string_view s) {
  if (s.empty()) return true;
  if (s[0] != '/') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '~' && (i + 1 >= s.size() || (s[i + 1] != '0' && s[i + 1] != '1'))) return false;
  }
  return true;
}

bool checkRelativeJsonPointer(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size() && isDigit(s[pos])) ++pos;
  if (pos == 0 || (pos > 1 && s[0] == '0')) return false;
  std::string_view rest = s.substr(pos);
  return rest == "#" || checkJsonPointer(rest);
}

}  // namespace

FormatKind formatKindFromName(std::string_view n) {
  struct Entry {
    std::string_view name;
    FormatKind kind;
  };
  static constexpr Entry kTable[] = {
      {"date", FormatKind::Date},         {"date-time", FormatKind::DateTime},
      {"time", FormatKind::Time},         {"duration", FormatKind::Duration},
      {"email", FormatKind::Email},       {"uuid", FormatKind::Uuid},
      {"uri", FormatKind::Uri},           {"uri-reference", FormatKind::UriReference},
      {"hostname", FormatKind::Hostname}, {"ipv4", FormatKind::Ipv4},
      {"ipv6", FormatKind::Ipv6},         {"byte", FormatKind::Byte},
      {"json-pointer", FormatKind::JsonPointer},
      {"relative-json-pointer", FormatKind::RelativeJsonPointer},
      {"binary", FormatKind::Binary},     {"password", FormatKind::Password},
      {"int32", FormatKind::Int32},       {"int64", FormatKind::Int64},
      {"float", FormatKind::Float},       {"double", FormatKind::Double},
  };
  for (const auto& e : kTable)
    if (e.name == n) return e.kind;
  return FormatKind::Unknown;
}

bool isNumericFormat(FormatKind k) {
  return k == FormatKind::Int32 || k == FormatKind::Int64 || k == FormatKind::Float ||
         k == FormatKind::Double;
}

bool checkStringFormat(FormatKind kind, std::string_view s) {
  size_t pos = 0;
  switch (kind) {
    case FormatKind::Date:
      return parseDate(s, pos) && pos == s.size();
    case FormatKind::Time:
      return parseTime(s, pos) && pos == s.size();
    case FormatKind::DateTime:
      if (!parseDate(s, pos) || pos >= s.size() || (s[pos] != 'T' && s[pos] != 't')) return false;
      ++pos;
      return parseTime(s, pos) && pos == s.size();
    case FormatKind::Duration: return checkDuration(s);
    case FormatKind::Email: return checkEmail(s);
    case FormatKind::Uuid: return checkUuid(s);
    case FormatKind::Uri: return checkUri(s);
    case FormatKind::UriReference: return checkUriReference(s);
    case FormatKind::Hostname: return checkHostname(s);
    case FormatKind::Ipv4: return checkIpv4(s);
    case FormatKind::Ipv6: return checkIpv6(s);
    case FormatKind::Byte: return checkByte(s);
    case FormatKind::JsonPointer: return checkJsonPointer(s);
    case FormatKind::RelativeJsonPointer: return checkRelativeJsonPointer(s);
    default: return true;
  }
}

bool checkNumberFormat(FormatKind kind, double value, bool is_integer, bool is_int64,
                       long long int_value) {
  switch (kind) {
    case FormatKind::Int32:
      if (!is_integer) return false;
      if (is_int64) return int_value >= INT32_MIN && int_value <= INT32_MAX;
      return value >= INT32_MIN && value <= INT32_MAX;
    case FormatKind::Int64:
      if (!is_integer) return false;
      if (is_int64) return true;
      return value >= -9223372036854775808.0 && value < 9223372036854775808.0;
    case FormatKind::Float:
      return std::isfinite(value) && std::fabs(value) <= FLT_MAX;
    case FormatKind::Double:
      return std::isfinite(value);
    default:
      return true;
  }
}

}  // namespace gw::validators
