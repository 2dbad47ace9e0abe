#include "core/transport.h"

#include <sys/socket.h>

#include "core/io.h"

namespace gw {

namespace {

// A plain socket: libevent's socket bufferevent with write-through (core/io.h), EV_WRITE
// enabled only while the kernel pushes back.
class SocketTransport final : public Transport {
 public:
  SocketTransport(bufferevent* bev, size_t max_single_write) : bev_(bev) {
    bufferevent_set_max_single_write(bev_, max_single_write);  // libevent's default: 16 KiB
    bufferevent_setcb(bev_, onReadCb, onWriteCb, onEventCb, this);
  }
  ~SocketTransport() override { bufferevent_free(bev_); }

  void setCallbacks(Callbacks* cb) override {
    cb_ = cb;
    if (!cb) bufferevent_disable(bev_, EV_READ | EV_WRITE);
  }
  void setLimits(const Limits& l) override {
    bufferevent_setwatermark(bev_, EV_READ, 0, l.read_high);
    bufferevent_setwatermark(bev_, EV_WRITE, l.write_low, 0);
    timeval send{static_cast<time_t>(l.send_timeout.count() / 1000),
                 static_cast<suseconds_t>((l.send_timeout.count() % 1000) * 1000)};
    bufferevent_set_timeouts(bev_, nullptr, &send);
  }
  void enableRead(bool enable) override {
    if (enable) bufferevent_enable(bev_, EV_READ);
    else bufferevent_disable(bev_, EV_READ);
  }
  evbuffer* input() override { return bufferevent_get_input(bev_); }
  evbuffer* output() override { return bufferevent_get_output(bev_); }
  bool flush() override { return writeThrough(bev_); }
  size_t pending() const override { return evbuffer_get_length(bufferevent_get_output(bev_)); }
  void topUpInput(size_t limit) override { gw::topUpInput(bev_, limit); }
  void shutdownWrite() override { ::shutdown(bufferevent_getfd(bev_), SHUT_WR); }

 private:
  static void onReadCb(bufferevent*, void* arg) {
    auto* self = static_cast<SocketTransport*>(arg);
    if (self->cb_) self->cb_->onTransportRead();
  }
  static void onWriteCb(bufferevent* bev, void* arg) {
    auto* self = static_cast<SocketTransport*>(arg);
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) bufferevent_disable(bev, EV_WRITE);  // write-through again
    if (self->cb_) self->cb_->onTransportWritten();
  }
  static void onEventCb(bufferevent*, short what, void* arg) {
    auto* self = static_cast<SocketTransport*>(arg);
    if (self->cb_) self->cb_->onTransportEvent(what);
  }

  bufferevent* bev_;
  Callbacks* cb_ = nullptr;
};

}  // namespace

TransportPtr newSocketTransport(bufferevent* bev, size_t max_single_write) {
  return std::make_unique<SocketTransport>(bev, max_single_write);
}

}  // namespace gw
