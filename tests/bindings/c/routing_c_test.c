/* The C ABI of bindings/c/routing.h, from plain C: the contract a telephony
 * platform relies on (agents, route, queue, callback, release, cancel,
 * history, stats, policy), and every misuse the header promises to refuse
 * with a code and a message instead of crashing: NULL everywhere, unknown ids,
 * invalid UTF-8, enums and indices out of range, wrong-state calls, calls
 * after destroy, double destroy and destroy from inside the callback. */
#include <routing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bindings/c/c_test_harness.h"

static const int64_t kStartMs = 1800000000000LL;

/* Assignments the callback saw, copied (their strings die with the call). */
typedef struct {
  int count;
  char contact_id[8][32];
  char agent_id[8][32];
  char intent[8][32];
  int64_t waited_ms[8];
  double score[8];
  routing_engine_t* engine;        /* For the destroy-from-callback test. */
  routing_status_t destroy_status; /* What destroy returned inside it. */
  int nested_engine; /* The callback creates and destroys another engine. */
  routing_status_t nested_status;
  char destroy_error[256];
} recorder_t;

static void record_assignment(void* user_data, const routing_assignment_t* a) {
  recorder_t* r = (recorder_t*)user_data;
  if (r->count >= 8) return;
  const char* text;
  const routing_decision_t* decision;
  int i = r->count++;
  if (routing_assignment_contact_id(a, &text) == ROUTING_OK)
    snprintf(r->contact_id[i], 32, "%s", text);
  if (routing_assignment_agent_id(a, &text) == ROUTING_OK)
    snprintf(r->agent_id[i], 32, "%s", text);
  routing_assignment_waited_ms(a, &r->waited_ms[i]);
  size_t attributes = 0;
  routing_assignment_attribute_count(a, &attributes);
  for (size_t k = 0; k < attributes; ++k) {
    const char* key;
    const char* value;
    if (routing_assignment_attribute(a, k, &key, &value) == ROUTING_OK &&
        strcmp(key, "intent") == 0)
      snprintf(r->intent[i], 32, "%s", value);
  }
  if (routing_assignment_decision(a, &decision) == ROUTING_OK)
    routing_decision_score(decision, &r->score[i]);
  if (r->nested_engine) {
    routing_engine_t* other = NULL;
    r->nested_status = routing_engine_create(NULL, &other);
    if (r->nested_status == ROUTING_OK) {
      r->nested_status = routing_engine_destroy(other);
    }
  }
  if (r->engine != NULL) {
    r->destroy_status = routing_engine_destroy(r->engine);
    snprintf(r->destroy_error, sizeof r->destroy_error, "%s",
             routing_last_error());
  }
}

static routing_engine_t* new_engine(recorder_t* recorder) {
  routing_options_t* options = NULL;
  routing_engine_t* engine = NULL;
  EXPECT_OK(routing_options_create(&options));
  EXPECT_OK(routing_options_set_limit(options, ROUTING_LIMIT_MAX_AGENTS, 64));
  EXPECT_OK(routing_options_set_limit(options, ROUTING_LIMIT_MAX_CONTACTS, 64));
  EXPECT_OK(
      routing_options_set_limit(options, ROUTING_LIMIT_HISTORY_CUSTOMERS, 64));
  EXPECT_OK(routing_options_set_manual_clock(options, kStartMs));
  if (recorder != NULL) {
    EXPECT_OK(routing_options_set_assignment_callback(
        options, record_assignment, recorder));
  }
  EXPECT_OK(routing_engine_create(options, &engine));
  routing_options_destroy(options);
  return engine;
}

static void add_agent(routing_engine_t* engine, const char* id, int level) {
  routing_agent_t* agent = NULL;
  EXPECT_OK(routing_agent_create(id, &agent));
  EXPECT_OK(routing_agent_add_skill(agent, "billing", level));
  EXPECT_OK(routing_agent_add_language(agent, "en", 5));
  EXPECT_OK(routing_agent_set_capacity(agent, ROUTING_CHANNEL_VOICE, 1));
  EXPECT_OK(routing_agent_set_team(agent, "tier-1"));
  EXPECT_OK(routing_engine_add_agent(engine, agent));
  routing_agent_destroy(agent);
  EXPECT_OK(
      routing_engine_set_agent_state(engine, id, ROUTING_AGENT_AVAILABLE));
}

static routing_contact_t* new_call(const char* id) {
  routing_contact_t* call = NULL;
  EXPECT_OK(routing_contact_create(id, ROUTING_CHANNEL_VOICE, &call));
  EXPECT_OK(routing_contact_add_required_skill(call, "billing", 2));
  EXPECT_OK(routing_contact_add_language(call, "en"));
  EXPECT_OK(routing_contact_set_customer_id(call, "cust-1"));
  EXPECT_OK(routing_contact_set_attribute(call, "intent", "dispute"));
  return call;
}

/* Routes a new call and returns its outcome (-1 on error). */
static int route(routing_engine_t* engine, const char* id) {
  routing_contact_t* call = new_call(id);
  routing_decision_t* decision = NULL;
  routing_decision_outcome_t outcome = ROUTING_DECISION_QUEUED;
  routing_status_t status = routing_engine_route(engine, call, &decision);
  routing_contact_destroy(call);
  if (status != ROUTING_OK) return -1;
  routing_decision_outcome(decision, &outcome);
  routing_decision_destroy(decision);
  return (int)outcome;
}

static void test_version_and_names(void) {
  EXPECT(routing_abi_version() == ROUTING_ABI_VERSION);
  EXPECT(strcmp(routing_status_name(ROUTING_OK), "OK") == 0);
  EXPECT(strcmp(routing_status_name(ROUTING_DESTROYED), "DESTROYED") == 0);
  EXPECT(strcmp(routing_status_name((routing_status_t)77), "UNKNOWN") == 0);
  routing_free(NULL); /* Ignored. */
  routing_options_destroy(NULL);
  routing_policy_destroy(NULL);
  routing_agent_destroy(NULL);
  routing_contact_destroy(NULL);
  routing_decision_destroy(NULL);
  routing_agent_status_destroy(NULL);
  routing_string_list_destroy(NULL);
  routing_history_destroy(NULL);
  routing_stats_destroy(NULL);
}

