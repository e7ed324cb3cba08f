// File: sidecar/http/ops_readings.h
//
// One reading of everything the operations endpoints show, taken at once so
// that /metrics and the supervisor snapshot are built from the same numbers:
// the router's statistics, every agent's status, and the rules' health.
//
//   OpsReadings readings = ReadOps(*router, rules_in_force.Health(), now);
//   std::string text = RoutingMetricsText(readings, metrics, thresholds);
//
// Cost: Router::Stats plus one Router::GetAgent per agent (a copy of its
// profile), about 6 ms for 10,000 agents (docs/OPERATIONS.md); never on a
// decision's path (the router is lock-free, so decisions go on meanwhile).
// Thread-safety: ReadOps may run on any thread.
#ifndef SIDECAR_HTTP_OPS_READINGS_H_
#define SIDECAR_HTTP_OPS_READINGS_H_

#include <vector>

#include "absl/time/time.h"
#include "routing/agent.h"
#include "routing/router.h"
#include "routing/router_stats.h"
#include "sidecar/rules_reload.h"

namespace routing::sidecar::http {

struct OpsReadings {
  absl::Time now;
  RouterStats stats;
  std::vector<AgentStatus> agents;  // By id.
  RulesHealth rules;
};

OpsReadings ReadOps(const Router& router, RulesHealth rules, absl::Time now);

}  // namespace routing::sidecar::http

#endif  // SIDECAR_HTTP_OPS_READINGS_H_
