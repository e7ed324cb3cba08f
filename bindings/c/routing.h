/* File: bindings/c/routing.h
 *
 * The stable C ABI of the contact-center routing engine (librouting.so.1), for
 * telephony platforms that embed the engine in-process: Asterisk and
 * FreeSWITCH modules, SIP servers, in-house switches. It exposes the whole
 * in-process engine of routing/router.h: agents and their state, route,
 * requeue, cancel, release with outcome, policy, customer history,
 * statistics, a callback for queued contacts assigned later, and (1.4)
 * reservations: offers with a deadline the host accepts or rejects.
 *
 *   routing_options_t* options;
 *   routing_engine_t* engine;
 *   routing_options_create(&options);
 *   routing_options_set_assignment_callback(options, on_assigned, my_module);
 *   if (routing_engine_create(options, &engine) != ROUTING_OK)
 *     fprintf(stderr, "routing: %s\n", routing_last_error());
 *   routing_options_destroy(options);
 *
 *   routing_agent_t* maria;
 *   routing_agent_create("maria", &maria);
 *   routing_agent_add_skill(maria, "billing", 5);
 *   routing_agent_set_capacity(maria, ROUTING_CHANNEL_VOICE, 1);
 *   routing_engine_add_agent(engine, maria);
 *   routing_agent_destroy(maria);
 *   routing_engine_set_agent_state(engine, "maria", ROUTING_AGENT_AVAILABLE);
 *
 *   routing_contact_t* call;
 *   routing_decision_t* decision;
 *   routing_contact_create("call-8841", ROUTING_CHANNEL_VOICE, &call);
 *   routing_contact_add_required_skill(call, "billing", 3);
 *   if (routing_engine_route(engine, call, &decision) == ROUTING_OK) {
 *     routing_decision_outcome_t outcome;
 *     const char* agent;
 *     routing_decision_outcome(decision, &outcome);
 *     routing_decision_agent_id(decision, &agent);   // "" when queued
 *     ...
 *     routing_decision_destroy(decision);
 *   }
 *   routing_contact_destroy(call);
 *   ...                                   // the agent talks to the customer
 *   routing_engine_release(engine, "call-8841", ROUTING_OUTCOME_RESOLVED);
 *   routing_engine_destroy(engine);
 *
 * Errors. Every function returns a routing_status_t, except the few marked
 * "no status" (version, error text, frees and destroys of owned objects). On
 * failure the call changed nothing, and routing_last_error() describes the
 * problem in one line naming the offending value; on success it returns "".
 * No C++ exception ever crosses this boundary: out of memory is
 * ROUTING_RESOURCE_EXHAUSTED, anything unexpected ROUTING_INTERNAL. Out
 * parameters are written only on success, except the ones that exist to
 * describe a failure (problems_out of the rules reloads, error_out of the
 * `_r` functions): when not NULL, they are written by every call, NULL
 * unless the call failed with something to describe.
 *
 * Messages echo the values they are about (an id, a name), but never more
 * than a few hundred bytes of one: a value too long to echo whole (a 10 MB
 * id) is named by its first bytes.
 *
 * Errors without thread-local state: routing_last_error() is per OS thread,
 * which a Go goroutine (it may change thread between two cgo calls) or a
 * Java virtual thread cannot rely on. Each routing_engine_* call that can
 * fail for a reason worth reading has an `_r` twin (1.1) taking one more
 * parameter, `char** error_out` (may be NULL): it receives the message of
 * that very call (the same text routing_last_error() would give), owned by
 * the caller (routing_free), or NULL on success.
 *
 * Misuse is an error, never a crash: a NULL handle, string or out parameter,
 * an enum value out of range, an unknown agent or contact id, an index past
 * the end, a string that is not valid UTF-8 (ROUTING_INVALID_ARGUMENT naming
 * the field), and any call on an engine after routing_engine_destroy
 * (ROUTING_DESTROYED, also for a second destroy). Only pointers this library
 * returned are accepted; a pointer to anything else, or to a builder or
 * result object already destroyed, cannot be detected (as with free()).
 *
 * Strings. Inputs are NUL-terminated UTF-8 and are copied before the call
 * returns: the caller may free or reuse them at once. Output strings are
 * NUL-terminated UTF-8; the description of each accessor says who owns them:
 *   - strings read from a result object (decision, agent status, stats,
 *     history, list) belong to that object and stay valid until it is
 *     destroyed;
 *   - strings from an assignment belong to the callback invocation and are
 *     valid only until the callback returns;
 *   - a `char**` out parameter receives a string the caller owns and frees
 *     with routing_free().
 *
 * Threads. Every routing_engine_* call may be made from any number of threads
 * at once; none takes a lock (the engine is lock-free, see
 * docs/ARCHITECTURE.md). Builder and result objects (options, policy, agent,
 * contact, decision, ...) are plain values: use one from one thread at a time,
 * or share it read-only. routing_last_error() is per thread.
 *
 * Destroy. routing_engine_destroy waits for the calls in flight on other
 * threads to finish, then frees the engine; calls that start afterwards get
 * ROUTING_DESTROYED. Called from inside a call on the same engine (for
 * example from its assignment callback) it refuses with
 * ROUTING_FAILED_PRECONDITION instead of waiting for itself. The engine handle
 * itself is a small record that is never freed (so that later calls can be
 * detected): under 64 bytes per engine ever created in the process.
 *
 * Times are milliseconds: instants since the Unix epoch (UTC), durations as
 * counts. Wall-clock time is used unless the options ask for a manual clock,
 * which then moves only through routing_engine_set_time (for simulations and
 * tests).
 */
#ifndef ROUTING_BINDINGS_C_ROUTING_H_
#define ROUTING_BINDINGS_C_ROUTING_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define ROUTING_EXPORT __attribute__((visibility("default")))
#else
#define ROUTING_EXPORT
#endif

/* ABI version of this header. A program built against major version N runs
 * with any librouting.so.N whose minor version is at least the one it was
 * built with. Every exported function carries the symbol version of the
 * minor version that added it (ROUTING_1.0, ROUTING_1.1, ...), so a program
 * that uses a newer function fails to load against an older library with a
 * loader error naming that version, instead of failing at the call.
 * Programs linked against the first release, whose functions all carried
 * one version ROUTING_1, keep loading: each 1.0 function answers there too.
 * Functions added in 1.1 are marked "(1.1)". */
#define ROUTING_ABI_VERSION_MAJOR 1
#define ROUTING_ABI_VERSION_MINOR 4
#define ROUTING_ABI_VERSION \
  (ROUTING_ABI_VERSION_MAJOR * 10000 + ROUTING_ABI_VERSION_MINOR)

/* Enumerated types are plain ints, so a value out of range from a caller is
 * an error the library reports rather than undefined behaviour. */

/* ------------------------------------------------------------------------ */
/* Status codes: the numbers of absl::StatusCode, plus ROUTING_DESTROYED.   */
/* Every code a call can return is listed here with what the host does      */
/* about it; ROUTING_INTERNAL is the only "bug: please report" code.        */

