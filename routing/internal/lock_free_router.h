// File: routing/internal/lock_free_router.h
//
// The Router implementation. Every public call runs on the caller's thread;
// threads meet only through atomics: per-agent state words claimed by CAS,
// per-contact state CAS, bitmaps of agents by skill / language / free channel,
// lock-free queues and tables, and epoch-based reclamation for everything that
// is replaced or removed (agent records, contacts, queue nodes, policies).
// docs/ARCHITECTURE.md explains the design and the no-lost-wakeup argument.
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
#include "routing/internal/agent_bitmap.h"
#include "routing/internal/agent_scoring.h"
#include "routing/internal/agent_slot.h"
#include "routing/internal/contact_queue.h"
#include "routing/internal/contact_record.h"
#include "routing/internal/contact_table.h"
#include "routing/internal/epoch.h"
#include "routing/internal/history_store.h"
#include "routing/internal/name_table.h"
#include "routing/router.h"
#include "routing/status_macros.h"

namespace routing::internal {

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
  absl::Status Release(std::string_view contact_id,
                       ContactOutcome outcome) override;
  absl::StatusOr<RoutingDecision> Requeue(const Contact& contact) override;
  absl::StatusOr<ContactStatus> GetContact(
      std::string_view contact_id) const override;

  absl::StatusOr<uint64_t> SetPolicy(const RoutingPolicy& policy) override;
  uint64_t PolicyVersion() const override;
  uint64_t SetRules(std::shared_ptr<const RoutingRules> rules) override;
  uint64_t RulesVersion() const override;
  int AdvanceQueues() override;
  std::vector<CustomerInteraction> CustomerHistory(
      std::string_view customer_id) const override;
  RouterStats Stats() const override;

