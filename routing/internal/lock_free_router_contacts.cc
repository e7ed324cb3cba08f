// The contact side: routing a contact to the best free agent or into its
// queue, and taking contacts out again (cancel, release, requeue).
#include <algorithm>
#include <bit>
#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "routing/internal/lock_free_router.h"
#include "routing/internal/string_view_compat.h"

namespace routing::internal {

namespace {

// Moving average of handle times: each release moves the estimate 1/8 of the
// way, so a queue's estimate follows a shift in handle time within a few
// dozen contacts without jumping on one outlier.
constexpr int64_t kHandleTimeSmoothing = 8;

void UpdateMovingAverage(std::atomic<int64_t>& average, int64_t sample) {
  int64_t current = average.load(std::memory_order_relaxed);
  int64_t next;
  do {
    next = current == 0 ? sample
                        : current + (sample - current) / kHandleTimeSmoothing;
  } while (
      !average.compare_exchange_weak(current, next, std::memory_order_relaxed));
}

}  // namespace

void LockFreeRouter::CandidateList::Offer(const AgentScore& score) {
  ++eligible;
  int position = count;
  while (position > 0 && BetterThan(score, best[position - 1])) --position;
  if (position >= kCandidatesKept) return;
  const int last = std::min(count, kCandidatesKept - 1);
  for (int i = last; i > position; --i) best[i] = best[i - 1];
  best[position] = score;
  if (count < kCandidatesKept) ++count;
}

bool LockFreeRouter::Eligible(const AgentRecord& agent, uint64_t word,
                              const ContactRecord& contact) const {
  if (!AgentWord::IsAvailable(word) ||
      !agent.HasRoomFor(word, contact.channel)) {
    return false;
  }
  for (const auto& [skill, min_level] : contact.required) {
    if (agent.SkillLevel(skill) < min_level) return false;
  }
  if (!contact.languages.empty()) {
    bool speaks = false;
    for (int language : contact.languages) {
      if (agent.Fluency(language) > 0) {
        speaks = true;
        break;
      }
    }
    if (!speaks) return false;
  }
  return !contact.Excludes(agent.index) && contact.Admits(agent.index);
}

// Candidates gathered before scoring, and how far ahead their slots are
// prefetched: about the number of cache misses one core keeps in flight
// (10-12 line fill buffers on current x86 cores).
constexpr int kCandidateBatch = 64;
constexpr int kCacheLineBytes = 64;
constexpr int kPrefetchDistance = 8;

bool LockFreeRouter::FindCandidates(const ContactRecord& contact,
                                    const ScoringContext& ctx,
                                    const RulesRecord* rules,
                                    CandidateList* out) const {
  // With rules, every eligible agent's built-in score is kept for one call
  // into the rules at the end; the buffer is per thread and grows once.
  thread_local std::vector<AgentScore> rules_batch;
  if (rules != nullptr) rules_batch.clear();
  // The bitmaps to AND: free on the contact's channel, every required skill,
  // and (OR-ed) the customer's languages. A skill or language whose bitmap is
  // still being created has no agents yet.
  const AgentBitmap* required[kMaxRequirements];
  int required_count = 0;
  for (const auto& [skill, min_level] : contact.required) {
    const AgentBitmap* bitmap = SkillBitmap(skill);
    if (bitmap == nullptr) return true;
    required[required_count++] = bitmap;
  }
  const AgentBitmap* spoken[kMaxRequirements];
  int spoken_count = 0;
  for (int language : contact.languages) {
    const AgentBitmap* bitmap = LanguageBitmap(language);
    if (bitmap != nullptr) spoken[spoken_count++] = bitmap;
  }
  if (!contact.languages.empty() && spoken_count == 0) return true;

  // Candidates are gathered from the bitmaps in batches, then scored with
  // their slots and records prefetched a few agents ahead: in a large pool
  // every candidate is a cache miss, and overlapping the misses is most of
  // the cost of a decision.
  int batch[kCandidateBatch];
  int batched = 0;
  auto score_batch = [&] {
    for (int i = 0; i < batched && i < kPrefetchDistance; ++i) {
      __builtin_prefetch(&slots_[batch[i]]);
    }
    for (int i = 0; i < batched; ++i) {
      if (i + kPrefetchDistance < batched) {
        __builtin_prefetch(&slots_[batch[i + kPrefetchDistance]]);
      }
      if (i + kPrefetchDistance / 2 < batched) {
        const char* record = reinterpret_cast<const char*>(
            slots_[batch[i + kPrefetchDistance / 2]].record.load(
                std::memory_order_relaxed));
        if (record != nullptr) {
          __builtin_prefetch(record);
          __builtin_prefetch(record + kCacheLineBytes);
        }
      }
      const AgentSlot& slot = slots_[batch[i]];
      // The bit was a hint; the word and record are the truth.
      const uint64_t word = slot.word.load(std::memory_order_acquire);
      const AgentRecord* record = slot.record.load(std::memory_order_acquire);
      if (record == nullptr || !Eligible(*record, word, contact)) continue;
      if (rules != nullptr) {
        rules_batch.push_back(ScoreAgent(ctx, *record, slot, word));
      } else {
        out->Offer(ScoreAgent(ctx, *record, slot, word));
      }
    }
    batched = 0;
  };

  const AgentBitmap& free = *free_[contact.channel];
  const int words = std::min(agent_words_, (agent_ids_.size() + 63) / 64);
  for (int w = 0; w < words; ++w) {
    uint64_t mask = free.Word(w);
    for (int i = 0; i < required_count && mask != 0; ++i) {
      mask &= required[i]->Word(w);
    }
    if (mask != 0 && spoken_count > 0) {
      uint64_t speakers = 0;
      for (int i = 0; i < spoken_count; ++i) speakers |= spoken[i]->Word(w);
      mask &= speakers;
    }
    while (mask != 0) {
      batch[batched++] = w * 64 + std::countr_zero(mask);
      mask &= mask - 1;
      if (batched == kCandidateBatch) score_batch();
    }
  }
  score_batch();
  if (rules == nullptr || rules_batch.empty()) return true;
  return OfferThroughRules(contact, ctx, *rules->rules, rules_batch.data(),
                           static_cast<int>(rules_batch.size()), out);
}

RulesContact LockFreeRouter::DescribeContact(const ContactRecord& contact,
                                             int64_t now_ns) const {
  RulesContact view;
  view.contact = &contact.contact;
  view.channel = contact.channel;
  view.priority = contact.priority;
  view.waited_seconds =
      std::max<double>(0, static_cast<double>(now_ns - contact.enqueue_ns)) /
      1e9;
  view.step = contact.rules_step;
  return view;
}

void LockFreeRouter::DescribeCandidate(const ScoringContext& ctx,
                                       const AgentScore& score,
                                       RulesCandidate* out) const {
  // The record scored; the caller is pinned, so it stays readable even if an
  // update has replaced it since.
  const AgentRecord& record = *score.record;
  out->profile = &record.profile;
  out->skills = record.skills.data();
  out->skill_count = static_cast<int>(record.skills.size());
  out->languages = record.languages.data();
  out->language_count = static_cast<int>(record.languages.size());
  for (int c = 0; c < kChannelCount; ++c) {
    out->load[c] = AgentWord::Load(score.word, c);
  }
  out->capacity = record.capacity;
  out->max_total = record.max_total;
  out->occupancy = 1.0 - score.values[kOccupancyComponent];
  out->idle_seconds =
      AgentWord::TotalLoad(score.word) == 0
          ? std::max<double>(
                0, static_cast<double>(ctx.now_ns - score.idle_since_ns)) /
                1e9
          : 0;
  for (int i = 0; i < kScoreComponentCount; ++i) {
    out->components[i] = score.values[i];
  }
  out->builtin_score = score.builtin_total;
  const HistoryAffinity::Entry* past = ctx.history->Find(score.agent);
  out->served_before = past != nullptr;
  out->resolved_before = past != nullptr && past->resolved;
  out->preferred = ctx.contact->Prefers(score.agent);
  out->eligible = true;
  out->score = score.builtin_total;
}

bool LockFreeRouter::OfferThroughRules(const ContactRecord& contact,
                                       const ScoringContext& ctx,
                                       const RoutingRules& rules,
                                       const AgentScore* scores, int count,
                                       CandidateList* out) const {
  thread_local std::vector<RulesCandidate> views;
  views.resize(count);
  for (int i = 0; i < count; ++i) DescribeCandidate(ctx, scores[i], &views[i]);
  const RulesContact contact_view = DescribeContact(contact, ctx.now_ns);
  if (!rules.Evaluate(contact_view, views.data(), count, names_)) {
    rules_fallbacks_.fetch_add(1, std::memory_order_relaxed);
    for (int i = 0; i < count; ++i) out->Offer(scores[i]);
    return false;
  }
  for (int i = 0; i < count; ++i) {
    if (!views[i].eligible) continue;
    AgentScore rescored = scores[i];
    rescored.total = views[i].score;
    out->Offer(rescored);
  }
  return true;
}

bool LockFreeRouter::RulesAdmit(const RulesRecord& rules,
                                const PolicyRecord& policy,
                                const ContactRecord& contact,
                                const AgentRecord& record, uint64_t word,
                                int64_t now_ns, double* score_out) const {
  const HistoryAffinity history =
      LookupAffinity(contact, policy.policy, now_ns);
  const ScoringContext ctx{
      &policy.policy,      &contact, &history, now_ns, options_.max_skill_level,
      options_.max_fluency};
  const AgentScore score = ScoreAgent(ctx, record, slots_[record.index], word);
  RulesCandidate view;
  DescribeCandidate(ctx, score, &view);
  const RulesContact contact_view = DescribeContact(contact, now_ns);
  *score_out = score.builtin_total;
  if (!rules.rules->Evaluate(contact_view, &view, 1, names_)) {
    rules_fallbacks_.fetch_add(1, std::memory_order_relaxed);
    return true;  // The built-in filter already passed.
  }
  *score_out = view.score;
  return view.eligible;
}

RoutingDecision::QualifiedAgents LockFreeRouter::CountQualifiedAgents(
    const ContactRecord& contact) const {
  RoutingDecision::QualifiedAgents counts;
  const AgentBitmap* required[kMaxRequirements];
  int required_count = 0;
  for (const auto& [skill, min_level] : contact.required) {
    const AgentBitmap* bitmap = SkillBitmap(skill);
    if (bitmap == nullptr) return counts;
    required[required_count++] = bitmap;
  }
  const int words = std::min(agent_words_, (agent_ids_.size() + 63) / 64);
  for (int w = 0; w < words; ++w) {
    // Without a required skill every agent on the roster is a candidate.
    uint64_t mask = ~uint64_t{0};
    for (int i = 0; i < required_count && mask != 0; ++i) {
      mask &= required[i]->Word(w);
    }
    while (mask != 0) {
      const int agent = w * 64 + std::countr_zero(mask);
      mask &= mask - 1;
      if (agent >= agent_ids_.size()) break;
      const AgentSlot& slot = slots_[agent];
      const uint64_t word = slot.word.load(std::memory_order_acquire);
      const AgentRecord* record = slot.record.load(std::memory_order_acquire);
      if (record == nullptr || AgentWord::Presence(word) == kPresenceRemoved ||
          record->capacity[contact.channel] == 0 || contact.Excludes(agent) ||
          !contact.Admits(agent)) {
        continue;
      }
      bool qualified = true;
      for (const auto& [skill, min_level] : contact.required) {
        if (record->SkillLevel(skill) < min_level) qualified = false;
      }
      if (!contact.languages.empty()) {
        bool speaks = false;
        for (int language : contact.languages) {
          if (record->Fluency(language) > 0) speaks = true;
        }
        qualified = qualified && speaks;
      }
      if (!qualified) continue;
      ++counts.total;
      switch (static_cast<AgentState>(AgentWord::Presence(word))) {
        case AgentState::kAvailable:
          ++counts.at_capacity;  // Or freed an instant ago: close enough.
          break;
        case AgentState::kLoggedOut:
          ++counts.logged_out;
          break;
        default:
          ++counts.unavailable;
      }
    }
  }
  return counts;
}

HistoryAffinity LockFreeRouter::LookupAffinity(const ContactRecord& contact,
                                               const RoutingPolicy& policy,
                                               int64_t now_ns) const {
  HistoryAffinity affinity;
  if (contact.contact.customer_id.empty()) return affinity;
  InteractionRecord records[kMaxHistoryDepth];
  const int n =
      history_.Lookup(contact.contact.customer_id, records, kMaxHistoryDepth);
  const double half_life_ns =
      absl::ToDoubleNanoseconds(policy.affinity_half_life);
  for (int i = 0; i < n; ++i) {
    const int agent = static_cast<int>(records[i].agent_index);
    if (affinity.Find(agent) != nullptr) continue;  // Most recent one counts.
    const int64_t at_ns = absl::ToUnixNanos(records[i].time);
    const double age_ns =
        std::max<double>(0, static_cast<double>(now_ns - at_ns));
    const bool resolved = records[i].outcome == ContactOutcome::kResolved;
    double base = resolved ? policy.resolved_affinity : policy.served_affinity;
    // An agent who transferred the customer away is no one to send them back
    // to.
    if (records[i].outcome == ContactOutcome::kTransferred) base = 0;
    affinity.entries.push_back(
        {agent, base * std::exp2(-age_ns / half_life_ns), resolved, at_ns});
  }
  return affinity;
}

void LockFreeRouter::StampBasis(const DecisionBasis& basis,
                                const ContactRecord& contact,
                                RoutingDecision* decision) {
  decision->policy_version = basis.policy->version;
  decision->policy_name = basis.policy->policy.name;
  if (basis.rules != nullptr) {
    decision->rules_version = basis.rules->version;
    decision->rules_name = basis.rules->rules->Name();
    decision->rules_step = contact.rules_step;
  }
}

RoutingDecision LockFreeRouter::DescribeAssignment(const ContactRecord& contact,
                                                   const DecisionBasis& basis,
                                                   const ScoringContext& ctx,
                                                   const AgentScore& score,
                                                   int eligible,
                                                   bool rules_failed) {
  const AgentSlot& slot = slots_[score.agent];
  const AgentRecord* record = slot.record.load(std::memory_order_acquire);
  RoutingDecision decision;
  decision.contact_id = contact.contact.id;
  decision.outcome = DecisionOutcome::kAssigned;
  decision.queue = contact.contact.queue;
  decision.channel = contact.contact.channel;
  decision.agent_id = record->profile.id;
  decision.score = score.total;
  decision.builtin_score = score.builtin_total;
  decision.components =
      ExplainScore(ctx, *record, slot, score.word, score, skills_, languages_);
  decision.eligible_agents = eligible;
  StampBasis(basis, contact, &decision);
  decision.rules_fallback = rules_failed;
  decision.decided_at = absl::FromUnixNanos(ctx.now_ns);
  return decision;
}

void LockFreeRouter::CountAnswered(const ContactRecord& contact,
                                   int64_t now_ns) {
  ContactQueue* queue = Queue(contact.queue);
  const int64_t waited = std::max<int64_t>(0, now_ns - contact.enqueue_ns);
  const RoutingPolicy& policy = policy_.load(std::memory_order_acquire)->policy;
  queue->answered.fetch_add(1, std::memory_order_relaxed);
  queue->total_answer_wait_ns.fetch_add(waited, std::memory_order_relaxed);
  if (waited <= absl::ToInt64Nanoseconds(policy.service_level_threshold)) {
    queue->answered_in_service_level.fetch_add(1, std::memory_order_relaxed);
  }
}

LockFreeRouter::AssignResult LockFreeRouter::TryAssign(
    ContactRecord* contact, const DecisionBasis& basis, int64_t now_ns,
    ContactState from, RoutingDecision* decision) {
  const PolicyRecord& policy = *basis.policy;
  const HistoryAffinity history =
      LookupAffinity(*contact, policy.policy, now_ns);
  const ScoringContext ctx{
      &policy.policy,      contact, &history, now_ns, options_.max_skill_level,
      options_.max_fluency};
  while (true) {
    CandidateList candidates;
    const bool rules_ok =
        FindCandidates(*contact, ctx, basis.rules, &candidates);
    if (candidates.count == 0) return AssignResult::kNoAgent;
    for (int i = 0; i < candidates.count; ++i) {
      const int agent = candidates.best[i].agent;
      if (!ClaimAgent(agent, contact->channel)) continue;  // Taken meanwhile.
      if (!contact->AssignTo(from, agent)) {
        // The contact was cancelled, or an agent's drain took it: give the
        // capacity back, and let the agent look at the queues in case a
        // contact arrived while we held it.
        DropLoad(agent, contact->channel, now_ns, /*ended_work=*/false);
        OnCapacityFreed(agent);
        return AssignResult::kContactTaken;
      }
      contact->assigned_ns.store(now_ns, std::memory_order_release);
      *decision = DescribeAssignment(*contact, basis, ctx, candidates.best[i],
                                     candidates.eligible, !rules_ok);
      return AssignResult::kAssigned;
    }
    // Every candidate kept was claimed by someone else between our scan and
    // our claim: others made progress, so scan again.
  }
}

absl::StatusOr<RoutingDecision> LockFreeRouter::Route(const Contact& contact) {
  const int64_t now_ns = NowNs();
  auto guard = epoch_.Pin();
  const DecisionBasis basis = LoadBasis();
  ROUTING_ASSIGN_OR_RETURN(std::unique_ptr<ContactRecord> record,
                           CompileContact(contact, basis, now_ns));
  if (contacts_held_.fetch_add(1, std::memory_order_relaxed) >=
      options_.max_contacts) {
    contacts_held_.fetch_sub(1, std::memory_order_relaxed);
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot take contact '", contact.id, "': the router already holds ",
        options_.max_contacts, " contacts (RouterOptions::max_contacts)"));
  }
  if (!contacts_.Insert(record.get())) {
    contacts_held_.fetch_sub(1, std::memory_order_relaxed);
    return absl::AlreadyExistsError(
        absl::StrCat("contact '", contact.id, "' is already being routed"));
  }
  return RouteHeld(record.release(), basis, now_ns);
}

