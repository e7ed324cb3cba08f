#include "routing/routing_decision.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace routing {

std::string RoutingDecision::Explain() const {
  std::string out;
  if (outcome == DecisionOutcome::kQueued) {
    absl::StrAppend(&out, contact_id, " queued in '", queue, "' at position ",
                    queue_position, ", estimated wait ",
                    absl::FormatDuration(estimated_wait), " (policy ",
                    policy_name, " v", policy_version, ")");
    absl::StrAppend(
        &out, "\n  ", qualified.total,
        qualified.total == 1 ? " agent qualifies: " : " agents qualify: ",
        qualified.at_capacity, " at capacity, ", qualified.unavailable,
        " busy, in wrap-up or on break, ", qualified.logged_out, " logged out");
    return out;
  }
  absl::StrAppendFormat(
      &out, "%s -> agent %s (score %.3f of %d eligible, policy %s v%d)",
      contact_id, agent_id, score, eligible_agents, policy_name,
      policy_version);
  for (const ScoreComponent& c : components) {
    absl::StrAppendFormat(&out, "\n  %-9s %.2f x %.3f = %.3f  %s", c.name,
                          c.weight, c.value, c.contribution, c.detail);
  }
  return out;
}

}  // namespace routing
