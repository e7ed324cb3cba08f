// Read-side critical sections: entering and leaving one with the router's
// EpochDomain, and with liburcu's urcu-memb and urcu-qsbr flavours (inline
// fast paths, _LGPL_SOURCE; read_side_calls_benchmark.cc has the out-of-line
// calls), on 1 and 2 threads, while a BackgroundUpdater runs a grace period of
// the same scheme every millisecond.
//
// clang-format off
// BM_ReadSide_Epoch        Pin() + unpin, including the thread's record lookup
// BM_ReadSide_MembInline   urcu_memb_read_lock/unlock; thread registered once
// BM_ReadSide_MembGuard    MembReadGuard: the same plus the registration check
//                          a library called from foreign threads needs
// BM_ReadSide_Qsbr*        read_lock/unlock are no-ops; the price is the
//                          quiescent state: after every section (QsEvery1:
//                          what a library must do at the end of each call),
//                          every kQsbrBatch sections (QsEvery64: only a thread
//                          that owns its loop can batch), or thread_online/
//                          offline around every section (OnlineOffline: what
//                          a library whose callers may block between calls
//                          must do)
// BM_ReadSide_*Nested      an inner section inside an outer one
// clang-format on
#include <urcu/urcu-memb.h>
#include <urcu/urcu-qsbr.h>

#include <memory>
#include <utility>

#include "bench/reclamation/memb_rcu.h"
#include "bench/reclamation/read_side.h"
#include "benchmark/benchmark.h"
#include "routing/internal/epoch.h"

namespace bench::reclamation {
namespace {

using routing::internal::EpochDomain;

// QsEvery64 reports a quiescent state once per this many sections: the batch
// EpochDomain uses for its collections, for an equal footing.
constexpr int kQsbrBatch = 64;

EpochDomain& ReadSideDomain() {
  static EpochDomain domain;
  return domain;
}

// Thread 0 alone starts the updater; the others get nullptr.
std::unique_ptr<BackgroundUpdater> StartUpdater(
    const benchmark::State& state, std::function<void()> grace_period) {
  if (state.thread_index() != 0) return nullptr;
  return std::make_unique<BackgroundUpdater>(std::move(grace_period));
}

std::function<void()> EpochGracePeriod() {
  // Reclaim() advances the epoch twice when nobody lags: one object retired
  // and freed per period, as a router's releases do.
  return [] {
    ReadSideDomain().Retire(new Payload);
    ReadSideDomain().Reclaim();
  };
}

void BM_ReadSide_Epoch(benchmark::State& state) {
  EpochDomain& domain = ReadSideDomain();
  auto updater = StartUpdater(state, EpochGracePeriod());
  for (auto _ : state) {
    auto guard = domain.Pin();
    benchmark::DoNotOptimize(ReadPublished());
  }
  updater.reset();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReadSide_Epoch)->Threads(1)->Threads(2)->UseRealTime();

void BM_ReadSide_MembInline(benchmark::State& state) {
  EnsureMembThread();
  auto updater = StartUpdater(state, [] { urcu_memb_synchronize_rcu(); });
  for (auto _ : state) {
    urcu_memb_read_lock();
    benchmark::DoNotOptimize(ReadPublished());
    urcu_memb_read_unlock();
  }
  updater.reset();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReadSide_MembInline)->Threads(1)->Threads(2)->UseRealTime();

void BM_ReadSide_MembGuard(benchmark::State& state) {
  auto updater = StartUpdater(state, [] { urcu_memb_synchronize_rcu(); });
  for (auto _ : state) {
    MembReadGuard guard;
    benchmark::DoNotOptimize(ReadPublished());
  }
  updater.reset();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReadSide_MembGuard)->Threads(1)->Threads(2)->UseRealTime();

// Registers for the benchmark's duration. Leaving goes offline before the
// updater is stopped: its grace period waits for every online thread.
template <typename Body>
void RunQsbr(benchmark::State& state, Body body) {
  urcu_qsbr_register_thread();
  auto updater = StartUpdater(state, [] { urcu_qsbr_synchronize_rcu(); });
  body();
  urcu_qsbr_thread_offline();
  updater.reset();
  urcu_qsbr_unregister_thread();
  state.SetItemsProcessed(state.iterations());
}

void BM_ReadSide_QsbrInline_QsEvery1(benchmark::State& state) {
  RunQsbr(state, [&] {
    for (auto _ : state) {
      urcu_qsbr_read_lock();
      benchmark::DoNotOptimize(ReadPublished());
      urcu_qsbr_read_unlock();
      urcu_qsbr_quiescent_state();
    }
  });
}
BENCHMARK(BM_ReadSide_QsbrInline_QsEvery1)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

void BM_ReadSide_QsbrInline_QsEvery64(benchmark::State& state) {
  RunQsbr(state, [&] {
    int sections = 0;
    for (auto _ : state) {
      urcu_qsbr_read_lock();
      benchmark::DoNotOptimize(ReadPublished());
      urcu_qsbr_read_unlock();
      if (++sections == kQsbrBatch) {
        sections = 0;
        urcu_qsbr_quiescent_state();
      }
    }
  });
}
BENCHMARK(BM_ReadSide_QsbrInline_QsEvery64)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

void BM_ReadSide_QsbrInline_OnlineOffline(benchmark::State& state) {
  RunQsbr(state, [&] {
    // Between calls the thread is offline: it may block in the host's code
    // without holding up grace periods.
    urcu_qsbr_thread_offline();
    for (auto _ : state) {
      urcu_qsbr_thread_online();
      urcu_qsbr_read_lock();
      benchmark::DoNotOptimize(ReadPublished());
      urcu_qsbr_read_unlock();
      urcu_qsbr_thread_offline();
    }
  });
}
BENCHMARK(BM_ReadSide_QsbrInline_OnlineOffline)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

// Nested pins (a listener callback that calls back into the router under the
// caller's pin). No updater: the outer section spans the whole run.
void BM_ReadSide_EpochNested(benchmark::State& state) {
  EpochDomain& domain = ReadSideDomain();
  auto outer = domain.Pin();
  for (auto _ : state) {
    auto inner = domain.Pin();
    benchmark::DoNotOptimize(ReadPublished());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReadSide_EpochNested)->UseRealTime();

void BM_ReadSide_MembNested(benchmark::State& state) {
  MembReadGuard outer;
  for (auto _ : state) {
    MembReadGuard inner;
    benchmark::DoNotOptimize(ReadPublished());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReadSide_MembNested)->UseRealTime();

}  // namespace
}  // namespace bench::reclamation