static void test_assigns_then_queues_then_calls_back(void) {
  recorder_t recorder = {0};
  routing_engine_t* engine = new_engine(&recorder);
  add_agent(engine, "maria", 5);
  add_agent(engine, "james", 3);

  routing_contact_t* call = new_call("call-1");
  routing_decision_t* decision = NULL;
  EXPECT_OK(routing_engine_route(engine, call, &decision));
  EXPECT(strcmp(routing_last_error(), "") == 0);
  routing_contact_destroy(call); /* The engine copied it. */

  routing_decision_outcome_t outcome;
  const char* text = NULL;
  double score = 0;
  int eligible = 0;
  size_t components = 0;
  uint64_t version = 0;
  int64_t decided_at = 0;
  routing_channel_t channel = ROUTING_CHANNEL_VIDEO;
  EXPECT_OK(routing_decision_outcome(decision, &outcome));
  EXPECT(outcome == ROUTING_DECISION_ASSIGNED);
  EXPECT_OK(routing_decision_contact_id(decision, &text));
  EXPECT(strcmp(text, "call-1") == 0);
  EXPECT_OK(routing_decision_agent_id(decision, &text));
  EXPECT(strcmp(text, "maria") == 0); /* The more proficient. */
  EXPECT_OK(routing_decision_queue(decision, &text));
  EXPECT(strcmp(text, "billing") == 0);
  EXPECT_OK(routing_decision_channel(decision, &channel));
  EXPECT(channel == ROUTING_CHANNEL_VOICE);
  EXPECT_OK(routing_decision_score(decision, &score));
  EXPECT(score > 0 && score <= 1);
  EXPECT_OK(routing_decision_eligible_agents(decision, &eligible));
  EXPECT(eligible == 2);
  EXPECT_OK(routing_decision_policy_version(decision, &version));
  EXPECT(version == 1);
  EXPECT_OK(routing_decision_policy_name(decision, &text));
  EXPECT(strcmp(text, "built-in") == 0);
  EXPECT_OK(routing_decision_decided_at_ms(decision, &decided_at));
  EXPECT(decided_at == kStartMs);
  EXPECT_OK(routing_decision_component_count(decision, &components));
  EXPECT(components == 6);
  double sum = 0;
  for (size_t i = 0; i < components; ++i) {
    const char* name = NULL;
    const char* detail = NULL;
    double value = -1, weight = -1, contribution = -1;
    EXPECT_OK(routing_decision_component(decision, i, &name, &value, &weight,
                                         &contribution, &detail));
    EXPECT(name != NULL && name[0] != '\0' && detail != NULL);
    EXPECT(value >= 0 && value <= 1 && weight >= 0);
    sum += contribution;
  }
  EXPECT(sum > score - 1e-9 && sum < score + 1e-9);
  EXPECT_OK(
      routing_decision_component(decision, 0, NULL, NULL, NULL, NULL, NULL));
  EXPECT_STATUS(ROUTING_OUT_OF_RANGE,
                routing_decision_component(decision, components, &text, NULL,
                                           NULL, NULL, NULL));
  EXPECT_ERROR_MENTIONS("index 6");
  char* explanation = NULL;
  EXPECT_OK(routing_decision_explain(decision, &explanation));
  EXPECT(explanation != NULL && strstr(explanation, "maria") != NULL &&
         strstr(explanation, "skill") != NULL);
  routing_free(explanation);
  routing_decision_destroy(decision);

  EXPECT(route(engine, "call-2") == ROUTING_DECISION_ASSIGNED);
  /* Both agents hold a call: the third waits. */
  call = new_call("call-3");
  EXPECT_OK(routing_contact_set_priority(call, 5));
  EXPECT_OK(routing_engine_route(engine, call, &decision));
  routing_contact_destroy(call);
  int position = 0, total = -1, at_capacity = -1;
  int64_t wait_ms = -1;
  EXPECT_OK(routing_decision_outcome(decision, &outcome));
  EXPECT(outcome == ROUTING_DECISION_QUEUED);
  EXPECT_OK(routing_decision_agent_id(decision, &text));
  EXPECT(strcmp(text, "") == 0);
  EXPECT_OK(routing_decision_queue_position(decision, &position));
  EXPECT(position == 1);
  EXPECT_OK(routing_decision_estimated_wait_ms(decision, &wait_ms));
  EXPECT(wait_ms > 0);
  EXPECT_OK(routing_decision_qualified_agents(decision, &total, &at_capacity,
                                              NULL, NULL));
  EXPECT(total == 2 && at_capacity == 2);
  routing_decision_destroy(decision);

  routing_contact_state_t state;
  char* holder = NULL;
  EXPECT_OK(routing_engine_get_contact(engine, "call-3", &state, &holder));
  EXPECT(state == ROUTING_CONTACT_QUEUED && strcmp(holder, "") == 0);
  routing_free(holder);
  EXPECT_OK(routing_engine_get_contact(engine, "call-1", &state, NULL));
  EXPECT(state == ROUTING_CONTACT_ASSIGNED);

  /* Forty seconds later maria ends call-1: call-3 goes to her, by callback,
   * before release returns. */
  EXPECT_OK(routing_engine_set_time(engine, kStartMs + 40000));
  EXPECT_OK(routing_engine_release(engine, "call-1", ROUTING_OUTCOME_RESOLVED));
  EXPECT(recorder.count == 1);
  EXPECT(strcmp(recorder.contact_id[0], "call-3") == 0);
  EXPECT(strcmp(recorder.agent_id[0], "maria") == 0);
  EXPECT(strcmp(recorder.intent[0], "dispute") == 0);
  EXPECT(recorder.waited_ms[0] == 40000);
  EXPECT(recorder.score[0] > 0);

  /* History, agent status, roster, statistics. */
  routing_history_t* history = NULL;
  size_t count = 0;
  routing_outcome_t how;
  int64_t released_at = 0;
  EXPECT_OK(routing_engine_customer_history(engine, "cust-1", &history));
  EXPECT_OK(routing_history_count(history, &count));
  EXPECT(count == 1);
  EXPECT_OK(
      routing_history_entry(history, 0, &text, &channel, &how, &released_at));
  EXPECT(strcmp(text, "maria") == 0 && how == ROUTING_OUTCOME_RESOLVED &&
         channel == ROUTING_CHANNEL_VOICE && released_at == kStartMs + 40000);
  EXPECT_STATUS(ROUTING_OUT_OF_RANGE,
                routing_history_entry(history, 1, NULL, NULL, NULL, NULL));
  routing_history_destroy(history);
  EXPECT_OK(routing_engine_customer_history(engine, "nobody", &history));
  EXPECT_OK(routing_history_count(history, &count));
  EXPECT(count == 0);
  routing_history_destroy(history);

  routing_agent_status_t* agent = NULL;
  routing_agent_state_t agent_state;
  int load = -1, capacity = -1, level = 0;
  int64_t handled = -1;
  double occupancy = -1;
  EXPECT_OK(routing_engine_get_agent(engine, "maria", &agent));
  EXPECT_OK(routing_agent_status_id(agent, &text));
  EXPECT(strcmp(text, "maria") == 0);
  EXPECT_OK(routing_agent_status_state(agent, &agent_state));
  EXPECT(agent_state == ROUTING_AGENT_AVAILABLE);
  EXPECT_OK(routing_agent_status_load(agent, ROUTING_CHANNEL_VOICE, &load,
                                      &capacity));
  EXPECT(load == 1 && capacity == 1);
  EXPECT_OK(routing_agent_status_contacts_handled(agent, &handled));
  EXPECT(handled == 1);
  EXPECT_OK(routing_agent_status_occupancy(agent, &occupancy));
  EXPECT(occupancy >= 0 && occupancy <= 1);
  EXPECT_OK(routing_agent_status_skill_count(agent, &count));
  EXPECT(count == 1);
  EXPECT_OK(routing_agent_status_skill(agent, 0, &text, &level));
  EXPECT(strcmp(text, "billing") == 0 && level == 5);
  EXPECT_OK(routing_agent_status_language_count(agent, &count));
  EXPECT(count == 1);
  EXPECT_OK(routing_agent_status_language(agent, 0, &text, &level));
  EXPECT(strcmp(text, "en") == 0 && level == 5);
  EXPECT_STATUS(ROUTING_OUT_OF_RANGE,
                routing_agent_status_language(agent, 1, &text, &level));
  EXPECT_OK(routing_agent_status_team(agent, &text));
  EXPECT(strcmp(text, "tier-1") == 0);
  EXPECT_OK(routing_agent_status_site(agent, &text));
  EXPECT(strcmp(text, "") == 0);
  EXPECT_OK(routing_agent_status_max_total_contacts(agent, &level));
  EXPECT(level == 0);
  int64_t since = 0;
  EXPECT_OK(routing_agent_status_state_since_ms(agent, &since));
  EXPECT(since == kStartMs);
  EXPECT_OK(routing_agent_status_idle_since_ms(agent, &since));
  EXPECT_STATUS(
      ROUTING_INVALID_ARGUMENT,
      routing_agent_status_load(agent, (routing_channel_t)6, &load, NULL));
  EXPECT_ERROR_MENTIONS("channel 6");
  routing_agent_status_destroy(agent);

  routing_string_list_t* ids = NULL;
  EXPECT_OK(routing_engine_agent_ids(engine, &ids));
  EXPECT_OK(routing_string_list_count(ids, &count));
  EXPECT(count == 2);
  EXPECT_OK(routing_string_list_get(ids, 1, &text));
  EXPECT(strcmp(text, "maria") == 0 || strcmp(text, "james") == 0);
  EXPECT_STATUS(ROUTING_OUT_OF_RANGE, routing_string_list_get(ids, 2, &text));
  routing_string_list_destroy(ids);

  EXPECT_OK(routing_engine_cancel(engine, "call-2"));
  routing_stats_t* stats = NULL;
  int64_t value = -1;
  EXPECT_OK(routing_engine_stats(engine, &stats));
  EXPECT_OK(routing_stats_counter(stats, ROUTING_STATS_DECISIONS, &value));
  EXPECT(value == 3);
  EXPECT_OK(
      routing_stats_counter(stats, ROUTING_STATS_ASSIGNED_IMMEDIATELY, &value));
  EXPECT(value == 2);
  EXPECT_OK(routing_stats_counter(stats, ROUTING_STATS_QUEUED, &value));
  EXPECT(value == 1);
  EXPECT_OK(
      routing_stats_counter(stats, ROUTING_STATS_ASSIGNED_FROM_QUEUE, &value));
  EXPECT(value == 1);
  EXPECT_OK(routing_stats_counter(stats, ROUTING_STATS_CANCELLED, &value));
  EXPECT(value == 1);
  EXPECT_OK(routing_stats_counter(stats, ROUTING_STATS_RELEASED, &value));
  EXPECT(value == 1);
  EXPECT_OK(routing_stats_counter(stats, ROUTING_STATS_CONTACTS_HELD, &value));
  EXPECT(value == 1);
  EXPECT_OK(routing_stats_counter(stats, ROUTING_STATS_AGENTS, &value));
  EXPECT(value == 2);
  EXPECT_OK(
      routing_stats_agents_in_state(stats, ROUTING_AGENT_AVAILABLE, &value));
  EXPECT(value == 2);
  EXPECT_OK(routing_stats_queue_count(stats, &count));
  EXPECT(count == 1);
  EXPECT_OK(routing_stats_queue_name(stats, 0, &text));
  EXPECT(strcmp(text, "billing") == 0);
  EXPECT_OK(
      routing_stats_queue_counter(stats, 0, ROUTING_QUEUE_ANSWERED, &value));
  EXPECT(value == 3);
  EXPECT_OK(routing_stats_queue_counter(
      stats, 0, ROUTING_QUEUE_AVERAGE_SPEED_OF_ANSWER_MS, &value));
  EXPECT(value > 0);
  double service_level = -1;
  EXPECT_OK(routing_stats_queue_service_level(stats, 0, &service_level));
  EXPECT(service_level > 0.6 && service_level < 0.7); /* 2 of 3 in 20 s. */
  EXPECT_STATUS(
      ROUTING_INVALID_ARGUMENT,
      routing_stats_counter(stats, (routing_stats_counter_t)99, &value));
  EXPECT_STATUS(
      ROUTING_OUT_OF_RANGE,
      routing_stats_queue_counter(stats, 1, ROUTING_QUEUE_WAITING, &value));
  routing_stats_destroy(stats);

  EXPECT_OK(routing_engine_destroy(engine));
}

