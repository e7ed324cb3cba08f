#include "sidecar/sidecar_metrics.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace routing::sidecar {

int LatencyHistogram::IndexOf(uint64_t nanos) {
  if (nanos < kSubBuckets) return static_cast<int>(nanos);
  const int msb = 63 - std::countl_zero(nanos);
  const int shift = msb - kSubBucketBits;
  const int sub = static_cast<int>((nanos >> shift) - kSubBuckets);
  return (shift + 1) * kSubBuckets + sub;
}

double LatencyHistogram::MidpointOf(int index) {
  if (index < kSubBuckets) return index;
  const int shift = index / kSubBuckets - 1;
  const int sub = index % kSubBuckets;
  const double lower =
      std::ldexp(static_cast<double>(kSubBuckets + sub), shift);
  return lower + std::ldexp(1.0, shift) / 2;
}

void LatencyHistogram::Record(uint64_t nanos) {
  counts_[IndexOf(nanos)].fetch_add(1, std::memory_order_relaxed);
  uint64_t seen = max_.load(std::memory_order_relaxed);
  while (nanos > seen &&
         !max_.compare_exchange_weak(seen, nanos, std::memory_order_relaxed)) {
  }
}

uint64_t LatencyHistogram::Count() const {
  uint64_t total = 0;
  for (const auto& c : counts_) total += c.load(std::memory_order_relaxed);
  return total;
}

double LatencyHistogram::Quantile(double q) const {
  std::array<uint64_t, kBuckets> snapshot;
  uint64_t total = 0;
  for (int i = 0; i < kBuckets; ++i) {
    snapshot[i] = counts_[i].load(std::memory_order_relaxed);
    total += snapshot[i];
  }
  if (total == 0) return 0;
  const uint64_t rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(total))));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += snapshot[i];
    if (seen >= rank) {
      return std::min(MidpointOf(i), static_cast<double>(Max()));
    }
  }
  return static_cast<double>(Max());
}

namespace {

// kLatencyBoundsSeconds in whole nanoseconds, so a sample exactly on a bound
// falls in that bound's bucket (le means <=) with no rounding doubt.
constexpr std::array<int64_t, kLatencyBoundCount> BoundsNanos() {
  std::array<int64_t, kLatencyBoundCount> nanos = {};
  for (int i = 0; i < kLatencyBoundCount; ++i) {
    nanos[i] = static_cast<int64_t>(kLatencyBoundsSeconds[i] * 1e9 + 0.5);
  }
  return nanos;
}
constexpr std::array<int64_t, kLatencyBoundCount> kBoundsNanos = BoundsNanos();

}  // namespace

uint64_t BucketHistogram::Counts::Total() const {
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  return total;
}

void BucketHistogram::Record(absl::Duration duration) {
  const int64_t nanos =
      std::max<int64_t>(0, absl::ToInt64Nanoseconds(duration));
  // 16 bounds: a linear scan is as quick as a binary search, and most
  // samples stop in the first few buckets.
  int bucket = 0;
  while (bucket < kLatencyBoundCount && nanos > kBoundsNanos[bucket]) {
    ++bucket;
  }
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_nanos_.fetch_add(static_cast<uint64_t>(nanos), std::memory_order_relaxed);
}

BucketHistogram::Counts BucketHistogram::Read() const {
  Counts counts;
  for (size_t i = 0; i < counts_.size(); ++i) {
    counts.counts[i] = counts_[i].load(std::memory_order_relaxed);
  }
  counts.sum_seconds =
      static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) * 1e-9;
  return counts;
}

SidecarMetrics::Slot& SidecarMetrics::SlotFor(absl::Time at) {
  const int64_t second = absl::ToUnixSeconds(at);
  Slot& slot = slots_[static_cast<uint64_t>(second) % kWindowSlots];
  int64_t seen = slot.second.load(std::memory_order_acquire);
  if (seen != second && seen < second &&
      slot.second.compare_exchange_strong(seen, second,
                                          std::memory_order_acq_rel)) {
    slot.decisions.store(0, std::memory_order_relaxed);
    slot.answered.store(0, std::memory_order_relaxed);
    slot.answered_in_service_level.store(0, std::memory_order_relaxed);
    slot.abandoned.store(0, std::memory_order_relaxed);
  }
  return slot;
}

