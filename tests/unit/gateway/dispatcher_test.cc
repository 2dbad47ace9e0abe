// Timers on a real event loop: queue order, disable, re-enable from a callback, destruction
// from another timer's callback, and durations past the queue limit (own events). Loop callbacks:
// once per pass however often activated, again when activated from their own callback, never
// after destruction.
#include <gtest/gtest.h>

#include <event2/event.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/dispatcher.h"

namespace gw {
namespace {

struct Loop {
  event_base* base = event_base_new();
  std::unique_ptr<Dispatcher> d = std::make_unique<Dispatcher>(base);
  ~Loop() {
    d.reset();
    event_base_free(base);
  }
  void run() { event_base_dispatch(base); }
};

TEST(Timer, SameDurationFiresInEnableOrderAndDisableRemoves) {
  Loop l;
  std::vector<int> fired;
  Timer a(*l.d, [&] { fired.push_back(1); });
  Timer b(*l.d, [&] { fired.push_back(2); });
  Timer c(*l.d, [&] { fired.push_back(3); });
  Timer e(*l.d, [&] { fired.push_back(4); });
  b.enable(Millis(5));
  a.enable(Millis(5));
  c.enable(Millis(5));
  e.enable(Millis(5));
  EXPECT_TRUE(c.enabled());
  c.disable();
  EXPECT_FALSE(c.enabled());
  e.disable();
  e.enable(Millis(5));  // moves to the back
  l.run();
  EXPECT_EQ(fired, (std::vector<int>{2, 1, 4}));
  EXPECT_FALSE(a.enabled());
}

TEST(Timer, CallbacksMayReEnableAndDestroyTimers) {
  Loop l;
  int ticks = 0;
  auto victim = std::make_unique<Timer>(*l.d, [] { FAIL() << "destroyed timer fired"; });
  std::unique_ptr<Timer> self;
  self = std::make_unique<Timer>(*l.d, [&] {
    victim.reset();  // queued behind this one
    if (++ticks < 3) self->enable(Millis(0));
  });
  self->enable(Millis(1));
  victim->enable(Millis(1));
  l.run();
  EXPECT_EQ(ticks, 3);
}

TEST(Timer, ShorterDurationFiresFirstAcrossQueues) {
  Loop l;
  std::string order;
  Timer slow(*l.d, [&] { order += "slow"; });
  Timer fast(*l.d, [&] { order += "fast,"; });
  slow.enable(Millis(40));
  fast.enable(Millis(2));
  l.run();
  EXPECT_EQ(order, "fast,slow");
}

// Deadlines come from the coarse clock, which trails the precise one by up to a tick: a timer must
// still never fire before its duration has passed, also when it joins a queue armed earlier (the
// timers here are enabled 0.5 ms apart, so some land just before a tick boundary). A lower bound
// only: load makes timers later, never earlier.
TEST(Timer, NeverFiresBeforeItsDuration) {
  Loop l;
  constexpr int kTimers = 24;
  std::vector<std::unique_ptr<Timer>> timers;
  std::vector<Clock::time_point> enabled_at(kTimers), fired_at(kTimers);
  for (int i = 0; i < kTimers; ++i) {
    const auto until = Clock::now() + std::chrono::microseconds(500);
    while (Clock::now() < until) {
    }
    timers.push_back(std::make_unique<Timer>(*l.d, [&, i] { fired_at[i] = Clock::now(); }));
    enabled_at[i] = Clock::now();
    timers.back()->enable(Millis(i % 2 ? 10 : 3));
  }
  l.run();
  for (int i = 0; i < kTimers; ++i) {
    EXPECT_GE(fired_at[i] - enabled_at[i], Millis(i % 2 ? 10 : 3)) << "timer " << i;
  }
}

TEST(Timer, ManyDistinctDurationsUseOwnEvents) {
  Loop l;
  std::vector<std::unique_ptr<Timer>> timers;
  int fired = 0;
  for (int i = 0; i < 40; ++i) {
    timers.push_back(std::make_unique<Timer>(*l.d, [&] { ++fired; }));
    timers.back()->enable(Millis(1 + i));
  }
  timers[39]->disable();   // past the queue limit: its own event
  timers[38]->enable(Millis(2));
  EXPECT_FALSE(timers[39]->enabled());
  EXPECT_TRUE(timers[38]->enabled());
  l.run();
  EXPECT_EQ(fired, 39);
}

struct Counter {
  int runs = 0;
  std::function<void()> then;
  static void cb(evutil_socket_t, short, void* arg) {
    auto* c = static_cast<Counter*>(arg);
    ++c->runs;
    if (c->then) c->then();
  }
};

TEST(LoopCallback, RunsOncePerActivationPassAndAgainWhenReactivatedFromItself) {
  Loop l;
  Counter c;
  LoopCallback cb(*l.d, &Counter::cb, &c);
  cb.activate();
  cb.activate();  // already pending: still one run
  l.run();
  EXPECT_EQ(c.runs, 1);
  c.then = [&] {
    if (c.runs < 3) cb.activate();
  };
  cb.activate();
  l.run();
  EXPECT_EQ(c.runs, 3);
}

TEST(LoopCallback, DestroyedWhilePendingNeverRunsAndUnusedOneCostsNothing) {
  Loop l;
  Counter c;
  { LoopCallback never_used(*l.d, &Counter::cb, &c); }
  auto cb = std::make_unique<LoopCallback>(*l.d, &Counter::cb, &c);
  cb->activate();
  cb.reset();
  Counter other;
  LoopCallback keeps_loop_busy(*l.d, &Counter::cb, &other);
  keeps_loop_busy.activate();
  l.run();
  EXPECT_EQ(c.runs, 0);
  EXPECT_EQ(other.runs, 1);
}

// A callback that records its name in `order` when it runs, then calls `then`.
struct Named {
  std::vector<std::string>* order;
  std::string name;
  std::function<void()> then;
  static void cb(evutil_socket_t fd, short what, void* arg) {
    auto* n = static_cast<Named*>(arg);
    EXPECT_EQ(fd, -1);
    EXPECT_EQ(what, EV_TIMEOUT);
    n->order->push_back(n->name);
    if (n->then) n->then();
  }
};

// Pending callbacks run in activation order; one destroyed by an earlier one in the same pass
// does not run, one activated during the pass runs after the pass.
TEST(LoopCallback, RunInOrderAndOneDestroyedByAnEarlierOneNeverRuns) {
  Loop l;
  std::vector<std::string> order;
  Named a{&order, "a", {}}, b{&order, "b", {}}, c{&order, "c", {}}, d{&order, "d", {}};
  auto cb_a = std::make_unique<LoopCallback>(*l.d, &Named::cb, &a);
  auto cb_b = std::make_unique<LoopCallback>(*l.d, &Named::cb, &b);
  LoopCallback cb_c(*l.d, &Named::cb, &c), cb_d(*l.d, &Named::cb, &d);
  a.then = [&] {
    cb_b.reset();      // pending: never runs
    cb_d.activate();   // runs after c, in the next pass
  };
  cb_c.activate();
  cb_a->activate();
  cb_b->activate();
  l.run();
  EXPECT_EQ(order, (std::vector<std::string>{"c", "a", "d"}));
}

// Order::Last callbacks (upstream writes) run after every Normal one of their pass, whichever was
// activated first; one activated during the pass, of either order, waits for the next pass.
TEST(LoopCallback, LastOnesRunAfterTheNormalOnesOfTheirPass) {
  Loop l;
  std::vector<std::string> order;
  Named up1{&order, "up1", {}}, up2{&order, "up2", {}}, client1{&order, "client1", {}}, client2{&order, "client2", {}},
      up3{&order, "up3", {}}, client3{&order, "client3", {}};
  using Order = LoopCallback::Order;
  LoopCallback cb_up1(*l.d, &Named::cb, &up1, Order::Last), cb_up2(*l.d, &Named::cb, &up2, Order::Last),
      cb_up3(*l.d, &Named::cb, &up3, Order::Last);
  LoopCallback cb_client1(*l.d, &Named::cb, &client1), cb_client2(*l.d, &Named::cb, &client2),
      cb_client3(*l.d, &Named::cb, &client3);
  client1.then = [&] { cb_up3.activate(); };  // next pass
  up1.then = [&] { cb_client3.activate(); };  // next pass, before up3 (Normal first again)
  cb_up1.activate();
  cb_client1.activate();
  cb_up2.activate();
  cb_client2.activate();
  l.run();
  EXPECT_EQ(order, (std::vector<std::string>{"client1", "client2", "up1", "up2", "client3", "up3"}));
  // Destroying a pending Last callback unlinks it from its own list.
  order.clear();
  auto doomed = std::make_unique<LoopCallback>(*l.d, &Named::cb, &up2, Order::Last);
  doomed->activate();
  cb_up1.activate();
  cb_client1.activate();
  client1.then = [&] { doomed.reset(); };
  up1.then = nullptr;
  l.run();
  EXPECT_EQ(order, (std::vector<std::string>{"client1", "up1"}));
}

// A callback that activates itself runs again only after the rest of the loop's work (here a
// deferred deletion queued before it re-activated): it cannot starve the loop.
TEST(LoopCallback, ReactivatedFromItselfRunsAfterOtherPendingWork) {
  Loop l;
  struct Probe : Deletable {
    bool* gone;
    explicit Probe(bool* g) : gone(g) {}
    ~Probe() override { *gone = true; }
  };
  bool probe_gone = false;
  Counter c;
  LoopCallback cb(*l.d, &Counter::cb, &c);
  c.then = [&] {
    if (c.runs == 1) {
      l.d->deferredDelete(std::make_unique<Probe>(&probe_gone));
      cb.activate();
    } else {
      EXPECT_TRUE(probe_gone) << "ran again before the deletion queued ahead of it";
    }
  };
  cb.activate();
  l.run();
  EXPECT_EQ(c.runs, 2);
}

// A dispatcher destroyed with callbacks still queued forgets them; destroying them afterwards is safe.
TEST(LoopCallback, DispatcherDestroyedWithCallbacksQueued) {
  Loop l;
  Counter c;
  auto cb = std::make_unique<LoopCallback>(*l.d, &Counter::cb, &c);
  auto last = std::make_unique<LoopCallback>(*l.d, &Counter::cb, &c, LoopCallback::Order::Last);
  cb->activate();
  last->activate();
  l.d.reset();
  cb.reset();
  last.reset();
  EXPECT_EQ(c.runs, 0);
}

}  // namespace
}  // namespace gw
