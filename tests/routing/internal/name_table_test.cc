#include "routing/internal/name_table.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace routing::internal {
namespace {

TEST(NameTableTest, InternsNamesToStableDenseIds) {
  NameTable table(8);
  EXPECT_EQ(table.Find("billing"), -1);
  const int billing = table.FindOrInsert("billing");
  const int sales = table.FindOrInsert("sales");
  EXPECT_EQ(billing, 0);
  EXPECT_EQ(sales, 1);
  EXPECT_EQ(table.FindOrInsert("billing"), billing);
  EXPECT_EQ(table.Find("sales"), sales);
  EXPECT_EQ(table.Name(billing), "billing");
  EXPECT_EQ(table.size(), 2);
}

TEST(NameTableTest, RefusesNamesBeyondCapacity) {
  NameTable table(2);
  EXPECT_GE(table.FindOrInsert("a"), 0);
  EXPECT_GE(table.FindOrInsert("b"), 0);
  EXPECT_EQ(table.FindOrInsert("c"), -1);
  EXPECT_EQ(table.FindOrInsert("d"), -1);
  EXPECT_EQ(table.Find("c"), -1);
  EXPECT_EQ(table.FindOrInsert("a"), 0);  // Existing names still resolve.
  EXPECT_EQ(table.size(), 2);
  EXPECT_EQ(table.Name(7), "");
}

TEST(NameTableTest, ConcurrentInsertersAgreeOnEveryId) {
  constexpr int kNames = 2000;
  constexpr int kThreads = 4;
  NameTable table(kNames * 2);
  std::vector<std::vector<int>> ids(kThreads, std::vector<int>(kNames));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kNames; ++i) {
        // Threads walk the names in different orders to collide often.
        const int n = (t % 2 == 0) ? i : kNames - 1 - i;
        ids[t][n] = table.FindOrInsert(absl::StrCat("agent-", n));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int n = 0; n < kNames; ++n) {
    ASSERT_GE(ids[0][n], 0);
    for (int t = 1; t < kThreads; ++t) ASSERT_EQ(ids[t][n], ids[0][n]) << n;
    EXPECT_EQ(table.Name(ids[0][n]), absl::StrCat("agent-", n));
  }
}

TEST(NameTableTest, AnIdHandedOutNamesItsNameAtOnce) {
  // A thread that finds a name another thread is inserting gets its id, and
  // the id must name the name right away: the router names a queue by the
  // id it got (a queue created with an empty name stayed so; the router's
  // stress test saw it under ASan).
  constexpr int kRounds = 500;
  constexpr int kThreads = 4;
  NameTable table(kRounds * kThreads + 8);  // Losers of a race burn ids.
  std::atomic<int> round{0};
  std::atomic<int> arrived{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int r = 0; r < kRounds; ++r) {
        // All threads insert round r's name at once.
        arrived.fetch_add(1);
        while (round.load() < r) std::this_thread::yield();
        const std::string name = absl::StrCat("queue-", r);
        const int id = table.FindOrInsert(name);
        if (id < 0 || table.Name(id) != name) wrong.fetch_add(1);
        if (arrived.load() >= kThreads * (r + 1)) round.store(r + 1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace routing::internal