 private:
  struct PolicyRecord {
    RoutingPolicy policy;
    uint64_t version;
  };
  // The rules in force; replaced whole and retired through the epoch domain,
  // so a decision that loaded it keeps its rules alive until it unpins.
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
    return {policy_.load(std::memory_order_acquire),
            rules_.load(std::memory_order_acquire)};
  }
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

  enum class AssignResult { kAssigned, kNoAgent, kContactTaken };

  // --- Compilation and validation (lock_free_router_compile.cc) ---
  static absl::Status CheckAgentId(std::string_view agent_id);
  absl::StatusOr<std::unique_ptr<AgentRecord>> CompileAgent(
      const AgentProfile& profile, int index);
  // Compiles `contact` at the step the rules (if any) give it after waiting
  // since its enqueue time.
  absl::StatusOr<std::unique_ptr<ContactRecord>> CompileContact(
      const Contact& contact, const DecisionBasis& basis, int64_t now_ns);
  // The rules' plan for `contact` (enqueued at enqueue_ns) now, checked:
  // a priority out of range is ignored.
  static ContactPlan PlanFor(const RulesRecord& rules, const Contact& contact,
                             int64_t enqueue_ns, int64_t now_ns);
  AgentBitmap* SkillBitmap(int skill) const;
  AgentBitmap* LanguageBitmap(int language) const;
  AgentBitmap* EnsureBitmap(std::atomic<AgentBitmap*>* bitmaps, int id);
  ContactQueue* Queue(int id) const;
  ContactQueue* EnsureQueue(int id);

  // --- Agents (lock_free_router_agents.cc) ---
  int FindAgent(std::string_view agent_id) const;
  // The index of an agent on the roster: InvalidArgument for a malformed id,
  // NotFound if absent.
  absl::StatusOr<int> RosterIndex(std::string_view agent_id) const;
  // The error for an agent removed between the lookup and the CAS.
  static absl::Status RemovedMeanwhile(std::string_view agent_id);
  // Brings the skill and language bitmaps of `agent` in line with its current
  // record; `previous` is the record it replaced (or null).
  void SyncSkillIndex(int agent, const AgentRecord* previous);
  // Brings the free-channel and logged-in bitmaps in line with the state word.
  void SyncAvailability(int agent);
  bool ClaimAgent(int agent, int channel);
  // Gives back one unit of load; `ended_work` advances idle time when the
  // agent ends up with nothing (false for undoing a claim that never served).
  void DropLoad(int agent, int channel, int64_t now_ns, bool ended_work);
  // Capacity may have appeared: sync the bitmaps, then hand the agent queued
  // contacts until it is full or nothing it can serve waits.
  void OnCapacityFreed(int agent);
  void DrainQueuesFor(int agent);

  // --- Contacts (lock_free_router_contacts.cc) ---
  // Assigns or queues a contact already in the table. With
  // refuse_unservable, a contact nobody on the roster qualifies for is
  // refused (FailedPrecondition) rather than queued.
  absl::StatusOr<RoutingDecision> RouteHeld(ContactRecord* contact,
                                            const DecisionBasis& basis,
                                            int64_t now_ns,
                                            bool refuse_unservable = true);
  absl::StatusOr<RoutingDecision> RequeueContact(const Contact& contact,
                                                 bool refuse_unservable);
  // Returns false if rules were in force and failed (the built-in scores
  // then decided).
  bool FindCandidates(const ContactRecord& contact, const ScoringContext& ctx,
                      const RulesRecord* rules, CandidateList* out) const;
  // Lets the rules veto or rescore `scores` (built-in scores of the eligible
  // free agents); offers the survivors to `out`. False if the rules failed.
  bool OfferThroughRules(const ContactRecord& contact,
                         const ScoringContext& ctx, const RoutingRules& rules,
                         const AgentScore* scores, int count,
                         CandidateList* out) const;
  // Fills the rules' view of one scored candidate.
  void DescribeCandidate(const ScoringContext& ctx, const AgentScore& score,
                         RulesCandidate* out) const;
  RulesContact DescribeContact(const ContactRecord& contact,
                               int64_t now_ns) const;
  // Whether the rules let agent `record` (free, built-in eligible) take the
  // queued `contact` now.
  bool RulesAdmit(const RulesRecord& rules, const PolicyRecord& policy,
                  const ContactRecord& contact, const AgentRecord& record,
                  uint64_t word, int64_t now_ns, double* score) const;
  bool Eligible(const AgentRecord& agent, uint64_t word,
                const ContactRecord& contact) const;
  // The agents on the roster qualified for `contact` whatever their state and
  // load, counted by where they are now. Zero total: nobody could ever serve
  // it as the roster stands.
  RoutingDecision::QualifiedAgents CountQualifiedAgents(
      const ContactRecord& contact) const;
  HistoryAffinity LookupAffinity(const ContactRecord& contact,
                                 const RoutingPolicy& policy,
                                 int64_t now_ns) const;
  AssignResult TryAssign(ContactRecord* contact, const DecisionBasis& basis,
                         int64_t now_ns, ContactState from,
                         RoutingDecision* decision);
  RoutingDecision DescribeAssignment(const ContactRecord& contact,
                                     const DecisionBasis& basis,
                                     const ScoringContext& ctx,
                                     const AgentScore& score, int eligible,
                                     bool rules_failed);
  // Stamps policy and rules versions on a decision.
  static void StampBasis(const DecisionBasis& basis,
                         const ContactRecord& contact,
                         RoutingDecision* decision);
  void CountAnswered(const ContactRecord& contact, int64_t now_ns);
  // Removes a finished contact from the table and drops the table's reference.
  void Forget(ContactRecord* contact);
  static absl::Status NotHeld(std::string_view contact_id);
  // Ends `contact`'s assignment to `agent` (release, cancel or transfer):
  // credits the handling time to the agent, gives the load back, forgets the
  // contact and lets the agent take waiting contacts. Returns the handling
  // time in nanoseconds (0 if unknown).
  int64_t EndAssignment(ContactRecord* contact, int agent, int64_t now_ns);
  // Takes a held contact out of routing (Cancel/Release/Requeue): wins the
  // state CAS to kDone, then undoes what its previous state held.
  // Returns the state word it replaced. FailedPrecondition if the contact is
  // in a state the caller does not allow, NotFound if already finished.
  absl::StatusOr<uint64_t> Finish(ContactRecord* contact, bool allow_waiting,
                                  bool allow_assigned);
  int QueuePosition(const ContactRecord& contact) const;
  absl::Duration EstimatedWait(const ContactRecord& contact, int position,
                               int staffed, const RoutingPolicy& policy) const;
  int64_t NowNs() const;

  const RouterOptions options_;
  const Clock* const clock_;
  AssignmentListener* const listener_;
  const int agent_words_;  // Bitmap words covering max_agents.

  mutable EpochDomain epoch_;
  NameTable agent_ids_;
  NameTable skills_;
  NameTable languages_;
  NameTable queues_;
  NameTable teams_;
  std::unique_ptr<AgentSlot[]> slots_;
  std::unique_ptr<std::atomic<AgentBitmap*>[]> skill_bitmaps_;
  std::unique_ptr<std::atomic<AgentBitmap*>[]> language_bitmaps_;
  std::array<std::unique_ptr<AgentBitmap>, kChannelCount> free_;
  std::unique_ptr<std::atomic<ContactQueue*>[]> queue_objects_;
  ContactTable<ContactRecord> contacts_;
  HistoryStore history_;
  std::atomic<const PolicyRecord*> policy_;
  std::atomic<const RulesRecord*> rules_{nullptr};
  std::atomic<uint64_t> rules_versions_{0};
  InternedNames names_{&skills_, &languages_};
  // The earliest time a queued contact's next rules step falls due (a lower
  // bound: AdvanceQueues() returns at once before it).
  std::atomic<int64_t> next_step_due_ns_{INT64_MAX};

  // Counters: relaxed, read only by Stats().
  std::atomic<int64_t> contacts_held_{0};
  std::atomic<int64_t> decisions_{0};
  std::atomic<int64_t> assigned_immediately_{0};
  std::atomic<int64_t> queued_{0};
  std::atomic<int64_t> assigned_from_queue_{0};
  std::atomic<int64_t> cancelled_{0};
  std::atomic<int64_t> released_{0};
  mutable std::atomic<int64_t> rules_fallbacks_{0};
};

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_LOCK_FREE_ROUTER_H_
