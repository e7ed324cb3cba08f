// Retire-and-free throughput of small objects: EpochDomain::Retire (freed by
// the retiring thread itself, a batch every 64 retires) against urcu-memb's
// call_rcu (queued to liburcu's call_rcu worker thread, which waits for a grace
// period and frees in batches), on 1 and 2 threads.
//
// Each iteration allocates one object and retires it. The last iteration
// waits until what was retired is freed (Reclaim; urcu_memb_barrier), so the
// wall time covers the frees too. The CPU column is the whole process's
// (MeasureProcessCPUTime): it includes liburcu's worker, which does the frees
// on the other core.
#include <cstdint>

#include "bench/reclamation/memb_rcu.h"
#include "benchmark/benchmark.h"
#include "routing/internal/epoch.h"

namespace bench::reclamation {
namespace {

using routing::internal::EpochDomain;

// 32 bytes: a queue node's size. Both schemes retire the same type; the
// callback head is unused by the epoch's.
struct SmallObject : RcuRetirable {
  uint64_t payload[2] = {};
};

void BM_Retire_Epoch(benchmark::State& state) {
  static EpochDomain domain;
  benchmark::IterationCount retired = 0;
  for (auto _ : state) {
    domain.Retire(new SmallObject);
    if (++retired == state.max_iterations) domain.Reclaim();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Retire_Epoch)
    ->Threads(1)
    ->Threads(2)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

void BM_Retire_MembCallRcu(benchmark::State& state) {
  EnsureMembThread();
  benchmark::IterationCount retired = 0;
  for (auto _ : state) {
    RetireMemb(new SmallObject);
    if (++retired == state.max_iterations) urcu_memb_barrier();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Retire_MembCallRcu)
    ->Threads(1)
    ->Threads(2)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

}  // namespace
}  // namespace bench::reclamation
