// File: routing/internal/lock_free_router.h
//
// The Router implementation. Every public call runs on the caller's thread;
// threads meet only through atomics: per-agent state words claimed by CAS,
// one state word per contact whose CAS decides each of its transitions
// (contact_record.h), bitmaps of agents by skill / language / free channel,
// lock-free queues in service order (contact_queue.h) and tables, and
// epoch-based reclamation for everything replaced or removed.
// docs/ARCHITECTURE.md has the contact's state machine and the no-lost-wakeup
// argument.
//
// Listener callbacks run after the call has left its epoch critical section:
// a slow listener delays its own caller only, never memory reclamation. They
// are told one after another, never nested (see Deliver), and never about an
// assignment that a returned Cancel, Release or Requeue ended (see
// ContactRecord::deliveries).
#ifndef ROUTING_INTERNAL_LOCK_FREE_ROUTER_H_
#define ROUTING_INTERNAL_LOCK_FREE_ROUTER_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "routing/internal/agent_compiler.h"
#include "routing/internal/agent_index.h"
#include "routing/internal/agent_scoring.h"
#include "routing/internal/agent_slot.h"
#include "routing/internal/contact_compiler.h"
#include "routing/internal/contact_queue.h"
#include "routing/internal/contact_record.h"
#include "routing/internal/contact_table.h"
#include "routing/internal/epoch.h"
#include "routing/internal/history_store.h"
#include "routing/internal/kpi_counters.h"
#include "routing/internal/name_table.h"
#include "routing/internal/offer_schedule.h"
#include "routing/internal/router_counters.h"
#include "routing/router.h"
#include "routing/status_macros.h"

namespace routing::internal {

// An assignment made while pinned and told to the listener once unpinned,
// if `record` is then still assigned in `placement`. Holds a reference to
// `record` until it has been told or skipped.
struct AssignmentNotice {
  Assignment assignment;
  ContactRecord* record = nullptr;
  uint64_t placement = 0;
  // Set for a lapsed offer: told to OnOfferExpired (always: the lapse has
  // happened), instead of OnAssigned.
  bool expired_offer = false;
  ExpiredOffer expired;
};

class LockFreeRouter final : public Router {
 public:
  explicit LockFreeRouter(const RouterOptions& options);
  ~LockFreeRouter() override;

  absl::Status AddAgent(const AgentProfile& profile) override;
  absl::Status UpdateAgent(const AgentProfile& profile) override;
  absl::Status RemoveAgent(std::string_view agent_id) override;
  absl::Status SetAgentState(std::string_view agent_id,
                             AgentState state) override;
  absl::StatusOr<AgentStatus> GetAgent(
      std::string_view agent_id) const override;
  std::vector<std::string> AgentIds() const override;

  absl::StatusOr<RoutingDecision> Route(const Contact& contact) override;
  absl::Status Cancel(std::string_view contact_id) override;
  using Router::Release;
  absl::Status Release(std::string_view contact_id, ContactOutcome outcome,
                       const ContactSurvey& survey) override;
  absl::StatusOr<RoutingDecision> Requeue(const Contact& contact) override;
  absl::Status AcceptOffer(std::string_view contact_id,
                           std::string_view agent_id) override;
  absl::StatusOr<RoutingDecision> RejectOffer(
      std::string_view contact_id, std::string_view agent_id) override;
  absl::StatusOr<ContactStatus> GetContact(
      std::string_view contact_id) const override;
  std::vector<QueuedContact> QueuedContacts(
      std::string_view queue, int limit_per_queue) const override;

