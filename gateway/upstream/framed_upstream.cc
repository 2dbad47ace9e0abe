#include "upstream/framed_upstream.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/counters.h"
#include "core/log.h"
#include "core/transport.h"
#include "filters/router.h"
#include "http/problem.h"
#include "upstream/cgi/environ.h"
#include "upstream/fastcgi/fastcgi.h"
#include "upstream/fastcgi/stdout_reader.h"
#include "upstream/host_set.h"
#include "upstream/uwsgi/response_reader.h"
#include "upstream/uwsgi/uwsgi.h"

using namespace std::string_view_literals;  // "..."sv: compared by size first, then inline

namespace gw::upstream {
namespace {

class FramedUpstreamImpl;
class FramedConnection;
class FramedRequest;

constexpr Millis kAbortGrace{2000};  // END_REQUEST awaited this long after FCGI_ABORT_REQUEST
constexpr int kMaxLocalRedirects = 5;
constexpr size_t kMaxStderrLine = 4096;
// Request body kept while it is written to a kept connection, so that the request can be replayed
// on a new one if the worker closes the kept one under it (see FramedRequest::keepForReplay).
constexpr size_t kMaxReplayBody = 64 * 1024;

struct FramedHost : UpstreamHost {
  std::vector<std::unique_ptr<FramedConnection>> conns;  // every open connection to this server
  // Learnt from FCGI_GET_VALUES_RESULT (any connection), applied to later requests.
  bool mpxs = false;
  size_t max_reqs = 1;
  // The worker closed a connection we kept after END_REQUEST (uWSGI ignores FCGI_KEEP_CONN):
  // keeping its connections would only race with its close, so they are closed after each request.
  bool closes_kept_connections = false;
  // FCGI_GET_VALUES goes out on the first connection to the server, and again on the next one
  // after a failure (the worker may have been restarted with other settings): not on every
  // connection, which for a worker that closes them after each request (uWSGI) would be one more
  // exchange per request.
  bool values_asked = false;
};

// ---------------------------------------------------------------------------------------------
// One socket to one worker. Owned by its host's `conns`; requests attach to it (one at a time,
// or several when the FastCGI worker multiplexes) and hold a non-owning pointer until detached.

class FramedConnection : public fastcgi::DecoderCallbacks, private Transport::Callbacks {
 public:
  FramedConnection(FramedUpstreamImpl& up, FramedHost& host);
  ~FramedConnection() override;

  void connect();
  bool connected() const { return state_ == State::Open; }
  bool closed() const { return state_ == State::Closed; }
  FramedHost& host() { return host_; }
  evbuffer* output() { return io_->output(); }
  void flush() {
    if (state_ == State::Open) flush_later_.activate();
  }
  size_t activeStreams() const { return streams_.size(); }
  bool idle() const { return streams_.empty() && aborting_.empty() && state_ == State::Open && reusable_; }
  bool reused() const { return completed_ > 0; }
  // Can another request share this connection now (FastCGI multiplexing)?
  bool canMultiplex() const;
  uint16_t attach(FramedRequest& r);
  // The request is done with the connection. clean: its exchange completed (END_REQUEST / full
  // response); otherwise FastCGI sends ABORT_REQUEST and uwsgi closes.
  void detach(FramedRequest& r, bool clean);
  void updateReadEnabled();
  void close(Failure f, std::string_view detail);  // detail: a literal or strerror, mostly

  // fastcgi::DecoderCallbacks
  void onStdout(uint16_t id, evbuffer* data, bool end) override;
  void onStderr(uint16_t id, evbuffer* data, bool end) override;
  void onEndRequest(uint16_t id, uint32_t app_status, fastcgi::ProtocolStatus status) override;
  void onGetValuesResult(std::span<const fastcgi::NameValue> values) override;
  void onUnknownType(uint8_t) override {}

 private:
  enum class State { Connecting, Open, Closed };
  // Transport::Callbacks
  void onTransportRead() override { onRead(); }
  void onTransportWritten() override { onWrite(); }
  void onTransportEvent(short what) override { onEvent(what); }
  void onRead();
  void onWrite();
  void onEvent(short what);
  void onTimer();
  void afterStreamsChanged();
  FramedRequest* stream(uint16_t id);

  FramedUpstreamImpl& up_;
  FramedHost& host_;
  TransportPtr io_;
  State state_ = State::Connecting;
  Timer timer_;  // connect timeout; pool idle timeout; abort grace
  LoopCallback flush_later_;
  LoopCallback read_later_;  // input read while reading was paused, processed from the loop
  fastcgi::Decoder decoder_;
  std::vector<std::pair<uint16_t, FramedRequest*>> streams_;
  std::vector<uint16_t> aborting_;
  bool parked_ = false;
  uint64_t completed_ = 0;
  bool in_read_ = false;
  // False once a request left it without its STDIN end written: never back to the pool then.
  bool reusable_ = true;
  bool awaiting_values_ = false;  // this connection sent FCGI_GET_VALUES and has no answer yet
};

// ---------------------------------------------------------------------------------------------

class FramedUpstreamImpl : public Upstream {
 public:
  FramedUpstreamImpl(Dispatcher& d, const config::Config& root, const config::Upstream& cfg, FramedProtocol p);
  ~FramedUpstreamImpl() override;
  UpstreamRequestPtr newRequest(UpstreamCallbacks& callbacks) override;
  bool needsContentLength() const override { return true; }
  // A request that goes to `host` only, never queued or retried (health probes).
  UpstreamRequestPtr newPinnedRequest(UpstreamCallbacks& callbacks, FramedHost& host);

  Dispatcher& dispatcher() { return dispatcher_; }
  const config::Upstream& config() const { return cfg_; }
  const config::Config& root() const { return root_; }
  FramedProtocol protocol() const { return protocol_; }
  // Always empty: for callbacks and writes of no data (their callee drains it: nothing to drain).
  evbuffer* emptyBuffer() const { return empty_; }
  size_t bufferBytes() const { return root_.limits.buffer_bytes; }
  FramedHost& host(size_t i) { return hosts_[i]; }
  size_t hostIndex(const FramedHost& h) const { return static_cast<size_t>(&h - hosts_.data()); }
  size_t hostCount() const { return hosts_.size(); }

  // Gives the request a server and a connection, queues it, or fails it (503).
  void dispatch(FramedRequest& r);
  void dequeue(FramedRequest& r);
  // A request stopped using a server slot: queued requests may go.
  void releaseSlot(FramedHost& h);
  // Called by a connection that became idle / closed.
  void connectionIdle(FramedConnection& c);
  void removeConnection(FramedConnection& c);
  void reportFailure(FramedHost& h, const char* why) {
    h.values_asked = false;
    reportHostFailure(h, cfg_, why);
  }
  bool hasCapacity(const FramedHost& h) const {
    return cfg_.max_requests_per_server == 0 || h.active_requests < cfg_.max_requests_per_server;
  }

