// File: routing/router.h
//
// The routing decision engine, in-process. Telephony platforms and the sidecar
// hold one Router; every method may be called from any number of threads at
// once, and none takes a lock: decisions and state updates run on the caller's
// thread and meet only through atomic operations (see docs/ARCHITECTURE.md).
//
//   routing::ManualClock clock;              // or SystemClock::Default()
//   routing::RouterOptions options;
//   options.clock = &clock;
//   options.listener = &my_listener;         // hears queued contacts assigned
//   later auto router = routing::Router::Create(options).value();
//
//   router->AddAgent(alice);
//   router->SetAgentState("alice", routing::AgentState::kAvailable);
//   absl::StatusOr<routing::RoutingDecision> d = router->Route(call);
//   ...                                        // the agent talks to the
//   customer router->Release("call-8841", routing::ContactOutcome::kResolved);
//
// Guarantees, under any interleaving of calls:
//   - an agent is never assigned a contact on a channel where it already holds
//     its capacity, nor beyond max_total_contacts;
//   - a contact is assigned to at most one agent at a time, and never lost: it
//     is held (queued or assigned) until Cancel, Release or Requeue;
//   - a queued contact is assigned as soon as some call frees capacity of an
//     agent eligible for it; among the contacts an agent is eligible for, the
//     one first in service order goes first, across every queue the agent
//     can serve;
//   - service order is aged arrival (enqueue time minus priority x
//     priority_step, saturated) in whole milliseconds, then placement order
//     (contacts of the same millisecond in the order they were placed in a
//     queue by Route, Requeue or a rules step); queue_position counts the
//     contacts of the same queue ahead in that order, so position 1 is the
//     next one its queue serves;
//   - a contact is one record from Route until Cancel or Release: Cancel
//     finds it while a Requeue or a rules step moves it, and wins or loses
//     against that move as a whole.
// Errors never change state: a call that returns an error did nothing.
// Listener callbacks run on the calling thread after the call has done its
// work, outside every internal critical section.
#ifndef ROUTING_ROUTER_H_
#define ROUTING_ROUTER_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "routing/agent.h"
#include "routing/channel.h"
#include "routing/clock.h"
#include "routing/contact.h"
#include "routing/contact_kpis.h"
#include "routing/interaction.h"
#include "routing/routing_decision.h"
#include "routing/routing_policy.h"
#include "routing/routing_rules.h"
#include "routing/router_state.h"
#include "routing/router_stats.h"