  absl::StatusOr<uint64_t> SetPolicy(const RoutingPolicy& policy) override;
  uint64_t PolicyVersion() const override;
  uint64_t SetRules(std::shared_ptr<const RoutingRules> rules) override;
  uint64_t RulesVersion() const override;
  int AdvanceQueues() override { return AdvanceQueues(nullptr); }
  int AdvanceQueues(std::vector<std::string>* moved_contacts) override;
  std::vector<CustomerInteraction> CustomerHistory(
      std::string_view customer_id) const override;
  RouterStats Stats() const override;
  RouterState ExportState() const override;
  absl::Status ImportState(const RouterState& state) override;
  absl::StatusOr<AgentSnapshot> ExportAgent(
      std::string_view agent_id) const override;
  absl::StatusOr<ContactSnapshot> ExportContact(
      std::string_view contact_id) const override;
  absl::Status VisitAgent(
      std::string_view agent_id,
      absl::FunctionRef<void(const AgentView&)> visit) const override;
  absl::Status VisitContact(
      std::string_view contact_id,
      absl::FunctionRef<void(const ContactView&)> visit) const override;

 private:
  struct PolicyRecord {
    RoutingPolicy policy;
    uint64_t version;
  };
  // The rules in force; replaced whole and retired through the epoch domain,
  // so a decision that loaded it keeps its rules alive until it unpins.
  // The rules in force and the version of the SetRules call that put them
  // there; `rules` is null after SetRules(nullptr).
  struct RulesRecord {
    std::shared_ptr<const RoutingRules> rules;
    uint64_t version;
  };
  // What one decision runs on, loaded once at its start.
  struct DecisionBasis {
    const PolicyRecord* policy;
    const RulesRecord* rules;  // Null: no rules in force.
  };
  DecisionBasis LoadBasis() const {
    const RulesRecord* rules = rules_.load(std::memory_order_acquire);
    return {policy_.load(std::memory_order_acquire),
            rules != nullptr && rules->rules != nullptr ? rules : nullptr};
  }
  // Assignments made while pinned, told to the listener once unpinned.
  using Notices = std::vector<AssignmentNotice>;
  // Tells the listener each notice whose contact is still assigned in the
  // notice's placement. Iterative: a call made from inside the listener on
  // this thread queues its notices behind the ones being told here.
  void Deliver(Notices& notices);
  void Tell(AssignmentNotice& notice);
  // Queues the assignment of `record` (in `placement`) for the listener,
  // with a reference to the record; nothing if the record is already ending.
  void Announce(ContactRecord* record, uint64_t placement,
                const ContactRoute& route, RoutingDecision decision,
                int64_t now_ns, Notices* notices);
  // For Cancel, Release and Requeue, pinned, after the CAS that took the
  // contact: true if a listener call about it may be under way on another
  // thread. The caller then holds a new reference to `record` and calls
  // AwaitDeliveries once unpinned. Always false inside a listener call.
  bool MustAwaitDeliveries(ContactRecord* record);
  // Waits (unpinned) until no listener call about `record` runs, then drops
  // the reference MustAwaitDeliveries took.
  void AwaitDeliveries(ContactRecord* record);
  // A new RoutingDecision::token: unique in the process, never 0.
  static uint64_t NextToken();

  // The router's interned skill and language ids, for rules.
  class InternedNames final : public RulesNames {
   public:
    InternedNames(const NameTable* skills, const NameTable* languages)
        : skills_(skills), languages_(languages) {}
    int SkillId(std::string_view name) const override {
      return skills_->Find(name);
    }
    int LanguageId(std::string_view tag) const override {
      return languages_->Find(tag);
    }

   private:
    const NameTable* skills_;
    const NameTable* languages_;
  };

  // The best few candidates of one scan, best first. Keeping more than one
  // lets a decision that loses a claim race try the runner-up without
  // rescanning.
  static constexpr int kCandidatesKept = 4;
  struct CandidateList {
    std::array<AgentScore, kCandidatesKept> best;
    int count = 0;
    int eligible = 0;
    void Offer(const AgentScore& score);
  };

