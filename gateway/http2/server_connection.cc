#include "http2/server_connection.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <string>

#include "core/counters.h"
#include "core/io.h"
#include "core/log.h"
#include "http/headers.h"
#include "http/problem.h"

using namespace std::string_view_literals;  // "..."sv: compared by size first, then inline

namespace gw::http2 {

namespace {

// Socket output is filled from the session up to this much; the rest waits in the streams'
// buffers (under flow control) until the kernel takes it (nghttp2's OUTPUT_WOULDBLOCK_THRESHOLD).
constexpr size_t kOutputHigh = 64 * 1024;
constexpr size_t kReadChunk = 64 * 1024;

std::string_view view(nghttp2_rcbuf* b) {
  nghttp2_vec v = nghttp2_rcbuf_get_buf(b);
  return {reinterpret_cast<const char*>(v.base), v.len};
}

// to = from, without the general replace path of std::string's assignment (short values).
// (GCC 12's resize_and_overwrite may pass the operation the grown capacity: `n` is not used.)
void assign(std::string& to, std::string_view from) {
  to.resize_and_overwrite(from.size(), [from](char* p, size_t) {
    copyBytes(p, from.data(), from.size());
    return from.size();
  });
}

// s == lit, with a memcmp of constant length (inlined, unlike string_view's compare).
template <size_t N>
bool is(std::string_view s, const char (&lit)[N]) {
  return s.size() == N - 1 && std::memcmp(s.data(), lit, N - 1) == 0;
}

// Connection-specific fields never go into an HTTP/2 message (RFC 9113 §8.2.2).
bool connectionSpecific(std::string_view lname) {
  return lname == "connection" || lname == "keep-alive" || lname == "proxy-connection" ||
         lname == "transfer-encoding" || lname == "upgrade" || lname == "te";
}

const char* errorName(uint32_t code) { return nghttp2_http2_strerror(code); }

ServerConnection* self(void* user_data) { return static_cast<ServerConnection*>(user_data); }

int onBeginHeadersCb(nghttp2_session*, const nghttp2_frame* frame, void* ud) { return self(ud)->onBeginHeaders(frame); }
int onHeaderCb(nghttp2_session*, const nghttp2_frame* frame, nghttp2_rcbuf* name, nghttp2_rcbuf* value, uint8_t,
               void* ud) {
  return self(ud)->onHeader(frame, name, value);
}
int onInvalidHeaderCb(nghttp2_session*, const nghttp2_frame* frame, nghttp2_rcbuf*, nghttp2_rcbuf*, uint8_t, void* ud) {
  return self(ud)->onInvalidHeader(frame);
}
int onFrameRecvCb(nghttp2_session*, const nghttp2_frame* frame, void* ud) { return self(ud)->onFrameRecv(frame); }
int onInvalidFrameRecvCb(nghttp2_session*, const nghttp2_frame* frame, int err, void* ud) {
  return self(ud)->onInvalidFrameRecv(frame, err);
}
int onDataChunkRecvCb(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t len, void* ud) {
  return self(ud)->onDataChunkRecv(stream_id, data, len);
}
int onStreamCloseCb(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* ud) {
  return self(ud)->onStreamClose(stream_id, error_code);
}
int onFrameSendCb(nghttp2_session*, const nghttp2_frame* frame, void* ud) { return self(ud)->onFrameSend(frame); }
int onFrameNotSendCb(nghttp2_session*, const nghttp2_frame* frame, int err, void* ud) {
  return self(ud)->onFrameNotSend(frame, err);
}
int onBeginFrameCb(nghttp2_session*, const nghttp2_frame_hd* hd, void* ud) { return self(ud)->onBeginFrame(hd); }
ssize_t onReadDataCb(nghttp2_session*, int32_t, uint8_t*, size_t length, uint32_t* flags, nghttp2_data_source* src,
                     void* ud) {
  return self(ud)->onReadData(*static_cast<ServerConnection::Stream*>(src->ptr), length, flags);
}
int onSendDataCb(nghttp2_session*, nghttp2_frame*, const uint8_t* framehd, size_t length, nghttp2_data_source* src,
                 void* ud) {
  return self(ud)->onSendData(*static_cast<ServerConnection::Stream*>(src->ptr), framehd, length);
}

// Built once: the callback table is copied into every session.
nghttp2_session_callbacks* sessionCallbacks() {
  static nghttp2_session_callbacks* cbs = [] {
    nghttp2_session_callbacks* c;
    nghttp2_session_callbacks_new(&c);
    nghttp2_session_callbacks_set_on_begin_headers_callback(c, onBeginHeadersCb);
    nghttp2_session_callbacks_set_on_header_callback2(c, onHeaderCb);
    nghttp2_session_callbacks_set_on_invalid_header_callback2(c, onInvalidHeaderCb);
    nghttp2_session_callbacks_set_on_frame_recv_callback(c, onFrameRecvCb);
    nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(c, onInvalidFrameRecvCb);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(c, onDataChunkRecvCb);
    nghttp2_session_callbacks_set_on_stream_close_callback(c, onStreamCloseCb);
    nghttp2_session_callbacks_set_on_frame_send_callback(c, onFrameSendCb);
    nghttp2_session_callbacks_set_on_frame_not_send_callback(c, onFrameNotSendCb);
    nghttp2_session_callbacks_set_on_begin_frame_callback(c, onBeginFrameCb);
    nghttp2_session_callbacks_set_send_data_callback(c, onSendDataCb);
    return c;
  }();
  return cbs;
}

}  // namespace

// One stream: the request under construction, the RequestDecoder it feeds, and the response
// queued toward the client. Owned by the connection (streams_) until nghttp2 closes the stream.
class ServerConnection::Stream : public http::ResponseEncoder, public Deletable {
 public:
  Stream(ServerConnection& c, int32_t stream_id)
      : conn(c), id(stream_id), head(std::make_unique<http::RequestHead>()),
        resp_body(evbuffer_new()), timer(c.dispatcher_, [this] { conn.onStreamTimer(*this); }) {
    head->version_major = 2;
    head->version_minor = 0;
    head->headers.reserve(16);  // the gateway's own fields (request id, mTLS subject) may join them
  }
  ~Stream() override {
    if (req_body) evbuffer_free(req_body);
    evbuffer_free(resp_body);
  }

