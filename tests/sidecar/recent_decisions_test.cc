// The ring of recent decisions the supervisor view lists: newest first, at
// most kCapacity, and writers that never wait (they drop instead).
#include "sidecar/recent_decisions.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace routing::sidecar {
namespace {

RoutingDecision Decision(const std::string& contact) {
  RoutingDecision d;
  d.contact_id = contact;
  d.components.push_back({"skill", 1, 0.35, 0.35, "billing 5/5"});
  return d;
}

TEST(RecentDecisionsTest, NewestFirstWithKindAndWait) {
  RecentDecisions recent;
  EXPECT_TRUE(recent.Read().empty());
  recent.Record(Decision("a"), RecentDecisionKind::kRouted,
                absl::ZeroDuration());
  recent.Record(Decision("b"), RecentDecisionKind::kFromQueue,
                absl::Seconds(7));
  const std::vector<RecentDecision> read = recent.Read();
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].decision.contact_id, "b");
  EXPECT_EQ(read[0].kind, RecentDecisionKind::kFromQueue);
  EXPECT_EQ(read[0].waited, absl::Seconds(7));
  EXPECT_EQ(read[1].decision.contact_id, "a");
  EXPECT_STREQ(RecentDecisionKindName(read[1].kind), "routed");
  EXPECT_EQ(read[1].decision.components[0].detail, "billing 5/5");
}

TEST(RecentDecisionsTest, KeepsTheLastCapacityOverwritingTheOldest) {
  RecentDecisions recent;
  const int total = RecentDecisions::kCapacity + 5;
  for (int i = 0; i < total; ++i) {
    recent.Record(Decision(absl::StrCat("c-", i)),
                  RecentDecisionKind::kRequeued, absl::ZeroDuration());
  }
  const std::vector<RecentDecision> read = recent.Read();
  ASSERT_EQ(read.size(), static_cast<size_t>(RecentDecisions::kCapacity));
  for (int i = 0; i < RecentDecisions::kCapacity; ++i) {
    EXPECT_EQ(read[i].decision.contact_id, absl::StrCat("c-", total - 1 - i));
  }
  EXPECT_EQ(recent.dropped(), 0u);
}

// Writers and a reader at once (run under ThreadSanitizer too): every
// sample is either kept or counted as dropped, and what is read is whole.
TEST(RecentDecisionsTest, WritersNeverWaitAndReadersSeeWholeDecisions) {
  RecentDecisions recent;
  constexpr int kWriters = 4;
  constexpr int kEach = 20'000;
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      for (const RecentDecision& d : recent.Read()) {
        ASSERT_EQ(d.decision.components.size(), 1u);
        ASSERT_EQ(d.decision.contact_id.rfind("w", 0), 0u);
      }
      reads.fetch_add(1);
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&recent, w] {
      for (int i = 0; i < kEach; ++i) {
        recent.Record(Decision(absl::StrCat("w", w, "-", i)),
                      RecentDecisionKind::kRouted, absl::ZeroDuration());
      }
    });
  }
  for (std::thread& w : writers) w.join();
  done.store(true);
  reader.join();
  EXPECT_GT(reads.load(), 0);
  const uint64_t total = kWriters * kEach;
  ASSERT_LE(recent.dropped(), total);
  // Writers never wait, so a busy reader may cost every sample; whatever
  // was kept (not dropped) fills the ring up to its capacity.
  const uint64_t kept = total - recent.dropped();
  EXPECT_EQ(recent.Read().size(),
            std::min<uint64_t>(kept, RecentDecisions::kCapacity));
}

}  // namespace
}  // namespace routing::sidecar
