// The result objects of routing.h: decisions, assignments (inside the
// callback), agent status snapshots, string lists, customer history and
// statistics. Accessors copy values out and lend strings the object owns.
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bindings/c/c_boundary.h"
#include "bindings/c/c_objects.h"
#include "bindings/c/routing.h"
#include "bindings/c/routing_1_compat.h"
#include "routing/status_macros.h"

using routing::c_api::Boundary;
using routing::c_api::RequireEnum;
using routing::c_api::RequireNonNull;

namespace {

constexpr int kStatsCounterCount = ROUTING_STATS_OFFERS_EXPIRED + 1;
constexpr int kQueueCounterCount = ROUTING_QUEUE_NPS_DETRACTORS + 1;

absl::Status RequireIndex(size_t index, size_t count, const char* what) {
  if (index >= count) {
    return absl::OutOfRangeError(absl::StrCat(
        "index ", index, " is past the end (", count, " ", what, ")"));
  }
  return absl::OkStatus();
}

// Checks the object and the out parameter, then stores `value` in *out.
template <typename Object, typename T, typename Value>
routing_status_t Read(const char* function, const Object* object,
                      const char* object_name, T* out, Value&& value) {
  return Boundary(function, [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(object, object_name));
    ROUTING_RETURN_IF_ERROR(RequireNonNull(out, "out parameter"));
    *out = value(*object);
    return absl::OkStatus();
  });
}

int64_t DurationMs(absl::Duration d) { return absl::ToInt64Milliseconds(d); }

}  // namespace

namespace routing::c_api {

// A copy the caller frees with routing_free (std::free).
char* CopyForCaller(const std::string& text) {
  char* copy = static_cast<char*>(std::malloc(text.size() + 1));
  if (copy == nullptr) throw std::bad_alloc();
  std::memcpy(copy, text.c_str(), text.size() + 1);
  return copy;
}

}  // namespace routing::c_api

extern "C" {

void routing_free(char* string) { std::free(string); }

// --- Decisions ---------------------------------------------------------------

void routing_decision_destroy(routing_decision_t* decision) { delete decision; }

#define ROUTING_DECISION_READ(function, type, expr)                          \
  routing_status_t function(const routing_decision_t* decision, type* out) { \
    return Read(#function, decision, "decision", out,                        \
                [](const routing_decision_t& d) -> type {                    \
                  const routing::RoutingDecision& r = *d.view;               \
                  return expr;                                               \
                });                                                          \
  }

ROUTING_DECISION_READ(routing_decision_contact_id, const char*,
                      r.contact_id.c_str())
ROUTING_DECISION_READ(routing_decision_token, uint64_t, r.token)
ROUTING_DECISION_READ(routing_decision_user_data, void*, r.user_data)
ROUTING_DECISION_READ(routing_decision_outcome, routing_decision_outcome_t,
                      static_cast<routing_decision_outcome_t>(r.outcome))
ROUTING_DECISION_READ(routing_decision_queue, const char*, r.queue.c_str())
ROUTING_DECISION_READ(routing_decision_channel, routing_channel_t,
                      static_cast<routing_channel_t>(r.channel))
ROUTING_DECISION_READ(routing_decision_agent_id, const char*,
                      r.agent_id.c_str())
ROUTING_DECISION_READ(routing_decision_score, double, r.score)
ROUTING_DECISION_READ(routing_decision_eligible_agents, int, r.eligible_agents)
ROUTING_DECISION_READ(routing_decision_component_count, size_t,
                      r.components.size())
ROUTING_DECISION_READ(routing_decision_queue_position, int, r.queue_position)
ROUTING_DECISION_READ(routing_decision_estimated_wait_ms, int64_t,
                      DurationMs(r.estimated_wait))
ROUTING_DECISION_READ(routing_decision_policy_version, uint64_t,
                      r.policy_version)
ROUTING_DECISION_READ(routing_decision_policy_name, const char*,
                      r.policy_name.c_str())
ROUTING_DECISION_READ(routing_decision_decided_at_ms, int64_t,
                      absl::ToUnixMillis(r.decided_at))
ROUTING_DECISION_READ(routing_decision_rules_version, uint64_t,
                      r.rules_version)
ROUTING_DECISION_READ(routing_decision_rules_step, int, r.rules_step)
ROUTING_DECISION_READ(routing_decision_rules_fallback, int,
                      r.rules_fallback ? 1 : 0)
ROUTING_DECISION_READ(routing_decision_rules_suspended, int,
                      r.rules_suspended ? 1 : 0)
ROUTING_DECISION_READ(routing_decision_offered, int, r.offered ? 1 : 0)
ROUTING_DECISION_READ(routing_decision_offer_expires_at_ms, int64_t,
                      r.offered ? absl::ToUnixMillis(r.offer_expires_at) : 0)
ROUTING_DECISION_READ(routing_decision_placement, uint64_t, r.placement)
#undef ROUTING_DECISION_READ

routing_status_t routing_decision_component(const routing_decision_t* decision,
                                            size_t index, const char** name_out,
                                            double* value_out,
                                            double* weight_out,
                                            double* contribution_out,
                                            const char** detail_out) {
  return Boundary("routing_decision_component", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(decision, "decision"));
    const auto& components = decision->view->components;
    ROUTING_RETURN_IF_ERROR(
        RequireIndex(index, components.size(), "components"));
    const routing::ScoreComponent& c = components[index];
    if (name_out != nullptr) *name_out = c.name.c_str();
    if (value_out != nullptr) *value_out = c.value;
    if (weight_out != nullptr) *weight_out = c.weight;
    if (contribution_out != nullptr) *contribution_out = c.contribution;
    if (detail_out != nullptr) *detail_out = c.detail.c_str();
    return absl::OkStatus();
  });
}