typedef int routing_status_t;
enum {
  ROUTING_OK = 0,
  /* Not returned by this library; reserved with absl's meaning. */
  ROUTING_CANCELLED = 1,
  /* A failure the engine could not classify (e.g. a Lua error object that
   * was not a string). The call changed nothing. */
  ROUTING_UNKNOWN = 2,
  ROUTING_INVALID_ARGUMENT = 3, /* NULL, out of range, bad UTF-8, ... */
  /* A deadline passed (e.g. a rules evaluation budget). Changed nothing. */
  ROUTING_DEADLINE_EXCEEDED = 4,
  ROUTING_NOT_FOUND = 5,        /* Unknown agent, contact, skill, ... */
  ROUTING_ALREADY_EXISTS = 6,   /* Agent or contact id already held. */
  /* Not returned by this library; reserved with absl's meaning. */
  ROUTING_PERMISSION_DENIED = 7,
  ROUTING_RESOURCE_EXHAUSTED = 8,  /* A configured maximum, or memory. */
  ROUTING_FAILED_PRECONDITION = 9, /* Wrong state for the call. */
  /* The call lost a race with another call on the same contact and did
   * nothing:
   *   - routing_engine_route: the contact was cancelled (by another thread)
   *     while it was being routed. It is not held: treat the call as ended,
   *     as if the cancel had come after the route;
   *   - routing_engine_requeue: another call is routing the contact right
   *     now (a route, requeue or rules step); try the requeue again. */
  ROUTING_ABORTED = 10,
  ROUTING_OUT_OF_RANGE = 11, /* An index past the end of a list. */
  /* Not returned by this library; reserved with absl's meaning. */
  ROUTING_UNIMPLEMENTED = 12,
  ROUTING_INTERNAL = 13, /* A bug: please report the message. */
  /* Not returned by this library; reserved with absl's meaning. */
  ROUTING_UNAVAILABLE = 14,
  ROUTING_DATA_LOSS = 15,
  ROUTING_UNAUTHENTICATED = 16,
  ROUTING_DESTROYED = 100 /* The engine was destroyed. */
};

/* The ABI version of the loaded library (ROUTING_ABI_VERSION it was built
 * with). No status. */
ROUTING_EXPORT int routing_abi_version(void);

/* "OK", "INVALID_ARGUMENT", ..., "ABORTED", ..., "DESTROYED" (the name of
 * each code above without its ROUTING_ prefix); "UNKNOWN" for other values.
 * Static storage. No status. */
ROUTING_EXPORT const char* routing_status_name(routing_status_t status);

/* The message of the last call made on this thread: "" after a success.
 * Owned by the library; valid until the next routing_* call on this thread.
 * No status. */
ROUTING_EXPORT const char* routing_last_error(void);

/* Frees a string this library returned through a `char**` out parameter.
 * NULL is ignored. No status. */
ROUTING_EXPORT void routing_free(char* string);

/* ------------------------------------------------------------------------ */
/* Enumerations (values are part of the ABI).                               */

typedef int routing_channel_t;
enum {
  ROUTING_CHANNEL_VOICE = 0,
  ROUTING_CHANNEL_CHAT = 1,
  ROUTING_CHANNEL_EMAIL = 2,
  ROUTING_CHANNEL_MESSAGING = 3, /* SMS, WhatsApp and other async messaging. */
  ROUTING_CHANNEL_CALLBACK = 4, /* Virtual hold: the customer waits off-line. */
  ROUTING_CHANNEL_VIDEO = 5
};
#define ROUTING_CHANNEL_COUNT 6

typedef int routing_agent_state_t;
enum {
  ROUTING_AGENT_LOGGED_OUT = 0,
  ROUTING_AGENT_AVAILABLE = 1, /* The only state offered contacts. */
  ROUTING_AGENT_BUSY = 2,
  ROUTING_AGENT_AFTER_CALL_WORK = 3,
  ROUTING_AGENT_BREAK = 4
};
#define ROUTING_AGENT_STATE_COUNT 5

typedef int routing_outcome_t;
enum {
  ROUTING_OUTCOME_UNKNOWN = 0,
  ROUTING_OUTCOME_RESOLVED = 1,
  ROUTING_OUTCOME_UNRESOLVED = 2,
  ROUTING_OUTCOME_TRANSFERRED = 3
};

typedef int routing_decision_outcome_t;
enum {
  ROUTING_DECISION_ASSIGNED = 0, /* An agent holds the contact now. */
  ROUTING_DECISION_QUEUED = 1    /* The contact waits in its queue. */
};

typedef int routing_contact_state_t;
enum {
  ROUTING_CONTACT_QUEUED = 0,
  ROUTING_CONTACT_ASSIGNED = 1,
  /* (1.4) Offered to an agent who has not accepted yet (reservations, see
   * routing_options_set_offer_timeout). Only an engine created with an
   * offer timeout ever reports it. */
  ROUTING_CONTACT_OFFERED = 2
};

/* ------------------------------------------------------------------------ */
/* Options: sizes, policy, clock and the assignment callback.               */

typedef struct routing_options_t routing_options_t;
typedef struct routing_policy_t routing_policy_t;
typedef struct routing_engine_t routing_engine_t;
typedef struct routing_assignment_t routing_assignment_t;
typedef struct routing_expired_offer_t routing_expired_offer_t;

/* Receives each queued contact assigned later, when capacity frees up. The
 * contract:
 *
 * Thread. It runs on the thread whose routing_engine_* call freed the
 * capacity or moved the contact on (release, cancel, set_agent_state,
 * add_agent, update_agent, requeue, advance_queues, or a route that found a
 * contact ahead of it), before that call returns. Several threads may run it
 * at once, for different contacts. It never runs inside the engine's
 * internal critical sections: no engine lock or memory-reclamation pin is
 * held, so a slow callback delays its own thread, never other threads or
 * memory reclamation.
 *
 * Before route() returns? The assignment of a contact queued by
 * routing_engine_route can be made by another thread's call at any moment
 * after the contact is queued, so its callback CAN run (on that other
 * thread) before route() has returned the "queued" decision. Match them by
 * routing_assignment_token (== routing_decision_token of that decision), not
 * by arrival order.
 *
 * What it may call. Any routing_engine_* function on the same engine except
 * routing_engine_destroy (refused with ROUTING_FAILED_PRECONDITION), e.g.
 * release, cancel or requeue the contact it is told of, or another. Calls
 * made from inside the callback never wait for another thread, and the
 * assignments they cause are told after this callback returns, on this
 * thread, in the order they were made (never nested: the stack stays flat
 * however long a chain of releases runs, e.g. 100,000 queued contacts on a
 * 128 KB stack).
 *
 * Ordering with cancel. Once routing_engine_cancel, _release or _requeue of
 * a contact has returned ROUTING_OK, no callback for that contact starts;
 * if one had already started on another thread, the call waits for it to
 * return first. So a host may free its per-call state (the user data) as
 * soon as cancel returns. Two consequences: do not call them while holding
 * a lock your callback takes (they may wait for that callback), and when
 * they are called from inside a callback they do not wait (a callback for
 * that contact running on another thread may still run). Each routing
 * attempt has a token (routing_decision_token / routing_assignment_token):
 * an assignment whose token is not the one the host holds for that contact
 * id belongs to an earlier call that used the same id.
 *
 * Duration. Keep it short (microseconds): the thread it runs on is inside
 * an engine call made by your code (often a release on a signalling
 * thread); hand slow work (ringing the agent's phone) to a thread of your
 * own. The assignment and every string read from it are valid only until
 * it returns. It must not throw or longjmp; a C++ exception escaping it is
 * caught and dropped. */
