#include "routing/internal/agent_scoring.h"

#include <algorithm>
#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "routing/internal/string_view_compat.h"

namespace routing::internal {

namespace {

double Clamp01(double v) { return std::clamp(v, 0.0, 1.0); }

double SkillValue(const ScoringContext& ctx, const AgentRecord& agent) {
  const ContactRoute& c = *ctx.contact;
  const size_t terms = c.required.size() + c.desired.size();
  if (terms == 0) return 1.0;
  double sum = 0;
  for (const auto& [skill, min_level] : c.required) {
    sum += static_cast<double>(agent.SkillLevel(skill)) / ctx.max_skill_level;
  }
  for (const auto& [skill, min_level] : c.desired) {
    if (skill < 0) continue;  // Unknown to the roster: nobody has it.
    const int level = agent.SkillLevel(skill);
    if (level >= min_level) {
      sum += static_cast<double>(level) / ctx.max_skill_level;
    }
  }
  return Clamp01(sum / terms);
}

double LanguageValue(const ScoringContext& ctx, const AgentRecord& agent,
                     int* best_index) {
  const ContactRoute& c = *ctx.contact;
  *best_index = -1;
  if (c.languages.empty()) return 1.0;
  double best = 0;
  for (size_t i = 0; i < c.languages.size(); ++i) {
    const int fluency = agent.Fluency(c.languages[i]);
    if (fluency == 0) continue;
    const double value =
        (static_cast<double>(fluency) / ctx.max_fluency) *
        std::max(0.0, 1.0 - kLanguagePreferenceStep * c.language_rank[i]);
    if (value > best) {
      best = value;
      *best_index = static_cast<int>(i);
    }
  }
  return Clamp01(best);
}

}  // namespace

double OccupancyOf(const AgentSlot& slot, int64_t now_ns) {
  const int64_t login = slot.login_ns.load(std::memory_order_relaxed);
  const int64_t logged_in = now_ns - login;
  if (login == 0 || logged_in <= 0) return 0;
  const int64_t handled = slot.handled_ns.load(std::memory_order_relaxed);
  return Clamp01(static_cast<double>(handled) / logged_in);
}

AgentScore ScoreAgent(const ScoringContext& ctx, const AgentRecord& agent,
                      const AgentSlot& slot, uint64_t word) {
  const RoutingPolicy& policy = *ctx.policy;
  const ScoringWeights& w = policy.weights;
  AgentScore score;
  score.agent = agent.index;
  score.record = &agent;
  score.word = word;
  auto& v = score.values;

  v[kSkillComponent] = SkillValue(ctx, agent);

  if (ctx.contact->Prefers(agent.index)) {
    v[kAffinityComponent] = policy.preferred_agent_affinity;
  } else if (const HistoryAffinity::Entry* e = ctx.history->Find(agent.index)) {
    v[kAffinityComponent] = e->value;
  } else {
    v[kAffinityComponent] = 0;
  }

  int language_index;
  v[kLanguageComponent] = LanguageValue(ctx, agent, &language_index);

  const int total_load = AgentWord::TotalLoad(word);
  v[kLoadComponent] = agent.total_capacity > 0
                          ? Clamp01(1.0 - static_cast<double>(total_load) /
                                              agent.total_capacity)
                          : 0;
  v[kOccupancyComponent] = 1.0 - OccupancyOf(slot, ctx.now_ns);

  score.idle_since_ns = slot.idle_since_ns.load(std::memory_order_relaxed);
  if (total_load == 0) {
    const double idle_ns =
        static_cast<double>(ctx.now_ns - score.idle_since_ns);
    v[kIdleComponent] = Clamp01(idle_ns / ctx.idle_saturation_ns);
  } else {
    // Busy agents have no idle seniority; they queue behind idle ones.
    v[kIdleComponent] = 0;
    score.idle_since_ns = ctx.now_ns;
  }

  score.total =
      w.skill * v[kSkillComponent] + w.affinity * v[kAffinityComponent] +
      w.language * v[kLanguageComponent] + w.load * v[kLoadComponent] +
      w.occupancy * v[kOccupancyComponent] + w.idle * v[kIdleComponent];
  score.builtin_total = score.total;
  return score;
}

std::vector<ScoreComponent> ExplainScore(const ScoringContext& ctx,
                                         const AgentRecord& agent,
                                         const AgentSlot& slot, uint64_t word,
                                         const AgentScore& score,
                                         const NameTable& skills,
                                         const NameTable& languages) {
  const RoutingPolicy& policy = *ctx.policy;
  const ScoringWeights& w = policy.weights;
  const ContactRoute& c = *ctx.contact;
  std::vector<ScoreComponent> out(kScoreComponentCount);
  const std::array<double, kScoreComponentCount> weights = {
      w.skill, w.affinity, w.language, w.load, w.occupancy, w.idle};
  const std::array<const char*, kScoreComponentCount> names = {
      "skill", "affinity", "language", "load", "occupancy", "idle"};
  for (int i = 0; i < kScoreComponentCount; ++i) {
    out[i].name = names[i];
    out[i].value = score.values[i];
    out[i].weight = weights[i];
    out[i].contribution = weights[i] * score.values[i];
  }

  // Skill.
  std::string detail;
  for (const auto& [skill, min_level] : c.required) {
    absl::StrAppend(&detail, detail.empty() ? "" : ", ",
                    AsAbsl(skills.Name(skill)), " ", agent.SkillLevel(skill),
                    "/", ctx.max_skill_level, " (needs ", min_level, ")");
  }
  for (const auto& [skill, min_level] : c.desired) {
    if (skill < 0) continue;
    const int level = agent.SkillLevel(skill);
    absl::StrAppend(&detail, detail.empty() ? "" : ", ",
                    AsAbsl(skills.Name(skill)), " ", level, "/",
                    ctx.max_skill_level,
                    level >= min_level ? " (desired)" : " (desired, not met)");
  }
  out[kSkillComponent].detail = detail.empty() ? "no skills asked for" : detail;

  // Affinity.
  if (c.Prefers(agent.index)) {
    out[kAffinityComponent].detail = "named as preferred agent";
  } else if (const HistoryAffinity::Entry* e = ctx.history->Find(agent.index)) {
    out[kAffinityComponent].detail = absl::StrCat(
        e->resolved ? "resolved" : "served", " this customer ",
        absl::FormatDuration(absl::Trunc(
            absl::Nanoseconds(ctx.now_ns - e->at_ns), absl::Seconds(1))),
        " ago");
  } else {
    out[kAffinityComponent].detail = c.contact.customer_id.empty()
                                         ? "anonymous customer"
                                         : "no history with this customer";
  }

  // Language.
  int language_index;
  LanguageValue(ctx, agent, &language_index);
  if (c.languages.empty()) {
    out[kLanguageComponent].detail = "no language asked for";
  } else if (language_index >= 0) {
    const int lang = c.languages[language_index];
    out[kLanguageComponent].detail = absl::StrCat(
        AsAbsl(languages.Name(lang)), " fluency ", agent.Fluency(lang), "/",
        ctx.max_fluency, " (choice ", c.language_rank[language_index] + 1, ")");
  }

  // Load, occupancy, idle.
  out[kLoadComponent].detail =
      absl::StrCat("holds ", AgentWord::TotalLoad(word), " of ",
                   agent.total_capacity, " contacts");
  out[kOccupancyComponent].detail =
      absl::StrFormat("handling %.0f%% of logged-in time",
                      100 * (1 - score.values[kOccupancyComponent]));
  if (AgentWord::TotalLoad(word) == 0) {
    out[kIdleComponent].detail = absl::StrCat(
        "idle ", absl::FormatDuration(absl::Trunc(
                     absl::Nanoseconds(ctx.now_ns - score.idle_since_ns),
                     absl::Seconds(1))));
  } else {
    out[kIdleComponent].detail = "busy with other contacts";
  }
  (void)slot;
  return out;
}

}  // namespace routing::internal