absl::StatusOr<RoutingDecision> LockFreeRouter::RouteHeld(
    ContactRecord* contact, const DecisionBasis& basis, int64_t now_ns,
    bool refuse_unservable) {
  const PolicyRecord& policy = *basis.policy;
  const std::string& id = contact->contact.id;
  RoutingDecision decision;
  switch (
      TryAssign(contact, basis, now_ns, ContactState::kRouting, &decision)) {
    case AssignResult::kAssigned:
      decisions_.fetch_add(1, std::memory_order_relaxed);
      assigned_immediately_.fetch_add(1, std::memory_order_relaxed);
      CountAnswered(*contact, now_ns);
      return decision;
    case AssignResult::kContactTaken:
      // Only Cancel moves a contact out of kRouting; it also forgot it.
      return absl::AbortedError(
          absl::StrCat("contact '", AsAbsl(id),
                       "' was cancelled while it was being routed"));
    case AssignResult::kNoAgent:
      break;
  }

  const RoutingDecision::QualifiedAgents qualified =
      CountQualifiedAgents(*contact);
  // A later rules step may relax what this one asks (a preferred-agents-only
  // step, a skill overflow): such a contact waits for it instead.
  if (qualified.total == 0 && refuse_unservable &&
      contact->next_step_ns == INT64_MAX) {
    // Refuse rather than queue a contact that would wait forever.
    uint64_t routing = ContactRecord::Pack(ContactState::kRouting, -1);
    if (!contact->state.compare_exchange_strong(
            routing, ContactRecord::Pack(ContactState::kDone, -1),
            std::memory_order_acq_rel)) {
      return absl::AbortedError(
          absl::StrCat("contact '", AsAbsl(id),
                       "' was cancelled while it was being routed"));
    }
    std::string reason =
        absl::StrCat("no agent on the roster can serve contact '", id, "' (",
                     AsAbsl(ChannelName(contact->contact.channel)));
    for (const SkillRequirement& r : contact->contact.required_skills) {
      absl::StrAppend(&reason, ", ", r.skill, " >= ", r.min_level);
    }
    if (!contact->contact.languages.empty()) {
      absl::StrAppend(&reason, ", speaking one of the customer's languages");
    }
    absl::StrAppend(&reason, ")");
    Forget(contact);
    return absl::FailedPreconditionError(reason);
  }

  ContactQueue* queue = Queue(contact->queue);
  uint64_t routing = ContactRecord::Pack(ContactState::kRouting, -1);
  if (!contact->state.compare_exchange_strong(
          routing, ContactRecord::Pack(ContactState::kQueued, -1),
          std::memory_order_acq_rel)) {
    return absl::AbortedError(absl::StrCat(
        "contact '", AsAbsl(id), "' was cancelled while it was being routed"));
  }
  // No lost wakeup: the count is raised and the contact linked (both
  // seq_cst) before we look at the free-agent bitmaps again. An agent that
  // freed capacity set its bit (seq_cst) before reading the count. In the
  // single total order one of us sees the other: either our re-check finds
  // the agent, or the agent's drain finds the contact.
  queue->waiting.fetch_add(1, std::memory_order_seq_cst);
  queue->Enqueue(contact);
  decisions_.fetch_add(1, std::memory_order_relaxed);
  if (contact->next_step_ns != INT64_MAX) {
    // AdvanceQueues() looks at the queues once this time has come.
    int64_t due = next_step_due_ns_.load(std::memory_order_relaxed);
    while (contact->next_step_ns < due &&
           !next_step_due_ns_.compare_exchange_weak(
               due, contact->next_step_ns, std::memory_order_relaxed)) {
    }
  }

  switch (TryAssign(contact, basis, now_ns, ContactState::kQueued, &decision)) {
    case AssignResult::kAssigned:
      queue->waiting.fetch_sub(1, std::memory_order_seq_cst);
      queue->ContactLeft(contact->priority);
      assigned_immediately_.fetch_add(1, std::memory_order_relaxed);
      CountAnswered(*contact, now_ns);
      return decision;
    case AssignResult::kContactTaken:
      // An agent's drain took it (the listener hears of it) or the customer
      // cancelled; either way, it was queued as far as this call knows.
    case AssignResult::kNoAgent:
      break;
  }
  queued_.fetch_add(1, std::memory_order_relaxed);

  decision = RoutingDecision();
  decision.contact_id = id;
  decision.qualified = qualified;
  decision.outcome = DecisionOutcome::kQueued;
  decision.queue = contact->contact.queue;
  decision.channel = contact->contact.channel;
  decision.queue_position = QueuePosition(*contact);
  // Qualified agents who are logged in are the ones who will free up.
  decision.estimated_wait =
      EstimatedWait(*contact, decision.queue_position,
                    qualified.total - qualified.logged_out, policy.policy);
  StampBasis(basis, *contact, &decision);
  decision.decided_at = absl::FromUnixNanos(now_ns);
  return decision;
}

