// The contact map as the router uses it, at 1k, 100k and 1M live contacts, on
// 1 and 2 threads: routing::internal::ContactTable with EpochDomain against
// cds_lfht with urcu-memb (UrcuContactTable, MembReadGuard, RetireMemb),
// pre-sized like ContactTable (/presized) or grown by its own automatic
// resize from 1,024 buckets (/grown; at 1k live both start at 1,024 buckets,
// so only 100k and 1M are run).
//
// BM_ContactLifecycle_*  one contact's life, in three critical sections as in
//                        three router calls: insert a new record (Route),
//                        find it (GetContact), find, remove and retire it
//                        (Release). The table keeps `live` other contacts.
//                        The last iteration waits for the retired records to
//                        be freed; the CPU column is the whole process's
//                        (liburcu frees on its call_rcu thread).
// BM_DecisionLookups_*   the decision path's proxy: one critical section
//                        around three lookups of live contacts.
#include <urcu/urcu-memb.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/reclamation/contact_fixtures.h"
#include "bench/reclamation/memb_rcu.h"
#include "benchmark/benchmark.h"

namespace bench::reclamation {
namespace {

// Ids each thread cycles through for the contacts it creates and ends: above
// the live ids, and disjoint between threads. A power of two for the mask.
constexpr size_t kChurnIds = 4096;

// Lookups per decision in the proxy.
constexpr int kLookupsPerDecision = 3;

// Thread 0 of the epoch lifecycle samples the retired backlog once per this
// many iterations (a power of two for the mask).
constexpr benchmark::IterationCount kBacklogSampling = 4096;

std::vector<std::string> ChurnIds(size_t live, int thread) {
  std::vector<std::string> ids;
  ids.reserve(kChurnIds);
  for (size_t i = 0; i < kChurnIds; ++i) {
    ids.push_back(ContactId(live + thread * kChurnIds + i));
  }
  return ids;
}

// Picks live contacts uniformly: xorshift64* and a multiply-shift reduction,
// a few cycles, the same for both tables.
class ContactPicker {
 public:
  ContactPicker(size_t count, int thread)
      : state_(0x9E3779B97F4A7C15ull * (thread + 1)), count_(count) {}
  size_t Next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    const uint64_t r = state_ * 0x2545F4914F6CDD1Dull;
    return static_cast<size_t>((static_cast<unsigned __int128>(r) * count_) >>
                               64);
  }

