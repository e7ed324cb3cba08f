// File: routing/routing_rules.h
//
// The hook through which operator-written rules take part in decisions. The
// router knows rules only through this interface; rules/ implements it with
// LuaJIT (rules/rules_engine.h), tests implement it in C++.
//
//   std::shared_ptr<const routing::RoutingRules> rules = ...;  // compiled
//   absl::StatusOr<uint64_t> version = router->SetRules(rules);
//
// Where rules act:
//   - Plan(): once when a contact is routed or requeued, and again each time
//     one of its steps falls due (Router::AdvanceQueues): its priority and
//     the requirements of the step it has reached (skills relaxed or replaced,
//     languages dropped, only preferred agents).
//   - Evaluate(): once per decision over every agent that passed the built-in
//     hard filter, and once per (agent, waiting contact) pair when a freed
//     agent looks at the queues: vetoes candidates and may replace the score.
//
// Contract for implementations: every method is called from many threads at
// once and must be thread-safe; none may block for long; a failure never
// throws: Evaluate() returns false (its outputs are then ignored), and the
// router decides that one contact with the built-in policy.
#ifndef ROUTING_ROUTING_RULES_H_
#define ROUTING_ROUTING_RULES_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "routing/agent.h"
#include "routing/channel.h"
#include "routing/contact.h"

namespace routing {

// Name <-> id of the skills and languages the router has interned. Rules refer
// to skills by name; candidates carry ids.
class RulesNames {
 public:
  RulesNames() : identity_(NextIdentity()) {}
  virtual ~RulesNames() = default;
  // Distinct for every RulesNames ever made in the process (ids are per
  // router: rules that cache name -> id must key the cache by this).
  uint64_t identity() const { return identity_; }
  // -1 if the router has never seen the name.
  virtual int SkillId(std::string_view name) const = 0;
  virtual int LanguageId(std::string_view tag) const = 0;

 private:
  static uint64_t NextIdentity() {
    static std::atomic<uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }
  const uint64_t identity_;
};

// The contact of a decision, as rules see it.
struct RulesContact {
  const Contact* contact = nullptr;
  int channel = 0;   // ChannelIndex(contact->channel).
  int priority = 0;  // After Plan().
  double waited_seconds = 0;
  int step = 0;  // The step of the rules' steps list the contact has reached.
};

// One candidate agent: free on the contact's channel and past the built-in
// hard filter. Pointers stay valid for the duration of the call only.
struct RulesCandidate {
  const AgentProfile* profile = nullptr;
  // (skill id, level) and (language id, fluency), sorted by id.
  const std::pair<int, int>* skills = nullptr;
  int skill_count = 0;
  const std::pair<int, int>* languages = nullptr;
  int language_count = 0;
  std::array<int, kChannelCount> load = {};
  std::array<int, kChannelCount> capacity = {};
  int max_total = 0;  // 0: no cap beyond the channels'.
  double occupancy = 0;
  double idle_seconds = 0;
  // The built-in components (skill, affinity, language, load, occupancy,
  // idle; each 0..1) and their weighted total.
  std::array<double, 6> components = {};
  double builtin_score = 0;
  bool served_before = false;    // This customer's history names the agent.
  bool resolved_before = false;  // ...with a resolved outcome.
  bool preferred = false;        // Listed in the contact's preferred agents.

  // Outputs. Evaluate() sets eligible to false to veto the agent, and score
  // to the value the decision ranks by (initially builtin_score).
  bool eligible = true;
  double score = 0;
};

// What the rules want for a contact at the step it has reached.
struct ContactPlan {
  int priority = -1;  // 0..kMaxPriority; -1 keeps the contact's own.
  // Waiting one priority level is worth (aging); zero keeps the policy's
  // priority_step.
  absl::Duration priority_step = absl::ZeroDuration();
  int step = 0;
  // When set, these replace the contact's required skills (overflow to
  // another skill, or levels lowered after a wait).
  bool replace_required_skills = false;
  std::vector<SkillRequirement> required_skills;
  bool drop_languages = false;  // Any language will do from this step on.
  // Only the contact's preferred agents and the agents in the customer's
  // history may take it.
  bool preferred_only = false;
  // How long after its enqueue time the contact reaches its next step;
  // InfiniteDuration() at the last one.
  absl::Duration next_step_after = absl::InfiniteDuration();
};

class RoutingRules {
 public:
  virtual ~RoutingRules() = default;

  // A short label for decisions and logs (e.g. the file name).
  virtual std::string Name() const = 0;

  // The plan for `contact` after it has waited `waited` since its enqueue
  // time. Never fails: a rule error leaves `plan` at its defaults (the
  // contact's own requirements), is counted and reported by the
  // implementation.
  virtual void Plan(const Contact& contact, absl::Duration waited,
                    ContactPlan* plan) const = 0;

  // Vetoes or rescores `candidates` in place. Returns false if the rules
  // failed on this contact; the router then ignores the outputs.
  virtual bool Evaluate(const RulesContact& contact, RulesCandidate* candidates,
                        int count, const RulesNames& names) const = 0;

  // True once these rules are suspended for good (e.g. a circuit breaker
  // tripped by repeated failures): the router then decides without calling
  // Evaluate() and marks the decision rules_suspended. Cheap (one atomic
  // load): asked once per decision.
  virtual bool Suspended() const { return false; }
};

}  // namespace routing

#endif  // ROUTING_ROUTING_RULES_H_
