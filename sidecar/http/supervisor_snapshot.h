// File: sidecar/http/supervisor_snapshot.h
//
// The supervisor view's data as JSON (nlohmann::json, never by string
// concatenation): what GET /api/snapshot returns and GET /events streams.
//
//   nlohmann::json snapshot = SupervisorSnapshot(
//       readings, router->QueuedContacts("", 50), metrics, thresholds, {});
//   std::string body = snapshot.dump();
//
// Shape (times in seconds unless named _unix_ms):
//   { "generated_at_unix_ms", "uptime_s",
//     "thresholds": { "service_level", "oldest_wait_s" },
//     "totals": { "decisions", "assigned_immediately", "queued",
//                 "assigned_from_queue", "cancelled", "released",
//                 "contacts_held", "agents", "requests", "busy_replies",
//                 "requeues" },
//     "rules": { "version", "name", "fallbacks", "suspended_decisions",
//                "errors", "overruns", "last_error", "suspended" },
//     "queues": [ { "name", "waiting", "oldest_wait_s", "answered",
//                   "abandoned", "service_level", "occupancy",
//                   "windows": [ { "minutes", "service_level", "asa_s",
//                                  "abandonment_rate", "answered",
//                                  "abandoned" } ],        // 5, 15, 60
//                   "agents_by_state": { "available": 2, ... },
//                   "kpis": { "released", "fcr", "aht_s", "csat",
//                             "csat_responses", "nps", "nps_responses" },
//                   "alarm": { "active", "reasons": [ "service_level" ] },
//                   "contacts": [ { "id", "channel", "wait_s", "priority",
//                                   "rules_step", "position" } ],
//                   "contacts_shown" } ],
//     "agents": [ { "id", "state", "time_in_state_s", "load": {"chat": 1},
//                   "capacity": {"chat": 2}, "occupancy",
//                   "contacts_handled", "kpis": {...} } ],
//     "agents_total",
//     "recent_decisions": [ { "at_unix_ms", "kind", "contact_id", "queue",
//                             "channel", "outcome", "agent_id", "score",
//                             "position", "waited_s", "rules_version",
//                             "rules_step", "rules_fallback",
//                             "explanation" } ],                // newest first
//     "decisions_dropped" }
// Agents beyond options.max_agents are counted in agents_total but not
// listed; contacts are those `waiting` holds (the caller's per-queue limit).
// Thread-safety: a pure function of its arguments.
#ifndef SIDECAR_HTTP_SUPERVISOR_SNAPSHOT_H_
#define SIDECAR_HTTP_SUPERVISOR_SNAPSHOT_H_

#include <vector>

#include "nlohmann/json.hpp"
#include "routing/router.h"
#include "sidecar/http/ops_readings.h"
#include "sidecar/http/queue_alarms.h"
#include "sidecar/sidecar_metrics.h"

namespace routing::sidecar::http {

struct SnapshotOptions {
  // Agents listed; a wall-board shows a few hundred at most.
  int max_agents = 500;
};

nlohmann::json SupervisorSnapshot(const OpsReadings& readings,
                                  const std::vector<QueuedContact>& waiting,
                                  const SidecarMetrics& metrics,
                                  const AlarmThresholds& thresholds,
                                  const SnapshotOptions& options);

}  // namespace routing::sidecar::http

#endif  // SIDECAR_HTTP_SUPERVISOR_SNAPSHOT_H_
