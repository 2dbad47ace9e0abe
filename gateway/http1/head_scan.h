#pragma once
// Checks an HTTP/1.x message head before it reaches http_parser, for what the parser accepts in
// its lenient (default) build but a proxy must refuse because peers disagree on it: bare LF,
// bare CR, NUL, obs-fold (RFC 9112 §2.2, §5.2). Pure functions: fuzzed and unit-tested.
#include <cstddef>
#include <string_view>

namespace gw::http1 {

enum class HeadScan {
  Ok,
  BareLf,
  BareCr,
  Nul,
  ObsFold,
  UriTooLong,
};

// `head` is the whole head including the final CRLF CRLF. `max_uri` bounds the request-target.
// For responses pass max_uri = 0 (no request-line check).
HeadScan scanHead(std::string_view head, size_t max_uri);
// For an incomplete head: finds problems that are already certain (so a bad client gets its
// 400/414 at once instead of after the header timeout).
HeadScan scanPartialHead(std::string_view partial, size_t max_uri);
// Byte checks only (NUL, bare CR/LF, obs-fold) on bytes [from, size) of `s`; s[from - 1], when
// present, is context already checked. A CR at the very end is accepted (its LF may follow).
// Lets a caller scan a growing head incrementally, in linear time overall.
HeadScan scanHeadBytes(std::string_view s, size_t from);
// True if the request-target in `request_line` (without CRLF) is longer than max_uri.
bool uriTooLong(std::string_view request_line, size_t max_uri);
const char* headScanCode(HeadScan r);

}  // namespace gw::http1
