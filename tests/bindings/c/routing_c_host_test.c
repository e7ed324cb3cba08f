/* The C ABI as a PBX process hosts it (routing.h, ABI 1.1): the callback's
 * contract (flat on a small stack, never after a successful cancel, outside
 * memory reclamation), attempt tokens and per-call user data, the `_r` error
 * out-parameter, bounded error text, and the checks setters make at once.
 */
#include <limits.h>
#include <pthread.h>
#include <routing.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/bindings/c/c_test_harness.h"

static const int64_t kStartMs = 1800000000000LL;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HOST_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define HOST_TEST_SANITIZED 1
#endif
#endif

static void sleep_ms(int ms) {
  struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

/* What a callback does, set per test. */
typedef struct host_t host_t;
typedef void (*on_assigned_fn)(host_t* host, const routing_assignment_t* a);
struct host_t {
  routing_engine_t* engine;
  on_assigned_fn on_assigned;
  atomic_int told;
  atomic_int depth;   /* Callbacks running on the callback's thread now... */
  atomic_int deepest; /* ...and the most at once (nesting). */
  char last_contact[64];
  uint64_t last_token;
  void* last_user_data;
  void* last_decision_user_data;
  /* For the waiting test. */
  atomic_int in_callback;
  atomic_int let_go;
  atomic_int callback_returned;
};

static void host_callback(void* user_data, const routing_assignment_t* a) {
  host_t* host = (host_t*)user_data;
  int depth = atomic_fetch_add(&host->depth, 1) + 1;
  int seen = atomic_load(&host->deepest);
  while (depth > seen &&
         !atomic_compare_exchange_weak(&host->deepest, &seen, depth)) {
  }
  atomic_fetch_add(&host->told, 1);
  const char* id = "";
  const routing_decision_t* decision = NULL;
  routing_assignment_contact_id(a, &id);
  snprintf(host->last_contact, sizeof host->last_contact, "%s", id);
  routing_assignment_token(a, &host->last_token);
  routing_assignment_user_data(a, &host->last_user_data);
  if (routing_assignment_decision(a, &decision) == ROUTING_OK) {
    routing_decision_user_data(decision, &host->last_decision_user_data);
  }
  if (host->on_assigned != NULL) host->on_assigned(host, a);
  atomic_fetch_sub(&host->depth, 1);
}

static routing_engine_t* new_engine(host_t* host, int max_contacts) {
  routing_options_t* options = NULL;
  routing_engine_t* engine = NULL;
  EXPECT_OK(routing_options_create(&options));
  EXPECT_OK(routing_options_set_limit(options, ROUTING_LIMIT_MAX_AGENTS, 64));
  EXPECT_OK(routing_options_set_limit(options, ROUTING_LIMIT_MAX_CONTACTS,
                                      max_contacts));
  EXPECT_OK(
      routing_options_set_limit(options, ROUTING_LIMIT_HISTORY_CUSTOMERS, 64));
  EXPECT_OK(routing_options_set_manual_clock(options, kStartMs));
  if (host != NULL) {
    EXPECT_OK(
        routing_options_set_assignment_callback(options, host_callback, host));
  }
  EXPECT_OK(routing_engine_create(options, &engine));
  routing_options_destroy(options);
  if (host != NULL) host->engine = engine;
  return engine;
}

static void add_agent(routing_engine_t* engine, const char* id, int state) {
  routing_agent_t* agent = NULL;
  EXPECT_OK(routing_agent_create(id, &agent));
  EXPECT_OK(routing_agent_add_skill(agent, "billing", 3));
  EXPECT_OK(routing_agent_set_capacity(agent, ROUTING_CHANNEL_VOICE, 1));
  EXPECT_OK(routing_engine_add_agent(engine, agent));
  routing_agent_destroy(agent);
  EXPECT_OK(routing_engine_set_agent_state(engine, id, state));
}

/* Routes a billing call; returns its outcome (-1 on error) and token. */
static int route_call(routing_engine_t* engine, const char* id,
                      void* user_data, uint64_t* token_out) {
  routing_contact_t* call = NULL;
  routing_decision_t* decision = NULL;
  int outcome = -1;
  EXPECT_OK(routing_contact_create(id, ROUTING_CHANNEL_VOICE, &call));
  EXPECT_OK(routing_contact_add_required_skill(call, "billing", 1));
  if (user_data != NULL) {
    EXPECT_OK(routing_contact_set_user_data(call, user_data));
  }
  if (routing_engine_route(engine, call, &decision) == ROUTING_OK) {
    routing_decision_outcome(decision, &outcome);
    if (token_out != NULL) routing_decision_token(decision, token_out);
    routing_decision_destroy(decision);
  }
  routing_contact_destroy(call);
  return outcome;
}

/* --- Callbacks run flat: 100,000 queued contacts, each released from the
 * callback that announces it, on a 128 KB thread stack. --- */

static void release_what_is_told(host_t* host, const routing_assignment_t* a) {
  const char* id = NULL;
  if (routing_assignment_contact_id(a, &id) != ROUTING_OK) return;
  routing_status_t s =
      routing_engine_release(host->engine, id, ROUTING_OUTCOME_RESOLVED);
  if (s != ROUTING_OK) harness_fail(__FILE__, __LINE__, "release in callback");
}

static void* release_first(void* arg) {
  host_t* host = (host_t*)arg;
  EXPECT_OK(routing_engine_release(host->engine, "first",
                                   ROUTING_OUTCOME_RESOLVED));
  return NULL;
}

static void test_callback_chain_runs_flat_on_a_small_stack(void) {
  enum { kQueued = 100000 };
  static host_t host;
  memset(&host, 0, sizeof host);
  routing_engine_t* engine = new_engine(&host, kQueued + 8);
  add_agent(engine, "a", ROUTING_AGENT_AVAILABLE);
  EXPECT(route_call(engine, "first", NULL, NULL) == ROUTING_DECISION_ASSIGNED);
  char id[32];
  int queued = 0;
  for (int i = 0; i < kQueued; ++i) {
    snprintf(id, sizeof id, "c%d", i);
    /* One arrival a millisecond. */
    EXPECT_OK(routing_engine_set_time(engine, kStartMs + 1 + i));
    queued += route_call(engine, id, NULL, NULL) == ROUTING_DECISION_QUEUED;
  }
  EXPECT(queued == kQueued);
  host.on_assigned = release_what_is_told;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  EXPECT(pthread_attr_setstacksize(&attr, 128 * 1024) == 0);
  pthread_t thread;
  EXPECT(pthread_create(&thread, &attr, release_first, &host) == 0);
  pthread_join(thread, NULL);
  pthread_attr_destroy(&attr);
  EXPECT(atomic_load(&host.told) == kQueued);
  EXPECT(atomic_load(&host.deepest) == 1);
  routing_stats_t* stats = NULL;
  int64_t held = -1;
  EXPECT_OK(routing_engine_stats(engine, &stats));
  EXPECT_OK(routing_stats_counter(stats, ROUTING_STATS_CONTACTS_HELD, &held));
  routing_stats_destroy(stats);
  EXPECT(held == 0);
  EXPECT_OK(routing_engine_destroy(engine));
}

/* --- No callback after a successful cancel. --- */

/* Told of "p": frees b (which assigns "x", told after this returns), then
 * the customer on "x" hangs up. "x" must never be told. */
static void free_b_then_cancel_x(host_t* host, const routing_assignment_t* a) {
  const char* id = NULL;
  routing_assignment_contact_id(a, &id);
  if (id == NULL || strcmp(id, "p") != 0) return;
  EXPECT_OK(routing_engine_release(host->engine, "on-b",
                                   ROUTING_OUTCOME_RESOLVED));
  routing_contact_state_t state = ROUTING_CONTACT_QUEUED;
  EXPECT_OK(routing_engine_get_contact(host->engine, "x", &state, NULL));
  EXPECT(state == ROUTING_CONTACT_ASSIGNED);
  EXPECT_OK(routing_engine_cancel(host->engine, "x"));
}

static void test_no_callback_after_cancel_returned(void) {
  host_t host;
  memset(&host, 0, sizeof host);
  routing_engine_t* engine = new_engine(&host, 64);
  add_agent(engine, "a", ROUTING_AGENT_AVAILABLE);
  add_agent(engine, "b", ROUTING_AGENT_AVAILABLE);
  EXPECT(route_call(engine, "on-a", NULL, NULL) == ROUTING_DECISION_ASSIGNED);
  EXPECT(route_call(engine, "on-b", NULL, NULL) == ROUTING_DECISION_ASSIGNED);
  EXPECT_OK(routing_engine_set_time(engine, kStartMs + 1));
  EXPECT(route_call(engine, "p", NULL, NULL) == ROUTING_DECISION_QUEUED);
  EXPECT_OK(routing_engine_set_time(engine, kStartMs + 2));
  EXPECT(route_call(engine, "x", NULL, NULL) == ROUTING_DECISION_QUEUED);
  host.on_assigned = free_b_then_cancel_x;
  EXPECT_OK(routing_engine_release(engine, "on-a", ROUTING_OUTCOME_RESOLVED));
  EXPECT(atomic_load(&host.told) == 1);
  EXPECT(strcmp(host.last_contact, "p") == 0);
  EXPECT_OK(routing_engine_destroy(engine));
}

static void block_until_let_go(host_t* host, const routing_assignment_t* a) {
  (void)a;
  atomic_store(&host->in_callback, 1);
  while (!atomic_load(&host->let_go)) sleep_ms(1);
  atomic_store(&host->callback_returned, 1);
}

static void* release_on_a(void* arg) {
  host_t* host = (host_t*)arg;
  EXPECT_OK(routing_engine_release(host->engine, "on-a",
                                   ROUTING_OUTCOME_RESOLVED));
  return NULL;
}

typedef struct {
  host_t* host;
  atomic_int returned;
  int callback_had_returned;
} canceller_t;

static void* cancel_x(void* arg) {
  canceller_t* c = (canceller_t*)arg;
  EXPECT_OK(routing_engine_cancel(c->host->engine, "x"));
  c->callback_had_returned = atomic_load(&c->host->callback_returned);
  atomic_store(&c->returned, 1);
  return NULL;
}

static void test_cancel_waits_for_the_callback_under_way(void) {
  host_t host;
  memset(&host, 0, sizeof host);
  routing_engine_t* engine = new_engine(&host, 64);
  add_agent(engine, "a", ROUTING_AGENT_AVAILABLE);
  EXPECT(route_call(engine, "on-a", NULL, NULL) == ROUTING_DECISION_ASSIGNED);
  EXPECT(route_call(engine, "x", NULL, NULL) == ROUTING_DECISION_QUEUED);
  host.on_assigned = block_until_let_go;
  pthread_t releaser, canceller;
  EXPECT(pthread_create(&releaser, NULL, release_on_a, &host) == 0);
  while (!atomic_load(&host.in_callback)) sched_yield();
  canceller_t c = {&host, 0, 0};
  EXPECT(pthread_create(&canceller, NULL, cancel_x, &c) == 0);
  sleep_ms(200);
  EXPECT(atomic_load(&c.returned) == 0); /* Still waiting for the callback. */
  atomic_store(&host.let_go, 1);
  pthread_join(canceller, NULL);
  pthread_join(releaser, NULL);
  EXPECT(c.callback_had_returned == 1);
  EXPECT_OK(routing_engine_destroy(engine));
}

/* --- Tokens and user data. --- */

static void test_tokens_and_user_data_come_back(void) {
  host_t host;
  memset(&host, 0, sizeof host);
  routing_engine_t* engine = new_engine(&host, 64);
  add_agent(engine, "a", ROUTING_AGENT_LOGGED_OUT);
  int call_state = 7;
  uint64_t first = 0, second = 0;
  EXPECT(route_call(engine, "x", &call_state, &first) ==
         ROUTING_DECISION_QUEUED);
  EXPECT(first != 0);
  EXPECT_OK(routing_engine_cancel(engine, "x"));
  /* The same id, a new call: a new token. */
  EXPECT(route_call(engine, "x", &call_state, &second) ==
         ROUTING_DECISION_QUEUED);
  EXPECT(second != 0 && second != first);
  EXPECT_OK(routing_engine_set_agent_state(engine, "a",
                                           ROUTING_AGENT_AVAILABLE));
  EXPECT(atomic_load(&host.told) == 1);
  EXPECT(host.last_token == second);
  EXPECT(host.last_user_data == &call_state);
  EXPECT(host.last_decision_user_data == &call_state);
  /* The immediate decision hands it back too. */
  add_agent(engine, "b", ROUTING_AGENT_AVAILABLE);
  routing_contact_t* call = NULL;
  routing_decision_t* decision = NULL;
  void* back = NULL;
  uint64_t token = 0;
  EXPECT_OK(routing_contact_create("y", ROUTING_CHANNEL_VOICE, &call));
  EXPECT_OK(routing_contact_set_user_data(call, &call_state));
  EXPECT_OK(routing_engine_route(engine, call, &decision));
  EXPECT_OK(routing_decision_user_data(decision, &back));
  EXPECT_OK(routing_decision_token(decision, &token));
  EXPECT(back == &call_state);
  EXPECT(token != 0 && token != second);
  routing_decision_destroy(decision);
  routing_contact_destroy(call);
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_contact_set_user_data(NULL, &call_state));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT, routing_decision_token(NULL, &token));
  EXPECT_OK(routing_engine_destroy(engine));
}

