// File: routing/routing_decision.h
//
// What the router answers: the agent chosen with the score broken down into the
// components a supervisor can read ("why this agent"), or the queue the contact
// now waits in with its position and estimated wait. Later assignments of
// queued contacts reach the AssignmentListener as an Assignment.
//
//   absl::StatusOr<routing::RoutingDecision> d = router->Route(call);
//   if (d.ok()) std::cout << d->Explain() << "\n";
//   // call-8841 -> agent maria (score 0.873, policy built-in v1)
//   //   skill     0.35 x 1.000 = 0.350  billing 5/5 (needs 3)
//   //   affinity  0.25 x 0.800 = 0.200  resolved this customer's last contact
//   2d ago
//   //   ...
#ifndef ROUTING_ROUTING_DECISION_H_
#define ROUTING_ROUTING_DECISION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "routing/agent.h"
#include "routing/channel.h"

namespace routing {

// One term of an agent's score: value (0..1) times the policy's weight.
struct ScoreComponent {
  std::string
      name;  // "skill", "affinity", "language", "load", "occupancy", "idle".
  double value = 0;         // Normalised 0..1.
  double weight = 0;        // From the policy in force.
  double contribution = 0;  // weight * value.
  std::string detail;  // Human-readable reason, e.g. "billing 5/5 (needs 3)".
};

enum class DecisionOutcome : uint8_t {
  kAssigned = 0,  // agent_id holds the contact now.
  kQueued = 1,    // No eligible agent was free; the contact waits in `queue`.
};

struct RoutingDecision {
  std::string contact_id;
  DecisionOutcome outcome = DecisionOutcome::kQueued;
  std::string queue;
  Channel channel = Channel::kVoice;

  // kAssigned only.
  std::string agent_id;
  double score = 0;
  std::vector<ScoreComponent> components;
  int eligible_agents = 0;  // Free agents that passed every hard filter.
  // The next best free agents the same scan ranked (up to three), best
  // first, with the score each had: an audit's "why not them". Empty when
  // the contact was assigned by an agent freeing up (the agent chose among
  // waiting contacts, not among agents).
  struct RunnerUp {
    std::string agent_id;
    double score = 0;
  };
  std::vector<RunnerUp> runners_up;

  // kQueued only.
  int queue_position = 0;  // 1 = next to be served in its queue.
  absl::Duration estimated_wait;
  // Why it waits: the agents on the roster qualified for the contact (required
  // skills, a language, the channel, not excluded) and where they were when
  // it was queued. A supervisor reads "3 qualified, all at capacity" as a
  // staffing problem and "3 qualified, 3 logged out" as a scheduling one.
  struct QualifiedAgents {
    int total = 0;
    int at_capacity = 0;  // Available, but no room left on the channel.
    int unavailable = 0;  // Busy, in after-call work or on a break.
    int logged_out = 0;
  };
  QualifiedAgents qualified;

  // The policy that made the decision.
  uint64_t policy_version = 0;
  std::string policy_name;
  // The rules in force (0: none), and whether they failed on this contact so
  // the built-in policy decided alone. With rules, `score` is the rules'
  // score and `builtin_score` the built-in one the components add up to.
  uint64_t rules_version = 0;
  std::string rules_name;
  bool rules_fallback = false;
  // The rules in force are suspended (their circuit breaker tripped): the
  // built-in policy decided without entering them. Implies rules_fallback.
  // Also set on the decision whose rules failure tripped the breaker, and on
  // one that entered the rules just before another thread's failure did.
  bool rules_suspended = false;
  double builtin_score = 0;
  int rules_step = 0;  // The rules step the contact had reached.
  absl::Time decided_at;
  // Names this routing attempt of the contact: set by Route and by each
  // Requeue (rules steps keep it), unique in the process, never 0. A queued
  // decision's token comes back in the contact's later Assignment, so a host
  // tells an assignment of this attempt from one of an earlier contact that
  // had the same id.
  uint64_t token = 0;
  // The contact's Contact::user_data (kept by a Requeue that gave none).
  void* user_data = nullptr;
  // kAssigned only: the assignment is an offer (RouterOptions::offer_timeout
  // of the channel above zero). The agent holds the contact (its capacity is
  // taken) but must accept it (Router::AcceptOffer) before offer_expires_at;
  // rejected or lapsed, the contact returns to its queue.
  bool offered = false;
  absl::Time offer_expires_at;
  // The contact's placement: 0 for its first, raised each time it is placed
  // again (Requeue, a rules step, a rejected or lapsed offer). What happens
  // to one contact is ordered by (placement, then queued < offered <
  // assigned < ended).
  uint64_t placement = 0;

  // A few lines a supervisor can read: the outcome, then one line a component.
  std::string Explain() const;
};

// A queued contact assigned later, when capacity freed up.
struct Assignment {
  std::string contact_id;
  std::string customer_id;
  std::string agent_id;
  std::string queue;
  Channel channel = Channel::kVoice;
  absl::Duration waited;  // From enqueue time to assignment.
  absl::flat_hash_map<std::string, std::string>
      attributes;  // The contact's context.
  RoutingDecision
      decision;  // Score and explanation, as for an immediate assignment.
  uint64_t token = 0;         // decision.token: the attempt assigned.
  void* user_data = nullptr;  // The contact's Contact::user_data.
  uint64_t placement = 0;     // decision.placement.
};

// An offer not accepted before its deadline (Router::AdvanceQueues). The
// contact is back in its queue, in the place it had; `agent_state` is the
// agent's state now (RouterOptions::missed_offer_state if it was available).
struct ExpiredOffer {
  std::string contact_id;
  std::string customer_id;
  std::string agent_id;
  std::string queue;
  Channel channel = Channel::kVoice;
  uint64_t placement = 0;  // Of the offer that lapsed.
  AgentState agent_state = AgentState::kAvailable;
  void* user_data = nullptr;
};

// Receives assignments of queued contacts. Called on the thread whose call
// freed the capacity (Release, SetAgentState, AddAgent, ...), after the
// assignment is committed, outside every internal critical section (no lock,
// no epoch pin: a slow listener delays its own thread only). Must be
// thread-safe and quick: hand the work to your own thread or queue if it is
// slow. It may call back into the router:
//   - calls made from inside OnAssigned never wait, and the assignments they
//     cause are told after the current OnAssigned returns, on the same thread
//     and in order (not nested: the stack stays flat however many contacts
//     a chain of releases assigns);
//   - once Cancel, Release or Requeue of a contact has returned OK, no
//     OnAssigned for that contact starts, and one that had started has
//     returned (the call waits for it). Called from inside an OnAssigned,
//     they do not wait: an OnAssigned for that contact running on another
//     thread may still be running. So never call them while holding a lock
//     your listener takes.
// Offers (RouterOptions::offer_timeout): an assignment that is an offer
// reaches OnAssigned like any other (decision.offered). An offer that lapses
// reaches OnOfferExpired, on the thread calling AdvanceQueues, before any
// new offer of the same contact.
class AssignmentListener {
 public:
  virtual ~AssignmentListener() = default;
  virtual void OnAssigned(const Assignment& assignment) = 0;
  virtual void OnOfferExpired(const ExpiredOffer& offer) { (void)offer; }
};

}  // namespace routing

#endif  // ROUTING_ROUTING_DECISION_H_
