#include "core/util.h"

#include <sys/random.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <thread>

namespace gw {

namespace {
// ASCII lower-casing of eight bytes at once (SWAR): 0x20 added to each byte in 'A'..'Z'.
inline uint64_t lower8(uint64_t x) {
  constexpr uint64_t k01 = 0x0101010101010101ULL, k80 = 0x8080808080808080ULL;
  const uint64_t low7 = x & ~k80;  // no carry between bytes below
  const uint64_t ge_a = low7 + (0x80 - 'A') * k01;
  const uint64_t gt_z = low7 + (0x7f - 'Z') * k01;
  return x | ((ge_a & ~gt_z & ~x & k80) >> 2);
}
}  // namespace

bool iequalsSameSize(const char* a, const char* b, size_t n) {
  // Most calls (a name against one of a list) differ in the first byte beyond case.
  if (n > 0 && ((a[0] ^ b[0]) & ~0x20) != 0) return false;
  if (n >= 8) {  // words; the last one may overlap the one before
    for (size_t i = 0;; i += 8) {
      if (i + 8 > n) i = n - 8;
      uint64_t x, y;
      std::memcpy(&x, a + i, 8);
      std::memcpy(&y, b + i, 8);
      if (x != y && lower8(x) != lower8(y)) return false;
      if (i + 8 == n) return true;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    // Same letter in either case differs only in bit 0x20; check that it is a letter.
    unsigned char x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x == y) continue;
    if ((x ^ y) != 0x20) return false;
    unsigned char l = x | 0x20;
    if (l < 'a' || l > 'z') return false;
  }
  return true;
}

void toLowerInPlace(char* p, size_t n) {
  if (n >= 8) {  // words; the last one may overlap the one before (lower-casing is idempotent)
    for (size_t i = 0;; i += 8) {
      if (i + 8 > n) i = n - 8;
      uint64_t x;
      std::memcpy(&x, p + i, 8);
      x = lower8(x);
      std::memcpy(p + i, &x, 8);
      if (i + 8 == n) return;
    }
  }
  for (size_t i = 0; i < n; ++i) p[i] = lowerAscii(p[i]);
}

std::string toLower(std::string_view s) {
  std::string out(s);
  toLowerInPlace(out.data(), out.size());
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> parseUint(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::optional<Millis> parseDuration(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  auto n = parseUint(s.substr(0, i));
  if (!n || *n > 1000000000ULL) return std::nullopt;
  std::string_view unit = s.substr(i);
  if (unit == "ms") return Millis(*n);
  if (unit == "s" || unit.empty()) return Millis(*n * 1000);
  if (unit == "m") return Millis(*n * 60 * 1000);
  if (unit == "h") return Millis(*n * 3600 * 1000);
  return std::nullopt;
}

std::string hexEncode(const void* data, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto* p = static_cast<const unsigned char*>(data);
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 15];
  }
  return out;
}

namespace {
// xoshiro256** (Blackman & Vigna): 32 bytes of state per thread, seeded from getrandom. Request
// ids need to be unique, not secret (a few of them reveal the generator's state: nothing may use
// one as a token); mt19937_64's 2.5 KB state and its periodic regeneration cost
// cache lines on every request.
struct Xoshiro256 {
  uint64_t s[4];
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
};

[[gnu::cold]] Xoshiro256 seededXoshiro() {
  Xoshiro256 g{};
  if (getrandom(g.s, sizeof(g.s), 0) != sizeof(g.s)) {  // no entropy: the clock and this thread
    g.s[0] = static_cast<uint64_t>(Clock::now().time_since_epoch().count());
    g.s[1] = std::hash<std::thread::id>{}(std::this_thread::get_id());
  }
  // splitmix64 over the seed: no all-zero state, and a weak seed (the clock) is spread out.
  uint64_t x = g.s[0] ^ g.s[1] ^ g.s[2] ^ g.s[3];
  for (uint64_t& w : g.s) {
    x += 0x9e3779b97f4a7c15ULL;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    w ^= z ^ (z >> 31);
  }
  if ((g.s[0] | g.s[1] | g.s[2] | g.s[3]) == 0) g.s[0] = 1;
  return g;
}
}  // namespace

std::string randomRequestId() {
  thread_local Xoshiro256 rng = seededXoshiro();
  // Two digits per byte, low nibble first.
  static constexpr auto kHexPairs = [] {
    std::array<std::array<char, 2>, 256> t{};
    constexpr char kHex[] = "0123456789abcdef";
    for (int b = 0; b < 256; ++b) t[b] = {kHex[b & 15], kHex[b >> 4]};
    return t;
  }();
  std::string out;
  // (GCC 12's resize_and_overwrite may pass the operation the grown capacity instead of 32.)
  out.resize_and_overwrite(32, [](char* p, size_t) {
    for (int half = 0; half < 2; ++half) {
      uint64_t v = rng.next();
      for (int i = 0; i < 8; ++i, v >>= 8) std::memcpy(p + half * 16 + i * 2, kHexPairs[v & 0xff].data(), 2);
    }
    return size_t{32};
  });
  return out;
}

void jsonEscape(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

void logEscape(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
}

std::string_view httpDate() {
  thread_local time_t cached_sec = 0;
  thread_local char buf[64];
  time_t now = time(nullptr);
  if (now != cached_sec) {
    tm t;
    gmtime_r(&now, &t);
    strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &t);
    cached_sec = now;
  }
  return buf;
}

}  // namespace gw
