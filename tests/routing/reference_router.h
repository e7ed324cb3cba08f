// File: tests/routing/reference_router.h
//
// A plain, sequential reference model of the routing semantics the Router is
// specified to implement: one thread, ordered containers, no atomics, no
// shared code with routing/internal. router_model_test.cc applies the same
// random operations to it and to routing::Router and compares every answer.
//
//   routing::ManualClock clock;
//   routing::testing::ReferenceRouter model(&clock);
//   model.AddAgent(alice);
//   model.SetAgentState("alice", routing::AgentState::kAvailable);
//   absl::StatusOr<routing::RoutingDecision> d = model.Route(call);
//   for (const auto& [contact, agent] : model.TakeAssignments()) ...
//
// The semantics, in one place (tests/routing/router_model_test.cc repeats the
// operation mixes that exercise each):
//   - Agent index: the order of the first successful AddAgent of an id; a
//     removed and re-added id keeps it. Refused calls intern nothing.
//   - Eligible(agent, contact): available; room on the contact's channel and
//     under max_total_contacts; every required skill at its level; speaks one
//     of the contact's languages (by name, when the decision is made); not
//     excluded (by id, whenever that agent is added); the rules' hook.
//   - Score: the built-in weighted sum of skill, affinity, language, load,
//     occupancy and idle; the highest wins, then the longest idle (busy agents
//     count as idle since now), then the lowest agent index.
//   - Service order: (aged arrival in whole milliseconds, placement sequence),
//     where aged arrival = enqueue time - priority x priority_step and a
//     placement sequence number is taken each time a contact enters a queue.
//   - Drain: an agent that may have room takes, one at a time, the eligible
//     queued contact first in service order across all queues.
//   - Time never goes backwards: the model's now is the highest clock reading
//     it has seen.
//   - Requeue: refused (validation, unknown skill or language, nobody on the
//     roster qualifies and no later rules step) before anything moves; taken
//     from an agent, it waits from now, is planned at that wait, the agent is
//     recorded as kTransferred and drains first, then the contact is routed.
//   - AdvanceQueues: (1) contacts whose next step is due move to it in
//     service order (planned again, placed again, routed); (2) every queued
//     contact in service order takes its best eligible free agent. SetRules
//     does (2) with the new rules.
// Choices where the contract leaves room (each stated again where made):
//   - Codes: malformed input (InvalidArgument) first, for agents and
//     contacts alike, then AlreadyExists for a held contact id, then NotFound
//     for a skill or language the router has never seen. Requeue answers
//     NotFound for a contact not held before looking at the new contact.
//   - A contact's own requirements are validated even when its rules step
//     replaces them (skills) or drops them (languages).
//   - The agent a contact was transferred away from stays excluded while the
//     contact waits, through later rules steps, until it is requeued again.
//   - Setting the state an agent already has changes nothing (no drain).
//   - Preferred agents and languages are matched by id and name when each
//     decision is made.
//
// Floating point: a decision picks the best score; the router computes the
// same formula in its own order of operations. Observe() tells the model what
// the router chose for the operation about to be applied; where the model's
// score for that agent is within kScoreTolerance of its own best it follows
// the router (near_ties_followed() counts those), so the two stay in step.
// Not when the two agents' components are equal: their scores are then equal
// however they are summed, and the tie-break must decide.
#ifndef TESTS_ROUTING_REFERENCE_ROUTER_H_
#define TESTS_ROUTING_REFERENCE_ROUTER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "routing/agent.h"
#include "routing/channel.h"
#include "routing/clock.h"
#include "routing/contact.h"
#include "routing/interaction.h"
#include "routing/routing_decision.h"
#include "routing/routing_policy.h"

