// What one routing decision costs, and how it grows with the agent pool.
//
//   bazel run --config=bench //bench:decision_benchmark --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   (one command line)
//
// BM_Decision: one Route() against a pool of N agents (10% available, 50
// skills, 3 per agent, one required per contact), then the contact is
// released (or cancelled if it queued) so the pool stays the same from one
// iteration to the next. The iteration time covers route + release; the
// counters p50_us / p99_us / p999_us are percentiles of Route() alone, timed
// call by call.
// BM_StateUpdate: agents flipping between available and busy (the presence
// updates a telephony platform sends all day), on 1 and 2 threads.
// BM_DecisionThreads: decisions from 1 and 2 threads on one shared pool.
// Both multi-threaded benchmarks report items_per_second (all threads) and
// per_thread_per_s (one thread's share).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/agent_pool.h"
#include "bench/decision_loop.h"
#include "benchmark/benchmark.h"
#include "routing/router.h"

namespace {

std::unique_ptr<bench::AgentPool> MakePool(int agents, routing::Clock* clock) {
  return bench::MakeDecisionPool(agents, clock);
}

void BM_Decision(benchmark::State& state) {
  routing::ManualClock clock(absl::FromUnixSeconds(1'800'000'000));
  auto pool = MakePool(static_cast<int>(state.range(0)), &clock);
  bench::MeasureDecisions(state, *pool);
}
BENCHMARK(BM_Decision)
    ->ArgName("agents")
    ->Arg(100)
    ->Arg(1'000)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Unit(benchmark::kMicrosecond);

// Shared by the threads of one multi-threaded run.
std::unique_ptr<bench::AgentPool> shared_pool;
routing::ManualClock shared_clock(absl::FromUnixSeconds(1'800'000'000));

void BM_StateUpdate(benchmark::State& state) {
  if (state.thread_index() == 0) shared_pool = MakePool(10'000, &shared_clock);
  std::mt19937 rng(7 + state.thread_index());
  std::vector<std::string> ids;
  bool toggle = false;
  for (auto _ : state) {
    if (ids.empty()) ids = shared_pool->agent_ids();
    const std::string& id = ids[rng() % ids.size()];
    toggle = !toggle;
    absl::Status s = shared_pool->router().SetAgentState(
        id,
        toggle ? routing::AgentState::kAvailable : routing::AgentState::kBusy);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
  // Throughput of one thread: how the work scales as threads are added.
  state.counters["per_thread_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()),
      benchmark::Counter::kAvgThreadsRate);
  if (state.thread_index() == 0) shared_pool.reset();
}
BENCHMARK(BM_StateUpdate)->Threads(1)->Threads(2)->UseRealTime();

// Contacts each thread cycles through; ids are reused once released.
constexpr int kThreadContacts = 1024;

void BM_DecisionThreads(benchmark::State& state) {
  if (state.thread_index() == 0) shared_pool = MakePool(10'000, &shared_clock);
  std::vector<routing::Contact> contacts;
  std::mt19937 rng(11 + state.thread_index());
  for (auto _ : state) {
    if (contacts.empty()) {
      // First iteration: the pool exists now (all threads passed the
      // start barrier after thread 0 built it).
      state.PauseTiming();
      for (int i = 0; i < kThreadContacts; ++i) {
        routing::Contact c =
            shared_pool->NextContactForThread(state.thread_index(), i);
        contacts.push_back(std::move(c));
      }
      state.ResumeTiming();
    }
    const routing::Contact& contact = contacts[rng() % contacts.size()];
    absl::StatusOr<routing::RoutingDecision> d =
        shared_pool->router().Route(contact);
    if (d.ok()) {
      if (d->outcome == routing::DecisionOutcome::kAssigned) {
        (void)shared_pool->router().Release(contact.id,
                                            routing::ContactOutcome::kResolved);
      } else {
        (void)shared_pool->router().Cancel(contact.id);
      }
    }
  }
  state.SetItemsProcessed(state.iterations());
  // Throughput of one thread: how the work scales as threads are added.
  state.counters["per_thread_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()),
      benchmark::Counter::kAvgThreadsRate);
  if (state.thread_index() == 0) shared_pool.reset();
}
BENCHMARK(BM_DecisionThreads)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

