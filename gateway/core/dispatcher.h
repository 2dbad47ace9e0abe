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

class Timer;
class LoopCallback;

// Enabled timers of one duration, in deadline order (same duration: later enable, later
// deadline), under one libevent timer armed for the head.
struct TimerQueue {
  Millis duration{};
  Timer* head = nullptr;
  Timer* tail = nullptr;
  size_t size = 0;
  bool armed = false;
  event ev;
};

class Dispatcher {
 public:
  explicit Dispatcher(event_base* base);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  event_base* base() const { return base_; }
  // The queue for timers of this duration. Durations come from config, so there are few; past
  // kMaxTimerQueues distinct ones, null (the timer uses an event of its own).
  TimerQueue* timerQueue(Millis duration);
  // Destroys `obj` from the event loop after the current callback returns.
  void deferredDelete(DeletablePtr obj);
  // Destroys everything pending now (used at shutdown).
  void clearDeferred();

 private:
  friend class LoopCallback;
  static void onDeferred(evutil_socket_t, short, void* arg);
  static void onTimerQueue(evutil_socket_t, short, void* arg);
  static void onCallbacks(evutil_socket_t, short, void* arg);
  void queueCallback(LoopCallback& c);
  void unlinkCallback(LoopCallback& c);
  event_base* base_;
  event* deferred_ev_;
  // Activated LoopCallbacks, in order, run by one libevent event per pass: a list per
  // LoopCallback::Order, run in that order.
  event* callbacks_ev_;
  struct CallbackList {
    LoopCallback* head = nullptr;
    LoopCallback* tail = nullptr;
  };
  CallbackList cb_lists_[2];
  CallbackList& listOf(const LoopCallback& c);
  uint32_t cb_round_ = 0;  // the pass the next activation belongs to
  bool callbacks_armed_ = false;
  std::vector<DeletablePtr> to_delete_;
  std::vector<DeletablePtr> deleting_;  // the round being destroyed
  static constexpr size_t kMaxTimerQueues = 32;
  std::vector<std::unique_ptr<TimerQueue>> timer_queues_;
};

// One-shot timer bound to a dispatcher. Destruction cancels it.
// enable() and disable() cost a few pointer updates: the timer joins or leaves its duration's
// queue (libevent is touched only when a queue turns non-empty), since per-stream timeouts are
// set and cleared several times per request and almost never fire.
class Timer {
 public:
  Timer(Dispatcher& d, std::function<void()> cb);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  void enable(Millis after);
  void disable();
  bool enabled() const;

 private:
  friend class Dispatcher;
  static void onFire(evutil_socket_t, short, void* arg);  // own event (no queue for the duration)
  void unlink();
  Dispatcher& dispatcher_;
  std::function<void()> cb_;
  TimerQueue* queue_ = nullptr;  // set while enabled in a queue
  Timer* prev_ = nullptr;
  Timer* next_ = nullptr;
  Clock::time_point deadline_{};
  event* own_ev_ = nullptr;  // only past kMaxTimerQueues distinct durations
};

// "Run this soon, from the loop": activate() schedules `cb(-1, EV_TIMEOUT, arg)` once for the current loop pass
// (activating twice before it runs still runs it once). Used to leave a callback stack before
// acting (pipelining, flushing output, resuming after backpressure). Destruction cancels it.
// Activated callbacks wait in the dispatcher's list and run in activation order from one libevent
// event (no event per callback: a request has several, and most are never activated); one
// activated while the list runs waits for the next pass.
// Order::Last callbacks run after all the Normal ones of their pass: writes toward upstreams, so
// that a pass sends the responses it completed to their clients before it hands new requests to
// the backend (whose wakeup on the same machine can preempt the loop). Measured in BENCHMARKS.md
// ("Write order"): at best a few per cent, and writing each request at once is clearly worse.
class LoopCallback {
 public:
  enum class Order : uint8_t { Normal, Last };
  LoopCallback(Dispatcher& d, event_callback_fn cb, void* arg, Order order = Order::Normal)
      : dispatcher_(d), cb_(cb), arg_(arg), order_(order) {}
  ~LoopCallback() {
    if (active_) dispatcher_.unlinkCallback(*this);
  }
  LoopCallback(const LoopCallback&) = delete;
  LoopCallback& operator=(const LoopCallback&) = delete;
  void activate() {
    if (!active_) dispatcher_.queueCallback(*this);
  }

 private:
  friend class Dispatcher;
  Dispatcher& dispatcher_;
  event_callback_fn cb_;
  void* arg_;
  LoopCallback* prev_ = nullptr;
  LoopCallback* next_ = nullptr;
  uint32_t round_ = 0;
  bool active_ = false;
  const Order order_;
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
