#pragma once
// HTTP/2 server codec for one downstream connection: an nghttp2 server session (Debian's 1.52,
// which carries the backported Rapid Reset and CONTINUATION fixes) driven through a bufferevent,
// h2c with prior knowledge on cleartext listeners (the preface is still in the input when the
// codec takes over) or h2 over TLS (ALPN). Each stream maps onto one RequestDecoder (the
// protocol-neutral stream), exactly like an HTTP/1.1 request.
//
// Flow control (nghttpx / Envoy habits):
//  - request bodies: automatic WINDOW_UPDATE is off. The connection window is consumed as bytes
//    arrive; a stream's window only as its body is handed to the stream (which moves it toward
//    the upstream and pauses us with readDisable when that side is full). So at most
//    `initial_stream_window` bytes wait per stream, and a slow upstream stalls only its stream.
//  - response bodies: DEFERRED data providers over a per-stream evbuffer, sent with
//    NGHTTP2_DATA_FLAG_NO_COPY (bytes move from the stream's buffer into the socket's buffer
//    without a copy through nghttp2). Above `limits.buffer_bytes` queued, the stream is told to
//    pause its upstream; the socket output is filled only up to a fixed threshold.
//
// Limits (config::Http2): SETTINGS_MAX_CONCURRENT_STREAMS, SETTINGS_INITIAL_WINDOW_SIZE, header
// list size and field count checked here (431), nghttp2's stream reset rate limit, max
// CONTINUATIONs, max SETTINGS entries, max outbound ACKs, an idle timeout, per-stream timeouts
// (`timeouts.client_header` for a header block, `timeouts.client_body` idle while the request
// body is due and not paused; a stream whose queued response makes no progress for
// `timeouts.send` is reset), a per-connection response budget (4 x `limits.buffer_bytes` queued
// over all streams pauses every stream's upstream), a bound on nghttp2's outbound queue (input
// is not read while our output is blocked), and a glitch counter (invalid frames, stream errors,
// empty DATA/CONTINUATION frames, resets we had to send) that ends the connection with GOAWAY
// ENHANCE_YOUR_CALM past `max_glitches`. Each limit hit is counted and logged once per
// connection.
//
// Graceful shutdown (startDrain): GOAWAY with last-stream-id 2^31-1, then after `drain_notice`
// the real GOAWAY; streams in flight finish, then the connection closes.
//
// Threading: owned by one worker; all calls on that worker's thread.
// Lifetime: owned by its ConnectionOwner; it asks to be destroyed via onConnectionClosed() and
// is then deleted from the event loop (never inside its own callbacks). Never throws.
#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "core/dispatcher.h"
#include "core/transport.h"
#include "http/codec.h"

namespace gw::http2 {

struct ServerSettings {
  config::Limits limits;
  config::Timeouts timeouts;
  config::Http2 http2;
};

class ServerConnection : public http::DownstreamConnection, private Transport::Callbacks {
 public:
  // Takes the connection's transport (plain or TLS), whose input may already hold the
  // connection preface.
  ServerConnection(Dispatcher& dispatcher, TransportPtr io, const http::ConnectionInfo& info,
                   const ServerSettings& settings, http::ServerConnectionCallbacks& callbacks,
                   http::ConnectionOwner& owner);
  ~ServerConnection() override;

  uint64_t id() const override { return info_.id; }
  // Two-step GOAWAY; the connection closes once its streams are done.
  void startDrain() override;

  class Stream;

  // nghttp2 callbacks (public for the C trampolines only).
  int onBeginHeaders(const nghttp2_frame* frame);
  int onHeader(const nghttp2_frame* frame, nghttp2_rcbuf* name, nghttp2_rcbuf* value);
  int onInvalidHeader(const nghttp2_frame* frame);
  int onFrameRecv(const nghttp2_frame* frame);
  int onInvalidFrameRecv(const nghttp2_frame* frame, int lib_error_code);
  int onDataChunkRecv(int32_t stream_id, const uint8_t* data, size_t len);
  int onStreamClose(int32_t stream_id, uint32_t error_code);
  int onFrameSend(const nghttp2_frame* frame);
  int onFrameNotSend(const nghttp2_frame* frame, int lib_error_code);
  int onBeginFrame(const nghttp2_frame_hd* hd);
  ssize_t onReadData(Stream& s, size_t length, uint32_t* data_flags);
  int onSendData(Stream& s, const uint8_t* framehd, size_t length);

