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

namespace routing {

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
  int64_t contacts_held = 0;  // Queued or assigned now.
  int64_t agents = 0;
  std::array<int64_t, kAgentStateCount> agents_by_state = {};
  std::vector<QueueStats> queues;
};

}  // namespace routing

#endif  // ROUTING_ROUTER_STATS_H_