  // http::ResponseEncoder
  void encode100Continue() override {
    if (conn.closed_ || rst || resp_started) return;
    nghttp2_nv nv{(uint8_t*)":status", (uint8_t*)"100", 7, 3, NGHTTP2_NV_FLAG_NONE};
    nghttp2_submit_headers(conn.session_, NGHTTP2_FLAG_NONE, id, nullptr, &nv, 1, nullptr);
    conn.scheduleFlush();
  }
  void encodeHeaders(http::ResponseHead& h, bool end_stream) override {
    if (conn.closed_ || rst || resp_started) return;
    conn.submitResponse(*this, h, end_stream);
    if (end_stream) conn.releaseDecoder(*this);
  }
  void encodeData(evbuffer* data, bool end_stream) override {
    if (conn.closed_ || rst || no_body || !resp_started) {
      evbuffer_drain(data, evbuffer_get_length(data));
      if (end_stream) conn.releaseDecoder(*this);
      return;
    }
    const size_t added = evbuffer_get_length(data);
    evbuffer_add_buffer(resp_body, data);
    conn.accountResponse(static_cast<ptrdiff_t>(added));
    if (end_stream) resp_end = true;
    if (deferred) {
      deferred = false;
      nghttp2_session_resume_data(conn.session_, id);
    }
    conn.scheduleFlush();
    if (end_stream) {
      conn.releaseDecoder(*this);
    } else if (!above_high && evbuffer_get_length(resp_body) > conn.settings_.limits.buffer_bytes) {
      above_high = true;
      conn.updatePause(*this);
    }
  }
  void encodeTrailers(const http::HeaderMap& t) override {
    if (conn.closed_ || rst || no_body || !resp_started) {
      conn.releaseDecoder(*this);
      return;
    }
    resp_trailers.emplace();
    for (const auto& f : t.fields()) {
      std::string name = toLower(f.name);
      if (name.empty() || name[0] == ':' || connectionSpecific(name) || name == "content-length" ||
          !http::isValidFieldName(name) || !http::isValidFieldValue(f.value)) {
        continue;
      }
      resp_trailers->add(name, f.value);
    }
    resp_end = true;
    if (deferred) {
      deferred = false;
      nghttp2_session_resume_data(conn.session_, id);
    }
    conn.scheduleFlush();
    conn.releaseDecoder(*this);
  }
  void readDisable(bool disable) override {
    if (read_disabled == disable) return;
    read_disabled = disable;
    conn.armBodyTimer(*this);
    if (!disable) conn.scheduleResume(*this);
  }
  void resetStream() override {
    if (detached) {
      conn.releaseDecoder(*this);
      return;
    }
    if (conn.closed_ || rst) return;
    conn.resetStreamWith(*this, NGHTTP2_INTERNAL_ERROR);  // a response cut short: never complete-looking
    conn.releaseDecoder(*this);
  }
  void closeAfterResponse() override {}  // HTTP/2: the stream ends, the connection stays

  ServerConnection& conn;
  const int32_t id;
  // Request.
  http::RequestHeadPtr head;  // under construction until the header block completes
  std::string cookie;         // cookie fields joined with "; " (RFC 9113 §8.2.3)
  size_t header_bytes = 0;
  size_t header_fields = 0;
  bool header_overflow = false;
  bool head_accepted = false;  // the request head went to a decoder (not refused)
  bool bad_request = false;  // a field we refuse (set with bad_code / bad_detail)
  const char* bad_code = nullptr;
  std::string bad_detail;
  int bad_status = 400;
  bool in_trailers = false;
  std::optional<http::HeaderMap> req_trailers;
  http::RequestDecoderPtr decoder;  // null before the head and after the response completed
  bool decoder_done = false;        // the decoder was released: nothing more goes to it
  // Received, not yet handed to the decoder (its stream window is still unconsumed). Created on
  // the first DATA: most requests have no body.
  evbuffer* req_body = nullptr;
  evbuffer* reqBody() { return req_body ? req_body : (req_body = evbuffer_new()); }
  uint64_t req_bytes = 0;
  bool remote_end = false;     // END_STREAM received
  bool end_delivered = false;  // the decoder saw the end of the request
  bool read_disabled = false;
  bool resume_queued = false;
  // Response.
  bool resp_started = false;
  bool no_body = false;   // HEAD, 204, 304 or headers-only: DATA from the stream is dropped
  bool resp_end = false;  // the last body byte is in resp_body
  bool deferred = false;  // the data provider returned NGHTTP2_ERR_DEFERRED
  bool above_high = false;      // own buffer over limits.buffer_bytes
  bool upstream_paused = false;  // onAboveWriteHighWatermark told (own buffer or connection budget)
  bool rst = false;  // RST_STREAM submitted by us
  bool detached = false;  // closed by nghttp2, in detached_ until the decoder finishes
  // Stall check (connection timer): DATA bytes sent for this stream, at the last check.
  uint64_t sent = 0;
  uint64_t sent_at_check = 0;
  bool waiting_at_check = false;
  bool head_request = false;
  http::HeaderMap resp_headers;  // the response head's fields, which nghttp2 refers to
  std::optional<http::HeaderMap> resp_trailers;
  evbuffer* resp_body;
  // client_header from the start of a header block to its end, then client_body (idle) while
  // the request end is due and the stream is not paused.
  enum class TimerMode { None, Header, Body } timer_mode = TimerMode::None;
  Timer timer;
};

ServerConnection::ServerConnection(Dispatcher& dispatcher, TransportPtr io, const http::ConnectionInfo& info,
                                   const ServerSettings& settings, http::ServerConnectionCallbacks& callbacks,
                                   http::ConnectionOwner& owner)
    : dispatcher_(dispatcher),
      info_(info),
      settings_(settings),
      callbacks_(callbacks),
      owner_(owner),
      io_(std::move(io)),
      timer_(dispatcher, [this] { onTimer(); }),
      drain_timer_(dispatcher,
                   [this] {
                     if (closed_) return;
                     nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                                           NGHTTP2_NO_ERROR, nullptr, 0);
                     flushNow();
                   }),
      flush_later_(dispatcher, [](evutil_socket_t, short, void* arg) { static_cast<ServerConnection*>(arg)->flushNow(); },
                   this),
      resume_later_(dispatcher,
                    [](evutil_socket_t, short, void* arg) { static_cast<ServerConnection*>(arg)->resumeStreams(); }, this),
      read_later_(dispatcher, [](evutil_socket_t, short, void* arg) { static_cast<ServerConnection*>(arg)->onRead(); },
                  this) {
  GW_INC(http2_cx_total);
  const config::Http2& h2 = settings.http2;
  nghttp2_option* opt;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_max_send_header_block_length(opt, 256 * 1024);
  nghttp2_option_set_stream_reset_rate_limit(opt, h2.reset_burst, h2.reset_rate);
  nghttp2_option_set_max_continuations(opt, h2.max_continuations);
  nghttp2_option_set_max_settings(opt, h2.max_settings);
  nghttp2_option_set_max_outbound_ack(opt, h2.max_outbound_acks);
  const int rv = nghttp2_session_server_new2(&session_, sessionCallbacks(), this, opt);
  nghttp2_option_del(opt);
  if (rv != 0) {
    // Out of memory: no session. Close from the loop (never from inside the constructor).
    GW_LOG(Error, "c%llu: cannot create the HTTP/2 session: %s", static_cast<unsigned long long>(info_.id),
           nghttp2_strerror(rv));
    session_ = nullptr;
    resume_later_.activate();  // resumeStreams closes
    return;
  }

  nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, h2.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, h2.initial_stream_window},
      {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, h2.max_frame_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(h2.max_header_list_bytes)},
      {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0]));
  if (h2.initial_connection_window > NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE) {
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                          static_cast<int32_t>(h2.initial_connection_window));
  }

  io_->setCallbacks(this);
  io_->setLimits({.read_high = kReadChunk, .write_low = kOutputHigh / 4, .send_timeout = settings.timeouts.send});
  io_->enableRead(true);
  armTimer();
  if (evbuffer_get_length(io_->input()) > 0) read_later_.activate();
  scheduleFlush();  // our SETTINGS
}