namespace routing {

struct RouterOptions {
  // Where time comes from. Not owned; must outlive the router. Null:
  // SystemClock.
  const Clock* clock = nullptr;
  // Hears assignments of queued contacts. Not owned; may be null.
  AssignmentListener* listener = nullptr;
  // The policy in force at start (version 1).
  RoutingPolicy policy;
  // Fixed sizes, allocated up front so no decision ever allocates index memory
  // or waits for a resize. Exceeding one is a ResourceExhausted error.
  int max_agents = 100'000;    // Distinct agent ids ever added (<= 1,048,576).
  int max_skills = 1'024;      // Distinct skill names.
  int max_languages = 256;     // Distinct language tags.
  int max_queues = 1'024;      // Distinct queue names.
  int max_contacts = 1 << 20;  // Contacts held at once (queued or assigned).
  int history_customers = 1 << 20;  // Customers whose history is remembered.
  int history_depth = 4;    // Interactions remembered per customer (1..8).
  int max_skill_level = 5;  // Skill levels run 1..max_skill_level.
  int max_fluency = 5;      // Language fluency runs 1..max_fluency.
  // First-contact resolution (contact_kpis.h): a resolved contact is a first
  // contact when its customer had no earlier contact in the same queue that
  // arrived within this long before it. 0 < fcr_window <= 365 days.
  absl::Duration fcr_window = absl::Hours(24 * 7);
  // Reservations, per channel (indexed by Channel): with a timeout above
  // zero, every assignment on that channel is first an offer. The agent's
  // capacity is held for the contact, and the host accepts the offer
  // (AcceptOffer: the contact is assigned) or rejects it (RejectOffer). A
  // rejected offer, or one not accepted within the timeout (noticed by
  // AdvanceQueues), returns the contact to its queue in the place it had
  // (its enqueue time and priority, so its aged arrival: ahead of every
  // contact that arrived a millisecond or more after it; behind those of
  // its own millisecond), never to be offered to that agent again, and puts the agent, if it is still available, in
  // missed_offer_state (kAvailable: left as it is). Zero: assignments are
  // final at once, as without reservations. 0 <= timeout <= 1 hour.
  std::array<absl::Duration, kChannelCount> offer_timeout = {};
  AgentState missed_offer_state = AgentState::kBreak;
  // The rules version the first SetRules call gets, less one: versions
  // count on from here. A restarted host passes the version its
  // predecessor had in force minus one, so that reloading those rules puts
  // the same version back and decisions keep naming it.
  uint64_t rules_versions_before = 0;
};

// A contact as the router holds it now.
struct ContactStatus {
  enum class State : uint8_t { kQueued, kAssigned, kOffered };
  Contact contact;
  State state = State::kQueued;
  std::string agent_id;    // kAssigned and kOffered.
  absl::Time assigned_at;  // kAssigned: accepted at; kOffered: offered at.
  absl::Time offer_expires_at;  // kOffered only.
  uint64_t placement = 0;       // RoutingDecision::placement.
  // kQueued only: 1 + the contacts of the same queue ahead of it in service
  // order, and the rules step it has reached (0: the first plan).
  int64_t queue_position = 0;
  int rules_step = 0;
};

// One waiting contact, as Router::QueuedContacts lists it.
struct QueuedContact {
  Contact contact;          // enqueue_time and queue resolved.
  int64_t queue_position = 0;  // 1 = next its queue serves.
  absl::Duration waited;    // Now minus contact.enqueue_time.
  int rules_step = 0;       // Rules step reached (0: the first plan).
};

class Router {
 public:
  // InvalidArgument if an option is out of range or the policy is invalid.
  static absl::StatusOr<std::unique_ptr<Router>> Create(
      const RouterOptions& options);

  virtual ~Router() = default;

  // --- Agents ---------------------------------------------------------------
  // Adds an agent, logged out. AlreadyExists if the id is present;
  // InvalidArgument for an empty id, a level, fluency or capacity out of range,
  // no capacity at all, or a skill or language listed twice.
  virtual absl::Status AddAgent(const AgentProfile& profile) = 0;
  // Replaces the agent's profile (skills, languages, capacity, team...). The
  // agent keeps its state and load; lower capacity takes effect for new
  // assignments only. NotFound if absent. Raised capacity may assign queued
  // contacts at once.
  virtual absl::Status UpdateAgent(const AgentProfile& profile) = 0;
  // Removes an agent. FailedPrecondition while the agent holds contacts.
  virtual absl::Status RemoveAgent(std::string_view agent_id) = 0;
  // Sets presence. Becoming kAvailable may assign queued contacts at once (to
  // the listener) before this returns. Contacts already held stay assigned.
  virtual absl::Status SetAgentState(std::string_view agent_id,
                                     AgentState state) = 0;
  virtual absl::StatusOr<AgentStatus> GetAgent(
      std::string_view agent_id) const = 0;
  virtual std::vector<std::string> AgentIds() const = 0;

