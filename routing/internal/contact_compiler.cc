#include "routing/internal/contact_compiler.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "routing/internal/contact_queue.h"
#include "routing/internal/input_checks.h"
#include "routing/internal/string_view_compat.h"
#include "routing/status_macros.h"

namespace routing::internal {

namespace {

// enqueue - priority x step, saturated: a long step (a valid policy may say
// a level is worth years) must not overflow.
int64_t AgedArrival(int64_t enqueue_ns, int priority, int64_t step_ns) {
  int64_t lead;
  if (__builtin_mul_overflow(static_cast<int64_t>(priority), step_ns, &lead)) {
    lead = INT64_MAX;
  }
  int64_t aged;
  if (__builtin_sub_overflow(enqueue_ns, lead, &aged)) aged = INT64_MIN;
  return aged;
}

}  // namespace

ContactCompiler::ContactCompiler(const RouterOptions* options,
                                 const NameTable* skills,
                                 const NameTable* languages,
                                 const NameTable* agent_ids,
                                 const HistoryStore* history)
    : options_(options),
      skills_(skills),
      languages_(languages),
      agent_ids_(agent_ids),
      history_(history) {}

ContactPlan ContactCompiler::PlanFor(const RoutingRules& rules,
                                     const Contact& contact,
                                     int64_t enqueue_ns, int64_t now_ns) {
  ContactPlan plan;
  rules.Plan(contact, absl::Nanoseconds(now_ns - enqueue_ns), &plan);
  if (plan.priority > kMaxPriority) plan.priority = kMaxPriority;
  if (plan.next_step_after <= absl::ZeroDuration()) {
    plan.next_step_after = absl::InfiniteDuration();  // Already passed.
  }
  return plan;
}

std::vector<SkillRequirement> ContactCompiler::StepSkills(
    const RoutingRules& rules, const Contact& contact, int64_t now_ns) {
  const absl::Time now = absl::FromUnixNanos(now_ns);
  absl::Time enqueue = contact.enqueue_time;
  if (enqueue == absl::InfinitePast() || enqueue > now) enqueue = now;
  ContactPlan plan =
      PlanFor(rules, contact, absl::ToUnixNanos(enqueue), now_ns);
  if (!plan.replace_required_skills) return {};
  return std::move(plan.required_skills);
}

absl::StatusOr<std::unique_ptr<ContactRoute>> ContactCompiler::Compile(
    const Contact& contact, const RoutingPolicy& policy,
    const RoutingRules* rules, int64_t now_ns) const {
  auto route = std::make_unique<ContactRoute>();
  ROUTING_RETURN_IF_ERROR(CompileInto(contact, policy, rules, now_ns,
                                      route.get()));
  return route;
}

absl::Status ContactCompiler::CompileInto(const Contact& contact,
                                          const RoutingPolicy& policy,
                                          const RoutingRules* rules,
                                          int64_t now_ns,
                                          ContactRoute* record) const {
  ROUTING_RETURN_IF_ERROR(CheckName("contact id", contact.id));
  const int channel = static_cast<int>(contact.channel);
  if (channel < 0 || channel >= kChannelCount) {
    return absl::InvalidArgumentError(absl::StrCat(
        "contact '", contact.id, "' has unknown channel number ", channel));
  }
  if (contact.priority < 0 || contact.priority > kMaxPriority) {
    return absl::InvalidArgumentError(
        absl::StrCat("contact '", contact.id, "' priority ", contact.priority,
                     " is outside 0..", kMaxPriority));
  }
  if (contact.required_skills.size() > kMaxListEntries ||
      contact.desired_skills.size() > kMaxListEntries ||
      contact.languages.size() > kMaxListEntries ||
      contact.preferred_agents.size() > kMaxListEntries ||
      contact.excluded_agents.size() > kMaxListEntries) {
    return absl::InvalidArgumentError(
        absl::StrCat("contact '", contact.id, "' lists more than ",
                     kMaxListEntries, " skills, languages or agents"));
  }
  if (contact.customer_id.size() > kMaxIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("contact '", contact.id, "' customer id is longer than ",
                     kMaxIdBytes, " bytes"));
  }
  ROUTING_RETURN_IF_ERROR(CheckAttributes(
      absl::StrCat("contact '", contact.id, "'"), contact.attributes));