void SidecarMetrics::RecordJournalGroup(int records, int64_t bytes,
                                        bool synced, absl::Duration sync_time,
                                        bool ok) {
  if (!ok) {
    journal_failures.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  journal_records_written.fetch_add(static_cast<uint64_t>(records),
                                    std::memory_order_relaxed);
  journal_bytes_written.fetch_add(static_cast<uint64_t>(bytes),
                                  std::memory_order_relaxed);
  if (synced) {
    journal_syncs.fetch_add(1, std::memory_order_relaxed);
    journal_sync_time_.Record(sync_time);
  }
}

void SidecarMetrics::RecordLatency(absl::Duration service_time) {
  latency_.Record(static_cast<uint64_t>(
      std::max<int64_t>(0, absl::ToInt64Nanoseconds(service_time))));
  service_time_.Record(service_time);
}

void SidecarMetrics::RecordRoutingDecision(const RoutingDecision& decision,
                                           bool requeue,
                                           absl::Duration latency) {
  decision_latency_.Record(latency);
  if (requeue) requeues_.fetch_add(1, std::memory_order_relaxed);
  recent_decisions_.Record(
      decision,
      requeue ? RecentDecisionKind::kRequeued : RecentDecisionKind::kRouted,
      absl::ZeroDuration());
}

void SidecarMetrics::RecordQueuedAssignment(const Assignment& assignment) {
  recent_decisions_.Record(assignment.decision, RecentDecisionKind::kFromQueue,
                           assignment.waited);
}

void SidecarMetrics::RecordRelease(ContactOutcome outcome) {
  const int index = static_cast<int>(outcome);
  if (index < 0 || index >= kContactOutcomeCount) return;
  releases_[index].fetch_add(1, std::memory_order_relaxed);
}

uint64_t SidecarMetrics::Releases(ContactOutcome outcome) const {
  const int index = static_cast<int>(outcome);
  if (index < 0 || index >= kContactOutcomeCount) return 0;
  return releases_[index].load(std::memory_order_relaxed);
}

void SidecarMetrics::RecordReply(int request_type, int error_code) {
  request_type = std::clamp(request_type, 0, kRequestTypeSlots - 1);
  error_code = std::clamp(error_code, 0, kErrorCodeSlots - 1);
  replies_[request_type][error_code].fetch_add(1, std::memory_order_relaxed);
}

uint64_t SidecarMetrics::Replies(int request_type, int error_code) const {
  if (request_type < 0 || request_type >= kRequestTypeSlots || error_code < 0 ||
      error_code >= kErrorCodeSlots) {
    return 0;
  }
  return replies_[request_type][error_code].load(std::memory_order_relaxed);
}

void SidecarMetrics::RecordDecision(absl::Time at) {
  SlotFor(at).decisions.fetch_add(1, std::memory_order_relaxed);
}

void SidecarMetrics::RecordAnswered(absl::Time at, bool in_service_level) {
  Slot& slot = SlotFor(at);
  slot.answered.fetch_add(1, std::memory_order_relaxed);
  if (in_service_level) {
    slot.answered_in_service_level.fetch_add(1, std::memory_order_relaxed);
  }
}

void SidecarMetrics::RecordAbandoned(absl::Time at) {
  SlotFor(at).abandoned.fetch_add(1, std::memory_order_relaxed);
}

SidecarMetrics::Window SidecarMetrics::WindowAt(absl::Time now,
                                                absl::Duration span) const {
  Window window;
  span = std::min(span, absl::Seconds(kWindowSlots));
  window.span = std::max(std::min(span, now - start_), absl::Seconds(1));
  const int64_t last = absl::ToUnixSeconds(now);
  const int64_t seconds = absl::ToInt64Seconds(span);
  for (int64_t s = last - seconds + 1; s <= last; ++s) {
    const Slot& slot = slots_[static_cast<uint64_t>(s) % kWindowSlots];
    if (slot.second.load(std::memory_order_acquire) != s) continue;
    window.decisions += slot.decisions.load(std::memory_order_relaxed);
    window.answered += slot.answered.load(std::memory_order_relaxed);
    window.answered_in_service_level +=
        slot.answered_in_service_level.load(std::memory_order_relaxed);
    window.abandoned += slot.abandoned.load(std::memory_order_relaxed);
  }
  return window;
}

}  // namespace routing::sidecar
