#include "http1/head_scan.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace gw::http1 {

bool uriTooLong(std::string_view line, size_t max_uri) {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return line.size() > max_uri;
  size_t sp2 = line.find(' ', sp1 + 1);
  size_t uri_len = (sp2 == std::string_view::npos ? line.size() : sp2) - sp1 - 1;
  return uri_len > max_uri;
}

namespace {
// Eight bytes at a time: a word with no byte below 0x0e (NUL, HTAB, LF and CR all are) is skipped
// whole (SWAR "has less than" test); the bytes of any other word are looked at one by one.
HeadScan scanBytes(std::string_view head, size_t from, bool complete) {
  const char* p = head.data();
  const size_t n = head.size();
  // A field line that starts with SP/HTAB is obs-fold (or, right after the request line,
  // whitespace before the first field): both refused (RFC 9112 §2.2, §5.2). Checked at each LF
  // looking ahead, and here looking back, so it holds when a read splits the head between them.
  if (from > 0 && from < n && p[from - 1] == '\n' && (p[from] == ' ' || p[from] == '\t')) return HeadScan::ObsFold;
  constexpr uint64_t k01 = 0x0101010101010101ULL, k80 = 0x8080808080808080ULL;
  size_t i = from;
  while (i < n) {
    for (uint64_t w; i + 8 <= n; i += 8) {
      std::memcpy(&w, p + i, 8);
      if (((w - 0x0e * k01) & ~w & k80) != 0) break;
    }
    const size_t stop = std::min(n, i + 8);
    for (; i < stop; ++i) {
      const char c = p[i];
      if (c == '\0') return HeadScan::Nul;
      if (c == '\n') {
        if (i == 0 || p[i - 1] != '\r') return HeadScan::BareLf;
        if (i + 1 < n && (p[i + 1] == ' ' || p[i + 1] == '\t')) return HeadScan::ObsFold;
      } else if (c == '\r') {
        if (i + 1 < n ? p[i + 1] != '\n' : complete) return HeadScan::BareCr;
      }
    }
  }
  return HeadScan::Ok;
}

HeadScan scan(std::string_view head, size_t max_uri, bool complete) {
  if (max_uri > 0) {
    size_t eol = head.find('\r');
    if (uriTooLong(head.substr(0, eol == std::string_view::npos ? head.size() : eol), max_uri)) {
      return HeadScan::UriTooLong;
    }
  }
  return scanBytes(head, 0, complete);
}
}  // namespace

HeadScan scanHead(std::string_view head, size_t max_uri) { return scan(head, max_uri, true); }
HeadScan scanPartialHead(std::string_view partial, size_t max_uri) { return scan(partial, max_uri, false); }
HeadScan scanHeadBytes(std::string_view s, size_t from) { return scanBytes(s, from, false); }

const char* headScanCode(HeadScan r) {
  switch (r) {
    case HeadScan::Ok: return "ok";
    case HeadScan::BareLf: return "bare_lf";
    case HeadScan::BareCr: return "bare_cr";
    case HeadScan::Nul: return "nul_in_head";
    case HeadScan::ObsFold: return "obs_fold";
    case HeadScan::UriTooLong: return "uri_too_long";
  }
  return "?";
}

}  // namespace gw::http1
