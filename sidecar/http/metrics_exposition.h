// File: sidecar/http/metrics_exposition.h
//
// routingd's GET /metrics: every metric, in Prometheus' text format
// (prometheus_text.h), from one OpsReadings and the daemon's SidecarMetrics.
// Names follow Prometheus' rules: a routing_ prefix, _total on counters,
// base units (_seconds, _ratio). Labels are bounded sets only: queue,
// channel, agent state, outcome, request type, error code, window, alarm
// reason. Never an agent or contact id: those are on the supervisor view.
// sidecar/README.md ("Operations over HTTP") lists every metric.
//
//   std::string body = RoutingMetricsText(readings, metrics, thresholds);
//
// Thread-safety: a pure function of its arguments (SidecarMetrics is read
// with relaxed loads).
#ifndef SIDECAR_HTTP_METRICS_EXPOSITION_H_
#define SIDECAR_HTTP_METRICS_EXPOSITION_H_

#include <string>

#include "sidecar/http/ops_readings.h"
#include "sidecar/http/queue_alarms.h"
#include "sidecar/sidecar_metrics.h"

namespace routing::sidecar::http {

std::string RoutingMetricsText(const OpsReadings& readings,
                               const SidecarMetrics& metrics,
                               const AlarmThresholds& thresholds);

// The `window` label of QueueStats::recent[i]: "5m", "15m", "60m".
std::string WindowLabel(int window);
// The `type` label of a wire::RequestBody value ("RouteContact"; "unknown"
// for 0, a request whose type could not be read) and the `code` label of a
// wire::ErrorCode value ("OK" for 0, else "InvalidArgument", ...).
std::string RequestTypeLabel(int request_type);
std::string ErrorCodeLabel(int error_code);

}  // namespace routing::sidecar::http

#endif  // SIDECAR_HTTP_METRICS_EXPOSITION_H_