 private:
  void attachTo(FramedRequest& r, FramedHost& h);
  void drainQueue();
  void startProbes();

  Dispatcher& dispatcher_;
  const config::Config& root_;
  const config::Upstream& cfg_;
  FramedProtocol protocol_;
  evbuffer* empty_;
  std::vector<FramedHost> hosts_;
  size_t rr_next_ = 0;
  std::deque<FramedRequest*> queue_;
  LoopCallback drain_later_;
  std::vector<std::unique_ptr<class HealthProbe>> probes_;
  bool destroying_ = false;
};

// The environ straight into the protocol's encoding of name-value pairs (framed when written).
class VarsEncoder final : public cgi::EnvironSink {
 public:
  VarsEncoder(FramedProtocol protocol, std::string& out) : protocol_(protocol), out_(out) {}
  void onVar(std::string_view name, std::string_view value) override {
    // FastCGI refuses only names or values over 2 GiB, which a request head cannot hold.
    if (protocol_ == FramedProtocol::FastCgi) (void)fastcgi::appendNameValue(out_, name, value);
    else uwsgi::appendVar(out_, name, value);
  }

 private:
  FramedProtocol protocol_;
  std::string& out_;
};

// ---------------------------------------------------------------------------------------------
// One request through a FastCGI / uwsgi upstream, with retries and (FastCGI) local redirects.

class FramedRequest : public UpstreamRequest, public ResponseSink {
 public:
  FramedRequest(FramedUpstreamImpl& up, UpstreamCallbacks& callbacks, FramedHost* pinned = nullptr)
      : up_(up),
        callbacks_(callbacks),
        pinned_(pinned),
        timer_(up.dispatcher(), [this] { onTimer(); }),
        later_(up.dispatcher(), [](evutil_socket_t, short, void* arg) { static_cast<FramedRequest*>(arg)->onLater(); },
               this) {}

  ~FramedRequest() override {
    cancelled_ = true;
    abandon();
    if (pending_) evbuffer_free(pending_);
    if (replay_) evbuffer_free(replay_);
  }

  // ---- UpstreamRequest
  void sendHeaders(const http::RequestHead& head, bool end_stream) override {
    head_ = &head;  // the stream's: not copied (a local redirect makes a copy of its own)
    const http::StreamInfo& si = callbacks_.streamInfo();
    // The environ carries the path as received (the router may have stripped the prefix): the
    // route's prefix becomes SCRIPT_NAME.
    if (si.route && si.route->strip_prefix) {
      std::string_view t = si.target;
      received_path_ = t.substr(0, t.find('?'));
    }
    if (!head.content_length && !end_stream) {
      return failLater(Failure::LengthRequired, "request body without Content-Length");
    }
    content_length_ = head.content_length.value_or(0);
    request_complete_ = end_stream;
    if (!buildEnv()) return;
    up_.dispatch(*this);
  }

  void sendData(evbuffer* data, bool end_stream) override {
    // After a local redirect the original body has no taker (the re-dispatched GET has none), and
    // once the STDIN end / the whole uwsgi body was written nothing may follow it.
    if (finished_ || cancelled_ || redirects_ > 0 || end_written_) {
      evbuffer_drain(data, evbuffer_get_length(data));
      return;
    }
    request_complete_ = request_complete_ || end_stream;
    if (conn_) {
      writeBody(data, end_stream);
      return;
    }
    if (!pending_) pending_ = evbuffer_new();
    evbuffer_add_buffer(pending_, data);
    checkHighWatermark(pending_);
  }

  void readDisable(bool disable) override {
    if (read_disabled_ == disable) return;
    read_disabled_ = disable;
    if (!conn_) return;  // queued: queue_timeout runs on, it is about the upstream
    conn_->updateReadEnabled();
    armWait();
  }

  // As for HTTP/1: the timer for what an attached request waits for now, its head once the whole
  // request is written (response_timeout) or more of its body (idle_timeout); none while we do not
  // read (our pause is not the worker's lateness), and reading again starts the wait afresh.
  void armWait() {
    if (read_disabled_ || (!headers_delivered_ && !end_written_)) {
      timer_.disable();
    } else {
      timer_.enable(headers_delivered_ ? up_.config().idle_timeout : up_.config().response_timeout);
    }
  }

  void cancel() override {
    if (cancelled_) return;
    cancelled_ = true;
    timer_.disable();
    abandon();
  }

  // ---- ResponseSink
  bool onResponseHead(http::ResponseHeadPtr head) override {
    if (cancelled_ || finished_) return false;
    headers_delivered_ = true;
    dropReplay();
    armWait();  // (paused: the connection read for another stream)
    if (host_) reportHostSuccess(*host_);
    auto& si = callbacks_.streamInfo();
    si.upstream_time_us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_).count();
    callbacks_.onUpstreamHeaders(std::move(head), false);
    return !cancelled_;
  }
  bool onResponseBody(evbuffer* data) override {
    if (cancelled_ || finished_) return false;
    if (!read_disabled_) timer_.enable(up_.config().idle_timeout);
    callbacks_.onUpstreamData(data, false);
    return !cancelled_;
  }

  // ---- from the upstream / connection
  const HostSet& tried() const { return tried_; }
  FramedHost* pinned() const { return pinned_; }
  bool readDisabled() const { return read_disabled_; }
  // The whole request (FastCGI: through the empty STDIN record) was written to the connection.
  bool endWritten() const { return end_written_; }
  bool queued() const { return queued_; }

  void onQueued() {
    queued_ = true;
    timer_.enable(up_.config().queue_timeout);
  }
  void onDequeued() {
    queued_ = false;
    timer_.disable();
  }

  // A slot on `host` and a connection; write the request.
  void onAttached(FramedHost& host, FramedConnection& conn, uint16_t id) {
    ++attempts_;
    host_ = &host;
    conn_ = &conn;
    id_ = id;
    tried_[up_.hostIndex(host)] = true;
    end_written_ = false;  // per attempt: a retry writes the whole request again
    auto& si = callbacks_.streamInfo();
    if (!si.upstream_address.empty()) si.upstream_address += ", ";
    si.upstream_address += host.name;
    if (start_ == Clock::time_point{}) start_ = Clock::now();
    const bool is_head = head().method == "HEAD"sv;
    if (up_.protocol() == FramedProtocol::FastCgi) {
      stdout_ = std::make_unique<fastcgi::StdoutReader>(is_head);
    } else {
      http_ = std::make_unique<uwsgi::ResponseReader>(is_head);
    }
    evbuffer* out = conn.output();
    const bool no_body = content_length_ == 0;
    if (up_.protocol() == FramedProtocol::FastCgi) {
      fastcgi::encodeRequestHead(out, id_, vars_, /*keep_conn=*/true, /*stdin_end=*/no_body);
    } else {
      (void)uwsgi::encodeVarsPacket(out, vars_);  // size checked in buildEnv
    }
    if (no_body) {
      end_written_ = true;
    } else if ((pending_ && evbuffer_get_length(pending_) > 0) || request_complete_) {
      writeBody(pending_ ? pending_ : up_.emptyBuffer(), request_complete_);
    }
    conn.flush();
    armWait();
  }

