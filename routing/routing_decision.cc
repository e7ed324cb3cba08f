#include "routing/routing_decision.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace routing {

namespace {

// " rules NAME vN, step S" (or a note that they failed), when rules are in
// force.
std::string RulesNote(const RoutingDecision& d) {
  if (d.rules_version == 0) return "";
  std::string note = absl::StrCat(", rules ", d.rules_name, " v",
                                  d.rules_version, " step ", d.rules_step);
  if (d.rules_suspended) {
    absl::StrAppend(&note, " (suspended by their breaker: built-in policy)");
  } else if (d.rules_fallback) {
    absl::StrAppend(&note, " (failed: built-in policy)");
  }
  return note;
}

}  // namespace

std::string RoutingDecision::Explain() const {
  std::string out;
  if (outcome == DecisionOutcome::kQueued) {
    absl::StrAppend(&out, contact_id, " queued in '", queue, "' at position ",
                    queue_position, ", estimated wait ",
                    absl::FormatDuration(estimated_wait), " (policy ",
                    policy_name, " v", policy_version, RulesNote(*this), ")");
    absl::StrAppend(
        &out, "\n  ", qualified.total,
        qualified.total == 1 ? " agent qualifies: " : " agents qualify: ",
        qualified.at_capacity, " at capacity, ", qualified.unavailable,
        " busy, in wrap-up or on break, ", qualified.logged_out, " logged out");
    return out;
  }
  absl::StrAppendFormat(
      &out, "%s -> agent %s (score %.3f of %d eligible, policy %s v%d%s)",
      contact_id, agent_id, score, eligible_agents, policy_name, policy_version,
      RulesNote(*this));
  if (rules_version != 0 && !rules_fallback && score != builtin_score) {
    absl::StrAppendFormat(&out, "\n  rules set the score; built-in: %.3f",
                          builtin_score);
  }
  for (const ScoreComponent& c : components) {
    absl::StrAppendFormat(&out, "\n  %-9s %.2f x %.3f = %.3f  %s", c.name,
                          c.weight, c.value, c.contribution, c.detail);
  }
  if (!runners_up.empty()) {
    absl::StrAppend(&out, "\n  runners-up:");
    for (const RunnerUp& r : runners_up) {
      absl::StrAppendFormat(&out, " %s %.3f", r.agent_id, r.score);
    }
  }
  return out;
}

}  // namespace routing
