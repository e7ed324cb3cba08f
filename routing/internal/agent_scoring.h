// File: routing/internal/agent_scoring.h
//
// The built-in score of one agent for one contact: six components, each 0..1,
// weighted by the policy in force. Scoring runs on every eligible free agent of
// every decision, so it reads only the compiled records and a few atomics and
// allocates nothing; the readable explanation is built for the winner alone.
#ifndef ROUTING_INTERNAL_AGENT_SCORING_H_
#define ROUTING_INTERNAL_AGENT_SCORING_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/time/time.h"
#include "routing/internal/agent_slot.h"
#include "routing/internal/contact_record.h"
#include "routing/internal/history_store.h"
#include "routing/internal/name_table.h"
#include "routing/routing_decision.h"
#include "routing/routing_policy.h"

namespace routing::internal {

enum ScoreComponentIndex {
  kSkillComponent = 0,
  kAffinityComponent,
  kLanguageComponent,
  kLoadComponent,
  kOccupancyComponent,
  kIdleComponent,
  kScoreComponentCount,
};

// Affinity this customer's history gives each agent, looked up once per
// decision rather than once per agent.
struct HistoryAffinity {
  struct Entry {
    int agent;
    double value;
    bool resolved;
    int64_t at_ns;
  };
  // At most the history depth, most recent first; inline, so a decision does
  // not allocate for it.
  absl::InlinedVector<Entry, kMaxHistoryDepth> entries;

  const Entry* Find(int agent) const {
    for (const Entry& e : entries) {
      if (e.agent == agent) return &e;
    }
    return nullptr;
  }
};

// Handling time over logged-in time, 0..1.
double OccupancyOf(const AgentSlot& slot, int64_t now_ns);

struct AgentScore {
  int agent = -1;
  const AgentRecord* record = nullptr;  // The record scored (epoch-pinned).
  double total = 0;  // What the decision ranks by: the rules' score if any.
  double builtin_total = 0;  // The built-in weighted sum.
  // Every component is written by ScoreAgent; not zero-filled here, since
  // clearing the array for each of thousands of candidates per decision
  // (a `rep stos`) cost more than any single component.
  std::array<double, kScoreComponentCount> values;
  int64_t idle_since_ns = 0;  // Tie-break: the longest idle agent wins.
  uint64_t word = 0;  // The agent's state word the score was computed from.
};

// Everything scoring needs that is the same for every agent of a decision,
// converted once so the per-agent loop does no Duration arithmetic.
struct ScoringContext {
  ScoringContext(const RoutingPolicy* policy, const ContactRoute* contact,
                 const HistoryAffinity* history, int64_t now_ns,
                 int max_skill_level, int max_fluency)
      : policy(policy),
        contact(contact),
        history(history),
        now_ns(now_ns),
        max_skill_level(max_skill_level),
        max_fluency(max_fluency),
        idle_saturation_ns(absl::ToDoubleNanoseconds(policy->idle_saturation)) {
  }

  const RoutingPolicy* policy;
  const ContactRoute* contact;
  const HistoryAffinity* history;
  int64_t now_ns;
  int max_skill_level;
  int max_fluency;
  double idle_saturation_ns;  // Positive: ValidatePolicy requires it.
};

// Each later preferred language is worth this much less than the one before:
// a fluent speaker of the customer's second language scores 0.8 of one of the
// first.
inline constexpr double kLanguagePreferenceStep = 0.2;

AgentScore ScoreAgent(const ScoringContext& context, const AgentRecord& agent,
                      const AgentSlot& slot, uint64_t word);

// True if `a` should be preferred over `b`: higher total, then longer idle,
// then lower index (deterministic).
inline bool BetterThan(const AgentScore& a, const AgentScore& b) {
  if (a.total != b.total) return a.total > b.total;
  if (a.idle_since_ns != b.idle_since_ns) {
    return a.idle_since_ns < b.idle_since_ns;
  }
  return a.agent < b.agent;
}

// The six components with weights and human-readable details.
std::vector<ScoreComponent> ExplainScore(const ScoringContext& context,
                                         const AgentRecord& agent,
                                         const AgentSlot& slot, uint64_t word,
                                         const AgentScore& score,
                                         const NameTable& skills,
                                         const NameTable& languages);

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_AGENT_SCORING_H_