  // The connection's output drained below the low watermark.
  void onWritable() {
    if (above_high_ && conn_ && evbuffer_get_length(conn_->output()) <= up_.bufferBytes() / 4) {
      above_high_ = false;
      callbacks_.onUpstreamBelowWriteLowWatermark();
    }
  }

  // FastCGI records for this request.
  void onStdout(evbuffer* data, bool end) {
    if (!stdout_) return;
    auto s = stdout_->onStdout(data, end, *this);
    if (s == fastcgi::StdoutReader::Status::Error) badResponse(stdout_->error());
  }
  void onStderr(evbuffer* data, bool end) {
    // One log line per line of STDERR, with the request id; partial lines are bounded.
    size_t n = evbuffer_get_length(data);
    while (n > 0) {
      char buf[1024];
      size_t take = std::min(n, sizeof(buf));
      evbuffer_remove(data, buf, take);
      n -= take;
      for (size_t i = 0; i < take; ++i) {
        if (buf[i] == '\n') {
          logStderrLine();
        } else if (stderr_line_.size() < kMaxStderrLine) {
          stderr_line_.push_back(buf[i] == '\r' ? ' ' : buf[i]);
        }
      }
    }
    if (end && !stderr_line_.empty()) logStderrLine();
  }
  void onEndRequest(uint32_t app_status, fastcgi::ProtocolStatus status) {
    if (!stderr_line_.empty()) logStderrLine();
    if (status == fastcgi::ProtocolStatus::CantMpxConn || status == fastcgi::ProtocolStatus::Overloaded) {
      if (status == fastcgi::ProtocolStatus::CantMpxConn && host_) host_->mpxs = false;
      GW_LOG(Info, "upstream %s: %s answered %s", up_.config().name.c_str(), host_ ? host_->name.c_str() : "?",
             fastcgi::protocolStatusName(status));
      if (!stdout_->sawBytes()) return attemptFailed(Failure::Overloaded, fastcgi::protocolStatusName(status), true);
      return badResponse(fastcgi::protocolStatusName(status));
    }
    if (status == fastcgi::ProtocolStatus::UnknownRole) return badResponse("fastcgi_unknown_role");
    if (stdout_->finish() == fastcgi::StdoutReader::Status::Error) return badResponse(stdout_->error());
    (void)app_status;
    if (stdout_->localRedirect()) return localRedirect(stdout_->location());
    complete();
  }
  // uwsgi response bytes.
  void onHttpInput(evbuffer* in, bool eof) {
    if (!http_) return;
    auto s = eof ? http_->finishAtEof(*this) : http_->feed(in, *this);
    switch (s) {
      case uwsgi::ResponseReader::Status::Complete:
        return complete();
      case uwsgi::ResponseReader::Status::Error:
        return badResponse(http_->error());
      case uwsgi::ResponseReader::Status::NeedMore:
      case uwsgi::ResponseReader::Status::Stopped:
        return;
    }
  }
  bool sawResponseBytes() const {
    return headers_delivered_ || (stdout_ && stdout_->sawBytes()) || (http_ && http_->sawBytes());
  }

  // The connection failed under this request (connect error, reset, timeout, bad records).
  void onConnectionFailed(Failure f, std::string_view detail) {
    conn_ = nullptr;
    if (cancelled_ || finished_) return;  // the client is gone: no retry, no callback
    attemptFailed(f, detail, false);
  }

  void failLater(Failure f, std::string detail) {
    later_failure_ = f;
    later_detail_ = std::move(detail);
    later_.activate();
  }

 private:
  // The request's environ, encoded once into vars_ (kept for retries).
  bool buildEnv() {
    const http::StreamInfo& si = callbacks_.streamInfo();
    cgi::EnvironOptions o;
    const config::Route* route = si.route;
    if (route) o.mount_prefix = route->prefix;
    if (!redirected_) o.path = received_path_;
    // The port and scheme the client used: the listener's, or a trusted proxy's word for them.
    const http::ForwardedValues fwd(si, head());
    o.server_port = static_cast<uint16_t>(parseUint(fwd.port).value_or(si.local_port));
    o.remote_addr = si.client_address;
    // The TCP peer's port is the client's only when no trusted proxy stood in between.
    o.remote_port = si.client_address == si.peer_ip ? si.peer.port() : 0;
    o.https = fwd.proto.empty() ? si.tls : fwd.proto == "https";
    if (!si.user.empty()) o.remote_user = si.user;
    const std::pair<std::string_view, std::string_view> forwarded[] = {
        {"HTTP_X_FORWARDED_FOR", fwd.xff},   {"HTTP_X_FORWARDED_PROTO", fwd.proto}, {"HTTP_X_FORWARDED_HOST", fwd.host},
        {"HTTP_X_FORWARDED_PORT", fwd.port}, {"HTTP_FORWARDED", fwd.rfc7239}};
    if (up_.config().forwarded_headers) o.forwarded = forwarded;
    if (route && route->cgi) {
      const config::RouteCgi& c = *route->cgi;
      if (c.document_root) o.document_root = *c.document_root;
      if (c.script_filename) o.script_filename = *c.script_filename;
      o.extra = c.params;
    }
    // One allocation in the usual case: the fixed variables take about 300 bytes, the path and
    // query appear twice (PATH_INFO, REQUEST_URI), every header field once.
    const http::RequestHead& h = head();
    size_t estimate = 384 + 2 * (h.path.size() + h.query.size());
    for (const http::HeaderField& f : h.headers.fields()) estimate += f.name.size() + f.value.size() + 16;
    vars_.clear();
    vars_.reserve(estimate);
    VarsEncoder encoder(up_.protocol(), vars_);
    if (auto r = cgi::writeEnviron(h, o, encoder); !r) {
      failLater(Failure::BadRequest, cgi::environErrorName(r.error()));
      return false;
    }
    if (up_.protocol() == FramedProtocol::Uwsgi && vars_.size() > uwsgi::kMaxPacket) {
      // The vars packet is the request's header section: over 64 KiB is 431 (RFC 6585 §5).
      GW_LOG(Warn, "upstream %s: uwsgi vars packet of %zu bytes over %zu rid=%s", up_.config().name.c_str(),
             vars_.size(), uwsgi::kMaxPacket, si.request_id.c_str());
      failLater(Failure::HeadersTooLarge, "uwsgi_vars_too_large");
      return false;
    }
    return true;
  }

