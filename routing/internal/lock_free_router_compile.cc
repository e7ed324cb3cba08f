// Construction, the queues' objects, policy and rules swaps, and history
// (statistics and the supervisor's listings: lock_free_router_stats.cc). Validation and compilation of what callers hand in live in
// agent_compiler.cc and contact_compiler.cc.
#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "routing/internal/lock_free_router.h"
#include "routing/internal/string_view_compat.h"

namespace routing::internal {

LockFreeRouter::LockFreeRouter(const RouterOptions& options)
    : options_(options),
      clock_(options.clock != nullptr ? options.clock : SystemClock::Default()),
      listener_(options.listener),
      agents_(options.max_agents, options.max_skills, options.max_languages,
              &epoch_),
      skills_(options.max_skills),
      languages_(options.max_languages),
      queues_(options.max_queues),
      teams_(options.max_agents),
      queue_objects_(new std::atomic<ContactQueue*>[options.max_queues]),
      contacts_(&epoch_, static_cast<size_t>(options.max_contacts)),
      history_(static_cast<size_t>(options.history_customers),
               options.history_depth),
      queue_contacts_(static_cast<size_t>(options.history_customers), 1),
      agent_kpis_(new KpiCounters[options.max_agents]),
      agent_compiler_(&options_, &skills_, &languages_, &teams_, &agents_),
      contact_compiler_(&options_, &skills_, &languages_, &agents_.ids(),
                        &history_),
      policy_(new PolicyRecord{options.policy, 1}) {
  for (int i = 0; i < options.max_queues; ++i) queue_objects_[i] = nullptr;
  rules_versions_.store(options.rules_versions_before,
                        std::memory_order_relaxed);
  for (int c = 0; c < kChannelCount; ++c) {
    offer_timeout_ns_[c] = absl::ToInt64Nanoseconds(options.offer_timeout[c]);
  }
}

LockFreeRouter::~LockFreeRouter() {
  {
    auto guard = epoch_.Pin();
    // The offers still scheduled hold references on their contacts.
    ScheduledOffer* offers = offers_.TakeAll();
    for (ScheduledOffer* o = offers; o != nullptr; o = o->next) {
      UnrefContact(o->record, &epoch_);
    }
    OfferSchedule::Free(offers);
    std::vector<ContactRecord*> held;
    contacts_.ForEach([&](ContactRecord* c) { held.push_back(c); });
    for (ContactRecord* c : held) {
      contacts_.Remove(c);
      UnrefContact(c, &epoch_);
    }
  }
  for (int i = 0; i < options_.max_queues; ++i) {
    delete queue_objects_[i].load(std::memory_order_acquire);
  }
  delete policy_.load(std::memory_order_acquire);
  delete rules_.load(std::memory_order_acquire);
  epoch_.Reclaim();
}

int64_t LockFreeRouter::NowNs() const {
  const int64_t now = absl::ToUnixNanos(clock_->Now());
  int64_t seen = last_now_ns_.load(std::memory_order_relaxed);
  while (true) {
    if (now <= seen) return seen;
    if (last_now_ns_.compare_exchange_weak(seen, now,
                                           std::memory_order_relaxed)) {
      return now;
    }
  }
}

ContactQueue* LockFreeRouter::Queue(int id) const {
  return queue_objects_[id].load(std::memory_order_acquire);
}

ContactQueue* LockFreeRouter::EnsureQueue(int id) {
  ContactQueue* queue = Queue(id);
  if (queue != nullptr) return queue;
  auto fresh =
      std::make_unique<ContactQueue>(std::string(queues_.Name(id)), &epoch_);
  if (queue_objects_[id].compare_exchange_strong(queue, fresh.get(),
                                                 std::memory_order_acq_rel)) {
    return fresh.release();
  }
  return queue;
}

absl::StatusOr<std::unique_ptr<ContactRoute>> LockFreeRouter::CompileRoute(
    const Contact& contact, const DecisionBasis& basis, int64_t now_ns) const {
  return contact_compiler_.Compile(
      contact, basis.policy->policy,
      basis.rules != nullptr ? basis.rules->rules.get() : nullptr, now_ns);
}

absl::StatusOr<int> LockFreeRouter::AcceptQueue(ContactRoute* route) {
  const int known = route->QueueId();
  if (known >= 0) {
    NoteRequirement(Queue(known), *route);
    return known;
  }
  const int id = queues_.FindOrInsert(route->contact.queue);
  if (id < 0) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot open queue '", route->contact.queue,
        "': the router already has ", options_.max_queues,
        " queues (RouterOptions::max_queues)"));
  }
  NoteRequirement(EnsureQueue(id), *route);
  route->queue.store(id, std::memory_order_release);
  return id;
}

