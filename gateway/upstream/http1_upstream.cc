#include "upstream/http1_upstream.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

#include "core/counters.h"
#include "core/log.h"
#include "core/transport.h"
#include "http1/response_parser.h"

using namespace std::string_view_literals;  // "..."sv: compared by size first, then inline

namespace gw::upstream {

const char* failureCode(Failure f) {
  switch (f) {
    case Failure::ConnectFailed: return "upstream_connect_failed";
    case Failure::ConnectTimeout: return "upstream_connect_timeout";
    case Failure::ResponseTimeout: return "upstream_response_timeout";
    case Failure::IdleTimeout: return "upstream_idle_timeout";
    case Failure::Reset: return "upstream_reset";
    case Failure::BadResponse: return "upstream_bad_response";
    case Failure::Overloaded: return "upstream_overloaded";
    case Failure::LengthRequired: return "upstream_length_required";
    case Failure::BadRequest: return "upstream_bad_request";
    case Failure::HeadersTooLarge: return "upstream_headers_too_large";
  }
  return "upstream_error";
}

int failureStatus(Failure f) {
  switch (f) {
    case Failure::ConnectTimeout:
    case Failure::ResponseTimeout:
    case Failure::IdleTimeout:
      return 504;
    case Failure::Overloaded:
      return 503;
    case Failure::LengthRequired:
      return 411;
    case Failure::BadRequest:
      return 400;
    case Failure::HeadersTooLarge:
      return 431;
    default:
      return 502;
  }
}

namespace {
// One request/response exchange on an HTTP/1.1 upstream connection, with retries.
class Http1UpstreamRequest : public UpstreamRequest, private http1::ResponseParser::Sink, private Transport::Callbacks {
 public:
  Http1UpstreamRequest(Http1Upstream& upstream, UpstreamCallbacks& callbacks)
      : upstream_(upstream),
        callbacks_(callbacks),
        timer_(upstream.dispatcher(), [this] { onTimer(); }),
        resume_later_(upstream.dispatcher(),
                      [](evutil_socket_t, short, void* arg) { static_cast<Http1UpstreamRequest*>(arg)->processInput(); },
                      this),
        flush_later_(upstream.dispatcher(),
                     [](evutil_socket_t, short, void* arg) { static_cast<Http1UpstreamRequest*>(arg)->flushNow(); },
                     this, LoopCallback::Order::Last) {}

  ~Http1UpstreamRequest() override {
    cancelled_ = true;
    releaseConnection(false);
    if (pending_) evbuffer_free(pending_);
  }

  void sendHeaders(const http::RequestHead& head, bool end_stream) override {
    is_head_ = head.method == "HEAD"sv;
    idempotent_ = http::isIdempotentMethod(head.method);
    // The client's framing fields are replaced by ours, and a trusted proxy's forwarding fields by
    // the combined ones the forwarded filter recorded (an untrusted peer's were removed).
    const http::StreamInfo& si = callbacks_.streamInfo();
    const bool forwarded_headers = upstream_.config().forwarded_headers;
    const http::ForwardedValues fwd(si, head, forwarded_headers);
    const bool replace_forwarding = forwarded_headers && si.forward && si.peer_trusted;
    auto skip = [replace_forwarding](std::string_view n) {
      return iequals(n, "content-length") || iequals(n, "transfer-encoding") ||
             (replace_forwarding && http::isForwardingField(n));
    };
    const std::pair<std::string_view, std::string_view> added[] = {
        {"X-Forwarded-For", fwd.xff}, {"X-Forwarded-Proto", fwd.proto}, {"X-Forwarded-Host", fwd.host},
        {"X-Forwarded-Port", fwd.port}, {"Forwarded", fwd.rfc7239}};
    // Sized first, then written with short copies: a dozen fields of four pieces each.
    size_t size = head.method.size() + 1 + head.path.size() + (head.query.empty() ? 0 : 1 + head.query.size()) + 11;
    bool has_host = false;
    for (const auto& f : head.headers.fields()) {
      if (skip(f.name)) continue;
      has_host = has_host || iequals(f.name, "host");
      size += f.name.size() + 2 + f.value.size() + 2;
    }
    for (const auto& [name, value] : added) {
      if (!value.empty()) size += name.size() + 2 + value.size() + 2;
    }
    std::string default_host;
    if (!has_host) {
      default_host = upstream_.config().servers.empty() ? "localhost" : upstream_.config().servers[0].str();
      size += 6 + default_host.size() + 2;
    }
    char length_buf[24];
    std::string_view length;  // Content-Length value, if one is sent
    if (head.content_length) {
      if (*head.content_length > 0 || !(head.method == "GET"sv || head.method == "HEAD"sv || head.method == "DELETE"sv ||
                                         head.method == "OPTIONS"sv)) {
        length = std::string_view(length_buf,
                                  std::to_chars(length_buf, length_buf + sizeof(length_buf), *head.content_length).ptr -
                                      length_buf);
        size += 16 + length.size() + 2;
      }
      has_body_ = *head.content_length > 0;
    } else {
      chunked_ = true;
      has_body_ = true;
      size += 28;
    }
    size += 2;
    request_head_.resize_and_overwrite(size, [&](char* const start, size_t) {
      char* p = start;
      auto put = [&p](std::string_view piece) {
        copyBytes(p, piece.data(), piece.size());
        p += piece.size();
      };
      put(head.method);
      put(" ");
      put(head.path);
      if (!head.query.empty()) {
        put("?");
        put(head.query);
      }
      put(" HTTP/1.1\r\n");
      auto field = [&put](std::string_view name, std::string_view value) {
        put(name);
        put(": ");
        put(value);
        put("\r\n");
      };
      for (const auto& f : head.headers.fields()) {
        if (!skip(f.name)) field(f.name, f.value);
      }
      for (const auto& [name, value] : added) {
        if (!value.empty()) field(name, value);
      }
      if (!has_host) field("Host", default_host);
      if (!length.empty()) field("Content-Length", length);
      if (chunked_) put("Transfer-Encoding: chunked\r\n");
      put("\r\n");
      return static_cast<size_t>(p - start);
    });
    request_complete_ = end_stream;
    if (end_stream && chunked_) evbuffer_add(pending(), "0\r\n\r\n", 5);
    startAttempt();
  }

