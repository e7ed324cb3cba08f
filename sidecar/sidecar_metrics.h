// File: sidecar/sidecar_metrics.h
//
// What routingd measures beyond the router's own RouterStats: request service
// time percentiles, decisions, answers and abandons per second over a sliding
// window (for service level and decisions/s), and transport counters. Updated
// by every worker and I/O thread without locks; read by the Stats request.
// For Prometheus (sidecar/http/): fixed-bucket histograms of decision latency
// and request service time, replies by request type and error code, releases
// by outcome, requeues; and the last few decisions for the supervisor view.
//
//   SidecarMetrics metrics;
//   metrics.RecordLatency(absl::Microseconds(12));
//   metrics.RecordDecision(absl::Now());
//   SidecarMetrics::Window w = metrics.WindowAt(absl::Now(), absl::Minutes(5));
//   metrics.RecordReply(static_cast<int>(wire::RequestBody::RouteContact), 0);
//   BucketHistogram::Counts c = metrics.decision_latency().Read();
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
#include "routing/interaction.h"
#include "routing/routing_decision.h"
#include "sidecar/recent_decisions.h"

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

// Upper bounds, in seconds, of the latency histograms: 5 us (a decision on an
// idle router) to 1 s (a Stats request over a large roster), roughly 1-2.5-5
// per decade, as Prometheus' client libraries space theirs.
inline constexpr int kLatencyBoundCount = 16;
inline constexpr double kLatencyBoundsSeconds[kLatencyBoundCount] = {
    0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001,
    0.0025,   0.005,   0.01,     0.025,   0.05,   0.1,     0.25,   1};

// A Prometheus histogram of durations over kLatencyBoundsSeconds: one atomic
// count per bucket and the sum, each updated with one relaxed fetch_add (no
// ordering between them is relied on: a reader may see a count without its
// share of the sum, off by one sample at most per concurrent writer).
class BucketHistogram {
 public:
  struct Counts {
    // counts[i]: samples <= bound i and above bound i-1; the last one the
    // rest (+Inf). Not cumulative.
    std::array<uint64_t, kLatencyBoundCount + 1> counts = {};
    double sum_seconds = 0;
    uint64_t Total() const;
  };
  void Record(absl::Duration duration);
  Counts Read() const;

 private:
  std::array<std::atomic<uint64_t>, kLatencyBoundCount + 1> counts_{};
  std::atomic<uint64_t> sum_nanos_{0};
};

class SidecarMetrics {
 public:
  // Slots of the replies-by-type-and-code table: wire::RequestBody values
  // (0, NONE, is a request whose type could not be read) and wire::ErrorCode
  // values (0, None, is success). Both enums are far below 32; a value at or
  // beyond is counted in the last slot.
  static constexpr int kRequestTypeSlots = 32;
  static constexpr int kErrorCodeSlots = 32;

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

  // A Route (requeue false) or Requeue the router decided; `latency` is the
  // router call alone. Feeds the decision latency histogram, the requeue
  // count and the recent decisions.
  void RecordRoutingDecision(const RoutingDecision& decision, bool requeue,
                             absl::Duration latency);
  // A queued contact assigned later (AssignmentListener::OnAssigned).
  void RecordQueuedAssignment(const Assignment& assignment);
  // A ReleaseContact the router accepted.
  void RecordRelease(ContactOutcome outcome);
  // One reply sent: the request's wire::RequestBody (0 if unreadable) and
  // the reply's wire::ErrorCode (0: success).
  void RecordReply(int request_type, int error_code);
  uint64_t Replies(int request_type, int error_code) const;
  uint64_t Releases(ContactOutcome outcome) const;
  uint64_t requeues() const {
    return requeues_.load(std::memory_order_relaxed);
  }

  const LatencyHistogram& latency() const { return latency_; }
  // Service time of every request but ReloadRules (RecordLatency).
  const BucketHistogram& service_time() const { return service_time_; }
  const BucketHistogram& decision_latency() const { return decision_latency_; }
  const BucketHistogram& journal_sync_time() const {
    return journal_sync_time_;
  }
  // One write (and sync) of the journal's writer: records, the bytes of
  // their frames, `synced` and its duration, and whether both succeeded.
  // Any thread, lock-free.
  void RecordJournalGroup(int records, int64_t bytes, bool synced,
                          absl::Duration sync_time, bool ok);
  const RecentDecisions& recent_decisions() const { return recent_decisions_; }
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
  // --journal_dir: requests refused unexecuted because the journal could
  // not take records (JOURNAL_UNAVAILABLE), and requests executed whose
  // record could not be made durable (NOT_DURABLE).
  std::atomic<uint64_t> journal_refusals{0};
  std::atomic<uint64_t> journal_not_durable{0};
  // --journal_dir: records written to the journal's files (and the bytes
  // of their frames), the syncs made
  // (fdatasync; journal_syncs_time their durations), and the writes or
  // syncs that failed. RecordJournalGroup counts them.
  std::atomic<uint64_t> journal_records_written{0};
  std::atomic<uint64_t> journal_bytes_written{0};
  std::atomic<uint64_t> journal_syncs{0};
  std::atomic<uint64_t> journal_failures{0};
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
  BucketHistogram service_time_;
  BucketHistogram decision_latency_;
  BucketHistogram journal_sync_time_;
  std::array<std::array<std::atomic<uint64_t>, kErrorCodeSlots>,
             kRequestTypeSlots>
      replies_{};
  std::array<std::atomic<uint64_t>, kContactOutcomeCount> releases_{};
  std::atomic<uint64_t> requeues_{0};
  RecentDecisions recent_decisions_;
  std::array<Slot, kWindowSlots> slots_;
};

}  // namespace routing::sidecar

#endif  // SIDECAR_SIDECAR_METRICS_H_
