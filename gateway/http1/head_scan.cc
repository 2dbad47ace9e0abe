#include "http1/head_scan.h"

namespace gw::http1 {

namespace {
HeadScan scan(std::string_view head, size_t max_uri, bool complete) {
  // Request line: METHOD SP request-target SP HTTP-version
  if (max_uri > 0) {
    size_t first_eol = head.find('\n');
    std::string_view line = head.substr(0, first_eol == std::string_view::npos ? head.size() : first_eol);
    size_t sp1 = line.find(' ');
    if (sp1 != std::string_view::npos) {
      size_t sp2 = line.find(' ', sp1 + 1);
      size_t uri_len = (sp2 == std::string_view::npos ? line.size() : sp2) - sp1 - 1;
      if (uri_len > max_uri) return HeadScan::UriTooLong;
    }
  }
  for (size_t i = 0; i < head.size(); ++i) {
    char c = head[i];
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
    if (c == '\n' && i + 1 < head.size() && (head[i + 1] == ' ' || head[i + 1] == '\t')) {
      return HeadScan::ObsFold;
    }
  }
  return HeadScan::Ok;
}
}  // namespace

HeadScan scanHead(std::string_view head, size_t max_uri) { return scan(head, max_uri, true); }
HeadScan scanPartialHead(std::string_view partial, size_t max_uri) { return scan(partial, max_uri, false); }

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
