/* A SIP server's use of librouting, as a model run against the real library:
 * call-setup threads route calls, a hang-up thread cancels calls at random
 * (racing their setup for the same ids), a release thread ends and transfers
 * answered calls, an agent-state thread flaps agents between available and
 * break, and the assignment callback answers, releases or hangs up on queued
 * calls from inside the callback. Call ids are reused once a call has ended,
 * as a PBX reuses channel names.
 *
 * The host keeps what a PBX keeps per call (a slot with its lock, passed to
 * the engine as user data) and checks the engine's promises:
 *   - capacity: sampled all along, no agent's load is above its capacity;
 *     at quiescence, each agent's load is the number of live calls the
 *     host rang it for, at most its capacity;
 *   - every call ends exactly once (one successful cancel or release);
 *   - no callback starts after a cancel or release of that call returned OK,
 *     and no callback carries the token of an earlier call on the same id;
 *   - no call returns ROUTING_INTERNAL;
 *   - at quiescence, before anything is cleaned up: the engine holds exactly
 *     the calls the host thinks live, and each agent's load is the host's.
 *
 *   pbx_model [SECONDS]     (default 3; PBX_MODEL_SECONDS also works)
 *
 * Exit status 0 when every check held. Built in the suite (//bindings/c:
 * pbx_model) and run there briefly, optimized and under AddressSanitizer and
 * ThreadSanitizer; a soak is the same program with a longer run.
 */
#include <pthread.h>
#include <routing.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
  kAgents = 12,
  kSetupThreads = 4,
  kSlotsPerThread = 24,
  kSlots = kSetupThreads * kSlotsPerThread,
};

typedef struct {
  pthread_mutex_t lock;
  char id[32];
  int routing;          /* A route for the current call is in flight. */
  int live;             /* Held by the engine, as far as the host knows. */
  int ended;            /* A cancel or release of the current call was OK. */
  int ends;             /* How many did (must end at exactly 1). */
  int expect_end;       /* The engine accepted the call (route OK/ABORTED). */
  int hangups_in_flight;
  uint64_t token;       /* The current call's token; 0 until known. */
  int agent;            /* The agent the host rang; -1 none. */
  int64_t answered_at_ms;
  /* Tokens of this id's calls whose cancel or release returned OK, written
   * the moment it returned (before anything else), read by the callback. */
  _Atomic uint64_t ended_tokens[4];
  atomic_int ended_next;
} call_slot_t;

static routing_engine_t* engine;
static call_slot_t slots[kSlots];
static atomic_int stop;

static atomic_long routes, assigned_now, queued, aborted, refused, told;
static atomic_long cancels, releases, transfers, flaps;
static atomic_long internal_codes, late_callbacks, stale_tokens, breaches,
    double_ends, missing_ends;

static int64_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_us(long us) {
  struct timespec t = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&t, NULL);
}

static unsigned next_random(unsigned* state) {
  *state = *state * 1103515245u + 12345u;
  return *state >> 8;
}

static void check_code(routing_status_t status, const char* call) {
  if (status == ROUTING_INTERNAL) {
    atomic_fetch_add(&internal_codes, 1);
    fprintf(stderr, "INTERNAL from %s: %s\n", call, routing_last_error());
  }
}

static int agent_index(const char* agent_id) {
  return atoi(agent_id + strlen("agent-"));
}

/* The host rings agent `a` for `slot` (lock held). */
static void ring_agent(int a, call_slot_t* slot) { slot->agent = a; }

static void hang_up_agent(call_slot_t* slot) { slot->agent = -1; }

/* A cancel or release of the slot's current call returned OK. Lock held. */
static void note_end(call_slot_t* slot) {
  if (++slot->ends > 1) atomic_fetch_add(&double_ends, 1);
  slot->ended = 1;
  slot->live = 0;
  hang_up_agent(slot);
}