int LockFreeRouter::QueuePosition(const ContactRecord& contact) const {
  const ContactQueue* queue = Queue(contact.queue);
  // Walk the levels in the order DrainQueuesFor() does (highest priority
  // first, FIFO within a level), so ties in aged arrival are broken the same
  // way: a contact met before this one wins a tie, one met after loses it.
  int ahead = 0;
  bool reached = false;
  for (int level = kPriorityLevels - 1; level >= 0; --level) {
    queue->ForEachQueued(level, [&](ContactRecord* c) {
      if (c == &contact) {
        reached = true;
      } else if (c->aged_arrival_ns < contact.aged_arrival_ns ||
                 (!reached && c->aged_arrival_ns == contact.aged_arrival_ns)) {
        ++ahead;
      }
      return true;
    });
  }
  return ahead + 1;
}

absl::Duration LockFreeRouter::EstimatedWait(
    const ContactRecord& contact, int position, int staffed,
    const RoutingPolicy& policy) const {
  // Erlang-free first-order estimate: the `staffed` agents who could serve
  // the contact finish one contact every AHT / staffed on average; the
  // contact waits for `position` of those completions.
  const ContactQueue* queue = Queue(contact.queue);
  const int64_t aht = queue->average_handle_ns.load(std::memory_order_relaxed);
  const absl::Duration handle =
      aht > 0 ? absl::Nanoseconds(aht) : policy.default_handle_time;
  return absl::Trunc(handle * position / std::max(1, staffed),
                     absl::Seconds(1));
}