  void sendData(evbuffer* data, bool end_stream) override {
    if (finished_) {
      evbuffer_drain(data, evbuffer_get_length(data));
      return;
    }
    evbuffer* out = io_ && connected_ ? io_->output() : pending();
    size_t len = evbuffer_get_length(data);
    if (chunked_) {
      if (len > 0) {
        evbuffer_add_printf(out, "%zx\r\n", len);
        evbuffer_add_buffer(out, data);
        evbuffer_add(out, "\r\n", 2);
      }
      if (end_stream) evbuffer_add(out, "0\r\n\r\n", 5);
    } else {
      evbuffer_add_buffer(out, data);
    }
    if (out != pending_) scheduleFlush();
    if (len > 0 && out != pending_) {
      // response_timeout counts from the last request byte sent: a long upload is not a hang.
      if (!headers_delivered_) armWait();
    }
    request_complete_ = request_complete_ || end_stream;
    if (!above_high_ && evbuffer_get_length(out) > upstream_.bufferBytes()) {
      above_high_ = true;
      callbacks_.onUpstreamAboveWriteHighWatermark();
    }
  }

  void sendTrailers(const http::HeaderMap& trailers) override {
    if (!chunked_ || finished_) {
      evbuffer* empty = evbuffer_new();
      sendData(empty, true);
      evbuffer_free(empty);
      return;
    }
    std::string t = "0\r\n";
    for (const auto& f : trailers.fields()) t.append(f.name).append(": ").append(f.value).append("\r\n");
    t += "\r\n";
    evbuffer* out = io_ && connected_ ? io_->output() : pending();
    evbuffer_add(out, t.data(), t.size());
    if (out != pending_) scheduleFlush();
    request_complete_ = true;
  }

  void readDisable(bool disable) override {
    if (read_disabled_ == disable) return;
    read_disabled_ = disable;
    if (!io_ || !connected_) return;
    io_->enableRead(!disable);
    armWait();
    if (!disable) resume_later_.activate();
  }

  void cancel() override {
    cancelled_ = true;
    timer_.disable();
    releaseConnection(false);
  }