  record->contact = contact;
  record->channel = channel;
  record->priority = contact.priority;

  const absl::Time now = absl::FromUnixNanos(now_ns);
  absl::Time enqueue = contact.enqueue_time;
  if (enqueue == absl::InfinitePast()) enqueue = now;
  if (enqueue > now + kMaxEnqueueClockSkew) {
    return absl::InvalidArgumentError(absl::StrCat(
        "contact '", contact.id, "' enqueue time ", absl::FormatTime(enqueue),
        " is more than ", absl::FormatDuration(kMaxEnqueueClockSkew),
        " after the router's clock (", absl::FormatTime(now), ")"));
  }
  // Within the allowed skew: the host's clock is a little ahead.
  if (enqueue > now) enqueue = now;
  if (now - enqueue > kMaxClaimedWait) {
    return absl::InvalidArgumentError(absl::StrCat(
        "contact '", contact.id, "' claims to have waited ",
        absl::FormatDuration(now - enqueue), "; more than ",
        absl::FormatDuration(kMaxClaimedWait), " means a clock error"));
  }
  record->contact.enqueue_time = enqueue;
  record->enqueue_ns = absl::ToUnixNanos(enqueue);
  record->planned_ns = now_ns;

  // The contact's own lists are checked as given, even where a rules step
  // replaces them: malformed input is refused whatever the rules say.
  for (const auto* list : {&contact.required_skills, &contact.desired_skills}) {
    for (size_t i = 0; i < list->size(); ++i) {
      const SkillRequirement& r = (*list)[i];
      ROUTING_RETURN_IF_ERROR(
          CheckSkillRequirement(contact.id, r, options_->max_skill_level));
      // Lists are short (a handful, at most kMaxRequirements): a scan of
      // the ones before beats allocating a set on every decision.
      for (size_t j = 0; j < i; ++j) {
        if ((*list)[j].skill == r.skill) {
          return absl::InvalidArgumentError(absl::StrCat(
              "contact '", contact.id, "' lists skill '", r.skill, "' twice"));
        }
      }
    }
  }
  for (const std::string& language : contact.languages) {
    ROUTING_RETURN_IF_ERROR(CheckName(
        absl::StrCat("contact '", contact.id, "' language"), language));
  }
  for (const auto* list : {&contact.preferred_agents, &contact.excluded_agents}) {
    for (const std::string& agent : *list) {
      ROUTING_RETURN_IF_ERROR(CheckName(
          absl::StrCat("contact '", contact.id, "' agent id"), agent));
    }
  }
  std::string queue_name = contact.queue;
  if (queue_name.empty()) {
    queue_name = contact.required_skills.empty()
                     ? "default"
                     : contact.required_skills.front().skill;
  }
  ROUTING_RETURN_IF_ERROR(CheckName(
      absl::StrCat("contact '", contact.id, "' queue name"), queue_name));

  // The rules' step: its priority and requirements replace the contact's own
  // for routing; the record keeps the contact as given, to plan again later.
  const std::vector<SkillRequirement>* required_skills =
      &contact.required_skills;
  const std::vector<std::string>* languages = &contact.languages;
  const std::vector<std::string> no_languages;
  ContactPlan plan;
  if (rules != nullptr) {
    plan = PlanFor(*rules, record->contact, record->enqueue_ns, now_ns);
    if (plan.priority >= 0) record->priority = plan.priority;
    if (plan.replace_required_skills) required_skills = &plan.required_skills;
    if (plan.drop_languages) languages = &no_languages;
    record->rules_step = plan.step;
    if (plan.next_step_after != absl::InfiniteDuration()) {
      record->next_step_ns =
          record->enqueue_ns + absl::ToInt64Nanoseconds(plan.next_step_after);
    }
    record->preferred_only = plan.preferred_only;
  }
  const absl::Duration priority_step = plan.priority_step > absl::ZeroDuration()
                                           ? plan.priority_step
                                           : policy.priority_step;
  record->aged_arrival_ns = AgedArrival(
      record->enqueue_ns, record->priority,
      absl::ToInt64Nanoseconds(priority_step));
  record->aged_ms = FloorMilliseconds(record->aged_arrival_ns);

