#include "sidecar/http/operations_site.h"

#include <functional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sidecar/http/metrics_exposition.h"
#include "sidecar/http/ops_readings.h"
#include "sidecar/http/prometheus_text.h"

namespace routing::sidecar::http {
namespace {

// The page loads nothing from anywhere but routingd, and the browser enforces
// it; its one script and style sheet are inline. No framing (clickjacking).
constexpr char kPageSecurityPolicy[] =
    "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; img-src data:; connect-src 'self'; "
    "frame-ancestors 'none'\r\n";
// EventSource reconnects after this long when the stream drops.
constexpr char kRetry[] = "retry: 2000\n\n";

std::string Dump(const nlohmann::json& json) {
  // Queue names and ids come from clients: invalid UTF-8 is replaced rather
  // than thrown on.
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

OperationsSite::OperationsSite(const Router* router, const RulesInForce* rules,
                               const SidecarMetrics* metrics,
                               OperationsSiteOptions options)
    : router_(router),
      rules_(rules),
      metrics_(metrics),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock
                                       : SystemClock::Default()) {}

absl::StatusOr<std::unique_ptr<OperationsSite>> OperationsSite::Start(
    const Router* router, const RulesInForce* rules,
    const SidecarMetrics* metrics, OperationsSiteOptions options) {
  if (absl::Status s = ValidateAlarmThresholds(options.thresholds); !s.ok()) {
    return s;
  }
  if (options.event_interval <= absl::ZeroDuration() ||
      options.contacts_per_queue < 0) {
    return absl::InvalidArgumentError(
        "operations site: event_interval must be positive and "
        "contacts_per_queue not negative");
  }
  std::unique_ptr<OperationsSite> site(
      new OperationsSite(router, rules, metrics, std::move(options)));
  OperationsSite* self = site.get();
  auto page = [](std::string path, std::function<HttpResponse()> respond) {
    HttpRoute route;
    route.path = std::move(path);
    route.respond = std::move(respond);
    return route;
  };
  std::vector<HttpRoute> routes;
  routes.push_back(page("/", [] {
    return HttpResponse{200, "text/html; charset=utf-8", kSupervisorPage,
                        kPageSecurityPolicy};
  }));
  routes.push_back(page("/metrics", [self] {
    return HttpResponse{200, kPrometheusContentType, self->MetricsText(), ""};
  }));
  routes.push_back(page("/api/snapshot", [self] {
    return HttpResponse{200, "application/json", *self->SnapshotText(), ""};
  }));
  HttpRoute events;
  events.path = "/events";
  events.stream = [self](HttpStream& stream) { self->StreamEvents(stream); };
  routes.push_back(std::move(events));
  absl::StatusOr<std::unique_ptr<OpsHttpServer>> server =
      OpsHttpServer::Start(site->options_.server, std::move(routes));
  if (!server.ok()) return server.status();
  site->server_ = *std::move(server);
  return site;
}

OperationsSite::~OperationsSite() { Stop(); }

void OperationsSite::Stop() {
  if (server_ != nullptr) server_->Stop();
}

std::string OperationsSite::MetricsText() const {
  const OpsReadings readings =
      ReadOps(*router_, rules_->Health(), clock_->Now());
  return RoutingMetricsText(readings, *metrics_, options_.thresholds);
}

std::shared_ptr<const std::string> OperationsSite::SnapshotText() {
  std::lock_guard<std::mutex> lock(snapshot_mutex_);
  const absl::Time now = clock_->Now();
  if (snapshot_ != nullptr &&
      now - snapshot_at_ < options_.event_interval / 2) {
    return snapshot_;
  }
  const OpsReadings readings = ReadOps(*router_, rules_->Health(), now);
  const std::vector<QueuedContact> waiting =
      options_.contacts_per_queue == 0
          ? std::vector<QueuedContact>()
          : router_->QueuedContacts("", options_.contacts_per_queue);
  snapshot_ = std::make_shared<const std::string>(Dump(SupervisorSnapshot(
      readings, waiting, *metrics_, options_.thresholds, options_.snapshot)));
  snapshot_at_ = now;
  return snapshot_;
}

void OperationsSite::StreamEvents(HttpStream& stream) {
  if (!stream.Send(kRetry)) return;
  do {
    std::shared_ptr<const std::string> snapshot = SnapshotText();
    // The JSON is one line (dump without indent), so one data: line.
    if (!stream.Send(
            absl::StrCat("event: snapshot\ndata: ", *snapshot, "\n\n"))) {
      return;
    }
  } while (stream.Wait(options_.event_interval));
}

}  // namespace routing::sidecar::http
