#pragma once
// HTTP/1.1 server codec for one downstream connection, built on http_parser (Debian's
// libhttp-parser 2.9). Handles keep-alive and pipelining (one stream at a time; the next request
// is parsed only after the previous response completed), Content-Length and chunked bodies in
// both directions without buffering whole bodies, Expect: 100-continue, HEAD, and drops request
// trailers. Protocol errors are answered here with problem+json and the connection is closed
// with a lingering close so the client reads the answer.
//
// Threading: owned by one worker; all calls on that worker's thread.
// Lifetime: owned by its ConnectionOwner; it asks to be destroyed via onConnectionClosed() and
// is then deleted from the event loop (never inside its own callbacks).
#include <http_parser.h>

#include <memory>
#include <string>

#include "config/config.h"
#include "core/dispatcher.h"
#include "core/transport.h"
#include "http/codec.h"
#include "http1/parser_glue.h"

namespace gw::http1 {

struct ServerSettings {
  config::Limits limits;
  config::Timeouts timeouts;
};

class ServerConnection : public http::ResponseEncoder,
                         public http::DownstreamConnection,
                         private Transport::Callbacks {
 public:
  // Takes the connection's transport (plain or TLS), whose input may already hold the first
  // bytes of the connection (read while choosing the protocol).
  ServerConnection(Dispatcher& dispatcher, TransportPtr io, const http::ConnectionInfo& info,
                   const ServerSettings& settings, http::ServerConnectionCallbacks& callbacks,
                   http::ConnectionOwner& owner);
  ~ServerConnection() override;

  // http::DownstreamConnection. Draining: an idle connection closes now; a busy one closes after
  // its response.
  void startDrain() override;
  uint64_t id() const override { return info_.id; }

  // http::ResponseEncoder
  void encode100Continue() override;
  void encodeHeaders(http::ResponseHead& head, bool end_stream) override;
  void encodeData(evbuffer* data, bool end_stream) override;
  void encodeTrailers(const http::HeaderMap& trailers) override;  // chunked: a trailer section
  void readDisable(bool disable) override;
  void resetStream() override;
  void closeAfterResponse() override { close_after_response_ = true; }

  // http_parser callbacks (public for the C trampolines only).
  int onMessageBegin();
  int onUrl(const char* at, size_t len);
  int onHeaderField(const char* at, size_t len);
  int onHeaderValue(const char* at, size_t len);
  int onHeadersComplete();
  int onBody(const char* at, size_t len);
  int onMessageComplete();

 private:
  enum class State { AwaitHead, Body, RequestComplete };
  enum class BodyMode { None, Length, Chunked, Close };

  // Transport::Callbacks
  void onTransportRead() override { onRead(); }
  void onTransportWritten() override { onWrite(); }
  void onTransportEvent(short what) override { onEvent(what); }

  void onRead();
  void onWrite();
  void scheduleFlush();  // writes queued output once, at the end of the current loop pass
  void flushNow();
  void onEvent(short what);
  void process();
  bool parseHead(evbuffer* in);   // false: wait for more data (or closed)
  bool parseBody(evbuffer* in);   // false: no progress possible now
  bool commitHeader();
  void fail(int status, const char* code, const std::string& detail);
  void sendError(int status, const char* code, const std::string& detail);
  void onResponseComplete();
  void startNextRequest();
  void armIdleTimer();
  void onTimer();
  void closeAfterFlush();
  void startLingeringClose();
  void closeNow();
  void setParserError(int status, const char* code, std::string detail);

  Dispatcher& dispatcher_;
  http::ConnectionInfo info_;
  const ServerSettings& settings_;
  http::ServerConnectionCallbacks& callbacks_;
  http::ConnectionOwner& owner_;
  TransportPtr io_;
  Transport::Limits io_limits_;
  http_parser parser_;
  evbuffer* body_buf_;  // request body parsed but not yet handed to the stream
  Timer timer_;
  LoopCallback process_later_;  // process() from the loop (pipelining, resume after backpressure)
  LoopCallback flush_later_;    // flushNow() from the loop

  State state_ = State::AwaitHead;
  // Head under construction.
  http::RequestHeadPtr head_;
  std::string url_;
  FieldAccumulator field_;
  bool in_trailers_ = false;
  size_t header_count_ = 0;
  int error_status_ = 0;
  const char* error_code_ = nullptr;
  std::string error_detail_;
  bool headers_complete_ = false;
  bool message_complete_ = false;
  uint64_t body_bytes_ = 0;
  bool head_timer_armed_ = false;
  size_t head_scanned_ = 0;   // bytes of the pending head already checked
  size_t head_searched_ = 0;  // where the search for CRLF CRLF resumes
  bool request_line_checked_ = false;
  uint64_t requests_ = 0;

  // Current stream and its response.
  http::RequestDecoderPtr stream_;
  bool keepalive_ = true;
  bool head_request_ = false;
  bool continue_sent_ = false;
  bool response_started_ = false;
  BodyMode body_mode_ = BodyMode::None;
  bool above_high_ = false;
  bool read_disabled_ = false;
  bool close_after_response_ = false;
  bool draining_ = false;
  bool closing_after_flush_ = false;
  bool lingering_ = false;
  bool closed_ = false;
  bool http10_ = false;
};

}  // namespace gw::http1