/* --- A slow callback does not stop memory reclamation. --- */

static void stall_in_callback(host_t* host, const routing_assignment_t* a) {
  (void)a;
  atomic_store(&host->in_callback, 1);
  while (!atomic_load(&host->let_go)) sleep_ms(1);
}

static long resident_kb(void) {
  FILE* f = fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f == NULL) return -1;
  if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
  fclose(f);
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void test_slow_callback_does_not_stop_reclamation(void) {
#ifdef HOST_TEST_SANITIZED
  /* The sanitizers' allocators keep freed memory in quarantine: resident
   * size says nothing there. */
  return;
#else
  host_t host;
  memset(&host, 0, sizeof host);
  routing_engine_t* engine = new_engine(&host, 1024);
  add_agent(engine, "a", ROUTING_AGENT_AVAILABLE);
  EXPECT(route_call(engine, "on-a", NULL, NULL) == ROUTING_DECISION_ASSIGNED);
  EXPECT(route_call(engine, "x", NULL, NULL) == ROUTING_DECISION_QUEUED);
  host.on_assigned = stall_in_callback;
  pthread_t releaser;
  EXPECT(pthread_create(&releaser, NULL, release_on_a, &host) == 0);
  while (!atomic_load(&host.in_callback)) sched_yield();
  /* While the callback stalls: 100,000 calls with 2 KB of context each come
   * and go (about 250 MB if none were freed). */
  char context[2048];
  memset(context, 'c', sizeof context - 1);
  context[sizeof context - 1] = '\0';
  const long before = resident_kb();
  char id[32];
  for (int i = 0; i < 100000; ++i) {
    routing_contact_t* call = NULL;
    routing_decision_t* decision = NULL;
    snprintf(id, sizeof id, "churn-%d", i);
    EXPECT_OK(routing_contact_create(id, ROUTING_CHANNEL_VOICE, &call));
    EXPECT_OK(routing_contact_add_required_skill(call, "billing", 1));
    EXPECT_OK(routing_contact_set_attribute(call, "summary", context));
    if (routing_engine_route(engine, call, &decision) == ROUTING_OK) {
      routing_decision_destroy(decision);
      EXPECT_OK(routing_engine_cancel(engine, id));
    }
    routing_contact_destroy(call);
  }
  const long grown_mb = (resident_kb() - before) / 1024;
  printf("resident size grew by %ld MB during the stalled callback\n",
         grown_mb);
  EXPECT(grown_mb < 48);
  atomic_store(&host.let_go, 1);
  pthread_join(releaser, NULL);
  EXPECT_OK(routing_engine_destroy(engine));
#endif
}