static void end_call(call_slot_t* slot, int by_release) {
  pthread_mutex_lock(&slot->lock);
  if (!slot->live && !slot->routing) {
    pthread_mutex_unlock(&slot->lock);
    return;
  }
  ++slot->hangups_in_flight;
  const uint64_t token = slot->token;
  pthread_mutex_unlock(&slot->lock);
  routing_status_t s =
      by_release ? routing_engine_release(engine, slot->id,
                                          ROUTING_OUTCOME_RESOLVED)
                 : routing_engine_cancel(engine, slot->id);
  if (s == ROUTING_OK && token != 0) {
    const int i = atomic_fetch_add(&slot->ended_next, 1) % 4;
    atomic_store(&slot->ended_tokens[i], token);
  }
  check_code(s, by_release ? "release" : "cancel");
  pthread_mutex_lock(&slot->lock);
  --slot->hangups_in_flight;
  if (s == ROUTING_OK) {
    note_end(slot);
    atomic_fetch_add(by_release ? &releases : &cancels, 1);
  }
  pthread_mutex_unlock(&slot->lock);
}

static void on_assigned(void* user_data, const routing_assignment_t* a) {
  call_slot_t* slot = NULL;
  uint64_t token = 0;
  const char* agent_id = NULL;
  routing_assignment_user_data(a, (void**)&slot);
  routing_assignment_token(a, &token);
  routing_assignment_agent_id(a, &agent_id);
  (void)user_data;
  /* Callbacks run on several threads at once: each has its own dice. */
  static _Thread_local unsigned dice = 11u;
  unsigned* seed = &dice;
  atomic_fetch_add(&told, 1);
  for (int i = 0; i < 4; ++i) {
    if (atomic_load(&slot->ended_tokens[i]) == token) {
      atomic_fetch_add(&late_callbacks, 1);
      fprintf(stderr, "callback for %s after its end returned OK\n",
              slot->id);
      return;
    }
  }
  pthread_mutex_lock(&slot->lock);
  if (slot->ended) {
    atomic_fetch_add(&late_callbacks, 1);
    fprintf(stderr, "callback for %s after its end returned OK\n", slot->id);
    pthread_mutex_unlock(&slot->lock);
    return;
  }
  if (slot->token != 0 && slot->token != token) {
    atomic_fetch_add(&stale_tokens, 1);
    fprintf(stderr, "callback for %s with a token of another call\n",
            slot->id);
    pthread_mutex_unlock(&slot->lock);
    return;
  }
  /* Token 0: the route or requeue that placed it has not returned yet (the
   * callback may come first, on another thread). */
  slot->token = token;
  ring_agent(agent_index(agent_id), slot);
  slot->answered_at_ms = now_ms();
  pthread_mutex_unlock(&slot->lock);
  /* Some callers are served in a blink, some hang up while it rings: both
   * from inside the callback. */
  const unsigned r = next_random(seed) % 8;
  if (r == 0) end_call(slot, /*by_release=*/1);
  if (r == 1) end_call(slot, /*by_release=*/0);
  /* Some work after it (logging a CDR): the assignments the release above
   * made wait behind it, and hang-ups may race them. */
  if (r == 0 && next_random(seed) % 2 == 0) sleep_us(300);
}

/* A route or requeue of the slot's call returned `decision` (lock held): its
 * token is the call's now (a callback that came first must have had the
 * same), and an agent it assigned at once is rung. */
static routing_decision_outcome_t take_decision(
    call_slot_t* slot, const routing_decision_t* decision) {
  routing_decision_outcome_t outcome = ROUTING_DECISION_QUEUED;
  uint64_t token = 0;
  routing_decision_outcome(decision, &outcome);
  routing_decision_token(decision, &token);
  if (slot->token != 0 && slot->token != token) {
    atomic_fetch_add(&stale_tokens, 1);
  }
  slot->token = token;
  if (outcome == ROUTING_DECISION_ASSIGNED && !slot->ended) {
    const char* agent_id = NULL;
    routing_decision_agent_id(decision, &agent_id);
    ring_agent(agent_index(agent_id), slot);
    slot->answered_at_ms = now_ms();
  }
  return outcome;
}

