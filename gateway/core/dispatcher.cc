#include "core/dispatcher.h"

#include <sys/eventfd.h>
#include <unistd.h>

namespace gw {

Dispatcher::Dispatcher(event_base* base) : base_(base) {
  // Embedded events rely on the headers matching the library (the same Debian package).
  if (event_get_struct_event_size() != sizeof(event)) abort();
  deferred_ev_ = event_new(base_, -1, 0, &Dispatcher::onDeferred, this);
}

Dispatcher::~Dispatcher() {
  clearDeferred();
  event_free(deferred_ev_);
}

void Dispatcher::deferredDelete(DeletablePtr obj) {
  if (!obj) return;
  to_delete_.push_back(std::move(obj));
  event_active(deferred_ev_, EV_TIMEOUT, 0);
}

void Dispatcher::clearDeferred() {
  // Destructors may queue more deletions: loop until quiet.
  while (!to_delete_.empty()) {
    auto objs = std::move(to_delete_);
    to_delete_.clear();
    objs.clear();
  }
}

void Dispatcher::onDeferred(evutil_socket_t, short, void* arg) {
  static_cast<Dispatcher*>(arg)->clearDeferred();
}

const timeval* Dispatcher::commonTimeout(Millis after) {
  for (const auto& [ms, tv] : common_timeouts_) {
    if (ms == after) return tv;
  }
  if (common_timeouts_.size() >= kMaxCommonTimeouts) return nullptr;
  timeval tv{static_cast<time_t>(after.count() / 1000), static_cast<suseconds_t>((after.count() % 1000) * 1000)};
  const timeval* common = event_base_init_common_timeout(base_, &tv);
  if (common) common_timeouts_.emplace_back(after, common);
  return common;
}

Timer::Timer(Dispatcher& d, std::function<void()> cb) : dispatcher_(d), cb_(std::move(cb)) {
  evtimer_assign(&ev_, d.base(), &Timer::onFire, this);
}

Timer::~Timer() {
  if (armed_for_ != Clock::time_point{}) event_del(&ev_);
}

void Timer::enable(Millis after) {
  deadline_ = Clock::now() + after;
  if (armed_for_ != Clock::time_point{} && armed_for_ <= deadline_) return;  // fires first, re-arms then
  arm(after);
}

void Timer::arm(Millis after) {
  armed_for_ = deadline_;
  if (const timeval* common = dispatcher_.commonTimeout(after)) {
    evtimer_add(&ev_, common);
    return;
  }
  timeval tv;
  tv.tv_sec = after.count() / 1000;
  tv.tv_usec = (after.count() % 1000) * 1000;
  evtimer_add(&ev_, &tv);
}

LoopCallback::LoopCallback(Dispatcher& d, event_callback_fn cb, void* arg) {
  event_assign(&ev_, d.base(), -1, 0, cb, arg);
}

LoopCallback::~LoopCallback() { event_del(&ev_); }

void Timer::onFire(evutil_socket_t, short, void* arg) {
  auto* t = static_cast<Timer*>(arg);
  t->armed_for_ = {};
  if (t->deadline_ == Clock::time_point{}) return;  // disabled meanwhile
  const auto now = Clock::now();
  if (now < t->deadline_) {  // enabled again meanwhile with a later deadline (or a coarse clock)
    t->arm(std::chrono::ceil<Millis>(t->deadline_ - now));
    return;
  }
  t->deadline_ = {};
  t->cb_();
}

Waker::Waker(event_base* base, std::function<void()> cb) : cb_(std::move(cb)) {
  fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ev_ = event_new(base, fd_, EV_READ | EV_PERSIST, &Waker::onReadable, this);
  event_add(ev_, nullptr);
}

Waker::~Waker() {
  event_free(ev_);
  close(fd_);
}

void Waker::wake() {
  uint64_t one = 1;
  ssize_t ignored = write(fd_, &one, sizeof(one));
  (void)ignored;
}

void Waker::onReadable(evutil_socket_t fd, short, void* arg) {
  uint64_t n;
  ssize_t ignored = read(fd, &n, sizeof(n));
  (void)ignored;
  static_cast<Waker*>(arg)->cb_();
}

}  // namespace gw
