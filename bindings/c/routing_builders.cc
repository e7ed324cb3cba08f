// The builder objects of routing.h: options, policy, agent profile, contact.
// They only copy and check their arguments; ranges that depend on the engine
// (levels, capacities, limits) are checked by the engine, which names them.
#include <new>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bindings/c/c_boundary.h"
#include "bindings/c/c_objects.h"
#include "bindings/c/routing.h"
#include "bindings/c/routing_1_compat.h"
#include "routing/agent.h"
#include "routing/channel.h"
#include "routing/status_macros.h"

using routing::c_api::Boundary;
using routing::c_api::RequireEnum;
using routing::c_api::RequireNonNull;
using routing::c_api::TextArgument;

namespace {

// The number of values of each enum of routing.h that is checked here.
constexpr int kLimitCount = ROUTING_LIMIT_MAX_FLUENCY + 1;
constexpr int kScoreComponentCount = ROUTING_SCORE_IDLE + 1;
constexpr int kPolicyDurationCount = ROUTING_POLICY_SERVICE_LEVEL_THRESHOLD + 1;
constexpr int kPolicyAffinityCount = ROUTING_AFFINITY_SERVED + 1;

// Creates a default T into *out (after checking out), or fails cleanly.
template <typename T>
absl::Status CreateInto(T** out, const char* field) {
  ROUTING_RETURN_IF_ERROR(RequireNonNull(out, field));
  *out = new T();
  return absl::OkStatus();
}

}  // namespace

extern "C" {

// --- Options ---------------------------------------------------------------

routing_status_t routing_options_create(routing_options_t** options_out) {
  return Boundary("routing_options_create",
                  [&] { return CreateInto(options_out, "options_out"); });
}

void routing_options_destroy(routing_options_t* options) { delete options; }

routing_status_t routing_options_set_limit(routing_options_t* options,
                                           routing_limit_t limit, int value) {
  return Boundary("routing_options_set_limit", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(options, "options"));
    ROUTING_RETURN_IF_ERROR(RequireEnum(limit, kLimitCount, "limit"));
    routing::RouterOptions& o = options->router;
    int* fields[kLimitCount] = {
        &o.max_agents,    &o.max_skills,      &o.max_languages,
        &o.max_queues,    &o.max_contacts,    &o.history_customers,
        &o.history_depth, &o.max_skill_level, &o.max_fluency};
    *fields[limit] = value;
    return absl::OkStatus();
  });
}

routing_status_t routing_options_set_policy(routing_options_t* options,
                                            const routing_policy_t* policy) {
  return Boundary("routing_options_set_policy", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(options, "options"));
    ROUTING_RETURN_IF_ERROR(RequireNonNull(policy, "policy"));
    options->router.policy = policy->policy;
    return absl::OkStatus();
  });
}

routing_status_t routing_options_set_manual_clock(routing_options_t* options,
                                                  int64_t start_unix_ms) {
  return Boundary("routing_options_set_manual_clock", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(options, "options"));
    options->manual_clock = true;
    options->manual_clock_start_ms = start_unix_ms;
    return absl::OkStatus();
  });
}

routing_status_t routing_options_set_rules_file(routing_options_t* options,
                                                const char* path) {
  return Boundary("routing_options_set_rules_file", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(options, "options"));
    if (path == nullptr) {
      options->rules_file.clear();
      return absl::OkStatus();
    }
    ROUTING_ASSIGN_OR_RETURN(
        options->rules_file,
        TextArgument(path, "rules file path", routing::c_api::kMaxPathBytes));
    return absl::OkStatus();
  });
}

routing_status_t routing_options_set_rules_limits(routing_options_t* options,
                                                  int64_t budget_us,
                                                  int breaker_failures,
                                                  int64_t breaker_window_ms) {
  return Boundary("routing_options_set_rules_limits", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(options, "options"));
    if (budget_us < 1 || budget_us > 10'000'000) {
      return absl::InvalidArgumentError(absl::StrCat(
          "budget_us must be from 1 to 10000000 (10 s), got ", budget_us));
    }
    if (breaker_failures < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "breaker_failures must be 0 (off) or more, got ", breaker_failures));
    }
    if (breaker_window_ms < 1 || breaker_window_ms > 86'400'000) {
      return absl::InvalidArgumentError(
          absl::StrCat("breaker_window_ms must be from 1 to 86400000 (a "
                       "day), got ",
                       breaker_window_ms));
    }
    options->rules_budget = absl::Microseconds(budget_us);
    options->rules_breaker_failures = breaker_failures;
    options->rules_breaker_window = absl::Milliseconds(breaker_window_ms);
    return absl::OkStatus();
  });
}