static void* setup_thread(void* arg) {
  const int t = (int)(intptr_t)arg;
  unsigned seed = 17u + (unsigned)t;
  int next = 0;
  while (!atomic_load(&stop)) {
    call_slot_t* slot = &slots[t * kSlotsPerThread + next];
    next = (next + 1) % kSlotsPerThread;
    pthread_mutex_lock(&slot->lock);
    if (slot->live || slot->routing || slot->hangups_in_flight > 0) {
      pthread_mutex_unlock(&slot->lock);
      sched_yield();
      continue;
    }
    /* The previous call on this id is over: check it ended exactly once. */
    if (slot->expect_end && slot->ends != 1) {
      atomic_fetch_add(slot->ends == 0 ? &missing_ends : &double_ends, 1);
    }
    slot->routing = 1;
    slot->ended = 0;
    slot->ends = 0;
    slot->expect_end = 0;
    slot->token = 0;
    slot->agent = -1;
    pthread_mutex_unlock(&slot->lock);

    routing_contact_t* call = NULL;
    routing_decision_t* decision = NULL;
    routing_contact_create(slot->id, ROUTING_CHANNEL_VOICE, &call);
    routing_contact_add_required_skill(call, "billing",
                                       1 + (int)(next_random(&seed) % 2));
    routing_contact_set_user_data(call, slot);
    routing_status_t s = routing_engine_route(engine, call, &decision);
    routing_contact_destroy(call);
    check_code(s, "route");
    atomic_fetch_add(&routes, 1);

    pthread_mutex_lock(&slot->lock);
    slot->routing = 0;
    if (s == ROUTING_OK) {
      slot->expect_end = 1;
      if (!slot->ended) slot->live = 1;
      const routing_decision_outcome_t outcome = take_decision(slot, decision);
      atomic_fetch_add(
          outcome == ROUTING_DECISION_ASSIGNED ? &assigned_now : &queued, 1);
      routing_decision_destroy(decision);
    } else if (s == ROUTING_ABORTED) {
      /* Cancelled while routed: the hang-up's OK is this call's end. */
      slot->expect_end = 1;
      atomic_fetch_add(&aborted, 1);
    } else {
      atomic_fetch_add(&refused, 1);
    }
    pthread_mutex_unlock(&slot->lock);
  }
  return NULL;
}

static void* hangup_thread(void* arg) {
  (void)arg;
  unsigned seed = 99u;
  while (!atomic_load(&stop)) {
    end_call(&slots[next_random(&seed) % kSlots], /*by_release=*/0);
    sleep_us(50);
  }
  return NULL;
}

/* Ends answered calls after a few milliseconds of talk; one in eight is
 * transferred (requeued) instead. */
static void* release_thread(void* arg) {
  (void)arg;
  unsigned seed = 7u;
  while (!atomic_load(&stop)) {
    call_slot_t* slot = &slots[next_random(&seed) % kSlots];
    pthread_mutex_lock(&slot->lock);
    const int answered = slot->live && slot->agent >= 0 &&
                         now_ms() - slot->answered_at_ms >= 2;
    pthread_mutex_unlock(&slot->lock);
    if (!answered) {
      sched_yield();
      continue;
    }
    if (next_random(&seed) % 8 != 0) {
      end_call(slot, /*by_release=*/1);
      continue;
    }
    routing_contact_t* call = NULL;
    routing_decision_t* decision = NULL;
    routing_contact_create(slot->id, ROUTING_CHANNEL_VOICE, &call);
    routing_contact_add_required_skill(call, "billing", 1);
    /* The agent's leg is hung up first, as a PBX transfers a call; the
     * new attempt's token is unknown until the requeue returns. */
    pthread_mutex_lock(&slot->lock);
    if (!slot->live || slot->agent < 0) {
      pthread_mutex_unlock(&slot->lock);
      routing_contact_destroy(call);
      continue;
    }
    const int previous_agent = slot->agent;
    ++slot->hangups_in_flight;
    hang_up_agent(slot);
    const uint64_t previous_token = slot->token;
    slot->token = 0;
    pthread_mutex_unlock(&slot->lock);
    routing_status_t s = routing_engine_requeue(engine, call, &decision);
    routing_contact_destroy(call);
    check_code(s, "requeue");
    pthread_mutex_lock(&slot->lock);
    --slot->hangups_in_flight;
    if (s != ROUTING_OK && !slot->ended) {
      /* Refused: the call stays with its agent. */
      slot->token = previous_token;
      ring_agent(previous_agent, slot);
    }
    if (s == ROUTING_OK) {
      atomic_fetch_add(&transfers, 1);
      take_decision(slot, decision);
      routing_decision_destroy(decision);
    }
    pthread_mutex_unlock(&slot->lock);
  }
  return NULL;
}