  void checkHighWatermark(evbuffer* buf) {
    if (!above_high_ && evbuffer_get_length(buf) > up_.bufferBytes()) {
      above_high_ = true;
      callbacks_.onUpstreamAboveWriteHighWatermark();
    }
  }

  void writeBody(evbuffer* data, bool end) {
    if (end_written_) {  // never a STDIN record (or uwsgi body byte) after the end
      evbuffer_drain(data, evbuffer_get_length(data));
      return;
    }
    evbuffer* out = conn_->output();
    size_t len = evbuffer_get_length(data);
    keepForReplay(data);
    body_written_ += len;
    if (up_.protocol() == FramedProtocol::FastCgi) {
      fastcgi::encodeStdin(out, id_, data);
      if (end) fastcgi::encodeStdinEnd(out, id_);
    } else {
      evbuffer_add_buffer(out, data);
    }
    if (end) end_written_ = true;
    conn_->flush();
    // The response timeout counts from the last request byte sent: a long upload is not a hang.
    if (!headers_delivered_ && !read_disabled_ && (len > 0 || end)) timer_.enable(up_.config().response_timeout);
    checkHighWatermark(out);
  }

  // A kept connection may be closed by the worker just as a request is written to it (uWSGI closes
  // FastCGI connections after each request, php-fpm when a child retires): the worker then closes
  // without a byte of answer, and the request goes once more over a new connection (attemptFailed).
  // A bodiless request needs nothing kept for that. A body is kept (copied while written, up to
  // kMaxReplayBody) only for an idempotent method: a worker that read a POST and died before
  // answering looks the same from here, and a POST must not run twice (RFC 9110 §9.2.2; nginx
  // does not resend one either). Such a request fails with 502 instead.
  void keepForReplay(evbuffer* data) {
    if (!reused_conn_ || fresh_only_ || sawResponseBytes() || !http::isIdempotentMethod(head().method)) {
      return dropReplay();
    }
    const size_t len = evbuffer_get_length(data);
    if (body_written_ + len > kMaxReplayBody || (body_written_ > 0 && !replay_)) return dropReplay();
    if (!replay_) replay_ = evbuffer_new();
    if (len > 0) evbuffer_add(replay_, evbuffer_pullup(data, -1), len);  // at most kMaxReplayBody
  }
  void dropReplay() {
    if (replay_) evbuffer_free(std::exchange(replay_, nullptr));
  }
  // Everything written so far can be written again.
  bool bodyReplayable() const { return body_written_ == 0 || (replay_ && evbuffer_get_length(replay_) == body_written_); }

  void logStderrLine() {
    GW_LOG(Warn, "upstream %s %s rid=%s stderr: %s", up_.config().name.c_str(), host_ ? host_->name.c_str() : "?",
           callbacks_.streamInfo().request_id.c_str(), stderr_line_.c_str());
    stderr_line_.clear();
  }

  // Leaves the connection / queue / slot; `clean` only when the exchange completed.
  void leave(bool clean) {
    if (queued_) {
      up_.dequeue(*this);
      queued_ = false;
    }
    FramedConnection* c = std::exchange(conn_, nullptr);
    FramedHost* h = std::exchange(host_, nullptr);
    if (c) c->detach(*this, clean);
    if (h) {
      slot_host_ = h;
      up_.releaseSlot(*h);
    }
  }
  void abandon() { leave(false); }

  void complete() {
    finished_ = true;
    timer_.disable();
    leave(true);
    if (!headers_delivered_) {  // cannot happen: the readers deliver the head first
      callbacks_.onUpstreamFailure(Failure::BadResponse, "no response head");
      return;
    }
    callbacks_.onUpstreamData(up_.emptyBuffer(), true);
  }

  void badResponse(const char* why) {
    GW_INC(upstream_rq_bad_response);
    if (host_) up_.reportFailure(*host_, "bad response");
    GW_LOG(Warn, "upstream %s: %s sent a bad response (%s) rid=%s", up_.config().name.c_str(),
           host_ ? host_->name.c_str() : "?", why ? why : "?", callbacks_.streamInfo().request_id.c_str());
    // The connection is out of step: close it (with every other request on it).
    FramedConnection* c = conn_;
    fail(Failure::BadResponse, why ? why : "bad response");
    if (c && !c->closed()) c->close(Failure::BadResponse, "another request on this connection broke it");
  }

  void localRedirect(const std::string& location) {
    if (++redirects_ > kMaxLocalRedirects) return badResponse("cgi_too_many_local_redirects");
    // RFC 3875 §6.2.2: the server answers as if the client had asked for that path with GET.
    leave(true);
    std::string_view loc = location;
    size_t q = loc.find('?');
    // The new path feeds PATH_INFO and so SCRIPT_FILENAME ({path_info}): it must stay inside the
    // route's mount prefix and carry no dot segment (plain or percent-encoded), as the router
    // demands of client paths; else the application could reach files outside document_root.
    std::string_view new_path = loc.substr(0, q);
    const config::Route* route = callbacks_.streamInfo().route;
    const bool outside = route && !route->prefix.empty() && route->prefix != "/" &&
                         !filters::RouteTable::prefixMatches(route->prefix, new_path);
    if (filters::RouteTable::hasDotSegment(new_path) || outside) {
      GW_INC(upstream_rq_bad_response);
      std::string shown;
      logEscape(shown, new_path.substr(0, 256));
      GW_LOG(Warn, "upstream %s: local redirect to \"%s\" refused (%s) rid=%s", up_.config().name.c_str(),
             shown.c_str(), outside ? "outside the route's prefix" : "dot segment",
             callbacks_.streamInfo().request_id.c_str());
      return fail(Failure::BadResponse, outside ? "cgi_local_redirect_outside_route" : "cgi_local_redirect_dot_segment");
    }
    if (!redirected_) redirected_ = std::make_unique<http::RequestHead>(*head_);
    http::RequestHead& h = *redirected_;
    h.method = "GET";
    h.path = std::string(loc.substr(0, q));
    h.query = q == std::string_view::npos ? std::string() : std::string(loc.substr(q + 1));
    h.content_length = 0;
    h.headers.remove("Content-Type");
    h.headers.remove("Content-Length");
    content_length_ = 0;
    request_complete_ = true;
    end_written_ = false;
    if (pending_) evbuffer_drain(pending_, evbuffer_get_length(pending_));
    dropReplay();
    body_written_ = 0;
    stdout_.reset();
    http_.reset();
    tried_.reset();
    attempts_ = 0;
    if (!buildEnv()) return;
    up_.dispatch(*this);
  }