routing_status_t routing_options_set_assignment_callback(
    routing_options_t* options, routing_assignment_fn callback,
    void* user_data) {
  return Boundary("routing_options_set_assignment_callback",
                  [&]() -> absl::Status {
                    ROUTING_RETURN_IF_ERROR(RequireNonNull(options, "options"));
                    options->callback = callback;
                    options->callback_user_data = user_data;
                    return absl::OkStatus();
                  });
}

routing_status_t routing_options_set_offer_timeout(routing_options_t* options,
                                                   routing_channel_t channel,
                                                   int64_t timeout_ms) {
  return Boundary("routing_options_set_offer_timeout", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(options, "options"));
    ROUTING_RETURN_IF_ERROR(
        RequireEnum(channel, routing::kChannelCount, "channel"));
    if (timeout_ms < 0 || timeout_ms > ROUTING_MAX_OFFER_TIMEOUT_MS) {
      return absl::InvalidArgumentError(absl::StrCat(
          "offer timeout of channel ", channel, " (",
          std::string(
              routing::ChannelName(static_cast<routing::Channel>(channel))),
          ") must be from 0 to ", ROUTING_MAX_OFFER_TIMEOUT_MS,
          " ms (1 h), got ", timeout_ms));
    }
    options->router.offer_timeout[channel] = absl::Milliseconds(timeout_ms);
    return absl::OkStatus();
  });
}

routing_status_t routing_options_set_missed_offer_state(
    routing_options_t* options, routing_agent_state_t state) {
  return Boundary("routing_options_set_missed_offer_state",
                  [&]() -> absl::Status {
                    ROUTING_RETURN_IF_ERROR(RequireNonNull(options, "options"));
                    ROUTING_RETURN_IF_ERROR(RequireEnum(
                        state, routing::kAgentStateCount, "missed offer state"));
                    options->router.missed_offer_state =
                        static_cast<routing::AgentState>(state);
                    return absl::OkStatus();
                  });
}

routing_status_t routing_options_set_offer_expired_callback(
    routing_options_t* options, routing_offer_expired_fn callback,
    void* user_data) {
  return Boundary("routing_options_set_offer_expired_callback",
                  [&]() -> absl::Status {
                    ROUTING_RETURN_IF_ERROR(RequireNonNull(options, "options"));
                    options->offer_expired_callback = callback;
                    options->offer_expired_user_data = user_data;
                    return absl::OkStatus();
                  });
}

// --- Policy ----------------------------------------------------------------

routing_status_t routing_policy_create(routing_policy_t** policy_out) {
  return Boundary("routing_policy_create",
                  [&] { return CreateInto(policy_out, "policy_out"); });
}

void routing_policy_destroy(routing_policy_t* policy) { delete policy; }

routing_status_t routing_policy_set_name(routing_policy_t* policy,
                                         const char* name) {
  return Boundary("routing_policy_set_name", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(policy, "policy"));
    ROUTING_ASSIGN_OR_RETURN(policy->policy.name,
                             TextArgument(name, "policy name"));
    return absl::OkStatus();
  });
}

routing_status_t routing_policy_set_weight(routing_policy_t* policy,
                                           routing_score_component_t component,
                                           double weight) {
  return Boundary("routing_policy_set_weight", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(policy, "policy"));
    ROUTING_RETURN_IF_ERROR(
        RequireEnum(component, kScoreComponentCount, "score component"));
    routing::ScoringWeights& w = policy->policy.weights;
    double* fields[kScoreComponentCount] = {&w.skill, &w.affinity,  &w.language,
                                            &w.load,  &w.occupancy, &w.idle};
    *fields[component] = weight;
    return absl::OkStatus();
  });
}