ServerConnection::~ServerConnection() {
  closed_ = true;
  for (auto& [id, s] : streams_) {
    if (s->decoder) {
      s->decoder->onResetStream();
      s->decoder.reset();
    }
  }
  // The session first: its queued frames point at the streams' response fields (NO_COPY) and its
  // streams at ours as user data; nothing may outlive what it points to, even unread.
  if (session_) nghttp2_session_del(session_);
  session_ = nullptr;
  streams_.clear();
  detached_.clear();  // complete responses: their decoders go without a reset
}

// ---------------------------------------------------------------------------------------------
// I/O

void ServerConnection::onRead() {
  if (closed_) return;
  evbuffer* in = io_->input();
  if (terminating_) {
    evbuffer_drain(in, evbuffer_get_length(in));
    return;
  }
  if (pauseReadIfBlocked()) return;  // our output is blocked: no more input (onWrite resumes)
  if (evbuffer_get_length(in) >= 4096) io_->topUpInput(kReadChunk);
  in_recv_ = true;
  while (!closed_ && !terminating_ && !term_submitted_ && evbuffer_get_length(in) > 0) {
    evbuffer_iovec v;
    if (evbuffer_peek(in, -1, nullptr, &v, 1) < 1) break;
    ssize_t n = nghttp2_session_mem_recv(session_, static_cast<const uint8_t*>(v.iov_base), v.iov_len);
    if (n < 0) {
      in_recv_ = false;
      fatal(static_cast<int>(n));
      return;
    }
    evbuffer_drain(in, static_cast<size_t>(n));
    // Frames the input made nghttp2 queue (RST_STREAM, WINDOW_UPDATE, HEADERS...) faster than
    // the client takes them: bounded.
    if (nghttp2_session_get_outbound_queue_size(session_) > 1000 + settings_.http2.max_concurrent_streams) {
      in_recv_ = false;
      outboundFlood();
      return;
    }
  }
  in_recv_ = false;
  if (open_header_block_ != 0 && !closed_) {  // a header block left open: client_header from now
    auto* s = static_cast<Stream*>(nghttp2_session_get_stream_user_data(session_, open_header_block_));
    if (s && s->timer_mode == Stream::TimerMode::Header && !s->timer.enabled()) {
      s->timer.enable(settings_.timeouts.client_header);
    }
  }
  if (!closed_) flushNow();
  if (!closed_) pauseReadIfBlocked();
}

void ServerConnection::scheduleFlush() {
  if (!closed_ && !in_recv_) flush_later_.activate();
}

void ServerConnection::flushNow() {
  if (closed_) return;
  evbuffer* out = io_->output();
  for (int round = 0; round < 64; ++round) {
    while (!terminating_ && io_->pending() < kOutputHigh) {
      const uint8_t* data;
      ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) {
        GW_LOG(Info, "c%llu: h2 send failed: %s", static_cast<unsigned long long>(info_.id),
               nghttp2_strerror(static_cast<int>(n)));
        closeNow();
        return;
      }
      if (n == 0) break;
      evbuffer_add(out, data, static_cast<size_t>(n));
    }
    if (closed_) return;
    if (!io_->flush()) break;  // the kernel pushed back: the transport continues, then onWrite
    if (terminating_ || !nghttp2_session_want_write(session_)) break;
  }
  maybeClose();
}

void ServerConnection::onWrite() {
  if (closed_) return;
  flushNow();
  if (!closed_ && read_paused_ && io_->pending() < kOutputHigh) {  // drained: input again
    read_paused_ = false;
    if (!lingering_) io_->enableRead(true);
    if (evbuffer_get_length(io_->input()) > 0) read_later_.activate();
  }
}

bool ServerConnection::pauseReadIfBlocked() {
  if (terminating_ || io_->pending() < kOutputHigh) return false;
  if (!read_paused_) {
    read_paused_ = true;
    io_->enableRead(false);
  }
  return true;
}

void ServerConnection::maybeClose() {
  if (closed_ || lingering_) return;
  if (io_->pending() > 0) return;
  if (terminating_ || (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_))) {
    startLingeringClose();
  }
}

void ServerConnection::startLingeringClose() {
  // Closing with unread input makes the kernel send RST, and a client still writing (a flood)
  // would lose our GOAWAY with it: half-close and discard what still comes for a moment.
  lingering_ = true;
  terminating_ = true;
  io_->shutdownWrite();
  evbuffer* in = io_->input();
  evbuffer_drain(in, evbuffer_get_length(in));
  io_->setLimits({.read_high = 0, .write_low = 0, .send_timeout = settings_.timeouts.send});
  io_->enableRead(true);
  timer_.enable(Millis(1000));
}

void ServerConnection::onEvent(short what) {
  if (closed_) return;
  if (what & BEV_EVENT_TIMEOUT) {
    GW_INC(downstream_cx_timeout);
    limitHit(kLimitStall, "send timeout: the client stopped reading");
    closeNow();
    return;
  }
  if (what & BEV_EVENT_ERROR) {
    logDownstreamSocketError(info_.id);
    closeNow();
    return;
  }
  if (what & BEV_EVENT_EOF) {
    if (!streams_.empty()) GW_INC(downstream_cx_reset);
    closeNow();
  }
}

void ServerConnection::fatal(int lib_error) {
  // The session cannot be used any more: write GOAWAY ourselves, dropping whatever nghttp2 had
  // queued (e.g. a flood of ACKs), and close once it is out.
  uint32_t code = NGHTTP2_PROTOCOL_ERROR;
  switch (lib_error) {
    case NGHTTP2_ERR_FLOODED:
      code = NGHTTP2_ENHANCE_YOUR_CALM;
      limitHit(kLimitFlood, "PING/SETTINGS flood (max_outbound_acks)");
      break;
    case NGHTTP2_ERR_TOO_MANY_CONTINUATIONS:
      code = NGHTTP2_ENHANCE_YOUR_CALM;
      limitHit(kLimitContinuations, "CONTINUATION flood (max_continuations)");
      break;
    case NGHTTP2_ERR_TOO_MANY_SETTINGS:
      code = NGHTTP2_ENHANCE_YOUR_CALM;
      limitHit(kLimitSettings, "too many SETTINGS entries (max_settings)");
      break;
    case NGHTTP2_ERR_BAD_CLIENT_MAGIC:
      GW_LOG(Info, "c%llu: %s: bad HTTP/2 connection preface", static_cast<unsigned long long>(info_.id),
             info_.peer.str().c_str());
      break;
    default:
      GW_LOG(Info, "c%llu: %s: HTTP/2 session error: %s", static_cast<unsigned long long>(info_.id),
             info_.peer.str().c_str(), nghttp2_strerror(lib_error));
      break;
  }
  rawGoaway(code);
}

void ServerConnection::outboundFlood() {
  limitHit(kLimitFlood, "outbound queue flood (frames queued faster than the client reads)");
  rawGoaway(NGHTTP2_ENHANCE_YOUR_CALM);
}