  bool retriable(Failure f, bool nothing_consumed) const {
    if (pinned_ || attempts_ >= 1 + up_.config().retries) return false;
    if (sawResponseBytes()) return false;
    if (f == Failure::ConnectFailed || f == Failure::ConnectTimeout) return body_written_ == 0 || nothing_consumed;
    if (body_written_ > 0 && !nothing_consumed) return false;  // the body is gone: cannot replay it
    if (nothing_consumed) return content_length_ == 0 || body_written_ == 0;
    // Sent, but the worker may not have seen it (a pooled connection closed under us).
    return content_length_ == 0 && (reused_conn_ || http::isIdempotentMethod(head().method));
  }

  void attemptFailed(Failure f, std::string_view detail, bool worker_refused) {
    if (cancelled_ || finished_) return;  // nobody to retry for
    FramedHost* h = host_;
    if (f == Failure::Reset && reused_conn_ && !fresh_only_ && !sawResponseBytes() && bodyReplayable() &&
        !pinned_) {
      // A pooled connection the worker had closed meanwhile: not the worker's failure, and it never
      // saw the request. Once more on a new connection, without counting an attempt; the body
      // written so far goes first.
      GW_LOG(Debug, "upstream %s: %s stale pooled connection (%.*s), retrying on a new one",
             up_.config().name.c_str(), h ? h->name.c_str() : "?", int(detail.size()), detail.data());
      fresh_only_ = true;
      --attempts_;
      if (replay_) {
        if (!pending_) pending_ = evbuffer_new();
        evbuffer_prepend_buffer(pending_, replay_);
        dropReplay();
      }
      body_written_ = 0;
      if (h) tried_[up_.hostIndex(*h)] = false;
      timer_.disable();
      leave(false);
      stdout_.reset();
      http_.reset();
      up_.dispatch(*this);
      return;
    }
    if (h && f != Failure::Overloaded) up_.reportFailure(*h, failureCode(f));
    if (f == Failure::ConnectFailed) GW_INC(upstream_cx_connect_fail);
    if (f == Failure::ConnectTimeout) GW_INC(upstream_cx_connect_timeout);
    // After CANT_MPX_CONN / OVERLOADED the worker consumed nothing only if no body was needed.
    const bool nothing_consumed = worker_refused ? content_length_ == 0 : false;
    const bool retry = retriable(f, nothing_consumed) && (body_written_ == 0 || nothing_consumed);
    GW_LOG(Info, "upstream %s: %s %s (%.*s)%s", up_.config().name.c_str(), h ? h->name.c_str() : "?", failureCode(f),
           int(detail.size()), detail.data(), retry ? ", retrying" : "");
    timer_.disable();
    leave(worker_refused);
    if (retry) {
      GW_INC(upstream_rq_retry);
      stdout_.reset();
      http_.reset();
      up_.dispatch(*this);
      return;
    }
    fail(f, detail);
  }

  void fail(Failure f, std::string_view detail) {
    if (finished_) return;
    if (f == Failure::Reset) GW_INC(upstream_rq_reset);
    finished_ = true;
    timer_.disable();
    leave(false);
    callbacks_.onUpstreamFailure(f, detail);
  }

  void onLater() {
    if (cancelled_ || finished_) return;
    fail(later_failure_, later_detail_);
  }

  void onTimer() {
    if (cancelled_ || finished_) return;
    if (queued_) {
      GW_LOG(Info, "upstream %s: waited %lld ms in the queue", up_.config().name.c_str(),
             static_cast<long long>(up_.config().queue_timeout.count()));
      return fail(Failure::Overloaded, "waited too long for a free worker");
    }
    GW_INC(upstream_rq_timeout);
    if (!headers_delivered_) {
      if (host_) up_.reportFailure(*host_, "response timeout");
      return fail(Failure::ResponseTimeout, "no response in time");
    }
    fail(Failure::IdleTimeout, "the worker stopped sending");
  }

 public:
  // Set by the upstream before onAttached.
  bool reused_conn_ = false;
  bool fresh_only_ = false;  // the retry after a stale pooled connection takes a new one
  Failure later_failure_ = Failure::BadResponse;
  std::string later_detail_;