/* --- Error text: bounded echo; `_r` out-parameter. --- */

static void expect_short_error(const char* call) {
  harness_count_check();
  if (strlen(routing_last_error()) > 400) {
    char what[160];
    snprintf(what, sizeof what, "%s: error text of %zu bytes", call,
             strlen(routing_last_error()));
    harness_fail(__FILE__, __LINE__, what);
  }
}

static void test_error_text_never_echoes_a_huge_value(void) {
  routing_engine_t* engine = new_engine(NULL, 64);
  add_agent(engine, "a", ROUTING_AGENT_AVAILABLE);
  const size_t size = 10u << 20;
  char* huge = malloc(size + 1);
  memset(huge, 'x', size);
  huge[size] = '\0';
  routing_contact_state_t state;
  routing_agent_status_t* status = NULL;
  routing_history_t* history = NULL;
  routing_decision_t* decision = NULL;
  uint64_t version = 0;
  char* problems = NULL;

  EXPECT(routing_engine_cancel(engine, huge) != ROUTING_OK);
  expect_short_error("cancel");
  EXPECT(routing_engine_release(engine, huge, ROUTING_OUTCOME_RESOLVED) !=
         ROUTING_OK);
  expect_short_error("release");
  EXPECT(routing_engine_get_contact(engine, huge, &state, NULL) != ROUTING_OK);
  expect_short_error("get_contact");
  EXPECT(routing_engine_remove_agent(engine, huge) != ROUTING_OK);
  expect_short_error("remove_agent");
  EXPECT(routing_engine_get_agent(engine, huge, &status) != ROUTING_OK);
  expect_short_error("get_agent");
  EXPECT(routing_engine_set_agent_state(engine, huge, ROUTING_AGENT_BREAK) !=
         ROUTING_OK);
  expect_short_error("set_agent_state");
  if (routing_engine_customer_history(engine, huge, &history) == ROUTING_OK) {
    routing_history_destroy(history);
  }
  expect_short_error("customer_history");
  EXPECT(routing_engine_reload_rules(engine, huge, &version, &problems) !=
         ROUTING_OK);
  expect_short_error("reload_rules");
  routing_free(problems);
  problems = NULL;
  EXPECT(routing_engine_reload_rules_text(engine, huge, "return {}", &version,
                                          &problems) != ROUTING_OK);
  expect_short_error("reload_rules_text");
  routing_free(problems);

  routing_contact_t* call = NULL;
  EXPECT_OK(routing_contact_create(huge, ROUTING_CHANNEL_VOICE, &call));
  EXPECT(routing_engine_route(engine, call, &decision) != ROUTING_OK);
  expect_short_error("route");
  EXPECT(routing_engine_requeue(engine, call, &decision) != ROUTING_OK);
  expect_short_error("requeue");
  routing_contact_destroy(call);

  routing_agent_t* agent = NULL;
  EXPECT_OK(routing_agent_create(huge, &agent));
  EXPECT_OK(routing_agent_set_capacity(agent, ROUTING_CHANNEL_VOICE, 1));
  EXPECT(routing_engine_add_agent(engine, agent) != ROUTING_OK);
  expect_short_error("add_agent");
  EXPECT(routing_engine_update_agent(engine, agent) != ROUTING_OK);
  expect_short_error("update_agent");
  routing_agent_destroy(agent);
  free(huge);
  EXPECT_OK(routing_engine_destroy(engine));
}

