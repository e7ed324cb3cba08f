#include "routing/internal/contact_table.h"

#include <atomic>
#include <barrier>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "routing/internal/epoch.h"

namespace routing::internal {
namespace {

struct TestContact {
  explicit TestContact(std::string contact_id) : id_(std::move(contact_id)) {}
  const std::string& id() const { return id_; }
  std::string id_;
};

// Owns the records of a single-threaded test; the table never does.
class ContactTableTest : public ::testing::Test {
 protected:
  TestContact* Make(std::string id) {
    records_.push_back(std::make_unique<TestContact>(std::move(id)));
    return records_.back().get();
  }

  EpochDomain epoch_;
  std::vector<std::unique_ptr<TestContact>>
      records_;  // Outlives the table's nodes.
};

TEST_F(ContactTableTest, InsertFindRemove) {
  ContactTable<TestContact> table(&epoch_, 16);
  auto guard = epoch_.Pin();
  TestContact* a = Make("c-1");
  TestContact* b = Make("c-2");
  EXPECT_EQ(table.Find("c-1"), nullptr);
  EXPECT_TRUE(table.Insert(a));
  EXPECT_TRUE(table.Insert(b));
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.Find("c-1"), a);
  EXPECT_EQ(table.Find("c-2"), b);
  EXPECT_EQ(table.Find("c-3"), nullptr);
  EXPECT_EQ(table.Find(""), nullptr);
  EXPECT_TRUE(table.Remove(a));
  EXPECT_EQ(table.Find("c-1"), nullptr);
  EXPECT_EQ(table.Find("c-2"), b);
  EXPECT_EQ(table.size(), 1u);
  // Re-inserting a removed record is fine.
  EXPECT_TRUE(table.Insert(a));
  EXPECT_EQ(table.Find("c-1"), a);
}

TEST_F(ContactTableTest, RefusesDuplicateId) {
  ContactTable<TestContact> table(&epoch_, 16);
  auto guard = epoch_.Pin();
  TestContact* first = Make("dup");
  TestContact* second = Make("dup");
  EXPECT_TRUE(table.Insert(first));
  EXPECT_FALSE(table.Insert(second));
  EXPECT_FALSE(table.Insert(first));
  EXPECT_EQ(table.Find("dup"), first);
  // Removal is by record, not by id.
  EXPECT_FALSE(table.Remove(second));
  EXPECT_EQ(table.Find("dup"), first);
  EXPECT_EQ(table.size(), 1u);
}

TEST_F(ContactTableTest, RemoveTwiceAndRemoveAbsent) {
  ContactTable<TestContact> table(&epoch_, 16);
  auto guard = epoch_.Pin();
  TestContact* a = Make("a");
  EXPECT_FALSE(table.Remove(a));
  ASSERT_TRUE(table.Insert(a));
  EXPECT_TRUE(table.Remove(a));
  EXPECT_FALSE(table.Remove(a));
  EXPECT_EQ(table.size(), 0u);
}

TEST_F(ContactTableTest, ForEachVisitsEveryPresentRecordOnce) {
  ContactTable<TestContact> table(&epoch_, 8);
  auto guard = epoch_.Pin();
  std::set<std::string> expected;
  std::vector<TestContact*> inserted;
  for (int i = 0; i < 100; ++i) {
    TestContact* c = Make(absl::StrCat("c-", i));
    ASSERT_TRUE(table.Insert(c));
    inserted.push_back(c);
  }
  for (int i = 0; i < 100; ++i) {
    if (i % 3 == 0) {
      ASSERT_TRUE(table.Remove(inserted[i]));
    } else {
      expected.insert(inserted[i]->id());
    }
  }
  std::multiset<std::string> seen;
  table.ForEach([&](TestContact* c) { seen.insert(c->id()); });
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), expected);
  EXPECT_EQ(seen.size(), expected.size());
  EXPECT_EQ(table.size(), expected.size());
}

TEST_F(ContactTableTest, ManyKeysInOneBucket) {
  // One bucket: every key shares a chain, ordered by (hash, id).
  ContactTable<TestContact> table(&epoch_, 0);
  auto guard = epoch_.Pin();
  constexpr int kKeys = 2000;
  std::vector<TestContact*> contacts;
  for (int i = 0; i < kKeys; ++i) {
    contacts.push_back(Make(absl::StrCat("contact-", i)));
    ASSERT_TRUE(table.Insert(contacts.back()));
  }
  for (int i = 0; i < kKeys; ++i) {
    EXPECT_EQ(table.Find(absl::StrCat("contact-", i)), contacts[i]);
  }
  for (int i = 1; i < kKeys; i += 2) ASSERT_TRUE(table.Remove(contacts[i]));
  for (int i = 0; i < kKeys; ++i) {
    EXPECT_EQ(table.Find(absl::StrCat("contact-", i)),
              i % 2 == 0 ? contacts[i] : nullptr);
  }
  EXPECT_EQ(table.size(), static_cast<size_t>(kKeys / 2));
  int visited = 0;
  table.ForEach([&](TestContact*) { ++visited; });
  EXPECT_EQ(visited, kKeys / 2);
}