  // kTakenAfterAssigned: this call assigned the contact, and a Cancel,
  // Release or Requeue took it from kAssigned before the assignment was
  // confirmed. That call ended the assignment (the agent's load); what the
  // contact held before (a queue node) is still this caller's to give back.
  enum class AssignResult {
    kAssigned,
    kNoAgent,
    kContactTaken,
    kTakenAfterAssigned
  };

  // --- Compilation (contact_compiler.h, agent_compiler.h) ---
  // Compiles `contact` at the step the rules in `basis` (if any) give it
  // after waiting since its enqueue time. Interns nothing: a route that is
  // refused leaves no name behind (the queue is interned by AcceptQueue).
  absl::StatusOr<std::unique_ptr<ContactRoute>> CompileRoute(
      const Contact& contact, const DecisionBasis& basis, int64_t now_ns) const;
  // Interns the route's queue (once the contact is accepted); the queue id,
  // or ResourceExhausted when max_queues are taken.
  absl::StatusOr<int> AcceptQueue(ContactRoute* route);
  ContactQueue* Queue(int id) const;
  ContactQueue* EnsureQueue(int id);

  // --- Agents (lock_free_router_agents.cc) ---
  // The index of an agent on the roster: InvalidArgument for a malformed id,
  // NotFound if absent.
  absl::StatusOr<int> RosterIndex(std::string_view agent_id) const;
  // The error for an agent removed between the lookup and the CAS.
  static absl::Status RemovedMeanwhile(std::string_view agent_id);
  // Takes one unit of `channel` capacity of `agent`, if the record in force
  // is still `judged` (the one the caller's eligibility check read) and it
  // has room. A record replaced since (UpdateAgent) fails the claim. If the
  // claim's availability sync raced and `notices` is given, the agent then
  // drains (see SyncAvailability).
  bool ClaimAgent(int agent, int channel, const AgentRecord* judged,
                  Notices* notices);
  // Capacity may have appeared: sync the bitmaps, then hand the agent queued
  // contacts until it is full or nothing it can serve waits.
  void OnCapacityFreed(int agent, Notices* notices);
  void DrainQueuesFor(int agent, Notices* notices);

  // --- Eligibility (lock_free_router_contacts.cc): one predicate for the
  // scan, the drain and the qualified-agent count ---
  // Could `agent` ever serve `route`, whatever its state and load?
  bool Qualifies(const AgentRecord& agent, const ContactRoute& route) const;
  // Can it take it now, given its state word?
  bool Eligible(const AgentRecord& agent, uint64_t word,
                const ContactRoute& route) const;
  bool Excludes(const ContactRoute& route, int agent) const;

