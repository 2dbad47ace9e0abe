#include "core/dispatcher.h"

#include <sys/eventfd.h>
#include <unistd.h>

namespace gw {

Dispatcher::Dispatcher(event_base* base) : base_(base) {
  // Embedded events rely on the headers matching the library (the same Debian package).
  if (event_get_struct_event_size() != sizeof(event)) abort();
  deferred_ev_ = event_new(base_, -1, 0, &Dispatcher::onDeferred, this);
  callbacks_ev_ = event_new(base_, -1, 0, &Dispatcher::onCallbacks, this);
}

Dispatcher::~Dispatcher() {
  clearDeferred();
  event_free(deferred_ev_);
  for (auto& list : cb_lists_) {
    while (list.head) unlinkCallback(*list.head);
  }
  event_free(callbacks_ev_);
  for (auto& q : timer_queues_) event_del(&q->ev);
}

void Dispatcher::deferredDelete(DeletablePtr obj) {
  if (!obj) return;
  // Activated once per round: the callback takes everything queued until it runs.
  if (to_delete_.empty()) event_active(deferred_ev_, EV_TIMEOUT, 0);
  to_delete_.push_back(std::move(obj));
}

void Dispatcher::clearDeferred() {
  // Destructors may queue more deletions: loop until quiet.
  // Both vectors keep their capacity between rounds.
  while (!to_delete_.empty()) {
    deleting_.swap(to_delete_);
    deleting_.clear();
  }
}

void Dispatcher::onDeferred(evutil_socket_t, short, void* arg) {
  static_cast<Dispatcher*>(arg)->clearDeferred();
}

Dispatcher::CallbackList& Dispatcher::listOf(const LoopCallback& c) {
  return cb_lists_[c.order_ == LoopCallback::Order::Last ? 1 : 0];
}

void Dispatcher::queueCallback(LoopCallback& c) {
  CallbackList& list = listOf(c);
  c.active_ = true;
  c.round_ = cb_round_;
  c.prev_ = list.tail;
  c.next_ = nullptr;
  (list.tail ? list.tail->next_ : list.head) = &c;
  list.tail = &c;
  if (!callbacks_armed_) {
    event_active(callbacks_ev_, EV_TIMEOUT, 0);
    callbacks_armed_ = true;
  }
}

void Dispatcher::unlinkCallback(LoopCallback& c) {
  CallbackList& list = listOf(c);
  (c.prev_ ? c.prev_->next_ : list.head) = c.next_;
  (c.next_ ? c.next_->prev_ : list.tail) = c.prev_;
  c.prev_ = c.next_ = nullptr;
  c.active_ = false;
}

void Dispatcher::onCallbacks(evutil_socket_t, short, void* arg) {
  auto* d = static_cast<Dispatcher*>(arg);
  d->callbacks_armed_ = false;
  const uint32_t round = d->cb_round_++;  // activations from here on belong to the next pass
  for (CallbackList& list : d->cb_lists_) {  // Normal, then Last
    while (list.head && list.head->round_ == round) {
      LoopCallback* c = list.head;
      d->unlinkCallback(*c);
      c->cb_(-1, EV_TIMEOUT, c->arg_);  // may destroy *c, or any other callback
    }
  }
}

namespace {
timeval toTimeval(Millis d) {
  return {static_cast<time_t>(d.count() / 1000), static_cast<suseconds_t>((d.count() % 1000) * 1000)};
}
}  // namespace

TimerQueue* Dispatcher::timerQueue(Millis duration) {
  for (const auto& q : timer_queues_) {
    if (q->duration == duration) return q.get();
  }
  if (timer_queues_.size() >= kMaxTimerQueues) return nullptr;
  auto q = std::make_unique<TimerQueue>();
  q->duration = duration;
  evtimer_assign(&q->ev, base_, &Dispatcher::onTimerQueue, q.get());
  timer_queues_.push_back(std::move(q));
  return timer_queues_.back().get();
}

void Dispatcher::onTimerQueue(evutil_socket_t, short, void* arg) {
  auto* q = static_cast<TimerQueue*>(arg);
  q->armed = false;
  const auto now = Clock::now();
  // At most the timers queued now: one re-enabled by its own callback waits for the next pass.
  for (size_t budget = q->size; budget > 0 && q->head && q->head->deadline_ <= now; --budget) {
    Timer* t = q->head;
    t->unlink();
    t->cb_();  // may destroy or enable any timer, this one included
  }
  if (q->head && !q->armed) {
    const Millis rest = q->head->deadline_ <= now ? Millis(0) : std::chrono::ceil<Millis>(q->head->deadline_ - now);
    const timeval tv = toTimeval(rest);
    evtimer_add(&q->ev, &tv);
    q->armed = true;
  }
}

Timer::Timer(Dispatcher& d, std::function<void()> cb) : dispatcher_(d), cb_(std::move(cb)) {}

Timer::~Timer() {
  unlink();
  if (own_ev_) event_free(own_ev_);
}

void Timer::unlink() {
  if (!queue_) return;
  (prev_ ? prev_->next_ : queue_->head) = next_;
  (next_ ? next_->prev_ : queue_->tail) = prev_;
  prev_ = next_ = nullptr;
  --queue_->size;
  queue_ = nullptr;
}

void Timer::enable(Millis after) {
  unlink();
  TimerQueue* q = dispatcher_.timerQueue(after);
  if (!q) {
    if (!own_ev_) own_ev_ = evtimer_new(dispatcher_.base(), &Timer::onFire, this);
    const timeval tv = toTimeval(after);
    evtimer_add(own_ev_, &tv);
    return;
  }
  if (own_ev_) event_del(own_ev_);
  deadline_ = Clock::now() + after;
  queue_ = q;
  prev_ = q->tail;
  (q->tail ? q->tail->next_ : q->head) = this;
  q->tail = this;
  ++q->size;
  if (!q->armed) {  // armed: it fires no later than this deadline (same duration, earlier enable)
    const timeval tv = toTimeval(after);
    evtimer_add(&q->ev, &tv);
    q->armed = true;
  }
}

void Timer::disable() {
  unlink();
  if (own_ev_) event_del(own_ev_);
}

bool Timer::enabled() const { return queue_ || (own_ev_ && evtimer_pending(own_ev_, nullptr)); }

void Timer::onFire(evutil_socket_t, short, void* arg) { static_cast<Timer*>(arg)->cb_(); }

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
