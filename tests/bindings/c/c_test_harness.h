/* File: tests/bindings/c/c_test_harness.h
 *
 * A tiny assertion harness for the plain-C tests of the C ABI: EXPECT
 * macros that record a failure and carry on, test cases run by RUN_TEST, and
 * a JUnit report written to $XML_OUTPUT_FILE (Bazel keeps it as test.xml, so
 * the suite summary counts each case as it does GoogleTest's). Failures may be
 * recorded from any thread.
 *
 *   static void test_route(void) { EXPECT_OK(routing_engine_route(...)); }
 *   int main(void) {
 *     RUN_TEST(test_route);
 *     return harness_finish("routing_c_test");
 *   }
 */
#ifndef ROUTING_TESTS_BINDINGS_C_C_TEST_HARNESS_H_
#define ROUTING_TESTS_BINDINGS_C_C_TEST_HARNESS_H_

#include <pthread.h>
#include <routing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kHarnessMaxCases = 64 };

static pthread_mutex_t harness_mutex = PTHREAD_MUTEX_INITIALIZER;
static int harness_failures;
static int harness_checks;
static struct {
  const char* name;
  int failures;
} harness_cases[kHarnessMaxCases];
static int harness_case_count;

static inline void harness_fail(const char* file, int line, const char* what) {
  pthread_mutex_lock(&harness_mutex);
  fprintf(stderr, "%s:%d: %s\n  (last error on this thread: \"%s\")\n", file,
          line, what, routing_last_error());
  ++harness_failures;
  pthread_mutex_unlock(&harness_mutex);
}

static inline void harness_count_check(void) {
  pthread_mutex_lock(&harness_mutex);
  ++harness_checks;
  pthread_mutex_unlock(&harness_mutex);
}

#define EXPECT(cond)                                                  \
  do {                                                                \
    harness_count_check();                                            \
    if (!(cond)) harness_fail(__FILE__, __LINE__, "expected " #cond); \
  } while (0)

#define EXPECT_STATUS(expected, call)                                        \
  do {                                                                       \
    routing_status_t status_ = (call);                                       \
    harness_count_check();                                                   \
    if (status_ != (expected)) {                                             \
      char what_[512];                                                       \
      snprintf(what_, sizeof what_, "%s\n  returned %s, expected %s", #call, \
               routing_status_name(status_), routing_status_name(expected)); \
      harness_fail(__FILE__, __LINE__, what_);                               \
    }                                                                        \
  } while (0)

#define EXPECT_OK(call) EXPECT_STATUS(ROUTING_OK, call)

/* The calling thread's last error names what was wrong. */
#define EXPECT_ERROR_MENTIONS(text)                                       \
  do {                                                                    \
    harness_count_check();                                                \
    if (strstr(routing_last_error(), (text)) == NULL) {                   \
      char what_[512];                                                    \
      snprintf(what_, sizeof what_, "last error does not mention \"%s\"", \
               (text));                                                   \
      harness_fail(__FILE__, __LINE__, what_);                            \
    }                                                                     \
  } while (0)

static inline void harness_run(const char* name, void (*test)(void)) {
  int before = harness_failures;
  test();
  int failed = harness_failures - before;
  if (harness_case_count < kHarnessMaxCases) {
    harness_cases[harness_case_count].name = name;
    harness_cases[harness_case_count].failures = failed;
    ++harness_case_count;
  }
  printf("[%s] %s\n", failed == 0 ? "  OK  " : "FAILED", name);
}

#define RUN_TEST(test) harness_run(#test, test)

/* Writes the JUnit report if Bazel asked for one; returns the exit code. */
static inline int harness_finish(const char* suite) {
  const char* path = getenv("XML_OUTPUT_FILE");
  if (path != NULL && path[0] != '\0') {
    FILE* xml = fopen(path, "w");
    if (xml != NULL) {
      fprintf(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
      fprintf(xml, "<testsuites><testsuite name=\"%s\">\n", suite);
      for (int i = 0; i < harness_case_count; ++i) {
        fprintf(xml, "<testcase classname=\"%s\" name=\"%s\">", suite,
                harness_cases[i].name);
        if (harness_cases[i].failures > 0) {
          fprintf(xml, "<failure message=\"%d failed checks (see the log)\"/>",
                  harness_cases[i].failures);
        }
        fprintf(xml, "</testcase>\n");
      }
      fprintf(xml, "</testsuite></testsuites>\n");
      fclose(xml);
    }
  }
  printf("%d checks, %d failed\n", harness_checks, harness_failures);
  return harness_failures == 0 ? 0 : 1;
}

#endif /* ROUTING_TESTS_BINDINGS_C_C_TEST_HARNESS_H_ */