 private:
  void startAttempt() {
    ++attempts_;
    host_ = upstream_.pickHost(tried_);
    tried_[upstream_.hostIndex(*host_)] = true;
    host_->active_requests++;
    counted_active_ = true;
    auto& si = callbacks_.streamInfo();
    if (!si.upstream_address.empty()) si.upstream_address += ", ";
    si.upstream_address += host_->name;
    if (attempt_start_ == Clock::time_point{}) attempt_start_ = Clock::now();
    resetParser();

    if (TransportPtr idle = upstream_.takeIdle(*host_)) {
      io_ = std::move(idle);
      reused_ = true;
      GW_INC(upstream_cx_reused);
      io_->setCallbacks(this);  // reading stays enabled: no event change per request
      connected_ = true;
      onConnected();
      return;
    }
    reused_ = false;
    GW_INC(upstream_cx_total);
    phase_ = Phase::Connecting;
    timer_.enable(upstream_.config().connect_timeout);
    // Any failure, even to create the socket, comes back from the loop (onEvent).
    io_ = connectSocketTransport(upstream_.dispatcher(), host_->address.sa(), host_->address.len, *this,
                                 {.read_high = upstream_.bufferBytes(), .write_low = upstream_.bufferBytes() / 4});
  }

  void onConnected() {
    phase_ = Phase::Waiting;
    evbuffer* out = io_->output();
    evbuffer_add(out, request_head_.data(), request_head_.size());
    if (pending_ && evbuffer_get_length(pending_) > 0) evbuffer_add_buffer(out, pending_);
    scheduleFlush();
    if (read_disabled_) io_->enableRead(false);  // paused while connecting
    armWait();
  }

  void resetParser() {
    parser_.reset({.head_request = is_head_});
    response_bytes_seen_ = false;
  }

  // Transport::Callbacks
  void onTransportRead() override {
    // A large body: one read of up to the buffer size instead of a loop turn per socket read.
    if (!read_disabled_ && evbuffer_get_length(io_->input()) >= 16384) io_->topUpInput(upstream_.bufferBytes());
    processInput();
  }
  void onTransportWritten() override { onWrite(); }
  void onTransportEvent(short what) override { onEvent(what); }

  void scheduleFlush() {
    if (io_ && connected_) flush_later_.activate();
  }

  // The timer for what a connected request waits for now: its head (response_timeout, from the
  // last request byte sent) or more of its body (idle_timeout). None while we do not read: our
  // pause (a slow client, or an h2 connection's response budget, which also pauses streams still
  // waiting for their head) is not the upstream's lateness; reading again starts the wait afresh.
  void armWait() {
    if (read_disabled_) {
      timer_.disable();
    } else {
      timer_.enable(headers_delivered_ ? upstream_.config().idle_timeout : upstream_.config().response_timeout);
    }
  }

  void flushNow() {
    if (io_ && connected_ && !cancelled_ && io_->flush()) onWrite();
  }

  void onWrite() {
    if (!io_ || cancelled_) return;
    if (above_high_ && io_->pending() <= upstream_.bufferBytes() / 4) {
      above_high_ = false;
      callbacks_.onUpstreamBelowWriteLowWatermark();
    }
  }

  void onEvent(short what) {
    if (cancelled_ || finished_) return;
    if (what & BEV_EVENT_CONNECTED) {
      timer_.disable();
      connected_ = true;
      onConnected();
      return;
    }
    if (phase_ == Phase::Connecting) {
      int err = errno;
      attemptFailed(Failure::ConnectFailed, err ? strerror(err) : "connection closed");
      return;
    }
    if (what & BEV_EVENT_EOF) {
      // Let the parser see the end: it completes a close-delimited body.
      processInput();
      if (cancelled_ || finished_) return;
      if (parser_.finishAtEof(*this) == http1::ResponseParser::Status::Complete) return;
      attemptFailed(Failure::Reset, "upstream closed the connection");
      return;
    }
    int err = errno;
    attemptFailed(Failure::Reset, err ? strerror(err) : "connection error");
  }

  void processInput() {
    if (!io_ || cancelled_ || finished_ || !connected_ || read_disabled_) return;
    evbuffer* in = io_->input();
    response_bytes_seen_ = response_bytes_seen_ || evbuffer_get_length(in) > 0;
    // Sink calls return false on backpressure (read_disabled_): the parser pauses until
    // readDisable(false) brings us back here.
    if (parser_.feed(in, *this) == http1::ResponseParser::Status::Error) {
      GW_INC(upstream_rq_bad_response);
      fail(Failure::BadResponse, parser_.error());
      return;
    }
    // Re-armed once per read, not per parser callback, and not at all when the response ended in
    // this read (the usual case).
    if (headers_delivered_ && !finished_ && !cancelled_) armWait();
  }

