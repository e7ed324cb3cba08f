// File: bench/reclamation/read_side.h
//
// What the read-side benchmarks share: the object every measured critical
// section reads, and an updater that keeps grace periods coming while they
// run, as a router's releases and presence updates do. Without one, the
// readers' slow paths (urcu-qsbr reporting a quiescent state, urcu-memb waking
// a waiting updater, the epoch moving on) would never run.
//
//   BackgroundUpdater updater([] { urcu_memb_synchronize_rcu(); });
//   urcu_memb_read_lock();
//   benchmark::DoNotOptimize(ReadPublished());
//   urcu_memb_read_unlock();
#ifndef BENCH_RECLAMATION_READ_SIDE_H_
#define BENCH_RECLAMATION_READ_SIDE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>
#include <utility>

namespace bench::reclamation {

struct Payload {
  uint64_t value = 0;
};

inline const Payload kPublishedPayload{42};
inline std::atomic<const Payload*> published_payload{&kPublishedPayload};

// One protected read: load the published pointer, follow it. The same in
// every variant, so the variants differ only in entering and leaving.
inline uint64_t ReadPublished() {
  return published_payload.load(std::memory_order_acquire)->value;
}

// One grace period per millisecond: more than a busy router needs (the epoch
// advances once per 64 retires; liburcu's call_rcu worker runs one grace
// period per batch and sleeps 10 ms when idle), so the slow paths count.
inline constexpr std::chrono::microseconds kUpdatePeriod{1000};

// Runs `grace_period` every kUpdatePeriod on a thread of its own until
// destroyed. The destructor waits for a grace period in progress: a thread
// must not destroy it from inside a read-side section (or, under urcu-qsbr,
// while online) of the flavour it waits on.
class BackgroundUpdater {
 public:
  explicit BackgroundUpdater(std::function<void()> grace_period)
      : grace_period_(std::move(grace_period)), thread_([this] { Run(); }) {}
  ~BackgroundUpdater() {
    stop_.store(true, std::memory_order_relaxed);
    thread_.join();
  }
  BackgroundUpdater(const BackgroundUpdater&) = delete;
  BackgroundUpdater& operator=(const BackgroundUpdater&) = delete;

 private:
  void Run() {
    while (!stop_.load(std::memory_order_relaxed)) {
      grace_period_();
      std::this_thread::sleep_for(kUpdatePeriod);
    }
  }

  const std::function<void()> grace_period_;
  std::atomic<bool> stop_{false};
  std::thread thread_;  // Last: starts once the members above exist.
};

}  // namespace bench::reclamation

#endif  // BENCH_RECLAMATION_READ_SIDE_H_