 private:
  FramedUpstreamImpl& up_;
  UpstreamCallbacks& callbacks_;
  FramedHost* pinned_;
  // The stream's head (valid until this request is destroyed); after a local redirect, the GET
  // it became.
  const http::RequestHead* head_ = nullptr;
  std::unique_ptr<http::RequestHead> redirected_;
  const http::RequestHead& head() const { return redirected_ ? *redirected_ : *head_; }
  std::string_view received_path_;  // the path as received, when the router stripped the prefix (in StreamInfo)
  std::string vars_;  // the environ as FastCGI name-value pairs / uwsgi vars, without framing
  // Body received before a connection was attached; made on first use (most bodies come with
  // the head or after the attach).
  evbuffer* pending_ = nullptr;
  evbuffer* replay_ = nullptr;  // the body written to a kept connection, while it may need replaying
  Timer timer_;
  LoopCallback later_;
  HostSet tried_;
  FramedHost* host_ = nullptr;
  FramedHost* slot_host_ = nullptr;
  FramedConnection* conn_ = nullptr;
  uint16_t id_ = 1;
  std::unique_ptr<fastcgi::StdoutReader> stdout_;
  std::unique_ptr<uwsgi::ResponseReader> http_;
  std::string stderr_line_;
  Clock::time_point start_{};
  uint64_t content_length_ = 0;
  uint64_t body_written_ = 0;
  int attempts_ = 0;
  int redirects_ = 0;
  bool request_complete_ = false;
  bool end_written_ = false;
  bool above_high_ = false;
  bool read_disabled_ = false;
  bool headers_delivered_ = false;
  bool queued_ = false;
  bool cancelled_ = false;
  bool finished_ = false;
};

// ---------------------------------------------------------------------------------------------
// FramedConnection

FramedConnection::FramedConnection(FramedUpstreamImpl& up, FramedHost& host)
    : up_(up),
      host_(host),
      timer_(up.dispatcher(), [this] { onTimer(); }),
      flush_later_(up.dispatcher(),
                   [](evutil_socket_t, short, void* arg) {
                     auto* c = static_cast<FramedConnection*>(arg);
                     if (c->state_ == State::Open && c->io_->flush()) c->onWrite();
                   },
                   this, LoopCallback::Order::Last),
      read_later_(up.dispatcher(), [](evutil_socket_t, short, void* arg) { static_cast<FramedConnection*>(arg)->onRead(); },
                  this) {}

FramedConnection::~FramedConnection() {
  if (io_) io_->setCallbacks(nullptr);
}

void FramedConnection::connect() {
  GW_INC(upstream_cx_total);
  timer_.enable(up_.config().connect_timeout);
  // Any failure, even to create the socket, comes back from the loop (onEvent).
  io_ = connectSocketTransport(up_.dispatcher(), host_.address.sa(), host_.address.len, *this,
                               {.read_high = up_.bufferBytes(), .write_low = up_.bufferBytes() / 4});
  if (up_.protocol() == FramedProtocol::FastCgi && !host_.values_asked) {
    host_.values_asked = true;
    awaiting_values_ = true;
    fastcgi::encodeGetValues(output());  // sent once connected
  }
}

bool FramedConnection::canMultiplex() const {
  return up_.protocol() == FramedProtocol::FastCgi && host_.mpxs && state_ != State::Closed &&
         streams_.size() + aborting_.size() < host_.max_reqs && streams_.size() < 0xfffe;
}

uint16_t FramedConnection::attach(FramedRequest& r) {
  if (parked_) timer_.disable();  // the pool's idle timer; a connecting socket keeps its connect timer
  parked_ = false;
  uint16_t id = 1;
  // The lowest id not in use (FastCGI ids are per connection; 1 when not multiplexing).
  for (bool taken = true; taken; ++id) {
    taken = false;
    for (auto& [sid, _] : streams_) taken = taken || sid == id;
    for (uint16_t a : aborting_) taken = taken || a == id;
    if (!taken) break;
  }
  streams_.emplace_back(id, &r);
  if (state_ == State::Open) io_->enableRead(true);
  updateReadEnabled();
  return id;
}

void FramedConnection::detach(FramedRequest& r, bool clean) {
  auto it = std::find_if(streams_.begin(), streams_.end(), [&](auto& p) { return p.second == &r; });
  if (it == streams_.end()) return;
  uint16_t id = it->first;
  streams_.erase(it);
  if (state_ == State::Closed) return;
  if (clean) {
    ++completed_;
    if (up_.protocol() == FramedProtocol::Uwsgi) return close(Failure::Reset, "done");
    if (!r.endWritten()) reusable_ = false;  // the worker answered before reading the whole body
  } else if (up_.protocol() == FramedProtocol::FastCgi && state_ == State::Open) {
    // The client went away: tell the worker, then wait (briefly) for its END_REQUEST so the
    // connection can be reused; the timer closes it otherwise.
    fastcgi::encodeAbortRequest(output(), id);
    aborting_.push_back(id);
    flush();
    GW_LOG(Debug, "upstream %s: FCGI_ABORT_REQUEST id %u to %s", up_.config().name.c_str(), id, host_.name.c_str());
    if (streams_.empty()) timer_.enable(kAbortGrace);
  } else {
    return close(Failure::Reset, "request abandoned");
  }
  afterStreamsChanged();
}

void FramedConnection::afterStreamsChanged() {
  if (state_ != State::Open) return;
  updateReadEnabled();
  if (streams_.empty() && !aborting_.empty() && !timer_.enabled()) {
    // Only aborted requests left (e.g. the last multiplexed stream just completed): wait for
    // their END_REQUEST for the grace period, then close.
    timer_.enable(kAbortGrace);
  }
  if (streams_.empty() && aborting_.empty() && !in_read_) {
    // Clean between records, nothing buffered either way, every request written through its
    // end: back to the pool.
    if (!decoder_.atRecordBoundary() || evbuffer_get_length(io_->input()) > 0) {
      return close(Failure::Reset, "unclean");
    }
    if (!reusable_ || evbuffer_get_length(output()) > 0) {
      return close(Failure::Reset, "a request was not written through its end");
    }
    if (host_.closes_kept_connections) return close(Failure::Reset, "the worker does not keep connections");
    parked_ = true;
    timer_.enable(up_.config().idle_timeout);
    io_->enableRead(true);  // notice a close while idle
    up_.connectionIdle(*this);
  }
}

void FramedConnection::updateReadEnabled() {
  if (state_ != State::Open) return;
  bool disable = false;
  for (auto& [_, r] : streams_) disable = disable || r->readDisabled();
  io_->enableRead(!disable);
  // Bytes already read while disabled are processed from the loop.
  if (!disable && evbuffer_get_length(io_->input()) > 0 && !in_read_) read_later_.activate();
}

FramedRequest* FramedConnection::stream(uint16_t id) {
  for (auto& [sid, r] : streams_) {
    if (sid == id) return r;
  }
  return nullptr;
}

void FramedConnection::close(Failure f, std::string_view detail) {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  // Closed before both the answer and the end of any request: whether the worker answers
  // FCGI_GET_VALUES is still unknown, so the next connection asks. (A request that ended on it
  // first means it ignores the record, as uWSGI does: its answer would have come before.)
  if (awaiting_values_ && completed_ == 0) host_.values_asked = false;
  timer_.disable();
  closeTransport(up_.dispatcher(), std::move(io_));  // possibly from inside one of its callbacks
  aborting_.clear();
  // Every request still on it fails (they may retry elsewhere).
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [_, r] : streams) r->onConnectionFailed(f, detail);
  up_.removeConnection(*this);
}

void FramedConnection::onTimer() {
  if (state_ == State::Connecting) return close(Failure::ConnectTimeout, "connect timed out");
  if (!aborting_.empty()) return close(Failure::Reset, "no END_REQUEST after FCGI_ABORT_REQUEST");
  if (parked_) return close(Failure::Reset, "idle");
}

void FramedConnection::onWrite() {
  if (state_ != State::Open) return;
  auto streams = streams_;
  for (auto& [_, r] : streams) r->onWritable();
}

void FramedConnection::onEvent(short what) {
  if (state_ == State::Closed) return;
  if (what & BEV_EVENT_CONNECTED) {
    state_ = State::Open;
    timer_.disable();
    updateReadEnabled();
    flush();
    return;
  }
  if (state_ == State::Connecting) {
    int err = errno;
    return close(Failure::ConnectFailed, err ? strerror(err) : "connection closed");
  }
  // A worker that closes a connection right after the first request on it, while it is kept or
  // under the next request before any answer, does not keep connections (uWSGI): from then on
  // its connections are closed after each request, so no request races with its close. (A worker
  // that closes one after many requests, php-fpm retiring a child, keeps its others.)
  const int err = errno;
  if (completed_ == 1 && !host_.closes_kept_connections && up_.protocol() == FramedProtocol::FastCgi &&
      std::none_of(streams_.begin(), streams_.end(), [](auto& s) { return s.second->sawResponseBytes(); })) {
    host_.closes_kept_connections = true;
    GW_LOG(Info, "upstream %s: %s closes kept FastCGI connections; not keeping them", up_.config().name.c_str(),
           host_.name.c_str());
  }
  if (what & BEV_EVENT_EOF) {
    // uwsgi: EOF may end a close-delimited response.
    if (up_.protocol() == FramedProtocol::Uwsgi && !streams_.empty()) {
      onRead();
      if (state_ == State::Closed || streams_.empty()) return;
      FramedRequest* r = streams_.front().second;
      r->onHttpInput(io_->input(), true);
      if (state_ == State::Closed || streams_.empty()) return;
    }
    return close(Failure::Reset, "the worker closed the connection");
  }
  close(Failure::Reset, err ? strerror(err) : "connection error");
}

