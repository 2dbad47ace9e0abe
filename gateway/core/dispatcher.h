#pragma once
// Per-worker event-loop helpers: deferred deletion and RAII timers. Not thread-safe: every
// object here belongs to one worker thread's event_base.
#include <event2/event.h>

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
  // Destroys `obj` from the event loop after the current callback returns.
  void deferredDelete(DeletablePtr obj);
  // Runs `fn` from the event loop after the current callback returns (same thread).
  void post(std::function<void()> fn);
  // Destroys everything pending now (used at shutdown).
  void clearDeferred();

 private:
  static void onDeferred(evutil_socket_t, short, void* arg);
  event_base* base_;
  event* deferred_ev_;
  std::vector<DeletablePtr> to_delete_;
  std::vector<std::function<void()>> posted_;
};

// One-shot timer bound to a dispatcher. Destruction cancels it.
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
  static void onFire(evutil_socket_t, short, void* arg);
  event* ev_;
  std::function<void()> cb_;
};

}  // namespace gw