void LockFreeRouter::Forget(ContactRecord* contact) {
  if (contacts_.Remove(contact)) {
    contacts_held_.fetch_sub(1, std::memory_order_relaxed);
    UnrefContact(contact, &epoch_);
  }
}

absl::Status LockFreeRouter::NotHeld(std::string_view contact_id) {
  return absl::NotFoundError(absl::StrCat("contact '", AsAbsl(contact_id),
                                          "' is not held by the router"));
}

int64_t LockFreeRouter::EndAssignment(ContactRecord* contact, int agent,
                                      int64_t now_ns) {
  const int64_t assigned = contact->assigned_ns.load(std::memory_order_acquire);
  const int64_t handled_ns =
      assigned > 0 && now_ns > assigned ? now_ns - assigned : 0;
  if (handled_ns > 0) {
    slots_[agent].handled_ns.fetch_add(handled_ns, std::memory_order_relaxed);
  }
  DropLoad(agent, contact->channel, now_ns, /*ended_work=*/true);
  // Forget may drop the last reference to the contact: nothing reads it after.
  Forget(contact);
  OnCapacityFreed(agent);
  return handled_ns;
}

absl::StatusOr<uint64_t> LockFreeRouter::Finish(ContactRecord* contact,
                                                bool allow_waiting,
                                                bool allow_assigned) {
  uint64_t word = contact->state.load(std::memory_order_acquire);
  while (true) {
    const ContactState state = ContactRecord::StateOf(word);
    if (state == ContactState::kDone) {
      return absl::NotFoundError(
          absl::StrCat("contact '", contact->id(), "' has already ended"));
    }
    if (state != ContactState::kAssigned && !allow_waiting) {
      return absl::FailedPreconditionError(absl::StrCat(
          "contact '", contact->id(), "' is not assigned to an agent yet"));
    }
    if (state == ContactState::kAssigned && !allow_assigned) {
      return absl::FailedPreconditionError(
          absl::StrCat("contact '", contact->id(), "' is already assigned"));
    }
    if (contact->state.compare_exchange_weak(
            word,
            ContactRecord::Pack(ContactState::kDone,
                                ContactRecord::AgentOf(word)),
            std::memory_order_acq_rel)) {
      break;
    }
  }
  if (ContactRecord::StateOf(word) == ContactState::kQueued) {
    ContactQueue* queue = Queue(contact->queue);
    queue->waiting.fetch_sub(1, std::memory_order_seq_cst);
    // Whoever takes a contact out unlinks the dead nodes it leaves at the
    // head, so a queue whose contacts all leave by cancellation stays short.
    queue->ContactLeft(contact->priority);
  }
  return word;
}

