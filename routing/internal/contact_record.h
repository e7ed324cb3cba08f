// File: routing/internal/contact_record.h
//
// A contact as the router holds it, from Route() until Cancel() or Release():
// ONE record per contact for its whole stay, found by id in the contact table
// and never replaced there, with a single atomic state word that decides
// every race over the contact by one compare-and-swap.
//
// What the contact is routed on (requirements compiled to ids, queue, aged
// arrival, rules step) lives in a ContactRoute: immutable once published,
// one per placement. A Requeue or a rules step move does not swap records in
// the table (a Cancel in between would find nothing); it wins the record's
// state CAS into kRouting with the placement number raised, publishes a new
// route, and places the contact again. Nodes left in a queue by an earlier
// placement are dead from that CAS on.
//
// State word: state (4 bits) | agent index (24 bits) | placement (36 bits).
//
//   kRouting(p) --assign (Route, Requeue, step move)--------> kAssigned(a, p)
//   kRouting(p) --queue (node of placement p linked first)--> kQueued(p)
//   kQueued(p)  --claimed by an agent's drain or a re-check--> kAssigned(a, p)
//   kQueued(p) | kAssigned(a, p) --Requeue, step move-------> kRouting(p + 1)
//   kRouting(p) | kQueued(p) | kAssigned(a, p) --Cancel----> kDone
//   kAssigned(a, p) --Release-----------------------------> kDone
//   kRouting(p) --refused (nobody could ever serve it)-----> kDone
// On a channel with reservations (RouterOptions::offer_timeout) every
// "assign" above lands in kOffered(a, p) instead, and:
//   kOffered(a, p) --AcceptOffer---------------------------> kAssigned(a, p)
//   kOffered(a, p) --RejectOffer, lapsed, Requeue----------> kRouting(p + 1)
//   kOffered(a, p) --Cancel--------------------------------> kDone
// The winner out of kOffered gives the agent's load back, as out of
// kAssigned.
//
// Whoever wins a CAS owns the side effects of the state it replaced: the
// winner out of kQueued(p) takes the placement-p node out of its queue's
// counts; the winner out of kAssigned gives the agent's load back; the winner
// out of kRouting is the only thread routing the contact, so whoever moves it
// OUT of kRouting by Cancel leaves the clean-up of an in-flight placement
// (a claimed agent, a linked node) to the routing thread, whose own CAS then
// fails.
//
// Lifetime: reference counted. The contact table holds one reference and each
// queue node another; the last Unref retires the record (and its route)
// through the epoch domain, so a pinned reader can still read it. A node takes
// its reference before it is linked, so a record is never revived from zero.
#ifndef ROUTING_INTERNAL_CONTACT_RECORD_H_
#define ROUTING_INTERNAL_CONTACT_RECORD_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "routing/contact.h"

namespace routing::internal {

// Most entries a contact may list per requirement (skills, languages,
// preferred or excluded agents); the decision path keeps them on the stack.
inline constexpr int kMaxRequirements = 64;

enum class ContactState : uint8_t {
  kRouting,
  kQueued,
  kAssigned,
  kDone,
  kOffered
};

class QueueNode;

// What one placement of a contact is routed on. Immutable once published by
// ContactRecord::route, except the fields marked atomic.
struct ContactRoute {
  Contact contact;  // enqueue_time resolved; queue name resolved.

  uint64_t placement = 0;  // The placement this route belongs to.
  // The routing attempt (RoutingDecision::token): new for Route and each
  // Requeue, carried over by a rules step move.
  uint64_t token = 0;
  int channel = 0;
  // Interned queue id; -1 until the contact is accepted (AcceptQueue), then
  // fixed. Atomic: the routing thread sets it while others may read.
  std::atomic<int> queue{-1};
  int QueueId() const { return queue.load(std::memory_order_acquire); }
  int priority = 0;
  int64_t enqueue_ns = 0;
  // When this route was compiled: the rules' plan (step, priority,
  // requirements) is the one for the wait at this time.
  int64_t planned_ns = 0;
  // Aged arrival: enqueue time minus priority x priority_step (saturated).
  // Service order compares it in whole milliseconds (aged_ms), then by
  // placement sequence: whoever was placed in a queue first.
  int64_t aged_arrival_ns = 0;
  int64_t aged_ms = 0;
  std::vector<std::pair<int, int>> required;  // (skill id, min level)
  std::vector<std::pair<int, int>>
      desired;                 // (skill id, min level); -1 id: unknown skill
  std::vector<int> languages;  // Known language ids in preference order.
  std::vector<int> language_rank;  // Preference position of each languages[i].
  std::vector<int> preferred_agents;  // Agent indexes (unknown ids dropped).
  std::vector<int> excluded_agents;   // Agent indexes of known ids.
  // Excluded ids not on the router's books when compiled (nothing is
  // interned for them): an agent is also compared by id against these.
  std::vector<std::string> excluded_unknown;
  // Rules step reached when compiled, and when the next one falls due
  // (INT64_MAX: none). With preferred_only, only the agents in only_agents
  // (the preferred ones and those in the customer's history) may take it.
  int rules_step = 0;
  int64_t next_step_ns = INT64_MAX;
  bool preferred_only = false;
  std::vector<int> only_agents;