routing_status_t routing_decision_qualified_agents(
    const routing_decision_t* decision, int* total_out, int* at_capacity_out,
    int* unavailable_out, int* logged_out_out) {
  return Boundary("routing_decision_qualified_agents", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(decision, "decision"));
    const routing::RoutingDecision::QualifiedAgents& q =
        decision->view->qualified;
    if (total_out != nullptr) *total_out = q.total;
    if (at_capacity_out != nullptr) *at_capacity_out = q.at_capacity;
    if (unavailable_out != nullptr) *unavailable_out = q.unavailable;
    if (logged_out_out != nullptr) *logged_out_out = q.logged_out;
    return absl::OkStatus();
  });
}

routing_status_t routing_decision_explain(const routing_decision_t* decision,
                                          char** text_out) {
  return Read("routing_decision_explain", decision, "decision", text_out,
              [](const routing_decision_t& d) {
                return routing::c_api::CopyForCaller(d.view->Explain());
              });
}

// --- Assignments -------------------------------------------------------------

#define ROUTING_ASSIGNMENT_READ(function, type, expr)               \
  routing_status_t function(const routing_assignment_t* assignment, \
                            type* out) {                            \
    return Read(#function, assignment, "assignment", out,           \
                [](const routing_assignment_t& a) -> type {         \
                  const routing::Assignment& r = *a.assignment;     \
                  return expr;                                      \
                });                                                 \
  }

ROUTING_ASSIGNMENT_READ(routing_assignment_contact_id, const char*,
                        r.contact_id.c_str())
ROUTING_ASSIGNMENT_READ(routing_assignment_customer_id, const char*,
                        r.customer_id.c_str())
ROUTING_ASSIGNMENT_READ(routing_assignment_agent_id, const char*,
                        r.agent_id.c_str())
ROUTING_ASSIGNMENT_READ(routing_assignment_queue, const char*, r.queue.c_str())
ROUTING_ASSIGNMENT_READ(routing_assignment_channel, routing_channel_t,
                        static_cast<routing_channel_t>(r.channel))
ROUTING_ASSIGNMENT_READ(routing_assignment_waited_ms, int64_t,
                        DurationMs(r.waited))
ROUTING_ASSIGNMENT_READ(routing_assignment_token, uint64_t, r.token)
ROUTING_ASSIGNMENT_READ(routing_assignment_user_data, void*, r.user_data)
ROUTING_ASSIGNMENT_READ(routing_assignment_placement, uint64_t, r.placement)
#undef ROUTING_ASSIGNMENT_READ

routing_status_t routing_assignment_attribute_count(
    const routing_assignment_t* assignment, size_t* count_out) {
  return Read(
      "routing_assignment_attribute_count", assignment, "assignment", count_out,
      [](const routing_assignment_t& a) { return a.attributes.size(); });
}

