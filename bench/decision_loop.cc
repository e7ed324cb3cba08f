#include "bench/decision_loop.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace bench {

namespace {

using Clock = std::chrono::steady_clock;

// Contacts prepared before timing starts; ids are reused once released.
constexpr int kContactRing = 1024;
// Latencies kept per run (enough for the p99.9 of a 1 s run).
constexpr size_t kMaxSamples = 1 << 20;

struct Percentiles {
  double p50, p99, p999, max;
};

Percentiles Summarize(std::vector<int64_t>& nanos) {
  if (nanos.empty()) return {0, 0, 0, 0};
  std::sort(nanos.begin(), nanos.end());
  auto at = [&](double q) {
    const size_t i =
        std::min(nanos.size() - 1, static_cast<size_t>(q * (nanos.size() - 1)));
    return nanos[i] / 1000.0;
  };
  return {at(0.50), at(0.99), at(0.999), nanos.back() / 1000.0};
}

}  // namespace

std::unique_ptr<AgentPool> MakeDecisionPool(int agents,
                                            const routing::Clock* clock) {
  PoolShape shape;
  shape.agents = agents;
  auto pool = BuildAgentPool(shape, clock);
  if (!pool.ok()) {
    std::fprintf(stderr, "benchmark pool: %s\n",
                 pool.status().ToString().c_str());
    std::abort();
  }
  return std::move(*pool);
}

void MeasureDecisions(benchmark::State& state, AgentPool& pool) {
  std::vector<routing::Contact> contacts;
  for (int i = 0; i < kContactRing; ++i) contacts.push_back(pool.NextContact());
  std::vector<int64_t> latencies;
  latencies.reserve(kMaxSamples);
  int64_t assigned = 0, queued = 0;
  size_t next = 0;
  for (auto _ : state) {
    const routing::Contact& contact = contacts[next++ % kContactRing];
    const auto start = Clock::now();
    absl::StatusOr<routing::RoutingDecision> d = pool.router().Route(contact);
    const auto end = Clock::now();
    if (latencies.size() < kMaxSamples) {
      latencies.push_back(
          std::chrono::duration_cast<std::chrono::nanoseconds>(end - start)
              .count());
    }
    if (!d.ok()) {
      state.SkipWithError(d.status().ToString().c_str());
      break;
    }
    if (d->rules_fallback) {
      state.SkipWithError("the rules failed on a contact");
      break;
    }
    if (d->outcome == routing::DecisionOutcome::kAssigned) {
      ++assigned;
      (void)pool.router().Release(contact.id,
                                  routing::ContactOutcome::kResolved);
    } else {
      ++queued;
      (void)pool.router().Cancel(contact.id);
    }
  }
  const Percentiles p = Summarize(latencies);
  state.counters["p50_us"] = p.p50;
  state.counters["p99_us"] = p.p99;
  state.counters["p999_us"] = p.p999;
  state.counters["max_us"] = p.max;
  state.counters["assigned_share"] =
      assigned + queued == 0
          ? 0
          : static_cast<double>(assigned) / (assigned + queued);
}

}  // namespace bench