routing_status_t routing_policy_set_duration(routing_policy_t* policy,
                                             routing_policy_duration_t which,
                                             int64_t milliseconds) {
  return Boundary("routing_policy_set_duration", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(policy, "policy"));
    ROUTING_RETURN_IF_ERROR(
        RequireEnum(which, kPolicyDurationCount, "policy duration"));
    routing::RoutingPolicy& p = policy->policy;
    absl::Duration* fields[kPolicyDurationCount] = {
        &p.priority_step, &p.idle_saturation, &p.affinity_half_life,
        &p.default_handle_time, &p.service_level_threshold};
    *fields[which] = absl::Milliseconds(milliseconds);
    return absl::OkStatus();
  });
}

routing_status_t routing_policy_set_affinity(routing_policy_t* policy,
                                             routing_policy_affinity_t which,
                                             double value) {
  return Boundary("routing_policy_set_affinity", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(policy, "policy"));
    ROUTING_RETURN_IF_ERROR(
        RequireEnum(which, kPolicyAffinityCount, "policy affinity"));
    routing::RoutingPolicy& p = policy->policy;
    double* fields[kPolicyAffinityCount] = {
        &p.preferred_agent_affinity, &p.resolved_affinity, &p.served_affinity};
    *fields[which] = value;
    return absl::OkStatus();
  });
}

// --- Agent profiles --------------------------------------------------------

routing_status_t routing_agent_create(const char* agent_id,
                                      routing_agent_t** agent_out) {
  return Boundary("routing_agent_create", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(agent_out, "agent_out"));
    ROUTING_ASSIGN_OR_RETURN(std::string id,
                             TextArgument(agent_id, "agent id"));
    auto* agent = new routing_agent_t();
    agent->profile.id = std::move(id);
    *agent_out = agent;
    return absl::OkStatus();
  });
}

void routing_agent_destroy(routing_agent_t* agent) { delete agent; }

routing_status_t routing_agent_add_skill(routing_agent_t* agent,
                                         const char* skill, int level) {
  return Boundary("routing_agent_add_skill", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(agent, "agent"));
    ROUTING_ASSIGN_OR_RETURN(std::string name, TextArgument(skill, "skill"));
    agent->profile.skills.push_back({std::move(name), level});
    return absl::OkStatus();
  });
}

routing_status_t routing_agent_add_language(routing_agent_t* agent,
                                            const char* language, int fluency) {
  return Boundary("routing_agent_add_language", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(agent, "agent"));
    ROUTING_ASSIGN_OR_RETURN(std::string tag,
                             TextArgument(language, "language"));
    agent->profile.languages.push_back({std::move(tag), fluency});
    return absl::OkStatus();
  });
}

routing_status_t routing_agent_set_capacity(routing_agent_t* agent,
                                            routing_channel_t channel,
                                            int contacts) {
  return Boundary("routing_agent_set_capacity", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(agent, "agent"));
    ROUTING_RETURN_IF_ERROR(
        RequireEnum(channel, routing::kChannelCount, "channel"));
    if (contacts < 0 || contacts > routing::kMaxChannelCapacity) {
      return absl::InvalidArgumentError(
          absl::StrCat("capacity ", contacts, " is outside 0..",
                       routing::kMaxChannelCapacity));
    }
    agent->profile.capacity[channel] = contacts;
    return absl::OkStatus();
  });
}

routing_status_t routing_agent_set_max_total_contacts(routing_agent_t* agent,
                                                      int contacts) {
  return Boundary("routing_agent_set_max_total_contacts",
                  [&]() -> absl::Status {
                    ROUTING_RETURN_IF_ERROR(RequireNonNull(agent, "agent"));
                    constexpr int kMost =
                        routing::kChannelCount * routing::kMaxChannelCapacity;
                    if (contacts < 0 || contacts > kMost) {
                      return absl::InvalidArgumentError(absl::StrCat(
                          "max_total_contacts ", contacts, " is outside 0..",
                          kMost));
                    }
                    agent->profile.max_total_contacts = contacts;
                    return absl::OkStatus();
                  });
}

routing_status_t routing_agent_set_team(routing_agent_t* agent,
                                        const char* team) {
  return Boundary("routing_agent_set_team", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(agent, "agent"));
    ROUTING_ASSIGN_OR_RETURN(agent->profile.team, TextArgument(team, "team"));
    return absl::OkStatus();
  });
}