void ServerConnection::rawGoaway(uint32_t code) {
  GW_INC(http2_goaway_sent);
  uint8_t frame[17] = {0, 0, 8, NGHTTP2_GOAWAY, 0, 0, 0, 0, 0};
  uint32_t last = htonl(static_cast<uint32_t>(nghttp2_session_get_last_proc_stream_id(session_)));
  uint32_t err = htonl(code);
  memcpy(frame + 9, &last, 4);
  memcpy(frame + 13, &err, 4);
  evbuffer* out = io_->output();
  evbuffer_add(out, frame, sizeof(frame));
  terminating_ = true;
  timer_.enable(Millis(2000));  // a client that never reads does not keep us
  flushNow();
}

void ServerConnection::terminate(uint32_t error_code, const char* why, bool quiet) {
  if (closed_ || terminating_ || term_submitted_) return;
  if (quiet) {
    GW_LOG(Debug, "c%llu: GOAWAY %s (%s)", static_cast<unsigned long long>(info_.id), errorName(error_code), why);
  } else {
    GW_LOG(Info, "c%llu: %s: GOAWAY %s (%s)", static_cast<unsigned long long>(info_.id), info_.peer.str().c_str(),
           errorName(error_code), why);
  }
  our_goaway_ = true;
  term_submitted_ = true;
  nghttp2_session_terminate_session(session_, error_code);
  timer_.enable(Millis(2000));  // a client that does not read cannot keep us
  // nghttp2 stops reading and writing once the GOAWAY is out, and maybeClose closes. Never send
  // from inside nghttp2_session_mem_recv's callbacks: onRead flushes when it returns.
  if (!in_recv_) flushNow();
}

void ServerConnection::closeNow() {
  if (closed_) return;
  closed_ = true;
  timer_.disable();
  drain_timer_.disable();
  for (auto& [id, s] : streams_) {
    s->timer.disable();
    if (s->decoder) {
      s->decoder->onResetStream();
      dispatcher_.deferredDelete(std::move(s->decoder));
    }
  }
  for (auto& [id, s] : detached_) {
    if (s->decoder) dispatcher_.deferredDelete(std::move(s->decoder));  // complete: no reset
  }
  closeTransport(dispatcher_, std::move(io_));  // may be inside one of its callbacks
  owner_.onConnectionClosed(*this);
}

void ServerConnection::startDrain() {
  if (closed_ || draining_ || !session_) return;
  draining_ = true;
  if (terminating_) return;
  // Step one: "stop opening streams soon" (last-stream-id 2^31-1); requests already on the wire
  // are still served. Step two, a moment later, names the real last stream.
  nghttp2_submit_shutdown_notice(session_);
  drain_timer_.enable(settings_.http2.drain_notice);
  flushNow();
}

// ---------------------------------------------------------------------------------------------
// Timers, limits

void ServerConnection::armTimer() {
  if (closed_ || terminating_ || term_submitted_) return;
  if (streams_.empty()) {
    timer_.enable(settings_.http2.idle_timeout);
  } else {
    for (auto& [id, s] : streams_) {
      s->sent_at_check = s->sent;
      s->waiting_at_check = evbuffer_get_length(s->resp_body) > 0;
    }
    timer_.enable(settings_.timeouts.send);
  }
}

void ServerConnection::onTimer() {
  if (closed_) return;
  if (terminating_ || term_submitted_) {
    closeNow();
    return;
  }
  if (streams_.empty()) {
    GW_INC(http2_idle_timeout);
    terminate(NGHTTP2_NO_ERROR, "idle timeout", true);
    return;
  }
  // Per stream: a response that waited in our buffer at the last check and still waits, with no
  // DATA sent for it since (the client keeps its window closed or does not read). One stream
  // kept moving by a trickle of WINDOW_UPDATEs does not keep the others alive. Requests still
  // waiting for their upstream are fine.
  std::vector<Stream*> stalled;
  for (auto& [id, s] : streams_) {
    if (s->rst || !s->waiting_at_check || evbuffer_get_length(s->resp_body) == 0) continue;
    if (s->sent == s->sent_at_check) stalled.push_back(s.get());
  }
  for (Stream* s : stalled) {
    if (closed_ || term_submitted_) return;
    GW_INC(downstream_cx_timeout);
    limitHit(kLimitStall, "stall timeout: a response is blocked by the client (window closed or not reading)");
    GW_LOG(Debug, "c%llu: stream %d stalled: reset", static_cast<unsigned long long>(info_.id), s->id);
    if (s->decoder) {
      http::StreamInfo& si = s->decoder->streamInfo();
      si.details = "send_timeout";
      s->decoder->onResetStream();
    }
    releaseDecoder(*s);
    resetStreamWith(*s, NGHTTP2_CANCEL);
  }
  armTimer();
}

// Per-stream timer: client_header while a header block is open, client_body (idle) while the
// request end is due.
void ServerConnection::onStreamTimer(Stream& s) {
  if (closed_ || terminating_ || term_submitted_) return;
  const auto mode = s.timer_mode;
  if (mode != Stream::TimerMode::Header && s.rst) return;
  s.timer_mode = Stream::TimerMode::None;
  GW_INC(downstream_cx_timeout);
  if (mode == Stream::TimerMode::Header) {
    // Only CONTINUATION may follow an open header block: the whole connection waits on it.
    terminate(NGHTTP2_NO_ERROR, "client_header timeout: header block not completed");
    return;
  }
  if (mode == Stream::TimerMode::Body) {
    // A 408 if nothing was answered yet; a response under way is cut (RST_STREAM).
    localError(s, 408, "body_timeout", "the request body was not received in time");
  }
}

void ServerConnection::armBodyTimer(Stream& s) {
  if (s.timer_mode == Stream::TimerMode::Header) return;
  if (closed_ || s.rst || s.detached || s.remote_end || s.read_disabled || s.decoder_done || !s.head_accepted) {
    if (s.timer_mode == Stream::TimerMode::Body) {
      s.timer.disable();
      s.timer_mode = Stream::TimerMode::None;
    }
    return;
  }
  s.timer_mode = Stream::TimerMode::Body;
  s.timer.enable(settings_.timeouts.client_body);  // idle: re-armed on progress
}

void ServerConnection::limitHit(Limit which, const char* what) {
  if (limits_logged_ & which) return;  // counted and logged once per connection
  limits_logged_ |= which;
  switch (which) {
    case kLimitStreams: GW_INC(http2_limit_streams); break;
    case kLimitHeaderList: GW_INC(http2_limit_header_list); break;
    case kLimitFlood: GW_INC(http2_limit_flood); break;
    case kLimitContinuations: GW_INC(http2_limit_continuations); break;
    case kLimitSettings: GW_INC(http2_limit_settings); break;
    case kLimitResetRate: GW_INC(http2_limit_reset_rate); break;
    case kLimitGlitches: GW_INC(http2_glitch_close); break;
    case kLimitIdle: GW_INC(http2_idle_timeout); break;
    case kLimitStall: GW_INC(http2_stall_timeout); break;
  }
  GW_LOG(Notice, "c%llu: %s: h2 limit: %s", static_cast<unsigned long long>(info_.id), info_.peer.str().c_str(), what);
}

