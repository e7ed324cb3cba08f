/* The C ABI under concurrency, from plain C and pthreads: several SIP-like
 * threads route and release against one engine while an agent's presence
 * flips and queued calls are assigned through the callback on whichever
 * thread freed the agent; then calls racing routing_engine_destroy, and two
 * destroys racing each other. Run under ThreadSanitizer too (tag
 * "concurrency"). */
#include <pthread.h>
#include <routing.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bindings/c/c_test_harness.h"

enum {
  kThreads = 4,
  kCallsPerThread = 400,
  kTotalCalls = kThreads * kCallsPerThread,
  kAgents = 6,
  kIdLength = 32,
  kBurst = 4, /* Calls a thread holds before releasing them. */
};

static pthread_barrier_t first_burst;

static routing_engine_t* engine;

/* Calls assigned by the callback and not yet released, plus how many times
 * each call was assigned (must end at exactly one). */
static pthread_mutex_t pending_mutex = PTHREAD_MUTEX_INITIALIZER;
static char pending[kTotalCalls][kIdLength];
static int pending_count;
static atomic_int assignments[kTotalCalls];
static atomic_int callbacks;
static atomic_int released;

static int call_index(const char* id) {
  int thread = -1, i = -1;
  if (sscanf(id, "call-%d-%d", &thread, &i) != 2) return -1;
  if (thread < 0 || thread >= kThreads || i < 0 || i >= kCallsPerThread)
    return -1;
  return thread * kCallsPerThread + i;
}

static void on_assigned(void* user_data, const routing_assignment_t* a) {
  EXPECT(user_data == &pending_mutex);
  const char* id = NULL;
  const char* agent = NULL;
  const routing_decision_t* decision = NULL;
  EXPECT(routing_assignment_contact_id(a, &id) == ROUTING_OK);
  EXPECT(routing_assignment_agent_id(a, &agent) == ROUTING_OK);
  EXPECT(routing_assignment_decision(a, &decision) == ROUTING_OK);
  EXPECT(agent != NULL && strncmp(agent, "agent-", 6) == 0);
  int index = id != NULL ? call_index(id) : -1;
  EXPECT(index >= 0);
  if (index < 0) return;
  atomic_fetch_add(&assignments[index], 1);
  atomic_fetch_add(&callbacks, 1);
  pthread_mutex_lock(&pending_mutex);
  snprintf(pending[pending_count++], kIdLength, "%s", id);
  pthread_mutex_unlock(&pending_mutex);
}

/* Releases one call the callback assigned, if any; returns whether it did. */
static int release_one_pending(void) {
  char id[kIdLength];
  pthread_mutex_lock(&pending_mutex);
  if (pending_count == 0) {
    pthread_mutex_unlock(&pending_mutex);
    return 0;
  }
  memcpy(id, pending[--pending_count], kIdLength);
  pthread_mutex_unlock(&pending_mutex);
  EXPECT(routing_engine_release(engine, id, ROUTING_OUTCOME_RESOLVED) ==
         ROUTING_OK);
  atomic_fetch_add(&released, 1);
  return 1;
}

static void* caller_thread(void* arg) {
  int thread = (int)(size_t)arg;
  char held[kBurst][kIdLength];
  int n_held = 0;
  for (int i = 0; i < kCallsPerThread; ++i) {
    char id[kIdLength];
    snprintf(id, sizeof id, "call-%d-%d", thread, i);
    routing_contact_t* call = NULL;
    routing_decision_t* decision = NULL;
    EXPECT(routing_contact_create(id, ROUTING_CHANNEL_VOICE, &call) ==
           ROUTING_OK);
    EXPECT(routing_contact_add_required_skill(call, "billing", 1) ==
           ROUTING_OK);
    EXPECT(routing_contact_set_attribute(call, "thread", id) == ROUTING_OK);
    if (routing_engine_route(engine, call, &decision) != ROUTING_OK) {
      harness_fail(__FILE__, __LINE__, "route failed");
      routing_contact_destroy(call);
      continue;
    }
    routing_contact_destroy(call);
    routing_decision_outcome_t outcome;
    EXPECT(routing_decision_outcome(decision, &outcome) == ROUTING_OK);
    routing_decision_destroy(decision);
    if (outcome == ROUTING_DECISION_ASSIGNED) {
      atomic_fetch_add(&assignments[call_index(id)], 1);
      memcpy(held[n_held++], id, kIdLength);
    }
    /* Calls end a burst of arrivals later, out of order with other threads.
     * The first burst of every thread rings before any call ends, so at
     * least kThreads * kBurst - kAgents calls queue whatever the timing. */
    if (i == kBurst - 1) pthread_barrier_wait(&first_burst);
    if (i % kBurst == kBurst - 1 || i == kCallsPerThread - 1) {
      for (int k = 0; k < n_held; ++k) {
        EXPECT(routing_engine_release(engine, held[k],
                                      ROUTING_OUTCOME_RESOLVED) == ROUTING_OK);
        atomic_fetch_add(&released, 1);
      }
      n_held = 0;
    }
    release_one_pending();
  }
  return NULL;
}

