#include "routing/internal/epoch.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <latch>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace routing::internal {
namespace {

// Counts its own destruction, so tests can tell exactly when the domain freed
// it.
struct Tracked {
  explicit Tracked(std::atomic<int>* freed) : freed(freed) {}
  ~Tracked() { freed->fetch_add(1, std::memory_order_relaxed); }
  std::atomic<int>* const freed;
};

TEST(EpochDomainTest, FreesRetiredObjectOnlyAfterUnpin) {
  EpochDomain epoch;
  std::atomic<int> freed{0};
  {
    auto guard = epoch.Pin();
    epoch.Retire(new Tracked(&freed));
    EXPECT_EQ(epoch.retired_count_for_testing(), 1u);
    epoch.Reclaim();  // We are still pinned: nothing may go.
    EXPECT_EQ(freed.load(), 0);
  }
  epoch.Reclaim();
  EXPECT_EQ(freed.load(), 1);
  EXPECT_EQ(epoch.retired_count_for_testing(), 0u);
}

TEST(EpochDomainTest, RetireWhileNotPinnedAndCustomDeleter) {
  EpochDomain epoch;
  static std::atomic<int> deleted{0};
  deleted = 0;
  int* value = new int(7);
  epoch.Retire(value, [](void* p) {
    delete static_cast<int*>(p);
    deleted.fetch_add(1);
  });
  epoch.Reclaim();
  EXPECT_EQ(deleted.load(), 1);
}

TEST(EpochDomainTest, ReaderPinnedBeforeRetireHoldsObject) {
  EpochDomain epoch;
  std::atomic<int> freed{0};
  std::latch pinned(1), retired(1);
  std::thread reader([&] {
    auto guard = epoch.Pin();
    pinned.count_down();
    retired.wait();
  });
  pinned.wait();
  epoch.Retire(new Tracked(&freed));
  // Plenty of chances to advance: the reader must block the second one.
  for (int i = 0; i < 10; ++i) epoch.Reclaim();
  EXPECT_EQ(freed.load(), 0);
  retired.count_down();
  reader.join();
  epoch.Reclaim();
  EXPECT_EQ(freed.load(), 1);
}

TEST(EpochDomainTest, NestedPinsCountAndGuardsMove) {
  EpochDomain epoch;
  std::atomic<int> freed{0};
  {
    auto outer = epoch.Pin();
    {
      auto inner = epoch.Pin();
      epoch.Retire(new Tracked(&freed));
    }
    epoch.Reclaim();  // Still pinned by `outer`.
    EXPECT_EQ(freed.load(), 0);
    EpochDomain::Guard moved = std::move(outer);
    epoch.Reclaim();  // A move transfers the pin; it does not end it.
    EXPECT_EQ(freed.load(), 0);
    auto other = epoch.Pin();
    other = std::move(moved);  // Unpins one level, keeps the other.
    epoch.Reclaim();
    EXPECT_EQ(freed.load(), 0);
  }
  epoch.Reclaim();
  EXPECT_EQ(freed.load(), 1);
}

TEST(EpochDomainTest, AmortisedReclaimFreesWithoutExplicitCalls) {
  EpochDomain epoch;
  std::atomic<int> freed{0};
  constexpr int kObjects = 10000;
  for (int i = 0; i < kObjects; ++i) {
    auto guard = epoch.Pin();
    epoch.Retire(new Tracked(&freed));
  }
  // Retire collects every few dozen calls, so only a small tail is pending.
  EXPECT_GT(freed.load(), kObjects - 1000);
  EXPECT_LT(epoch.retired_count_for_testing(), 1000u);
}

// A reader that stays pinned lets a backlog build up. Once it leaves, the
// collections inside Retire() (which usually runs pinned, and holds that pin
// while it frees) drain the backlog a bounded batch at a time, so no single
// Retire call holds the epoch for a whole backlog's worth of frees; an
// explicit Reclaim() frees the rest at once.
TEST(EpochDomainTest, RetireFreesABacklogInBoundedBatches) {
  EpochDomain epoch;
  std::atomic<int> freed{0};
  std::latch pinned(1), leave(1);
  std::thread reader([&] {
    auto guard = epoch.Pin();
    pinned.count_down();
    leave.wait();
  });
  pinned.wait();
  constexpr int kBacklog = 10'000;
  for (int i = 0; i < kBacklog; ++i) epoch.Retire(new Tracked(&freed));
  EXPECT_EQ(freed.load(), 0);  // The reader may still read any of them.
  leave.count_down();
  reader.join();
  // Each batch of retires collects once, and no collection frees more than
  // a few batches' worth.
  int most_in_one_collection = 0;
  for (int collections = 0; collections < 20; ++collections) {
    const int before = freed.load();
    for (int i = 0; i < 64; ++i) epoch.Retire(new Tracked(&freed));
    most_in_one_collection =
        std::max(most_in_one_collection, freed.load() - before);
  }
  EXPECT_GT(freed.load(), 0);
  EXPECT_LE(most_in_one_collection, 4 * 64);
  epoch.Reclaim();
  epoch.Reclaim();
  EXPECT_EQ(freed.load(), kBacklog + 20 * 64);
}

TEST(EpochDomainTest, ExitingThreadHandsPendingObjectsOver) {
  EpochDomain epoch;
  std::atomic<int> freed{0};
  constexpr int kObjects = 500;  // Several collection rounds' worth.
  {
    auto guard = epoch.Pin();  // Keeps the worker from freeing anything.
    std::thread worker([&] {
      for (int i = 0; i < kObjects; ++i) {
        auto g = epoch.Pin();
        epoch.Retire(new Tracked(&freed));
      }
    });
    worker.join();
    EXPECT_EQ(freed.load(), 0);
    EXPECT_EQ(epoch.retired_count_for_testing(), static_cast<size_t>(kObjects));
  }
  epoch.Reclaim();
  EXPECT_EQ(freed.load(), kObjects);
  EXPECT_EQ(epoch.retired_count_for_testing(), 0u);
}

TEST(EpochDomainTest, ThreadRecordsAreReused) {
  EpochDomain epoch;
  std::atomic<int> freed{0};
  for (int i = 0; i < 50; ++i) {
    std::thread([&] {
      auto guard = epoch.Pin();
      epoch.Retire(new Tracked(&freed));
    }).join();
  }
  epoch.Reclaim();
  EXPECT_EQ(freed.load(), 50);
}

TEST(EpochDomainTest, TwoDomainsAreIndependent) {
  EpochDomain a;
  EpochDomain b;
  std::atomic<int> freed_a{0};
  std::atomic<int> freed_b{0};
  {
    auto guard_a = a.Pin();
    {
      auto guard_b = b.Pin();
      a.Retire(new Tracked(&freed_a));
      b.Retire(new Tracked(&freed_b));
    }
    b.Reclaim();  // Pinned in `a` only: `b` is free to go.
    a.Reclaim();
    EXPECT_EQ(freed_b.load(), 1);
    EXPECT_EQ(freed_a.load(), 0);
  }
  a.Reclaim();
  EXPECT_EQ(freed_a.load(), 1);
}

TEST(EpochDomainTest, DestructorFreesEverythingAfterThreadsExit) {
  std::atomic<int> freed{0};
  auto epoch = std::make_unique<EpochDomain>();
  std::vector<std::thread> threads;
  {
    auto guard = epoch->Pin();  // Nothing gets freed before the destructor.
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 100; ++i) {
          auto g = epoch->Pin();
          epoch->Retire(new Tracked(&freed));
        }
      });
    }
    for (std::thread& t : threads) t.join();
  }
  EXPECT_EQ(freed.load(), 0);
  epoch.reset();
  EXPECT_EQ(freed.load(), 400);
}

