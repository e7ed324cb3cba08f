// Who can take a contact: the one eligibility predicate (for the scan, the
// drain and the qualified-agent count), the bitmap scan of free agents, the
// bridge to operator rules (veto, rescore, admit), and the decision's
// explanation.
#include <algorithm>
#include <bit>
#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "routing/internal/lock_free_router.h"
#include "routing/internal/string_view_compat.h"

namespace routing::internal {


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

bool LockFreeRouter::Excludes(const ContactRoute& route, int agent) const {
  if (route.Excludes(agent)) return true;
  // Ids unknown when the contact was compiled, matched by name: the agent
  // may have been added since.
  if (route.excluded_unknown.empty()) return false;
  const std::string_view id = agents_.ids().Name(agent);
  for (const std::string& name : route.excluded_unknown) {
    if (name == id) return true;
  }
  return false;
}

bool LockFreeRouter::Qualifies(const AgentRecord& agent,
                               const ContactRoute& route) const {
  if (agent.capacity[route.channel] == 0) return false;
  for (const auto& [skill, min_level] : route.required) {
    if (agent.SkillLevel(skill) < min_level) return false;
  }
  if (!route.languages.empty()) {
    bool speaks = false;
    for (int language : route.languages) {
      if (agent.Fluency(language) > 0) {
        speaks = true;
        break;
      }
    }
    if (!speaks) return false;
  }
  return route.Admits(agent.index) && !Excludes(route, agent.index);
}

bool LockFreeRouter::Eligible(const AgentRecord& agent, uint64_t word,
                              const ContactRoute& route) const {
  return AgentWord::IsAvailable(word) &&
         agent.HasRoomFor(word, route.channel) && Qualifies(agent, route);
}

// Candidates gathered before scoring, and how far ahead their slots are
// prefetched: about the number of cache misses one core keeps in flight
// (10-12 line fill buffers on current x86 cores).
constexpr int kCandidateBatch = 64;
constexpr int kCacheLineBytes = 64;
constexpr int kPrefetchDistance = 8;

bool LockFreeRouter::FindCandidates(const ContactRoute& route,
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
  for (const auto& [skill, min_level] : route.required) {
    const AgentBitmap* bitmap = agents_.SkillBitmap(skill);
    if (bitmap == nullptr) return true;
    required[required_count++] = bitmap;
  }
  const AgentBitmap* spoken[kMaxRequirements];
  int spoken_count = 0;
  for (int language : route.languages) {
    const AgentBitmap* bitmap = agents_.LanguageBitmap(language);
    if (bitmap != nullptr) spoken[spoken_count++] = bitmap;
  }
  if (!route.languages.empty() && spoken_count == 0) return true;

  // Candidates are gathered from the bitmaps in batches, then scored with
  // their slots and records prefetched a few agents ahead: in a large pool
  // every candidate is a cache miss, and overlapping the misses is most of
  // the cost of a decision.
  int batch[kCandidateBatch];
  int batched = 0;
  auto score_batch = [&] {
    for (int i = 0; i < batched && i < kPrefetchDistance; ++i) {
      __builtin_prefetch(&agents_.Slot(batch[i]));
    }
    for (int i = 0; i < batched; ++i) {
      if (i + kPrefetchDistance < batched) {
        __builtin_prefetch(&agents_.Slot(batch[i + kPrefetchDistance]));
      }
      if (i + kPrefetchDistance / 2 < batched) {
        const char* record = reinterpret_cast<const char*>(
            agents_.Slot(batch[i + kPrefetchDistance / 2]).record.load(
                std::memory_order_relaxed));
        if (record != nullptr) {
          __builtin_prefetch(record);
          __builtin_prefetch(record + kCacheLineBytes);
        }
      }
      const AgentSlot& slot = agents_.Slot(batch[i]);
      // The bit was a hint; the word and record are the truth.
      const uint64_t word = slot.word.load(std::memory_order_acquire);
      const AgentRecord* record = slot.record.load(std::memory_order_acquire);
      if (record == nullptr || !Eligible(*record, word, route)) continue;
      if (rules != nullptr) {
        rules_batch.push_back(ScoreAgent(ctx, *record, slot, word));
      } else {
        out->Offer(ScoreAgent(ctx, *record, slot, word));
      }
    }
    batched = 0;
  };

  const AgentBitmap& free = agents_.Free(route.channel);
  const int words = agents_.Words();
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
  return OfferThroughRules(route, ctx, *rules->rules, rules_batch.data(),
                           static_cast<int>(rules_batch.size()), out);
}

RulesContact LockFreeRouter::DescribeContact(const ContactRoute& route,
                                             int64_t now_ns) const {
  RulesContact view;
  view.contact = &route.contact;
  view.channel = route.channel;
  view.priority = route.priority;
  view.waited_seconds =
      std::max<double>(0, static_cast<double>(now_ns - route.enqueue_ns)) /
      1e9;
  view.step = route.rules_step;
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

bool LockFreeRouter::OfferThroughRules(const ContactRoute& route,
                                       const ScoringContext& ctx,
                                       const RoutingRules& rules,
                                       const AgentScore* scores, int count,
                                       CandidateList* out) const {
  if (rules.Suspended()) {
    // The rules' breaker tripped: decide without entering them.
    counters_.Add(counters_.rules_fallbacks);
    counters_.Add(counters_.rules_suspended_decisions);
    for (int i = 0; i < count; ++i) out->Offer(scores[i]);
    return false;
  }
  thread_local std::vector<RulesCandidate> views;
  views.resize(count);
  for (int i = 0; i < count; ++i) DescribeCandidate(ctx, scores[i], &views[i]);
  const RulesContact contact_view = DescribeContact(route, ctx.now_ns);
  if (!rules.Evaluate(contact_view, views.data(), count, names_)) {
    counters_.Add(counters_.rules_fallbacks);
    for (int i = 0; i < count; ++i) out->Offer(scores[i]);
    return false;
  }
  for (int i = 0; i < count; ++i) {
    if (!views[i].eligible) {
      NoteVeto(route);
      continue;
    }
    AgentScore rescored = scores[i];
    rescored.total = views[i].score;
    out->Offer(rescored);
  }
  return true;
}

bool LockFreeRouter::RulesAdmit(const RulesRecord& rules,
                                const PolicyRecord& policy,
                                const ContactRoute& route,
                                const AgentRecord& record, uint64_t word,
                                int64_t now_ns, double* score_out) const {
  if (rules.rules->Suspended()) {
    counters_.Add(counters_.rules_fallbacks);
    counters_.Add(counters_.rules_suspended_decisions);
    // The built-in filter already passed; the built-in score ranks.
    const HistoryAffinity history =
        LookupAffinity(route, policy.policy, now_ns);
    const ScoringContext ctx{&policy.policy, &route, &history, now_ns,
                             options_.max_skill_level, options_.max_fluency};
    *score_out = ScoreAgent(ctx, record, agents_.Slot(record.index), word)
                     .builtin_total;
    return true;
  }
  const HistoryAffinity history =
      LookupAffinity(route, policy.policy, now_ns);
  const ScoringContext ctx{
      &policy.policy,      &route, &history, now_ns, options_.max_skill_level,
      options_.max_fluency};
  const AgentScore score = ScoreAgent(ctx, record, agents_.Slot(record.index), word);
  RulesCandidate view;
  DescribeCandidate(ctx, score, &view);
  const RulesContact contact_view = DescribeContact(route, now_ns);
  *score_out = score.builtin_total;
  if (!rules.rules->Evaluate(contact_view, &view, 1, names_)) {
    counters_.Add(counters_.rules_fallbacks);
    return true;  // The built-in filter already passed.
  }
  *score_out = view.score;
  return view.eligible;
}

RoutingDecision::QualifiedAgents LockFreeRouter::CountQualifiedAgents(
    const ContactRoute& route) const {
  RoutingDecision::QualifiedAgents counts;
  const AgentBitmap* required[kMaxRequirements];
  int required_count = 0;
  for (const auto& [skill, min_level] : route.required) {
    const AgentBitmap* bitmap = agents_.SkillBitmap(skill);
    if (bitmap == nullptr) return counts;
    required[required_count++] = bitmap;
  }
  const int words = agents_.Words();
  for (int w = 0; w < words; ++w) {
    // Without a required skill every agent on the roster is a candidate.
    uint64_t mask = ~uint64_t{0};
    for (int i = 0; i < required_count && mask != 0; ++i) {
      mask &= required[i]->Word(w);
    }
    while (mask != 0) {
      const int agent = w * 64 + std::countr_zero(mask);
      mask &= mask - 1;
      if (agent >= agents_.ids().size()) break;
      const AgentSlot& slot = agents_.Slot(agent);
      const uint64_t word = slot.word.load(std::memory_order_acquire);
      const AgentRecord* record = slot.record.load(std::memory_order_acquire);
      const uint8_t presence = AgentWord::Presence(word);
      if (record == nullptr || presence == kPresenceRemoved ||
          presence == kPresenceAdding || !Qualifies(*record, route)) {
        continue;
      }
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

HistoryAffinity LockFreeRouter::LookupAffinity(const ContactRoute& route,
                                               const RoutingPolicy& policy,
                                               int64_t now_ns) const {
  HistoryAffinity affinity;
  if (route.contact.customer_id.empty()) return affinity;
  InteractionRecord records[kMaxHistoryDepth];
  const int n =
      history_.Lookup(route.contact.customer_id, records, kMaxHistoryDepth);
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
                                const ContactRoute& route,
                                RoutingDecision* decision) {
  decision->token = route.token;
  decision->user_data = route.contact.user_data;
  decision->policy_version = basis.policy->version;
  decision->policy_name = basis.policy->policy.name;
  if (basis.rules != nullptr) {
    decision->rules_version = basis.rules->version;
    decision->rules_name = basis.rules->rules->Name();
    decision->rules_step = route.rules_step;
    if (basis.rules->rules->Suspended()) {
      decision->rules_suspended = true;
      decision->rules_fallback = true;
    }
  }
}

RoutingDecision LockFreeRouter::DescribeAssignment(const ContactRoute& route,
                                                   const DecisionBasis& basis,
                                                   const ScoringContext& ctx,
                                                   const AgentScore& score,
                                                   int eligible,
                                                   bool rules_failed) const {
  const AgentSlot& slot = agents_.Slot(score.agent);
  const AgentRecord* record = slot.record.load(std::memory_order_acquire);
  RoutingDecision decision;
  decision.contact_id = route.contact.id;
  decision.outcome = DecisionOutcome::kAssigned;
  decision.queue = route.contact.queue;
  decision.channel = route.contact.channel;
  decision.agent_id = record->profile.id;
  decision.score = score.total;
  decision.builtin_score = score.builtin_total;
  decision.components =
      ExplainScore(ctx, *record, slot, score.word, score, skills_, languages_);
  decision.eligible_agents = eligible;
  StampBasis(basis, route, &decision);
  decision.rules_fallback = decision.rules_fallback || rules_failed;
  decision.decided_at = absl::FromUnixNanos(ctx.now_ns);
  return decision;
}


void LockFreeRouter::NoteVeto(const ContactRoute& route) const {
  if (!route.rules_vetoed.load(std::memory_order_relaxed) &&
      !route.rules_vetoed.exchange(
          true, std::memory_order_relaxed)) {
    vetoes_.fetch_add(1, std::memory_order_seq_cst);
  }
}

}  // namespace routing::internal
