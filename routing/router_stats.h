// File: routing/router_stats.h
//
// Counters and gauges a supervisor dashboard or the sidecar's stats request
// shows. Read with Router::Stats(); counters are since the router was created.
//
//   routing::RouterStats s = router->Stats();
//   for (const routing::QueueStats& q : s.queues)
//     std::cout << q.queue << " waiting " << q.waiting << " SL "
//               << q.service_level << "\n";
#ifndef ROUTING_ROUTER_STATS_H_
#define ROUTING_ROUTER_STATS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "routing/agent.h"
#include "routing/contact_kpis.h"

namespace routing {

// The spans of QueueStats::recent: service level, speed of answer and
// abandonment over the last 5, 15 and 60 minutes, at one-minute resolution
// (the current minute and the whole minutes before it).
inline constexpr int kQueueWindowCount = 3;
inline constexpr int kQueueWindowMinutes[kQueueWindowCount] = {5, 15, 60};

struct QueueWindowStats {
  absl::Duration span;  // 5, 15 or 60 minutes.
  int64_t answered = 0;
  int64_t answered_in_service_level = 0;
  int64_t abandoned = 0;  // Cancelled while queued.
  // answered_in_service_level / (answered + abandoned); 1 when both are 0.
  double service_level = 1.0;
  absl::Duration average_speed_of_answer;  // Zero when none was answered.
  // abandoned / (answered + abandoned); 0 when both are 0.
  double abandonment_rate = 0.0;
};

// Upper bounds, in seconds, of QueueStats::answer_wait_buckets (the last
// bucket, beyond the final bound, is open: +Inf).
inline constexpr int kAnswerWaitBoundCount = 12;
inline constexpr double kAnswerWaitBoundsSeconds[kAnswerWaitBoundCount] = {
    5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600};

struct QueueStats {
  std::string queue;
  int64_t waiting = 0;          // Contacts queued now.
  absl::Duration longest_wait;  // Of those queued now.
  int64_t answered = 0;         // Assigned, immediately or from the queue.
  int64_t answered_in_service_level = 0;
  int64_t abandoned = 0;  // Cancelled while queued.
  // answered_in_service_level / (answered + abandoned); 1 when both are 0.
  double service_level = 1.0;
  absl::Duration average_speed_of_answer;  // Mean wait of answered contacts.
  absl::Duration average_handle_time;  // Recent handle times (moving average).
  // Waits of answered contacts, by kAnswerWaitBoundsSeconds: bucket i counts
  // waits <= bound i and above bound i-1; the last one counts the rest. Not
  // cumulative. total_answer_wait is their sum.
  std::array<int64_t, kAnswerWaitBoundCount + 1> answer_wait_buckets = {};
  absl::Duration total_answer_wait;
  // Over the last 5, 15 and 60 minutes (kQueueWindowMinutes).
  std::array<QueueWindowStats, kQueueWindowCount> recent;
  // Outcomes of the contacts released from this queue.
  ContactKpis kpis;
  // The queue's agents: those holding every skill (at its level) that the
  // latest contact placed in the queue requires, by state; a queue whose
  // contacts required no skill counts every agent. occupancy is the mean of
  // those logged in (0 when none is).
  std::array<int64_t, kAgentStateCount> agents_by_state = {};
  double occupancy = 0.0;
};

struct RouterStats {
  uint64_t policy_version = 0;
  uint64_t rules_version = 0;
  // Decisions the rules failed on (decided by the built-in policy instead).
  int64_t rules_fallbacks = 0;
  // Of which made while the rules were suspended (RoutingRules::Suspended).
  int64_t rules_suspended_decisions = 0;
  int64_t decisions = 0;  // Route and Requeue calls that succeeded.
  int64_t assigned_immediately = 0;
  int64_t queued = 0;
  int64_t assigned_from_queue = 0;
  // Assignments of queued contacts the listener was not told of, because a
  // Cancel, Release or Requeue of the contact came first (routing_decision.h).
  int64_t assignments_untold = 0;
  int64_t cancelled = 0;
  int64_t released = 0;
  // Reservations: assignments made as offers, and how offers ended.
  int64_t offers = 0;
  int64_t offers_accepted = 0;
  int64_t offers_rejected = 0;
  int64_t offers_expired = 0;
  int64_t contacts_held = 0;  // Queued, offered or assigned now.
  int64_t agents = 0;
  std::array<int64_t, kAgentStateCount> agents_by_state = {};
  std::vector<QueueStats> queues;
};

}  // namespace routing

#endif  // ROUTING_ROUTER_STATS_H_