// --- Policy, history, statistics --------------------------------------------

absl::StatusOr<uint64_t> LockFreeRouter::SetPolicy(
    const RoutingPolicy& policy) {
  ROUTING_RETURN_IF_ERROR(ValidatePolicy(policy));
  auto guard = epoch_.Pin();
  auto fresh = std::make_unique<PolicyRecord>(PolicyRecord{policy, 0});
  const PolicyRecord* current = policy_.load(std::memory_order_acquire);
  do {
    fresh->version = current->version + 1;
  } while (!policy_.compare_exchange_weak(current, fresh.get(),
                                          std::memory_order_acq_rel,
                                          std::memory_order_acquire));
  // Decisions that loaded the old policy are pinned; it is freed after them.
  epoch_.Retire(const_cast<PolicyRecord*>(current));
  return fresh.release()->version;
}

uint64_t LockFreeRouter::SetRules(std::shared_ptr<const RoutingRules> rules) {
  Notices notices;
  uint64_t version;
  {
    auto guard = epoch_.Pin();
    version = rules_versions_.fetch_add(1, std::memory_order_acq_rel) + 1;
    auto fresh = std::make_unique<RulesRecord>(
        RulesRecord{std::move(rules), version});
    // Calls are ordered by the version they drew: a call installs its rules
    // only over an older version. One that finds a newer one in force was
    // overtaken by a later call and is superseded at once; so concurrent
    // calls can never leave an older call's rules in force.
    const RulesRecord* current = rules_.load(std::memory_order_acquire);
    while (current == nullptr || current->version < version) {
      if (rules_.compare_exchange_weak(current, fresh.get(),
                                       std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
        fresh.release();
        // Decisions that loaded the old rules are pinned; freed after.
        if (current != nullptr) {
          epoch_.Retire(const_cast<RulesRecord*>(current));
        }
        break;
      }
    }
    // A contact some rule kept from a free agent may be admitted now.
    ReconsiderVetoed(NowNs(), &notices);
  }
  Deliver(notices);
  return version;
}

uint64_t LockFreeRouter::RulesVersion() const {
  auto guard = epoch_.Pin();
  const RulesRecord* rules = rules_.load(std::memory_order_acquire);
  return rules == nullptr ? 0 : rules->version;
}

uint64_t LockFreeRouter::PolicyVersion() const {
  auto guard = epoch_.Pin();
  return policy_.load(std::memory_order_acquire)->version;
}

std::vector<CustomerInteraction> LockFreeRouter::CustomerHistory(
    std::string_view customer_id) const {
  std::vector<CustomerInteraction> out;
  if (customer_id.empty()) return out;
  InteractionRecord records[kMaxHistoryDepth];
  const int n = history_.Lookup(customer_id, records, kMaxHistoryDepth);
  for (int i = 0; i < n; ++i) {
    CustomerInteraction interaction;
    interaction.agent_id = std::string(agents_.ids().Name(records[i].agent_index));
    interaction.channel = records[i].channel;
    interaction.outcome = records[i].outcome;
    interaction.time = records[i].time;
    out.push_back(std::move(interaction));
  }
  return out;
}

}  // namespace routing::internal
