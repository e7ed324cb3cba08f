// File: sidecar/http/operations_site.h
//
// routingd's HTTP endpoints (--http), on an OpsHttpServer:
//   GET /              the supervisor view: one self-contained page (HTML,
//                      CSS and JavaScript embedded in the binary; no CDN)
//   GET /events        Server-Sent Events: the snapshot below, one
//                      "data:" event at once and then every event_interval
//   GET /api/snapshot  the same JSON once (supervisor_snapshot.h)
//   GET /metrics       Prometheus text format (metrics_exposition.h)
// All read-only; with a bearer token configured every one needs it.
//
//   OperationsSiteOptions options;
//   options.server.address = *ParseHttpAddress(absl::GetFlag(FLAGS_http));
//   auto site = OperationsSite::Start(router, &rules_in_force, &metrics,
//                                     options);
//   if (!site.ok()) ... exit with site.status() ...
//   ... serve ...
//   (*site)->Stop();
//
// Snapshots are built at most once per half event_interval whatever the
// number of viewers (the streams share the latest), each one a Router::Stats,
// a GetAgent per agent and a walk of the first contacts_per_queue contacts of
// every queue; never on a decision's path.
// Thread-safety: Start and Stop from one thread; the router, rules and
// metrics must outlive the site.
#ifndef SIDECAR_HTTP_OPERATIONS_SITE_H_
#define SIDECAR_HTTP_OPERATIONS_SITE_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "routing/clock.h"
#include "routing/router.h"
#include "sidecar/http/ops_http_server.h"
#include "sidecar/http/queue_alarms.h"
#include "sidecar/http/supervisor_snapshot.h"
#include "sidecar/rules_reload.h"
#include "sidecar/sidecar_metrics.h"

namespace routing::sidecar::http {

struct OperationsSiteOptions {
  OpsHttpServerOptions server;
  AlarmThresholds thresholds;
  SnapshotOptions snapshot;
  // Waiting contacts listed per queue on the page.
  int contacts_per_queue = 50;
  // How often /events sends a snapshot. A snapshot sent is at most half of
  // this old, so the page is at most 1.5 intervals behind: 750 ms, within
  // the second a wall-board may lag.
  absl::Duration event_interval = absl::Milliseconds(500);
  const Clock* clock = nullptr;  // Null: SystemClock.
};

class OperationsSite {
 public:
  static absl::StatusOr<std::unique_ptr<OperationsSite>> Start(
      const Router* router, const RulesInForce* rules,
      const SidecarMetrics* metrics, OperationsSiteOptions options);
  ~OperationsSite();

  int port() const { return server_->port(); }
  void Stop();

 private:
  OperationsSite(const Router* router, const RulesInForce* rules,
                 const SidecarMetrics* metrics, OperationsSiteOptions options);
  std::string MetricsText() const;
  // The latest snapshot's JSON text, rebuilt if older than half an interval.
  std::shared_ptr<const std::string> SnapshotText();
  void StreamEvents(HttpStream& stream);

  const Router* router_;
  const RulesInForce* rules_;
  const SidecarMetrics* metrics_;
  const OperationsSiteOptions options_;
  const Clock* clock_;
  std::unique_ptr<OpsHttpServer> server_;
  std::mutex snapshot_mutex_;  // Guards the two below.
  std::shared_ptr<const std::string> snapshot_;
  absl::Time snapshot_at_ = absl::InfinitePast();
};

// The supervisor page (supervisor_page.html), embedded at build time.
extern const char kSupervisorPage[];

}  // namespace routing::sidecar::http

#endif  // SIDECAR_HTTP_OPERATIONS_SITE_H_