  // --- Contacts (lock_free_router_contacts.cc) ---
  // Route() while pinned; notices go out after the pin ends.
  absl::StatusOr<RoutingDecision> RoutePinned(const Contact& contact,
                                              Notices* notices);
  // Places a contact this thread owns in kRouting at `placement`: assigns it
  // to the best free agent, or queues it. With refuse_unservable, a contact
  // nobody on the roster qualifies for is refused (FailedPrecondition).
  absl::StatusOr<RoutingDecision> Place(ContactRecord* record,
                                        uint64_t placement,
                                        const DecisionBasis& basis,
                                        int64_t now_ns, bool refuse_unservable,
                                        Notices* notices);
  // Links `record`'s placement-`placement` node into its route's queue (and
  // the rules-step schedule when a step is ahead), with the next placement
  // sequence, and publishes it as the record's queued node. The caller then
  // publishes the kQueued state.
  QueueNode* LinkQueued(ContactRecord* record, const ContactRoute& route,
                        uint64_t placement);
  absl::StatusOr<RoutingDecision> RequeueHeld(ContactRecord* record,
                                              const Contact& contact,
                                              int64_t now_ns,
                                              Notices* notices);
  // Returns false if rules were in force and failed (the built-in scores
  // then decided).
  bool FindCandidates(const ContactRoute& route, const ScoringContext& ctx,
                      const RulesRecord* rules, CandidateList* out) const;
  // Lets the rules veto or rescore `scores` (built-in scores of the eligible
  // free agents); offers the survivors to `out`. False if the rules failed.
  bool OfferThroughRules(const ContactRoute& route, const ScoringContext& ctx,
                         const RoutingRules& rules, const AgentScore* scores,
                         int count, CandidateList* out) const;
  void DescribeCandidate(const ScoringContext& ctx, const AgentScore& score,
                         RulesCandidate* out) const;
  RulesContact DescribeContact(const ContactRoute& route, int64_t now_ns) const;
  // Whether the rules let agent `record` (free, built-in eligible) take the
  // queued `route` now.
  bool RulesAdmit(const RulesRecord& rules, const PolicyRecord& policy,
                  const ContactRoute& route, const AgentRecord& record,
                  uint64_t word, int64_t now_ns, double* score) const;
  // A rule vetoed a free agent for `route`: remember it, so the veto is
  // looked at again as the contact waits.
  void NoteVeto(const ContactRoute& route) const;
  // The agents on the roster qualified for `route` whatever their state and
  // load, counted by where they are now. Zero total: nobody could ever serve
  // it as the roster stands.
  RoutingDecision::QualifiedAgents CountQualifiedAgents(
      const ContactRoute& route) const;
  HistoryAffinity LookupAffinity(const ContactRoute& route,
                                 const RoutingPolicy& policy,
                                 int64_t now_ns) const;
  // Finds the best free agent, claims it and moves the contact from `from`
  // (its exact state word) to kAssigned. `history`: the customer's affinity
  // if the caller looked it up already (else null).
  AssignResult TryAssign(ContactRecord* record, const ContactRoute& route,
                         const DecisionBasis& basis, int64_t now_ns,
                         uint64_t from, RoutingDecision* decision,
                         Notices* notices,
                         const HistoryAffinity* history = nullptr);
  // After the CAS that assigned `record` to `agent` (from `from` to
  // `assigned`): confirms that the agent's record is still the one the claim
  // judged, or undoes the assignment (back to `from`, the claim given back).
  enum class Confirmation { kConfirmed, kUndone, kTakenOver };
  Confirmation ConfirmAssignment(ContactRecord* record, int agent,
                                 const AgentRecord* judged, uint64_t assigned,
                                 uint64_t from, int channel, Notices* notices);
  // Routes a queued contact (placement `node`) like a new decision would,
  // from kQueued; on success it leaves its queue and the listener will hear
  // of it. True if assigned.
  bool AssignQueued(QueueNode* node, const ContactRoute& route,
                    const DecisionBasis& basis, int64_t now_ns,
                    Notices* notices);
  RoutingDecision DescribeAssignment(const ContactRoute& route,
                                     const DecisionBasis& basis,
                                     const ScoringContext& ctx,
                                     const AgentScore& score, int eligible,
                                     bool rules_failed) const;
  static void StampBasis(const DecisionBasis& basis, const ContactRoute& route,
                         RoutingDecision* decision);
  void CountAnswered(const ContactRoute& route, int64_t now_ns);
  // A queued contact of `queue` left it unanswered (the customer left).
  static void CountAbandoned(ContactQueue* queue, int64_t now_ns);
  // Counts a released contact in its queue's and its agent's KPIs.
  void CountReleased(const ContactRoute& route, int agent,
                     ContactOutcome outcome, int64_t handled_ns,
                     const ContactSurvey& survey);
  // Remembers the route's required skills as its queue's requirement
  // (ContactQueue::requirement), if they differ. Pinned.
  void NoteRequirement(ContactQueue* queue, const ContactRoute& route);
  // The queue's agents by state, and their mean occupancy (QueueStats).
  void CountQueueAgents(const ContactQueue& queue, int64_t now_ns,
                        QueueStats* stats) const;
  // Occupancy of the agent in `slot` at now_ns (0..1; 0 before login).
  static double Occupancy(const AgentSlot& slot, int64_t now_ns);
  // The contact's placement-p node leaves its queue (the caller won the CAS
  // out of kQueued(p), or never reached it).
  void LeaveQueue(const ContactRoute& route, QueueNode* node);
  // A reference for the calling thread, unless the record is already being
  // freed (then the contact has ended).
  static bool TryRef(ContactRecord* record);
  // A route replaced on `record` (by the thread that won kRouting): retired
  // through the epoch, unless it is the record's own first route.
  void RetireRoute(ContactRecord* record, const ContactRoute* route) {
    if (!record->IsFirstRoute(route)) {
      epoch_.Retire(const_cast<ContactRoute*>(route));
    }
  }
  // Drops a reference the calling thread holds when it goes out of scope.
  struct ContactRef {
    ContactRef(LockFreeRouter* router, ContactRecord* record)
        : router(router), record(record) {}
    ~ContactRef() { router->Unref(record); }
    ContactRef(const ContactRef&) = delete;
    ContactRef& operator=(const ContactRef&) = delete;
    LockFreeRouter* const router;
    ContactRecord* const record;
  };
  void Unref(ContactRecord* record) { UnrefContact(record, &epoch_); }
  // Removes a finished contact from the table and drops the table's reference.
  void Forget(ContactRecord* record);
  static absl::Status NotHeld(std::string_view contact_id);
  // Ends `record`'s assignment to `agent` (release, cancel or transfer):
  // credits the handling time, gives the load back and lets the agent take
  // waiting contacts. Returns the handling time in nanoseconds (0 if
  // unknown).
  int64_t EndAssignment(ContactRecord* record, int channel, int agent,
                        int64_t now_ns, Notices* notices);
  // Takes a held contact out of routing for good (Cancel/Release): wins the
  // state CAS to kDone. Returns the state word it replaced.
  absl::StatusOr<uint64_t> Finish(ContactRecord* record, bool allow_waiting);