typedef void (*routing_assignment_fn)(void* user_data,
                                      const routing_assignment_t* assignment);

/* Fixed sizes allocated when the engine is created (routing/router.h). */
typedef int routing_limit_t;
enum {
  ROUTING_LIMIT_MAX_AGENTS = 0,        /* Default 100000; at most 1048576. */
  ROUTING_LIMIT_MAX_SKILLS = 1,        /* Default 1024. */
  ROUTING_LIMIT_MAX_LANGUAGES = 2,     /* Default 256. */
  ROUTING_LIMIT_MAX_QUEUES = 3,        /* Default 1024. */
  ROUTING_LIMIT_MAX_CONTACTS = 4,      /* Default 1048576 held at once. */
  ROUTING_LIMIT_HISTORY_CUSTOMERS = 5, /* Default 1048576. */
  ROUTING_LIMIT_HISTORY_DEPTH = 6,     /* Default 4; 1..8. */
  ROUTING_LIMIT_MAX_SKILL_LEVEL = 7,   /* Default 5. */
  ROUTING_LIMIT_MAX_FLUENCY = 8        /* Default 5. */
};

/* A new options object with the defaults: wall clock, built-in policy, no
 * callback. Free with routing_options_destroy. */
ROUTING_EXPORT routing_status_t
routing_options_create(routing_options_t** options_out);
/* NULL is ignored. No status. */
ROUTING_EXPORT void routing_options_destroy(routing_options_t* options);
/* Ranges are checked by routing_engine_create, which names the option. */
ROUTING_EXPORT routing_status_t routing_options_set_limit(
    routing_options_t* options, routing_limit_t limit, int value);
/* The policy in force at start (version 1). The policy is copied. */
ROUTING_EXPORT routing_status_t routing_options_set_policy(
    routing_options_t* options, const routing_policy_t* policy);
/* The engine's clock starts at start_unix_ms and moves only through
 * routing_engine_set_time. */
ROUTING_EXPORT routing_status_t routing_options_set_manual_clock(
    routing_options_t* options, int64_t start_unix_ms);
/* callback may be NULL (no callback). user_data is passed through untouched
 * and must stay valid until the engine is destroyed. */
ROUTING_EXPORT routing_status_t routing_options_set_assignment_callback(
    routing_options_t* options, routing_assignment_fn callback,
    void* user_data);
/* A rules file (Lua, docs/RULES.md) to put in force when the engine is
 * created. routing_engine_create then compiles it, checks it and runs its
 * tests, and fails with INVALID_ARGUMENT (NOT_FOUND if unreadable) whose
 * routing_last_error() lists every problem as "FILE:LINE: message". NULL or
 * "" means none. The path is copied. */
ROUTING_EXPORT routing_status_t
routing_options_set_rules_file(routing_options_t* options, const char* path);

/* (1.2) Limits of the rules the engine compiles (at creation and on every
 * reload): the time one evaluation may take (budget_us, default 2000), and
 * the circuit breaker: more than breaker_failures failed evaluations
 * (errors or overruns) within breaker_window_ms suspend the rules version
 * in force (defaults 20 and 10000; breaker_failures 0 turns it off). A
 * suspended version is never entered again: decisions use the built-in
 * policy and say so (routing_decision_rules_suspended) until the next
 * reload. INVALID_ARGUMENT for a budget outside 1 us..10 s, negative
 * failures or a window outside 1 ms..1 day. */
ROUTING_EXPORT routing_status_t routing_options_set_rules_limits(
    routing_options_t* options, int64_t budget_us, int breaker_failures,
    int64_t breaker_window_ms);

/* (1.4) Reservations. With an offer timeout above zero on a channel, every
 * assignment on that channel is first an offer: the agent's capacity is
 * held for the contact (routing_decision_offered, or the assignment
 * callback's decision, says so, with the deadline), and the host either
 * accepts it (routing_engine_accept_offer: the contact is assigned from
 * then) or rejects it (routing_engine_reject_offer). A rejected offer, or
 * one not accepted by its deadline, returns the contact to its queue in the
 * place it had (its enqueue time and priority), never to be offered to that
 * agent again, and puts the agent, if it is still available, in the missed
 * offer state. The engine runs no timers: deadlines are noticed by
 * routing_engine_advance_queues, which a host with reservations calls at
 * least as often as it wants offers to lapse on time (every 100 ms to 1 s),
 * and which tells each lapsed offer to the offer expired callback.
 *
 * timeout_ms: 0 (the default: assignments are final at once) to 3600000
 * (1 h); INVALID_ARGUMENT naming the channel and the value otherwise. */
#define ROUTING_MAX_OFFER_TIMEOUT_MS 3600000
ROUTING_EXPORT routing_status_t routing_options_set_offer_timeout(
    routing_options_t* options, routing_channel_t channel, int64_t timeout_ms);
/* (1.4) The state an agent who rejected or missed an offer is put in, if it
 * is still available (default ROUTING_AGENT_BREAK; ROUTING_AGENT_AVAILABLE
 * leaves it as it is). */
ROUTING_EXPORT routing_status_t routing_options_set_missed_offer_state(
    routing_options_t* options, routing_agent_state_t state);

/* (1.4) Receives each offer that lapsed (was neither accepted nor rejected
 * by its deadline). The contact is already back in its queue; the offer
 * and every string read from it are valid only until the callback returns.
 * The contract is the assignment callback's (above), with these
 * differences:
 *
 * Thread. It runs on the thread calling routing_engine_advance_queues,
 * which ends lapsed offers before anything else it does, before that call
 * returns.
 *
 * Order. It comes before any new offer of the same contact (to another
 * agent) reaches the assignment callback: the lapse is told first, then
 * the new assignment, both on this thread.
 *
 * What it may call, ordering with cancel, duration, no throw or longjmp:
 * as for the assignment callback. A routing_engine_accept_offer of the
 * lapsed offer made from here is refused (FAILED_PRECONDITION: the
 * contact is no longer offered to that agent). */
typedef void (*routing_offer_expired_fn)(void* user_data,
                                         const routing_expired_offer_t* offer);
/* (1.4) callback may be NULL (no callback; offers still lapse). user_data
 * is passed through untouched and must stay valid until the engine is
 * destroyed. */
ROUTING_EXPORT routing_status_t routing_options_set_offer_expired_callback(
    routing_options_t* options, routing_offer_expired_fn callback,
    void* user_data);

/* ------------------------------------------------------------------------ */
/* Scoring policy (routing/routing_policy.h).                              */

typedef int routing_score_component_t;
enum {
  ROUTING_SCORE_SKILL = 0,
  ROUTING_SCORE_AFFINITY = 1,
  ROUTING_SCORE_LANGUAGE = 2,
  ROUTING_SCORE_LOAD = 3,
  ROUTING_SCORE_OCCUPANCY = 4,
  ROUTING_SCORE_IDLE = 5
};

typedef int routing_policy_duration_t;
enum {
  ROUTING_POLICY_PRIORITY_STEP = 0,          /* Default 30 s. */
  ROUTING_POLICY_IDLE_SATURATION = 1,        /* Default 5 min. */
  ROUTING_POLICY_AFFINITY_HALF_LIFE = 2,     /* Default 7 days. */
  ROUTING_POLICY_DEFAULT_HANDLE_TIME = 3,    /* Default 3 min. */
  ROUTING_POLICY_SERVICE_LEVEL_THRESHOLD = 4 /* Default 20 s. */
};