routing_status_t routing_assignment_attribute(
    const routing_assignment_t* assignment, size_t index, const char** key_out,
    const char** value_out) {
  return Boundary("routing_assignment_attribute", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(assignment, "assignment"));
    ROUTING_RETURN_IF_ERROR(
        RequireIndex(index, assignment->attributes.size(), "attributes"));
    if (key_out != nullptr) {
      *key_out = assignment->attributes[index].first->c_str();
    }
    if (value_out != nullptr) {
      *value_out = assignment->attributes[index].second->c_str();
    }
    return absl::OkStatus();
  });
}

routing_status_t routing_assignment_decision(
    const routing_assignment_t* assignment,
    const routing_decision_t** decision_out) {
  return Read("routing_assignment_decision", assignment, "assignment",
              decision_out,
              [](const routing_assignment_t& a) { return &a.decision; });
}

// --- Lapsed offers ------------------------------------------------------------

#define ROUTING_EXPIRED_OFFER_READ(function, type, expr)                     \
  routing_status_t function(const routing_expired_offer_t* offer, type* out) { \
    return Read(#function, offer, "offer", out,                               \
                [](const routing_expired_offer_t& o) -> type {                \
                  const routing::ExpiredOffer& r = *o.offer;                  \
                  return expr;                                                \
                });                                                           \
  }

ROUTING_EXPIRED_OFFER_READ(routing_expired_offer_contact_id, const char*,
                           r.contact_id.c_str())
ROUTING_EXPIRED_OFFER_READ(routing_expired_offer_customer_id, const char*,
                           r.customer_id.c_str())
ROUTING_EXPIRED_OFFER_READ(routing_expired_offer_agent_id, const char*,
                           r.agent_id.c_str())
ROUTING_EXPIRED_OFFER_READ(routing_expired_offer_queue, const char*,
                           r.queue.c_str())
ROUTING_EXPIRED_OFFER_READ(routing_expired_offer_channel, routing_channel_t,
                           static_cast<routing_channel_t>(r.channel))
ROUTING_EXPIRED_OFFER_READ(routing_expired_offer_placement, uint64_t,
                           r.placement)
ROUTING_EXPIRED_OFFER_READ(routing_expired_offer_agent_state,
                           routing_agent_state_t,
                           static_cast<routing_agent_state_t>(r.agent_state))
ROUTING_EXPIRED_OFFER_READ(routing_expired_offer_user_data, void*, r.user_data)
#undef ROUTING_EXPIRED_OFFER_READ

// --- Agent status ------------------------------------------------------------

void routing_agent_status_destroy(routing_agent_status_t* status) {
  delete status;
}

#define ROUTING_AGENT_STATUS_READ(function, type, expr)                        \
  routing_status_t function(const routing_agent_status_t* status, type* out) { \
    return Read(#function, status, "agent status", out,                        \
                [](const routing_agent_status_t& s) -> type {                  \
                  const routing::AgentStatus& r = s.status;                    \
                  return expr;                                                 \
                });                                                            \
  }

ROUTING_AGENT_STATUS_READ(routing_agent_status_id, const char*,
                          r.profile.id.c_str())
ROUTING_AGENT_STATUS_READ(routing_agent_status_state, routing_agent_state_t,
                          static_cast<routing_agent_state_t>(r.state))
ROUTING_AGENT_STATUS_READ(routing_agent_status_occupancy, double, r.occupancy)
ROUTING_AGENT_STATUS_READ(routing_agent_status_contacts_handled, int64_t,
                          r.contacts_handled)
ROUTING_AGENT_STATUS_READ(routing_agent_status_state_since_ms, int64_t,
                          absl::ToUnixMillis(r.state_since))
ROUTING_AGENT_STATUS_READ(routing_agent_status_idle_since_ms, int64_t,
                          absl::ToUnixMillis(r.idle_since))
ROUTING_AGENT_STATUS_READ(routing_agent_status_skill_count, size_t,
                          r.profile.skills.size())
ROUTING_AGENT_STATUS_READ(routing_agent_status_language_count, size_t,
                          r.profile.languages.size())
ROUTING_AGENT_STATUS_READ(routing_agent_status_team, const char*,
                          r.profile.team.c_str())
ROUTING_AGENT_STATUS_READ(routing_agent_status_site, const char*,
                          r.profile.site.c_str())
