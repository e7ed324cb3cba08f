// File: routing/clock.h
//
// Time is an input. The router never reads the wall clock itself: it asks the
// Clock it was given. Production passes SystemClock; tests and the simulator
// pass a ManualClock and move time by hand, so runs are deterministic and a
// simulated day takes seconds.
//
//   routing::ManualClock clock(absl::FromUnixSeconds(1'700'000'000));
//   options.clock = &clock;
//   ...
//   clock.Advance(absl::Seconds(30));   // every contact has now waited 30 s
//   more
#ifndef ROUTING_CLOCK_H_
#define ROUTING_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace routing {

// Thread-safe: Now() is called concurrently from every routing thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The wall clock. The only place the engine's time comes from the OS.
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  // A process-wide instance, used when RouterOptions names no clock.
  static SystemClock* Default();
};

// A clock that moves only when told to. Set and Advance are thread-safe and
// may race with Now(); time set backwards is allowed (tests of clock skew).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time start = absl::UnixEpoch())
      : nanos_(absl::ToUnixNanos(start)) {}
  absl::Time Now() const override {
    return absl::FromUnixNanos(nanos_.load(std::memory_order_acquire));
  }
  void Set(absl::Time t) {
    nanos_.store(absl::ToUnixNanos(t), std::memory_order_release);
  }
  void Advance(absl::Duration d) {
    nanos_.fetch_add(absl::ToInt64Nanoseconds(d), std::memory_order_acq_rel);
  }

 private:
  std::atomic<int64_t> nanos_;
};

}  // namespace routing

#endif  // ROUTING_CLOCK_H_