typedef int routing_policy_affinity_t;
enum {
  ROUTING_AFFINITY_PREFERRED_AGENT = 0, /* Default 1.0. */
  ROUTING_AFFINITY_RESOLVED = 1,        /* Default 0.8. */
  ROUTING_AFFINITY_SERVED = 2           /* Default 0.5. */
};

/* A new policy with the built-in defaults. Values are checked when the
 * policy is used (engine create, routing_engine_set_policy), naming the
 * field. Free with routing_policy_destroy. */
ROUTING_EXPORT routing_status_t
routing_policy_create(routing_policy_t** policy_out);
ROUTING_EXPORT void routing_policy_destroy(routing_policy_t* policy);
ROUTING_EXPORT routing_status_t
routing_policy_set_name(routing_policy_t* policy, const char* name);
ROUTING_EXPORT routing_status_t
routing_policy_set_weight(routing_policy_t* policy,
                          routing_score_component_t component, double weight);
ROUTING_EXPORT routing_status_t routing_policy_set_duration(
    routing_policy_t* policy, routing_policy_duration_t which,
    int64_t milliseconds);
ROUTING_EXPORT routing_status_t routing_policy_set_affinity(
    routing_policy_t* policy, routing_policy_affinity_t which, double value);

/* ------------------------------------------------------------------------ */
/* Agent profiles (routing/agent.h): build, then add or update.            */

typedef struct routing_agent_t routing_agent_t;

/* A profile with no skills, languages or capacity. Free with
 * routing_agent_destroy. */
ROUTING_EXPORT routing_status_t
routing_agent_create(const char* agent_id, routing_agent_t** agent_out);
ROUTING_EXPORT void routing_agent_destroy(routing_agent_t* agent);
/* level 1..max_skill_level, checked when the agent is added. */
ROUTING_EXPORT routing_status_t routing_agent_add_skill(routing_agent_t* agent,
                                                        const char* skill,
                                                        int level);
/* Any tag used consistently ("en", "es-MX"); fluency 1..max_fluency. */
ROUTING_EXPORT routing_status_t routing_agent_add_language(
    routing_agent_t* agent, const char* language, int fluency);
/* Contacts of that channel held at once: 0 (the default, none) to 63;
 * anything else is ROUTING_INVALID_ARGUMENT here, at once. */
ROUTING_EXPORT routing_status_t routing_agent_set_capacity(
    routing_agent_t* agent, routing_channel_t channel, int contacts);
/* Cap over all channels together; 0 means no cap beyond the channels'.
 * Negative values, and more than all channels can hold (6 x 63), are
 * ROUTING_INVALID_ARGUMENT here; a cap above this agent's own channels' sum
 * is refused when the agent is added or updated. */
ROUTING_EXPORT routing_status_t
routing_agent_set_max_total_contacts(routing_agent_t* agent, int contacts);
ROUTING_EXPORT routing_status_t routing_agent_set_team(routing_agent_t* agent,
                                                       const char* team);
ROUTING_EXPORT routing_status_t routing_agent_set_site(routing_agent_t* agent,
                                                       const char* site);
/* Sets or replaces one attribute. */
ROUTING_EXPORT routing_status_t routing_agent_set_attribute(
    routing_agent_t* agent, const char* key, const char* value);

/* ------------------------------------------------------------------------ */
/* Contacts (routing/contact.h): build, then route or requeue.             */

typedef struct routing_contact_t routing_contact_t;

/* A contact with no requirements, priority 0, enqueued "now". Free with
 * routing_contact_destroy. */
ROUTING_EXPORT routing_status_t
routing_contact_create(const char* contact_id, routing_channel_t channel,
                       routing_contact_t** contact_out);
ROUTING_EXPORT void routing_contact_destroy(routing_contact_t* contact);
/* Empty (the default): the first required skill, or "default". */
ROUTING_EXPORT routing_status_t
routing_contact_set_queue(routing_contact_t* contact, const char* queue);
ROUTING_EXPORT routing_status_t routing_contact_add_required_skill(
    routing_contact_t* contact, const char* skill, int min_level);
ROUTING_EXPORT routing_status_t routing_contact_add_desired_skill(
    routing_contact_t* contact, const char* skill, int min_level);
/* Languages the customer speaks, most preferred first. */
ROUTING_EXPORT routing_status_t
routing_contact_add_language(routing_contact_t* contact, const char* language);
/* 0 (normal) .. 9 (most urgent). */
ROUTING_EXPORT routing_status_t
routing_contact_set_priority(routing_contact_t* contact, int priority);
ROUTING_EXPORT routing_status_t routing_contact_set_customer_id(
    routing_contact_t* contact, const char* customer_id);
ROUTING_EXPORT routing_status_t routing_contact_add_preferred_agent(
    routing_contact_t* contact, const char* agent_id);
ROUTING_EXPORT routing_status_t routing_contact_add_excluded_agent(
    routing_contact_t* contact, const char* agent_id);
/* When the customer started waiting (e.g. entered the IVR). */
ROUTING_EXPORT routing_status_t
routing_contact_set_enqueue_time(routing_contact_t* contact, int64_t unix_ms);
/* Intent, tier, sentiment, summary...: returned with the assignment. */
ROUTING_EXPORT routing_status_t routing_contact_set_attribute(
    routing_contact_t* contact, const char* key, const char* value);
/* (1.1) The host's pointer for this call (its channel or session state),
 * never read by the engine: handed back by routing_decision_user_data and
 * routing_assignment_user_data, so a module needs no map from contact id to
 * call state. A requeue whose contact has none keeps the previous one. */
ROUTING_EXPORT routing_status_t
routing_contact_set_user_data(routing_contact_t* contact, void* user_data);

/* ------------------------------------------------------------------------ */
/* The engine.                                                              */

typedef struct routing_decision_t routing_decision_t;
typedef struct routing_agent_status_t routing_agent_status_t;
typedef struct routing_string_list_t routing_string_list_t;
typedef struct routing_history_t routing_history_t;
typedef struct routing_stats_t routing_stats_t;

/* options may be NULL (all defaults); it is copied and may be destroyed at
 * once. ROUTING_INVALID_ARGUMENT naming the option or policy field out of
 * range. Free with routing_engine_destroy. */
ROUTING_EXPORT routing_status_t routing_engine_create(
    const routing_options_t* options, routing_engine_t** engine_out);
/* Waits for calls in flight, then frees the engine (see "Destroy" above).
 * ROUTING_DESTROYED if already destroyed. */
ROUTING_EXPORT routing_status_t
routing_engine_destroy(routing_engine_t* engine);

/* Adds the agent, logged out. ROUTING_ALREADY_EXISTS if the id is present;
 * ROUTING_INVALID_ARGUMENT for a level, fluency or capacity out of range, no
 * capacity at all, or a skill or language listed twice. */
ROUTING_EXPORT routing_status_t routing_engine_add_agent(
    routing_engine_t* engine, const routing_agent_t* agent);
/* Replaces the profile; the agent keeps its state and load. NOT_FOUND if
 * absent. Raised capacity may assign queued contacts (callback) at once. */
ROUTING_EXPORT routing_status_t routing_engine_update_agent(
    routing_engine_t* engine, const routing_agent_t* agent);
