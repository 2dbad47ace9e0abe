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

// A plain socket driven directly: one libevent event per socket, edge-triggered for both
// directions and registered once (nginx's model: no epoll_ctl per read pause or write pushback;
// an upstream connection costs one add and one delete). Reads go until the socket is drained
// (a short read or EAGAIN) or the input is full; a readable edge seen while reading is paused is
// remembered and served once reading resumes. Output is written through at once with writev;
// after EAGAIN the next writable edge continues. No bufferevent: its watermark callbacks,
// deferred enables and per-call epoll changes cost more than the proxying for small requests.
class SocketTransport final : public Transport {
 public:
  SocketTransport(Dispatcher& d, evutil_socket_t fd, bool connecting)
      : fd_(fd),
        in_(evbuffer_new()),
        out_(evbuffer_new()),
        connecting_(connecting),
        send_timer_(d, [this] { onSendTimeout(); }),
        later_(d, onLaterCb, this) {
    // EV_CLOSED (EPOLLRDHUP): a FIN that arrived with the last bytes has no edge of its own.
    event_assign(&ev_, d.base(), fd_, EV_READ | EV_WRITE | EV_CLOSED | EV_PERSIST | EV_ET, onEventCb, this);
  }
  ~SocketTransport() override {
    if (added_) event_del(&ev_);
    if (fd_ >= 0) ::close(fd_);
    evbuffer_free(in_);
    evbuffer_free(out_);
  }

  // An accepted socket: register it (the first edge reports bytes already waiting).
  void start() { addEvent(); }

  // Starts a non-blocking connect (`socket_errno`: why there is no socket, when fd_ < 0); the
  // outcome arrives as onTransportEvent(BEV_EVENT_CONNECTED) or BEV_EVENT_ERROR, from the loop.
  void connect(const sockaddr* sa, socklen_t len, int socket_errno) {
    if (fd_ < 0) {
      markFailed(socket_errno ? socket_errno : EMFILE);
      return;
    }
    if (::connect(fd_, sa, len) == 0) {
      connected_now_ = true;  // unix sockets may connect at once
      later_.activate();
    } else if (errno != EINPROGRESS) {
      markFailed(errno);
      return;
    }
    addEvent();
  }

  void setCallbacks(Callbacks* cb) override {
    cb_ = cb;
    if (!cb) {
      read_enabled_ = false;
      send_timer_.disable();
    }
  }
  void setLimits(const Limits& l) override {
    limits_ = l;
    if (write_blocked_ && l.send_timeout.count() > 0 && !send_timer_.enabled()) send_timer_.enable(l.send_timeout);
    onInputDrained();
  }
  void enableRead(bool enable) override {
    read_enabled_ = enable;
    if (enable && readable_) later_.activate();  // an edge came while paused
  }
  evbuffer* input() override { return in_; }
  evbuffer* output() override { return out_; }
  size_t pending() const override { return evbuffer_get_length(out_); }

  bool flush() override {
    if (failed_ || connecting_) return false;  // a failure is reported from the loop
    return write();
  }

  void topUpInput(size_t limit) override {
    const size_t have = evbuffer_get_length(in_);
    if (have >= limit || !readable_ || eof_ || failed_ || connecting_) return;
    const size_t want = limit - have;
    ssize_t r = readInto(in_, fd_, want);
    if (r > 0) {
      if (static_cast<size_t>(r) < want && !peer_shut_) readable_ = false;
    } else if (r < 0 && wouldBlock(errno)) {
      readable_ = false;
    } else {
      later_.activate();  // EOF or an error: read() meets it again from the loop and reports it
    }
  }

  void shutdownWrite() override {
    if (write_shut_ || failed_) return;
    shutdown_pending_ = true;
    flush();  // half-closes once the output is written (now, or from the next writable edge)
  }

 private:
  static constexpr size_t kReadSize = 16384;
  static constexpr int kReadsPerEvent = 4;  // then the rest waits one loop turn (fairness)

  static void onEventCb(evutil_socket_t, short what, void* arg) { static_cast<SocketTransport*>(arg)->onEvent(what); }
  static void onLaterCb(evutil_socket_t, short, void* arg) { static_cast<SocketTransport*>(arg)->onLater(); }
  static void onInputCb(evbuffer*, const evbuffer_cb_info* info, void* arg) {
    if (info->n_deleted) static_cast<SocketTransport*>(arg)->onInputDrained();
  }

  void addEvent() {
    if (event_add(&ev_, nullptr) == 0) added_ = true;
    else markFailed(errno ? errno : EBADF);
  }