  auto compile_skills =
      [&](const std::vector<SkillRequirement>& list, bool required,
          std::vector<std::pair<int, int>>* out) -> absl::Status {
    out->reserve(list.size());
    for (const SkillRequirement& r : list) {
      ROUTING_RETURN_IF_ERROR(
          CheckSkillRequirement(contact.id, r, options_->max_skill_level));
      const int id = skills_->Find(r.skill);
      if (id < 0 && required) {
        return absl::NotFoundError(absl::StrCat(
            "contact '", contact.id, "' requires skill '", r.skill,
            "' which no agent on the roster has",
            required_skills != &contact.required_skills
                ? absl::StrCat(" (rules step ", record->rules_step, ")")
                : ""));
      }
      if (id >= 0 &&
          std::any_of(out->begin(), out->end(),
                      [id](const std::pair<int, int>& e) { return e.first == id; })) {
        return absl::InvalidArgumentError(absl::StrCat(
            "contact '", contact.id, "' lists skill '", r.skill, "' twice"));
      }
      out->emplace_back(id, r.min_level);
    }
    return absl::OkStatus();
  };
  ROUTING_RETURN_IF_ERROR(
      compile_skills(*required_skills, true, &record->required));
  ROUTING_RETURN_IF_ERROR(
      compile_skills(contact.desired_skills, false, &record->desired));

  for (size_t i = 0; i < languages->size(); ++i) {
    ROUTING_RETURN_IF_ERROR(CheckName(
        absl::StrCat("contact '", contact.id, "' language"), (*languages)[i]));
    const int id = languages_->Find((*languages)[i]);
    if (id < 0) continue;  // Nobody speaks it; a later choice may still match.
    record->languages.push_back(id);
    record->language_rank.push_back(static_cast<int>(i));
  }
  if (!languages->empty() && record->languages.empty()) {
    return absl::NotFoundError(
        absl::StrCat("contact '", contact.id, "' speaks ",
                     absl::StrJoin(contact.languages, ", "),
                     " and no agent on the roster speaks any of them"));
  }

  for (const std::string& agent : contact.preferred_agents) {
    ROUTING_RETURN_IF_ERROR(CheckName(
        absl::StrCat("contact '", contact.id, "' preferred agent id"), agent));
    const int index = agent_ids_->Find(agent);
    if (index >= 0) record->preferred_agents.push_back(index);
  }
  if (record->preferred_only) {
    // The preferred agents and whoever served the customer before (except
    // those who transferred them away).
    record->only_agents = record->preferred_agents;
    if (!contact.customer_id.empty()) {
      InteractionRecord past[kMaxHistoryDepth];
      const int n =
          history_->Lookup(contact.customer_id, past, kMaxHistoryDepth);
      for (int i = 0; i < n; ++i) {
        if (past[i].outcome != ContactOutcome::kTransferred) {
          record->only_agents.push_back(static_cast<int>(past[i].agent_index));
        }
      }
    }
    // Nobody to prefer (a first-time customer, no CRM names): the step
    // restricts nothing, rather than leaving the contact unservable.
    if (record->only_agents.empty()) record->preferred_only = false;
  }
  for (const std::string& agent : contact.excluded_agents) {
    ROUTING_RETURN_IF_ERROR(CheckName(
        absl::StrCat("contact '", contact.id, "' excluded agent id"), agent));
    // An id the router has not seen yet is kept by name, so the exclusion
    // still holds if that agent is added while the contact waits; nothing
    // is interned for it.
    const int index = agent_ids_->Find(agent);
    if (index >= 0) {
      record->excluded_agents.push_back(index);
    } else {
      record->excluded_unknown.push_back(agent);
    }
  }

  record->contact.queue = std::move(queue_name);
  return absl::OkStatus();
}

}  // namespace routing::internal