static void test_policy_swap_and_requeue(void) {
  routing_engine_t* engine = new_engine(NULL);
  add_agent(engine, "maria", 5);
  add_agent(engine, "james", 3);
  routing_policy_t* policy = NULL;
  uint64_t version = 0;
  EXPECT_OK(routing_policy_create(&policy));
  EXPECT_OK(routing_policy_set_name(policy, "skill-only"));
  for (int c = ROUTING_SCORE_SKILL; c <= ROUTING_SCORE_IDLE; ++c) {
    EXPECT_OK(routing_policy_set_weight(policy, (routing_score_component_t)c,
                                        c == ROUTING_SCORE_SKILL ? 1.0 : 0.0));
  }
  EXPECT_OK(
      routing_policy_set_duration(policy, ROUTING_POLICY_PRIORITY_STEP, 60000));
  EXPECT_OK(routing_policy_set_affinity(policy, ROUTING_AFFINITY_SERVED, 0.2));
  EXPECT_OK(routing_engine_set_policy(engine, policy, &version));
  EXPECT(version == 2);
  EXPECT_OK(routing_engine_policy_version(engine, &version));
  EXPECT(version == 2);

  /* Bad values are refused by the engine, naming the field; nothing changes. */
  EXPECT_OK(routing_policy_set_weight(policy, ROUTING_SCORE_LOAD, -1.0));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_set_policy(engine, policy, NULL));
  EXPECT_ERROR_MENTIONS("load");
  EXPECT_OK(routing_engine_policy_version(engine, &version));
  EXPECT(version == 2);
  EXPECT_STATUS(
      ROUTING_INVALID_ARGUMENT,
      routing_policy_set_weight(policy, (routing_score_component_t)6, 1.0));
  EXPECT_STATUS(
      ROUTING_INVALID_ARGUMENT,
      routing_policy_set_duration(policy, (routing_policy_duration_t)-1, 1));
  EXPECT_STATUS(
      ROUTING_INVALID_ARGUMENT,
      routing_policy_set_affinity(policy, (routing_policy_affinity_t)3, 1));
  routing_policy_destroy(policy);

  /* A transfer: maria's call goes to james, and maria is remembered. */
  EXPECT(route(engine, "call-1") == ROUTING_DECISION_ASSIGNED);
  routing_contact_t* transfer = new_call("call-1");
  routing_decision_t* decision = NULL;
  const char* agent = NULL;
  EXPECT_OK(routing_engine_requeue(engine, transfer, &decision));
  EXPECT_OK(routing_decision_agent_id(decision, &agent));
  EXPECT(strcmp(agent, "james") == 0);
  routing_decision_destroy(decision);
  routing_contact_destroy(transfer);
  routing_history_t* history = NULL;
  routing_outcome_t outcome = ROUTING_OUTCOME_UNKNOWN;
  EXPECT_OK(routing_engine_customer_history(engine, "cust-1", &history));
  EXPECT_OK(routing_history_entry(history, 0, &agent, NULL, &outcome, NULL));
  EXPECT(strcmp(agent, "maria") == 0 && outcome == ROUTING_OUTCOME_TRANSFERRED);
  routing_history_destroy(history);

  /* A policy in the options is version 1 of a new engine. */
  routing_options_t* options = NULL;
  routing_engine_t* second = NULL;
  EXPECT_OK(routing_policy_create(&policy));
  EXPECT_OK(routing_policy_set_weight(policy, ROUTING_SCORE_IDLE, 0.5));
  EXPECT_OK(routing_options_create(&options));
  EXPECT_OK(routing_options_set_limit(options, ROUTING_LIMIT_MAX_AGENTS, 8));
  EXPECT_OK(routing_options_set_limit(options, ROUTING_LIMIT_MAX_CONTACTS, 8));
  EXPECT_OK(
      routing_options_set_limit(options, ROUTING_LIMIT_HISTORY_CUSTOMERS, 8));
  EXPECT_OK(routing_options_set_policy(options, policy));
  routing_policy_destroy(policy); /* Copied. */
  EXPECT_OK(routing_engine_create(options, &second));
  routing_options_destroy(options);
  EXPECT_OK(routing_engine_policy_version(second, &version));
  EXPECT(version == 1);
  /* Wall clock: set_time is refused. */
  EXPECT_STATUS(ROUTING_FAILED_PRECONDITION,
                routing_engine_set_time(second, kStartMs));
  EXPECT_ERROR_MENTIONS("wall clock");
  EXPECT_OK(routing_engine_destroy(second));
  EXPECT_OK(routing_engine_destroy(engine));
}

/* Rules: reloads (good, broken, unreadable), what decisions report, a rule
 * failing at run time, and a step that falls due. */
static void test_rules_reload_and_steps(void) {
  recorder_t recorder;
  memset(&recorder, 0, sizeof recorder);
  routing_engine_t* engine = new_engine(&recorder);
  add_agent(engine, "maria", 5);
  add_agent(engine, "james", 3);
  uint64_t version = 99;
  char* problems = (char*)"untouched";
  EXPECT_OK(routing_engine_rules_version(engine, &version));
  EXPECT(version == 0);

  /* Rules that prefer james, whatever the built-in score says. */
  EXPECT_OK(routing_engine_reload_rules_text(
      engine, "prefer_james.lua",
      "return { score = function(c, a)\n"
      "  if a.id == 'james' then return 10 end\n"
      "  if attr(c, 'intent') == 'crash' then return a.nope end\n"
      "  return 1\n"
      "end }\n",
      &version, &problems));
  EXPECT(version == 1 && problems == NULL);
  routing_contact_t* call = new_call("call-1");
  routing_decision_t* decision = NULL;
  const char* agent = NULL;
  int flag = -1;
  EXPECT_OK(routing_engine_route(engine, call, &decision));
  EXPECT_OK(routing_decision_agent_id(decision, &agent));
  EXPECT(strcmp(agent, "james") == 0);
  EXPECT_OK(routing_decision_rules_version(decision, &version));
  EXPECT(version == 1);
  EXPECT_OK(routing_decision_rules_fallback(decision, &flag));
  EXPECT(flag == 0);
  routing_decision_destroy(decision);
  routing_contact_destroy(call);

  /* A rule failing on one contact: the built-in policy decides it (james
   * is busy, so maria), counted, with file and line. */
  call = new_call("call-2");
  EXPECT_OK(routing_contact_set_attribute(call, "intent", "crash"));
  EXPECT_OK(routing_engine_route(engine, call, &decision));
  EXPECT_OK(routing_decision_rules_fallback(decision, &flag));
  EXPECT(flag == 1);
  routing_decision_destroy(decision);
  routing_contact_destroy(call);
  int64_t errors = 0;
  char* last = NULL;
  EXPECT_OK(routing_engine_rules_errors(engine, &errors, &last));
  EXPECT(errors == 1 && strstr(last, "prefer_james.lua:3:") != NULL);
  routing_free(last);
  routing_stats_t* stats = NULL;
  int64_t value = 0;
  EXPECT_OK(routing_engine_stats(engine, &stats));
  EXPECT_OK(routing_stats_counter(stats, ROUTING_STATS_RULES_FALLBACKS, &value));
  EXPECT(value == 1);
  EXPECT_OK(routing_stats_counter(stats, ROUTING_STATS_RULES_VERSION, &value));
  EXPECT(value == 1);
  routing_stats_destroy(stats);
  EXPECT_OK(routing_engine_release(engine, "call-1", ROUTING_OUTCOME_RESOLVED));
  EXPECT_OK(routing_engine_release(engine, "call-2", ROUTING_OUTCOME_RESOLVED));

  /* A broken file is refused with its problems; the old rules keep serving. */
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_reload_rules_text(
                    engine, "broken.lua",
                    "return { eligible = function(c, a)\n"
                    "  return os.time() > 0 end }\n",
                    &version, &problems));
  EXPECT(problems != NULL &&
         strstr(problems, "broken.lua:2: unknown global 'os'") != NULL);
  EXPECT_ERROR_MENTIONS("broken.lua:2: unknown global 'os'");
  routing_free(problems);
  EXPECT_STATUS(ROUTING_NOT_FOUND,
                routing_engine_reload_rules(engine, "/no/such/rules.lua",
                                            &version, &problems));
  EXPECT(problems != NULL && strstr(problems, "cannot read") != NULL);
  routing_free(problems);
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_reload_rules(engine, NULL, &version, NULL));
  EXPECT_ERROR_MENTIONS("rules file path");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_reload_rules_text(engine, "bad\xff.lua",
                                                 "return {}", NULL, NULL));
  EXPECT_ERROR_MENTIONS("rules name");
  EXPECT_OK(routing_engine_rules_version(engine, &version));
  EXPECT(version == 1);

  /* Steps: for 20 s only the preferred agent (on a break), then anyone. */
  EXPECT_OK(routing_engine_reload_rules_text(
      engine, "steps.lua",
      "return { steps = { { after = 0, preferred_only = true },\n"
      "                   { after = 20 } } }\n",
      &version, NULL));
  EXPECT(version == 2);
  EXPECT_OK(routing_engine_set_agent_state(engine, "maria",
                                           ROUTING_AGENT_BREAK));
  call = new_call("call-3");
  /* A new customer: cust-1's history would admit james and maria. */
  EXPECT_OK(routing_contact_set_customer_id(call, "cust-new"));
  EXPECT_OK(routing_contact_add_preferred_agent(call, "maria"));
  EXPECT_OK(routing_engine_route(engine, call, &decision));
  routing_decision_outcome_t outcome = ROUTING_DECISION_ASSIGNED;
  EXPECT_OK(routing_decision_outcome(decision, &outcome));
  EXPECT(outcome == ROUTING_DECISION_QUEUED);
  int step = -1;
  EXPECT_OK(routing_decision_rules_step(decision, &step));
  EXPECT(step == 1);
  routing_decision_destroy(decision);
  routing_contact_destroy(call);
  int moved = -1;
  EXPECT_OK(routing_engine_set_time(engine, kStartMs + 10000));
  EXPECT_OK(routing_engine_advance_queues(engine, &moved));
  EXPECT(moved == 0 && recorder.count == 0);
  EXPECT_OK(routing_engine_set_time(engine, kStartMs + 21000));
  EXPECT_OK(routing_engine_advance_queues(engine, &moved));
  EXPECT(moved == 1 && recorder.count == 1);
  EXPECT(strcmp(recorder.agent_id[0], "james") == 0);

  EXPECT_OK(routing_engine_clear_rules(engine, &version));
  EXPECT(version == 3);
  EXPECT_OK(routing_engine_rules_errors(engine, &errors, NULL));
  EXPECT(errors == 0);
  EXPECT_OK(routing_engine_destroy(engine));
  EXPECT_STATUS(ROUTING_DESTROYED,
                routing_engine_reload_rules(engine, "x.lua", NULL, NULL));
  EXPECT_STATUS(ROUTING_DESTROYED, routing_engine_advance_queues(engine, NULL));

  /* A rules file in the options: create compiles it, or fails naming it. */
  routing_options_t* options = NULL;
  EXPECT_OK(routing_options_create(&options));
  EXPECT_OK(routing_options_set_rules_file(options, "/no/such/rules.lua"));
  EXPECT_STATUS(ROUTING_NOT_FOUND, routing_engine_create(options, &engine));
  EXPECT_ERROR_MENTIONS("/no/such/rules.lua");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_options_set_rules_file(NULL, "x.lua"));
  routing_options_destroy(options);
}