  // http1::ResponseParser::Sink: hands head, body and trailers to the stream.
  bool onHead(http::ResponseHeadPtr head, bool end_stream) override {
    headers_delivered_ = true;  // (the response timer runs on until processInput re-arms it)
    upstream_.reportSuccess(*host_);
    auto& si = callbacks_.streamInfo();
    si.upstream_time_us =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - attempt_start_).count();
    if (end_stream) finish();
    callbacks_.onUpstreamHeaders(std::move(head), end_stream);
    return !cancelled_ && !read_disabled_;
  }
  bool onBody(evbuffer* data, bool end_stream) override {
    if (end_stream) finish();
    callbacks_.onUpstreamData(data, end_stream);
    return !cancelled_ && !read_disabled_;
  }
  void onTrailers(http::HeaderMap&& trailers) override {
    finish();
    callbacks_.onUpstreamTrailers(std::move(trailers));
  }

  // The response is complete: recycle the connection if both sides are clean.
  void finish() {
    finished_ = true;
    timer_.disable();
    // Not after HEAD: a non-conforming server may still send the body its headers announced, and
    // those bytes would be read as the response to the next request on this connection.
    bool reusable = parser_.keepAlive() && request_complete_ && !is_head_ && io_ &&
                    evbuffer_get_length(io_->input()) == 0 && io_->pending() == 0;
    releaseConnection(reusable);
  }

  void releaseConnection(bool reusable) {
    if (counted_active_ && host_) {
      host_->active_requests--;
      counted_active_ = false;
    }
    if (!io_) return;
    TransportPtr io = std::move(io_);
    connected_ = false;
    if (reusable && upstream_.config().keepalive > 0) {
      upstream_.parkIdle(*host_, std::move(io));
    } else {
      closeTransport(upstream_.dispatcher(), std::move(io));  // possibly from inside one of its callbacks
    }
  }

  bool retriable() const {
    if (attempts_ >= 1 + upstream_.config().retries) return false;
    if (headers_delivered_ || response_bytes_seen_) return false;
    if (phase_ == Phase::Connecting) return true;  // nothing was sent
    // Sent, but the server may not have seen it (e.g. a pooled connection closed under us).
    return idempotent_ && !has_body_;
  }

  void attemptFailed(Failure f, const std::string& detail) {
    upstream_.reportFailure(*host_, failureCode(f));
    if (f == Failure::ConnectFailed) GW_INC(upstream_cx_connect_fail);
    if (f == Failure::ConnectTimeout) GW_INC(upstream_cx_connect_timeout);
    GW_LOG(Info, "upstream %s: %s %s (%s)%s", upstream_.config().name.c_str(), host_->name.c_str(), failureCode(f),
           detail.c_str(), retriable() ? ", retrying" : "");
    if (retriable()) {
      GW_INC(upstream_rq_retry);
      timer_.disable();
      releaseConnection(false);
      phase_ = Phase::Idle;
      startAttempt();
      return;
    }
    fail(f, detail);
  }

  void fail(Failure f, const std::string& detail) {
    if (f == Failure::Reset) GW_INC(upstream_rq_reset);
    finished_ = true;
    timer_.disable();
    releaseConnection(false);
    callbacks_.onUpstreamFailure(f, detail);
  }

  void onTimer() {
    if (cancelled_ || finished_) return;
    switch (phase_) {
      case Phase::Connecting:
        attemptFailed(Failure::ConnectTimeout, "connect timed out");
        return;
      case Phase::Waiting:
        GW_INC(upstream_rq_timeout);
        if (!headers_delivered_) {
          upstream_.reportFailure(*host_, "response timeout");
          fail(Failure::ResponseTimeout, "no response head in time");
        } else {
          fail(Failure::IdleTimeout, "the upstream stopped sending");
        }
        return;
      case Phase::Idle:
        return;
    }
  }

  enum class Phase { Idle, Connecting, Waiting };

  Http1Upstream& upstream_;
  UpstreamCallbacks& callbacks_;
  Http1Upstream::HostSet tried_;
  // Request bytes waiting for a connection; created on first use (a pooled connection is
  // ready at once).
  evbuffer* pending_ = nullptr;
  evbuffer* pending() { return pending_ ? pending_ : (pending_ = evbuffer_new()); }
  Timer timer_;
  LoopCallback resume_later_;  // processInput() from the loop, after readDisable(false)
  LoopCallback flush_later_;   // flushNow() from the loop
  Http1Host* host_ = nullptr;
  TransportPtr io_;
  Phase phase_ = Phase::Idle;
  std::string request_head_;
  Clock::time_point attempt_start_{};
  int attempts_ = 0;
  bool counted_active_ = false;
  bool reused_ = false;
  bool connected_ = false;
  bool is_head_ = false;
  bool idempotent_ = false;
  bool has_body_ = false;
  bool chunked_ = false;
  bool request_complete_ = false;
  bool above_high_ = false;
  bool read_disabled_ = false;
  bool cancelled_ = false;
  bool finished_ = false;