TEST(EpochDomainTest, DestructorRunsWhileThreadsThatUsedItLive) {
  constexpr int kThreads = 3;
  std::atomic<int> freed{0};
  auto epoch = std::make_unique<EpochDomain>();
  EpochDomain survivor;
  std::atomic<int> retired{0};
  std::latch destroyed(1);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      {
        auto g = epoch->Pin();
        epoch->Retire(new Tracked(&freed));
      }
      // Release: our use of the domain happens before its destruction.
      retired.fetch_add(1, std::memory_order_release);
      destroyed.wait();
      // The dead domain's cache entry must neither confuse nor block the
      // live one, and exiting afterwards must not touch the freed objects.
      auto g = survivor.Pin();
      survivor.Retire(new Tracked(&freed));
    });
  }
  while (retired.load(std::memory_order_acquire) < kThreads) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(freed.load(), 0);  // One retire each: no collection ran yet.
  epoch.reset();
  EXPECT_EQ(freed.load(), kThreads);
  destroyed.count_down();
  for (std::thread& t : threads) t.join();
  survivor.Reclaim();
  EXPECT_EQ(freed.load(), 2 * kThreads);
}

// Pins and retires from a thread_local destructor that runs after the
// domain's own thread-local cache is gone.
EpochDomain* late_domain = nullptr;
std::atomic<int>* late_freed = nullptr;
struct LateUser {
  ~LateUser() {
    auto g = late_domain->Pin();
    {
      auto nested = late_domain->Pin();
      late_domain->Retire(new Tracked(late_freed));
    }
  }
};

