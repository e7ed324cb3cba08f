// File: bench/decision_loop.h
//
// The measurement every decision benchmark shares, so that the built-in
// policy, the Lua rules and the C API baseline are timed the same way: one
// Route() per iteration against a pool, then the contact is released (or
// cancelled if it queued) so the pool stays the same from one iteration to
// the next. The iteration time covers route + release; the counters p50_us,
// p99_us, p999_us and max_us are percentiles of Route() alone, timed call by
// call, and assigned_share the share of contacts assigned at once.
//
//   auto pool = bench::MakeDecisionPool(10'000, &clock);
//   pool->router().SetRules(rules);              // optional
//   bench::MeasureDecisions(state, *pool);
#ifndef BENCH_DECISION_LOOP_H_
#define BENCH_DECISION_LOOP_H_

#include <memory>

#include "bench/agent_pool.h"
#include "benchmark/benchmark.h"
#include "routing/clock.h"

namespace bench {

// The standard pool of the decision benchmarks (PoolShape's defaults with
// `agents` agents). Aborts with a message if it cannot be built.
std::unique_ptr<AgentPool> MakeDecisionPool(int agents,
                                            const routing::Clock* clock);

void MeasureDecisions(benchmark::State& state, AgentPool& pool);

}  // namespace bench

#endif  // BENCH_DECISION_LOOP_H_