static void test_error_out_parameter(void) {
  routing_engine_t* engine = new_engine(NULL, 64);
  add_agent(engine, "a", ROUTING_AGENT_AVAILABLE);
  char* error = (char*)"untouched";
  EXPECT_STATUS(ROUTING_NOT_FOUND,
                routing_engine_cancel_r(engine, "nobody", &error));
  EXPECT(error != NULL && strstr(error, "'nobody'") != NULL);
  /* The same text as the thread's last error. */
  EXPECT(error != NULL && strcmp(error, routing_last_error()) == 0);
  routing_free(error);
  error = (char*)"untouched";
  EXPECT_OK(routing_engine_set_agent_state_r(engine, "a",
                                             ROUTING_AGENT_BREAK, &error));
  EXPECT(error == NULL);
  EXPECT_STATUS(ROUTING_NOT_FOUND,
                routing_engine_cancel_r(engine, "nobody", NULL));
  routing_contact_t* call = NULL;
  routing_decision_t* decision = NULL;
  EXPECT_OK(routing_contact_create("c", ROUTING_CHANNEL_VOICE, &call));
  EXPECT_OK(routing_contact_add_required_skill(call, "mortgages", 1));
  EXPECT_STATUS(ROUTING_NOT_FOUND,
                routing_engine_route_r(engine, call, &decision, &error));
  EXPECT(error != NULL && strstr(error, "mortgages") != NULL);
  routing_free(error);
  routing_contact_destroy(call);
  uint64_t version = 0;
  char* problems = NULL;
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_reload_rules_text_r(
                    engine, "bad.lua", "return {", &version, &problems,
                    &error));
  EXPECT(problems != NULL && strstr(problems, "bad.lua:") != NULL);
  EXPECT(error != NULL && strstr(error, "bad.lua:") != NULL);
  routing_free(problems);
  routing_free(error);
  EXPECT_OK(routing_engine_destroy(engine));
  EXPECT_STATUS(ROUTING_DESTROYED,
                routing_engine_cancel_r(engine, "c", &error));
  EXPECT(error != NULL && strstr(error, "destroyed") != NULL);
  routing_free(error);
}

