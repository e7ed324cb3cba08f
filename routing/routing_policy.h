// File: routing/routing_policy.h
//
// The built-in scoring policy: how much each component of an agent's score
// weighs, and the time constants behind aging, idle fairness and affinity.
// A policy is data; Router::SetPolicy swaps it in atomically and every decision
// names the policy version that made it.
//
//   routing::RoutingPolicy policy;
//   policy.name = "affinity-first";
//   policy.weights.affinity = 0.5;
//   ROUTING_RETURN_IF_ERROR(routing::ValidatePolicy(policy));
//   absl::StatusOr<uint64_t> version = router->SetPolicy(policy);
#ifndef ROUTING_ROUTING_POLICY_H_
#define ROUTING_ROUTING_POLICY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace routing {

// Every component is normalised to 0..1 before weighting, so a weight is the
// most that component can add to a score; the total is their weighted sum.
struct ScoringWeights {
  double skill = 0.35;      // Proficiency in the required and desired skills.
  double affinity = 0.25;   // Preferred agent, or history with this customer.
  double language = 0.15;   // Fluency in the customer's preferred language.
  double load = 0.10;       // Free share of the agent's capacity right now.
  double occupancy = 0.05;  // 1 - share of logged-in time spent handling.
  double idle = 0.10;       // Time since the agent was last free of all work.
};

struct RoutingPolicy {
  std::string name = "built-in";
  ScoringWeights weights;
  // Aging: one priority level is worth this much waiting. With 30 s, a
  // priority-0 contact that has waited 91 s goes before a priority-3 one that
  // just arrived.
  absl::Duration priority_step = absl::Seconds(30);
  // Idle time at which the idle component saturates at 1.
  absl::Duration idle_saturation = absl::Minutes(5);
  // History affinity halves every this long.
  absl::Duration affinity_half_life = absl::Hours(24 * 7);
  // Affinity of an agent the contact names as preferred, of the agent who last
  // resolved this customer's issue, and of one who served them without
  // resolving.
  double preferred_agent_affinity = 1.0;
  double resolved_affinity = 0.8;
  double served_affinity = 0.5;
  // Handle time assumed for a queue's wait estimate until it has seen releases.
  absl::Duration default_handle_time = absl::Minutes(3);
  // Service-level threshold: a contact answered within it counts as in service
  // level (80/20 means 80% within 20 s).
  absl::Duration service_level_threshold = absl::Seconds(20);
};

// InvalidArgument naming the field if a weight is negative or not finite, all
// weights are zero, an affinity is outside 0..1, or a duration is not positive.
absl::Status ValidatePolicy(const RoutingPolicy& policy);

}  // namespace routing

#endif  // ROUTING_ROUTING_POLICY_H_
