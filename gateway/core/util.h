#pragma once
// Small string, time and randomness helpers shared by every module. All functions are
// thread-safe; none allocate unless they return a std::string.
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include <time.h>

namespace gw {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

// Clock's time as of the last kernel tick (CLOCK_MONOTONIC_COARSE): a few ns from the vDSO instead
// of ~25, but behind Clock by a few ms (3-7 ms measured on this VM, more than the clock's stated
// 4 ms resolution). Only for windows of seconds compared with each other (a host's down_until);
// never for timer deadlines (a timer would fire early) or logged durations.
inline Clock::time_point coarseNow() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(ts.tv_sec) +
                                                                       std::chrono::nanoseconds(ts.tv_nsec)));
}

bool iequalsSameSize(const char* a, const char* b, size_t n);
// Inline: most comparisons (header name lookups) fail on the length, without a call.
inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && iequalsSameSize(a.data(), b.data(), a.size());
}
// memcpy for the short strings of header sections: up to 16 bytes with two overlapping loads and
// stores, no call.
inline void copyBytes(char* d, const char* s, size_t n) {
  if (n >= 8 && n <= 16) {
    uint64_t a, b;
    std::memcpy(&a, s, 8);
    std::memcpy(&b, s + n - 8, 8);
    std::memcpy(d, &a, 8);
    std::memcpy(d + n - 8, &b, 8);
  } else if (n >= 4 && n < 8) {
    uint32_t a, b;
    std::memcpy(&a, s, 4);
    std::memcpy(&b, s + n - 4, 4);
    std::memcpy(d, &a, 4);
    std::memcpy(d + n - 4, &b, 4);
  } else if (n > 0) {
    std::memcpy(d, s, n);
  }
}
// ASCII lower-casing (header names, hosts).
inline char lowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
std::string toLower(std::string_view s);
void toLowerInPlace(char* p, size_t n);
std::string_view trim(std::string_view s);  // strips SP and HTAB (OWS)
// Lower-case hex of `n` bytes.
std::string hexEncode(const void* data, size_t n);
// The value of a hex digit, -1 if `c` is none.
inline int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "250ms", "10s", "2m", "1h" → milliseconds. Plain integers are seconds.
std::optional<Millis> parseDuration(std::string_view s);
// Parses a decimal without sign, overflow or junk.
std::optional<uint64_t> parseUint(std::string_view s);

// 32 lowercase hex characters from a per-thread CSPRNG-seeded generator.
std::string randomRequestId();

// Appends s to out as the inside of a JSON string (quotes not included).
void jsonEscape(std::string& out, std::string_view s);
// Appends s for a quoted field of a text log: '"' and '\\' escaped, bytes < 0x20 or >= 0x7f as \xHH.
void logEscape(std::string& out, std::string_view s);

// IMF-fixdate for the Date header, cached per second per thread.
std::string_view httpDate();

}  // namespace gw
