// What routingd's operations endpoints cost (docs/OPERATIONS.md): the reads
// that /metrics and the supervisor view make on CivetWeb's threads, and the
// bookkeeping a worker does for them per decision.
//
// The center: N agents over 20 skills (one queue each), half of them
// available, 300 contacts held (about half waiting), surveys on the
// releases. N = 1,000 and 10,000.
//
// BM_RouterStats: Router::Stats() (counters, every queue's walk for its
//   oldest wait, each queue's agents by state: queues x agents).
// BM_OpsReading: ReadOps: Stats plus a GetAgent per agent.
// BM_MetricsText: the Prometheus text of one reading.
// BM_SupervisorSnapshot: QueuedContacts (50 per queue) and the snapshot's
//   JSON text for the page, from one reading.
// BM_RecordRoutingDecision: a worker's bookkeeping per Route: the decision
//   latency histogram and the recent-decisions ring.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "routing/clock.h"
#include "routing/router.h"
#include "sidecar/http/metrics_exposition.h"
#include "sidecar/http/ops_readings.h"
#include "sidecar/http/queue_alarms.h"
#include "sidecar/http/supervisor_snapshot.h"
#include "sidecar/sidecar_metrics.h"

namespace {

constexpr int kQueues = 20;
constexpr int kContactsHeld = 300;

struct Center {
  routing::ManualClock clock{absl::FromUnixSeconds(1'800'000'000)};
  std::unique_ptr<routing::Router> router;
  routing::sidecar::SidecarMetrics metrics;
};

std::unique_ptr<Center> BuildCenter(int agents) {
  auto center = std::make_unique<Center>();
  routing::RouterOptions options;
  options.clock = &center->clock;
  options.max_agents = agents;
  center->router = routing::Router::Create(options).value();
  routing::Router& router = *center->router;
  for (int i = 0; i < agents; ++i) {
    routing::AgentProfile agent;
    agent.id = absl::StrCat("agent-", i);
    agent.skills = {{absl::StrCat("skill-", i % kQueues), 1 + i % 5}};
    agent.languages = {{"en", 5}};
    agent.SetCapacity(routing::Channel::kVoice, 1);
    if (!router.AddAgent(agent).ok()) std::abort();
    if (i % 2 == 0 &&
        !router.SetAgentState(agent.id, routing::AgentState::kAvailable)
             .ok()) {
      std::abort();
    }
  }
  // Releases with surveys for the KPIs, then the contacts held now.
  for (int i = 0; i < 2 * kContactsHeld + kContactsHeld; ++i) {
    routing::Contact contact;
    contact.id = absl::StrCat("call-", i);
    contact.customer_id = absl::StrCat("cust-", i % 500);
    contact.required_skills = {{absl::StrCat("skill-", i % kQueues), 1}};
    contact.priority = i % 3;
    absl::StatusOr<routing::RoutingDecision> d = router.Route(contact);
    if (!d.ok()) std::abort();
    center->metrics.RecordRoutingDecision(*d, false, absl::Microseconds(3));
    center->clock.Advance(absl::Seconds(1));
    if (i < 2 * kContactsHeld &&
        d->outcome == routing::DecisionOutcome::kAssigned) {
      routing::ContactSurvey survey;
      survey.csat = 1 + i % 5;
      survey.nps = i % 11;
      if (!router.Release(contact.id, routing::ContactOutcome::kResolved,
                          survey)
               .ok()) {
        std::abort();
      }
    }
  }
  return center;
}

Center& CenterOf(int agents) {
  static std::unique_ptr<Center> small = BuildCenter(1'000);
  static std::unique_ptr<Center> large = BuildCenter(10'000);
  return agents <= 1'000 ? *small : *large;
}

routing::sidecar::http::OpsReadings Read(Center& center) {
  return routing::sidecar::http::ReadOps(*center.router,
                                         routing::sidecar::RulesHealth(),
                                         center.clock.Now());
}

void BM_RouterStats(benchmark::State& state) {
  Center& center = CenterOf(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(center.router->Stats());
  }
}
BENCHMARK(BM_RouterStats)->ArgName("agents")->Arg(1'000)->Arg(10'000)
    ->Unit(benchmark::kMillisecond);

void BM_OpsReading(benchmark::State& state) {
  Center& center = CenterOf(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(Read(center));
  }
}
BENCHMARK(BM_OpsReading)->ArgName("agents")->Arg(1'000)->Arg(10'000)
    ->Unit(benchmark::kMillisecond);

void BM_MetricsText(benchmark::State& state) {
  Center& center = CenterOf(static_cast<int>(state.range(0)));
  const routing::sidecar::http::OpsReadings readings = Read(center);
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = routing::sidecar::http::RoutingMetricsText(
        readings, center.metrics, routing::sidecar::http::AlarmThresholds());
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_MetricsText)->ArgName("agents")->Arg(1'000)->Arg(10'000)
    ->Unit(benchmark::kMillisecond);

void BM_SupervisorSnapshot(benchmark::State& state) {
  Center& center = CenterOf(static_cast<int>(state.range(0)));
  const routing::sidecar::http::OpsReadings readings = Read(center);
  size_t bytes = 0;
  for (auto _ : state) {
    const std::vector<routing::QueuedContact> waiting =
        center.router->QueuedContacts("", 50);
    const std::string text =
        routing::sidecar::http::SupervisorSnapshot(
            readings, waiting, center.metrics,
            routing::sidecar::http::AlarmThresholds(),
            routing::sidecar::http::SnapshotOptions())
            .dump();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_SupervisorSnapshot)->ArgName("agents")->Arg(1'000)->Arg(10'000)
    ->Unit(benchmark::kMillisecond);

void BM_RecordRoutingDecision(benchmark::State& state) {
  routing::sidecar::SidecarMetrics metrics;
  Center& center = CenterOf(1'000);
  routing::Contact contact;
  contact.id = "bench-call";
  contact.required_skills = {{"skill-0", 1}};
  const routing::RoutingDecision decision =
      center.router->Route(contact).value();
  if (!center.router->Cancel(contact.id).ok()) std::abort();
  for (auto _ : state) {
    metrics.RecordRoutingDecision(decision, false, absl::Microseconds(3));
  }
}
BENCHMARK(BM_RecordRoutingDecision);

}  // namespace
