#include "sidecar/recent_decisions.h"

namespace routing::sidecar {

const char* RecentDecisionKindName(RecentDecisionKind kind) {
  switch (kind) {
    case RecentDecisionKind::kRouted:
      return "routed";
    case RecentDecisionKind::kRequeued:
      return "requeued";
    case RecentDecisionKind::kFromQueue:
      return "from_queue";
  }
  return "routed";
}

void RecentDecisions::Record(const RoutingDecision& decision,
                             RecentDecisionKind kind, absl::Duration waited) {
  std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  RecentDecision& slot = ring_[written_ % kCapacity];
  slot.kind = kind;
  slot.decision = decision;  // Reuses the slot's string and vector capacity.
  slot.waited = waited;
  ++written_;
}

std::vector<RecentDecision> RecentDecisions::Read() const {
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t count = written_ < kCapacity ? written_ : kCapacity;
  std::vector<RecentDecision> out;
  out.reserve(count);
  for (uint64_t i = 1; i <= count; ++i) {
    out.push_back(ring_[(written_ - i) % kCapacity]);
  }
  return out;
}

}  // namespace routing::sidecar