namespace routing::testing {

// One step of ReferenceRules, as docs/RULES.md defines a `steps` entry.
struct ReferenceRulesStep {
  double after_seconds = 0;
  bool replace_skills = false;  // `skills = {...}`
  std::vector<SkillRequirement> skills;
  int min_level = 0;            // 0: levels as required.
  bool drop_languages = false;  // `languages = false`
};

// The policy of a rules file, written natively: the model's counterpart of a
// Lua file the router runs. Every hook is optional.
struct ReferenceRules {
  std::string name;
  // `eligible(contact, agent)`: an extra hard filter, given the seconds the
  // contact has waited and the agent's current profile.
  std::function<bool(double waited_seconds, const AgentProfile& agent)>
      eligible;
  // `priority(contact, waited)`: the queue priority from the contact's own
  // and the seconds it has waited; clamped to 0..kMaxPriority.
  std::function<double(int own_priority, double waited_seconds)> priority;
  double priority_step_seconds = 0;  // 0: the policy's.
  std::vector<ReferenceRulesStep> steps;
};

class ReferenceRouter {
 public:
  // A deliberately wrong rule, to show the differential test can fail.
  enum class Mutation {
    kNone,
    kDrainNewestFirst,      // Drains take the last contact in service order.
    kIgnoreMaxTotal,        // Eligibility forgets max_total_contacts.
    kNoLoadScore,           // The load component is left out of scores.
    kNoLanguageRank,        // The language score ignores preference order.
    kHighestIndexWinsTies,  // Equal scores and idle times go to the newest.
  };

  struct Options {
    RoutingPolicy policy;
    int max_skill_level = 5;
    int max_fluency = 5;
    int history_depth = 4;
    Mutation mutation = Mutation::kNone;
  };

  // Model scores this close to the best count as a tie the router may break
  // either way (its sums run in a different order).
  static constexpr double kScoreTolerance = 1e-9;

  enum class HeldState { kQueued, kAssigned };
  struct AgentView {
    AgentState state = AgentState::kLoggedOut;
    std::array<int, kChannelCount> load = {};
    absl::Time idle_since;
    int64_t contacts_handled = 0;
  };
  struct ContactView {
    HeldState state = HeldState::kQueued;
    std::string agent_id;  // kAssigned only.
    std::string queue;
    int rules_step = 0;
  };
  // What the router did in the operation about to be applied: the agent its
  // decision named, and the assignments its listener heard, in order.
  struct Observed {
    std::optional<std::string> decision_agent;
    std::vector<std::pair<std::string, std::string>> assignments;
  };

  explicit ReferenceRouter(const Clock* clock) : ReferenceRouter(clock, {}) {}
  ReferenceRouter(const Clock* clock, Options options);

  // The same calls, errors and status codes as routing::Router.
  absl::Status AddAgent(const AgentProfile& profile);
  absl::Status UpdateAgent(const AgentProfile& profile);
  absl::Status RemoveAgent(std::string_view agent_id);
  absl::Status SetAgentState(std::string_view agent_id, AgentState state);
  absl::StatusOr<RoutingDecision> Route(const Contact& contact);
  absl::Status Cancel(std::string_view contact_id);
  absl::Status Release(std::string_view contact_id, ContactOutcome outcome);
  absl::StatusOr<RoutingDecision> Requeue(const Contact& contact);
  // Null: no rules. Returns the rules version (every call counts, from 1).
  uint64_t SetRules(std::shared_ptr<const ReferenceRules> rules);
  int AdvanceQueues();

  // Assignments of queued contacts since the last call, (contact, agent).
  std::vector<std::pair<std::string, std::string>> TakeAssignments();
  void Observe(Observed observed) { observed_ = std::move(observed); }

  // Queries (they do not read the clock).
  std::vector<std::string> AgentIds() const;  // On the roster, by index.
  std::optional<AgentView> GetAgent(std::string_view agent_id) const;
  std::optional<ContactView> GetContact(std::string_view contact_id) const;
  std::vector<std::string> HeldContacts(HeldState state) const;
  bool HasRules() const { return rules_ != nullptr; }
  int near_ties_followed() const { return near_ties_followed_; }
  // The candidates of the latest choice of an agent, with their scores and
  // components, for mismatch reports.
  const std::string& last_choice() const { return last_choice_; }

 private:
  struct Agent {
    int index = -1;
    bool present = false;
    AgentProfile profile;
    AgentState state = AgentState::kLoggedOut;
    std::array<int, kChannelCount> load = {};
    int64_t idle_since_ns = 0;
    int64_t login_ns = 0;  // 0: not logged in since added.
    int64_t handled_ns = 0;
    int64_t handled_count = 0;

