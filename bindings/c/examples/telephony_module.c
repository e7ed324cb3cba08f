/* A telephony module embedding the routing engine, the way an Asterisk or
 * FreeSWITCH module would: agents log in, calls arrive on several SIP worker
 * threads at once and are answered by the engine (an agent now, or a place in
 * the queue), calls end, and queued calls are handed to agents later through
 * the assignment callback, which passes them to a media thread to connect.
 *
 * Build outside Bazel, after `bazel run //bindings/c:install -- --prefix=DIR`:
 *   PKG_CONFIG_PATH=DIR/lib/pkgconfig \
 *     cc -pthread telephony_module.c $(pkg-config --cflags --libs routing)
 * Run: ./a.out [calls-per-thread]   (default 25; prints a summary, exits 0
 * when every call was answered and released). */
#include <errno.h>
#include <pthread.h>
#include <routing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Four SIP threads each with up to three calls ringing at once, for four
 * agents: calls queue, and the callback drains the queue. */
enum { kSipThreads = 4, kBurst = 3, kAgents = 4, kMaxIdLength = 32 };

/* Calls the callback assigned, waiting for the media thread to connect them.
 * The callback only copies the id and signals: it runs inside the engine
 * call that freed the agent, so slow work belongs elsewhere. */
typedef struct {
  pthread_mutex_t mutex;
  pthread_cond_t changed;
  char (*ids)[kMaxIdLength];
  int count;
  int capacity;
  int released; /* Calls finished, by any thread. */
  int total;    /* Calls that will arrive. */
  int assigned_later;
} module_t;

static module_t module = {.mutex = PTHREAD_MUTEX_INITIALIZER,
                          .changed = PTHREAD_COND_INITIALIZER};
static routing_engine_t* engine;

static void fail(const char* what, routing_status_t status) {
  fprintf(stderr, "telephony_module: %s: %s (%s)\n", what, routing_last_error(),
          routing_status_name(status));
  exit(1);
}

#define CHECK(what, call)                                       \
  do {                                                          \
    routing_status_t check_status_ = (call);                    \
    if (check_status_ != ROUTING_OK) fail(what, check_status_); \
  } while (0)

static void talk(void) {
  struct timespec t = {0, 200 * 1000}; /* 0.2 ms stands for the conversation. */
  nanosleep(&t, NULL);
}

static void note_released(void) {
  pthread_mutex_lock(&module.mutex);
  module.released++;
  pthread_cond_broadcast(&module.changed);
  pthread_mutex_unlock(&module.mutex);
}

/* The assignment callback: runs on whichever thread freed the agent. */
static void on_assigned(void* user_data, const routing_assignment_t* a) {
  module_t* m = (module_t*)user_data;
  const char* contact_id;
  if (routing_assignment_contact_id(a, &contact_id) != ROUTING_OK) return;
  pthread_mutex_lock(&m->mutex);
  if (m->count < m->capacity) {
    snprintf(m->ids[m->count], kMaxIdLength, "%s", contact_id);
    m->count++;
    m->assigned_later++;
    pthread_cond_broadcast(&m->changed);
  }
  pthread_mutex_unlock(&m->mutex);
}

/* A SIP worker: INVITEs arrive in bursts; each becomes a contact routed at
 * once. Calls answered by an agent are bridged, talk, and end; queued ones
 * hear music on hold until the callback assigns them. */
static void* sip_worker(void* arg) {
  int thread = (int)(size_t)arg;
  int calls = module.total / kSipThreads;
  char answered[kBurst][kMaxIdLength];
  for (int first = 0; first < calls; first += kBurst) {
    int n_answered = 0;
    for (int i = first; i < first + kBurst && i < calls; ++i) {
      char id[kMaxIdLength];
      snprintf(id, sizeof id, "call-%d-%d", thread, i);
      routing_contact_t* call;
      routing_decision_t* decision;
      CHECK("contact",
            routing_contact_create(id, ROUTING_CHANNEL_VOICE, &call));
      CHECK("skill", routing_contact_add_required_skill(
                         call, i % 2 ? "billing" : "sales", 2));
      CHECK("language", routing_contact_add_language(call, "en"));
      CHECK("route", routing_engine_route(engine, call, &decision));
      routing_contact_destroy(call);
      routing_decision_outcome_t outcome;
      CHECK("outcome", routing_decision_outcome(decision, &outcome));
      routing_decision_destroy(decision);
      if (outcome == ROUTING_DECISION_ASSIGNED) {
        memcpy(answered[n_answered++], id, kMaxIdLength);
      }
    }
    talk();
    for (int k = 0; k < n_answered; ++k) {
      /* The caller hangs up; freeing the agent may assign a queued call. */
      CHECK("release", routing_engine_release(engine, answered[k],
                                              ROUTING_OUTCOME_RESOLVED));
      note_released();
    }
  }
  return NULL;
}