void FramedConnection::onRead() {
  if (state_ != State::Open) return;
  evbuffer* in = io_->input();
  if (parked_ || (streams_.empty() && aborting_.empty())) {
    // Bytes on an idle connection: nobody asked for them.
    if (up_.protocol() == FramedProtocol::FastCgi && evbuffer_get_length(in) > 0) {
      in_read_ = true;
      auto r = decoder_.feed(in, *this);
      in_read_ = false;
      if (!r) return close(Failure::BadResponse, fastcgi::errorName(r.error()));
      if (state_ == State::Closed) return;
      if (evbuffer_get_length(in) == 0 && decoder_.atRecordBoundary()) return;  // e.g. a late GET_VALUES_RESULT
    }
    return close(Failure::Reset, "unexpected bytes on an idle connection");
  }
  if (up_.protocol() == FramedProtocol::Uwsgi) {
    FramedRequest* r = streams_.front().second;
    in_read_ = true;
    r->onHttpInput(in, false);
    in_read_ = false;
    if (state_ != State::Closed) afterStreamsChanged();
    return;
  }
  in_read_ = true;
  auto r = decoder_.feed(in, *this);
  in_read_ = false;
  if (state_ == State::Closed) return;
  if (!r) {
    GW_INC(upstream_rq_bad_response);
    GW_LOG(Warn, "upstream %s: %s broke FastCGI (%s)", up_.config().name.c_str(), host_.name.c_str(),
           fastcgi::errorName(r.error()));
    return close(Failure::BadResponse, fastcgi::errorName(r.error()));
  }
  afterStreamsChanged();
}

void FramedConnection::onStdout(uint16_t id, evbuffer* data, bool end) {
  if (FramedRequest* r = stream(id)) return r->onStdout(data, end);
  evbuffer_drain(data, evbuffer_get_length(data));  // an aborted request's output
}

void FramedConnection::onStderr(uint16_t id, evbuffer* data, bool end) {
  if (FramedRequest* r = stream(id)) return r->onStderr(data, end);
  evbuffer_drain(data, evbuffer_get_length(data));
}

void FramedConnection::onEndRequest(uint16_t id, uint32_t app_status, fastcgi::ProtocolStatus status) {
  if (auto it = std::find(aborting_.begin(), aborting_.end(), id); it != aborting_.end()) {
    aborting_.erase(it);
    ++completed_;
    if (aborting_.empty()) timer_.disable();
    return;
  }
  if (FramedRequest* r = stream(id)) r->onEndRequest(app_status, status);
}

void FramedConnection::onGetValuesResult(std::span<const fastcgi::NameValue> values) {
  awaiting_values_ = false;
  for (const auto& nv : values) {
    auto n = parseUint(nv.value);
    if (!n) continue;
    if (nv.name == fastcgi::kMpxsConns) host_.mpxs = *n == 1;
    if (nv.name == fastcgi::kMaxReqs) host_.max_reqs = std::clamp<uint64_t>(*n, 1, 0xfffe);
  }
  if (host_.mpxs && host_.max_reqs == 1) host_.max_reqs = 16;  // MPXS without MAX_REQS: a modest default
  GW_LOG(Debug, "upstream %s: %s FCGI_MPXS_CONNS=%d FCGI_MAX_REQS=%zu", up_.config().name.c_str(), host_.name.c_str(),
         host_.mpxs ? 1 : 0, host_.max_reqs);
}

// ---------------------------------------------------------------------------------------------
// Active health: a GET through the upstream's own protocol to each server, every interval.

class HealthProbe : public UpstreamCallbacks {
 public:
  HealthProbe(FramedUpstreamImpl& up, FramedHost& host)
      : up_(up), host_(host), timer_(up.dispatcher(), [this] { onTimer(); }) {
    const auto& hc = *up.config().health_check;
    if (hc.script_filename || hc.document_root) {
      // A route of its own (mounted at the root) carries the probe's CGI environ.
      route_.prefix = "";
      route_.cgi.emplace();
      route_.cgi->script_filename = hc.script_filename;
      route_.cgi->document_root = hc.document_root;
      info_.route = &route_;
    }
    info_.client_address = "127.0.0.1";
    info_.peer_ip = "127.0.0.1";
    info_.request_id = "health-check";
    head_.method = "GET";
    std::string_view p = hc.path;
    size_t q = p.find('?');
    head_.path = std::string(p.substr(0, q));
    if (q != std::string_view::npos) head_.query = std::string(p.substr(q + 1));
    head_.authority = hc.host;
    head_.headers.add("Host", hc.host);
    head_.headers.add("User-Agent", "gatewayd-health-check");
    head_.content_length = 0;
    timer_.enable(Millis(0));
  }
  ~HealthProbe() override { request_.reset(); }

  void onUpstreamHeaders(http::ResponseHeadPtr head, bool end_stream) override {
    status_ = head->status;
    if (end_stream) done(status_ < 400, "");
  }
  void onUpstreamData(evbuffer* data, bool end_stream) override {
    evbuffer_drain(data, evbuffer_get_length(data));
    if (end_stream) done(status_ < 400, "status " + std::to_string(status_));
  }
  void onUpstreamFailure(Failure f, std::string_view detail) override {
    done(false, std::string(failureCode(f)) + " " + std::string(detail));
  }
  void onUpstreamAboveWriteHighWatermark() override {}
  void onUpstreamBelowWriteLowWatermark() override {}
  http::StreamInfo& streamInfo() override { return info_; }