/* --- Every status has a name; the race's code is one a host acts on. --- */

static void test_every_status_code_is_named(void) {
  const routing_status_t codes[] = {
      ROUTING_OK,           ROUTING_CANCELLED,
      ROUTING_UNKNOWN,      ROUTING_INVALID_ARGUMENT,
      ROUTING_DEADLINE_EXCEEDED, ROUTING_NOT_FOUND,
      ROUTING_ALREADY_EXISTS, ROUTING_PERMISSION_DENIED,
      ROUTING_RESOURCE_EXHAUSTED, ROUTING_FAILED_PRECONDITION,
      ROUTING_ABORTED,      ROUTING_OUT_OF_RANGE,
      ROUTING_UNIMPLEMENTED, ROUTING_INTERNAL,
      ROUTING_UNAVAILABLE,  ROUTING_DATA_LOSS,
      ROUTING_UNAUTHENTICATED, ROUTING_DESTROYED};
  const size_t n = sizeof codes / sizeof codes[0];
  for (size_t i = 0; i < n; ++i) {
    const char* name = routing_status_name(codes[i]);
    EXPECT(name != NULL && name[0] != '\0');
    for (size_t j = 0; j < i; ++j) {
      EXPECT(strcmp(name, routing_status_name(codes[j])) != 0);
    }
  }
  EXPECT(strcmp(routing_status_name(ROUTING_ABORTED), "ABORTED") == 0);
  EXPECT(ROUTING_ABORTED == 10);
}

