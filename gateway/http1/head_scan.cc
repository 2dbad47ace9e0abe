#include "http1/head_scan.h"

#include <array>

namespace gw::http1 {

bool uriTooLong(std::string_view line, size_t max_uri) {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return line.size() > max_uri;
  size_t sp2 = line.find(' ', sp1 + 1);
  size_t uri_len = (sp2 == std::string_view::npos ? line.size() : sp2) - sp1 - 1;
  return uri_len > max_uri;
}

namespace {
// Bytes that need a closer look; every other byte is skipped with one table lookup.
constexpr std::array<bool, 256> kSpecial = [] {
  std::array<bool, 256> t{};
  for (unsigned char c : {'\0', '\n', '\r', ' ', '\t'}) t[c] = true;
  return t;
}();

HeadScan scanBytes(std::string_view head, size_t from, bool complete) {
  for (size_t i = from; i < head.size(); ++i) {
    char c = head[i];
    if (!kSpecial[static_cast<unsigned char>(c)]) continue;
    if (c == '\0') return HeadScan::Nul;
    if (c == '\n' && (i == 0 || head[i - 1] != '\r')) return HeadScan::BareLf;
    if (c == '\r') {
      if (i + 1 < head.size()) {
        if (head[i + 1] != '\n') return HeadScan::BareCr;
      } else if (complete) {
        return HeadScan::BareCr;
      }
    }
    // A field line that starts with SP/HTAB is obs-fold (or, right after the request line,
    // whitespace before the first field): both refused (RFC 9112 §2.2, §5.2).
    // Checked looking back from the SP/HTAB, so it holds when a read splits the head there.
    if ((c == ' ' || c == '\t') && i > 0 && head[i - 1] == '\n') return HeadScan::ObsFold;
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