  // A rule vetoed a free agent the built-in filter admitted for this
  // placement: the veto may lift as the contact waits, so AdvanceQueues()
  // and SetRules() look at it again.
  mutable std::atomic<bool> rules_vetoed{false};
  // A move to the next step failed (it could not be compiled as the router
  // stands): not tried again before this time.
  mutable std::atomic<int64_t> step_retry_ns{0};

  bool Excludes(int agent_index) const {
    for (int a : excluded_agents) {
      if (a == agent_index) return true;
    }
    return false;
  }
  bool Admits(int agent_index) const {
    if (!preferred_only) return true;
    for (int a : only_agents) {
      if (a == agent_index) return true;
    }
    return false;
  }
  bool Prefers(int agent_index) const {
    for (int a : preferred_agents) {
      if (a == agent_index) return true;
    }
    return false;
  }
};

struct ContactRecord {
  explicit ContactRecord(std::string contact_id) : id_(std::move(contact_id)) {}
  ~ContactRecord() {
    const ContactRoute* last = route.load(std::memory_order_relaxed);
    if (!IsFirstRoute(last)) delete last;
  }
  ContactRecord(const ContactRecord&) = delete;
  ContactRecord& operator=(const ContactRecord&) = delete;

  const std::string& id() const { return id_; }

  static constexpr int kAgentShift = 4;
  static constexpr int kPlacementShift = 28;
  static constexpr uint64_t kAgentMask = (uint64_t{1} << 24) - 1;

  static uint64_t Pack(ContactState state, int agent, uint64_t placement) {
    const uint64_t agent_bits =
        agent < 0 ? kAgentMask : static_cast<uint64_t>(agent) & kAgentMask;
    return (placement << kPlacementShift) | (agent_bits << kAgentShift) |
           static_cast<uint8_t>(state);
  }
  static ContactState StateOf(uint64_t word) {
    return static_cast<ContactState>(word & 0xf);
  }
  static int AgentOf(uint64_t word) {
    const uint64_t bits = (word >> kAgentShift) & kAgentMask;
    return bits == kAgentMask ? -1 : static_cast<int>(bits);
  }
  static uint64_t PlacementOf(uint64_t word) { return word >> kPlacementShift; }

  uint64_t Word() const { return state.load(std::memory_order_acquire); }
  ContactState State() const { return StateOf(Word()); }
  // True while the placement-`placement` node of this contact is the one in
  // force (the contact waits in a queue through it).
  bool IsQueuedAt(uint64_t placement) const {
    return Word() == Pack(ContactState::kQueued, -1, placement);
  }
  // One CAS from exactly `from` to `to`; false if anyone moved the contact
  // first (`from` is then reloaded).
  bool Transition(uint64_t& from, uint64_t to) {
    return state.compare_exchange_strong(from, to, std::memory_order_seq_cst);
  }

  std::atomic<uint64_t> state{Pack(ContactState::kRouting, -1, 0)};
  // The route of the current placement. Replaced only by the thread that
  // won the CAS into kRouting; the replaced one is retired through the
  // epoch, unless it is first_route, which lives and dies with the record.
  std::atomic<const ContactRoute*> route{nullptr};
  // The route of placement 0, allocated with the record: most contacts are
  // routed once and never requeued, so they cost one allocation, not two.
  ContactRoute first_route;
  bool IsFirstRoute(const ContactRoute* r) const { return r == &first_route; }
  // The node of the current placement while it is queued. Written by the
  // placing thread before its CAS into kQueued, read by whoever moves the
  // contact out of kQueued.
  std::atomic<QueueNode*> queued_node{nullptr};
  // Written just after the assignment CAS (for an offer: after the accept
  // CAS); a Release racing with it may read 0 and then counts no handling
  // time.
  std::atomic<int64_t> assigned_ns{0};
  // The current offer's deadline and when it was made: written before the
  // CAS into kOffered, meaningful while the state word is kOffered.
  std::atomic<int64_t> offer_deadline_ns{0};
  std::atomic<int64_t> offered_ns{0};
  std::atomic<int> refs{1};
  // Listener calls about this contact under way (each holds a reference).
  // A deliverer raises it, then checks the contact is still assigned in the
  // placement it announces; whoever ends that assignment (Cancel, Release,
  // Requeue) moves the state word first, then reads this. Both seq_cst: one
  // of them sees the other, so after the ending call sees 0 (or waits for
  // it), no announcement of the ended assignment starts.
  std::atomic<int> deliveries{0};

 private:
  const std::string id_;
};

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_CONTACT_RECORD_H_