typedef struct {
  routing_engine_t* engine;
  int rounds;
  atomic_int internal;
  atomic_int aborted;
} race_t;

static void* route_side(void* arg) {
  race_t* race = (race_t*)arg;
  char id[32];
  for (int i = 0; i < race->rounds; ++i) {
    snprintf(id, sizeof id, "race-%d", i);
    routing_contact_t* call = NULL;
    routing_decision_t* decision = NULL;
    routing_contact_create(id, ROUTING_CHANNEL_VOICE, &call);
    routing_contact_add_required_skill(call, "billing", 1);
    routing_status_t s = routing_engine_route(race->engine, call, &decision);
    if (s == ROUTING_OK) routing_decision_destroy(decision);
    if (s == ROUTING_INTERNAL) atomic_fetch_add(&race->internal, 1);
    if (s == ROUTING_ABORTED) atomic_fetch_add(&race->aborted, 1);
    routing_contact_destroy(call);
  }
  return NULL;
}

static void* cancel_side(void* arg) {
  race_t* race = (race_t*)arg;
  char id[32];
  for (int i = 0; i < race->rounds; ++i) {
    snprintf(id, sizeof id, "race-%d", i);
    for (int tries = 0; tries < 64; ++tries) {
      routing_status_t s = routing_engine_cancel(race->engine, id);
      if (s == ROUTING_INTERNAL) atomic_fetch_add(&race->internal, 1);
      if (s == ROUTING_OK) break;
    }
  }
  return NULL;
}

