#include "net/preface_sniffer.h"

#include <algorithm>
#include <cstring>

namespace gw::net {

namespace {
constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr size_t kPrefaceLen = sizeof(kPreface) - 1;
}  // namespace

int PrefaceSniffer::classify(const char* data, size_t len) {
  size_t n = std::min(len, kPrefaceLen);
  if (std::memcmp(data, kPreface, n) != 0) return -1;
  return n == kPrefaceLen ? 1 : 0;
}

PrefaceSniffer::PrefaceSniffer(Dispatcher& dispatcher, bufferevent* bev, uint64_t id, Millis timeout, Decided decided,
                               http::ConnectionOwner& owner)
    : bev_(bev), id_(id), timer_(dispatcher, [this] { close(); }), decided_(std::move(decided)), owner_(owner) {
  bufferevent_setcb(
      bev_, [](bufferevent*, void* arg) { static_cast<PrefaceSniffer*>(arg)->onRead(); }, nullptr,
      [](bufferevent*, short, void* arg) { static_cast<PrefaceSniffer*>(arg)->close(); }, this);
  bufferevent_enable(bev_, EV_READ);
  timer_.enable(timeout);  // a connection that never speaks is closed quietly, as HTTP/1.1 does
}

PrefaceSniffer::~PrefaceSniffer() {
  if (bev_) bufferevent_free(bev_);
}

void PrefaceSniffer::onRead() {
  if (!bev_) return;
  evbuffer* in = bufferevent_get_input(bev_);
  char buf[kPrefaceLen];
  size_t n = static_cast<size_t>(evbuffer_copyout(in, buf, sizeof(buf)));
  int c = classify(buf, n);
  if (c == 0) return;
  timer_.disable();
  bufferevent* bev = bev_;
  bev_ = nullptr;
  bufferevent_setcb(bev, nullptr, nullptr, nullptr, nullptr);
  decided_(*this, bev, c > 0 ? AppProtocol::Http2 : AppProtocol::Http1);
}

void PrefaceSniffer::close() {
  if (!bev_) return;
  timer_.disable();
  bufferevent_free(bev_);
  bev_ = nullptr;
  owner_.onConnectionClosed(*this);
}

}  // namespace gw::net
