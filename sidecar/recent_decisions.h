// File: sidecar/recent_decisions.h
//
// The last few routing decisions routingd made, with enough to explain each
// one on the supervisor view (sidecar/http/): Route and Requeue results from
// the request handler, and queued contacts assigned later (the
// AssignmentListener). A small ring, overwritten oldest first.
//
//   RecentDecisions recent;
//   recent.Record(decision, RecentDecisionKind::kRouted, absl::ZeroDuration());
//   for (const RecentDecision& d : recent.Read()) ... newest first ...
//
// Cost on the decision path: one try-lock and one copy of the decision into a
// slot whose strings and vectors keep their capacity (no allocation once the
// ring has warmed up). A writer never waits: when another thread holds the
// lock (another writer, or a reader copying the ring out) the sample is
// dropped and counted in dropped(). The wall-board shows recent decisions,
// not every one, so a dropped sample costs nothing anyone relies on.
// Thread-safety: every method may be called from any thread.
#ifndef SIDECAR_RECENT_DECISIONS_H_
#define SIDECAR_RECENT_DECISIONS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "absl/time/time.h"
#include "routing/routing_decision.h"

namespace routing::sidecar {

enum class RecentDecisionKind : uint8_t {
  kRouted = 0,     // A RouteContact request.
  kRequeued = 1,   // A RequeueContact request (transfer, RONA).
  kFromQueue = 2,  // A queued contact assigned when capacity freed.
};

// "routed", "requeued", "from_queue".
const char* RecentDecisionKindName(RecentDecisionKind kind);

struct RecentDecision {
  RecentDecisionKind kind = RecentDecisionKind::kRouted;
  RoutingDecision decision;
  // kFromQueue: how long the contact waited for its agent.
  absl::Duration waited;
};

class RecentDecisions {
 public:
  // How many the ring keeps: a wall-board shows a screenful.
  static constexpr int kCapacity = 32;

  void Record(const RoutingDecision& decision, RecentDecisionKind kind,
              absl::Duration waited);
  // Newest first, at most kCapacity.
  std::vector<RecentDecision> Read() const;
  // Samples dropped because the ring was busy, since start.
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  // std::mutex rather than absl::Mutex: ThreadSanitizer sees its ordering
  // (Debian's Abseil is not instrumented). Writers only try_lock it.
  mutable std::mutex mutex_;
  std::array<RecentDecision, kCapacity> ring_;  // Guarded by mutex_.
  uint64_t written_ = 0;                        // Guarded by mutex_.
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace routing::sidecar

#endif  // SIDECAR_RECENT_DECISIONS_H_
