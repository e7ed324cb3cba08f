// Statistics and the supervisor's views: Stats(), the queues' agents and
// requirements, and the listing of waiting contacts.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "routing/internal/lock_free_router.h"
#include "routing/internal/string_view_compat.h"

namespace routing::internal {

void LockFreeRouter::NoteRequirement(ContactQueue* queue,
                                     const ContactRoute& route) {
  const ContactQueue::Requirement* current =
      queue->requirement.load(std::memory_order_acquire);
  if (current != nullptr && *current == route.required) return;
  auto fresh = std::make_unique<ContactQueue::Requirement>(route.required);
  if (queue->requirement.compare_exchange_strong(current, fresh.get(),
                                                 std::memory_order_acq_rel)) {
    fresh.release();
    // Stats() readers that loaded it are pinned; it goes after them.
    if (current != nullptr) {
      epoch_.Retire(const_cast<ContactQueue::Requirement*>(current));
    }
  }
  // A lost race: another contact set its requirement just now; either one
  // is "the latest".
}

double LockFreeRouter::Occupancy(const AgentSlot& slot, int64_t now_ns) {
  const int64_t login = slot.login_ns.load(std::memory_order_relaxed);
  if (login <= 0 || now_ns <= login) return 0.0;
  return std::min(
      1.0, static_cast<double>(slot.handled_ns.load(std::memory_order_relaxed)) /
               static_cast<double>(now_ns - login));
}

void LockFreeRouter::CountQueueAgents(const ContactQueue& queue,
                                      int64_t now_ns,
                                      QueueStats* stats) const {
  const ContactQueue::Requirement* required =
      queue.requirement.load(std::memory_order_acquire);
  double occupancy_sum = 0;
  int64_t logged_in = 0;
  for (int i = 0; i < agents_.ids().size(); ++i) {
    const AgentSlot& slot = agents_.Slot(i);
    const uint8_t presence =
        AgentWord::Presence(slot.word.load(std::memory_order_acquire));
    if (!OnRoster(presence)) continue;
    const AgentRecord* record = slot.record.load(std::memory_order_acquire);
    if (record == nullptr) continue;
    bool qualified = true;
    if (required != nullptr) {
      for (const auto& [skill, level] : *required) {
        if (record->SkillLevel(skill) < level) {
          qualified = false;
          break;
        }
      }
    }
    if (!qualified) continue;
    ++stats->agents_by_state[presence];
    if (IsLoggedIn(presence)) {
      ++logged_in;
      occupancy_sum += Occupancy(slot, now_ns);
    }
  }
  stats->occupancy = logged_in == 0 ? 0.0 : occupancy_sum / logged_in;
}

RouterStats LockFreeRouter::Stats() const {
  auto guard = epoch_.Pin();
  RouterStats stats;
  stats.policy_version = policy_.load(std::memory_order_acquire)->version;
  const RulesRecord* rules = rules_.load(std::memory_order_acquire);
  stats.rules_version = rules == nullptr ? 0 : rules->version;
  stats.rules_fallbacks = RouterCounters::Read(counters_.rules_fallbacks);
  stats.rules_suspended_decisions =
      RouterCounters::Read(counters_.rules_suspended_decisions);
  stats.decisions = RouterCounters::Read(counters_.decisions);
  stats.assigned_immediately =
      RouterCounters::Read(counters_.assigned_immediately);
  stats.queued = RouterCounters::Read(counters_.queued);
  stats.assigned_from_queue =
      RouterCounters::Read(counters_.assigned_from_queue);
  stats.assignments_untold =
      RouterCounters::Read(counters_.assignments_untold);
  stats.cancelled = RouterCounters::Read(counters_.cancelled);
  stats.released = RouterCounters::Read(counters_.released);
  stats.offers = RouterCounters::Read(counters_.offers);
  stats.offers_accepted = RouterCounters::Read(counters_.offers_accepted);
  stats.offers_rejected = RouterCounters::Read(counters_.offers_rejected);
  stats.offers_expired = RouterCounters::Read(counters_.offers_expired);
  stats.contacts_held = RouterCounters::Read(counters_.contacts_held);
  for (int i = 0; i < agents_.ids().size(); ++i) {
    const uint8_t presence =
        AgentWord::Presence(agents_.Slot(i).word.load(std::memory_order_acquire));
    // Not a slot being added either: its marker is no state (and past the
    // end of agents_by_state).
    if (!OnRoster(presence)) continue;
    ++stats.agents;
    ++stats.agents_by_state[presence];
  }
  const int64_t now_ns = NowNs();
  const RoutingPolicy& policy = policy_.load(std::memory_order_acquire)->policy;
  for (int q = 0; q < queues_.size(); ++q) {
    const ContactQueue* queue = Queue(q);
    if (queue == nullptr) continue;
    QueueStats qs;
    qs.queue = queue->name();
    qs.waiting =
        std::max<int64_t>(0, queue->waiting.load(std::memory_order_acquire));
    int64_t oldest = now_ns;
    // Service order is aged order; the longest wait is the earliest enqueue
    // time, which priorities can put anywhere: look at every contact.
    queue->ForEachLive([&](QueueNode* node) {
      const ContactRoute* route =
          node->contact->route.load(std::memory_order_acquire);
      if (route != nullptr && route->placement == node->placement) {
        oldest = std::min(oldest, route->enqueue_ns);
      }
      return true;
    });
    qs.longest_wait = absl::Nanoseconds(now_ns - oldest);
    qs.answered = queue->answered.load(std::memory_order_relaxed);
    qs.answered_in_service_level =
        queue->answered_in_service_level.load(std::memory_order_relaxed);
    qs.abandoned = queue->abandoned.load(std::memory_order_relaxed);
    const int64_t offered = qs.answered + qs.abandoned;
    qs.service_level =
        offered == 0
            ? 1.0
            : static_cast<double>(qs.answered_in_service_level) / offered;
    const int64_t answer_wait_ms =
        queue->total_answer_wait_ms.load(std::memory_order_relaxed);
    qs.total_answer_wait = absl::Milliseconds(answer_wait_ms);
    qs.average_speed_of_answer = qs.answered == 0
                                     ? absl::ZeroDuration()
                                     : qs.total_answer_wait / qs.answered;
    const int64_t aht =
        queue->average_handle_ns.load(std::memory_order_relaxed);
    qs.average_handle_time =
        aht > 0 ? absl::Nanoseconds(aht) : policy.default_handle_time;
    for (int b = 0; b <= kAnswerWaitBoundCount; ++b) {
      qs.answer_wait_buckets[b] =
          queue->answer_wait_buckets[b].load(std::memory_order_relaxed);
    }
    for (int w = 0; w < kQueueWindowCount; ++w) {
      const QueueMinuteWindow::Totals t =
          queue->recent.Read(now_ns, kQueueWindowMinutes[w]);
      QueueWindowStats& window = qs.recent[w];
      window.span = absl::Minutes(kQueueWindowMinutes[w]);
      window.answered = t.answered;
      window.answered_in_service_level = t.answered_in_service_level;
      window.abandoned = t.abandoned;
      const int64_t window_offered = t.answered + t.abandoned;
      if (window_offered > 0) {
        window.service_level =
            static_cast<double>(t.answered_in_service_level) / window_offered;
        window.abandonment_rate =
            static_cast<double>(t.abandoned) / window_offered;
      }
      if (t.answered > 0) {
        window.average_speed_of_answer =
            absl::Milliseconds(t.answer_wait_ms) / t.answered;
      }
    }
    qs.kpis = queue->kpis.Read();
    CountQueueAgents(*queue, now_ns, &qs);
    stats.queues.push_back(std::move(qs));
  }
  return stats;
}

std::vector<QueuedContact> LockFreeRouter::QueuedContacts(
    std::string_view queue_name, int limit_per_queue) const {
  std::vector<QueuedContact> out;
  if (limit_per_queue <= 0) return out;
  auto guard = epoch_.Pin();
  const int64_t now_ns = NowNs();
  auto list = [&](const ContactQueue* queue) {
    int64_t position = 0;
    queue->ForEachLive([&](QueueNode* node) {
      const ContactRoute* route =
          node->contact->route.load(std::memory_order_acquire);
      if (route == nullptr || route->placement != node->placement) {
        return true;  // Moved on meanwhile: listed where it went, if at all.
      }
      QueuedContact listed;
      listed.contact = route->contact;
      listed.contact.user_data = nullptr;  // The host's, not a supervisor's.
      listed.queue_position = ++position;
      listed.waited =
          absl::Nanoseconds(std::max<int64_t>(0, now_ns - route->enqueue_ns));
      listed.rules_step = route->rules_step;
      out.push_back(std::move(listed));
      return position < limit_per_queue;
    });
  };
  if (!queue_name.empty()) {
    const int id = queues_.Find(queue_name);
    const ContactQueue* queue = id < 0 ? nullptr : Queue(id);
    if (queue != nullptr) list(queue);
    return out;
  }
  for (int q = 0; q < queues_.size(); ++q) {
    const ContactQueue* queue = Queue(q);
    if (queue != nullptr) list(queue);
  }
  return out;
}

}  // namespace routing::internal