static void test_null_arguments(void) {
  routing_engine_t* engine = new_engine(NULL);
  add_agent(engine, "maria", 5);
  routing_options_t* options = NULL;
  routing_policy_t* policy = NULL;
  routing_agent_t* agent = NULL;
  routing_contact_t* contact = NULL;
  routing_decision_t* decision = NULL;
  EXPECT_OK(routing_options_create(&options));
  EXPECT_OK(routing_policy_create(&policy));
  EXPECT_OK(routing_agent_create("a", &agent));
  EXPECT_OK(routing_contact_create("c", ROUTING_CHANNEL_CHAT, &contact));
  const char* text;
  size_t count;
  int64_t i64;
  uint64_t u64;
  double d;
  int n;

  /* Out parameters. */
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT, routing_options_create(NULL));
  EXPECT_ERROR_MENTIONS("options_out is NULL");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT, routing_policy_create(NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT, routing_agent_create("x", NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_contact_create("x", ROUTING_CHANNEL_VOICE, NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT, routing_engine_create(NULL, NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_route(engine, contact, NULL));
  EXPECT_ERROR_MENTIONS("decision_out is NULL");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_requeue(engine, contact, NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_get_agent(engine, "maria", NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_agent_ids(engine, NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_get_contact(engine, "c", NULL, NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_policy_version(engine, NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_customer_history(engine, "x", NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT, routing_engine_stats(engine, NULL));

  /* Handles. */
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_options_set_limit(NULL, ROUTING_LIMIT_MAX_AGENTS, 1));
  EXPECT_ERROR_MENTIONS("options is NULL");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_options_set_policy(NULL, policy));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_options_set_policy(options, NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_options_set_manual_clock(NULL, 0));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_options_set_assignment_callback(NULL, NULL, NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT, routing_policy_set_name(NULL, "p"));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_policy_set_weight(NULL, ROUTING_SCORE_SKILL, 1));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_policy_set_duration(NULL, 0, 1));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_policy_set_affinity(NULL, 0, 1));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_agent_add_skill(NULL, "billing", 1));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_agent_add_language(NULL, "en", 1));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_agent_set_capacity(NULL, ROUTING_CHANNEL_VOICE, 1));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_agent_set_max_total_contacts(NULL, 1));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT, routing_agent_set_team(NULL, "t"));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT, routing_agent_set_site(NULL, "s"));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_agent_set_attribute(NULL, "k", "v"));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT, routing_contact_set_queue(NULL, "q"));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_contact_add_required_skill(NULL, "s", 1));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_contact_add_desired_skill(NULL, "s", 1));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_contact_add_language(NULL, "en"));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_contact_set_priority(NULL, 1));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_contact_set_customer_id(NULL, "c"));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_contact_add_preferred_agent(NULL, "a"));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_contact_add_excluded_agent(NULL, "a"));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_contact_set_enqueue_time(NULL, 0));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_contact_set_attribute(NULL, "k", "v"));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT, routing_engine_destroy(NULL));
  EXPECT_ERROR_MENTIONS("engine is NULL");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_add_agent(NULL, agent));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_add_agent(engine, NULL));
  EXPECT_ERROR_MENTIONS("agent is NULL");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_update_agent(engine, NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_remove_agent(NULL, "a"));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_set_agent_state(NULL, "a", 1));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_route(NULL, contact, &decision));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_route(engine, NULL, &decision));
  EXPECT_ERROR_MENTIONS("contact is NULL");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_requeue(engine, NULL, &decision));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT, routing_engine_cancel(NULL, "c"));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT, routing_engine_release(NULL, "c", 0));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_set_policy(engine, NULL, NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT, routing_engine_set_time(NULL, 0));

  /* Strings. */
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT, routing_agent_create(NULL, &agent));
  EXPECT_ERROR_MENTIONS("agent id is NULL");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_contact_create(NULL, ROUTING_CHANNEL_VOICE, &contact));
  EXPECT_ERROR_MENTIONS("contact id is NULL");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_agent_add_skill(agent, NULL, 1));
  EXPECT_ERROR_MENTIONS("skill is NULL");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_agent_set_attribute(agent, "k", NULL));
  EXPECT_ERROR_MENTIONS("agent attribute value is NULL");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_contact_add_language(contact, NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_remove_agent(engine, NULL));
  EXPECT_STATUS(
      ROUTING_INVALID_ARGUMENT,
      routing_engine_set_agent_state(engine, NULL, ROUTING_AGENT_BREAK));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT, routing_engine_cancel(engine, NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_release(engine, NULL, 0));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_customer_history(engine, NULL, NULL));

  /* Result objects. */
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_decision_agent_id(NULL, &text));
  EXPECT_ERROR_MENTIONS("decision is NULL");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT, routing_decision_score(NULL, &d));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_decision_component_count(NULL, &count));
  EXPECT_STATUS(
      ROUTING_INVALID_ARGUMENT,
      routing_decision_component(NULL, 0, NULL, NULL, NULL, NULL, NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_decision_qualified_agents(NULL, &n, NULL, NULL, NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_decision_policy_version(NULL, &u64));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT, routing_decision_explain(NULL, NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_assignment_contact_id(NULL, &text));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_assignment_waited_ms(NULL, &i64));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_assignment_attribute(NULL, 0, &text, &text));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_assignment_decision(NULL, NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_agent_status_state(NULL, NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_agent_status_load(NULL, 0, &n, &n));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_agent_status_skill(NULL, 0, &text, &n));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_agent_status_language(NULL, 0, &text, &n));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_agent_status_team(NULL, &text));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_string_list_count(NULL, &count));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_string_list_get(NULL, 0, &text));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT, routing_history_count(NULL, &count));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_history_entry(NULL, 0, NULL, NULL, NULL, NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_stats_counter(NULL, ROUTING_STATS_AGENTS, &i64));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_stats_agents_in_state(NULL, 0, &i64));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_stats_queue_count(NULL, &count));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_stats_queue_name(NULL, 0, &text));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_stats_queue_counter(NULL, 0, 0, &i64));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_stats_queue_service_level(NULL, 0, &d));

  /* A NULL out parameter of a result accessor. */
  routing_contact_t* call = new_call("call-n");
  EXPECT_OK(routing_engine_route(engine, call, &decision));
  routing_contact_destroy(call);
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_decision_agent_id(decision, NULL));
  EXPECT_ERROR_MENTIONS("out parameter is NULL");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_decision_explain(decision, NULL));
  routing_decision_destroy(decision);
  routing_stats_t* stats = NULL;
  EXPECT_OK(routing_engine_stats(engine, &stats));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_stats_counter(stats, ROUTING_STATS_AGENTS, NULL));
  routing_stats_destroy(stats);

  routing_options_destroy(options);
  routing_policy_destroy(policy);
  routing_agent_destroy(agent);
  routing_contact_destroy(contact);
  EXPECT_OK(routing_engine_destroy(engine));
}

static void test_invalid_utf8_names_the_field(void) {
  const char* bad[] = {"\xff",     "ab\xc0\xaf",       "\xed\xa0\x80",
                       "\xe2\x82", "\xf4\x90\x80\x80", "\x80"};
  routing_engine_t* engine = new_engine(NULL);
  add_agent(engine, "maria", 5);
  routing_agent_t* agent = NULL;
  routing_contact_t* contact = NULL;
  routing_policy_t* policy = NULL;
  EXPECT_OK(routing_agent_create("a", &agent));
  EXPECT_OK(routing_contact_create("c", ROUTING_CHANNEL_VOICE, &contact));
  EXPECT_OK(routing_policy_create(&policy));
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    routing_agent_t* unused_agent = NULL;
    routing_contact_t* unused_contact = NULL;
    EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                  routing_agent_create(bad[i], &unused_agent));
    EXPECT_ERROR_MENTIONS("agent id is not valid UTF-8");
    EXPECT(unused_agent == NULL); /* Out parameters only on success. */
    EXPECT_STATUS(
        ROUTING_INVALID_ARGUMENT,
        routing_contact_create(bad[i], ROUTING_CHANNEL_VOICE, &unused_contact));
    EXPECT_ERROR_MENTIONS("contact id is not valid UTF-8");
    EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                  routing_agent_add_skill(agent, bad[i], 3));
    EXPECT_ERROR_MENTIONS("skill is not valid UTF-8");
    EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                  routing_agent_add_language(agent, bad[i], 3));
    EXPECT_ERROR_MENTIONS("language is not valid UTF-8");
    EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                  routing_agent_set_attribute(agent, bad[i], "v"));
    EXPECT_ERROR_MENTIONS("agent attribute key is not valid UTF-8");
    EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                  routing_agent_set_team(agent, bad[i]));
    EXPECT_ERROR_MENTIONS("team is not valid UTF-8");
    EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                  routing_contact_add_required_skill(contact, bad[i], 1));
    EXPECT_ERROR_MENTIONS("required skill is not valid UTF-8");
    EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                  routing_contact_add_language(contact, bad[i]));
    EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                  routing_contact_set_attribute(contact, "summary", bad[i]));
    EXPECT_ERROR_MENTIONS("contact attribute value is not valid UTF-8");
    EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                  routing_contact_set_customer_id(contact, bad[i]));
    EXPECT_ERROR_MENTIONS("customer id is not valid UTF-8");
    EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                  routing_contact_set_queue(contact, bad[i]));
    EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                  routing_contact_add_excluded_agent(contact, bad[i]));
    EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                  routing_policy_set_name(policy, bad[i]));
    EXPECT_ERROR_MENTIONS("policy name is not valid UTF-8");
    EXPECT_STATUS(
        ROUTING_INVALID_ARGUMENT,
        routing_engine_set_agent_state(engine, bad[i], ROUTING_AGENT_BREAK));
    EXPECT_ERROR_MENTIONS("agent id is not valid UTF-8");
    EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                  routing_engine_release(engine, bad[i], 0));
    EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                  routing_engine_cancel(engine, bad[i]));
    EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                  routing_engine_remove_agent(engine, bad[i]));
  }
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_agent_create("ab\xc0\xaf", &agent));
  EXPECT_ERROR_MENTIONS("byte 2 of 4");
  /* Valid multi-byte UTF-8 is accepted and comes back intact. */
  routing_agent_t* accented = NULL;
  const char* id = "jos\xc3\xa9-\xe6\x97\xa5-\xf0\x9f\x98\x80";
  EXPECT_OK(routing_agent_create(id, &accented));
  EXPECT_OK(routing_agent_add_skill(accented, "facturaci\xc3\xb3n", 3));
  EXPECT_OK(routing_agent_set_capacity(accented, ROUTING_CHANNEL_CHAT, 2));
  EXPECT_OK(routing_engine_add_agent(engine, accented));
  routing_agent_destroy(accented);
  routing_agent_status_t* status = NULL;
  const char* back = NULL;
  EXPECT_OK(routing_engine_get_agent(engine, id, &status));
  EXPECT_OK(routing_agent_status_id(status, &back));
  EXPECT(strcmp(back, id) == 0);
  routing_agent_status_destroy(status);

  /* The roster is unchanged by all of the above. */
  routing_stats_t* stats = NULL;
  int64_t agents = 0;
  EXPECT_OK(routing_engine_stats(engine, &stats));
  EXPECT_OK(routing_stats_counter(stats, ROUTING_STATS_AGENTS, &agents));
  EXPECT(agents == 2);
  routing_stats_destroy(stats);
  routing_agent_destroy(agent);
  routing_contact_destroy(contact);
  routing_policy_destroy(policy);
  EXPECT_OK(routing_engine_destroy(engine));
}