/* The media thread connects calls the callback assigned, then ends them. */
static void* media_thread(void* unused) {
  (void)unused;
  char id[kMaxIdLength];
  pthread_mutex_lock(&module.mutex);
  while (module.released < module.total) {
    if (module.count == 0) {
      pthread_cond_wait(&module.changed, &module.mutex);
      continue;
    }
    module.count--;
    memcpy(id, module.ids[module.count], kMaxIdLength);
    pthread_mutex_unlock(&module.mutex);
    talk();
    /* Releasing may assign the next queued call: the callback runs here. */
    CHECK("release queued",
          routing_engine_release(engine, id, ROUTING_OUTCOME_RESOLVED));
    note_released();
    pthread_mutex_lock(&module.mutex);
  }
  pthread_mutex_unlock(&module.mutex);
  return NULL;
}

static void log_in(const char* id, int billing_level, int sales_level) {
  routing_agent_t* agent;
  CHECK("agent", routing_agent_create(id, &agent));
  CHECK("skill", routing_agent_add_skill(agent, "billing", billing_level));
  CHECK("skill", routing_agent_add_skill(agent, "sales", sales_level));
  CHECK("language", routing_agent_add_language(agent, "en", 5));
  CHECK("capacity",
        routing_agent_set_capacity(agent, ROUTING_CHANNEL_VOICE, 1));
  CHECK("add agent", routing_engine_add_agent(engine, agent));
  routing_agent_destroy(agent);
  CHECK("log in",
        routing_engine_set_agent_state(engine, id, ROUTING_AGENT_AVAILABLE));
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--help") == 0) {
    printf(
        "usage: %s [calls-per-thread]   (default 25)\n"
        "Routes calls from %d SIP threads to %d agents through librouting\n"
        "and prints a summary; exits 0 when every call was answered and\n"
        "released.\n",
        argv[0], kSipThreads, kAgents);
    return 0;
  }
  int per_thread = argc > 1 ? atoi(argv[1]) : 25;
  if (per_thread <= 0) {
    fprintf(stderr,
            "telephony_module: calls-per-thread must be a number > 0 "
            "(try --help)\n");
    return 2;
  }
  module.total = per_thread * kSipThreads;
  module.capacity = module.total;
  module.ids = calloc((size_t)module.capacity, sizeof *module.ids);
  if (module.ids == NULL) return 1;

  printf("librouting ABI %d\n", routing_abi_version());
  routing_options_t* options;
  CHECK("options", routing_options_create(&options));
  CHECK("limit",
        routing_options_set_limit(options, ROUTING_LIMIT_MAX_AGENTS, 64));
  CHECK("limit", routing_options_set_limit(options, ROUTING_LIMIT_MAX_CONTACTS,
                                           module.total));
  CHECK("limit", routing_options_set_limit(
                     options, ROUTING_LIMIT_HISTORY_CUSTOMERS, 1024));
  CHECK("callback",
        routing_options_set_assignment_callback(options, on_assigned, &module));
  CHECK("create", routing_engine_create(options, &engine));
  routing_options_destroy(options);

  for (int i = 0; i < kAgents; ++i) {
    char id[kMaxIdLength];
    snprintf(id, sizeof id, "agent-%d", i);
    log_in(id, 2 + i % 4, 5 - i % 4);
  }

  /* A refused call explains itself and changes nothing. */
  if (routing_engine_release(engine, "no-such-call",
                             ROUTING_OUTCOME_RESOLVED) == ROUTING_NOT_FOUND) {
    printf("refused: %s\n", routing_last_error());
  }

  pthread_t media, workers[kSipThreads];
  if (pthread_create(&media, NULL, media_thread, NULL) != 0) return 1;
  for (int t = 0; t < kSipThreads; ++t) {
    if (pthread_create(&workers[t], NULL, sip_worker, (void*)(size_t)t) != 0)
      return 1;
  }
  for (int t = 0; t < kSipThreads; ++t) pthread_join(workers[t], NULL);
  pthread_join(media, NULL);

  routing_stats_t* stats;
  int64_t decisions, immediately, from_queue, released, held;
  CHECK("stats", routing_engine_stats(engine, &stats));
  routing_stats_counter(stats, ROUTING_STATS_DECISIONS, &decisions);
  routing_stats_counter(stats, ROUTING_STATS_ASSIGNED_IMMEDIATELY,
                        &immediately);
  routing_stats_counter(stats, ROUTING_STATS_ASSIGNED_FROM_QUEUE, &from_queue);
  routing_stats_counter(stats, ROUTING_STATS_RELEASED, &released);
  routing_stats_counter(stats, ROUTING_STATS_CONTACTS_HELD, &held);
  routing_stats_destroy(stats);
  printf(
      "calls %d: answered at once %lld, from the queue %lld (callbacks %d), "
      "released %lld, still held %lld\n",
      module.total, (long long)immediately, (long long)from_queue,
      module.assigned_later, (long long)released, (long long)held);

  CHECK("destroy", routing_engine_destroy(engine));
  free(module.ids);
  int ok = decisions == module.total &&
           immediately + from_queue == module.total &&
           from_queue == module.assigned_later && released == module.total &&
           held == 0;
  printf(ok ? "all calls answered and released\n" : "MISMATCH\n");
  return ok ? 0 : 1;
}