  // Used by streams.
  void scheduleFlush();
  void scheduleResume(Stream& s);
  void submitResponse(Stream& s, http::ResponseHead& head, bool end_stream);
  void resetStreamWith(Stream& s, uint32_t error_code);
  void releaseDecoder(Stream& s);  // the response is complete (or cut): the stream object goes
  // Response bytes queued in a stream's buffer (+) or moved to the socket (-): the connection's
  // budget (pauses every stream's upstream above it).
  void accountResponse(ptrdiff_t delta);
  void updatePause(Stream& s);
  void armBodyTimer(Stream& s);
  void onStreamTimer(Stream& s);
  nghttp2_session* session() { return session_; }
  const ServerSettings& settings() const { return settings_; }

 private:
  enum Limit : uint32_t {
    kLimitStreams = 1,
    kLimitHeaderList = 2,
    kLimitFlood = 4,
    kLimitContinuations = 8,
    kLimitSettings = 16,
    kLimitResetRate = 32,
    kLimitGlitches = 64,
    kLimitIdle = 128,
    kLimitStall = 256,
  };

  // Transport::Callbacks
  void onTransportRead() override { onRead(); }
  void onTransportWritten() override { onWrite(); }
  void onTransportEvent(short what) override { onEvent(what); }

  void onRead();
  void onWrite();
  void onEvent(short what);
  void flushNow();
  bool pauseReadIfBlocked();  // output above kOutputHigh: stop reading input until onWrite
  void resumeStreams();
  void onTimer();
  void armTimer();
  void deliverBody(Stream& s);
  void startStream(Stream& s, bool end_stream);
  void localError(Stream& s, int status, const char* code, const std::string& detail);
  void glitch(const char* what);
  void limitHit(Limit which, const char* what);
  void terminate(uint32_t error_code, const char* why, bool quiet = false);  // GOAWAY, then close after flush
  void outboundFlood();  // nghttp2's outbound queue past its bound: raw GOAWAY, then close
  void rawGoaway(uint32_t code);
  void fatal(int lib_error);  // nghttp2_session_mem_recv failed: a raw GOAWAY, then close
  void closeNow();
  void maybeClose();
  void startLingeringClose();  // output is out: half-close, discard input for a moment, close

  Dispatcher& dispatcher_;
  http::ConnectionInfo info_;
  const ServerSettings& settings_;
  http::ServerConnectionCallbacks& callbacks_;
  http::ConnectionOwner& owner_;
  TransportPtr io_;
  nghttp2_session* session_ = nullptr;
  std::unordered_map<int32_t, std::unique_ptr<Stream>> streams_;
  // Closed by nghttp2 after a complete headers-only response whose end has not come from the
  // decoder yet (FastCGI sends it after the head): kept until the decoder finishes.
  std::unordered_map<int32_t, std::unique_ptr<Stream>> detached_;
  size_t resp_buffered_ = 0;  // sum of the streams' queued response bytes
  bool conn_paused_ = false;  // resp_buffered_ went over the connection budget
  bool read_paused_ = false;  // input not processed while the socket output is above kOutputHigh
  bool local_error_logged_ = false;
  bool request_id_indexed_ = false;  // an x-request-id field went into the HPACK dynamic table
  std::vector<int32_t> to_resume_;
  Timer timer_;          // idle (no stream) or stall check (streams open)
  Timer drain_timer_;    // between the two GOAWAY frames
  LoopCallback flush_later_;
  LoopCallback resume_later_;
  LoopCallback read_later_;  // the preface (and more) read before this codec took over
  uint64_t data_sent_at_check_ = 0;  // DATA payload bytes sent, at the last stall check
  uint64_t data_sent_ = 0;
  uint32_t glitches_ = 0;
  uint32_t limits_logged_ = 0;  // Limit bits already logged on this connection
  uint64_t rst_received_ = 0;   // RST_STREAM frames from the client (Rapid Reset attribution)
  bool in_recv_ = false;        // inside nghttp2_session_mem_recv
  // The stream whose header block is open (HTTP/2 allows one at a time), 0 if none: its
  // client_header timer is armed only if the block is still open when a read has been parsed
  // (nearly every block arrives whole, so nearly no stream needs the timer).
  int32_t open_header_block_ = 0;
  bool our_goaway_ = false;     // the next GOAWAY with an error code was submitted by us
  bool draining_ = false;
  bool terminating_ = false;     // nothing more from the session: only our queued bytes go out
  bool term_submitted_ = false;  // GOAWAY with an error submitted to nghttp2 (terminate())
  bool lingering_ = false;
  bool closed_ = false;
};

}  // namespace gw::http2