routing_status_t routing_agent_set_site(routing_agent_t* agent,
                                        const char* site) {
  return Boundary("routing_agent_set_site", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(agent, "agent"));
    ROUTING_ASSIGN_OR_RETURN(agent->profile.site, TextArgument(site, "site"));
    return absl::OkStatus();
  });
}

routing_status_t routing_agent_set_attribute(routing_agent_t* agent,
                                             const char* key,
                                             const char* value) {
  return Boundary("routing_agent_set_attribute", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(agent, "agent"));
    ROUTING_ASSIGN_OR_RETURN(std::string k,
                             TextArgument(key, "agent attribute key"));
    ROUTING_ASSIGN_OR_RETURN(std::string v,
                             TextArgument(value, "agent attribute value"));
    agent->profile.attributes[std::move(k)] = std::move(v);
    return absl::OkStatus();
  });
}

// --- Contacts --------------------------------------------------------------

routing_status_t routing_contact_create(const char* contact_id,
                                        routing_channel_t channel,
                                        routing_contact_t** contact_out) {
  return Boundary("routing_contact_create", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(contact_out, "contact_out"));
    ROUTING_ASSIGN_OR_RETURN(std::string id,
                             TextArgument(contact_id, "contact id"));
    ROUTING_RETURN_IF_ERROR(
        RequireEnum(channel, routing::kChannelCount, "channel"));
    auto* contact = new routing_contact_t();
    contact->contact.id = std::move(id);
    contact->contact.channel = static_cast<routing::Channel>(channel);
    *contact_out = contact;
    return absl::OkStatus();
  });
}

void routing_contact_destroy(routing_contact_t* contact) { delete contact; }

routing_status_t routing_contact_set_queue(routing_contact_t* contact,
                                           const char* queue) {
  return Boundary("routing_contact_set_queue", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(contact, "contact"));
    ROUTING_ASSIGN_OR_RETURN(contact->contact.queue,
                             TextArgument(queue, "queue"));
    return absl::OkStatus();
  });
}

routing_status_t routing_contact_add_required_skill(routing_contact_t* contact,
                                                    const char* skill,
                                                    int min_level) {
  return Boundary("routing_contact_add_required_skill", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(contact, "contact"));
    ROUTING_ASSIGN_OR_RETURN(std::string name,
                             TextArgument(skill, "required skill"));
    contact->contact.required_skills.push_back({std::move(name), min_level});
    return absl::OkStatus();
  });
}

routing_status_t routing_contact_add_desired_skill(routing_contact_t* contact,
                                                   const char* skill,
                                                   int min_level) {
  return Boundary("routing_contact_add_desired_skill", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(contact, "contact"));
    ROUTING_ASSIGN_OR_RETURN(std::string name,
                             TextArgument(skill, "desired skill"));
    contact->contact.desired_skills.push_back({std::move(name), min_level});
    return absl::OkStatus();
  });
}

routing_status_t routing_contact_add_language(routing_contact_t* contact,
                                              const char* language) {
  return Boundary("routing_contact_add_language", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(contact, "contact"));
    ROUTING_ASSIGN_OR_RETURN(std::string tag,
                             TextArgument(language, "language"));
    contact->contact.languages.push_back(std::move(tag));
    return absl::OkStatus();
  });
}

routing_status_t routing_contact_set_priority(routing_contact_t* contact,
                                              int priority) {
  return Boundary("routing_contact_set_priority", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(contact, "contact"));
    if (priority < 0 || priority > routing::kMaxPriority) {
      return absl::InvalidArgumentError(
          absl::StrCat("priority ", priority, " is out of range (0..",
                       routing::kMaxPriority, ")"));
    }
    contact->contact.priority = priority;
    return absl::OkStatus();
  });
}

routing_status_t routing_contact_set_customer_id(routing_contact_t* contact,
                                                 const char* customer_id) {
  return Boundary("routing_contact_set_customer_id", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(contact, "contact"));
    ROUTING_ASSIGN_OR_RETURN(contact->contact.customer_id,
                             TextArgument(customer_id, "customer id"));
    return absl::OkStatus();
  });
}

routing_status_t routing_contact_add_preferred_agent(routing_contact_t* contact,
                                                     const char* agent_id) {
  return Boundary("routing_contact_add_preferred_agent", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(contact, "contact"));
    ROUTING_ASSIGN_OR_RETURN(std::string id,
                             TextArgument(agent_id, "preferred agent id"));
    contact->contact.preferred_agents.push_back(std::move(id));
    return absl::OkStatus();
  });
}