  // --- Contacts -------------------------------------------------------------
  // Decides for a new contact: the best eligible free agent (assigned now), or
  // a place in its queue. Refusals, in the order they are checked:
  // InvalidArgument for a malformed contact (its own fields are checked even
  // where a rules step replaces them); NotFound if a required skill or every
  // language is unknown to the router; AlreadyExists if a contact with that
  // id is held; ResourceExhausted when max_contacts are held;
  // FailedPrecondition if no agent on the roster could ever serve it (so it
  // would wait forever).
  virtual absl::StatusOr<RoutingDecision> Route(const Contact& contact) = 0;
  // The customer left (hung up, closed the chat). A queued contact leaves its
  // queue; an assigned one frees the agent. NotFound if not held.
  virtual absl::Status Cancel(std::string_view contact_id) = 0;
  // The agent finished: frees the capacity and records the interaction in the
  // customer's history. FailedPrecondition if the contact is still queued.
  // With the post-contact survey's answers (contact_kpis.h), counted in the
  // queue's and the agent's KPIs: InvalidArgument, changing nothing, for a
  // CSAT outside 1..5 or an NPS outside 0..10.
  virtual absl::Status Release(std::string_view contact_id,
                               ContactOutcome outcome,
                               const ContactSurvey& survey) = 0;
  absl::Status Release(std::string_view contact_id, ContactOutcome outcome) {
    return Release(contact_id, outcome, ContactSurvey{});
  }
  // Transfer: takes the contact from its agent (or its queue) and routes it
  // again with new requirements, keeping its id and customer (and attributes,
  // if the new contact has none). A contact moved between queues keeps its
  // original enqueue time; one taken from an agent starts waiting now. The
  // previous agent is recorded in the customer's history as kTransferred and
  // excluded from this routing. Also the answer to an agent who does not pick
  // up an offered contact (RONA): requeue it and set that agent's state.
  // Refusals (InvalidArgument, NotFound, FailedPrecondition when nobody but
  // the previous agent could serve the new requirements, ResourceExhausted)
  // leave the contact where it was; Aborted while another call is routing
  // the same contact (try again).
  virtual absl::StatusOr<RoutingDecision> Requeue(const Contact& contact) = 0;
  // Reservations (RouterOptions::offer_timeout). The agent accepts the offer
  // of the contact: it is assigned from now (handle time counts from here,
  // and so does the queue's answered count). With a non-empty agent_id, the
  // offer must be to that agent. FailedPrecondition if the contact is not
  // offered (queued, already accepted, or offered to another agent);
  // NotFound if it is not held; nothing changes on a refusal.
  virtual absl::Status AcceptOffer(std::string_view contact_id,
                                   std::string_view agent_id) = 0;
  // The agent turns the offer down: the contact returns to its queue in the
  // place it had (it may be offered to another free agent at once: the
  // returned decision says which), excluded from that agent; the agent goes
  // to missed_offer_state if it is still available. Refusals as AcceptOffer.
  virtual absl::StatusOr<RoutingDecision> RejectOffer(
      std::string_view contact_id, std::string_view agent_id) = 0;
  virtual absl::StatusOr<ContactStatus> GetContact(
      std::string_view contact_id) const = 0;
  // The contacts waiting in `queue` (every queue when empty), each queue's in
  // service order, at most `limit_per_queue` of each (the first ones). A
  // snapshot for supervisors, not a transaction: contacts arriving or leaving
  // meanwhile may or may not be listed, and positions are counted as the
  // walk goes. Cost: a walk of the listed queues. An unknown queue: empty.
  virtual std::vector<QueuedContact> QueuedContacts(
      std::string_view queue, int limit_per_queue = 1'000) const = 0;

  // --- Policy, history, statistics -------------------------------------------
  // Swaps the scoring policy atomically; returns the new version. Decisions in
  // flight finish on the policy they started with.
  virtual absl::StatusOr<uint64_t> SetPolicy(const RoutingPolicy& policy) = 0;
  virtual uint64_t PolicyVersion() const = 0;
  // Puts operator rules in force for decisions that start from now on (null:
  // the built-in policy alone); returns the new rules version, counting every
  // SetRules call from 1. Decisions in flight finish with the rules they
  // started with; every decision names the rules version that made it.
  // Contacts already queued keep the plan they were queued with until their
  // next step falls due or they are requeued; queued contacts some rule kept
  // from a free agent are tried again at once under the new rules.
  virtual uint64_t SetRules(std::shared_ptr<const RoutingRules> rules) = 0;
  virtual uint64_t RulesVersion() const = 0;  // 0 until the first SetRules.
  // Moves every queued contact whose next rules step has fallen due on to
  // that step (relaxed requirements may let a free agent take it at once, in
  // which case the listener hears of it), in service order. Then tries again
  // every queued contact a rule kept from a free agent (a veto that depends
  // on the wait, `c.waited >= 30`, lifts here). The router runs no timers:
  // hosts call this periodically (every 100 ms to 1 s). Returns the number of
  // contacts moved on. Cost: one load when no step is due and no rule vetoed
  // anyone since the last look. Due steps are found in a schedule ordered by
  // due time (the steps due, not the contacts waiting); while some vetoed
  // contact waits, one walk of the queued contacts. Plus one decision per
  // moved or vetoed contact. Lapsed offers count as moved.
  // It also ends every offer whose timeout has passed, first, as
  // RejectOffer would (the listener hears OnOfferExpired, then OnAssigned
  // if the contact is offered to another agent at once): hosts with
  // reservations call it at least as often as they want offers to lapse on
  // time. Cost: a walk of the offers outstanding.
  virtual int AdvanceQueues() = 0;
  // As AdvanceQueues, and appends to `moved_contacts` (when not null) the id
  // of every contact it moved on to a rules step (lapsed offers are heard by
  // the listener). For a host that records what each call changed.
  virtual int AdvanceQueues(std::vector<std::string>* moved_contacts) = 0;
  // The customer's remembered interactions, most recent first.
  virtual std::vector<CustomerInteraction> CustomerHistory(
      std::string_view customer_id) const = 0;
  virtual RouterStats Stats() const = 0;

  // --- State, for snapshots and restarts (router_state.h) ------------------
  // The router's state. Exact when no other call runs meanwhile (a host
  // taking a snapshot holds its traffic back first); under concurrent calls
  // an agent or contact being changed is listed before or after the change,
  // and a contact in the middle of a decision may be missing. Cost: a walk
  // of the roster, the contact table and the history store.
  virtual RouterState ExportState() const = 0;
  // Loads `state` into this router, which must hold no agent and no contact
  // yet (FailedPrecondition otherwise) and have the policy and the rules the
  // state was exported under: a queued contact's plan (rules step,
  // priority, requirements) is recomputed as of its planned_at. All or
  // nothing: InvalidArgument naming the first problem (an agent or contact
  // listed twice, a contact's agent missing from the roster or over its
  // capacity, a malformed profile or contact) and nothing is loaded.
  // Queued contacts join their queues in the order listed. Then each agent
  // takes its presence, and an available agent with room takes waiting
  // contacts it qualifies for, as SetAgentState would (the listener hears of
  // them). History naming agents no longer on the roster is loaded too (as
  // the exporting router kept it).
  virtual absl::Status ImportState(const RouterState& state) = 0;
  // One agent or one contact as ExportState lists it, for a journal that
  // records what each call changed. NotFound if absent (or, for a contact,
  // in the middle of a decision on another thread).
  virtual absl::StatusOr<AgentSnapshot> ExportAgent(
      std::string_view agent_id) const = 0;
  virtual absl::StatusOr<ContactSnapshot> ExportContact(
      std::string_view contact_id) const = 0;
  // ExportAgent and ExportContact without the copy: `visit` is called once
  // with the agent or contact read in place (router_state.h AgentView,
  // ContactView), valid only during the call. It runs inside the router's
  // read-side critical section: it must be short and must not call the
  // router. The Export calls' errors, and `visit` is not called.
  virtual absl::Status VisitAgent(
      std::string_view agent_id,
      absl::FunctionRef<void(const AgentView&)> visit) const = 0;
  virtual absl::Status VisitContact(
      std::string_view contact_id,
      absl::FunctionRef<void(const ContactView&)> visit) const = 0;
};

}  // namespace routing

#endif  // ROUTING_ROUTER_H_
