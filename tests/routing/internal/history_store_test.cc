#include "routing/internal/history_store.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace routing::internal {
namespace {

absl::Time At(int64_t seconds) {
  return absl::FromUnixSeconds(1'700'000'000 + seconds);
}

InteractionRecord Interaction(
    uint32_t agent, int64_t seconds,
    ContactOutcome outcome = ContactOutcome::kResolved,
    Channel channel = Channel::kVoice) {
  return InteractionRecord{agent, channel, outcome, At(seconds)};
}

std::vector<InteractionRecord> History(const HistoryStore& store,
                                       const std::string& customer) {
  InteractionRecord out[kMaxHistoryDepth];
  const int n = store.Lookup(customer, out, kMaxHistoryDepth);
  return std::vector<InteractionRecord>(out, out + n);
}

TEST(HistoryStoreTest, UnknownCustomerHasNoHistory) {
  HistoryStore store(1000, 4);
  EXPECT_TRUE(History(store, "nobody").empty());
  EXPECT_TRUE(History(store, "").empty());
}

TEST(HistoryStoreTest, RoundTripsEveryField) {
  HistoryStore store(1000, 4);
  store.Record("cust-1",
               Interaction(kMaxAgentIndex - 1, 42, ContactOutcome::kTransferred,
                           Channel::kVideo));
  const auto history = History(store, "cust-1");
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].agent_index, kMaxAgentIndex - 1);
  EXPECT_EQ(history[0].channel, Channel::kVideo);
  EXPECT_EQ(history[0].outcome, ContactOutcome::kTransferred);
  EXPECT_EQ(history[0].time, At(42));
}

TEST(HistoryStoreTest, MostRecentFirstAndBoundedByDepth) {
  HistoryStore store(1000, 3);
  for (uint32_t agent = 1; agent <= 5; ++agent) {
    store.Record("cust-1", Interaction(agent, agent * 10));
  }
  const auto history = History(store, "cust-1");
  ASSERT_EQ(history.size(), 3u);  // Depth 3: agents 1 and 2 are forgotten.
  EXPECT_EQ(history[0].agent_index, 5u);
  EXPECT_EQ(history[1].agent_index, 4u);
  EXPECT_EQ(history[2].agent_index, 3u);
}

TEST(HistoryStoreTest, SameSecondKeepsRecordingOrder) {
  HistoryStore store(1000, 4);
  store.Record("cust-1", Interaction(7, 5));
  store.Record("cust-1", Interaction(8, 5));
  store.Record("cust-1", Interaction(9, 5));
  const auto history = History(store, "cust-1");
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].agent_index, 9u);
  EXPECT_EQ(history[2].agent_index, 7u);
}

TEST(HistoryStoreTest, LookupRespectsMax) {
  HistoryStore store(1000, 4);
  for (uint32_t agent = 0; agent < 4; ++agent) {
    store.Record("c", Interaction(agent, agent));
  }
  InteractionRecord out[2];
  EXPECT_EQ(store.Lookup("c", out, 2), 2);
  EXPECT_EQ(out[0].agent_index, 3u);
  EXPECT_EQ(store.Lookup("c", out, 0), 0);
}

TEST(HistoryStoreTest, CustomersAreKeptApart) {
  HistoryStore store(1000, 4);
  store.Record("alice", Interaction(1, 1));
  store.Record("bob", Interaction(2, 2));
  ASSERT_EQ(History(store, "alice").size(), 1u);
  EXPECT_EQ(History(store, "alice")[0].agent_index, 1u);
  ASSERT_EQ(History(store, "bob").size(), 1u);
  EXPECT_EQ(History(store, "bob")[0].agent_index, 2u);
}

TEST(HistoryStoreTest, IgnoresInvalidInput) {
  HistoryStore store(1000, 4);
  store.Record("", Interaction(1, 1));
  store.Record("cust", Interaction(kMaxAgentIndex, 1));
  EXPECT_TRUE(History(store, "cust").empty());
  EXPECT_TRUE(History(store, "").empty());
}

TEST(HistoryStoreTest, ClampsDepthAndTimes) {
  HistoryStore deep(10, 100);
  EXPECT_EQ(deep.depth(), kMaxHistoryDepth);
  HistoryStore shallow(10, 0);
  EXPECT_EQ(shallow.depth(), 1);

  shallow.Record("old",
                 InteractionRecord{1, Channel::kChat, ContactOutcome::kUnknown,
                                   absl::FromUnixSeconds(-5)});
  ASSERT_EQ(History(shallow, "old").size(), 1u);
  EXPECT_EQ(History(shallow, "old")[0].time, absl::UnixEpoch());
}

