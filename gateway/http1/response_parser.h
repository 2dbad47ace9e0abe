#pragma once
// Incremental HTTP/1.x response parser for the upstream side (RFC 9112), shared by the HTTP/1.1
// upstream and the uwsgi response reader. Strict where peers could disagree on framing:
//   - head: located by its CRLF CRLF (searched once however it arrives); status line
//     "HTTP/1.0|1.1 SP 3DIGIT [SP reason]", fields "token:" OWS value OWS with valid values;
//     the byte rules of head_scan.h (no bare CR/LF, NUL, obs-fold); at most kMaxHeadBytes and
//     kMaxFields;
//   - 1xx heads are dropped (101 is an error: we never ask for an upgrade);
//   - framing (§6.3): HEAD / 204 / 304 no body; Transfer-Encoding ending in chunked: chunked;
//     other Transfer-Encoding: until close; Content-Length (identical values only); otherwise
//     until close. Transfer-Encoding with Content-Length is an error (as with http_parser);
//   - chunked: hex size with overflow check, bounded extensions, strict CRLFs, trailers.
// Body bytes are moved out of the input (evbuffer_remove_buffer), not copied through.
//
// Threading: one parser per response exchange, on one thread. Never throws.
#include <event2/buffer.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/headers.h"
#include "http/message.h"

namespace gw::http1 {

struct ResponseParserOptions {
  bool head_request = false;  // the request was HEAD: no body whatever the head says
  bool accept_http2 = false;  // also "HTTP/2.0" in the status line (uWSGI echoes SERVER_PROTOCOL)
};

class ResponseParser {
 public:
  static constexpr size_t kMaxHeadBytes = 80 * 1024;  // a head or trailer section (http_parser's limit)
  static constexpr size_t kMaxFields = 1000;          // per head
  static constexpr size_t kMaxTrailers = 100;         // trailer fields kept; more are dropped
  static constexpr size_t kMaxChunkLine = 4096;       // chunk-size line, extensions included

  using Options = ResponseParserOptions;

  // Receives the response. Each call may return false to pause: feed() then returns Paused at
  // once, without touching its input again, and the next feed() resumes. A call that ends the
  // response (end_stream, or onTrailers) is the last: its return value is ignored, and the
  // parser has already drained from the input every byte of the response. The head is handed
  // out after the bytes that came with it were parsed: an error among them means no head at all.
  class Sink {
   public:
    virtual ~Sink() = default;
    // The final head (1xx heads never get here). end_stream: no body follows.
    virtual bool onHead(http::ResponseHeadPtr head, bool end_stream) = 0;
    // Body bytes; the callee drains `data`. end_stream: the last of the body, no trailers follow.
    // May be empty when end_stream is set.
    virtual bool onBody(evbuffer* data, bool end_stream) = 0;
    // The trailer section of a chunked body (not empty); ends the response.
    virtual void onTrailers(http::HeaderMap&& trailers) = 0;
  };

  enum class Status {
    NeedMore,  // all input consumed, the response is not complete
    Paused,    // a sink call returned false; call feed() again to go on
    Complete,  // the response ended; bytes past it stay in the input
    Error,     // error() says why; the parser stays in error
  };

  explicit ResponseParser(Options options = {});
  ~ResponseParser();
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // Starts over for a new response (e.g. a retried request).
  void reset(Options options);

  // Consumes what `in` holds (in any split), calling `sink` as parts are complete. Incomplete
  // heads are moved out of `in` into the parser, so `in` never waits full at its watermark.
  Status feed(evbuffer* in, Sink& sink);
  // The peer closed after everything it sent went through feed() (NeedMore): completes a
  // close-delimited body (Complete, with onBody(…, true)), otherwise Error.
  Status finishAtEof(Sink& sink);

  // Whether the connection may carry another exchange once this response is complete: HTTP/1.1
  // without "Connection: close", HTTP/1.0 only with "Connection: keep-alive"; never after a
  // close-delimited body, an HTTP/1.0 Transfer-Encoding or an error.
  bool keepAlive() const { return keep_alive_ && state_ != State::Failed; }
  bool headDelivered() const { return head_delivered_; }
  // Why feed()/finishAtEof() returned Error (static string), or nullptr.
  const char* error() const { return error_; }

 private:
  enum class State {
    Head,          // before the final head (1xx heads are skipped here)
    Length,        // Content-Length body: remaining_ bytes to go
    UntilClose,    // close-delimited body
    ChunkSize,     // chunk-size line
    ChunkData,     // remaining_ bytes of chunk data
    ChunkCr,       // CRLF after chunk data
    ChunkLf,
    TrailerStart,  // after the last chunk: CRLF, or a trailer section
    Trailers,
    Done,          // complete; the end (and trailers) may still be owed to the sink
    Failed,
  };
  enum class ChunkLine { Size, Bws, Ext, Lf };

  Status fail(const char* why);
  // Finds the section (head or trailers, ending in CRLF CRLF) at the front of `in`. On Ok it
  // is in section_ (a view into `in`, then drain_ bytes are to be drained, or into partial_).
  enum class Locate { Ok, NeedMore, TooLarge };
  Locate locate(evbuffer* in);
  void dropSection(evbuffer* in);
  bool parseHead(std::string_view head);  // false: error_ set
  bool parseFields(std::string_view lines, bool trailers);
  bool readChunkLine(evbuffer* in, bool& need_more);
  Status deliver(Sink& sink);

  Options options_;
  State state_ = State::Head;
  evbuffer* body_;           // body bytes for the next onBody
  std::string partial_;      // a section that spans chains or reads
  std::string_view section_;
  size_t drain_ = 0;         // bytes of `in` behind section_
  size_t lines_ = 0;         // line ends seen in the section being located
  http::ResponseHeadPtr head_;
  http::HeaderMap trailers_;
  uint64_t remaining_ = 0;
  ChunkLine chunk_line_ = ChunkLine::Size;
  size_t chunk_line_bytes_ = 0;
  bool chunk_digit_ = false;
  bool trailers_end_ = false;  // the CRLF being read ends the chunked body
  // Per head, from its fields.
  std::optional<uint64_t> content_length_;
  bool te_ = false;
  bool te_chunked_ = false;
  bool conn_close_ = false;
  bool conn_keep_alive_ = false;
  bool informational_ = false;
  bool keep_alive_ = false;
  bool head_delivered_ = false;
  bool end_delivered_ = false;
  const char* error_ = nullptr;
};

}  // namespace gw::http1