void ServerConnection::glitch(const char* what) {
  ++glitches_;
  GW_LOG(Debug, "c%llu: h2 glitch %u: %s", static_cast<unsigned long long>(info_.id), glitches_, what);
  if (glitches_ > settings_.http2.max_glitches && !terminating_ && !term_submitted_) {
    limitHit(kLimitGlitches, "too many protocol errors (max_glitches)");
    terminate(NGHTTP2_ENHANCE_YOUR_CALM, "max_glitches");
  }
}

void ServerConnection::accountResponse(ptrdiff_t delta) {
  if (delta < 0 && static_cast<size_t>(-delta) > resp_buffered_) {
    resp_buffered_ = 0;
  } else {
    resp_buffered_ = static_cast<size_t>(static_cast<ptrdiff_t>(resp_buffered_) + delta);
  }
  const size_t per_stream = settings_.limits.buffer_bytes;
  const size_t budget = std::max(4 * per_stream, per_stream);
  bool change = false;
  if (!conn_paused_ && resp_buffered_ > budget) {
    conn_paused_ = change = true;
  } else if (conn_paused_ && resp_buffered_ <= budget / 2) {
    conn_paused_ = false;
    change = true;
  }
  if (!change) return;
  GW_LOG(Debug, "c%llu: response budget %s (%zu bytes queued)", static_cast<unsigned long long>(info_.id),
         conn_paused_ ? "exceeded: upstreams paused" : "recovered", resp_buffered_);
  // Collected first: a decoder told to pause or resume may call back into us.
  std::vector<int32_t> ids;
  ids.reserve(streams_.size());
  for (auto& [id, s] : streams_) ids.push_back(id);
  for (int32_t id : ids) {
    auto it = streams_.find(id);
    if (it != streams_.end()) updatePause(*it->second);
  }
}

void ServerConnection::updatePause(Stream& s) {
  if (closed_) return;
  const bool want = s.above_high || conn_paused_;
  if (want == s.upstream_paused || !s.decoder) {
    if (!s.decoder) s.upstream_paused = false;
    return;
  }
  s.upstream_paused = want;
  if (want) {
    s.decoder->onAboveWriteHighWatermark();
  } else {
    s.decoder->onBelowWriteLowWatermark();
  }
}

// ---------------------------------------------------------------------------------------------
// nghttp2 callbacks: request side

int ServerConnection::onBeginHeaders(const nghttp2_frame* frame) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  const int32_t id = frame->hd.stream_id;
  if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
    // A trailer section: limits count afresh for it (when the head was accepted; a refused
    // head's stream keeps ignoring fields), under the header timeout too.
    auto* s = static_cast<Stream*>(nghttp2_session_get_stream_user_data(session_, id));
    if (!s || s->rst) return 0;
    if (s->head_accepted) {
      s->header_bytes = 0;
      s->header_fields = 0;
      s->header_overflow = false;
    }
    s->in_trailers = true;
    s->timer.disable();  // the body's idle timer: onRead arms client_header if the block stays open
    s->timer_mode = Stream::TimerMode::Header;
    open_header_block_ = id;
    return 0;
  }
  auto s = std::make_unique<Stream>(*this, id);
  nghttp2_session_set_stream_user_data(session_, id, s.get());
  s->timer_mode = Stream::TimerMode::Header;  // until the header block ends (armed by onRead)
  open_header_block_ = id;
  const bool first = streams_.empty();
  streams_.emplace(id, std::move(s));
  if (first) armTimer();
  return 0;
}

int ServerConnection::onHeader(const nghttp2_frame* frame, nghttp2_rcbuf* name_buf, nghttp2_rcbuf* value_buf) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  auto* s = static_cast<Stream*>(nghttp2_session_get_stream_user_data(session_, frame->hd.stream_id));
  if (!s || s->rst) return 0;
  std::string_view name = view(name_buf);
  std::string_view value = view(value_buf);
  // Checked here, before anything is stored: an HPACK-amplified block (a few bytes of indexes
  // naming a large table entry many times) costs no memory beyond this limit.
  s->header_bytes += name.size() + value.size() + 32;
  if (++s->header_fields > settings_.http2.max_header_fields || s->header_bytes > settings_.http2.max_header_list_bytes) {
    s->header_overflow = true;
    return 0;
  }
  if (s->header_overflow || s->bad_request || (s->in_trailers && !s->head_accepted)) return 0;
  if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) {  // trailer section
    if (!name.empty() && name[0] != ':') {
      if (!s->req_trailers) s->req_trailers.emplace();
      s->req_trailers->add(name, value);
    }
    return 0;
  }
  http::RequestHead& h = *s->head;
  if (!name.empty() && name[0] == ':') {
    // nghttp2's HTTP messaging already refused unknown, duplicate, empty or misplaced ones.
    if (is(name, ":method")) {
      assign(h.method, value);
    } else if (is(name, ":path")) {
      if (value.size() > settings_.limits.max_uri_bytes) {
        s->bad_request = true;
        s->bad_status = 414;
        s->bad_code = "uri_too_long";
        s->bad_detail = "the request-target exceeds " + std::to_string(settings_.limits.max_uri_bytes) + " bytes";
        return 0;
      }
      size_t q = value.find('?');
      assign(h.path, value.substr(0, q));
      if (q != std::string_view::npos) assign(h.query, value.substr(q + 1));
      if (value.find('#') != std::string_view::npos) {
        s->bad_request = true;
        s->bad_code = "invalid_request_target";
        s->bad_detail = "a request-target never carries a fragment";
      }
    } else if (is(name, ":authority")) {
      assign(h.authority, value);
    } else if (is(name, ":scheme")) {
      assign(h.scheme, value);
    }
    return 0;
  }
  if (is(name, "cookie")) {  // RFC 9113 §8.2.3: crumbs are joined with "; " for HTTP/1.1
    if (!s->cookie.empty()) s->cookie += "; ";
    s->cookie += value;
    return 0;
  }
  if (is(name, "host")) {
    if (h.headers.count("host") > 0) {
      s->bad_request = true;
      s->bad_code = "duplicate_host";
      s->bad_detail = "more than one Host header";
      return 0;
    }
  }
  h.headers.add(name, value);
  return 0;
}

int ServerConnection::onInvalidHeader(const nghttp2_frame* frame) {
  // A field nghttp2 would otherwise drop silently (bad characters, uppercase): RFC 9113 §8.2.1
  // makes the request malformed, so the stream is reset.
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  auto* s = static_cast<Stream*>(nghttp2_session_get_stream_user_data(session_, frame->hd.stream_id));
  if (s && !s->rst) {
    glitch("invalid header field");
    resetStreamWith(*s, NGHTTP2_PROTOCOL_ERROR);
  }
  return 0;
}