ROUTING_AGENT_STATUS_READ(routing_agent_status_max_total_contacts, int,
                          r.profile.max_total_contacts)
#undef ROUTING_AGENT_STATUS_READ

routing_status_t routing_agent_status_load(const routing_agent_status_t* status,
                                           routing_channel_t channel,
                                           int* load_out, int* capacity_out) {
  return Boundary("routing_agent_status_load", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(status, "agent status"));
    ROUTING_RETURN_IF_ERROR(
        RequireEnum(channel, routing::kChannelCount, "channel"));
    if (load_out != nullptr) *load_out = status->status.load[channel];
    if (capacity_out != nullptr) {
      *capacity_out = status->status.profile.capacity[channel];
    }
    return absl::OkStatus();
  });
}

routing_status_t routing_agent_status_skill(
    const routing_agent_status_t* status, size_t index, const char** skill_out,
    int* level_out) {
  return Boundary("routing_agent_status_skill", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(status, "agent status"));
    const auto& skills = status->status.profile.skills;
    ROUTING_RETURN_IF_ERROR(RequireIndex(index, skills.size(), "skills"));
    if (skill_out != nullptr) *skill_out = skills[index].skill.c_str();
    if (level_out != nullptr) *level_out = skills[index].level;
    return absl::OkStatus();
  });
}

routing_status_t routing_agent_status_language(
    const routing_agent_status_t* status, size_t index,
    const char** language_out, int* fluency_out) {
  return Boundary("routing_agent_status_language", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(status, "agent status"));
    const auto& languages = status->status.profile.languages;
    ROUTING_RETURN_IF_ERROR(RequireIndex(index, languages.size(), "languages"));
    if (language_out != nullptr) {
      *language_out = languages[index].language.c_str();
    }
    if (fluency_out != nullptr) *fluency_out = languages[index].fluency;
    return absl::OkStatus();
  });
}

// --- String lists ------------------------------------------------------------

void routing_string_list_destroy(routing_string_list_t* list) { delete list; }

routing_status_t routing_string_list_count(const routing_string_list_t* list,
                                           size_t* count_out) {
  return Read("routing_string_list_count", list, "list", count_out,
              [](const routing_string_list_t& l) { return l.strings.size(); });
}

routing_status_t routing_string_list_get(const routing_string_list_t* list,
                                         size_t index,
                                         const char** string_out) {
  return Boundary("routing_string_list_get", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(list, "list"));
    ROUTING_RETURN_IF_ERROR(RequireNonNull(string_out, "string_out"));
    ROUTING_RETURN_IF_ERROR(
        RequireIndex(index, list->strings.size(), "strings"));
    *string_out = list->strings[index].c_str();
    return absl::OkStatus();
  });
}

// --- Customer history --------------------------------------------------------

void routing_history_destroy(routing_history_t* history) { delete history; }

routing_status_t routing_history_count(const routing_history_t* history,
                                       size_t* count_out) {
  return Read("routing_history_count", history, "history", count_out,
              [](const routing_history_t& h) { return h.interactions.size(); });
}

routing_status_t routing_history_entry(const routing_history_t* history,
                                       size_t index, const char** agent_id_out,
                                       routing_channel_t* channel_out,
                                       routing_outcome_t* outcome_out,
                                       int64_t* released_at_unix_ms_out) {
  return Boundary("routing_history_entry", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(history, "history"));
    ROUTING_RETURN_IF_ERROR(
        RequireIndex(index, history->interactions.size(), "interactions"));
    const routing::CustomerInteraction& i = history->interactions[index];
    if (agent_id_out != nullptr) *agent_id_out = i.agent_id.c_str();
    if (channel_out != nullptr) {
      *channel_out = static_cast<routing_channel_t>(i.channel);
    }
    if (outcome_out != nullptr) {
      *outcome_out = static_cast<routing_outcome_t>(i.outcome);
    }
    if (released_at_unix_ms_out != nullptr) {
      *released_at_unix_ms_out = absl::ToUnixMillis(i.time);
    }
    return absl::OkStatus();
  });
}

// --- Statistics --------------------------------------------------------------

void routing_stats_destroy(routing_stats_t* stats) { delete stats; }