  // --- Reservations (lock_free_router_offers.cc) ---
  int64_t OfferTimeoutNs(int channel) const { return offer_timeout_ns_[channel]; }
  // The state word an assignment of a contact of `channel` to `agent` in
  // `placement` lands in: kOffered on a channel with reservations, else
  // kAssigned. Stamps the offer's times on `record` first (before the CAS).
  uint64_t AssignmentWord(ContactRecord* record, int channel, int agent,
                          uint64_t placement, int64_t now_ns);
  // After an assignment to `word` was confirmed: an offer is scheduled to
  // lapse and counted; a plain assignment starts its handle time. Marks
  // `decision` (if given) accordingly.
  void CommitAssignment(ContactRecord* record, uint64_t word, int64_t now_ns,
                        RoutingDecision* decision);
  // Marks `decision` as the assignment `word` of `record` (offered or not,
  // the offer's deadline, the placement).
  static void MarkAssignment(const ContactRecord& record, uint64_t word,
                             RoutingDecision* decision);
  // The offered contact's word if `record` is offered (to `agent_id`, when
  // not empty), else the refusal naming what it is instead.
  absl::StatusOr<uint64_t> OfferedWord(const ContactRecord& record,
                                       std::string_view agent_id) const;
  // Ends the offer `word` (kOffered(a, p)) of `record`, which this thread
  // holds a reference to: wins kRouting(p + 1), puts the agent in
  // missed_offer_state if it is still available, gives its load back, and
  // places the contact again where it was, excluded from that agent.
  // Aborted if the offer was ended meanwhile; refusals change nothing.
  // With `expired`, the listener hears OnOfferExpired first, and of a new
  // offer made at once.
  absl::StatusOr<RoutingDecision> ReturnOffer(ContactRecord* record,
                                              uint64_t word, bool expired,
                                              Notices* notices);
  // Ends the offers whose deadline has passed (AdvanceQueues); returns how
  // many.
  int ExpireOffers(Notices* notices);
  // Puts `agent` in `state` if its presence is still `expected`; the state
  // it is in afterwards.
  AgentState SetPresenceIf(int agent, AgentState expected, AgentState state,
                           Notices* notices);