int ServerConnection::onFrameRecv(const nghttp2_frame* frame) {
  switch (frame->hd.type) {
    case NGHTTP2_RST_STREAM:
      ++rst_received_;
      return 0;
    case NGHTTP2_HEADERS: {
      auto* s = static_cast<Stream*>(nghttp2_session_get_stream_user_data(session_, frame->hd.stream_id));
      open_header_block_ = 0;  // the header block is complete
      if (s && s->timer_mode == Stream::TimerMode::Header) {
        s->timer.disable();
        s->timer_mode = Stream::TimerMode::None;
      }
      if (!s || s->rst) return 0;
      const bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
      if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        if (end) s->remote_end = true;
        startStream(*s, end);
        if (!s->rst) armBodyTimer(*s);
        return 0;
      }
      // Trailers (nghttp2 made sure they end the stream).
      s->remote_end = true;
      armBodyTimer(*s);  // the request end arrived
      if (!s->head_accepted) return 0;  // refused head (already answered): nothing to check
      if (s->header_overflow) {
        limitHit(kLimitHeaderList, "request trailers over max_header_list_bytes / max_header_fields");
        glitch("trailers too large");
        resetStreamWith(*s, NGHTTP2_PROTOCOL_ERROR);
        return 0;
      }
      deliverBody(*s);
      return 0;
    }
    case NGHTTP2_DATA: {
      const bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
      // Empty DATA frames cost us work and the client nothing (CVE-2019-9518).
      if (!end && frame->hd.length <= frame->data.padlen) glitch("empty DATA frame");
      auto* s = static_cast<Stream*>(nghttp2_session_get_stream_user_data(session_, frame->hd.stream_id));
      if (!s || s->rst) return 0;
      if (end) s->remote_end = true;
      armBodyTimer(*s);
      deliverBody(*s);
      return 0;
    }
    default:
      return 0;
  }
}

int ServerConnection::onInvalidFrameRecv(const nghttp2_frame* frame, int lib_error_code) {
  GW_LOG(Debug, "c%llu: h2 invalid frame type %d on stream %d: %s", static_cast<unsigned long long>(info_.id),
         frame->hd.type, frame->hd.stream_id, nghttp2_strerror(lib_error_code));
  if (lib_error_code == NGHTTP2_ERR_REFUSED_STREAM) {
    // Over max_concurrent_streams before our SETTINGS were acknowledged: retryable, no glitch.
    limitHit(kLimitStreams, "stream refused: max_concurrent_streams");
    return 0;
  }
  glitch("invalid frame");
  return 0;
}

int ServerConnection::onBeginFrame(const nghttp2_frame_hd* hd) {
  // nghttp2 folds CONTINUATIONs into their HEADERS: an empty one is only visible here.
  if (hd->type == NGHTTP2_CONTINUATION && hd->length == 0) glitch("empty CONTINUATION frame");
  return 0;
}

int ServerConnection::onDataChunkRecv(int32_t stream_id, const uint8_t* data, size_t len) {
  // The connection window reopens at once (the bytes are in our buffer now); the stream window
  // only when the stream takes them (deliverBody).
  nghttp2_session_consume_connection(session_, len);
  auto* s = static_cast<Stream*>(nghttp2_session_get_stream_user_data(session_, stream_id));
  if (!s || s->rst || s->decoder_done || s->header_overflow || s->bad_request) {
    nghttp2_session_consume_stream(session_, stream_id, len);
    return 0;
  }
  s->req_bytes += len;
  armBodyTimer(*s);  // progress
  if (s->req_bytes > settings_.limits.max_body_bytes) {
    nghttp2_session_consume_stream(session_, stream_id, len);
    localError(*s, 413, "body_too_large",
               "the body exceeds " + std::to_string(settings_.limits.max_body_bytes) + " bytes");
    return 0;
  }
  evbuffer_add(s->reqBody(), data, len);
  return 0;
}

void ServerConnection::startStream(Stream& s, bool end_stream) {
  if (s.header_overflow) {
    limitHit(kLimitHeaderList, "header list over max_header_list_bytes / max_header_fields");
    glitch("header list too large");
    localError(s, 431, "header_section_too_large",
               "the header list exceeds " + std::to_string(settings_.http2.max_header_list_bytes) + " bytes or " +
                   std::to_string(settings_.http2.max_header_fields) + " fields");
    return;
  }
  if (s.bad_request) {
    glitch(s.bad_code);
    localError(s, s.bad_status, s.bad_code, s.bad_detail);
    return;
  }
  http::RequestHead& h = *s.head;
  if (!s.cookie.empty()) h.headers.add("cookie", s.cookie);
  if (h.method == "CONNECT"sv) {
    localError(s, 501, "method_not_supported", "CONNECT is not supported");
    return;
  }
  // :authority is the Host (RFC 9113 §8.3.1); a Host field naming something else is malformed.
  auto host = h.headers.get("host");
  if (h.authority.empty() && host) h.authority = *host;
  if (h.authority.empty()) {
    glitch("no authority");
    localError(s, 400, "missing_host", "the request has neither :authority nor Host");
    return;
  }
  if (host && !iequals(*host, h.authority)) {  // host names are case-insensitive
    glitch("host mismatch");
    localError(s, 400, "invalid_host", "the Host header differs from :authority");
    return;
  }
  if (!http::isValidAuthority(h.authority)) {
    glitch("bad authority");
    localError(s, 400, "invalid_host", "the authority is not valid");
    return;
  }
  if (!host) h.headers.add("host", h.authority);
  if (h.path == "*"sv ? h.method != "OPTIONS"sv : (h.path.empty() || h.path[0] != '/')) {
    localError(s, 400, "invalid_request_target", "the request-target must start with '/'");
    return;
  }
  if (auto cl = h.headers.get("content-length")) {  // nghttp2 checked it is one number
    auto n = parseUint(*cl);
    if (!n) {
      localError(s, 400, "invalid_content_length", "Content-Length is not a number");
      return;
    }
    h.content_length = *n;
    if (*n > settings_.limits.max_body_bytes) {
      localError(s, 413, "body_too_large",
                 "the body exceeds " + std::to_string(settings_.limits.max_body_bytes) + " bytes");
      return;
    }
  } else if (end_stream) {
    h.content_length = 0;
  }
  if (auto expect = h.headers.get("expect")) {
    if (!iequals(trim(*expect), "100-continue")) {
      localError(s, 417, "expectation_failed", "only 100-continue is supported in Expect");
      return;
    }
    h.expect_continue = true;
    h.headers.remove("expect");
  }
  // The scheme is the connection's, not the client's word: an h2c client saying "https" must not
  // make upstreams see X-Forwarded-Proto: https (RFC 9113 §8.3.1 lets a gateway translate it).
  h.scheme = info_.tls ? "https" : "http";
  s.head_request = h.method == "HEAD"sv;
  s.head_accepted = true;
  GW_INC(downstream_rq_total);
  s.decoder = callbacks_.newStream(s, info_);
  if (end_stream) s.end_delivered = true;
  http::RequestDecoder* d = s.decoder.get();
  d->decodeHeaders(std::move(s.head), end_stream);
}