routing_status_t routing_stats_counter(const routing_stats_t* stats,
                                       routing_stats_counter_t counter,
                                       int64_t* value_out) {
  return Boundary("routing_stats_counter", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(stats, "stats"));
    ROUTING_RETURN_IF_ERROR(RequireNonNull(value_out, "value_out"));
    ROUTING_RETURN_IF_ERROR(
        RequireEnum(counter, kStatsCounterCount, "stats counter"));
    const routing::RouterStats& s = stats->stats;
    const int64_t values[kStatsCounterCount] = {
        static_cast<int64_t>(s.policy_version),
        s.decisions,
        s.assigned_immediately,
        s.queued,
        s.assigned_from_queue,
        s.cancelled,
        s.released,
        s.contacts_held,
        s.agents,
        static_cast<int64_t>(s.rules_version),
        s.rules_fallbacks,
        s.assignments_untold,
        s.rules_suspended_decisions,
        s.offers,
        s.offers_accepted,
        s.offers_rejected,
        s.offers_expired};
    *value_out = values[counter];
    return absl::OkStatus();
  });
}

routing_status_t routing_stats_agents_in_state(const routing_stats_t* stats,
                                               routing_agent_state_t state,
                                               int64_t* count_out) {
  return Boundary("routing_stats_agents_in_state", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(stats, "stats"));
    ROUTING_RETURN_IF_ERROR(RequireNonNull(count_out, "count_out"));
    ROUTING_RETURN_IF_ERROR(
        RequireEnum(state, routing::kAgentStateCount, "agent state"));
    *count_out = stats->stats.agents_by_state[state];
    return absl::OkStatus();
  });
}

routing_status_t routing_stats_queue_count(const routing_stats_t* stats,
                                           size_t* count_out) {
  return Read("routing_stats_queue_count", stats, "stats", count_out,
              [](const routing_stats_t& s) { return s.stats.queues.size(); });
}

routing_status_t routing_stats_queue_name(const routing_stats_t* stats,
                                          size_t index, const char** name_out) {
  return Boundary("routing_stats_queue_name", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(stats, "stats"));
    ROUTING_RETURN_IF_ERROR(RequireNonNull(name_out, "name_out"));
    ROUTING_RETURN_IF_ERROR(
        RequireIndex(index, stats->stats.queues.size(), "queues"));
    *name_out = stats->stats.queues[index].queue.c_str();
    return absl::OkStatus();
  });
}

routing_status_t routing_stats_queue_counter(const routing_stats_t* stats,
                                             size_t index,
                                             routing_queue_counter_t counter,
                                             int64_t* value_out) {
  return Boundary("routing_stats_queue_counter", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(stats, "stats"));
    ROUTING_RETURN_IF_ERROR(RequireNonNull(value_out, "value_out"));
    ROUTING_RETURN_IF_ERROR(
        RequireIndex(index, stats->stats.queues.size(), "queues"));
    ROUTING_RETURN_IF_ERROR(
        RequireEnum(counter, kQueueCounterCount, "queue counter"));
    const routing::QueueStats& q = stats->stats.queues[index];
    const int64_t values[kQueueCounterCount] = {
        q.waiting,
        DurationMs(q.longest_wait),
        q.answered,
        q.answered_in_service_level,
        q.abandoned,
        DurationMs(q.average_speed_of_answer),
        DurationMs(q.average_handle_time),
        q.kpis.released,
        q.kpis.resolved,
        q.kpis.first_contact_resolved,
        DurationMs(q.kpis.total_handle_time),
        q.kpis.csat_responses,
        q.kpis.csat_sum,
        q.kpis.nps_responses,
        q.kpis.promoters,
        q.kpis.detractors};
    *value_out = values[counter];
    return absl::OkStatus();
  });
}

routing_status_t routing_stats_queue_service_level(const routing_stats_t* stats,
                                                   size_t index,
                                                   double* service_level_out) {
  return Boundary("routing_stats_queue_service_level", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(stats, "stats"));
    ROUTING_RETURN_IF_ERROR(
        RequireNonNull(service_level_out, "service_level_out"));
    ROUTING_RETURN_IF_ERROR(
        RequireIndex(index, stats->stats.queues.size(), "queues"));
    *service_level_out = stats->stats.queues[index].service_level;
    return absl::OkStatus();
  });
}

}  // extern "C"

