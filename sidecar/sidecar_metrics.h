// File: sidecar/sidecar_metrics.h
//
// What routingd measures beyond the router's own RouterStats: request service
// time percentiles, decisions, answers and abandons per second over a sliding
// window (for service level and decisions/s), and transport counters. Updated
// by every worker and I/O thread without locks; read by the Stats request.
//
//   SidecarMetrics metrics;
//   metrics.RecordLatency(absl::Microseconds(12));
//   metrics.RecordDecision(absl::Now());
//   SidecarMetrics::Window w = metrics.WindowAt(absl::Now(), absl::Minutes(5));
//
// Thread-safety: every method may be called concurrently. Readers see a
// consistent-enough snapshot for monitoring (counters are read one by one).
// The window keeps one slot per second; a slot reused for a new second is
// reset by the first writer to see it stale, and an increment racing that
// reset may be lost (at most a handful per second boundary).
#ifndef SIDECAR_SIDECAR_METRICS_H_
#define SIDECAR_SIDECAR_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace routing::sidecar {

// Log-linear histogram of nanosecond values: 16 sub-buckets per power of two,
// so a percentile is reported within ~3% of the true value.
class LatencyHistogram {
 public:
  void Record(uint64_t nanos);
  // The q-quantile (0 < q <= 1) in nanoseconds; 0 when empty.
  double Quantile(double q) const;
  uint64_t Max() const { return max_.load(std::memory_order_relaxed); }
  uint64_t Count() const;

 private:
  static constexpr int kSubBucketBits = 4;
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  static constexpr int kBuckets = (64 - kSubBucketBits + 1) * kSubBuckets;
  static int IndexOf(uint64_t nanos);
  static double MidpointOf(int index);

  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> max_{0};
};

class SidecarMetrics {
 public:
  static constexpr int kWindowSlots = 3600;  // Longest Stats window, seconds.

  struct Window {
    absl::Duration span;  // The window actually covered (<= requested).
    int64_t decisions = 0;
    int64_t answered = 0;
    int64_t answered_in_service_level = 0;
    int64_t abandoned = 0;
  };

  explicit SidecarMetrics(absl::Time start = absl::Now()) : start_(start) {}

  void RecordLatency(absl::Duration service_time);
  void RecordDecision(absl::Time at);
  void RecordAnswered(absl::Time at, bool in_service_level);
  void RecordAbandoned(absl::Time at);
  Window WindowAt(absl::Time now, absl::Duration span) const;

  const LatencyHistogram& latency() const { return latency_; }
  absl::Time start() const { return start_; }

  // Transport counters, since start.
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> busy_rejections{0};
  std::atomic<uint64_t> malformed_requests{0};
  std::atomic<uint64_t> unroutable_replies{0};
  std::atomic<uint64_t> events_published{0};
  std::atomic<uint64_t> events_without_channel{0};
  // Requests refused because the client's CURVE key lacks the role the
  // request type needs (client_roles.h); none of them was executed.
  std::atomic<uint64_t> permission_denied{0};
  std::atomic<int> in_flight{0};
  std::atomic<uint64_t> event_sequence{0};

 private:
  struct Slot {
    std::atomic<int64_t> second{-1};
    std::atomic<int64_t> decisions{0};
    std::atomic<int64_t> answered{0};
    std::atomic<int64_t> answered_in_service_level{0};
    std::atomic<int64_t> abandoned{0};
  };
  Slot& SlotFor(absl::Time at);

  const absl::Time start_;
  LatencyHistogram latency_;
  std::array<Slot, kWindowSlots> slots_;
};

}  // namespace routing::sidecar

#endif  // SIDECAR_SIDECAR_METRICS_H_