/* FAILED_PRECONDITION while the agent holds contacts. */
ROUTING_EXPORT routing_status_t
routing_engine_remove_agent(routing_engine_t* engine, const char* agent_id);
/* Becoming available may assign queued contacts (callback) before this
 * returns. */
ROUTING_EXPORT routing_status_t
routing_engine_set_agent_state(routing_engine_t* engine, const char* agent_id,
                               routing_agent_state_t state);
/* A snapshot of one agent. Free with routing_agent_status_destroy. */
ROUTING_EXPORT routing_status_t
routing_engine_get_agent(routing_engine_t* engine, const char* agent_id,
                         routing_agent_status_t** status_out);
/* The ids of every agent on the roster. Free with
 * routing_string_list_destroy. */
ROUTING_EXPORT routing_status_t routing_engine_agent_ids(
    routing_engine_t* engine, routing_string_list_t** ids_out);

/* Decides for a new contact: the best free eligible agent, assigned now, or
 * a place in its queue (a later assignment reaches the callback).
 * ALREADY_EXISTS if the contact id is held; NOT_FOUND for a skill or
 * language no agent ever had; FAILED_PRECONDITION if no agent on the roster
 * could ever serve it; RESOURCE_EXHAUSTED when max_contacts are held. Free
 * the decision with routing_decision_destroy. */
ROUTING_EXPORT routing_status_t
routing_engine_route(routing_engine_t* engine, const routing_contact_t* contact,
                     routing_decision_t** decision_out);
/* Transfer (or an unanswered offer): takes the contact from its agent or
 * queue and routes it again with these requirements, keeping its id and
 * customer; the previous agent is excluded and recorded as transferred. */
ROUTING_EXPORT routing_status_t routing_engine_requeue(
    routing_engine_t* engine, const routing_contact_t* contact,
    routing_decision_t** decision_out);
/* The customer left: a queued contact leaves its queue, an assigned one
 * frees its agent. NOT_FOUND if not held. */
ROUTING_EXPORT routing_status_t routing_engine_cancel(routing_engine_t* engine,
                                                      const char* contact_id);
/* The agent finished: frees the capacity and records the outcome in the
 * customer's history. FAILED_PRECONDITION if the contact is still queued. */
ROUTING_EXPORT routing_status_t
routing_engine_release(routing_engine_t* engine, const char* contact_id,
                       routing_outcome_t outcome);
/* (1.3) Release with the post-contact survey's answers, counted in the
 * queue's and the agent's KPIs (routing_stats_queue_counter): csat 1..5 or
 * ROUTING_SURVEY_NOT_ANSWERED, nps 0..10 or ROUTING_SURVEY_NOT_ANSWERED.
 * INVALID_ARGUMENT naming the answer out of range, changing nothing. */
#define ROUTING_SURVEY_NOT_ANSWERED (-1)
ROUTING_EXPORT routing_status_t routing_engine_release_with_survey(
    routing_engine_t* engine, const char* contact_id,
    routing_outcome_t outcome, int csat, int nps);
/* Where a held contact is. agent_id_out may be NULL; otherwise it receives
 * the agent's id ("" when queued), owned by the caller (routing_free). */
ROUTING_EXPORT routing_status_t routing_engine_get_contact(
    routing_engine_t* engine, const char* contact_id,
    routing_contact_state_t* state_out, char** agent_id_out);
/* (1.4) The same, with the offer's deadline (0 unless the contact is
 * ROUTING_CONTACT_OFFERED) and the contact's placement (as
 * routing_decision_placement). Any out parameter may be NULL. */
ROUTING_EXPORT routing_status_t routing_engine_get_contact_details(
    routing_engine_t* engine, const char* contact_id,
    routing_contact_state_t* state_out, char** agent_id_out,
    int64_t* offer_expires_at_ms_out, uint64_t* placement_out);

/* (1.4) The agent accepts the offer of the contact: it is assigned from now
 * (handle time, and the queue's speed of answer, run to here). agent_id may
 * be NULL or "" (any agent); otherwise the offer must be to that agent.
 * Refusals change nothing: NOT_FOUND if the contact is not held;
 * FAILED_PRECONDITION if it is not offered (queued, already accepted) or is
 * offered to another agent; ABORTED if the offer ended (rejected, lapsed)
 * during the call; INVALID_ARGUMENT for an id that is not valid UTF-8 or
 * longer than 256 bytes (no agent or contact can have it). */
ROUTING_EXPORT routing_status_t routing_engine_accept_offer(
    routing_engine_t* engine, const char* contact_id, const char* agent_id);
/* (1.4) The agent turns the offer down: the contact returns to its queue in
 * the place it had, excluded from that agent, who goes to the missed offer
 * state if still available. It may be offered to another free agent at
 * once: decision_out receives the decision of that re-placement (queued,
 * or assigned and offered), freed with routing_decision_destroy. That new
 * offer is not told to the assignment callback (the caller asked): with
 * decision_out NULL the host learns of it only by asking
 * (routing_engine_get_contact_details). agent_id and refusals as
 * routing_engine_accept_offer. */
ROUTING_EXPORT routing_status_t routing_engine_reject_offer(
    routing_engine_t* engine, const char* contact_id, const char* agent_id,
    routing_decision_t** decision_out);

/* Swaps the policy atomically (it is copied); version_out (may be NULL)
 * receives the new version. INVALID_ARGUMENT naming a bad field. */
ROUTING_EXPORT routing_status_t routing_engine_set_policy(
    routing_engine_t* engine, const routing_policy_t* policy,
    uint64_t* version_out);
ROUTING_EXPORT routing_status_t
routing_engine_policy_version(routing_engine_t* engine, uint64_t* version_out);
/* The customer's remembered interactions, most recent first (possibly
 * none). Free with routing_history_destroy. */
ROUTING_EXPORT routing_status_t routing_engine_customer_history(
    routing_engine_t* engine, const char* customer_id,
    routing_history_t** history_out);
/* Counters and gauges. Free with routing_stats_destroy. */
ROUTING_EXPORT routing_status_t
routing_engine_stats(routing_engine_t* engine, routing_stats_t** stats_out);
/* Rules (docs/RULES.md). A reload compiles the file in fresh Lua states,
 * checks it and runs its tests, and only then swaps it in: decisions in
 * flight finish on the old version, later ones carry the new one. On refusal
 * the old rules keep serving; the status is INVALID_ARGUMENT (NOT_FOUND for
 * an unreadable file) and *problems_out (if problems_out is not NULL)
 * receives one "FILE:LINE: message" line per problem, owned by the caller
 * (routing_free); on success *problems_out is set to NULL and *version_out
 * (may be NULL) to the new rules version. */
ROUTING_EXPORT routing_status_t
routing_engine_reload_rules(routing_engine_t* engine, const char* path,
                            uint64_t* version_out, char** problems_out);
/* The same from Lua source text; `name` labels problems and decisions. */
ROUTING_EXPORT routing_status_t routing_engine_reload_rules_text(
    routing_engine_t* engine, const char* name, const char* source,
    uint64_t* version_out, char** problems_out);
/* (1.1) The same calls with the failure's message in *error_out (see
 * "Errors without thread-local state" above). */