void ServerConnection::deliverBody(Stream& s) {
  if (closed_ || s.rst) return;
  if (!s.decoder) {
    // Not started yet (refused) or already answered: the body is dropped.
    size_t n = s.req_body ? evbuffer_get_length(s.req_body) : 0;
    if (n > 0) {
      evbuffer_drain(s.req_body, n);
      nghttp2_session_consume_stream(session_, s.id, n);
    }
    return;
  }
  if (s.read_disabled || s.end_delivered) return;
  const size_t n = s.req_body ? evbuffer_get_length(s.req_body) : 0;
  const bool trailers = s.req_trailers.has_value();
  const bool end = s.remote_end && !trailers;
  if (n > 0 || end) {
    if (end) s.end_delivered = true;
    s.decoder->decodeData(s.reqBody(), end);  // moved on toward the upstream (or buffered, bounded)
    if (n > 0) nghttp2_session_consume_stream(session_, s.id, n);
    scheduleFlush();  // WINDOW_UPDATE
  }
  if (s.remote_end && trailers && !s.end_delivered && s.decoder && !s.read_disabled) {
    s.end_delivered = true;
    s.decoder->decodeTrailers(std::move(*s.req_trailers));
    s.req_trailers.reset();
  }
}

void ServerConnection::scheduleResume(Stream& s) {
  if (closed_ || s.resume_queued) return;
  s.resume_queued = true;
  to_resume_.push_back(s.id);
  resume_later_.activate();
}

void ServerConnection::resumeStreams() {
  if (!session_) {  // the session could not be created (constructor)
    closeNow();
    return;
  }
  auto ids = std::move(to_resume_);
  to_resume_.clear();
  for (int32_t id : ids) {
    if (closed_) return;
    auto it = streams_.find(id);
    if (it == streams_.end()) continue;
    it->second->resume_queued = false;
    deliverBody(*it->second);
  }
  flushNow();
}

void ServerConnection::localError(Stream& s, int status, const char* code, const std::string& detail) {
  if (closed_ || s.rst) return;
  GW_INC(downstream_rq_protocol_error);
  if (s.decoder) {
    http::StreamInfo& si = s.decoder->streamInfo();
    if (!s.resp_started) si.status = status;
    si.details = code;
    s.decoder->onResetStream();
    releaseDecoder(s);
  } else if (!s.decoder_done) {
    http::StreamInfo si = http::streamInfoFor(info_, "HTTP/2.0");
    if (s.head) {
      si.method = s.head->method;
      si.target = s.head->target().substr(0, 1024);
      si.host = s.head->authority.substr(0, 255);
    }
    si.status = status;
    si.details = code;
    callbacks_.onProtocolError(si);
  }
  s.decoder_done = true;
  armBodyTimer(s);  // off: the request no longer matters
  // The first per connection at Info, the rest at Debug: a client cannot flood the error log.
  if (!local_error_logged_) {
    local_error_logged_ = true;
    GW_LOG(Info, "c%llu: %s stream %d: %d %s (%s)", static_cast<unsigned long long>(info_.id),
           info_.peer.str().c_str(), s.id, status, code, detail.c_str());
  } else {
    GW_LOG(Debug, "c%llu: stream %d: %d %s (%s)", static_cast<unsigned long long>(info_.id), s.id, status, code,
           detail.c_str());
  }
  if (s.resp_started) {
    resetStreamWith(s, NGHTTP2_INTERNAL_ERROR);
    return;
  }
  const std::string body = http::problemJson(status, code, detail, "");
  http::ResponseHead head;
  head.status = status;
  head.headers.add("content-type", http::kProblemContentType);
  head.headers.add("cache-control", "no-store");
  head.content_length = body.size();
  submitResponse(s, head, false);
  if (s.rst) return;  // could not be submitted: the stream was reset
  evbuffer_add(s.resp_body, body.data(), body.size());
  accountResponse(static_cast<ptrdiff_t>(body.size()));
  s.resp_end = true;
  if (s.deferred) {
    s.deferred = false;
    nghttp2_session_resume_data(session_, s.id);
  }
  scheduleFlush();
}

// ---------------------------------------------------------------------------------------------
// Response side

void ServerConnection::submitResponse(Stream& s, http::ResponseHead& head, bool end_stream) {
  s.resp_started = true;
  const int status = head.status;
  s.no_body = end_stream || s.head_request || status == 204 || status == 304;
  thread_local std::vector<nghttp2_nv> nva;
  nva.clear();
  const int st = status >= 100 && status <= 999 ? status : 500;
  const char status_buf[3] = {static_cast<char>('0' + st / 100), static_cast<char>('0' + st / 10 % 10),
                              static_cast<char>('0' + st % 10)};
  auto add = [&](std::string_view n, std::string_view v, uint8_t flags) {
    nva.push_back({(uint8_t*)n.data(), (uint8_t*)v.data(), n.size(), v.size(), flags});
  };
  // Our own names are lower-case literals, never copied; their values are.
  add(":status", std::string_view(status_buf, 3), NGHTTP2_NV_FLAG_NO_COPY_NAME);
  // The fields are taken, lower-cased in place (HTTP/2 field names are lower case): nghttp2
  // refers to them until the stream goes instead of copying them.
  s.resp_headers = std::move(head.headers);
  s.resp_headers.lowerCaseNames();
  bool has_date = false;
  for (const auto& f : s.resp_headers.fields()) {
    const std::string_view n = f.name;
    if (n.empty() || n[0] == ':') continue;
    uint8_t flags = NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE;
    switch (n.size()) {  // connection-specific fields, our own content-length and date
      case 2: if (n == "te") continue; break;
      case 4: has_date = has_date || n == "date"; break;
      case 7: if (n == "upgrade") continue; break;
      case 10: if (n == "connection" || n == "keep-alive") continue; break;
      // A value unique to each response (the request id) would only churn the HPACK dynamic
      // table. The first one is indexed, once per connection, for its name: the later ones refer
      // to the name by index instead of a Huffman-coded literal.
      case 12:
        if (n == "x-request-id") {
          if (request_id_indexed_) flags |= NGHTTP2_NV_FLAG_NO_INDEX;
          request_id_indexed_ = true;
        }
        break;
      case 14: if (n == "content-length") continue; break;
      case 16: if (n == "proxy-connection") continue; break;
      case 17: if (n == "transfer-encoding") continue; break;
      default: break;
    }
    add(n, f.value, flags);
  }
  char length_buf[24];
  if (head.content_length && status != 204 && status >= 200) {
    const char* end = std::to_chars(length_buf, length_buf + sizeof(length_buf), *head.content_length).ptr;
    add("content-length", std::string_view(length_buf, static_cast<size_t>(end - length_buf)),
        NGHTTP2_NV_FLAG_NO_COPY_NAME);
  }
  if (!has_date) add("date", httpDate(), NGHTTP2_NV_FLAG_NO_COPY_NAME);  // the cache changes every second
  int rv;
  if (s.no_body) {
    rv = nghttp2_submit_response(session_, s.id, nva.data(), nva.size(), nullptr);
  } else {
    nghttp2_data_provider prd;
    prd.source.ptr = &s;
    prd.read_callback = onReadDataCb;
    rv = nghttp2_submit_response(session_, s.id, nva.data(), nva.size(), &prd);
  }
  if (rv != 0) {
    // The stream must not hang: reset it and let the decoder go.
    GW_LOG(Info, "c%llu: stream %d: cannot submit response: %s", static_cast<unsigned long long>(info_.id), s.id,
           nghttp2_strerror(rv));
    resetStreamWith(s, NGHTTP2_INTERNAL_ERROR);
    if (s.decoder) s.decoder->onResetStream();
    releaseDecoder(s);
  }
  scheduleFlush();
}