static void test_unknown_ids_and_wrong_state(void) {
  routing_engine_t* engine = new_engine(NULL);
  add_agent(engine, "maria", 5);
  routing_agent_status_t* status = NULL;
  EXPECT_STATUS(
      ROUTING_NOT_FOUND,
      routing_engine_set_agent_state(engine, "ghost", ROUTING_AGENT_AVAILABLE));
  EXPECT_ERROR_MENTIONS("ghost");
  EXPECT_STATUS(ROUTING_NOT_FOUND,
                routing_engine_get_agent(engine, "ghost", &status));
  EXPECT(status == NULL);
  EXPECT_STATUS(ROUTING_NOT_FOUND,
                routing_engine_remove_agent(engine, "ghost"));
  EXPECT_STATUS(ROUTING_NOT_FOUND, routing_engine_cancel(engine, "nope"));
  EXPECT_ERROR_MENTIONS("nope");
  EXPECT_STATUS(
      ROUTING_NOT_FOUND,
      routing_engine_release(engine, "nope", ROUTING_OUTCOME_RESOLVED));
  routing_contact_state_t state;
  EXPECT_STATUS(ROUTING_NOT_FOUND,
                routing_engine_get_contact(engine, "nope", &state, NULL));
  routing_agent_t* ghost = NULL;
  EXPECT_OK(routing_agent_create("ghost", &ghost));
  EXPECT_OK(routing_agent_set_capacity(ghost, ROUTING_CHANNEL_VOICE, 1));
  EXPECT_STATUS(ROUTING_NOT_FOUND, routing_engine_update_agent(engine, ghost));
  routing_agent_destroy(ghost);

  /* Enums out of range. */
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_set_agent_state(engine, "maria",
                                               (routing_agent_state_t)5));
  EXPECT_ERROR_MENTIONS("agent state 5");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_set_agent_state(engine, "maria",
                                               (routing_agent_state_t)-1));
  routing_contact_t* contact = NULL;
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_contact_create("c", (routing_channel_t)6, &contact));
  EXPECT_ERROR_MENTIONS("channel 6");
  routing_agent_t* agent = NULL;
  EXPECT_OK(routing_agent_create("bob", &agent));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_agent_set_capacity(agent, (routing_channel_t)42, 1));
  /* No capacity: the engine refuses the profile, naming the agent. */
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_add_agent(engine, agent));
  EXPECT_ERROR_MENTIONS("bob");
  EXPECT_OK(routing_agent_set_capacity(agent, ROUTING_CHANNEL_VOICE, 1));
  EXPECT_OK(routing_agent_add_skill(agent, "billing", 9)); /* Above 5. */
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_add_agent(engine, agent));
  routing_agent_destroy(agent);
  EXPECT_OK(routing_agent_create("maria", &agent));
  EXPECT_OK(routing_agent_set_capacity(agent, ROUTING_CHANNEL_VOICE, 1));
  EXPECT_STATUS(ROUTING_ALREADY_EXISTS,
                routing_engine_add_agent(engine, agent));
  EXPECT_ERROR_MENTIONS("maria");
  routing_agent_destroy(agent);
  EXPECT_OK(routing_contact_create("c", ROUTING_CHANNEL_VOICE, &contact));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_contact_set_priority(contact, 10));
  EXPECT_ERROR_MENTIONS("priority 10");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_contact_set_priority(contact, -1));
  EXPECT_OK(routing_contact_add_required_skill(contact, "astrophysics", 1));
  routing_decision_t* decision = NULL;
  EXPECT_STATUS(ROUTING_NOT_FOUND,
                routing_engine_route(engine, contact, &decision));
  EXPECT_ERROR_MENTIONS("astrophysics");
  EXPECT(decision == NULL);
  routing_contact_destroy(contact);
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_release(engine, "x", (routing_outcome_t)4));
  EXPECT_ERROR_MENTIONS("outcome 4");

  /* Wrong state: releasing a queued contact, removing a busy agent, routing
   * an id already held, a bad limit at create. */
  EXPECT(route(engine, "call-1") == ROUTING_DECISION_ASSIGNED);
  EXPECT(route(engine, "call-2") == ROUTING_DECISION_QUEUED);
  EXPECT(route(engine, "call-2") == -1);
  EXPECT_ERROR_MENTIONS("call-2");
  EXPECT_STATUS(
      ROUTING_FAILED_PRECONDITION,
      routing_engine_release(engine, "call-2", ROUTING_OUTCOME_RESOLVED));
  EXPECT_STATUS(ROUTING_FAILED_PRECONDITION,
                routing_engine_remove_agent(engine, "maria"));
  EXPECT_ERROR_MENTIONS("maria");
  routing_options_t* options = NULL;
  routing_engine_t* second = NULL;
  EXPECT_OK(routing_options_create(&options));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_options_set_limit(options, (routing_limit_t)9, 1));
  EXPECT_OK(
      routing_options_set_limit(options, ROUTING_LIMIT_HISTORY_DEPTH, 99));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_create(options, &second));
  EXPECT_ERROR_MENTIONS("history_depth");
  EXPECT(second == NULL);
  routing_options_destroy(options);
  EXPECT_OK(routing_engine_destroy(engine));
}

static void test_calls_after_destroy(void) {
  routing_engine_t* engine = new_engine(NULL);
  add_agent(engine, "maria", 5);
  EXPECT(route(engine, "call-1") == ROUTING_DECISION_ASSIGNED);
  EXPECT_OK(routing_engine_destroy(engine)); /* Frees a held contact too. */
  EXPECT_STATUS(ROUTING_DESTROYED, routing_engine_destroy(engine));
  EXPECT_ERROR_MENTIONS("already destroyed");

  routing_agent_t* agent = NULL;
  routing_contact_t* contact = NULL;
  routing_policy_t* policy = NULL;
  routing_decision_t* decision = NULL;
  routing_agent_status_t* status = NULL;
  routing_string_list_t* ids = NULL;
  routing_history_t* history = NULL;
  routing_stats_t* stats = NULL;
  routing_contact_state_t state;
  uint64_t version = 0;
  EXPECT_OK(routing_agent_create("bob", &agent));
  EXPECT_OK(routing_agent_set_capacity(agent, ROUTING_CHANNEL_VOICE, 1));
  EXPECT_OK(routing_contact_create("c", ROUTING_CHANNEL_VOICE, &contact));
  EXPECT_OK(routing_policy_create(&policy));
  EXPECT_STATUS(ROUTING_DESTROYED, routing_engine_add_agent(engine, agent));
  EXPECT_ERROR_MENTIONS("routing_engine_add_agent: the engine was destroyed");
  EXPECT_STATUS(ROUTING_DESTROYED, routing_engine_update_agent(engine, agent));
  EXPECT_STATUS(ROUTING_DESTROYED,
                routing_engine_remove_agent(engine, "maria"));
  EXPECT_STATUS(ROUTING_DESTROYED,
                routing_engine_set_agent_state(engine, "maria", 0));
  EXPECT_STATUS(ROUTING_DESTROYED,
                routing_engine_get_agent(engine, "maria", &status));
  EXPECT_STATUS(ROUTING_DESTROYED, routing_engine_agent_ids(engine, &ids));
  EXPECT_STATUS(ROUTING_DESTROYED,
                routing_engine_route(engine, contact, &decision));
  EXPECT_STATUS(ROUTING_DESTROYED,
                routing_engine_requeue(engine, contact, &decision));
  EXPECT_STATUS(ROUTING_DESTROYED, routing_engine_cancel(engine, "call-1"));
  EXPECT_STATUS(ROUTING_DESTROYED, routing_engine_release(engine, "call-1", 1));
  EXPECT_STATUS(ROUTING_DESTROYED,
                routing_engine_get_contact(engine, "call-1", &state, NULL));
  EXPECT_STATUS(ROUTING_DESTROYED,
                routing_engine_set_policy(engine, policy, &version));
  EXPECT_STATUS(ROUTING_DESTROYED,
                routing_engine_policy_version(engine, &version));
  EXPECT_STATUS(ROUTING_DESTROYED,
                routing_engine_customer_history(engine, "c", &history));
  EXPECT_STATUS(ROUTING_DESTROYED, routing_engine_stats(engine, &stats));
  EXPECT_STATUS(ROUTING_DESTROYED, routing_engine_set_time(engine, 0));
  /* Even with bad arguments, a destroyed engine says so first. */
  EXPECT_STATUS(ROUTING_DESTROYED, routing_engine_route(engine, NULL, NULL));
  EXPECT(decision == NULL && status == NULL && stats == NULL);
  routing_agent_destroy(agent);
  routing_contact_destroy(contact);
  routing_policy_destroy(policy);
}

static void test_destroy_from_callback_is_refused(void) {
  recorder_t recorder = {0};
  routing_engine_t* engine = new_engine(&recorder);
  add_agent(engine, "maria", 5);
  EXPECT(route(engine, "call-1") == ROUTING_DECISION_ASSIGNED);
  EXPECT(route(engine, "call-2") == ROUTING_DECISION_QUEUED);
  recorder.engine = engine; /* The callback now tries to destroy it. */
  EXPECT_OK(routing_engine_release(engine, "call-1", ROUTING_OUTCOME_RESOLVED));
  EXPECT(recorder.count == 1);
  EXPECT(recorder.destroy_status == ROUTING_FAILED_PRECONDITION);
  EXPECT(strstr(recorder.destroy_error, "assignment callback") != NULL);
  /* The engine is intact and the release succeeded. */
  routing_contact_state_t state;
  EXPECT_OK(routing_engine_get_contact(engine, "call-2", &state, NULL));
  EXPECT(state == ROUTING_CONTACT_ASSIGNED);
  EXPECT_OK(routing_engine_destroy(engine));
}

static void test_callback_may_create_and_destroy_another_engine(void) {
  recorder_t recorder = {0};
  routing_engine_t* engine = new_engine(&recorder);
  add_agent(engine, "maria", 5);
  EXPECT(route(engine, "call-1") == ROUTING_DECISION_ASSIGNED);
  EXPECT(route(engine, "call-2") == ROUTING_DECISION_QUEUED);
  recorder.nested_engine = 1;
  recorder.nested_status = ROUTING_INTERNAL;
  EXPECT_OK(routing_engine_release(engine, "call-1", ROUTING_OUTCOME_RESOLVED));
  EXPECT(recorder.count == 1);
  EXPECT(recorder.nested_status == ROUTING_OK);
  EXPECT_OK(routing_engine_destroy(engine));
}