ROUTING_EXPORT routing_status_t routing_engine_create_r(
    const routing_options_t* options, routing_engine_t** engine_out,
    char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_add_agent_r(
    routing_engine_t* engine, const routing_agent_t* agent, char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_update_agent_r(
    routing_engine_t* engine, const routing_agent_t* agent, char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_remove_agent_r(
    routing_engine_t* engine, const char* agent_id, char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_set_agent_state_r(
    routing_engine_t* engine, const char* agent_id,
    routing_agent_state_t state, char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_get_agent_r(
    routing_engine_t* engine, const char* agent_id,
    routing_agent_status_t** status_out, char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_route_r(
    routing_engine_t* engine, const routing_contact_t* contact,
    routing_decision_t** decision_out, char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_requeue_r(
    routing_engine_t* engine, const routing_contact_t* contact,
    routing_decision_t** decision_out, char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_cancel_r(
    routing_engine_t* engine, const char* contact_id, char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_release_r(
    routing_engine_t* engine, const char* contact_id,
    routing_outcome_t outcome, char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_release_with_survey_r(
    routing_engine_t* engine, const char* contact_id,
    routing_outcome_t outcome, int csat, int nps, char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_get_contact_r(
    routing_engine_t* engine, const char* contact_id,
    routing_contact_state_t* state_out, char** agent_id_out,
    char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_set_policy_r(
    routing_engine_t* engine, const routing_policy_t* policy,
    uint64_t* version_out, char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_customer_history_r(
    routing_engine_t* engine, const char* customer_id,
    routing_history_t** history_out, char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_stats_r(
    routing_engine_t* engine, routing_stats_t** stats_out, char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_reload_rules_r(
    routing_engine_t* engine, const char* path, uint64_t* version_out,
    char** problems_out, char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_reload_rules_text_r(
    routing_engine_t* engine, const char* name, const char* source,
    uint64_t* version_out, char** problems_out, char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_clear_rules_r(
    routing_engine_t* engine, uint64_t* version_out, char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_advance_queues_r(
    routing_engine_t* engine, int* moved_out, char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_set_time_r(
    routing_engine_t* engine, int64_t unix_ms, char** error_out);
/* (1.4) */
ROUTING_EXPORT routing_status_t routing_engine_get_contact_details_r(
    routing_engine_t* engine, const char* contact_id,
    routing_contact_state_t* state_out, char** agent_id_out,
    int64_t* offer_expires_at_ms_out, uint64_t* placement_out,
    char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_accept_offer_r(
    routing_engine_t* engine, const char* contact_id, const char* agent_id,
    char** error_out);
ROUTING_EXPORT routing_status_t routing_engine_reject_offer_r(
    routing_engine_t* engine, const char* contact_id, const char* agent_id,
    routing_decision_t** decision_out, char** error_out);

/* Back to the built-in policy alone (a new rules version with no rules). */
ROUTING_EXPORT routing_status_t
routing_engine_clear_rules(routing_engine_t* engine, uint64_t* version_out);
/* 0 until rules are first put in force. */
ROUTING_EXPORT routing_status_t
routing_engine_rules_version(routing_engine_t* engine, uint64_t* version_out);
/* Failures of the rules in force (each decided by the built-in policy
 * instead) and the latest one as "FILE:LINE: message" ("" if none), owned by
 * the caller (routing_free). last_error_out may be NULL. */
ROUTING_EXPORT routing_status_t
routing_engine_rules_errors(routing_engine_t* engine, int64_t* count_out,
                            char** last_error_out);
/* (1.2) The health of the rules in force: failed evaluations, of which
 * budget overruns, whether their circuit breaker has suspended them (1) or
 * not (0), and the latest failure as "FILE:LINE: message" ("" if none),
 * owned by the caller (routing_free). Any out pointer may be NULL. All zero
 * without rules. */
ROUTING_EXPORT routing_status_t routing_engine_rules_health(
    routing_engine_t* engine, int64_t* errors_out, int64_t* overruns_out,
    int* suspended_out, char** last_error_out);
ROUTING_EXPORT routing_status_t routing_engine_rules_health_r(
    routing_engine_t* engine, int64_t* errors_out, int64_t* overruns_out,
    int* suspended_out, char** last_error_out, char** error_out);
/* Moves queued contacts whose next rules step has fallen due (e.g. "after
 * 60 s, anyone at level 3+"). The engine runs no timers: call it every
 * 100 ms to 1 s from one of your threads. Assignments it makes arrive
 * through the assignment callback. moved_out (may be NULL) receives how
 * many contacts moved on. */
ROUTING_EXPORT routing_status_t
routing_engine_advance_queues(routing_engine_t* engine, int* moved_out);

/* Moves a manual clock (routing_options_set_manual_clock) to unix_ms;
 * FAILED_PRECONDITION on an engine using the wall clock. */
ROUTING_EXPORT routing_status_t
routing_engine_set_time(routing_engine_t* engine, int64_t unix_ms);

/* ------------------------------------------------------------------------ */
/* Decisions. Strings belong to the decision.                               */

/* NULL is ignored. No status. */
ROUTING_EXPORT void routing_decision_destroy(routing_decision_t* decision);
ROUTING_EXPORT routing_status_t routing_decision_contact_id(
    const routing_decision_t* decision, const char** contact_id_out);
ROUTING_EXPORT routing_status_t routing_decision_outcome(
    const routing_decision_t* decision, routing_decision_outcome_t* out);
ROUTING_EXPORT routing_status_t routing_decision_queue(
    const routing_decision_t* decision, const char** queue_out);
ROUTING_EXPORT routing_status_t routing_decision_channel(
    const routing_decision_t* decision, routing_channel_t* channel_out);
/* Assigned decisions: the agent ("" when queued), the total score, and how
 * many free agents passed every hard filter (0 when queued). */
ROUTING_EXPORT routing_status_t routing_decision_agent_id(
    const routing_decision_t* decision, const char** agent_id_out);
ROUTING_EXPORT routing_status_t
routing_decision_score(const routing_decision_t* decision, double* score_out);
ROUTING_EXPORT routing_status_t routing_decision_eligible_agents(
    const routing_decision_t* decision, int* count_out);
/* The score's components (0 when queued): name ("skill", "affinity",
 * "language", "load", "occupancy", "idle"), value 0..1, weight,
 * contribution = weight x value, and a readable detail. Any out parameter
 * of routing_decision_component may be NULL. OUT_OF_RANGE past the end. */
ROUTING_EXPORT routing_status_t routing_decision_component_count(
    const routing_decision_t* decision, size_t* count_out);
ROUTING_EXPORT routing_status_t routing_decision_component(
    const routing_decision_t* decision, size_t index, const char** name_out,
    double* value_out, double* weight_out, double* contribution_out,
    const char** detail_out);
/* Queued decisions: 1 = next to be served (0 when assigned), and the
 * estimated wait. */
ROUTING_EXPORT routing_status_t routing_decision_queue_position(
    const routing_decision_t* decision, int* position_out);
ROUTING_EXPORT routing_status_t routing_decision_estimated_wait_ms(
    const routing_decision_t* decision, int64_t* wait_ms_out);
/* Queued decisions: the agents qualified for the contact and where they
 * were. Any out parameter may be NULL. */
ROUTING_EXPORT routing_status_t routing_decision_qualified_agents(
    const routing_decision_t* decision, int* total_out, int* at_capacity_out,
    int* unavailable_out, int* logged_out_out);
/* The policy that made the decision, and when. */
ROUTING_EXPORT routing_status_t routing_decision_policy_version(
    const routing_decision_t* decision, uint64_t* version_out);
ROUTING_EXPORT routing_status_t routing_decision_policy_name(
    const routing_decision_t* decision, const char** name_out);
ROUTING_EXPORT routing_status_t routing_decision_decided_at_ms(
    const routing_decision_t* decision, int64_t* unix_ms_out);
/* The rules in force (0: none), the rules step the contact had reached, and
 * whether the rules failed on it (1: the built-in policy decided alone). */
ROUTING_EXPORT routing_status_t routing_decision_rules_version(
    const routing_decision_t* decision, uint64_t* version_out);
ROUTING_EXPORT routing_status_t routing_decision_rules_step(
    const routing_decision_t* decision, int* step_out);
ROUTING_EXPORT routing_status_t routing_decision_rules_fallback(
    const routing_decision_t* decision, int* fallback_out);
/* (1.2) 1 if the rules in force were suspended by their circuit breaker, so
 * the built-in policy decided without entering them (fallback is then 1). */
ROUTING_EXPORT routing_status_t routing_decision_rules_suspended(
    const routing_decision_t* decision, int* suspended_out);
/* (1.1) The routing attempt this decision belongs to: a new token for each
 * route and requeue (a rules step keeps it), never 0, unique in the
 * process. A queued contact's later assignment carries the same token. */
ROUTING_EXPORT routing_status_t routing_decision_token(
    const routing_decision_t* decision, uint64_t* token_out);
/* (1.1) The contact's user data (routing_contact_set_user_data); NULL if
 * none was given. */
ROUTING_EXPORT routing_status_t routing_decision_user_data(
    const routing_decision_t* decision, void** user_data_out);
/* (1.4) Reservations: 1 if the assignment is an offer the agent must accept
 * (routing_engine_accept_offer) before offer_expires_at (0 otherwise, and
 * when queued); the deadline, 0 unless offered. */
ROUTING_EXPORT routing_status_t routing_decision_offered(
    const routing_decision_t* decision, int* offered_out);
ROUTING_EXPORT routing_status_t routing_decision_offer_expires_at_ms(
    const routing_decision_t* decision, int64_t* unix_ms_out);
/* (1.4) The contact's placement: 0 for its first, raised each time it is
 * placed again (requeue, a rules step, a rejected or lapsed offer). What
 * happens to one contact is ordered by placement, then queued < offered <
 * assigned < ended: a host that hears of a contact from several threads
 * keeps the latest. */
ROUTING_EXPORT routing_status_t routing_decision_placement(
    const routing_decision_t* decision, uint64_t* placement_out);
/* A few lines a supervisor can read; owned by the caller (routing_free). */
ROUTING_EXPORT routing_status_t
routing_decision_explain(const routing_decision_t* decision, char** text_out);

/* ------------------------------------------------------------------------ */
/* Assignments of queued contacts, seen only inside the callback. Every    */
/* string and the decision are valid only until the callback returns.      */

ROUTING_EXPORT routing_status_t routing_assignment_contact_id(
    const routing_assignment_t* assignment, const char** contact_id_out);
ROUTING_EXPORT routing_status_t routing_assignment_customer_id(
    const routing_assignment_t* assignment, const char** customer_id_out);
ROUTING_EXPORT routing_status_t routing_assignment_agent_id(
    const routing_assignment_t* assignment, const char** agent_id_out);
ROUTING_EXPORT routing_status_t routing_assignment_queue(
    const routing_assignment_t* assignment, const char** queue_out);
ROUTING_EXPORT routing_status_t routing_assignment_channel(
    const routing_assignment_t* assignment, routing_channel_t* channel_out);
/* From enqueue time to assignment. */
ROUTING_EXPORT routing_status_t routing_assignment_waited_ms(
    const routing_assignment_t* assignment, int64_t* waited_ms_out);
/* The contact's attributes, in no particular order. */
ROUTING_EXPORT routing_status_t routing_assignment_attribute_count(
    const routing_assignment_t* assignment, size_t* count_out);
ROUTING_EXPORT routing_status_t routing_assignment_attribute(
    const routing_assignment_t* assignment, size_t index, const char** key_out,
    const char** value_out);
/* (1.1) The token of the routing attempt assigned: the one the queued
 * decision of routing_engine_route (or _requeue) returned for it. */
ROUTING_EXPORT routing_status_t routing_assignment_token(
    const routing_assignment_t* assignment, uint64_t* token_out);
/* (1.1) The user data given with the contact (NULL if none). */
ROUTING_EXPORT routing_status_t routing_assignment_user_data(
    const routing_assignment_t* assignment, void** user_data_out);
/* The score and explanation, as for an immediate assignment. Do not
 * destroy it. (1.4) routing_decision_offered on it says whether the
 * assignment is an offer. */
ROUTING_EXPORT routing_status_t
routing_assignment_decision(const routing_assignment_t* assignment,
                            const routing_decision_t** decision_out);
/* (1.4) The placement assigned (routing_decision_placement). */
ROUTING_EXPORT routing_status_t routing_assignment_placement(
    const routing_assignment_t* assignment, uint64_t* placement_out);

/* ------------------------------------------------------------------------ */
/* (1.4) Lapsed offers, seen only inside the offer expired callback. Every  */
/* string is valid only until the callback returns.                         */

ROUTING_EXPORT routing_status_t routing_expired_offer_contact_id(
    const routing_expired_offer_t* offer, const char** contact_id_out);
ROUTING_EXPORT routing_status_t routing_expired_offer_customer_id(
    const routing_expired_offer_t* offer, const char** customer_id_out);
ROUTING_EXPORT routing_status_t routing_expired_offer_agent_id(
    const routing_expired_offer_t* offer, const char** agent_id_out);
/* The queue the contact is back in. */
ROUTING_EXPORT routing_status_t routing_expired_offer_queue(
    const routing_expired_offer_t* offer, const char** queue_out);
ROUTING_EXPORT routing_status_t routing_expired_offer_channel(
    const routing_expired_offer_t* offer, routing_channel_t* channel_out);
/* The placement of the offer that lapsed (a new offer of the contact has a
 * higher one). */
ROUTING_EXPORT routing_status_t routing_expired_offer_placement(
    const routing_expired_offer_t* offer, uint64_t* placement_out);
/* The agent's state now: the missed offer state if it was available. */
ROUTING_EXPORT routing_status_t routing_expired_offer_agent_state(
    const routing_expired_offer_t* offer, routing_agent_state_t* state_out);
/* The user data given with the contact (NULL if none). */
ROUTING_EXPORT routing_status_t routing_expired_offer_user_data(
    const routing_expired_offer_t* offer, void** user_data_out);

/* ------------------------------------------------------------------------ */
/* Agent status snapshots. Strings belong to the snapshot.                  */

ROUTING_EXPORT void routing_agent_status_destroy(
    routing_agent_status_t* status);
ROUTING_EXPORT routing_status_t routing_agent_status_id(
    const routing_agent_status_t* status, const char** agent_id_out);
ROUTING_EXPORT routing_status_t routing_agent_status_state(
    const routing_agent_status_t* status, routing_agent_state_t* state_out);
/* Contacts held now on the channel, and the channel's capacity. */
ROUTING_EXPORT routing_status_t routing_agent_status_load(
    const routing_agent_status_t* status, routing_channel_t channel,
    int* load_out, int* capacity_out);
/* Handling time / logged-in time, 0..1. */
ROUTING_EXPORT routing_status_t routing_agent_status_occupancy(
    const routing_agent_status_t* status, double* occupancy_out);
ROUTING_EXPORT routing_status_t routing_agent_status_contacts_handled(
    const routing_agent_status_t* status, int64_t* count_out);
/* When the state was last set, and when the agent last became free. */
ROUTING_EXPORT routing_status_t routing_agent_status_state_since_ms(
    const routing_agent_status_t* status, int64_t* unix_ms_out);
ROUTING_EXPORT routing_status_t routing_agent_status_idle_since_ms(
    const routing_agent_status_t* status, int64_t* unix_ms_out);
ROUTING_EXPORT routing_status_t routing_agent_status_skill_count(
    const routing_agent_status_t* status, size_t* count_out);
ROUTING_EXPORT routing_status_t
routing_agent_status_skill(const routing_agent_status_t* status, size_t index,
                           const char** skill_out, int* level_out);

ROUTING_EXPORT routing_status_t routing_agent_status_language_count(
    const routing_agent_status_t* status, size_t* count_out);
ROUTING_EXPORT routing_status_t routing_agent_status_language(
    const routing_agent_status_t* status, size_t index,
    const char** language_out, int* fluency_out);
ROUTING_EXPORT routing_status_t routing_agent_status_team(
    const routing_agent_status_t* status, const char** team_out);
ROUTING_EXPORT routing_status_t routing_agent_status_site(
    const routing_agent_status_t* status, const char** site_out);
ROUTING_EXPORT routing_status_t routing_agent_status_max_total_contacts(
    const routing_agent_status_t* status, int* contacts_out);

/* ------------------------------------------------------------------------ */
/* String lists. Strings belong to the list.                                */

ROUTING_EXPORT void routing_string_list_destroy(routing_string_list_t* list);
ROUTING_EXPORT routing_status_t
routing_string_list_count(const routing_string_list_t* list, size_t* count_out);
ROUTING_EXPORT routing_status_t routing_string_list_get(
    const routing_string_list_t* list, size_t index, const char** string_out);

/* ------------------------------------------------------------------------ */
/* Customer history, most recent first. Strings belong to the history.      */

ROUTING_EXPORT void routing_history_destroy(routing_history_t* history);
ROUTING_EXPORT routing_status_t
routing_history_count(const routing_history_t* history, size_t* count_out);
/* Any out parameter may be NULL. */
ROUTING_EXPORT routing_status_t routing_history_entry(
    const routing_history_t* history, size_t index, const char** agent_id_out,
    routing_channel_t* channel_out, routing_outcome_t* outcome_out,
    int64_t* released_at_unix_ms_out);

/* ------------------------------------------------------------------------ */
/* Statistics (routing/router_stats.h). Strings belong to the stats.        */

typedef int routing_stats_counter_t;
enum {
  ROUTING_STATS_POLICY_VERSION = 0,
  ROUTING_STATS_DECISIONS = 1, /* Route and requeue calls that succeeded. */
  ROUTING_STATS_ASSIGNED_IMMEDIATELY = 2,
  ROUTING_STATS_QUEUED = 3,
  ROUTING_STATS_ASSIGNED_FROM_QUEUE = 4,
  ROUTING_STATS_CANCELLED = 5,
  ROUTING_STATS_RELEASED = 6,
  ROUTING_STATS_CONTACTS_HELD = 7, /* Queued, offered or assigned now. */
  ROUTING_STATS_AGENTS = 8,
  ROUTING_STATS_RULES_VERSION = 9,
  ROUTING_STATS_RULES_FALLBACKS = 10, /* Decisions the rules failed on. */
  /* (1.1) Assignments of queued contacts never told to the callback, because
   * a cancel, release or requeue of the contact came first. The callback
   * hears ASSIGNED_FROM_QUEUE - ASSIGNMENTS_UNTOLD assignments. */
  ROUTING_STATS_ASSIGNMENTS_UNTOLD = 11,
  /* (1.2) Decisions made while the rules were suspended by their breaker. */
  ROUTING_STATS_RULES_SUSPENDED_DECISIONS = 12,
  /* (1.4) Reservations: assignments made as offers, and how offers ended.
   * A library before 1.4 answers INVALID_ARGUMENT for these. */
  ROUTING_STATS_OFFERS = 13,
  ROUTING_STATS_OFFERS_ACCEPTED = 14,
  ROUTING_STATS_OFFERS_REJECTED = 15,
  ROUTING_STATS_OFFERS_EXPIRED = 16
};

typedef int routing_queue_counter_t;
enum {
  ROUTING_QUEUE_WAITING = 0,         /* Contacts queued now. */
  ROUTING_QUEUE_LONGEST_WAIT_MS = 1, /* Of those queued now. */
  ROUTING_QUEUE_ANSWERED = 2,
  ROUTING_QUEUE_ANSWERED_IN_SERVICE_LEVEL = 3,
  ROUTING_QUEUE_ABANDONED = 4, /* Cancelled while queued. */
  ROUTING_QUEUE_AVERAGE_SPEED_OF_ANSWER_MS = 5,
  ROUTING_QUEUE_AVERAGE_HANDLE_TIME_MS = 6,
  /* (1.3) Outcomes of the contacts released from the queue. A library
   * before 1.3 answers INVALID_ARGUMENT for these. */
  ROUTING_QUEUE_RELEASED = 7,
  ROUTING_QUEUE_RESOLVED = 8,
  /* Resolved with no earlier contact of the customer in the queue within
   * the first-contact-resolution window (7 days). */
  ROUTING_QUEUE_FIRST_CONTACT_RESOLVED = 9,
  ROUTING_QUEUE_TOTAL_HANDLE_TIME_MS = 10,
  ROUTING_QUEUE_CSAT_RESPONSES = 11,
  ROUTING_QUEUE_CSAT_SUM = 12, /* Of the 1..5 answers. */
  ROUTING_QUEUE_NPS_RESPONSES = 13,
  ROUTING_QUEUE_NPS_PROMOTERS = 14,  /* Answered 9 or 10. */
  ROUTING_QUEUE_NPS_DETRACTORS = 15  /* Answered 0..6. */
};

ROUTING_EXPORT void routing_stats_destroy(routing_stats_t* stats);
ROUTING_EXPORT routing_status_t
routing_stats_counter(const routing_stats_t* stats,
                      routing_stats_counter_t counter, int64_t* value_out);
ROUTING_EXPORT routing_status_t
routing_stats_agents_in_state(const routing_stats_t* stats,
                              routing_agent_state_t state, int64_t* count_out);
ROUTING_EXPORT routing_status_t
routing_stats_queue_count(const routing_stats_t* stats, size_t* count_out);
ROUTING_EXPORT routing_status_t routing_stats_queue_name(
    const routing_stats_t* stats, size_t index, const char** name_out);
ROUTING_EXPORT routing_status_t routing_stats_queue_counter(
    const routing_stats_t* stats, size_t index, routing_queue_counter_t counter,
    int64_t* value_out);
/* answered_in_service_level / (answered + abandoned); 1 when both are 0. */
ROUTING_EXPORT routing_status_t routing_stats_queue_service_level(
    const routing_stats_t* stats, size_t index, double* service_level_out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ROUTING_BINDINGS_C_ROUTING_H_ */
