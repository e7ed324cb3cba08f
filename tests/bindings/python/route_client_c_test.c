/* The C API of route_client_c.h from plain C, without a daemon: what it
 * refuses before sending (NULL, too long, too many, unknown names) with
 * ROUTING_SIDECAR_REFUSED and a message naming the argument, and a call
 * nobody answers, which fails with DeadlineExceeded after building and
 * sending the request. Runs under every sanitizer config (tools/test.sh);
 * the round trips against routingd are
 * //tests/bindings/python:native_client_test. */
#include "bindings/python/routing_sidecar/native/route_client_c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* The call returned REFUSED with InvalidArgument and a message containing
 * `named`. */
static void expect_refused(int result, const routing_sidecar_error* error,
                           const char* named) {
  CHECK(result == ROUTING_SIDECAR_REFUSED);
  CHECK(strcmp(error->code, "InvalidArgument") == 0);
  if (strstr(error->message, named) == NULL) {
    fprintf(stderr, "message '%s' does not name '%s'\n", error->message, named);
    ++failures;
  }
}

int main(void) {
  routing_sidecar_error error;
  routing_sidecar_decision decision;

  /* Connect: refused arguments. */
  CHECK(routing_sidecar_connect(NULL, 100, &error) == NULL);
  expect_refused(ROUTING_SIDECAR_REFUSED, &error, "endpoint is NULL");
  CHECK(routing_sidecar_connect("tcp://127.0.0.1:1", 0, &error) == NULL);
  expect_refused(ROUTING_SIDECAR_REFUSED, &error, "timeout_ms 0");
  CHECK(routing_sidecar_connect("tcp://127.0.0.1:1", 3600001, NULL) == NULL);
  CHECK(routing_sidecar_connect("no-transport", 100, &error) == NULL);
  expect_refused(ROUTING_SIDECAR_REFUSED, &error, "no-transport");
  {
    char* endpoint = malloc(2000);
    memset(endpoint, 'x', 1999);
    endpoint[1999] = '\0';
    CHECK(routing_sidecar_connect(endpoint, 100, &error) == NULL);
    expect_refused(ROUTING_SIDECAR_REFUSED, &error, "endpoint is longer");
    free(endpoint);
  }

  /* Nobody listens on port 1: ZeroMQ connects in the background. */
  routing_sidecar_client* client =
      routing_sidecar_connect("tcp://127.0.0.1:1", 50, &error);
  CHECK(client != NULL);
  CHECK(error.code[0] == '\0' && error.message[0] == '\0');

  const char* names[17];
  int32_t levels[17];
  char skill[17][8];
  for (int i = 0; i < 17; ++i) {
    snprintf(skill[i], sizeof(skill[i]), "s%d", i);
    names[i] = skill[i];
    levels[i] = 1;
  }
  const char* languages[9] = {"en", "en", "en", "en", "en",
                              "en", "en", "en", "en"};
  char long_id[200];
  memset(long_id, 'c', sizeof(long_id) - 1);
  long_id[sizeof(long_id) - 1] = '\0';

  routing_sidecar_contact contact;
  memset(&contact, 0, sizeof(contact));
  expect_refused(routing_sidecar_route(NULL, &contact, &decision, &error),
                 &error, "client is NULL");
  expect_refused(routing_sidecar_route(client, NULL, &decision, &error), &error,
                 "contact is NULL");
  expect_refused(routing_sidecar_route(client, &contact, NULL, &error), &error,
                 "decision is NULL");
  expect_refused(routing_sidecar_route(client, &contact, &decision, &error),
                 &error, "contact.id is NULL");
  contact.id = long_id;
  expect_refused(routing_sidecar_requeue(client, &contact, &decision, &error),
                 &error, "contact.id is longer than 128");
  contact.id = "call-1";
  expect_refused(routing_sidecar_route(client, &contact, &decision, &error),
                 &error, "contact.channel is NULL");
  contact.channel = "fax";
  expect_refused(routing_sidecar_route(client, &contact, &decision, &error),
                 &error, "unknown channel 'fax'");
  contact.channel = "voice";
  contact.queue = long_id;
  expect_refused(routing_sidecar_route(client, &contact, &decision, &error),
                 &error, "contact.queue is longer than 64");
  contact.queue = "billing";
  contact.required_skill_count = 17;
  contact.required_skill_names = names;
  contact.required_skill_levels = levels;
  expect_refused(routing_sidecar_route(client, &contact, &decision, &error),
                 &error, "contact.required_skill_count 17");
  contact.required_skill_count = 2;
  contact.required_skill_levels = NULL;
  expect_refused(routing_sidecar_route(client, &contact, &decision, &error),
                 &error, "contact.required_skill_levels is NULL");
  contact.required_skill_levels = levels;
  names[1] = NULL;
  expect_refused(routing_sidecar_route(client, &contact, &decision, &error),
                 &error, "contact.required_skill_names[1] is NULL");
  names[1] = skill[1];
  contact.desired_skill_count = 1;
  expect_refused(routing_sidecar_route(client, &contact, &decision, &error),
                 &error, "contact.desired_skill_names is NULL");
  contact.desired_skill_count = 0;
  contact.languages = languages;
  contact.language_count = 9;
  expect_refused(routing_sidecar_route(client, &contact, &decision, &error),
                 &error, "contact.language_count 9");
  contact.language_count = 1;
  contact.customer_id = long_id;
  expect_refused(routing_sidecar_route(client, &contact, &decision, &error),
                 &error, "contact.customer_id is longer");
  /* A NULL error buffer: refused all the same, nothing written. */
  CHECK(routing_sidecar_route(client, &contact, &decision, NULL) ==
        ROUTING_SIDECAR_REFUSED);
  contact.customer_id = "cust-1";

  expect_refused(routing_sidecar_cancel(client, NULL, &error), &error,
                 "contact_id is NULL");
  expect_refused(routing_sidecar_cancel(NULL, "call-1", &error), &error,
                 "client is NULL");
  expect_refused(routing_sidecar_release(client, "call-1", "happy",
                                         ROUTING_SIDECAR_NO_ANSWER,
                                         ROUTING_SIDECAR_NO_ANSWER, &error),
                 &error, "unknown outcome 'happy'");
  expect_refused(
      routing_sidecar_release(client, long_id, "resolved", 5, 9, &error),
      &error, "contact_id is longer");

  /* A valid request nobody answers: built, sent, timed out. */
  CHECK(routing_sidecar_route(client, &contact, &decision, &error) ==
        ROUTING_SIDECAR_FAILED);
  CHECK(strcmp(error.code, "DeadlineExceeded") == 0);
  CHECK(routing_sidecar_release(client, "call-1", "resolved", 5,
                                ROUTING_SIDECAR_NO_ANSWER,
                                &error) == ROUTING_SIDECAR_FAILED);
  CHECK(strcmp(error.code, "DeadlineExceeded") == 0);
  CHECK(routing_sidecar_cancel(client, "call-1", NULL) ==
        ROUTING_SIDECAR_FAILED);

  routing_sidecar_close(client);
  routing_sidecar_close(NULL);
  if (failures == 0) printf("route_client_c_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