  // --- State export (lock_free_router_state.cc); pinned ---
  // The agent in `index` read in place; false if the slot holds none.
  bool ViewAgent(int index, AgentView* out) const;
  // The contact read in place; false while it is being decided or ends.
  // For a queued one, also its node's service order.
  bool ViewContact(const ContactRecord& record, ContactView* out,
                   int64_t* aged_ms, int64_t* sequence) const;

  // --- Queues over time (lock_free_router_queues.cc) ---
  // Live nodes of every queue (their route current) that `pick` selects, in
  // service order across queues.
  template <typename Pick>
  std::vector<QueueNode*> CollectQueued(Pick&& pick) const;
  // Queue nodes of the contacts whose rules step is due at `now_ns`, in
  // service order; folds the next due time of the others back.
  std::vector<QueueNode*> CollectStepsDue(int64_t now_ns);
  // Moves one queued contact on to its due rules step; true if moved.
  bool MoveToNextStep(QueueNode* node, const DecisionBasis& basis,
                      int64_t now_ns, Notices* notices);
  // Looks again at queued contacts a rule vetoed a free agent for.
  void ReconsiderVetoed(int64_t now_ns, Notices* notices);
  void FoldStepDue(int64_t due_ns);
  absl::Duration EstimatedWait(const ContactQueue& queue, int64_t position,
                               int staffed, const RoutingPolicy& policy) const;
  // The router's clock, never going back: a clock stepped back reads as the
  // latest time seen.
  int64_t NowNs() const;

  const RouterOptions options_;
  const Clock* const clock_;
  AssignmentListener* const listener_;

  mutable EpochDomain epoch_;
  AgentIndex agents_;
  NameTable skills_;
  NameTable languages_;
  NameTable queues_;
  NameTable teams_;
  std::unique_ptr<std::atomic<ContactQueue*>[]> queue_objects_;
  ContactTable<ContactRecord> contacts_;
  HistoryStore history_;
  // First-contact resolution: per (queue, customer), the arrival time of the
  // customer's latest released contact in that queue (depth 1).
  HistoryStore queue_contacts_;
  // Outcome KPIs per agent index, beside the slots (kept off the cache lines
  // scoring reads).
  std::unique_ptr<KpiCounters[]> agent_kpis_;
  AgentCompiler agent_compiler_;
  ContactCompiler contact_compiler_;
  std::atomic<const PolicyRecord*> policy_;
  // Null until the first SetRules; versions in force only ever grow.
  std::atomic<const RulesRecord*> rules_{nullptr};
  std::atomic<uint64_t> rules_versions_{0};
  InternedNames names_{&skills_, &languages_};
  // Every queued placement with a rules step ahead, keyed by the millisecond
  // it falls due (a node departs with its queue node: QueueNode::step).
  ContactQueue step_schedule_{"rules steps", &epoch_};
  // The earliest time a queued contact's next rules step falls due (a lower
  // bound: AdvanceQueues() returns at once before it).
  std::atomic<int64_t> next_step_due_ns_{INT64_MAX};
  // Placements in queues, router-wide: the tie-break of equal aged arrival.
  std::atomic<int64_t> placements_{0};
  // Raised when a rule vetoes a free agent for a contact; while non-zero,
  // AdvanceQueues() looks at vetoed waiting contacts again (and clears it
  // when it finds none).
  mutable std::atomic<int64_t> vetoes_{0};
  mutable std::atomic<int64_t> last_now_ns_{0};
  mutable RouterCounters counters_;
  // Reservations: the timeout per channel (0: none), and the offers made.
  std::array<int64_t, kChannelCount> offer_timeout_ns_ = {};
  OfferSchedule offers_;
};

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_LOCK_FREE_ROUTER_H_
