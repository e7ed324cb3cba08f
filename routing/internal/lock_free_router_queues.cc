// Queues over time: rules steps falling due (AdvanceQueues), vetoes that lift
// as a contact waits, and the wait estimate. Every move acts on the exact
// queued placement it looked at: it wins that placement's CAS into kRouting,
// or leaves the contact alone.
#include <algorithm>
#include <utility>
#include <vector>

#include "routing/internal/lock_free_router.h"

namespace routing::internal {

namespace {

// A step whose move failed (its requirements cannot be compiled now, e.g. a
// skill nobody has any more) is tried again this much later, so it is never
// stranded and never retried on every call.
constexpr int64_t kStepRetryNs = 1'000'000'000;

}  // namespace

template <typename Pick>
std::vector<QueueNode*> LockFreeRouter::CollectQueued(Pick&& pick) const {
  std::vector<QueueNode*> picked;
  const int queue_count = queues_.size();
  for (int q = 0; q < queue_count; ++q) {
    ContactQueue* queue = Queue(q);
    if (queue == nullptr ||
        queue->waiting.load(std::memory_order_seq_cst) <= 0) {
      continue;
    }
    queue->ForEachLive([&](QueueNode* node) {
      const ContactRoute* route =
          node->contact->route.load(std::memory_order_acquire);
      if (route != nullptr && route->placement == node->placement &&
          pick(*route)) {
        picked.push_back(node);
      }
      return true;
    });
  }
  // One service order across queues: whoever would be served first moves
  // first.
  std::sort(picked.begin(), picked.end(),
            [](const QueueNode* a, const QueueNode* b) {
              return a->ServedBefore(*b);
            });
  return picked;
}

std::vector<QueueNode*> LockFreeRouter::CollectStepsDue(int64_t now_ns) {
  // Reset the bound first: a contact queued while we look lowers it again,
  // and every contact we pass over folds its own due time back.
  next_step_due_ns_.store(INT64_MAX, std::memory_order_relaxed);
  const int64_t now_ms = FloorMilliseconds(now_ns);
  std::vector<QueueNode*> due;
  // In due order, up to the first millisecond still ahead: the cost is the
  // contacts due (and those whose failed move waits for its retry), not the
  // contacts waiting.
  step_schedule_.ForEachLive([&](QueueNode* step) {
    if (step->aged_ms > now_ms) {
      FoldStepDue(step->aged_ms * 1'000'000);
      return false;
    }
    ContactRecord* record = step->contact;
    const ContactRoute* route = record->route.load(std::memory_order_acquire);
    if (route->placement != step->placement) return true;  // Moved on.
    const int64_t retry = route->step_retry_ns.load(std::memory_order_relaxed);
    if (route->next_step_ns > now_ns || retry > now_ns) {
      FoldStepDue(std::max(route->next_step_ns, retry));
      return true;
    }
    // The step node was live when the walk read it, so the queue node read
    // now is this placement's or a later one's, neither freed while we are
    // pinned.
    QueueNode* node = record->queued_node.load(std::memory_order_acquire);
    if (node->placement == step->placement) due.push_back(node);
    return true;
  });
  // One service order across queues: whoever would be served first moves
  // first.
  std::sort(due.begin(), due.end(),
            [](const QueueNode* a, const QueueNode* b) {
              return a->ServedBefore(*b);
            });
  return due;
}

bool LockFreeRouter::MoveToNextStep(QueueNode* node,
                                    const DecisionBasis& basis, int64_t now_ns,
                                    Notices* notices) {
  ContactRecord* record = node->contact;
  if (!TryRef(record)) return false;
  ContactRef held(this, record);

  uint64_t word = ContactRecord::Pack(ContactState::kQueued, -1,
                                      node->placement);
  if (record->Word() != word) return false;  // Moved on; its mover planned it.
  const ContactRoute* current = record->route.load(std::memory_order_acquire);
  if (current->placement != node->placement) return false;
  // Planned again from the contact as given, with its original enqueue time:
  // the rules see how long it has waited and name the step it has reached.
  absl::StatusOr<std::unique_ptr<ContactRoute>> compiled =
      CompileRoute(current->contact, basis, now_ns);
  if (!compiled.ok() || !AcceptQueue(compiled->get()).ok()) {
    current->step_retry_ns.store(now_ns + kStepRetryNs,
                                 std::memory_order_relaxed);
    FoldStepDue(now_ns + kStepRetryNs);
    return false;
  }
  std::unique_ptr<ContactRoute> route = *std::move(compiled);
  route->placement = node->placement + 1;
  route->token = current->token;  // The same attempt, one step on.
  if (!record->Transition(word, ContactRecord::Pack(ContactState::kRouting, -1,
                                                    route->placement))) {
    return false;  // Assigned, cancelled or requeued meanwhile.
  }
  LeaveQueue(*current, node);
  const uint64_t placement = route->placement;
  record->route.store(route.release(), std::memory_order_release);
  RetireRoute(record, current);
  absl::StatusOr<RoutingDecision> decision =
      Place(record, placement, basis, now_ns, /*refuse_unservable=*/false,
            notices);
  if (decision.ok() && decision->outcome == DecisionOutcome::kAssigned &&
      listener_ != nullptr) {
    const ContactRoute* placed = record->route.load(std::memory_order_acquire);
    Announce(record, placement, *placed, *std::move(decision), now_ns,
             notices);
  }
  return true;
}

int LockFreeRouter::AdvanceQueues(std::vector<std::string>* moved_contacts) {
  const int64_t now_ns = NowNs();
  Notices notices;
  int moved = 0;
  {
    auto guard = epoch_.Pin();
    // Lapsed offers first: the contacts they return join the queues before
    // the steps and vetoes below look at them.
    moved += ExpireOffers(&notices);
    if (now_ns >= next_step_due_ns_.load(std::memory_order_relaxed)) {
      const std::vector<QueueNode*> due = CollectStepsDue(now_ns);
      const DecisionBasis basis = LoadBasis();
      for (QueueNode* node : due) {
        if (!MoveToNextStep(node, basis, now_ns, &notices)) continue;
        ++moved;
        // The record is pinned with the epoch; its id never changes.
        if (moved_contacts != nullptr) {
          moved_contacts->push_back(node->contact->id());
        }
      }
    }
    // Rules that keep a waiting contact from a free agent may depend on the
    // wait: look again at every contact some rule vetoed.
    ReconsiderVetoed(now_ns, &notices);
  }
  Deliver(notices);
  return moved;
}

void LockFreeRouter::ReconsiderVetoed(int64_t now_ns, Notices* notices) {
  const int64_t vetoes = vetoes_.load(std::memory_order_seq_cst);
  if (vetoes == 0) return;  // Nothing vetoed since the last look: free.
  auto guard = epoch_.Pin();
  const std::vector<QueueNode*> vetoed =
      CollectQueued([](const ContactRoute& route) {
        return route.rules_vetoed.load(std::memory_order_relaxed);
      });
  if (vetoed.empty()) {
    // None waits any more. A veto noted since we loaded the count raised it,
    // so this CAS fails and the next call looks again.
    int64_t expected = vetoes;
    vetoes_.compare_exchange_strong(expected, 0, std::memory_order_seq_cst);
    return;
  }
  const DecisionBasis basis = LoadBasis();
  for (QueueNode* node : vetoed) {
    ContactRecord* record = node->contact;
    if (record->Word() !=
        ContactRecord::Pack(ContactState::kQueued, -1, node->placement)) {
      continue;
    }
    const ContactRoute* route = record->route.load(std::memory_order_acquire);
    if (route->placement != node->placement) continue;
    AssignQueued(node, *route, basis, now_ns, notices);
  }
}

bool LockFreeRouter::AssignQueued(QueueNode* node, const ContactRoute& route,
                                  const DecisionBasis& basis, int64_t now_ns,
                                  Notices* notices) {
  const uint64_t queued =
      ContactRecord::Pack(ContactState::kQueued, -1, node->placement);
  RoutingDecision decision;
  switch (TryAssign(node->contact, route, basis, now_ns, queued, &decision,
                    notices)) {
    case AssignResult::kAssigned:
      break;
    case AssignResult::kTakenAfterAssigned:
      LeaveQueue(route, node);  // We moved it out of kQueued.
      return false;
    case AssignResult::kContactTaken:
    case AssignResult::kNoAgent:
      return false;
  }
  LeaveQueue(route, node);
  counters_.Add(counters_.assigned_from_queue);
  if (!decision.offered) CountAnswered(route, now_ns);
  if (listener_ != nullptr) {
    Announce(node->contact, node->placement, route, std::move(decision),
             now_ns, notices);
  }
  return true;
}

absl::Duration LockFreeRouter::EstimatedWait(const ContactQueue& queue,
                                             int64_t position, int staffed,
                                             const RoutingPolicy& policy) const {
  // Erlang-free first-order estimate: the `staffed` agents who could serve
  // the contact finish one contact every AHT / staffed on average; the
  // contact waits for `position` of those completions.
  const int64_t aht = queue.average_handle_ns.load(std::memory_order_relaxed);
  const absl::Duration handle =
      aht > 0 ? absl::Nanoseconds(aht) : policy.default_handle_time;
  return absl::Trunc(handle * static_cast<double>(position) /
                         std::max(1, staffed),
                     absl::Seconds(1));
}

}  // namespace routing::internal