/* A hang-up racing call setup for the same id: the route either holds the
 * call, or reports ABORTED (it was cancelled meanwhile), never INTERNAL. */
static void test_route_cancel_race_is_never_internal(void) {
  routing_engine_t* engine = new_engine(NULL, 20000);
  add_agent(engine, "a", ROUTING_AGENT_AVAILABLE);
  race_t race = {engine, 5000, 0, 0};
  pthread_t router, canceller;
  pthread_create(&router, NULL, route_side, &race);
  pthread_create(&canceller, NULL, cancel_side, &race);
  pthread_join(router, NULL);
  pthread_join(canceller, NULL);
  printf("route/cancel race: %d aborted, %d internal\n",
         atomic_load(&race.aborted), atomic_load(&race.internal));
  EXPECT(atomic_load(&race.internal) == 0);
  EXPECT_OK(routing_engine_destroy(engine));
}

/* --- Checks made at once; a host clock slightly ahead. --- */

static void test_setters_refuse_at_once(void) {
  routing_agent_t* agent = NULL;
  EXPECT_OK(routing_agent_create("a", &agent));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_agent_set_capacity(agent, ROUTING_CHANNEL_VOICE, -1));
  EXPECT_ERROR_MENTIONS("capacity -1");
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_agent_set_capacity(agent, ROUTING_CHANNEL_CHAT,
                                           INT_MAX));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_agent_set_capacity(agent, ROUTING_CHANNEL_CHAT, 64));
  EXPECT_OK(routing_agent_set_capacity(agent, ROUTING_CHANNEL_CHAT, 63));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_agent_set_max_total_contacts(agent, -1));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_agent_set_max_total_contacts(agent, INT_MAX));
  EXPECT_OK(routing_agent_set_max_total_contacts(agent, 3));
  routing_agent_destroy(agent);
}

static void test_enqueue_time_slightly_ahead_counts_as_now(void) {
  routing_engine_t* engine = new_engine(NULL, 64);
  add_agent(engine, "a", ROUTING_AGENT_LOGGED_OUT);
  routing_contact_t* call = NULL;
  routing_decision_t* decision = NULL;
  EXPECT_OK(routing_contact_create("ivr-ahead", ROUTING_CHANNEL_VOICE, &call));
  EXPECT_OK(routing_contact_add_required_skill(call, "billing", 1));
  EXPECT_OK(routing_contact_set_enqueue_time(call, kStartMs + 20));
  EXPECT_OK(routing_engine_route(engine, call, &decision));
  routing_decision_destroy(decision);
  routing_contact_destroy(call);
  EXPECT_OK(routing_contact_create("far-ahead", ROUTING_CHANNEL_VOICE, &call));
  EXPECT_OK(routing_contact_add_required_skill(call, "billing", 1));
  EXPECT_OK(routing_contact_set_enqueue_time(call, kStartMs + 6000));
  EXPECT_STATUS(ROUTING_INVALID_ARGUMENT,
                routing_engine_route(engine, call, &decision));
  EXPECT_ERROR_MENTIONS("after the router's clock");
  routing_contact_destroy(call);
  EXPECT_OK(routing_engine_destroy(engine));
}

int main(void) {
  RUN_TEST(test_callback_chain_runs_flat_on_a_small_stack);
  RUN_TEST(test_no_callback_after_cancel_returned);
  RUN_TEST(test_cancel_waits_for_the_callback_under_way);
  RUN_TEST(test_tokens_and_user_data_come_back);
  RUN_TEST(test_slow_callback_does_not_stop_reclamation);
  RUN_TEST(test_error_text_never_echoes_a_huge_value);
  RUN_TEST(test_error_out_parameter);
  RUN_TEST(test_every_status_code_is_named);
  RUN_TEST(test_route_cancel_race_is_never_internal);
  RUN_TEST(test_setters_refuse_at_once);
  RUN_TEST(test_enqueue_time_slightly_ahead_counts_as_now);
  return harness_finish("routing_c_host_test");
}
