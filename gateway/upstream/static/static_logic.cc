#include "upstream/static/static_logic.h"

#include <ctime>

#include "core/util.h"

namespace gw::statics {

namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kLongDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil):
// no timegm(), which depends on the TZ environment on some libcs.
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// Fixed-width decimal of exactly `n` digits at s[pos].
std::optional<int> digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::optional<int> monthIndex(std::string_view s) {
  for (int i = 0; i < 12; ++i) {
    if (s == kMonths[i]) return i + 1;
  }
  return std::nullopt;
}

// "HH:MM:SS" at pos.
bool parseClock(std::string_view s, size_t pos, int& h, int& m, int& sec) {
  auto a = digits(s, pos, 2), b = digits(s, pos + 3, 2), c = digits(s, pos + 6, 2);
  if (!a || !b || !c || pos + 8 > s.size() || s[pos + 2] != ':' || s[pos + 5] != ':') return false;
  h = *a;
  m = *b;
  sec = *c;
  return h < 24 && m < 60 && sec < 61;  // 60: leap second, accepted and clamped below
}

std::optional<int64_t> toUnix(int year, int month, int day, int h, int m, int s) {
  static constexpr int kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDaysIn[month - 1]) return std::nullopt;
  if (s == 60) s = 59;
  return daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 + h * 3600 + m * 60 + s;
}

// One entity-tag at the front of `s` (W/ prefix allowed); advances `s`. nullopt if malformed.
std::optional<std::string_view> takeEtag(std::string_view& s, bool& weak) {
  weak = false;
  if (s.size() >= 2 && s[0] == 'W' && s[1] == '/') {
    weak = true;
    s.remove_prefix(2);
  }
  if (s.empty() || s[0] != '"') return std::nullopt;
  size_t end = s.find('"', 1);
  if (end == std::string_view::npos) return std::nullopt;
  for (size_t i = 1; i < end; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c != 0x21 && (c < 0x23 || c == 0x7f)) return std::nullopt;  // etagc = %x21 / %x23-7E / obs-text
  }
  std::string_view tag = s.substr(0, end + 1);
  s.remove_prefix(end + 1);
  return tag;
}

// Decimal without sign; saturates at UINT64_MAX instead of overflowing.
std::optional<uint64_t> parseDecimal(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t d = static_cast<uint64_t>(c - '0');
    v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
  }
  return v;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Paths

const char* pathErrorCode(PathError e) {
  switch (e) {
    case PathError::None: return "";
    case PathError::BadEscape: return "static_bad_escape";
    case PathError::EncodedSlash: return "static_encoded_slash";
    case PathError::Nul: return "static_nul_in_path";
    case PathError::Backslash: return "static_backslash_in_path";
    case PathError::DotSegment: return "static_dot_segment";
    case PathError::Dotfile: return "static_dotfile";
    case PathError::NotOrigin: return "static_bad_path";
  }
  return "static_bad_path";
}

int pathErrorStatus(PathError e) { return e == PathError::Dotfile ? 404 : 400; }

std::string ResolvedPath::relative() const {
  std::string out;
  for (const auto& s : segments) {
    if (!out.empty()) out += '/';
    out += s;
  }
  return out;
}

ResolvedPath resolvePath(std::string_view raw, bool allow_dotfiles) {
  ResolvedPath r;
  if (raw.empty() || raw[0] != '/') {
    r.error = PathError::NotOrigin;
    return r;
  }
  std::string current;
  bool in_segment = false;
  auto finish = [&]() -> bool {
    if (!in_segment) return true;  // "//": empty segment, merged
    if (current == "." || current == "..") {
      r.error = PathError::DotSegment;
      return false;
    }
    if (current[0] == '.' && !allow_dotfiles) {
      r.error = PathError::Dotfile;
      return false;
    }
    r.segments.push_back(std::move(current));
    current.clear();
    in_segment = false;
    return true;
  };
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '/') {
      if (!finish()) return r;
      continue;
    }
    if (c == '%') {
      if (i + 2 >= raw.size() || hexValue(raw[i + 1]) < 0 || hexValue(raw[i + 2]) < 0) {
        r.error = PathError::BadEscape;
        return r;
      }
      c = static_cast<char>(hexValue(raw[i + 1]) * 16 + hexValue(raw[i + 2]));
      i += 2;
      if (c == '/') {
        r.error = PathError::EncodedSlash;
        return r;
      }
    }
    if (c == '\0') {
      r.error = PathError::Nul;
      return r;
    }
    if (c == '\\') {
      r.error = PathError::Backslash;
      return r;
    }
    current += c;
    in_segment = true;
  }
  r.trailing_slash = raw.back() == '/';
  if (!finish()) return r;
  if (r.segments.empty()) r.trailing_slash = true;  // "/" is the root directory
  return r;
}