 private:
  uint64_t state_;
  const size_t count_;
};

// Set by thread 0 before its loop; the loop's start is a barrier, so the
// other threads read it inside theirs.
EpochContacts* epoch_contacts = nullptr;
UrcuContacts* urcu_contacts = nullptr;

void BM_ContactLifecycle_Epoch(benchmark::State& state) {
  const size_t live = state.range(0);
  if (state.thread_index() == 0) epoch_contacts = &EpochContactsOf(live);
  const std::vector<std::string> churn = ChurnIds(live, state.thread_index());
  benchmark::IterationCount done = 0;
  size_t backlog = 0;
  for (auto _ : state) {
    EpochContacts& contacts = *epoch_contacts;
    const std::string& id = churn[done & (kChurnIds - 1)];
    {  // Route(): the record is built, then published.
      auto guard = contacts.epoch.Pin();
      auto* record = new EpochContact(id);
      if (!contacts.table.Insert(record)) {
        delete record;
        state.SkipWithError("insert found the id present");
        break;
      }
    }
    {  // GetContact()
      auto guard = contacts.epoch.Pin();
      const EpochContact* found = contacts.table.Find(id);
      if (found == nullptr) {
        state.SkipWithError("lookup missed a present contact");
        break;
      }
      benchmark::DoNotOptimize(found->payload[0]);
    }
    {  // Release()
      auto guard = contacts.epoch.Pin();
      EpochContact* found = contacts.table.Find(id);
      if (found == nullptr || !contacts.table.Remove(found)) {
        state.SkipWithError("remove failed");
        break;
      }
      contacts.epoch.Retire(found);
    }
    if (++done == state.max_iterations) contacts.epoch.Reclaim();
    // How far reclamation lags: the most objects retired and not yet freed,
    // sampled by thread 0 (the count walks the thread records: cheap this
    // rarely).
    if (state.thread_index() == 0 && (done & (kBacklogSampling - 1)) == 0) {
      backlog = std::max(backlog, contacts.epoch.retired_count_for_testing());
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    state.counters["retired_backlog"] = static_cast<double>(backlog);
  }
}

void BM_ContactLifecycle_Urcu(benchmark::State& state, UrcuSizing sizing) {
  const size_t live = state.range(0);
  if (state.thread_index() == 0) urcu_contacts = &UrcuContactsOf(live, sizing);
  const std::vector<std::string> churn = ChurnIds(live, state.thread_index());
  benchmark::IterationCount done = 0;
  for (auto _ : state) {
    UrcuContacts& contacts = *urcu_contacts;
    const std::string& id = churn[done & (kChurnIds - 1)];
    {  // Route()
      MembReadGuard guard;
      auto* record = new UrcuContact(id);
      if (!contacts.table.Insert(record)) {
        delete record;
        state.SkipWithError("insert found the id present");
        break;
      }
    }
    {  // GetContact()
      MembReadGuard guard;
      const UrcuContact* found = contacts.table.Find(id);
      if (found == nullptr) {
        state.SkipWithError("lookup missed a present contact");
        break;
      }
      benchmark::DoNotOptimize(found->payload[0]);
    }
    {  // Release()
      MembReadGuard guard;
      UrcuContact* found = contacts.table.Find(id);
      if (found == nullptr || !contacts.table.Remove(found)) {
        state.SkipWithError("remove failed");
        break;
      }
      RetireMemb(found);
    }
    if (++done == state.max_iterations) urcu_memb_barrier();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_DecisionLookups_Epoch(benchmark::State& state) {
  const size_t live = state.range(0);
  if (state.thread_index() == 0) epoch_contacts = &EpochContactsOf(live);
  ContactPicker picker(live, state.thread_index());
  for (auto _ : state) {
    EpochContacts& contacts = *epoch_contacts;
    auto guard = contacts.epoch.Pin();
    for (int i = 0; i < kLookupsPerDecision; ++i) {
      const EpochContact* c =
          contacts.table.Find(contacts.live_ids[picker.Next()]);
      benchmark::DoNotOptimize(c->payload[0]);
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_DecisionLookups_Urcu(benchmark::State& state, UrcuSizing sizing) {
  const size_t live = state.range(0);
  if (state.thread_index() == 0) urcu_contacts = &UrcuContactsOf(live, sizing);
  ContactPicker picker(live, state.thread_index());
  for (auto _ : state) {
    UrcuContacts& contacts = *urcu_contacts;
    MembReadGuard guard;
    for (int i = 0; i < kLookupsPerDecision; ++i) {
      const UrcuContact* c =
          contacts.table.Find(contacts.live_ids[picker.Next()]);
      benchmark::DoNotOptimize(c->payload[0]);
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void LiveSizes(benchmark::internal::Benchmark* b) {
  b->ArgName("live")->Arg(1'000)->Arg(100'000)->Arg(1'000'000);
  b->Threads(1)->Threads(2)->UseRealTime();
}

void GrownSizes(benchmark::internal::Benchmark* b) {
  b->ArgName("live")->Arg(100'000)->Arg(1'000'000);
  b->Threads(1)->Threads(2)->UseRealTime();
}

BENCHMARK(BM_ContactLifecycle_Epoch)->Apply(LiveSizes)->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(BM_ContactLifecycle_Urcu, presized, UrcuSizing::kPresized)
    ->Apply(LiveSizes)
    ->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(BM_ContactLifecycle_Urcu, grown, UrcuSizing::kGrown)
    ->Apply(GrownSizes)
    ->MeasureProcessCPUTime();
BENCHMARK(BM_DecisionLookups_Epoch)->Apply(LiveSizes);
BENCHMARK_CAPTURE(BM_DecisionLookups_Urcu, presized, UrcuSizing::kPresized)
    ->Apply(LiveSizes);
BENCHMARK_CAPTURE(BM_DecisionLookups_Urcu, grown, UrcuSizing::kGrown)
    ->Apply(GrownSizes);

}  // namespace
}  // namespace bench::reclamation