static void test_strings_are_copied_in(void) {
  routing_engine_t* engine = new_engine(NULL);
  char id[16], skill[16];
  strcpy(id, "maria");
  strcpy(skill, "billing");
  routing_agent_t* agent = NULL;
  EXPECT_OK(routing_agent_create(id, &agent));
  EXPECT_OK(routing_agent_add_skill(agent, skill, 4));
  EXPECT_OK(routing_agent_add_language(agent, "en", 3));
  EXPECT_OK(routing_agent_set_capacity(agent, ROUTING_CHANNEL_VOICE, 1));
  memset(id, 'X', sizeof id - 1); /* The caller reuses its buffers. */
  memset(skill, 'Y', sizeof skill - 1);
  EXPECT_OK(routing_engine_add_agent(engine, agent));
  routing_agent_destroy(agent);
  EXPECT_OK(
      routing_engine_set_agent_state(engine, "maria", ROUTING_AGENT_AVAILABLE));
  EXPECT(route(engine, "call-1") == ROUTING_DECISION_ASSIGNED);
  EXPECT_OK(routing_engine_destroy(engine));
}

/* (1.2) Rules limits, health and the circuit breaker: failures past the
 * limit suspend the rules, decisions say so, a reload re-arms; bad limits
 * are refused and change nothing. */
static void test_rules_breaker_and_health(void) {
  routing_options_t* options = NULL;
  routing_engine_t* engine = NULL;
  EXPECT_OK(routing_options_create(&options));
  EXPECT_OK(routing_options_set_manual_clock(options, kStartMs));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_options_set_rules_limits(options, 0, 2, 60000));
  EXPECT_ERROR_MENTIONS("budget_us");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_options_set_rules_limits(options, 2000, -1, 60000));
  EXPECT_ERROR_MENTIONS("breaker_failures");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_options_set_rules_limits(options, 2000, 2, 0));
  EXPECT_ERROR_MENTIONS("breaker_window_ms");
  EXPECT_OK(routing_options_set_rules_limits(options, 2000, 2, 60000));
  EXPECT_OK(routing_engine_create(options, &engine));
  routing_options_destroy(options);
  add_agent(engine, "maria", 5);

  int64_t errors = -1, overruns = -1;
  int suspended = -1;
  char* last = NULL;
  EXPECT_OK(
      routing_engine_rules_health(engine, &errors, &overruns, &suspended, &last));
  EXPECT(errors == 0 && overruns == 0 && suspended == 0 && strcmp(last, "") == 0);
  routing_free(last);

  const char* source =
      "return { score = function(c, a)\n"
      "  if attr(c, 'intent') == 'crash' then\n"
      "    error('no score for crashes')\n"
      "  end\n"
      "  return 1\n"
      "end }\n";
  EXPECT_OK(routing_engine_reload_rules_text(engine, "crashy.lua", source,
                                             NULL, NULL));
  char id[32];
  for (int i = 0; i < 3; ++i) {
    snprintf(id, sizeof id, "crash-%d", i);
    routing_contact_t* call = new_call(id);
    EXPECT_OK(routing_contact_set_attribute(call, "intent", "crash"));
    routing_decision_t* decision = NULL;
    EXPECT_OK(routing_engine_route(engine, call, &decision));
    routing_decision_destroy(decision);
    routing_contact_destroy(call);
    EXPECT_OK(routing_engine_release(engine, id, ROUTING_OUTCOME_RESOLVED));
  }
  EXPECT_OK(routing_engine_rules_health(engine, &errors, NULL, &suspended,
                                        &last));
  EXPECT(errors == 3 && suspended == 1);
  EXPECT(strstr(last, "crashy.lua:3: no score for crashes") != NULL);
  routing_free(last);

  routing_contact_t* call = new_call("calm");
  routing_decision_t* decision = NULL;
  int flag = -1;
  EXPECT_OK(routing_engine_route(engine, call, &decision));
  EXPECT_OK(routing_decision_rules_suspended(decision, &flag));
  EXPECT(flag == 1);
  EXPECT_OK(routing_decision_rules_fallback(decision, &flag));
  EXPECT(flag == 1);
  routing_decision_destroy(decision);
  routing_contact_destroy(call);
  EXPECT_OK(routing_engine_release(engine, "calm", ROUTING_OUTCOME_RESOLVED));
  routing_stats_t* stats = NULL;
  int64_t value = -1;
  EXPECT_OK(routing_engine_stats(engine, &stats));
  EXPECT_OK(routing_stats_counter(
      stats, ROUTING_STATS_RULES_SUSPENDED_DECISIONS, &value));
  EXPECT(value == 1);
  routing_stats_destroy(stats);

  /* A reload re-arms: the same file, a fresh version. */
  EXPECT_OK(routing_engine_reload_rules_text(engine, "crashy.lua", source,
                                             NULL, NULL));
  EXPECT_OK(routing_engine_rules_health(engine, &errors, NULL, &suspended,
                                        NULL));
  EXPECT(errors == 0 && suspended == 0);
  call = new_call("calm-2");
  EXPECT_OK(routing_engine_route(engine, call, &decision));
  EXPECT_OK(routing_decision_rules_suspended(decision, &flag));
  EXPECT(flag == 0);
  routing_decision_destroy(decision);
  routing_contact_destroy(call);
  EXPECT_OK(routing_engine_destroy(engine));
}

/* (1.3) Release with a survey: counted in the queue's KPI counters; an
 * answer out of range is refused, names itself, and changes nothing. */
static void test_release_with_survey_and_queue_kpis(void) {
  routing_options_t* options = NULL;
  routing_engine_t* engine = NULL;
  EXPECT_OK(routing_options_create(&options));
  EXPECT_OK(routing_options_set_manual_clock(options, kStartMs));
  EXPECT_OK(routing_engine_create(options, &engine));
  routing_options_destroy(options);
  add_agent(engine, "maria", 5);
  EXPECT(route(engine, "call-1") == ROUTING_DECISION_ASSIGNED);

  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_release_with_survey(
                    engine, "call-1", ROUTING_OUTCOME_RESOLVED, 6, 9));
  EXPECT_ERROR_MENTIONS("csat 6");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_release_with_survey(
                    engine, "call-1", ROUTING_OUTCOME_RESOLVED, 4, 11));
  EXPECT_ERROR_MENTIONS("nps 11");
  routing_contact_state_t state = ROUTING_CONTACT_QUEUED;
  EXPECT_OK(routing_engine_get_contact(engine, "call-1", &state, NULL));
  EXPECT(state == ROUTING_CONTACT_ASSIGNED);

  EXPECT_OK(routing_engine_release_with_survey(
      engine, "call-1", ROUTING_OUTCOME_RESOLVED, 4, 9));
  EXPECT(route(engine, "call-2") == ROUTING_DECISION_ASSIGNED);
  char* error = NULL;
  EXPECT_OK(routing_engine_release_with_survey_r(
      engine, "call-2", ROUTING_OUTCOME_UNRESOLVED,
      ROUTING_SURVEY_NOT_ANSWERED, 2, &error));
  EXPECT(error == NULL);

  routing_stats_t* stats = NULL;
  EXPECT_OK(routing_engine_stats(engine, &stats));
  size_t queues = 0;
  EXPECT_OK(routing_stats_queue_count(stats, &queues));
  EXPECT(queues == 1);
  int64_t value = -1;
  EXPECT_OK(routing_stats_queue_counter(stats, 0, ROUTING_QUEUE_RELEASED, &value));
  EXPECT(value == 2);
  EXPECT_OK(routing_stats_queue_counter(stats, 0, ROUTING_QUEUE_RESOLVED, &value));
  EXPECT(value == 1);
  EXPECT_OK(routing_stats_queue_counter(
      stats, 0, ROUTING_QUEUE_FIRST_CONTACT_RESOLVED, &value));
  EXPECT(value == 1);
  EXPECT_OK(routing_stats_queue_counter(stats, 0, ROUTING_QUEUE_CSAT_RESPONSES,
                                        &value));
  EXPECT(value == 1);
  EXPECT_OK(routing_stats_queue_counter(stats, 0, ROUTING_QUEUE_CSAT_SUM, &value));
  EXPECT(value == 4);
  EXPECT_OK(routing_stats_queue_counter(stats, 0, ROUTING_QUEUE_NPS_RESPONSES,
                                        &value));
  EXPECT(value == 2);
  EXPECT_OK(routing_stats_queue_counter(stats, 0, ROUTING_QUEUE_NPS_PROMOTERS,
                                        &value));
  EXPECT(value == 1);
  EXPECT_OK(routing_stats_queue_counter(stats, 0, ROUTING_QUEUE_NPS_DETRACTORS,
                                        &value));
  EXPECT(value == 1);
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_stats_queue_counter(stats, 0, 16, &value));
  routing_stats_destroy(stats);
  EXPECT_OK(routing_engine_destroy(engine));
}

/* (1.4) Reservations. What both callbacks saw, in the order they ran. */
typedef struct {
  int count;
  char kind[8];             /* 'A' assignment, 'E' lapsed offer. */
  char contact_id[8][32];
  char customer_id[8][32];
  char agent_id[8][32];
  char queue[8][32];
  routing_channel_t channel[8];
  uint64_t placement[8];
  routing_agent_state_t agent_state[8]; /* 'E' only. */
  void* user_data[8];
  int offered[8];           /* 'A' only. */
  int64_t expires_ms[8];    /* 'A' only. */
} offer_log_t;

static void log_offer_assignment(void* user_data, const routing_assignment_t* a) {
  offer_log_t* log = (offer_log_t*)user_data;
  if (log->count >= 8) return;
  int i = log->count++;
  const char* text;
  const routing_decision_t* decision;
  log->kind[i] = 'A';
  if (routing_assignment_contact_id(a, &text) == ROUTING_OK)
    snprintf(log->contact_id[i], 32, "%s", text);
  if (routing_assignment_agent_id(a, &text) == ROUTING_OK)
    snprintf(log->agent_id[i], 32, "%s", text);
  routing_assignment_placement(a, &log->placement[i]);
  routing_assignment_user_data(a, &log->user_data[i]);
  if (routing_assignment_decision(a, &decision) == ROUTING_OK) {
    routing_decision_offered(decision, &log->offered[i]);
    routing_decision_offer_expires_at_ms(decision, &log->expires_ms[i]);
  }
}

