#include "core/transport.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "core/io.h"

namespace gw {

namespace {

bool wouldBlock(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

// A plain socket driven directly: one readv per readable event into the input (no FIONREAD,
// no 4 KiB cap), output written through at once with writev and EV_WRITE armed only while the
// kernel pushes back. No bufferevent: its watermark callbacks, deferred enables and per-call
// epoll changes cost more than the proxying itself for small requests.
class SocketTransport final : public Transport {
 public:
  SocketTransport(Dispatcher& d, evutil_socket_t fd)
      : fd_(fd),
        in_(evbuffer_new()),
        out_(evbuffer_new()),
        send_timer_(d, [this] { onSendTimeout(); }),
        report_later_(d, onReportCb, this) {
    event_assign(&read_ev_, d.base(), fd_, EV_READ | EV_PERSIST, onReadableCb, this);
    event_assign(&write_ev_, d.base(), fd_, EV_WRITE | EV_PERSIST, onWritableCb, this);
  }
  ~SocketTransport() override {
    if (reading_) event_del(&read_ev_);
    if (writing_) event_del(&write_ev_);
    ::close(fd_);
    evbuffer_free(in_);
    evbuffer_free(out_);
  }

  // Starts a non-blocking connect; the outcome arrives as onTransportEvent(BEV_EVENT_CONNECTED)
  // or BEV_EVENT_ERROR (errno set), from the loop.
  void connect(const sockaddr* sa, socklen_t len) {
    connecting_ = true;
    if (::connect(fd_, sa, len) == 0) {
      connected_now_ = true;  // unix sockets may connect at once
      report_later_.activate();
    } else if (errno == EINPROGRESS) {
      setWriteInterest(true);
    } else {
      markFailed(errno);
    }
  }

  void setCallbacks(Callbacks* cb) override {
    cb_ = cb;
    if (!cb) {
      read_enabled_ = false;
      updateReadInterest();
      setWriteInterest(false);
    }
  }
  void setLimits(const Limits& l) override {
    limits_ = l;
    if (writing_ && !connecting_ && l.send_timeout.count() > 0 && !send_timer_.enabled()) send_timer_.enable(l.send_timeout);
    onInputDrained();
  }
  void enableRead(bool enable) override {
    read_enabled_ = enable;
    updateReadInterest();
  }
  evbuffer* input() override { return in_; }
  evbuffer* output() override { return out_; }
  size_t pending() const override { return evbuffer_get_length(out_); }

  bool flush() override {
    if (failed_ || connecting_) return false;  // a failure is reported from the loop
    if (write()) {
      setWriteInterest(false);
      return true;
    }
    if (!failed_) setWriteInterest(true);
    return false;
  }

  void topUpInput(size_t limit) override {
    const size_t have = evbuffer_get_length(in_);
    if (have < limit && !eof_ && !failed_ && !connecting_) readInto(in_, fd_, limit - have);  // EOF, errors: next event
  }

  void shutdownWrite() override {
    if (write_shut_ || failed_) return;
    shutdown_pending_ = true;
    flush();  // half-closes once the output is written (now, or from the write event)
  }

 private:
  static constexpr size_t kReadSize = 16384;

  static void onReadableCb(evutil_socket_t, short, void* arg) { static_cast<SocketTransport*>(arg)->onReadable(); }
  static void onWritableCb(evutil_socket_t, short, void* arg) { static_cast<SocketTransport*>(arg)->onWritable(); }
  static void onReportCb(evutil_socket_t, short, void* arg) { static_cast<SocketTransport*>(arg)->report(); }
  static void onInputCb(evbuffer*, const evbuffer_cb_info* info, void* arg) {
    if (info->n_deleted) static_cast<SocketTransport*>(arg)->onInputDrained();
  }

  void onReadable() {
    const size_t have = evbuffer_get_length(in_);
    size_t want = kReadSize;
    if (limits_.read_high) want = have >= limits_.read_high ? 0 : std::min(want, limits_.read_high - have);
    if (want == 0) {
      setInputFull(true);
      return;
    }
    ssize_t r = readInto(in_, fd_, want);
    if (r > 0) {
      if (cb_) cb_->onTransportRead();
      return;
    }
    if (r < 0 && wouldBlock(errno)) return;
    if (r == 0) {
      eof_ = true;
      updateReadInterest();
      if (cb_) cb_->onTransportEvent(BEV_EVENT_EOF | BEV_EVENT_READING);
      return;
    }
    markFailed(errno);
    report();
  }

  void onInputDrained() {
    if (input_full_ && (!limits_.read_high || evbuffer_get_length(in_) < limits_.read_high)) setInputFull(false);
  }

  // While the input is full, a callback on it notices the codec draining it (only then: an
  // evbuffer with callbacks pays for them on every add and drain).
  void setInputFull(bool full) {
    input_full_ = full;
    if (full) input_cb_ = evbuffer_add_cb(in_, onInputCb, this);
    else if (input_cb_) evbuffer_remove_cb_entry(in_, std::exchange(input_cb_, nullptr));
    updateReadInterest();  // level-triggered: bytes still in the socket signal again
  }

  void updateReadInterest() {
    const bool want = cb_ && read_enabled_ && !input_full_ && !eof_ && !failed_ && !connecting_;
    if (want == reading_) return;
    reading_ = want;
    if (want) event_add(&read_ev_, nullptr);
    else event_del(&read_ev_);
  }

  // Writes what the socket takes. True when nothing is left.
  bool write() {
    if (write_shut_) {
      evbuffer_drain(out_, evbuffer_get_length(out_));
      return true;
    }
    bool wrote = false;
    while (evbuffer_get_length(out_) > 0) {
      int r = evbuffer_write(out_, fd_);
      if (r > 0) {
        wrote = true;
        continue;
      }
      if (r < 0 && wouldBlock(errno)) break;
      markFailed(r < 0 ? errno : EPIPE);
      report_later_.activate();
      return false;
    }
    // Progress, wherever it was made, restarts the send timeout.
    if (wrote && writing_ && limits_.send_timeout.count() > 0) send_timer_.enable(limits_.send_timeout);
    if (evbuffer_get_length(out_) > 0) return false;
    if (shutdown_pending_) {
      shutdown_pending_ = false;
      write_shut_ = true;
      ::shutdown(fd_, SHUT_WR);
    }
    return true;
  }

  void setWriteInterest(bool on) {
    if (on == writing_) return;
    writing_ = on;
    if (on) {
      event_add(&write_ev_, nullptr);
      if (!connecting_ && limits_.send_timeout.count() > 0) send_timer_.enable(limits_.send_timeout);
    } else {
      event_del(&write_ev_);
      send_timer_.disable();
    }
  }

  void onWritable() {
    if (connecting_) {
      int err = 0;
      socklen_t len = sizeof(err);
      if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err == EINPROGRESS) return;
      setWriteInterest(false);
      if (err != 0) {
        markFailed(err);
        report();
        return;
      }
      connected_now_ = true;
      report();
      return;
    }
    const bool all = write();
    if (failed_ || all) setWriteInterest(false);
    if (!failed_ && cb_ && pending() <= limits_.write_low) cb_->onTransportWritten();
  }

  void onSendTimeout() {
    setWriteInterest(false);
    if (cb_) cb_->onTransportEvent(BEV_EVENT_TIMEOUT | BEV_EVENT_WRITING);
  }

  void markFailed(int err) {
    if (failed_) return;
    failed_ = true;
    failed_errno_ = err;
    connecting_ = false;
    updateReadInterest();
    setWriteInterest(false);
    report_later_.activate();
  }

  // Outcomes that must not be reported from inside the caller's call: connect, errors.
  void report() {
    if (connected_now_) {
      connected_now_ = false;
      connecting_ = false;
      updateReadInterest();
      if (evbuffer_get_length(out_) > 0) flush();  // what was queued while connecting
      if (cb_) cb_->onTransportEvent(BEV_EVENT_CONNECTED);
      return;
    }
    if (failed_ && !error_reported_ && cb_) {
      error_reported_ = true;
      errno = failed_errno_;
      cb_->onTransportEvent(BEV_EVENT_ERROR);
    }
  }

  evutil_socket_t fd_;
  evbuffer* in_;
  evbuffer* out_;
  event read_ev_;
  event write_ev_;
  Timer send_timer_;
  LoopCallback report_later_;
  Callbacks* cb_ = nullptr;
  Limits limits_;
  bool reading_ = false;  // read_ev_ added
  bool writing_ = false;  // write_ev_ added
  bool read_enabled_ = false;
  bool input_full_ = false;  // stopped at read_high: the input drain callback resumes
  evbuffer_cb_entry* input_cb_ = nullptr;
  bool eof_ = false;
  bool connecting_ = false;
  bool connected_now_ = false;  // report CONNECTED from the loop
  bool shutdown_pending_ = false;
  bool write_shut_ = false;
  bool failed_ = false;
  bool error_reported_ = false;
  int failed_errno_ = 0;
};

}  // namespace

TransportPtr newSocketTransport(Dispatcher& d, evutil_socket_t fd, evbuffer* initial) {
  auto t = std::make_unique<SocketTransport>(d, fd);
  if (initial) evbuffer_add_buffer(t->input(), initial);
  return t;
}

TransportPtr newSocketTransport(Dispatcher& d, bufferevent* bev) {
  // The bufferevent read the first bytes (protocol sniffing): keep them, take the fd over.
  evutil_socket_t fd = bufferevent_getfd(bev);
  TransportPtr t = newSocketTransport(d, fd, bufferevent_get_input(bev));
  bufferevent_disable(bev, EV_READ | EV_WRITE);
  bufferevent_setfd(bev, -1);  // so freeing it does not close the fd
  bufferevent_free(bev);
  return t;
}

TransportPtr connectSocketTransport(Dispatcher& d, const sockaddr* sa, socklen_t len) {
  evutil_socket_t fd = ::socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return nullptr;
  if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) {
    int one = 1;  // requests and small answers go out as they are written
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  auto t = std::make_unique<SocketTransport>(d, fd);
  t->connect(sa, len);
  return t;
}

}  // namespace gw