static void* agent_state_thread(void* arg) {
  (void)arg;
  unsigned seed = 3u;
  char id[32];
  while (!atomic_load(&stop)) {
    snprintf(id, sizeof id, "agent-%u", next_random(&seed) % kAgents);
    check_code(routing_engine_set_agent_state(engine, id, ROUTING_AGENT_BREAK),
               "set_agent_state");
    sleep_us(300);
    /* Sample every agent's load against its capacity meanwhile. */
    for (int a = 0; a < kAgents; ++a) {
      char other[32];
      snprintf(other, sizeof other, "agent-%d", a);
      routing_agent_status_t* status = NULL;
      int load = 0, capacity = 0;
      if (routing_engine_get_agent(engine, other, &status) == ROUTING_OK) {
        routing_agent_status_load(status, ROUTING_CHANNEL_VOICE, &load,
                                  &capacity);
        routing_agent_status_destroy(status);
      }
      if (load > capacity) {
        atomic_fetch_add(&breaches, 1);
        fprintf(stderr, "%s holds %d calls; capacity %d\n", other, load,
                capacity);
      }
    }
    check_code(
        routing_engine_set_agent_state(engine, id, ROUTING_AGENT_AVAILABLE),
        "set_agent_state");
    atomic_fetch_add(&flaps, 1);
    sleep_us(200);
  }
  return NULL;
}

/* At quiescence, before anything is cleaned up. */
static int check_quiescent_state(void) {
  int problems = 0;
  int live = 0;
  for (int i = 0; i < kSlots; ++i) live += slots[i].live;
  routing_stats_t* stats = NULL;
  int64_t held = -1;
  if (routing_engine_stats(engine, &stats) == ROUTING_OK) {
    routing_stats_counter(stats, ROUTING_STATS_CONTACTS_HELD, &held);
    routing_stats_destroy(stats);
  }
  if (held != live) {
    fprintf(stderr, "engine holds %lld calls; the host counts %d live\n",
            (long long)held, live);
    ++problems;
  }
  char id[32];
  for (int a = 0; a < kAgents; ++a) {
    snprintf(id, sizeof id, "agent-%d", a);
    routing_agent_status_t* status = NULL;
    int load = -1, capacity = -1;
    if (routing_engine_get_agent(engine, id, &status) == ROUTING_OK) {
      routing_agent_status_load(status, ROUTING_CHANNEL_VOICE, &load,
                                &capacity);
      routing_agent_status_destroy(status);
    }
    int host_load = 0;
    for (int i = 0; i < kSlots; ++i) {
      host_load += slots[i].live && slots[i].agent == a;
    }
    if (load != host_load || load > capacity || host_load > 1) {
      fprintf(stderr, "%s: engine load %d (capacity %d), host rang %d\n", id,
              load, capacity, host_load);
      ++problems;
    }
  }
  return problems;
}

