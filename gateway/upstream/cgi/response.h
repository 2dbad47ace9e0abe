#pragma once
// CGI response parsing (RFC 3875 §6) for a FastCGI STDOUT stream: an incremental parser for the
// CGI header section. Lines end in LF or CRLF (CGI allows both). The header section is bounded
// (bytes and field count); CR, LF or NUL inside a name or value, obs-fold, and malformed fields are
// refused. Body bytes after the blank line are left in the caller's evbuffer, uncopied.
//
// CGI fields:
//   Status: NNN reason   → status (200..599) and reason; default 200 (RFC 3875 §6.3.3).
//   Location: abs-URI    → client redirect; without Status the status is 302 (§6.2.3/§6.2.4).
//   Location: /path      → without Status, a local redirect (§6.2.2), reported as kind LocalRedirect
//                          (the server, not the client, should fetch that path).
//   Content-Length       → ResponseHead::content_length (invalid → error).
// Every other field (Location included) goes into ResponseHead::headers in order. Hop-by-hop
// removal is the caller's job (http::removeHopByHop).
//
// Threading: one parser per response, one thread.
#include <event2/buffer.h>

#include <cstddef>
#include <string>

#include "http/message.h"
#include "upstream/cgi/expected.h"

namespace gw::cgi {

enum class ParseError {
  HeaderTooLarge,    // header section over Limits::max_header_bytes
  TooManyHeaders,    // more than Limits::max_headers fields
  BadHeaderLine,     // no ':', empty or invalid name, obs-fold, bare CR
  BadHeaderValue,    // CR, LF, NUL or another CTL in a value
  BadStatus,         // Status not "NNN[ reason]" with 200 <= NNN <= 599, or given twice
  BadContentLength,  // Content-Length not a decimal, or several different values
  NoHeaders,         // the header section is empty (a CGI response has at least one field)
  Incomplete,        // finish(): the stream ended inside the header section
};
const char* parseErrorName(ParseError e);  // "cgi_header_too_large", ...

enum class ResponseKind {
  Document,        // an ordinary response (possibly with a Location header and a Status)
  LocalRedirect,   // Location: /path without Status: the server should re-dispatch to that path
  ClientRedirect,  // Location: absolute URI without Status: 302 to the client
};

struct Limits {
  size_t max_header_bytes = 64 * 1024;
  size_t max_headers = 100;
};

class ResponseParser {
 public:
  explicit ResponseParser(Limits limits = {}) : limits_(limits) {}

  enum class State { NeedMore, Done };
  // Consumes header bytes from `in`. Returns Done once the blank line has been read; the body bytes
  // that followed it stay in `in` (never copied). After Done, feed() consumes nothing and returns Done.
  // After an error, every call returns that error.
  proto::Expected<State, ParseError> feed(evbuffer* in);
  // Call when STDOUT ended: Incomplete unless the header section was complete.
  proto::Expected<void, ParseError> finish() const;

  bool done() const { return done_; }
  ResponseKind kind() const { return kind_; }
  // The Location value (for LocalRedirect: the path to re-dispatch to), empty if none.
  const std::string& location() const { return location_; }
  // The parsed head (valid after Done); moves it out.
  http::ResponseHeadPtr takeHead() { return std::move(head_); }
  const http::ResponseHead* head() const { return head_.get(); }

 private:
  // Parses the complete lines of `chunk` from `used` on (advanced past what was consumed).
  proto::Expected<void, ParseError> feedLines(std::string_view chunk, size_t& used);
  proto::Expected<void, ParseError> onLine(std::string_view line);
  proto::Expected<void, ParseError> complete();

  Limits limits_;
  http::ResponseHeadPtr head_ = [] {
    auto h = std::make_unique<http::ResponseHead>();
    h->headers.reserve(12);  // a typical application's head: one allocation for the fields
    return h;
  }();
  std::string line_;      // a line split across chains, so far (bounded by max_header_bytes)
  size_t header_bytes_ = 0;
  size_t fields_ = 0;
  bool done_ = false;
  bool have_status_ = false;
  ResponseKind kind_ = ResponseKind::Document;
  std::string location_;
  proto::Expected<void, ParseError> failed_;
};

}  // namespace gw::cgi