  http1::ResponseParser parser_;
  bool headers_delivered_ = false;
  bool response_bytes_seen_ = false;
};

}  // namespace

PooledConnection::PooledConnection(Http1Upstream& upstream)
    : upstream_(upstream), idle_timer_(upstream.dispatcher(), [this] { drop(); }) {}

void PooledConnection::park(Http1Host& host, TransportPtr io) {
  host_ = &host;
  io_ = std::move(io);
  io_->setCallbacks(this);
  io_->enableRead(true);
  idle_timer_.enable(upstream_.config().idle_timeout);
}

PooledConnection::~PooledConnection() {
  if (io_) io_->setCallbacks(nullptr);
}

TransportPtr PooledConnection::release() {
  idle_timer_.disable();
  return std::move(io_);  // the taker sets its callbacks right away (reading stays enabled)
}

// Any byte or event on an idle connection means it is no longer usable.
void PooledConnection::onTransportRead() { drop(); }
void PooledConnection::onTransportEvent(short) { drop(); }
void PooledConnection::drop() { upstream_.removeIdle(this); }

Http1Upstream::Http1Upstream(Dispatcher& dispatcher, const config::Upstream& config, size_t buffer_bytes)
    : dispatcher_(dispatcher), config_(config), buffer_bytes_(buffer_bytes) {
  hosts_.reserve(config.servers.size());
  for (const auto& addr : config.servers) {
    Http1Host h;
    h.address = addr;
    h.name = addr.str();
    hosts_.push_back(std::move(h));
  }
}

Http1Upstream::~Http1Upstream() {
  for (auto& h : hosts_) h.idle.clear();
}

UpstreamRequestPtr Http1Upstream::newRequest(UpstreamCallbacks& callbacks) {
  return std::make_unique<Http1UpstreamRequest>(*this, callbacks);
}

Http1Host* Http1Upstream::pickHost(const HostSet& tried) {
  if (Http1Host* h = upstream::pickHost(hosts_, tried, config_.balance, rr_next_, [](const Http1Host&) { return true; })) {
    return h;
  }
  return &hosts_[0];
}

TransportPtr Http1Upstream::takeIdle(Http1Host& host) {
  if (host.idle.empty()) return nullptr;
  std::unique_ptr<PooledConnection> conn = std::move(host.idle.back());
  host.idle.pop_back();
  TransportPtr io = conn->release();
  spare_.push_back(std::move(conn));
  return io;
}

void Http1Upstream::parkIdle(Http1Host& host, TransportPtr io) {
  if (host.idle.size() >= config_.keepalive) {
    closeTransport(dispatcher_, std::move(io));
    return;
  }
  std::unique_ptr<PooledConnection> conn;
  if (spare_.empty()) {
    conn = std::make_unique<PooledConnection>(*this);
  } else {
    conn = std::move(spare_.back());
    spare_.pop_back();
  }
  conn->park(host, std::move(io));
  host.idle.push_back(std::move(conn));
}

void Http1Upstream::removeIdle(PooledConnection* conn) {
  auto& idle = conn->host().idle;
  for (auto it = idle.begin(); it != idle.end(); ++it) {
    if (it->get() == conn) {
      // Deleting from inside the connection's own callback: hand it to the loop.
      struct Holder : Deletable {
        std::unique_ptr<PooledConnection> c;
      };
      auto holder = std::make_unique<Holder>();
      holder->c = std::move(*it);
      idle.erase(it);
      dispatcher_.deferredDelete(std::move(holder));
      return;
    }
  }
}

void Http1Upstream::reportFailure(Http1Host& host, const char* why) { reportHostFailure(host, config_, why); }

void reportHostFailure(UpstreamHost& host, const config::Upstream& cfg, const char* why) {
  if (++host.consecutive_fails >= cfg.max_fails) {
    host.consecutive_fails = 0;
    host.down_until = coarseNow() + cfg.fail_timeout;
    GW_INC(upstream_host_ejected);
    GW_LOG(Warn, "upstream %s: server %s marked down for %lld ms (%s)", cfg.name.c_str(), host.name.c_str(),
           static_cast<long long>(cfg.fail_timeout.count()), why);
  }
}

}  // namespace gw::upstream
