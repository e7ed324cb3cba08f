// File: tests/sidecar/http/ops_fixture.h
//
// A hand-made reading of a small contact center, for the exposition and
// snapshot tests: two queues (one in alarm), three agents, and a
// SidecarMetrics with requests, decisions and releases recorded.
#ifndef TESTS_SIDECAR_HTTP_OPS_FIXTURE_H_
#define TESTS_SIDECAR_HTTP_OPS_FIXTURE_H_

#include "routing/router.h"
#include "sidecar/http/ops_readings.h"
#include "sidecar/sidecar_metrics.h"

namespace routing::sidecar::http {

inline constexpr char kSecretAgentId[] = "agent-id-never-a-label";

// now = 2026-12-02 10:00:00 UTC.
absl::Time FixtureNow();
OpsReadings FixtureReadings();
// Contacts waiting in "billing" (two) and "sales \"vip\"" (one).
std::vector<QueuedContact> FixtureWaiting();
// Records into `metrics`: 3 RouteContact OK, 1 RouteContact NotFound, 1
// unreadable request; decisions of 30 us and 2 ms; one requeue; releases
// resolved x2 and transferred x1; one decision assigned from a queue.
void RecordFixtureMetrics(SidecarMetrics& metrics);

}  // namespace routing::sidecar::http

#endif  // TESTS_SIDECAR_HTTP_OPS_FIXTURE_H_
