#include "sidecar/http/ops_readings.h"

#include <algorithm>
#include <string>
#include <utility>

namespace routing::sidecar::http {

OpsReadings ReadOps(const Router& router, RulesHealth rules, absl::Time now) {
  OpsReadings readings;
  readings.now = now;
  readings.stats = router.Stats();
  std::vector<std::string> ids = router.AgentIds();
  std::sort(ids.begin(), ids.end());
  readings.agents.reserve(ids.size());
  for (const std::string& id : ids) {
    absl::StatusOr<AgentStatus> agent = router.GetAgent(id);
    // Removed since AgentIds: not an error, just gone.
    if (agent.ok()) readings.agents.push_back(*std::move(agent));
  }
  readings.rules = std::move(rules);
  return readings;
}

}  // namespace routing::sidecar::http
