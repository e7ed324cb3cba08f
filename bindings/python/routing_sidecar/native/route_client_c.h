/* File: bindings/python/routing_sidecar/native/route_client_c.h
 *
 * The per-call requests of a telephony glue (route, requeue, cancel,
 * release) to routingd, as a small C API over the C++ client
 * (sidecar/client.h, routing::sidecar::RoutingClient): the request is built
 * and the reply verified and read in C++, so a caller in Python (ctypes,
 * routing_sidecar/native_client.py) pays for one foreign call instead of
 * building and reading FlatBuffers in Python. Built as
 * librouting_sidecar_native.so, which exports the routing_sidecar_*
 * functions below and nothing else (route_client_c.lds).
 *
 *   routing_sidecar_error error;
 *   routing_sidecar_client* client =
 *       routing_sidecar_connect("tcp://127.0.0.1:5555", 5000, &error);
 *   if (client == NULL) { log(error.code, error.message); return; }
 *   const char* skill_names[] = {"billing"};
 *   const int32_t skill_levels[] = {1};
 *   const char* languages[] = {"en"};
 *   routing_sidecar_contact call = {0};
 *   call.id = "a84b4c76e66710";  call.channel = "voice";
 *   call.queue = "billing";
 *   call.required_skill_names = skill_names;
 *   call.required_skill_levels = skill_levels;
 *   call.required_skill_count = 1;
 *   call.languages = languages;  call.language_count = 1;
 *   routing_sidecar_decision decision;
 *   if (routing_sidecar_route(client, &call, &decision, &error) ==
 *       ROUTING_SIDECAR_OK && decision.assigned) ring(decision.agent_id);
 *   routing_sidecar_release(client, "a84b4c76e66710", "resolved",
 *                           ROUTING_SIDECAR_NO_ANSWER,
 *                           ROUTING_SIDECAR_NO_ANSWER, &error);
 *   routing_sidecar_close(client);
 *
 * Errors: every call returns ROUTING_SIDECAR_OK, ROUTING_SIDECAR_REFUSED
 * (nothing was sent: an argument is NULL, too long, too many or an unknown
 * name; code "InvalidArgument", the message names the argument) or
 * ROUTING_SIDECAR_FAILED (routingd answered with an error: code is the
 * protocol's ErrorCode name, e.g. "NotFound", "AlreadyExists", "Busy",
 * "InvalidArgument"; or it did not answer within the timeout:
 * "DeadlineExceeded"; or the client itself failed: "DataLoss" for a reply
 * that fails verification, "Internal"). The code and message go into the
 * caller's routing_sidecar_error, when one is given (NULL: not reported);
 * on success both are "". No call throws or aborts across this boundary; an
 * allocation failure is FAILED with "ResourceExhausted".
 *
 * Ownership: the caller owns every struct and string it passes; none is
 * kept after the call returns. routing_sidecar_close frees the client.
 *
 * Thread-safety: a client (one ZeroMQ DEALER socket) belongs to one thread
 * at a time: open one per thread, or per process after a fork (a Kamailio
 * child opens its own). Different clients may be used concurrently. A call
 * blocks its thread for at most the client's timeout.
 *
 * Requests after a timeout: the daemon may still execute a request whose
 * reply came too late; the late reply is skipped by request id, as in
 * sidecar/client.h. A glue that gave up on a route should cancel it.
 */
#ifndef BINDINGS_PYTHON_ROUTING_SIDECAR_NATIVE_ROUTE_CLIENT_C_H_
#define BINDINGS_PYTHON_ROUTING_SIDECAR_NATIVE_ROUTE_CLIENT_C_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque: one connection to routingd. */
typedef struct routing_sidecar_client routing_sidecar_client;

/* Return values of every call but connect and close. */
#define ROUTING_SIDECAR_OK 0
#define ROUTING_SIDECAR_REFUSED 1
#define ROUTING_SIDECAR_FAILED 2

/* Buffer sizes, NUL included. Ids are at most 128 bytes and queue names 64
 * in the protocol (sidecar/request_decoder.h, kMaxIdBytes, kMaxNameBytes);
 * a longer error message is cut at ROUTING_SIDECAR_MESSAGE_BYTES - 1. */
#define ROUTING_SIDECAR_CODE_BYTES 32
#define ROUTING_SIDECAR_MESSAGE_BYTES 1024
#define ROUTING_SIDECAR_ID_BYTES 129
#define ROUTING_SIDECAR_NAME_BYTES 65