TEST_F(ContactTableTest, DestructorLeavesRecordsAlone) {
  auto table = std::make_unique<ContactTable<TestContact>>(&epoch_, 4);
  TestContact* a = Make("kept");
  {
    auto guard = epoch_.Pin();
    ASSERT_TRUE(table->Insert(a));
    ASSERT_TRUE(table->Insert(Make("removed")));
    ASSERT_TRUE(table->Remove(records_.back().get()));
  }
  table.reset();  // Frees its nodes (ASan checks the record is untouched).
  EXPECT_EQ(a->id(), "kept");
}

// Threads insert, find and remove over an overlapping set of ids. Each keeps
// per-id counts of its own successful inserts and removes; at the end the
// table must hold exactly the ids inserted more often than removed.
TEST(ContactTableStressTest, ContentMatchesSuccessfulOperations) {
  constexpr int kThreads = 4;
  constexpr int kIds = 64;
  const absl::Duration kRunFor = absl::Milliseconds(1000);
  EpochDomain epoch;
  // Few buckets, so chains are long and operations collide within them.
  ContactTable<TestContact> table(&epoch, 8);
  std::vector<std::vector<int64_t>> inserts(kThreads,
                                            std::vector<int64_t>(kIds));
  std::vector<std::vector<int64_t>> removes(kThreads,
                                            std::vector<int64_t>(kIds));
  std::atomic<int64_t> wrong_finds{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t + 1);
      while (!stop.load(std::memory_order_relaxed)) {
        const int id = static_cast<int>(rng() % kIds);
        const std::string key = absl::StrCat("contact-", id);
        auto guard = epoch.Pin();
        switch (rng() % 3) {
          case 0: {
            auto* record = new TestContact(key);
            if (table.Insert(record)) {
              ++inserts[t][id];
            } else {
              delete record;  // Never published.
            }
            break;
          }
          case 1: {
            TestContact* found = table.Find(key);
            if (found != nullptr && table.Remove(found)) {
              ++removes[t][id];
              epoch.Retire(found);  // Others may still be comparing its id.
            }
            break;
          }
          default: {
            TestContact* found = table.Find(key);
            if (found != nullptr && found->id() != key)
              wrong_finds.fetch_add(1);
            break;
          }
        }
      }
    });
  }
  absl::SleepFor(kRunFor);
  stop = true;
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong_finds.load(), 0);

  auto guard = epoch.Pin();
  size_t expected_size = 0;
  int64_t total_ops = 0;
  for (int id = 0; id < kIds; ++id) {
    int64_t balance = 0;
    for (int t = 0; t < kThreads; ++t) {
      balance += inserts[t][id] - removes[t][id];
      total_ops += inserts[t][id];
    }
    ASSERT_TRUE(balance == 0 || balance == 1) << "id " << id << ": " << balance;
    TestContact* found = table.Find(absl::StrCat("contact-", id));
    EXPECT_EQ(found != nullptr, balance == 1) << "id " << id;
    expected_size += static_cast<size_t>(balance);
  }
  EXPECT_GT(total_ops, kIds);
  EXPECT_EQ(table.size(), expected_size);
  std::vector<TestContact*> left;
  table.ForEach([&](TestContact* c) { left.push_back(c); });
  EXPECT_EQ(left.size(), expected_size);
  for (TestContact* c : left) {
    ASSERT_TRUE(table.Remove(c));
    epoch.Retire(c);
  }
  EXPECT_EQ(table.size(), 0u);
}

// Rounds of kThreads threads inserting distinct records with one fresh id at
// the same moment: exactly one insert per round may succeed.
TEST(ContactTableStressTest, ExactlyOneConcurrentDuplicateInsertWins) {
  constexpr int kThreads = 4;
  constexpr int kMaxRounds = 2000;
  const absl::Time deadline = absl::Now() + absl::Milliseconds(800);
  // Declared before the table: records must outlive its nodes.
  std::vector<std::vector<std::unique_ptr<TestContact>>> records(kThreads);
  EpochDomain epoch;
  ContactTable<TestContact> table(&epoch, 4);
  std::vector<std::atomic<int>> winners(kMaxRounds);
  // Written by thread 0 between two barriers, read by all after the second.
  std::atomic<int> rounds{kMaxRounds};
  std::barrier sync(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < rounds.load(); ++round) {
        records[t].push_back(
            std::make_unique<TestContact>(absl::StrCat("dup-", round)));
        sync.arrive_and_wait();
        {
          auto guard = epoch.Pin();
          if (table.Insert(records[t].back().get()))
            winners[round].fetch_add(1);
        }
        if (t == 0 && absl::Now() > deadline) rounds.store(round + 1);
        sync.arrive_and_wait();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const int played = rounds.load();
  ASSERT_GT(played, 0);
  for (int round = 0; round < played; ++round) {
    EXPECT_EQ(winners[round].load(), 1) << "round " << round;
  }
  EXPECT_EQ(table.size(), static_cast<size_t>(played));
}

}  // namespace
}  // namespace routing::internal