    int TotalLoad() const;
    int Level(std::string_view skill) const;
    int Fluency(std::string_view language) const;
  };

  // A contact as held: what it asked for, and what its current plan made of
  // it (the rules step's requirements, frozen until the next step or
  // requeue).
  struct Held {
    Contact contact;  // Enqueue time and queue resolved.
    int64_t enqueue_ns = 0;
    HeldState state = HeldState::kQueued;
    std::string agent;  // kAssigned.
    int64_t assigned_ns = 0;
    // The plan.
    std::vector<SkillRequirement> required;
    std::vector<std::string> languages;  // Empty once a step drops them.
    std::set<std::string> excluded;
    int priority = 0;
    int64_t priority_step_ns = 0;
    int rules_step = 0;
    bool has_next_step = false;
    int64_t next_step_ns = 0;
    // Service order, while queued.
    int64_t aged_ms = 0;
    uint64_t seq = 0;
  };

  struct Interaction {
    int agent_index;
    ContactOutcome outcome;
    int64_t seconds;  // Kept to the second, as the router's history does.
  };

  int64_t Tick();  // The model's now: the highest clock reading seen.
  static absl::Status CheckProfile(const AgentProfile& profile,
                                   const Options& options);
  absl::Status CheckContact(const Contact& contact, int64_t enqueue_ns) const;
  void Intern(const AgentProfile& profile);
  // Plans `held` (contact and enqueue time set) at its wait by `now`: fills
  // the plan fields. NotFound for a required skill or the languages unknown.
  absl::Status Plan(Held* held, int64_t now) const;
  void Place(Held* held);  // Enters a queue: new sequence, aged arrival.
  bool BuiltInEligible(const Agent& agent, const Held& held) const;
  bool Qualified(const Agent& agent, const Held& held) const;
  bool Eligible(const Agent& agent, const Held& held, int64_t now) const;
  // Skill, affinity, language, load, occupancy, idle; each 0..1.
  using Components = std::array<double, 6>;
  // The built-in weighted sum; `components` and `explain`, if given, get the
  // parts and a readable line.
  double Score(const Agent& agent, const Held& held, int64_t now,
               Components* components = nullptr,
               std::string* explain = nullptr) const;
  // The best eligible free agent for `held`, or null. `hint`: the router's
  // choice, followed when within kScoreTolerance of the best.
  Agent* PickAgent(const Held& held, int64_t now,
                   const std::optional<std::string>& hint);
  // The router's assignment at the position the next one would take.
  std::optional<std::string> ObservedAgentFor(const std::string& contact);
  void Assign(Held* held, Agent* agent, int64_t now, bool report);
  // Ends an assignment: handling time, load, idle time. No drain.
  void EndAssignment(const Held& held, int64_t now);
  void Drain(Agent* agent, int64_t now);
  // Every queued contact in service order takes its best eligible free agent.
  void AssignWaiting(int64_t now);
  std::vector<Held*> QueuedInServiceOrder();
  int QueuePosition(const Held& held) const;
  RoutingDecision Assigned(const Held& held) const;
  RoutingDecision Queued(const Held& held) const;
  Agent* FindPresent(std::string_view id);

  const Clock* clock_;
  const Options options_;
  int64_t now_ns_ = INT64_MIN;
  std::map<std::string, Agent, std::less<>> agents_;  // Every id ever added.
  int next_index_ = 0;
  std::map<std::string, Held, std::less<>> held_;
  std::set<std::string, std::less<>> known_skills_;
  std::set<std::string, std::less<>> known_languages_;
  std::map<std::string, std::vector<Interaction>> history_;  // Newest first.
  std::shared_ptr<const ReferenceRules> rules_;
  uint64_t rules_versions_ = 0;
  uint64_t next_seq_ = 0;
  std::vector<std::pair<std::string, std::string>> assignments_;
  Observed observed_;
  int near_ties_followed_ = 0;
  std::string last_choice_;
};

}  // namespace routing::testing

#endif  // TESTS_ROUTING_REFERENCE_ROUTER_H_
