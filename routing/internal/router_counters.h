// File: routing/internal/router_counters.h
//
// The router-wide counters behind Router::Stats(). Relaxed atomics: each is
// exact once calls stop, and nothing decides anything by reading them.
#ifndef ROUTING_INTERNAL_ROUTER_COUNTERS_H_
#define ROUTING_INTERNAL_ROUTER_COUNTERS_H_

#include <atomic>
#include <cstdint>

namespace routing::internal {

struct RouterCounters {
  void Add(std::atomic<int64_t>& counter, int64_t n = 1) {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
  static int64_t Read(const std::atomic<int64_t>& counter) {
    return counter.load(std::memory_order_relaxed);
  }

  std::atomic<int64_t> contacts_held{0};
  std::atomic<int64_t> decisions{0};
  std::atomic<int64_t> assigned_immediately{0};
  std::atomic<int64_t> queued{0};
  std::atomic<int64_t> assigned_from_queue{0};
  std::atomic<int64_t> assignments_untold{0};
  std::atomic<int64_t> cancelled{0};
  std::atomic<int64_t> released{0};
  std::atomic<int64_t> offers{0};
  std::atomic<int64_t> offers_accepted{0};
  std::atomic<int64_t> offers_rejected{0};
  std::atomic<int64_t> offers_expired{0};
  std::atomic<int64_t> rules_fallbacks{0};
  std::atomic<int64_t> rules_suspended_decisions{0};
};

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_ROUTER_COUNTERS_H_