 private:
  void onTimer() {
    const auto& hc = *up_.config().health_check;
    if (request_) {  // the previous probe timed out
      request_->cancel();
      up_.dispatcher().deferredDelete(std::move(request_));
      return done(false, "timed out");
    }
    if (!up_.hasCapacity(host_)) {
      // Probes count against max_requests_per_server: a server busy with that many requests is
      // not sent one more; it is alive, so no verdict this round.
      timer_.enable(hc.interval);
      return;
    }
    info_.local_port = 80;
    status_ = 0;
    request_ = up_.newPinnedRequest(*this, host_);
    timer_.enable(hc.timeout);
    request_->sendHeaders(head_, true);
  }
  void done(bool ok, const std::string& why) {
    if (request_) up_.dispatcher().deferredDelete(std::move(request_));
    const auto& hc = *up_.config().health_check;
    if (ok) {
      if (!passing_) {
        GW_LOG(Notice, "upstream %s: %s passed its health check", up_.config().name.c_str(), host_.name.c_str());
      }
      passing_ = true;
      host_.down_until = {};
      host_.consecutive_fails = 0;
    } else {
      if (passing_) {
        GW_LOG(Warn, "upstream %s: %s failed its health check (%s)", up_.config().name.c_str(), host_.name.c_str(),
               why.c_str());
      }
      passing_ = false;
      host_.down_until = coarseNow() + hc.interval + hc.timeout + Millis(1000);
    }
    timer_.enable(hc.interval);
  }

  FramedUpstreamImpl& up_;
  FramedHost& host_;
  config::Route route_;
  http::StreamInfo info_;
  http::RequestHead head_;  // the probe request's head (a request points to it while it runs)
  Timer timer_;
  UpstreamRequestPtr request_;
  int status_ = 0;
  bool passing_ = true;  // the last probe's verdict (servers start in service)
};

// ---------------------------------------------------------------------------------------------
// FramedUpstreamImpl

FramedUpstreamImpl::FramedUpstreamImpl(Dispatcher& d, const config::Config& root, const config::Upstream& cfg,
                                       FramedProtocol p)
    : dispatcher_(d),
      root_(root),
      cfg_(cfg),
      protocol_(p),
      empty_(evbuffer_new()),
      drain_later_(d, [](evutil_socket_t, short, void* arg) { static_cast<FramedUpstreamImpl*>(arg)->drainQueue(); },
                   this) {
  hosts_.reserve(cfg.servers.size());  // never reallocated: requests and connections point into it
  for (const auto& addr : cfg.servers) {
    FramedHost h;
    h.address = addr;
    h.name = addr.str();
    hosts_.push_back(std::move(h));
  }
  if (cfg.health_check) {
    for (auto& h : hosts_) probes_.push_back(std::make_unique<HealthProbe>(*this, h));
  }
}

FramedUpstreamImpl::~FramedUpstreamImpl() {
  destroying_ = true;
  probes_.clear();
  for (auto& h : hosts_) {
    auto conns = std::move(h.conns);
    h.conns.clear();
    conns.clear();
  }
  evbuffer_free(empty_);
}

UpstreamRequestPtr FramedUpstreamImpl::newRequest(UpstreamCallbacks& callbacks) {
  return std::make_unique<FramedRequest>(*this, callbacks);
}

UpstreamRequestPtr FramedUpstreamImpl::newPinnedRequest(UpstreamCallbacks& callbacks, FramedHost& host) {
  return std::make_unique<FramedRequest>(*this, callbacks, &host);
}

void FramedUpstreamImpl::dispatch(FramedRequest& r) {
  if (FramedHost* pinned = r.pinned()) return attachTo(r, *pinned);
  FramedHost* h = nullptr;
  // Queued requests go first (FIFO): a newcomer may not overtake them.
  if (queue_.empty()) {
    h = pickHost(hosts_, r.tried(), cfg_.balance, rr_next_, [this](const FramedHost& x) { return hasCapacity(x); });
  }
  if (h) return attachTo(r, *h);
  if (queue_.size() >= cfg_.queue_size) {
    GW_LOG(Info, "upstream %s: every worker busy and the queue full (%zu)", cfg_.name.c_str(), queue_.size());
    return r.failLater(Failure::Overloaded, "every worker is busy and the queue is full");
  }
  queue_.push_back(&r);
  r.onQueued();
}

void FramedUpstreamImpl::dequeue(FramedRequest& r) {
  auto it = std::find(queue_.begin(), queue_.end(), &r);
  if (it != queue_.end()) queue_.erase(it);
}

void FramedUpstreamImpl::attachTo(FramedRequest& r, FramedHost& h) {
  h.active_requests++;
  FramedConnection* conn = nullptr;
  if (protocol_ == FramedProtocol::FastCgi) {
    // A multiplexing connection with room, else an idle one (most recently used first).
    for (auto it = h.conns.rbegin(); it != h.conns.rend() && !conn; ++it) {
      FramedConnection& c = **it;
      if (c.closed()) continue;
      if ((c.idle() && !r.fresh_only_) || (c.activeStreams() > 0 && c.canMultiplex())) conn = &c;
    }
  }
  r.reused_conn_ = conn != nullptr && conn->reused();
  if (conn) {
    GW_INC(upstream_cx_reused);
  } else {
    h.conns.push_back(std::make_unique<FramedConnection>(*this, h));
    conn = h.conns.back().get();
    conn->connect();
  }
  uint16_t id = conn->attach(r);
  r.onAttached(h, *conn, id);
}

void FramedUpstreamImpl::releaseSlot(FramedHost& h) {
  if (h.active_requests > 0) h.active_requests--;
  if (!queue_.empty() && !destroying_) drain_later_.activate();
}

void FramedUpstreamImpl::drainQueue() {
  while (!queue_.empty()) {
    FramedRequest* r = queue_.front();
    HostSet none;
    FramedHost* h = pickHost(hosts_, none, cfg_.balance, rr_next_, [this](const FramedHost& x) { return hasCapacity(x); });
    if (!h) return;
    queue_.pop_front();
    r->onDequeued();
    attachTo(*r, *h);
  }
}

void FramedUpstreamImpl::connectionIdle(FramedConnection& c) {
  // Keep at most `keepalive` idle connections per server.
  size_t idle = 0;
  for (auto& x : c.host().conns) idle += x->idle() ? 1 : 0;
  if (idle > cfg_.keepalive) c.close(Failure::Reset, "pool full");
}

void FramedUpstreamImpl::removeConnection(FramedConnection& c) {
  if (destroying_) return;
  auto& conns = c.host().conns;
  for (auto it = conns.begin(); it != conns.end(); ++it) {
    if (it->get() == &c) {
      // Often called from the connection's own callbacks: delete it from the loop.
      struct Holder : Deletable {
        std::unique_ptr<FramedConnection> c;
      };
      auto holder = std::make_unique<Holder>();
      holder->c = std::move(*it);
      conns.erase(it);
      dispatcher_.deferredDelete(std::move(holder));
      return;
    }
  }
}

}  // namespace

UpstreamPtr createFramedUpstream(Dispatcher& dispatcher, const config::Config& cfg, const config::Upstream& up,
                                 FramedProtocol protocol) {
  return std::make_unique<FramedUpstreamImpl>(dispatcher, cfg, up, protocol);
}

}  // namespace gw::upstream