int main(int argc, char** argv) {
  double seconds = 3;
  const char* env = getenv("PBX_MODEL_SECONDS");
  if (env != NULL) seconds = atof(env);
  if (argc > 1) seconds = atof(argv[1]);

  routing_options_t* options = NULL;
  routing_options_create(&options);
  routing_options_set_assignment_callback(options, on_assigned, NULL);
  if (routing_engine_create(options, &engine) != ROUTING_OK) {
    fprintf(stderr, "create: %s\n", routing_last_error());
    return 2;
  }
  routing_options_destroy(options);
  char id[32];
  for (int a = 0; a < kAgents; ++a) {
    routing_agent_t* agent = NULL;
    snprintf(id, sizeof id, "agent-%d", a);
    routing_agent_create(id, &agent);
    routing_agent_add_skill(agent, "billing", 1 + a % 3);
    routing_agent_set_capacity(agent, ROUTING_CHANNEL_VOICE, 1);
    if (routing_engine_add_agent(engine, agent) != ROUTING_OK ||
        routing_engine_set_agent_state(engine, id, ROUTING_AGENT_AVAILABLE) !=
            ROUTING_OK) {
      fprintf(stderr, "agent: %s\n", routing_last_error());
      return 2;
    }
    routing_agent_destroy(agent);
  }
  for (int i = 0; i < kSlots; ++i) {
    pthread_mutex_init(&slots[i].lock, NULL);
    snprintf(slots[i].id, sizeof slots[i].id, "call-%d", i);
    slots[i].agent = -1;
  }

  pthread_t threads[kSetupThreads + 3];
  int n = 0;
  for (int t = 0; t < kSetupThreads; ++t) {
    pthread_create(&threads[n++], NULL, setup_thread, (void*)(intptr_t)t);
  }
  pthread_create(&threads[n++], NULL, hangup_thread, NULL);
  pthread_create(&threads[n++], NULL, release_thread, NULL);
  pthread_create(&threads[n++], NULL, agent_state_thread, NULL);
  sleep_us((long)(seconds * 1e6));
  atomic_store(&stop, 1);
  for (int i = 0; i < n; ++i) pthread_join(threads[i], NULL);

  int problems = check_quiescent_state();
  /* Hang up what is left: each live call ends once more, exactly. */
  for (int i = 0; i < kSlots; ++i) {
    if (slots[i].live) end_call(&slots[i], /*by_release=*/0);
    if (slots[i].expect_end && slots[i].ends != 1) {
      atomic_fetch_add(slots[i].ends == 0 ? &missing_ends : &double_ends, 1);
    }
  }
  routing_stats_t* stats = NULL;
  int64_t held = -1, from_queue = 0, untold = 0;
  routing_engine_stats(engine, &stats);
  routing_stats_counter(stats, ROUTING_STATS_CONTACTS_HELD, &held);
  routing_stats_counter(stats, ROUTING_STATS_ASSIGNED_FROM_QUEUE, &from_queue);
  routing_stats_counter(stats, ROUTING_STATS_ASSIGNMENTS_UNTOLD, &untold);
  routing_stats_destroy(stats);
  if (held != 0) ++problems;
  /* Every assignment from a queue was told, or withdrawn by an end first. */
  if (from_queue - untold != atomic_load(&told)) {
    fprintf(stderr, "%lld assigned from queues, %lld untold, %ld told\n",
            (long long)from_queue, (long long)untold, atomic_load(&told));
    ++problems;
  }
  routing_engine_destroy(engine);

  printf(
      "pbx_model: %.1f s, %ld routes (%ld answered at once, %ld queued, %ld "
      "aborted by a racing hang-up, %ld refused), %ld callbacks, %ld "
      "cancels, %ld releases, %ld transfers, %ld agent flaps\n",
      seconds, atomic_load(&routes), atomic_load(&assigned_now),
      atomic_load(&queued), atomic_load(&aborted), atomic_load(&refused),
      atomic_load(&told), atomic_load(&cancels), atomic_load(&releases),
      atomic_load(&transfers), atomic_load(&flaps));
  printf(
      "pbx_model: %ld INTERNAL codes, %ld callbacks after a successful end, "
      "%ld stale tokens, %ld capacity breaches, %ld calls ended twice, %ld "
      "never ended, %d problems at quiescence\n",
      atomic_load(&internal_codes), atomic_load(&late_callbacks),
      atomic_load(&stale_tokens), atomic_load(&breaches),
      atomic_load(&double_ends), atomic_load(&missing_ends), problems);
  const int ok = atomic_load(&internal_codes) == 0 &&
                 atomic_load(&late_callbacks) == 0 &&
                 atomic_load(&stale_tokens) == 0 &&
                 atomic_load(&breaches) == 0 &&
                 atomic_load(&double_ends) == 0 &&
                 atomic_load(&missing_ends) == 0 && problems == 0 &&
                 atomic_load(&told) > 0 && atomic_load(&cancels) > 0;
  return ok ? 0 : 1;
}