// ---------------------------------------------------------------------------------------------
// Dates and entity tags

std::string formatHttpDate(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  tm g;
  gmtime_r(&tt, &g);
  char buf[40];
  snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[g.tm_wday % 7], g.tm_mday,
           kMonths[g.tm_mon % 12], g.tm_year + 1900, g.tm_hour, g.tm_min, g.tm_sec);
  return buf;
}

std::optional<int64_t> parseHttpDate(std::string_view s) {
  s = trim(s);
  int h = 0, mi = 0, se = 0;
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (29 characters)
  if (s.size() == 29 && s[3] == ',' && s[4] == ' ' && s[7] == ' ' && s[11] == ' ' && s[16] == ' ' &&
      s[25] == ' ' && s.substr(26) == "GMT") {
    bool day_ok = false;
    for (auto* d : kDays) day_ok |= s.substr(0, 3) == d;
    auto day = digits(s, 5, 2);
    auto mon = monthIndex(s.substr(8, 3));
    auto year = digits(s, 12, 4);
    if (!day_ok || !day || !mon || !year || !parseClock(s, 17, h, mi, se)) return std::nullopt;
    return toUnix(*year, *mon, *day, h, mi, se);
  }
  // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
  if (size_t comma = s.find(','); comma != std::string_view::npos && comma >= 6 && comma <= 9) {
    bool day_ok = false;
    for (auto* d : kLongDays) day_ok |= s.substr(0, comma) == d;
    std::string_view rest = s.substr(comma + 1);
    if (!day_ok || rest.size() != 23 || rest[0] != ' ' || rest[3] != '-' || rest[7] != '-' || rest[10] != ' ' ||
        rest[19] != ' ' || rest.substr(20) != "GMT") {
      return std::nullopt;
    }
    auto day = digits(rest, 1, 2);
    auto mon = monthIndex(rest.substr(4, 3));
    auto yy = digits(rest, 8, 2);
    if (!day || !mon || !yy || !parseClock(rest, 11, h, mi, se)) return std::nullopt;
    // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is in the past century.
    time_t now = time(nullptr);
    tm g;
    gmtime_r(&now, &g);
    int cur = g.tm_year + 1900;
    int year = cur / 100 * 100 + *yy;
    if (year > cur + 50) year -= 100;
    return toUnix(year, *mon, *day, h, mi, se);
  }
  // asctime: "Sun Nov  6 08:49:37 1994"
  if (s.size() == 24 && s[3] == ' ' && s[7] == ' ' && s[10] == ' ' && s[19] == ' ') {
    bool day_ok = false;
    for (auto* d : kDays) day_ok |= s.substr(0, 3) == d;
    auto mon = monthIndex(s.substr(4, 3));
    std::optional<int> day = s[8] == ' ' ? digits(s, 9, 1) : digits(s, 8, 2);
    auto year = digits(s, 20, 4);
    if (!day_ok || !mon || !day || !year || !parseClock(s, 11, h, mi, se)) return std::nullopt;
    return toUnix(*year, *mon, *day, h, mi, se);
  }
  return std::nullopt;
}