typedef struct routing_sidecar_error {
  char code[ROUTING_SIDECAR_CODE_BYTES];       /* "" on success */
  char message[ROUTING_SIDECAR_MESSAGE_BYTES]; /* names the offending value */
} routing_sidecar_error;

/* A contact to route: a SIP call, a chat. Strings are NUL-terminated UTF-8.
 * Limits, refused before anything is sent: id and customer_id at most 128
 * bytes, queue, skill names and language tags at most 64, at most 16 skills
 * of each kind and 8 languages. */
typedef struct routing_sidecar_contact {
  const char* id;      /* Required: the call's id (SIP Call-ID). */
  const char* channel; /* "voice", "chat", "email", "messaging", "callback",
                          "video". Required. */
  const char* queue;   /* NULL or "": the first required skill's name. */
  /* Hard requirements: parallel arrays of required_skill_count entries
   * (both may be NULL when the count is 0). */
  const char* const* required_skill_names;
  const int32_t* required_skill_levels;
  size_t required_skill_count;
  /* Soft ones, scored: the same shape. */
  const char* const* desired_skill_names;
  const int32_t* desired_skill_levels;
  size_t desired_skill_count;
  /* The customer's languages, most preferred first. */
  const char* const* languages;
  size_t language_count;
  const char* customer_id; /* NULL or "": none. */
  int32_t priority;        /* 0..9; routingd refuses others. */
} routing_sidecar_contact;

/* What routingd decided (its Decision, the fields a glue acts on). */
typedef struct routing_sidecar_decision {
  int32_t assigned; /* 1: assigned to agent_id; 0: queued. */
  char agent_id[ROUTING_SIDECAR_ID_BYTES];  /* Assigned only; else "". */
  char queue[ROUTING_SIDECAR_NAME_BYTES];   /* The queue it counts under. */
  char channel[ROUTING_SIDECAR_NAME_BYTES]; /* "voice", ... */
  double score;                             /* Assigned only. */
  int32_t eligible_agents;
  int32_t queue_position;    /* Queued only: 1 = next to be served. */
  int64_t estimated_wait_ms; /* Queued only. */
  uint64_t policy_version;
  uint64_t rules_version; /* 0: no rules. */
  int32_t rules_step;
  int32_t rules_fallback;  /* 1: the rules failed, the built-in decided. */
  int32_t rules_suspended; /* 1: the rules in force are suspended. */
  int32_t offered;         /* 1: an offer the agent must accept. */
} routing_sidecar_decision;

/* Connects to routingd's request socket (tcp:// or ipc://). ZeroMQ connects
 * in the background: a daemon that is not there yet shows as a call that
 * times out. timeout_ms: how long each call waits for its reply,
 * 1..3600000. Returns NULL (error filled, code "InvalidArgument") for a
 * NULL or malformed endpoint or a timeout out of range. */
routing_sidecar_client* routing_sidecar_connect(const char* endpoint,
                                                int32_t timeout_ms,
                                                routing_sidecar_error* error);

/* Closes the connection (unsent requests are dropped) and frees the client.
 * NULL is ignored. */
void routing_sidecar_close(routing_sidecar_client* client);

/* RouteContact: a new contact. The decision is written on
 * ROUTING_SIDECAR_OK only. */
int routing_sidecar_route(routing_sidecar_client* client,
                          const routing_sidecar_contact* contact,
                          routing_sidecar_decision* decision,
                          routing_sidecar_error* error);

/* RequeueContact: a contact routingd holds, routed again (no answer from
 * the agent, a transfer to another skill or queue). */
int routing_sidecar_requeue(routing_sidecar_client* client,
                            const routing_sidecar_contact* contact,
                            routing_sidecar_decision* decision,
                            routing_sidecar_error* error);

/* CancelContact: the caller hung up before being served. */
int routing_sidecar_cancel(routing_sidecar_client* client,
                           const char* contact_id,
                           routing_sidecar_error* error);

/* csat or nps not given (release). */
#define ROUTING_SIDECAR_NO_ANSWER INT32_MIN

/* ReleaseContact: the agent finished. outcome: "unknown", "resolved",
 * "unresolved" or "transferred". csat (1..5) and nps (0..10) are the
 * post-contact survey's answers, ROUTING_SIDECAR_NO_ANSWER when not given;
 * routingd refuses others (InvalidArgument) and releases nothing. */
int routing_sidecar_release(routing_sidecar_client* client,
                            const char* contact_id, const char* outcome,
                            int32_t csat, int32_t nps,
                            routing_sidecar_error* error);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BINDINGS_PYTHON_ROUTING_SIDECAR_NATIVE_ROUTE_CLIENT_C_H_ */
