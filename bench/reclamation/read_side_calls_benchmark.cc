// Read-side critical sections through liburcu's out-of-line functions: what
// code that is not LGPL-compatible gets (liburcu inlines its read-side fast
// paths only under _LGPL_SOURCE). Built without it; otherwise the same as the
// matching benchmarks of read_side_benchmark.cc.
#include <urcu/urcu-memb.h>
#include <urcu/urcu-qsbr.h>

#include <memory>

#include "bench/reclamation/memb_thread.h"
#include "bench/reclamation/read_side.h"
#include "benchmark/benchmark.h"

#ifdef _LGPL_SOURCE
#error "read_side_calls_benchmark.cc measures the out-of-line calls"
#endif

namespace bench::reclamation {
namespace {

void BM_ReadSide_MembCall(benchmark::State& state) {
  EnsureMembThread();
  std::unique_ptr<BackgroundUpdater> updater;
  if (state.thread_index() == 0) {
    updater = std::make_unique<BackgroundUpdater>(
        [] { urcu_memb_synchronize_rcu(); });
  }
  for (auto _ : state) {
    urcu_memb_read_lock();
    benchmark::DoNotOptimize(ReadPublished());
    urcu_memb_read_unlock();
  }
  updater.reset();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReadSide_MembCall)->Threads(1)->Threads(2)->UseRealTime();

void BM_ReadSide_QsbrCall_QsEvery1(benchmark::State& state) {
  urcu_qsbr_register_thread();
  std::unique_ptr<BackgroundUpdater> updater;
  if (state.thread_index() == 0) {
    updater = std::make_unique<BackgroundUpdater>(
        [] { urcu_qsbr_synchronize_rcu(); });
  }
  for (auto _ : state) {
    urcu_qsbr_read_lock();
    benchmark::DoNotOptimize(ReadPublished());
    urcu_qsbr_read_unlock();
    urcu_qsbr_quiescent_state();
  }
  // Offline before waiting for the updater, whose grace period waits for
  // every online thread.
  urcu_qsbr_thread_offline();
  updater.reset();
  urcu_qsbr_unregister_thread();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReadSide_QsbrCall_QsEvery1)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace bench::reclamation