std::string makeEtag(uint64_t size, int64_t mtime_sec, long mtime_nsec) {
  char buf[64];
  snprintf(buf, sizeof(buf), "\"%llx.%lx-%llx\"", static_cast<unsigned long long>(mtime_sec),
           static_cast<unsigned long>(mtime_nsec), static_cast<unsigned long long>(size));
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Conditional requests

bool etagListMatches(std::string_view list, std::string_view etag, bool weak) {
  list = trim(list);
  if (list == "*") return true;
  // Our own tag, without any W/ prefix, for the comparison of opaque-tags.
  bool own_weak = false;
  std::string_view own = etag;
  std::string_view own_tag_view = own;
  auto own_tag = takeEtag(own_tag_view, own_weak);
  if (!own_tag) return false;
  if (own_weak && !weak) return false;
  bool matched = false;
  while (true) {
    // RFC 9110 §5.6.1: empty list elements are allowed ("a, , b").
    while (!list.empty() && (list.front() == ' ' || list.front() == '\t' || list.front() == ',')) list.remove_prefix(1);
    if (list.empty()) break;
    bool tag_weak = false;
    auto tag = takeEtag(list, tag_weak);
    if (!tag) return false;  // malformed: treated as no match (never a spurious 304)
    if ((weak || !tag_weak) && *tag == *own_tag) matched = true;
    list = trim(list);
    if (!list.empty() && list.front() != ',') return false;
  }
  return matched;
}

Precondition evaluatePreconditions(const ConditionalHeaders& h, const Validators& v, bool get_or_head) {
  // Step 1/2: If-Match, else If-Unmodified-Since.
  if (h.if_match) {
    if (!etagListMatches(*h.if_match, v.etag, /*weak=*/false)) return Precondition::Failed;
  } else if (h.if_unmodified_since) {
    if (auto d = parseHttpDate(*h.if_unmodified_since); d && v.last_modified > *d) return Precondition::Failed;
  }
  // Step 3/4: If-None-Match, else If-Modified-Since (GET/HEAD only).
  if (h.if_none_match) {
    if (etagListMatches(*h.if_none_match, v.etag, /*weak=*/true)) {
      return get_or_head ? Precondition::NotModified : Precondition::Failed;
    }
  } else if (h.if_modified_since && get_or_head) {
    if (auto d = parseHttpDate(*h.if_modified_since); d && v.last_modified <= *d) return Precondition::NotModified;
  }
  return Precondition::Proceed;
}

bool ifRangeMatches(std::string_view if_range, const Validators& v) {
  if_range = trim(if_range);
  if (if_range.empty()) return false;
  if (if_range[0] == '"' || if_range.starts_with("W/")) {
    std::string_view rest = if_range;
    bool weak = false;
    auto tag = takeEtag(rest, weak);
    if (!tag || weak || !trim(rest).empty()) return false;
    return *tag == v.etag;
  }
  auto d = parseHttpDate(if_range);
  return d && *d == v.last_modified;
}

// ---------------------------------------------------------------------------------------------
// Ranges

RangeResult parseRange(std::string_view header, uint64_t size) {
  RangeResult out;
  std::string_view s = trim(header);
  size_t eq = s.find('=');
  if (eq == std::string_view::npos || !iequals(trim(s.substr(0, eq)), "bytes")) return out;  // Ignore
  s = s.substr(eq + 1);
  size_t specs = 0, satisfiable = 0;
  uint64_t first_sat = 0, last_sat = 0;
  while (true) {
    size_t comma = s.find(',');
    std::string_view spec = trim(s.substr(0, comma));
    if (!spec.empty()) {  // empty list elements are allowed
      if (++specs > kMaxRanges) return RangeResult{};
      size_t dash = spec.find('-');
      if (dash == std::string_view::npos) return RangeResult{};
      std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
      uint64_t first = 0, last = 0;
      bool sat = false;
      if (a.empty()) {  // suffix-range: the last N bytes
        auto n = parseDecimal(b);
        if (!n) return RangeResult{};
        if (*n > 0 && size > 0) {
          sat = true;
          first = *n >= size ? 0 : size - *n;
          last = size - 1;
        }
      } else {
        auto f = parseDecimal(a);
        if (!f) return RangeResult{};
        std::optional<uint64_t> l;
        if (!b.empty()) {
          l = parseDecimal(b);
          if (!l || *l < *f) return RangeResult{};  // invalid syntax: the whole header is ignored
        }
        if (*f < size) {
          sat = true;
          first = *f;
          last = (!l || *l >= size) ? size - 1 : *l;
        }
      }
      if (sat) {
        if (satisfiable++ == 0) {
          first_sat = first;
          last_sat = last;
        }
      }
    }
    if (comma == std::string_view::npos) break;
    s = s.substr(comma + 1);
  }
  if (specs == 0) return RangeResult{};
  if (satisfiable == 0) {
    out.kind = RangeResult::Unsatisfiable;
    return out;
  }
  if (specs > 1) {
    out.kind = RangeResult::Multiple;
    return out;
  }
  out.kind = RangeResult::Single;
  out.first = first_sat;
  out.last = last_sat;
  return out;
}

}  // namespace gw::statics
