#pragma once
// Per-worker event-loop helpers: deferred deletion and RAII timers. Not thread-safe: every
// object here belongs to one worker thread's event_base.
#include <event2/event.h>
#include <event2/event_struct.h>  // events embedded in their owners: no allocation per event

#include <functional>
#include <memory>
#include <vector>

#include "core/util.h"

namespace gw {

// Objects whose destruction may be requested from inside their own callbacks.
class Deletable {
 public:
  virtual ~Deletable() = default;
};
using DeletablePtr = std::unique_ptr<Deletable>;

class Dispatcher {
 public:
  explicit Dispatcher(event_base* base);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  event_base* base() const { return base_; }
  // libevent "common timeout" for this duration: timers sharing one duration sit in a queue
  // instead of the heap, so adding and removing them is O(1). Durations come from config, so
  // there are few; past kMaxCommonTimeouts distinct ones, null (use a plain timeval).
  const timeval* commonTimeout(Millis after);
  // Destroys `obj` from the event loop after the current callback returns.
  void deferredDelete(DeletablePtr obj);
  // Destroys everything pending now (used at shutdown).
  void clearDeferred();

 private:
  static void onDeferred(evutil_socket_t, short, void* arg);
  event_base* base_;
  event* deferred_ev_;
  std::vector<DeletablePtr> to_delete_;
  static constexpr size_t kMaxCommonTimeouts = 32;
  std::vector<std::pair<Millis, const timeval*>> common_timeouts_;
};

// One-shot timer bound to a dispatcher. Destruction cancels it.
// Lazy, as timeouts mostly never fire: enable() only touches libevent when nothing is armed or
// the new deadline is earlier than the armed one, disable() only forgets the deadline; an armed
// event that fires before the deadline re-arms for the rest. A stream's enable/disable cycles
// then cost no event_add/event_del each.
class Timer {
 public:
  Timer(Dispatcher& d, std::function<void()> cb);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  void enable(Millis after);
  void disable() { deadline_ = {}; }
  bool enabled() const { return deadline_ != Clock::time_point{}; }

 private:
  static void onFire(evutil_socket_t, short, void* arg);
  void arm(Millis after);
  Dispatcher& dispatcher_;
  event ev_;
  std::function<void()> cb_;
  Clock::time_point deadline_{};   // when cb_ is due; {} = disabled
  Clock::time_point armed_for_{};  // when ev_ fires; {} = not pending
};

// "Run this soon, from the loop": activate() schedules `cb(-1, EV_TIMEOUT, arg)` once for the current loop pass
// (activating twice before it runs still runs it once). Used to leave a callback stack before
// acting (pipelining, flushing output, resuming after backpressure). Destruction cancels it.
class LoopCallback {
 public:
  LoopCallback(Dispatcher& d, event_callback_fn cb, void* arg);
  ~LoopCallback();
  LoopCallback(const LoopCallback&) = delete;
  LoopCallback& operator=(const LoopCallback&) = delete;
  void activate() { event_active(&ev_, EV_TIMEOUT, 0); }

 private:
  event ev_;
};

// Runs a callback on a loop's thread when another thread calls wake() (an eventfd). This is the
// only cross-thread entry into a worker, so event bases need no locks (no evthread_use_pthreads:
// libevent's per-operation mutexes cost about 2% of a small request).
class Waker {
 public:
  Waker(event_base* base, std::function<void()> cb);
  ~Waker();
  Waker(const Waker&) = delete;
  Waker& operator=(const Waker&) = delete;
  void wake();  // thread-safe, async-signal-safe

 private:
  static void onReadable(evutil_socket_t fd, short, void* arg);
  int fd_;
  event* ev_;
  std::function<void()> cb_;
};

}  // namespace gw