routing_status_t routing_contact_add_excluded_agent(routing_contact_t* contact,
                                                    const char* agent_id) {
  return Boundary("routing_contact_add_excluded_agent", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(contact, "contact"));
    ROUTING_ASSIGN_OR_RETURN(std::string id,
                             TextArgument(agent_id, "excluded agent id"));
    contact->contact.excluded_agents.push_back(std::move(id));
    return absl::OkStatus();
  });
}

routing_status_t routing_contact_set_enqueue_time(routing_contact_t* contact,
                                                  int64_t unix_ms) {
  return Boundary("routing_contact_set_enqueue_time", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(contact, "contact"));
    contact->contact.enqueue_time = absl::FromUnixMillis(unix_ms);
    return absl::OkStatus();
  });
}

routing_status_t routing_contact_set_attribute(routing_contact_t* contact,
                                               const char* key,
                                               const char* value) {
  return Boundary("routing_contact_set_attribute", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(contact, "contact"));
    ROUTING_ASSIGN_OR_RETURN(std::string k,
                             TextArgument(key, "contact attribute key"));
    ROUTING_ASSIGN_OR_RETURN(std::string v,
                             TextArgument(value, "contact attribute value"));
    contact->contact.attributes[std::move(k)] = std::move(v);
    return absl::OkStatus();
  });
}

routing_status_t routing_contact_set_user_data(routing_contact_t* contact,
                                               void* user_data) {
  return Boundary("routing_contact_set_user_data", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(contact, "contact"));
    contact->contact.user_data = user_data;
    return absl::OkStatus();
  });
}

}  // extern "C"

// Functions of the first release: also exported as f@ROUTING_1
// (routing_1_compat.h).
ROUTING_FIRST_RELEASE(routing_agent_add_language);
ROUTING_FIRST_RELEASE(routing_agent_add_skill);
ROUTING_FIRST_RELEASE(routing_agent_create);
ROUTING_FIRST_RELEASE(routing_agent_destroy);
ROUTING_FIRST_RELEASE(routing_agent_set_attribute);
ROUTING_FIRST_RELEASE(routing_agent_set_capacity);
ROUTING_FIRST_RELEASE(routing_agent_set_max_total_contacts);
ROUTING_FIRST_RELEASE(routing_agent_set_site);
ROUTING_FIRST_RELEASE(routing_agent_set_team);
ROUTING_FIRST_RELEASE(routing_contact_add_desired_skill);
ROUTING_FIRST_RELEASE(routing_contact_add_excluded_agent);
ROUTING_FIRST_RELEASE(routing_contact_add_language);
ROUTING_FIRST_RELEASE(routing_contact_add_preferred_agent);
ROUTING_FIRST_RELEASE(routing_contact_add_required_skill);
ROUTING_FIRST_RELEASE(routing_contact_create);
ROUTING_FIRST_RELEASE(routing_contact_destroy);
ROUTING_FIRST_RELEASE(routing_contact_set_attribute);
ROUTING_FIRST_RELEASE(routing_contact_set_customer_id);
ROUTING_FIRST_RELEASE(routing_contact_set_enqueue_time);
ROUTING_FIRST_RELEASE(routing_contact_set_priority);
ROUTING_FIRST_RELEASE(routing_contact_set_queue);
ROUTING_FIRST_RELEASE(routing_options_create);
ROUTING_FIRST_RELEASE(routing_options_destroy);
ROUTING_FIRST_RELEASE(routing_options_set_assignment_callback);
ROUTING_FIRST_RELEASE(routing_options_set_limit);
ROUTING_FIRST_RELEASE(routing_options_set_manual_clock);
ROUTING_FIRST_RELEASE(routing_options_set_policy);
ROUTING_FIRST_RELEASE(routing_options_set_rules_file);
ROUTING_FIRST_RELEASE(routing_policy_create);
ROUTING_FIRST_RELEASE(routing_policy_destroy);
ROUTING_FIRST_RELEASE(routing_policy_set_affinity);
ROUTING_FIRST_RELEASE(routing_policy_set_duration);
ROUTING_FIRST_RELEASE(routing_policy_set_name);
ROUTING_FIRST_RELEASE(routing_policy_set_weight);