TEST(EpochDomainTest, WorksDuringThreadLocalTeardown) {
  EpochDomain epoch;
  std::atomic<int> freed{0};
  late_domain = &epoch;
  late_freed = &freed;
  std::thread([&] {
    // Constructed before the domain's cache, so destroyed after it.
    thread_local LateUser late_user;
    (void)&late_user;
    auto g = epoch.Pin();
    epoch.Retire(new Tracked(&freed));
  }).join();
  epoch.Reclaim();
  EXPECT_EQ(freed.load(), 2);
  EXPECT_EQ(epoch.retired_count_for_testing(), 0u);
}

// Readers dereference a shared pointer that writers keep replacing and
// retiring. A canary catches a reader that sees a freed object (and ASan a
// read of freed memory outright).
struct Canary {
  static constexpr uint64_t kAlive = 0x600DF00D600DF00D;
  static constexpr uint64_t kDead = 0xDEADBEEFDEADBEEF;
  explicit Canary(uint64_t v, std::atomic<int>* freed)
      : value(v), check(v ^ kAlive), freed(freed) {}
  ~Canary() {
    magic = kDead;
    freed->fetch_add(1, std::memory_order_relaxed);
  }
  bool Intact() const { return magic == kAlive && (value ^ check) == kAlive; }
  uint64_t magic = kAlive;
  uint64_t value;
  uint64_t check;
  std::atomic<int>* const freed;
};

TEST(EpochDomainStressTest, ReadersNeverSeeFreedObjects) {
  constexpr int kReaders = 3;
  constexpr int kWriters = 2;
  const absl::Duration kRunFor = absl::Milliseconds(1500);
  std::atomic<int> freed{0};
  std::atomic<int> created{1};
  std::atomic<bool> stop{false};
  std::atomic<int64_t> bad_reads{0};
  std::atomic<int64_t> reads{0};
  {
    EpochDomain epoch;
    std::atomic<Canary*> shared{new Canary(0, &freed)};
    std::vector<std::thread> threads;
    for (int r = 0; r < kReaders; ++r) {
      threads.emplace_back([&] {
        int64_t local_reads = 0;
        while (!stop.load(std::memory_order_relaxed)) {
          auto guard = epoch.Pin();
          const Canary* c = shared.load(std::memory_order_acquire);
          if (!c->Intact()) bad_reads.fetch_add(1);
          // Nest a pin and read again, a little later.
          auto inner = epoch.Pin();
          if (!c->Intact()) bad_reads.fetch_add(1);
          ++local_reads;
        }
        reads.fetch_add(local_reads);
      });
    }
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([&, w] {
        uint64_t v = w;
        while (!stop.load(std::memory_order_relaxed)) {
          auto guard = epoch.Pin();
          v += kWriters;
          created.fetch_add(1, std::memory_order_relaxed);
          Canary* old =
              shared.exchange(new Canary(v, &freed), std::memory_order_acq_rel);
          epoch.Retire(old);
        }
      });
    }
    // Threads that come and go, so records are released and reused mid-run.
    threads.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        std::thread([&] {
          for (int i = 0; i < 100; ++i) {
            auto guard = epoch.Pin();
            const Canary* c = shared.load(std::memory_order_acquire);
            if (!c->Intact()) bad_reads.fetch_add(1);
            Canary* old = shared.exchange(new Canary(i, &freed),
                                          std::memory_order_acq_rel);
            created.fetch_add(1, std::memory_order_relaxed);
            epoch.Retire(old);
          }
        }).join();
      }
    });
    absl::SleepFor(kRunFor);
    stop = true;
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(bad_reads.load(), 0);
    EXPECT_GT(reads.load(), 0);
    // Everything replaced is retired; only the last one is still live.
    EXPECT_EQ(
        freed.load() + static_cast<int>(epoch.retired_count_for_testing()),
        created.load() - 1);
    delete shared.load();
  }
  // The domain's destructor freed the rest: nothing leaked.
  EXPECT_EQ(freed.load(), created.load());
}

}  // namespace
}  // namespace routing::internal