// Functions of the first release: also exported as f@ROUTING_1
// (routing_1_compat.h).
ROUTING_FIRST_RELEASE(routing_agent_status_contacts_handled);
ROUTING_FIRST_RELEASE(routing_agent_status_destroy);
ROUTING_FIRST_RELEASE(routing_agent_status_id);
ROUTING_FIRST_RELEASE(routing_agent_status_idle_since_ms);
ROUTING_FIRST_RELEASE(routing_agent_status_language);
ROUTING_FIRST_RELEASE(routing_agent_status_language_count);
ROUTING_FIRST_RELEASE(routing_agent_status_load);
ROUTING_FIRST_RELEASE(routing_agent_status_max_total_contacts);
ROUTING_FIRST_RELEASE(routing_agent_status_occupancy);
ROUTING_FIRST_RELEASE(routing_agent_status_site);
ROUTING_FIRST_RELEASE(routing_agent_status_skill);
ROUTING_FIRST_RELEASE(routing_agent_status_skill_count);
ROUTING_FIRST_RELEASE(routing_agent_status_state);
ROUTING_FIRST_RELEASE(routing_agent_status_state_since_ms);
ROUTING_FIRST_RELEASE(routing_agent_status_team);
ROUTING_FIRST_RELEASE(routing_assignment_agent_id);
ROUTING_FIRST_RELEASE(routing_assignment_attribute);
ROUTING_FIRST_RELEASE(routing_assignment_attribute_count);
ROUTING_FIRST_RELEASE(routing_assignment_channel);
ROUTING_FIRST_RELEASE(routing_assignment_contact_id);
ROUTING_FIRST_RELEASE(routing_assignment_customer_id);
ROUTING_FIRST_RELEASE(routing_assignment_decision);
ROUTING_FIRST_RELEASE(routing_assignment_queue);
ROUTING_FIRST_RELEASE(routing_assignment_waited_ms);
ROUTING_FIRST_RELEASE(routing_decision_agent_id);
ROUTING_FIRST_RELEASE(routing_decision_channel);
ROUTING_FIRST_RELEASE(routing_decision_component);
ROUTING_FIRST_RELEASE(routing_decision_component_count);
ROUTING_FIRST_RELEASE(routing_decision_contact_id);
ROUTING_FIRST_RELEASE(routing_decision_decided_at_ms);
ROUTING_FIRST_RELEASE(routing_decision_destroy);
ROUTING_FIRST_RELEASE(routing_decision_eligible_agents);
ROUTING_FIRST_RELEASE(routing_decision_estimated_wait_ms);
ROUTING_FIRST_RELEASE(routing_decision_explain);
ROUTING_FIRST_RELEASE(routing_decision_outcome);
ROUTING_FIRST_RELEASE(routing_decision_policy_name);
ROUTING_FIRST_RELEASE(routing_decision_policy_version);
ROUTING_FIRST_RELEASE(routing_decision_qualified_agents);
ROUTING_FIRST_RELEASE(routing_decision_queue);
ROUTING_FIRST_RELEASE(routing_decision_queue_position);
ROUTING_FIRST_RELEASE(routing_decision_rules_fallback);
ROUTING_FIRST_RELEASE(routing_decision_rules_step);
ROUTING_FIRST_RELEASE(routing_decision_rules_version);
ROUTING_FIRST_RELEASE(routing_decision_score);
ROUTING_FIRST_RELEASE(routing_free);
ROUTING_FIRST_RELEASE(routing_history_count);
ROUTING_FIRST_RELEASE(routing_history_destroy);
ROUTING_FIRST_RELEASE(routing_history_entry);
ROUTING_FIRST_RELEASE(routing_stats_agents_in_state);
ROUTING_FIRST_RELEASE(routing_stats_counter);
ROUTING_FIRST_RELEASE(routing_stats_destroy);
ROUTING_FIRST_RELEASE(routing_stats_queue_count);
ROUTING_FIRST_RELEASE(routing_stats_queue_counter);
ROUTING_FIRST_RELEASE(routing_stats_queue_name);
ROUTING_FIRST_RELEASE(routing_stats_queue_service_level);
ROUTING_FIRST_RELEASE(routing_string_list_count);
ROUTING_FIRST_RELEASE(routing_string_list_destroy);
ROUTING_FIRST_RELEASE(routing_string_list_get);