ssize_t ServerConnection::onReadData(Stream& s, size_t length, uint32_t* data_flags) {
  const size_t avail = evbuffer_get_length(s.resp_body);
  const size_t n = std::min(length, avail);
  if (n == 0 && !s.resp_end) {
    s.deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  *data_flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  if (s.resp_end && n == avail) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    if (s.resp_trailers && !s.resp_trailers->empty()) {
      std::vector<nghttp2_nv> nva;
      for (const auto& f : s.resp_trailers->fields()) {
        nva.push_back({(uint8_t*)f.name.data(), (uint8_t*)f.value.data(), f.name.size(), f.value.size(),
                       NGHTTP2_NV_FLAG_NONE});
      }
      if (nghttp2_submit_trailer(session_, s.id, nva.data(), nva.size()) == 0) {
        *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      }
    }
  }
  return static_cast<ssize_t>(n);
}

int ServerConnection::onSendData(Stream& s, const uint8_t* framehd, size_t length) {
  evbuffer* out = io_->output();
  evbuffer_add(out, framehd, 9);
  if (length > 4096) {
    evbuffer_remove_buffer(s.resp_body, out, length);  // moves whole chains, no copy
  } else if (length > 0) {
    // Small payloads are copied next to their frame header instead: one chain for many small
    // frames means one writev entry (one TLS record under TLS) instead of two per frame.
    unsigned char small[4096];
    evbuffer_remove(s.resp_body, small, length);
    evbuffer_add(out, small, length);
  }
  data_sent_ += length;
  s.sent += length;
  if (s.above_high && evbuffer_get_length(s.resp_body) <= settings_.limits.buffer_bytes / 4) {
    s.above_high = false;
    updatePause(s);
  }
  accountResponse(-static_cast<ptrdiff_t>(length));
  return 0;
}

int ServerConnection::onFrameSend(const nghttp2_frame* frame) {
  switch (frame->hd.type) {
    case NGHTTP2_DATA:
    case NGHTTP2_HEADERS: {
      if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
      auto* s = static_cast<Stream*>(nghttp2_session_get_stream_user_data(session_, frame->hd.stream_id));
      // The response is complete but the request is not: stop the client sending the rest
      // (RFC 9113 §8.1).
      if (s && !s->remote_end && !s->rst) {
        s->rst = true;
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_NO_ERROR);
      }
      return 0;
    }
    case NGHTTP2_RST_STREAM:
      if (frame->rst_stream.error_code != NGHTTP2_NO_ERROR) GW_INC(http2_rst_sent);
      return 0;
    case NGHTTP2_GOAWAY: {
      const uint32_t code = frame->goaway.error_code;
      if (code == NGHTTP2_NO_ERROR) return 0;
      GW_INC(http2_goaway_sent);
      if (!our_goaway_) {
        // nghttp2 ended the session on its own: attribute it to the limit that fired.
        if (code == NGHTTP2_INTERNAL_ERROR && rst_received_ >= settings_.http2.reset_burst) {
          limitHit(kLimitResetRate, "stream reset rate limit (Rapid Reset)");
        } else if (code == NGHTTP2_ENHANCE_YOUR_CALM) {
          limitHit(kLimitSettings, "too many SETTINGS entries or flood (max_settings)");
        } else {
          GW_LOG(Info, "c%llu: %s: GOAWAY %s", static_cast<unsigned long long>(info_.id), info_.peer.str().c_str(),
                 errorName(code));
        }
      }
      return 0;
    }
    default:
      return 0;
  }
}

int ServerConnection::onFrameNotSend(const nghttp2_frame* frame, int lib_error_code) {
  // A response HEADERS (or DATA) nghttp2 could not send: the stream would hang otherwise.
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
  auto* s = static_cast<Stream*>(nghttp2_session_get_stream_user_data(session_, frame->hd.stream_id));
  GW_LOG(Debug, "c%llu: stream %d: frame type %d not sent: %s", static_cast<unsigned long long>(info_.id),
         frame->hd.stream_id, frame->hd.type, nghttp2_strerror(lib_error_code));
  if (!s || s->detached) return 0;
  resetStreamWith(*s, NGHTTP2_INTERNAL_ERROR);
  if (s->decoder) s->decoder->onResetStream();
  releaseDecoder(*s);
  return 0;
}

void ServerConnection::resetStreamWith(Stream& s, uint32_t error_code) {
  if (s.rst) return;
  s.rst = true;
  armBodyTimer(s);  // off (a header timer keeps running: the block is still open)
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, error_code);
  scheduleFlush();
}

void ServerConnection::releaseDecoder(Stream& s) {
  s.decoder_done = true;
  s.upstream_paused = false;
  if (s.decoder) dispatcher_.deferredDelete(std::move(s.decoder));
  if (s.timer_mode == Stream::TimerMode::Body) {
    s.timer.disable();
    s.timer_mode = Stream::TimerMode::None;
  }
  if (s.detached) {  // nghttp2 closed it already: the stream object goes now
    auto it = detached_.find(s.id);
    if (it != detached_.end()) {
      std::unique_ptr<Stream> owned = std::move(it->second);
      detached_.erase(it);
      dispatcher_.deferredDelete(std::move(owned));
    }
  }
}

int ServerConnection::onStreamClose(int32_t stream_id, uint32_t error_code) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return 0;
  std::unique_ptr<Stream> s = std::move(it->second);
  streams_.erase(it);
  s->timer.disable();
  s->timer_mode = Stream::TimerMode::None;
  accountResponse(-static_cast<ptrdiff_t>(evbuffer_get_length(s->resp_body)));
  nghttp2_session_set_stream_user_data(session_, stream_id, nullptr);
  if (s->decoder && error_code == NGHTTP2_NO_ERROR && s->resp_started && s->no_body && s->end_delivered) {
    // A complete headers-only response (HEAD, 204, 304) whose end the decoder has not given yet
    // (FastCGI sends it after the head): a completion, not a reset. Kept until the end comes.
    s->detached = true;
    detached_.emplace(stream_id, std::move(s));
    if (streams_.empty()) armTimer();
    return 0;
  }
  if (s->decoder) {
    // Closed before the response completed (client reset, or our own reset).
    if (error_code != NGHTTP2_NO_ERROR) GW_LOG(Debug, "c%llu: stream %d reset: %s",
                                                static_cast<unsigned long long>(info_.id), stream_id,
                                                errorName(error_code));
    s->decoder->onResetStream();
    dispatcher_.deferredDelete(std::move(s->decoder));
  }
  dispatcher_.deferredDelete(std::move(s));
  if (streams_.empty()) armTimer();
  return 0;
}

}  // namespace gw::http2