absl::Status LockFreeRouter::Cancel(std::string_view contact_id) {
  auto guard = epoch_.Pin();
  ContactRecord* contact = contacts_.Find(contact_id);
  if (contact == nullptr) {
    return NotHeld(contact_id);
  }
  ROUTING_ASSIGN_OR_RETURN(const uint64_t word,
                           Finish(contact, /*allow_waiting=*/true,
                                  /*allow_assigned=*/true));
  const int64_t now_ns = NowNs();
  switch (ContactRecord::StateOf(word)) {
    case ContactState::kQueued:
    case ContactState::kRouting:
      Queue(contact->queue)->abandoned.fetch_add(1, std::memory_order_relaxed);
      break;
    case ContactState::kAssigned: {
      // The customer left after the agent was chosen: free the agent.
      cancelled_.fetch_add(1, std::memory_order_relaxed);
      EndAssignment(contact, ContactRecord::AgentOf(word), now_ns);
      return absl::OkStatus();
    }
    case ContactState::kDone:
      break;
  }
  Forget(contact);
  cancelled_.fetch_add(1, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::Status LockFreeRouter::Release(std::string_view contact_id,
                                     ContactOutcome outcome) {
  const int outcome_number = static_cast<int>(outcome);
  if (outcome_number < 0 || outcome_number >= kContactOutcomeCount) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown contact outcome number ", outcome_number));
  }
  auto guard = epoch_.Pin();
  ContactRecord* contact = contacts_.Find(contact_id);
  if (contact == nullptr) {
    return NotHeld(contact_id);
  }
  ROUTING_ASSIGN_OR_RETURN(const uint64_t word,
                           Finish(contact, /*allow_waiting=*/false,
                                  /*allow_assigned=*/true));
  const int agent = ContactRecord::AgentOf(word);
  const int64_t now_ns = NowNs();
  slots_[agent].handled_count.fetch_add(1, std::memory_order_relaxed);
  if (!contact->contact.customer_id.empty()) {
    history_.Record(contact->contact.customer_id,
                    InteractionRecord{static_cast<uint32_t>(agent),
                                      contact->contact.channel, outcome,
                                      absl::FromUnixNanos(now_ns)});
  }
  released_.fetch_add(1, std::memory_order_relaxed);
  ContactQueue* queue = Queue(contact->queue);  // Before the contact goes.
  const int64_t handled_ns = EndAssignment(contact, agent, now_ns);
  if (handled_ns > 0) UpdateMovingAverage(queue->average_handle_ns, handled_ns);
  return absl::OkStatus();
}

absl::StatusOr<RoutingDecision> LockFreeRouter::Requeue(
    const Contact& contact) {
  return RequeueContact(contact, /*refuse_unservable=*/true);
}

absl::StatusOr<RoutingDecision> LockFreeRouter::RequeueContact(
    const Contact& contact, bool refuse_unservable) {
  const int64_t now_ns = NowNs();
  auto guard = epoch_.Pin();
  ContactRecord* current = contacts_.Find(contact.id);
  if (current == nullptr) {
    return NotHeld(contact.id);
  }
  // Validate the new requirements before touching the held contact, so a
  // refused requeue leaves it where it was.
  Contact next = contact;
  next.enqueue_time = current->contact.enqueue_time;
  if (next.customer_id.empty()) next.customer_id = current->contact.customer_id;
  if (next.attributes.empty()) next.attributes = current->contact.attributes;
  const DecisionBasis basis = LoadBasis();
  ROUTING_ASSIGN_OR_RETURN(std::unique_ptr<ContactRecord> record,
                           CompileContact(next, basis, now_ns));

  ROUTING_ASSIGN_OR_RETURN(const uint64_t word,
                           Finish(current, /*allow_waiting=*/true,
                                  /*allow_assigned=*/true));
  if (ContactRecord::StateOf(word) == ContactState::kAssigned) {
    const int agent = ContactRecord::AgentOf(word);
    if (!current->contact.customer_id.empty()) {
      history_.Record(current->contact.customer_id,
                      InteractionRecord{static_cast<uint32_t>(agent),
                                        current->contact.channel,
                                        ContactOutcome::kTransferred,
                                        absl::FromUnixNanos(now_ns)});
    }
    // The agent who hands the contact on is not offered it straight back.
    if (!record->Excludes(agent)) record->excluded_agents.push_back(agent);
    // The customer was being served, not waiting: the wait in the new queue
    // starts now (as an ACD measures a transfer's speed of answer), with the
    // contact's priority still aging it from here.
    const int64_t kept_ns = record->enqueue_ns;
    record->contact.enqueue_time = absl::FromUnixNanos(now_ns);
    record->enqueue_ns = now_ns;
    record->aged_arrival_ns += now_ns - kept_ns;
    EndAssignment(current, agent, now_ns);
  } else {
    Forget(current);
  }
  contacts_held_.fetch_add(1, std::memory_order_relaxed);
  if (!contacts_.Insert(record.get())) {
    contacts_held_.fetch_sub(1, std::memory_order_relaxed);
    return absl::AlreadyExistsError(absl::StrCat(
        "contact '", contact.id,
        "' was routed again by another call while being requeued"));
  }
  return RouteHeld(record.release(), basis, now_ns, refuse_unservable);
}

int LockFreeRouter::AdvanceQueues() {
  const int64_t now_ns = NowNs();
  if (now_ns < next_step_due_ns_.load(std::memory_order_relaxed)) return 0;
  // Reset the bound first: a contact queued while we scan lowers it again.
  next_step_due_ns_.store(INT64_MAX, std::memory_order_relaxed);
  std::vector<Contact> due;
  int64_t later = INT64_MAX;
  {
    auto guard = epoch_.Pin();
    const int queue_count = queues_.size();
    for (int q = 0; q < queue_count; ++q) {
      ContactQueue* queue = Queue(q);
      if (queue == nullptr ||
          queue->waiting.load(std::memory_order_acquire) <= 0) {
        continue;
      }
      for (int level = kPriorityLevels - 1; level >= 0; --level) {
        queue->ForEachQueued(level, [&](ContactRecord* c) {
          if (c->State() != ContactState::kQueued) return true;
          if (c->next_step_ns <= now_ns) {
            due.push_back(c->contact);
          } else {
            later = std::min(later, c->next_step_ns);
          }
          return true;
        });
      }
    }
  }
  int moved = 0;
  for (const Contact& contact : due) {
    // Requeue keeps the enqueue time of a contact taken from its queue and
    // plans it again at the step it has reached. A contact that left or was
    // assigned meanwhile is no longer queued: skip it.
    absl::StatusOr<ContactStatus> status = GetContact(contact.id);
    if (!status.ok() || status->state != ContactStatus::State::kQueued) {
      continue;
    }
    absl::StatusOr<RoutingDecision> decision =
        RequeueContact(contact, /*refuse_unservable=*/false);
    if (!decision.ok()) continue;  // Still queued as it was.
    ++moved;
    if (decision->outcome == DecisionOutcome::kAssigned &&
        listener_ != nullptr) {
      Assignment assignment;
      assignment.contact_id = contact.id;
      assignment.customer_id = contact.customer_id;
      assignment.agent_id = decision->agent_id;
      assignment.queue = decision->queue;
      assignment.channel = contact.channel;
      assignment.waited = decision->decided_at - contact.enqueue_time;
      assignment.attributes = contact.attributes;
      assignment.decision = *std::move(decision);
      listener_->OnAssigned(assignment);
    }
  }
  int64_t due_ns = next_step_due_ns_.load(std::memory_order_relaxed);
  while (later < due_ns && !next_step_due_ns_.compare_exchange_weak(
                               due_ns, later, std::memory_order_relaxed)) {
  }
  return moved;
}

absl::StatusOr<ContactStatus> LockFreeRouter::GetContact(
    std::string_view contact_id) const {
  auto guard = epoch_.Pin();
  const ContactRecord* contact = contacts_.Find(contact_id);
  if (contact == nullptr) {
    return NotHeld(contact_id);
  }
  const uint64_t word = contact->state.load(std::memory_order_acquire);
  ContactStatus status;
  status.contact = contact->contact;
  switch (ContactRecord::StateOf(word)) {
    case ContactState::kRouting:
    case ContactState::kQueued:
      status.state = ContactStatus::State::kQueued;
      break;
    case ContactState::kAssigned:
      status.state = ContactStatus::State::kAssigned;
      status.agent_id =
          std::string(agent_ids_.Name(ContactRecord::AgentOf(word)));
      status.assigned_at = absl::FromUnixNanos(
          contact->assigned_ns.load(std::memory_order_acquire));
      break;
    case ContactState::kDone:
      return absl::NotFoundError(
          absl::StrCat("contact '", AsAbsl(contact_id), "' has just ended"));
  }
  return status;
}

}  // namespace routing::internal