TEST(HistoryStoreTest, MemoryIsBoundedWhateverTheNumberOfCustomers) {
  HistoryStore store(1000, 4);
  const size_t bytes = store.memory_bytes();
  EXPECT_GE(store.capacity_customers(), 1000u);
  EXPECT_LT(store.capacity_customers(), 2100u);  // Rounded to sets, not more.
  for (int i = 0; i < 100'000; ++i) {
    store.Record(absl::StrCat("cust-", i), Interaction(i % 100, i));
  }
  EXPECT_EQ(store.memory_bytes(), bytes);
  EXPECT_GE(store.evictions(), 100'000u - store.capacity_customers());

  // The newest customers survive; the oldest are gone (LRU per set). Hashing
  // spreads customers unevenly over sets, so of the last 500 (half the
  // capacity) a few may share a crowded set, but the last 100 never do.
  int recent_kept = 0;
  int latest_kept = 0;
  int oldest_kept = 0;
  for (int i = 0; i < 500; ++i) {
    const bool kept =
        !History(store, absl::StrCat("cust-", 99'999 - i)).empty();
    recent_kept += kept;
    if (i < 100) latest_kept += kept;
    oldest_kept += !History(store, absl::StrCat("cust-", i)).empty();
  }
  EXPECT_EQ(latest_kept, 100);
  EXPECT_GE(recent_kept, 450);
  EXPECT_EQ(oldest_kept, 0);
}

TEST(HistoryStoreTest, EvictsLeastRecentlyActiveCustomer) {
  // One set of eight ways: the ninth customer evicts whoever was active last
  // longest ago, not simply the first one inserted.
  HistoryStore store(8, 2);
  ASSERT_EQ(store.capacity_customers(), 8u);
  for (int i = 0; i < 8; ++i) {
    store.Record(absl::StrCat("c", i), Interaction(1, 100 + i));
  }
  store.Record("c0", Interaction(2, 200));  // c0 is active again; c1 is oldest.
  store.Record("newcomer", Interaction(3, 300));
  EXPECT_FALSE(History(store, "c0").empty());
  EXPECT_TRUE(History(store, "c1").empty());
  EXPECT_FALSE(History(store, "newcomer").empty());
  // The evicted way was cleared: the newcomer does not inherit c1's history.
  EXPECT_EQ(History(store, "newcomer").size(), 1u);
}

// Many threads record and look up overlapping customers in a small store, so
// ways change hands constantly. Every interaction read back must be one that
// was recorded for that very customer: agent index encodes the customer.
// The customers all share one tag (the top 6 bits of their key, which every
// interaction word carries): a word of one that reached a way already
// handed to another would pass the tag check, so the race is seen whenever
// it happens, not one time in 64.
TEST(HistoryStoreStressTest, NeverReturnsAnotherCustomersInteractions) {
  HistoryStore store(64, 4);
  constexpr int kCustomers = 512;
  constexpr int kThreads = 4;
  std::vector<std::string> ids;
  const uint64_t tag = HistoryStore::KeyOf("customer-0") >> 58;
  for (int n = 0; static_cast<int>(ids.size()) < kCustomers; ++n) {
    std::string id = absl::StrCat("customer-", n);
    if (HistoryStore::KeyOf(id) >> 58 == tag) ids.push_back(std::move(id));
  }
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  std::atomic<int64_t> hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      uint32_t x = 2463534242u + t;
      InteractionRecord out[kMaxHistoryDepth];
      for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        const int customer = static_cast<int>(x % kCustomers);
        const std::string& id = ids[customer];
        if (i % 2 == 0) {
          store.Record(id, Interaction(customer * 1000 + t, i));
        } else {
          const int n = store.Lookup(id, out, kMaxHistoryDepth);
          hits.fetch_add(n, std::memory_order_relaxed);
          for (int k = 0; k < n; ++k) {
            if (static_cast<int>(out[k].agent_index) / 1000 != customer) {
              wrong.fetch_add(1);
            }
          }
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(hits.load(), 0);
}

}  // namespace
}  // namespace routing::internal