static atomic_int stop_presence;

/* A supervisor toggles one agent between available and break. */
static void* presence_thread(void* unused) {
  (void)unused;
  int flips = 0;
  while (!atomic_load(&stop_presence)) {
    routing_agent_state_t state =
        flips++ % 2 ? ROUTING_AGENT_AVAILABLE : ROUTING_AGENT_BREAK;
    EXPECT(routing_engine_set_agent_state(engine, "agent-0", state) ==
           ROUTING_OK);
    routing_stats_t* stats = NULL;
    EXPECT(routing_engine_stats(engine, &stats) == ROUTING_OK);
    routing_stats_destroy(stats);
  }
  EXPECT(routing_engine_set_agent_state(engine, "agent-0",
                                        ROUTING_AGENT_AVAILABLE) == ROUTING_OK);
  return NULL;
}

static void add_agents(routing_engine_t* e) {
  for (int i = 0; i < kAgents; ++i) {
    char id[kIdLength];
    routing_agent_t* agent = NULL;
    snprintf(id, sizeof id, "agent-%d", i);
    EXPECT(routing_agent_create(id, &agent) == ROUTING_OK);
    EXPECT(routing_agent_add_skill(agent, "billing", 1 + i % 5) == ROUTING_OK);
    EXPECT(routing_agent_set_capacity(agent, ROUTING_CHANNEL_VOICE, 1) ==
           ROUTING_OK);
    EXPECT(routing_engine_add_agent(e, agent) == ROUTING_OK);
    routing_agent_destroy(agent);
    EXPECT(routing_engine_set_agent_state(e, id, ROUTING_AGENT_AVAILABLE) ==
           ROUTING_OK);
  }
}

static routing_engine_t* create_engine(routing_assignment_fn callback,
                                       void* user_data) {
  routing_options_t* options = NULL;
  routing_engine_t* e = NULL;
  EXPECT(routing_options_create(&options) == ROUTING_OK);
  EXPECT(routing_options_set_limit(options, ROUTING_LIMIT_MAX_AGENTS, 64) ==
         ROUTING_OK);
  EXPECT(routing_options_set_limit(options, ROUTING_LIMIT_MAX_CONTACTS,
                                   kTotalCalls) == ROUTING_OK);
  EXPECT(routing_options_set_limit(options, ROUTING_LIMIT_HISTORY_CUSTOMERS,
                                   64) == ROUTING_OK);
  EXPECT(routing_options_set_assignment_callback(options, callback,
                                                 user_data) == ROUTING_OK);
  EXPECT(routing_engine_create(options, &e) == ROUTING_OK);
  routing_options_destroy(options);
  return e;
}

static void test_threads_route_release_and_callbacks(void) {
  engine = create_engine(on_assigned, &pending_mutex);
  add_agents(engine);
  EXPECT(pthread_barrier_init(&first_burst, NULL, kThreads) == 0);
  pthread_t callers[kThreads], presence;
  EXPECT(pthread_create(&presence, NULL, presence_thread, NULL) == 0);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT(pthread_create(&callers[t], NULL, caller_thread, (void*)(size_t)t) ==
           0);
  }
  for (int t = 0; t < kThreads; ++t) pthread_join(callers[t], NULL);
  atomic_store(&stop_presence, 1);
  pthread_join(presence, NULL);
  pthread_barrier_destroy(&first_burst);
  /* Drain: releasing a pending call may assign the next one (callback). */
  while (release_one_pending()) {
  }

  int64_t immediately = -1, from_queue = -1, held = -1, total_released = -1;
  routing_stats_t* stats = NULL;
  EXPECT(routing_engine_stats(engine, &stats) == ROUTING_OK);
  routing_stats_counter(stats, ROUTING_STATS_ASSIGNED_IMMEDIATELY,
                        &immediately);
  routing_stats_counter(stats, ROUTING_STATS_ASSIGNED_FROM_QUEUE, &from_queue);
  routing_stats_counter(stats, ROUTING_STATS_CONTACTS_HELD, &held);
  routing_stats_counter(stats, ROUTING_STATS_RELEASED, &total_released);
  routing_stats_destroy(stats);
  printf("%d calls: %lld at once, %lld from the queue by %d callbacks\n",
         kTotalCalls, (long long)immediately, (long long)from_queue,
         atomic_load(&callbacks));
  EXPECT(immediately + from_queue == kTotalCalls);
  EXPECT(from_queue == atomic_load(&callbacks));
  EXPECT(from_queue >= kThreads * kBurst - kAgents);
  EXPECT(held == 0);
  EXPECT(total_released == kTotalCalls);
  EXPECT(atomic_load(&released) == kTotalCalls);
  for (int i = 0; i < kTotalCalls; ++i) {
    if (atomic_load(&assignments[i]) != 1) {
      fprintf(stderr, "call %d was assigned %d times\n", i,
              atomic_load(&assignments[i]));
      harness_fail(__FILE__, __LINE__, "each call assigned exactly once");
      break;
    }
  }
  EXPECT(routing_engine_destroy(engine) == ROUTING_OK);
}

