// The `_r` twins of the routing_engine_* calls (routing.h, ABI 1.1): the same
// call, with its failure message handed to the caller in *error_out instead
// of only in the thread-local routing_last_error(). The message is copied on
// the thread that made the call, inside this one C call, so a caller that
// changes OS thread between two calls (a Go goroutine, a Java virtual thread)
// still reads the message of its own call.
#include <cstdlib>
#include <cstring>

#include "bindings/c/routing.h"

namespace {

// Runs `call` and fills *error_out (when not NULL): NULL on success, else a
// malloc'd copy of this call's message (NULL if even that cannot be
// allocated; the status still says what happened).
template <typename Call>
routing_status_t WithErrorOut(char** error_out, Call&& call) noexcept {
  const routing_status_t status = call();
  if (error_out == nullptr) return status;
  *error_out = nullptr;
  if (status == ROUTING_OK) return status;
  const char* message = routing_last_error();
  const size_t size = std::strlen(message) + 1;
  char* copy = static_cast<char*>(std::malloc(size));
  if (copy != nullptr) {
    std::memcpy(copy, message, size);
    *error_out = copy;
  }
  return status;
}

}  // namespace

extern "C" {

routing_status_t routing_engine_create_r(const routing_options_t* options,
                                         routing_engine_t** engine_out,
                                         char** error_out) {
  return WithErrorOut(
      error_out, [&] { return routing_engine_create(options, engine_out); });
}

routing_status_t routing_engine_add_agent_r(routing_engine_t* engine,
                                            const routing_agent_t* agent,
                                            char** error_out) {
  return WithErrorOut(error_out,
                      [&] { return routing_engine_add_agent(engine, agent); });
}

routing_status_t routing_engine_update_agent_r(routing_engine_t* engine,
                                               const routing_agent_t* agent,
                                               char** error_out) {
  return WithErrorOut(
      error_out, [&] { return routing_engine_update_agent(engine, agent); });
}

routing_status_t routing_engine_remove_agent_r(routing_engine_t* engine,
                                               const char* agent_id,
                                               char** error_out) {
  return WithErrorOut(
      error_out, [&] { return routing_engine_remove_agent(engine, agent_id); });
}

routing_status_t routing_engine_set_agent_state_r(routing_engine_t* engine,
                                                  const char* agent_id,
                                                  routing_agent_state_t state,
                                                  char** error_out) {
  return WithErrorOut(error_out, [&] {
    return routing_engine_set_agent_state(engine, agent_id, state);
  });
}

routing_status_t routing_engine_get_agent_r(routing_engine_t* engine,
                                            const char* agent_id,
                                            routing_agent_status_t** status_out,
                                            char** error_out) {
  return WithErrorOut(error_out, [&] {
    return routing_engine_get_agent(engine, agent_id, status_out);
  });
}

routing_status_t routing_engine_route_r(routing_engine_t* engine,
                                        const routing_contact_t* contact,
                                        routing_decision_t** decision_out,
                                        char** error_out) {
  return WithErrorOut(error_out, [&] {
    return routing_engine_route(engine, contact, decision_out);
  });
}

routing_status_t routing_engine_requeue_r(routing_engine_t* engine,
                                          const routing_contact_t* contact,
                                          routing_decision_t** decision_out,
                                          char** error_out) {
  return WithErrorOut(error_out, [&] {
    return routing_engine_requeue(engine, contact, decision_out);
  });
}

routing_status_t routing_engine_cancel_r(routing_engine_t* engine,
                                         const char* contact_id,
                                         char** error_out) {
  return WithErrorOut(
      error_out, [&] { return routing_engine_cancel(engine, contact_id); });
}

routing_status_t routing_engine_release_r(routing_engine_t* engine,
                                          const char* contact_id,
                                          routing_outcome_t outcome,
                                          char** error_out) {
  return WithErrorOut(error_out, [&] {
    return routing_engine_release(engine, contact_id, outcome);
  });
}

routing_status_t routing_engine_get_contact_r(routing_engine_t* engine,
                                              const char* contact_id,
                                              routing_contact_state_t* state_out,
                                              char** agent_id_out,
                                              char** error_out) {
  return WithErrorOut(error_out, [&] {
    return routing_engine_get_contact(engine, contact_id, state_out,
                                      agent_id_out);
  });
}

routing_status_t routing_engine_set_policy_r(routing_engine_t* engine,
                                             const routing_policy_t* policy,
                                             uint64_t* version_out,
                                             char** error_out) {
  return WithErrorOut(error_out, [&] {
    return routing_engine_set_policy(engine, policy, version_out);
  });
}

routing_status_t routing_engine_customer_history_r(
    routing_engine_t* engine, const char* customer_id,
    routing_history_t** history_out, char** error_out) {
  return WithErrorOut(error_out, [&] {
    return routing_engine_customer_history(engine, customer_id, history_out);
  });
}

routing_status_t routing_engine_stats_r(routing_engine_t* engine,
                                        routing_stats_t** stats_out,
                                        char** error_out) {
  return WithErrorOut(error_out,
                      [&] { return routing_engine_stats(engine, stats_out); });
}

routing_status_t routing_engine_release_with_survey_r(
    routing_engine_t* engine, const char* contact_id, routing_outcome_t outcome,
    int csat, int nps, char** error_out) {
  return WithErrorOut(error_out, [&] {
    return routing_engine_release_with_survey(engine, contact_id, outcome,
                                              csat, nps);
  });
}

routing_status_t routing_engine_rules_health_r(routing_engine_t* engine,
                                               int64_t* errors_out,
                                               int64_t* overruns_out,
                                               int* suspended_out,
                                               char** last_error_out,
                                               char** error_out) {
  return WithErrorOut(error_out, [&] {
    return routing_engine_rules_health(engine, errors_out, overruns_out,
                                       suspended_out, last_error_out);
  });
}

routing_status_t routing_engine_reload_rules_r(routing_engine_t* engine,
                                               const char* path,
                                               uint64_t* version_out,
                                               char** problems_out,
                                               char** error_out) {
  return WithErrorOut(error_out, [&] {
    return routing_engine_reload_rules(engine, path, version_out,
                                       problems_out);
  });
}

routing_status_t routing_engine_reload_rules_text_r(
    routing_engine_t* engine, const char* name, const char* source,
    uint64_t* version_out, char** problems_out, char** error_out) {
  return WithErrorOut(error_out, [&] {
    return routing_engine_reload_rules_text(engine, name, source, version_out,
                                            problems_out);
  });
}

routing_status_t routing_engine_clear_rules_r(routing_engine_t* engine,
                                              uint64_t* version_out,
                                              char** error_out) {
  return WithErrorOut(error_out, [&] {
    return routing_engine_clear_rules(engine, version_out);
  });
}

routing_status_t routing_engine_advance_queues_r(routing_engine_t* engine,
                                                 int* moved_out,
                                                 char** error_out) {
  return WithErrorOut(error_out, [&] {
    return routing_engine_advance_queues(engine, moved_out);
  });
}

routing_status_t routing_engine_set_time_r(routing_engine_t* engine,
                                           int64_t unix_ms, char** error_out) {
  return WithErrorOut(error_out,
                      [&] { return routing_engine_set_time(engine, unix_ms); });
}

routing_status_t routing_engine_get_contact_details_r(
    routing_engine_t* engine, const char* contact_id,
    routing_contact_state_t* state_out, char** agent_id_out,
    int64_t* offer_expires_at_ms_out, uint64_t* placement_out,
    char** error_out) {
  return WithErrorOut(error_out, [&] {
    return routing_engine_get_contact_details(engine, contact_id, state_out,
                                              agent_id_out,
                                              offer_expires_at_ms_out,
                                              placement_out);
  });
}

routing_status_t routing_engine_accept_offer_r(routing_engine_t* engine,
                                               const char* contact_id,
                                               const char* agent_id,
                                               char** error_out) {
  return WithErrorOut(error_out, [&] {
    return routing_engine_accept_offer(engine, contact_id, agent_id);
  });
}

routing_status_t routing_engine_reject_offer_r(
    routing_engine_t* engine, const char* contact_id, const char* agent_id,
    routing_decision_t** decision_out, char** error_out) {
  return WithErrorOut(error_out, [&] {
    return routing_engine_reject_offer(engine, contact_id, agent_id,
                                       decision_out);
  });
}

}  // extern "C"
