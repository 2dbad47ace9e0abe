#pragma once

// Reads one raw HTTP/1.1 message (as captured from the wire or written by hand) for the
// gw-openapi tool, using Debian's http-parser. Owns all bytes the returned views point to.

#include <string>
#include <utility>
#include <vector>

#include "validators/http_view.h"

namespace gw::validators::tools {

struct RawHttpMessage {
  bool is_request = true;
  std::string method, path, query;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool has_body = false;

  HttpRequestView requestView() const;
  HttpResponseView responseView() const;
};

// Parses `text`. Convenience for hand-written files: bare LF line endings in the head are
// accepted, and when a message has bytes after the head but neither Content-Length nor
// Transfer-Encoding, those bytes are taken as the body. Returns false with `error` set.
bool parseRawHttp(std::string text, bool request, RawHttpMessage& out, std::string& error);

}  // namespace gw::validators::tools