/* --- Calls racing destroy --------------------------------------------------*/

static routing_engine_t* racing_engine;
static atomic_int racers_routed; /* Successful routes before destroy. */

static void* racing_caller(void* arg) {
  int thread = (int)(size_t)arg;
  for (int i = 0;; ++i) {
    char id[kIdLength];
    snprintf(id, sizeof id, "race-%d-%d", thread, i);
    routing_contact_t* call = NULL;
    routing_decision_t* decision = NULL;
    routing_contact_create(id, ROUTING_CHANNEL_VOICE, &call);
    routing_contact_add_required_skill(call, "billing", 1);
    routing_status_t status =
        routing_engine_route(racing_engine, call, &decision);
    routing_contact_destroy(call);
    if (status == ROUTING_DESTROYED) {
      EXPECT(strstr(routing_last_error(), "destroyed") != NULL);
      return NULL;
    }
    EXPECT(status == ROUTING_OK || status == ROUTING_RESOURCE_EXHAUSTED);
    if (status == ROUTING_OK) atomic_fetch_add(&racers_routed, 1);
    routing_decision_destroy(decision);
    status = routing_engine_cancel(racing_engine, id);
    if (status == ROUTING_DESTROYED) return NULL;
    EXPECT(status == ROUTING_OK || status == ROUTING_NOT_FOUND);
  }
}

static void ignore_assignment(void* user_data, const routing_assignment_t* a) {
  (void)user_data;
  (void)a;
}

static void test_calls_racing_destroy(void) {
  racing_engine = create_engine(ignore_assignment, NULL);
  add_agents(racing_engine);
  pthread_t racers[kThreads];
  for (int t = 0; t < kThreads; ++t) {
    EXPECT(pthread_create(&racers[t], NULL, racing_caller, (void*)(size_t)t) ==
           0);
  }
  /* Destroy while the racers are mid-stream, not before they start. */
  while (atomic_load(&racers_routed) < kThreads * 100) {
    sched_yield();
  }
  EXPECT(routing_engine_destroy(racing_engine) == ROUTING_OK);
  for (int t = 0; t < kThreads; ++t) pthread_join(racers[t], NULL);
  EXPECT(routing_engine_destroy(racing_engine) == ROUTING_DESTROYED);
}

static atomic_int destroy_ok, destroy_destroyed;

static void* destroyer(void* arg) {
  routing_status_t status = routing_engine_destroy((routing_engine_t*)arg);
  if (status == ROUTING_OK) atomic_fetch_add(&destroy_ok, 1);
  if (status == ROUTING_DESTROYED) atomic_fetch_add(&destroy_destroyed, 1);
  return NULL;
}

static void test_destroys_racing_each_other(void) {
  for (int round = 0; round < 20; ++round) {
    routing_engine_t* e = create_engine(NULL, NULL);
    pthread_t a, b;
    atomic_store(&destroy_ok, 0);
    atomic_store(&destroy_destroyed, 0);
    EXPECT(pthread_create(&a, NULL, destroyer, e) == 0);
    EXPECT(pthread_create(&b, NULL, destroyer, e) == 0);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    EXPECT(atomic_load(&destroy_ok) == 1);
    EXPECT(atomic_load(&destroy_destroyed) == 1);
  }
}

int main(void) {
  RUN_TEST(test_threads_route_release_and_callbacks);
  RUN_TEST(test_calls_racing_destroy);
  RUN_TEST(test_destroys_racing_each_other);
  return harness_finish("routing_c_threads_test");
}
