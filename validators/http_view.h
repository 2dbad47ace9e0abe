#pragma once

// Non-owning views of one HTTP exchange, filled by the caller (the gateway's filter, the CLI).
// Nothing here is copied by the engine; the referenced bytes must outlive the validate call.

#include <string_view>
#include <utility>
#include <vector>

namespace gw::validators {

using HeaderView = std::pair<std::string_view, std::string_view>;  // name, value

struct HttpRequestView {
  std::string_view method;  // "GET", case-sensitive as on the wire (upper case expected)
  std::string_view path;    // raw (still percent-encoded) path, without the query string;
                            // if it contains '?', the part after it is used as the query
  std::string_view query;   // raw query string without '?'
  std::vector<HeaderView> headers;  // repeated names allowed; names compared case-insensitively
  std::string_view body;    // the whole body, contiguous (the gateway buffers up to its cap)
  bool body_present = false;  // true when the message had a body (even an empty one with
                              // Content-Length: 0 counts as absent for `required`)
};

struct HttpResponseView {
  int status = 0;
  std::vector<HeaderView> headers;
  std::string_view body;
  bool body_present = false;
};

}  // namespace gw::validators