static void log_offer_expired(void* user_data,
                              const routing_expired_offer_t* offer) {
  offer_log_t* log = (offer_log_t*)user_data;
  if (log->count >= 8) return;
  int i = log->count++;
  const char* text;
  log->kind[i] = 'E';
  if (routing_expired_offer_contact_id(offer, &text) == ROUTING_OK)
    snprintf(log->contact_id[i], 32, "%s", text);
  if (routing_expired_offer_customer_id(offer, &text) == ROUTING_OK)
    snprintf(log->customer_id[i], 32, "%s", text);
  if (routing_expired_offer_agent_id(offer, &text) == ROUTING_OK)
    snprintf(log->agent_id[i], 32, "%s", text);
  if (routing_expired_offer_queue(offer, &text) == ROUTING_OK)
    snprintf(log->queue[i], 32, "%s", text);
  routing_expired_offer_channel(offer, &log->channel[i]);
  routing_expired_offer_placement(offer, &log->placement[i]);
  routing_expired_offer_agent_state(offer, &log->agent_state[i]);
  routing_expired_offer_user_data(offer, &log->user_data[i]);
}

static const int64_t kOfferTimeoutMs = 10000;

/* An engine whose voice assignments are offers lapsing after 10 s. */
static routing_engine_t* new_offering_engine(offer_log_t* log) {
  routing_options_t* options = NULL;
  routing_engine_t* engine = NULL;
  EXPECT_OK(routing_options_create(&options));
  EXPECT_OK(routing_options_set_manual_clock(options, kStartMs));
  EXPECT_OK(routing_options_set_offer_timeout(options, ROUTING_CHANNEL_VOICE,
                                              kOfferTimeoutMs));
  EXPECT_OK(routing_options_set_missed_offer_state(options,
                                                   ROUTING_AGENT_BREAK));
  EXPECT_OK(routing_options_set_assignment_callback(
      options, log_offer_assignment, log));
  EXPECT_OK(routing_options_set_offer_expired_callback(
      options, log_offer_expired, log));
  EXPECT_OK(routing_engine_create(options, &engine));
  routing_options_destroy(options);
  return engine;
}

static routing_agent_state_t agent_state(routing_engine_t* engine,
                                         const char* id) {
  routing_agent_status_t* status = NULL;
  routing_agent_state_t state = -1;
  EXPECT_OK(routing_engine_get_agent(engine, id, &status));
  EXPECT_OK(routing_agent_status_state(status, &state));
  routing_agent_status_destroy(status);
  return state;
}

static int64_t stats_counter(routing_engine_t* engine,
                             routing_stats_counter_t counter) {
  routing_stats_t* stats = NULL;
  int64_t value = -1;
  EXPECT_OK(routing_engine_stats(engine, &stats));
  EXPECT_OK(routing_stats_counter(stats, counter, &value));
  routing_stats_destroy(stats);
  return value;
}

/* Checks where the contact is, with the offer's deadline and placement. */
static void expect_contact(routing_engine_t* engine, const char* id,
                           routing_contact_state_t state, const char* agent,
                           int64_t expires_ms, uint64_t placement) {
  routing_contact_state_t got_state = -1;
  char* got_agent = NULL;
  int64_t got_expires = -1;
  uint64_t got_placement = 99;
  EXPECT_OK(routing_engine_get_contact_details(
      engine, id, &got_state, &got_agent, &got_expires, &got_placement));
  EXPECT(got_state == state);
  EXPECT(got_agent != NULL && strcmp(got_agent, agent) == 0);
  EXPECT(got_expires == expires_ms);
  EXPECT(got_placement == placement);
  routing_free(got_agent);
  /* The 1.0 call reports the same state. */
  got_state = -1;
  EXPECT_OK(routing_engine_get_contact(engine, id, &got_state, NULL));
  EXPECT(got_state == state);
}

static void test_offer_options_refuse_out_of_range(void) {
  routing_options_t* options = NULL;
  EXPECT_OK(routing_options_create(&options));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_options_set_offer_timeout(
                    options, ROUTING_CHANNEL_CHAT, -1));
  EXPECT_ERROR_MENTIONS("channel 1 (chat)");
  EXPECT_ERROR_MENTIONS("got -1");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_options_set_offer_timeout(
                    options, ROUTING_CHANNEL_VOICE,
                    ROUTING_MAX_OFFER_TIMEOUT_MS + 1));
  EXPECT_ERROR_MENTIONS("got 3600001");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_options_set_offer_timeout(options, 6, 1000));
  EXPECT_ERROR_MENTIONS("channel 6");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_options_set_offer_timeout(NULL, 0, 1000));
  EXPECT_ERROR_MENTIONS("options is NULL");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_options_set_missed_offer_state(options, 5));
  EXPECT_ERROR_MENTIONS("missed offer state 5");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_options_set_offer_expired_callback(NULL, NULL, NULL));
  EXPECT_OK(routing_options_set_offer_timeout(options, ROUTING_CHANNEL_VOICE,
                                              ROUTING_MAX_OFFER_TIMEOUT_MS));
  EXPECT_OK(routing_options_set_offer_timeout(options, ROUTING_CHANNEL_VOICE,
                                              0));
  /* The refused values changed nothing: an engine from these options makes
   * final assignments (voice back to 0, chat never set). */
  routing_engine_t* engine = NULL;
  EXPECT_OK(routing_options_set_manual_clock(options, kStartMs));
  EXPECT_OK(routing_engine_create(options, &engine));
  routing_options_destroy(options);
  add_agent(engine, "maria", 5);
  routing_contact_t* call = new_call("call-1");
  routing_decision_t* decision = NULL;
  EXPECT_OK(routing_engine_route(engine, call, &decision));
  int offered = -1;
  uint64_t placement = 99;
  EXPECT_OK(routing_decision_offered(decision, &offered));
  EXPECT(offered == 0);
  EXPECT_OK(routing_decision_placement(decision, &placement));
  EXPECT(placement == 0);
  routing_decision_destroy(decision);
  routing_contact_destroy(call);
  expect_contact(engine, "call-1", ROUTING_CONTACT_ASSIGNED, "maria", 0, 0);
  EXPECT(stats_counter(engine, ROUTING_STATS_OFFERS) == 0);
  EXPECT_OK(routing_engine_destroy(engine));
}

static void test_offer_accepted(void) {
  offer_log_t log = {0};
  routing_engine_t* engine = new_offering_engine(&log);
  add_agent(engine, "maria", 5);
  add_agent(engine, "ivan", 5);
  EXPECT_OK(routing_engine_set_agent_state(engine, "ivan", ROUTING_AGENT_BUSY));
  routing_contact_t* call = new_call("call-1");
  routing_decision_t* decision = NULL;
  EXPECT_OK(routing_engine_route(engine, call, &decision));
  routing_contact_destroy(call);
  routing_decision_outcome_t outcome = -1;
  const char* agent = NULL;
  int offered = -1;
  int64_t expires = -1;
  uint64_t placement = 99;
  EXPECT_OK(routing_decision_outcome(decision, &outcome));
  EXPECT(outcome == ROUTING_DECISION_ASSIGNED);
  EXPECT_OK(routing_decision_agent_id(decision, &agent));
  EXPECT(strcmp(agent, "maria") == 0);
  EXPECT_OK(routing_decision_offered(decision, &offered));
  EXPECT(offered == 1);
  EXPECT_OK(routing_decision_offer_expires_at_ms(decision, &expires));
  EXPECT(expires == kStartMs + kOfferTimeoutMs);
  EXPECT_OK(routing_decision_placement(decision, &placement));
  EXPECT(placement == 0);
  routing_decision_destroy(decision);
  expect_contact(engine, "call-1", ROUTING_CONTACT_OFFERED, "maria",
                 kStartMs + kOfferTimeoutMs, 0);

  /* Refusals: each names the problem and changes nothing. */
  char long_id[300];
  memset(long_id, 'x', sizeof long_id - 1);
  long_id[sizeof long_id - 1] = '\0';
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_accept_offer(NULL, "call-1", "maria"));
  EXPECT_ERROR_MENTIONS("engine is NULL");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_accept_offer(engine, NULL, "maria"));
  EXPECT_ERROR_MENTIONS("contact id is NULL");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_accept_offer(engine, long_id, "maria"));
  EXPECT_ERROR_MENTIONS("contact id is 299 bytes long; at most 256");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_accept_offer(engine, "call-1", long_id));
  EXPECT_ERROR_MENTIONS("agent id is 299 bytes long; at most 256");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_accept_offer(engine, "call-1", "\xC3\x28"));
  EXPECT_ERROR_MENTIONS("agent id is not valid UTF-8");
  EXPECT_STATUS(ROUTING_NOT_FOUND,
                routing_engine_accept_offer(engine, "call-404", "maria"));
  EXPECT_ERROR_MENTIONS("call-404");
  EXPECT_STATUS(ROUTING_FAILED_PRECONDITION,
                routing_engine_accept_offer(engine, "call-1", "ivan"));
  EXPECT_ERROR_MENTIONS("offered to agent 'maria', not to 'ivan'");
  routing_decision_t* untouched = NULL;
  EXPECT_STATUS(ROUTING_FAILED_PRECONDITION,
                routing_engine_reject_offer(engine, "call-1", "ivan",
                                            &untouched));
  EXPECT(untouched == NULL);
  char* error = NULL;
  EXPECT_STATUS(ROUTING_FAILED_PRECONDITION,
                routing_engine_accept_offer_r(engine, "call-1", "ivan", &error));
  EXPECT(error != NULL && strstr(error, "routing_engine_accept_offer") != NULL &&
         strstr(error, "'ivan'") != NULL);
  routing_free(error);
  expect_contact(engine, "call-1", ROUTING_CONTACT_OFFERED, "maria",
                 kStartMs + kOfferTimeoutMs, 0);
  EXPECT(agent_state(engine, "maria") == ROUTING_AGENT_AVAILABLE);
  EXPECT(stats_counter(engine, ROUTING_STATS_OFFERS_ACCEPTED) == 0);
  EXPECT(stats_counter(engine, ROUTING_STATS_OFFERS_REJECTED) == 0);

  /* Accepted by the agent it was offered to; agent "" would do too. */
  EXPECT_OK(routing_engine_set_time(engine, kStartMs + 3000));
  error = (char*)1;
  EXPECT_OK(routing_engine_accept_offer_r(engine, "call-1", "maria", &error));
  EXPECT(error == NULL);
  expect_contact(engine, "call-1", ROUTING_CONTACT_ASSIGNED, "maria", 0, 0);
  /* Past its deadline an accepted offer stays assigned. */
  EXPECT_OK(routing_engine_set_time(engine, kStartMs + 2 * kOfferTimeoutMs));
  int moved = -1;
  EXPECT_OK(routing_engine_advance_queues(engine, &moved));
  EXPECT(moved == 0);
  EXPECT(log.count == 0);
  expect_contact(engine, "call-1", ROUTING_CONTACT_ASSIGNED, "maria", 0, 0);
  EXPECT_STATUS(ROUTING_FAILED_PRECONDITION,
                routing_engine_accept_offer(engine, "call-1", NULL));
  EXPECT_ERROR_MENTIONS("is not offered: it is assigned to agent 'maria'");
  EXPECT_STATUS(ROUTING_FAILED_PRECONDITION,
                routing_engine_reject_offer(engine, "call-1", "", NULL));
  EXPECT_ERROR_MENTIONS("is not offered");

  EXPECT(stats_counter(engine, ROUTING_STATS_OFFERS) == 1);
  EXPECT(stats_counter(engine, ROUTING_STATS_OFFERS_ACCEPTED) == 1);
  EXPECT(stats_counter(engine, ROUTING_STATS_OFFERS_REJECTED) == 0);
  EXPECT(stats_counter(engine, ROUTING_STATS_OFFERS_EXPIRED) == 0);
  EXPECT_OK(routing_engine_release(engine, "call-1", ROUTING_OUTCOME_RESOLVED));
  EXPECT_STATUS(ROUTING_NOT_FOUND,
                routing_engine_accept_offer(engine, "call-1", "maria"));
  EXPECT_OK(routing_engine_destroy(engine));
  EXPECT_STATUS(ROUTING_DESTROYED,
                routing_engine_accept_offer(engine, "call-1", "maria"));
  EXPECT_STATUS(ROUTING_DESTROYED,
                routing_engine_reject_offer(engine, "call-1", "maria", NULL));
}