  void onEvent(short what) {
    // Without callbacks the transport is closed and waits for its deferred delete: it neither
    // reads nor writes any more (a connect completing now must not send what was queued).
    if (!cb_) return;
    if (connecting_) {
      if (!(what & (EV_WRITE | EV_READ))) return;
      int err = 0;
      socklen_t len = sizeof(err);
      if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err == EINPROGRESS) return;
      if (err != 0) {
        markFailed(err);
        report();
        return;
      }
      connected_now_ = true;
      peer_shut_ = (what & EV_CLOSED) != 0;
      readable_ = (what & (EV_READ | EV_CLOSED)) != 0;
      report();
      return;
    }
    if (what & EV_CLOSED) peer_shut_ = true;
    if (what & (EV_READ | EV_CLOSED)) readable_ = true;
    if ((what & EV_WRITE) && write_blocked_ && !failed_) {
      write();  // a failure is reported from the loop
      if (!failed_ && cb_ && pending() <= limits_.write_low) cb_->onTransportWritten();  // may detach us
    }
    if (readable_) read();
  }

  // Reads while the socket has bytes, reading is wanted and the input has room.
  void read() {
    for (int i = 0; readable_ && wantRead(); ++i) {
      if (i == kReadsPerEvent) {
        later_.activate();
        return;
      }
      const size_t have = evbuffer_get_length(in_);
      size_t want = kReadSize;
      if (limits_.read_high) {
        if (have >= limits_.read_high) {
          setInputFull(true);
          return;
        }
        want = std::min(want, limits_.read_high - have);
      }
      ssize_t r = readInto(in_, fd_, want);
      if (r > 0) {
        // Drained: the next bytes bring an edge (a FIN already here must still be read).
        if (static_cast<size_t>(r) < want && !peer_shut_) readable_ = false;
        if (cb_) cb_->onTransportRead();
        continue;
      }
      readable_ = false;
      if (r < 0 && wouldBlock(errno)) return;
      if (r == 0) {
        eof_ = true;
        if (cb_) cb_->onTransportEvent(BEV_EVENT_EOF | BEV_EVENT_READING);
        return;
      }
      markFailed(errno);
      report();
      return;
    }
  }

  bool wantRead() const { return cb_ && read_enabled_ && !input_full_ && !eof_ && !failed_ && !connecting_; }

  void onLater() {
    if (!cb_) return;
    if (connected_now_ || (failed_ && !error_reported_)) {
      report();
      return;
    }
    if (readable_) read();
  }

  void onInputDrained() {
    if (input_full_ && (!limits_.read_high || evbuffer_get_length(in_) < limits_.read_high)) setInputFull(false);
  }

  // While the input is full, a callback on it notices the codec draining it (only then: an
  // evbuffer with callbacks pays for them on every add and drain).
  void setInputFull(bool full) {
    input_full_ = full;
    if (full) {
      if (!input_cb_) input_cb_ = evbuffer_add_cb(in_, onInputCb, this);
    } else {
      if (input_cb_) evbuffer_remove_cb_entry(in_, std::exchange(input_cb_, nullptr));
      if (readable_) later_.activate();  // the socket still holds bytes: no new edge will say so
    }
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
      return false;
    }
    const bool all = evbuffer_get_length(out_) == 0;
    if (!all) {
      // Blocked: the next writable edge continues. Progress restarts the send timeout.
      if ((!write_blocked_ || wrote) && limits_.send_timeout.count() > 0) send_timer_.enable(limits_.send_timeout);
      write_blocked_ = true;
      return false;
    }
    if (write_blocked_) {
      write_blocked_ = false;
      send_timer_.disable();
    }
    if (shutdown_pending_) {
      shutdown_pending_ = false;
      write_shut_ = true;
      ::shutdown(fd_, SHUT_WR);
    }
    return true;
  }

  void onSendTimeout() {
    if (cb_) cb_->onTransportEvent(BEV_EVENT_TIMEOUT | BEV_EVENT_WRITING);
  }

  void markFailed(int err) {
    if (failed_) return;
    failed_ = true;
    failed_errno_ = err;
    connecting_ = false;
    send_timer_.disable();
    later_.activate();  // reported from the loop
  }

  // Outcomes reported from the loop (or an event), never from inside the caller's call.
  void report() {
    if (connected_now_) {
      connected_now_ = false;
      connecting_ = false;
      if (evbuffer_get_length(out_) > 0) write();  // what was queued while connecting
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
  event ev_;
  bool added_ = false;
  bool connecting_;
  Timer send_timer_;
  LoopCallback later_;  // connect outcome, errors, reads resumed after a pause
  Callbacks* cb_ = nullptr;
  Limits limits_;
  bool read_enabled_ = false;
  bool readable_ = false;       // an edge said bytes (or EOF) wait; cleared by a short read / EAGAIN
  bool peer_shut_ = false;      // EV_CLOSED seen: read on until read(2) returns 0
  bool input_full_ = false;     // stopped at read_high: the input drain callback resumes
  evbuffer_cb_entry* input_cb_ = nullptr;
  bool write_blocked_ = false;  // EAGAIN: waiting for a writable edge
  bool eof_ = false;
  bool connected_now_ = false;  // report CONNECTED from the loop
  bool shutdown_pending_ = false;
  bool write_shut_ = false;
  bool failed_ = false;
  bool error_reported_ = false;
  int failed_errno_ = 0;
};

}  // namespace

TransportPtr newSocketTransport(Dispatcher& d, evutil_socket_t fd, evbuffer* initial) {
  auto t = std::make_unique<SocketTransport>(d, fd, false);
  if (initial) evbuffer_add_buffer(t->input(), initial);
  t->start();
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

TransportPtr connectSocketTransport(Dispatcher& d, const sockaddr* sa, socklen_t len, Transport::Callbacks& cb,
                                    const Transport::Limits& limits) {
  evutil_socket_t fd = ::socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int socket_errno = fd < 0 ? errno : 0;
  if (fd >= 0 && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
    int one = 1;  // requests and small answers go out as they are written
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  auto t = std::make_unique<SocketTransport>(d, fd, true);
  t->setCallbacks(&cb);
  t->setLimits(limits);
  t->enableRead(true);
  t->connect(sa, len, socket_errno);
  return t;
}

void closeTransport(Dispatcher& d, TransportPtr t) {
  if (!t) return;
  t->setCallbacks(nullptr);
  d.deferredDelete(std::move(t));
}

}  // namespace gw