static void test_offer_rejected_requeues_and_breaks_agent(void) {
  offer_log_t log = {0};
  routing_engine_t* engine = new_offering_engine(&log);
  add_agent(engine, "maria", 5);
  EXPECT(route(engine, "call-1") == ROUTING_DECISION_ASSIGNED);
  expect_contact(engine, "call-1", ROUTING_CONTACT_OFFERED, "maria",
                 kStartMs + kOfferTimeoutMs, 0);
  routing_decision_t* decision = NULL;
  EXPECT_OK(routing_engine_reject_offer(engine, "call-1", "maria", &decision));
  routing_decision_outcome_t outcome = -1;
  uint64_t placement = 99;
  int offered = -1;
  EXPECT_OK(routing_decision_outcome(decision, &outcome));
  EXPECT(outcome == ROUTING_DECISION_QUEUED);
  EXPECT_OK(routing_decision_placement(decision, &placement));
  EXPECT(placement == 1);
  EXPECT_OK(routing_decision_offered(decision, &offered));
  EXPECT(offered == 0);
  routing_decision_destroy(decision);
  expect_contact(engine, "call-1", ROUTING_CONTACT_QUEUED, "", 0, 1);
  EXPECT(agent_state(engine, "maria") == ROUTING_AGENT_BREAK);
  /* Never offered to maria again, even when she is back. */
  EXPECT_OK(
      routing_engine_set_agent_state(engine, "maria", ROUTING_AGENT_AVAILABLE));
  EXPECT(log.count == 0);
  expect_contact(engine, "call-1", ROUTING_CONTACT_QUEUED, "", 0, 1);
  EXPECT_STATUS(ROUTING_FAILED_PRECONDITION,
                routing_engine_reject_offer(engine, "call-1", "maria", NULL));
  EXPECT_ERROR_MENTIONS("waiting in its queue");
  EXPECT(stats_counter(engine, ROUTING_STATS_OFFERS) == 1);
  EXPECT(stats_counter(engine, ROUTING_STATS_OFFERS_REJECTED) == 1);
  EXPECT(stats_counter(engine, ROUTING_STATS_OFFERS_ACCEPTED) == 0);
  EXPECT_OK(routing_engine_cancel(engine, "call-1"));
  EXPECT_OK(routing_engine_destroy(engine));
}

static void test_offer_lapses_on_advance_queues(void) {
  offer_log_t log = {0};
  int call_state = 0; /* The host's per-call state, handed back. */
  routing_engine_t* engine = new_offering_engine(&log);
  add_agent(engine, "maria", 5);
  routing_contact_t* call = new_call("call-1");
  EXPECT_OK(routing_contact_set_user_data(call, &call_state));
  routing_decision_t* decision = NULL;
  EXPECT_OK(routing_engine_route(engine, call, &decision));
  routing_contact_destroy(call);
  routing_decision_destroy(decision);
  add_agent(engine, "ivan", 5); /* Free, but call-1 is offered to maria. */
  EXPECT(log.count == 0);

  /* A millisecond before the deadline nothing lapses. */
  int moved = -1;
  EXPECT_OK(routing_engine_set_time(engine, kStartMs + kOfferTimeoutMs - 1));
  EXPECT_OK(routing_engine_advance_queues(engine, &moved));
  EXPECT(moved == 0);
  EXPECT(log.count == 0);
  expect_contact(engine, "call-1", ROUTING_CONTACT_OFFERED, "maria",
                 kStartMs + kOfferTimeoutMs, 0);

  /* At the deadline: the lapse is told, then the new offer to ivan. */
  const int64_t lapsed_at = kStartMs + kOfferTimeoutMs;
  EXPECT_OK(routing_engine_set_time(engine, lapsed_at));
  char* error = (char*)1;
  EXPECT_OK(routing_engine_advance_queues_r(engine, &moved, &error));
  EXPECT(error == NULL);
  EXPECT(moved == 1);
  EXPECT(log.count == 2);
  EXPECT(log.kind[0] == 'E');
  EXPECT(strcmp(log.contact_id[0], "call-1") == 0);
  EXPECT(strcmp(log.customer_id[0], "cust-1") == 0);
  EXPECT(strcmp(log.agent_id[0], "maria") == 0);
  EXPECT(strcmp(log.queue[0], "billing") == 0);
  EXPECT(log.channel[0] == ROUTING_CHANNEL_VOICE);
  EXPECT(log.placement[0] == 0);
  EXPECT(log.agent_state[0] == ROUTING_AGENT_BREAK);
  EXPECT(log.user_data[0] == &call_state);
  EXPECT(log.kind[1] == 'A');
  EXPECT(strcmp(log.contact_id[1], "call-1") == 0);
  EXPECT(strcmp(log.agent_id[1], "ivan") == 0);
  EXPECT(log.placement[1] == 1);
  EXPECT(log.offered[1] == 1);
  EXPECT(log.expires_ms[1] == lapsed_at + kOfferTimeoutMs);
  EXPECT(log.user_data[1] == &call_state);
  EXPECT(agent_state(engine, "maria") == ROUTING_AGENT_BREAK);
  expect_contact(engine, "call-1", ROUTING_CONTACT_OFFERED, "ivan",
                 lapsed_at + kOfferTimeoutMs, 1);
  /* maria's offer is gone: she can neither accept nor reject it. */
  EXPECT_STATUS(ROUTING_FAILED_PRECONDITION,
                routing_engine_accept_offer(engine, "call-1", "maria"));
  EXPECT_ERROR_MENTIONS("offered to agent 'ivan', not to 'maria'");
  EXPECT_OK(routing_engine_accept_offer(engine, "call-1", "ivan"));
  EXPECT(stats_counter(engine, ROUTING_STATS_OFFERS) == 2);
  EXPECT(stats_counter(engine, ROUTING_STATS_OFFERS_EXPIRED) == 1);
  EXPECT(stats_counter(engine, ROUTING_STATS_OFFERS_ACCEPTED) == 1);
  routing_stats_t* stats = NULL;
  int64_t value = 0;
  EXPECT_OK(routing_engine_stats(engine, &stats));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_stats_counter(stats, ROUTING_STATS_OFFERS_EXPIRED + 1,
                                      &value));
  routing_stats_destroy(stats);
  EXPECT_OK(routing_engine_release(engine, "call-1", ROUTING_OUTCOME_RESOLVED));
  EXPECT_OK(routing_engine_destroy(engine));
}

/* Lapsed-offer accessors refuse NULL like every other accessor. */
static void test_expired_offer_accessors_refuse_null(void) {
  const char* text = NULL;
  uint64_t placement = 0;
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_expired_offer_contact_id(NULL, &text));
  EXPECT_ERROR_MENTIONS("offer is NULL");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_expired_offer_placement(NULL, &placement));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_decision_offered(NULL, NULL));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_assignment_placement(NULL, &placement));
}

int main(void) {
  RUN_TEST(test_version_and_names);
  RUN_TEST(test_assigns_then_queues_then_calls_back);
  RUN_TEST(test_policy_swap_and_requeue);
  RUN_TEST(test_rules_reload_and_steps);
  RUN_TEST(test_rules_breaker_and_health);
  RUN_TEST(test_release_with_survey_and_queue_kpis);
  RUN_TEST(test_offer_options_refuse_out_of_range);
  RUN_TEST(test_offer_accepted);
  RUN_TEST(test_offer_rejected_requeues_and_breaks_agent);
  RUN_TEST(test_offer_lapses_on_advance_queues);
  RUN_TEST(test_expired_offer_accessors_refuse_null);
  RUN_TEST(test_null_arguments);
  RUN_TEST(test_invalid_utf8_names_the_field);
  RUN_TEST(test_unknown_ids_and_wrong_state);
  RUN_TEST(test_calls_after_destroy);
  RUN_TEST(test_destroy_from_callback_is_refused);
  RUN_TEST(test_callback_may_create_and_destroy_another_engine);
  RUN_TEST(test_strings_are_copied_in);
  return harness_finish("routing_c_test");
}
