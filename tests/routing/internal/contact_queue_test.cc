#include "routing/internal/contact_queue.h"

#include <algorithm>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace routing::internal {
namespace {

// A contact placed in a queue the way the router does it: linked while
// kRouting at its placement, then published as kQueued.
struct Placed {
  ContactRecord* contact;
  QueueNode* node;
};

Placed Place(ContactQueue& queue, std::string id, int64_t aged_ms,
             int64_t sequence) {
  auto* contact = new ContactRecord(std::move(id));
  QueueNode* node = queue.Arrive(contact, 0, aged_ms, sequence);
  contact->state.store(ContactRecord::Pack(ContactState::kQueued, -1, 0));
  return {contact, node};
}

// Takes the contact out the way Cancel does: the state CAS, then Depart.
void Leave(ContactQueue& queue, EpochDomain& epoch, const Placed& p) {
  p.contact->state.store(ContactRecord::Pack(ContactState::kDone, -1, 0));
  queue.Depart(p.node);
  UnrefContact(p.contact, &epoch);  // The table's reference.
}

std::vector<std::string> InOrder(const ContactQueue& queue) {
  std::vector<std::string> ids;
  queue.ForEachLive([&](QueueNode* node) {
    ids.push_back(node->contact->id());
    return true;
  });
  return ids;
}

TEST(ContactQueueTest, ServesByAgedMillisecondThenPlacement) {
  EpochDomain epoch;
  std::vector<Placed> placed;
  {
    ContactQueue queue("billing", &epoch);
    auto guard = epoch.Pin();
    placed.push_back(Place(queue, "late", 5'000, 0));
    placed.push_back(Place(queue, "early", 1'000, 1));
    placed.push_back(Place(queue, "tie-second", 3'000, 3));
    placed.push_back(Place(queue, "tie-first", 3'000, 2));
    // A priority can age a contact to before the epoch; order holds there.
    placed.push_back(Place(queue, "aged", -86'400'000, 4));
    EXPECT_EQ(InOrder(queue),
              (std::vector<std::string>{"aged", "early", "tie-second",
                                        "tie-first", "late"}));
    // Within one millisecond, the order linked; positions agree with the
    // walk.
    EXPECT_EQ(queue.Position(*placed[4].node), 1);
    EXPECT_EQ(queue.Position(*placed[1].node), 2);
    EXPECT_EQ(queue.Position(*placed[2].node), 3);
    EXPECT_EQ(queue.Position(*placed[3].node), 4);
    EXPECT_EQ(queue.Position(*placed[0].node), 5);
    EXPECT_EQ(queue.waiting.load(), 5);
    Leave(queue, epoch, placed[1]);
    EXPECT_EQ(queue.Position(*placed[0].node), 4);
    EXPECT_EQ(queue.waiting.load(), 4);
    for (size_t i : {0, 2, 3, 4}) Leave(queue, epoch, placed[i]);
    EXPECT_EQ(queue.waiting.load(), 0);
    EXPECT_TRUE(InOrder(queue).empty());
  }
  epoch.Reclaim();
}

TEST(ContactQueueTest, EmptiedSubtreesAreFreed) {
  EpochDomain epoch;
  ContactQueue queue("q", &epoch);
  std::vector<Placed> placed;
  {
    auto guard = epoch.Pin();
    for (int i = 0; i < 1000; ++i) {
      placed.push_back(Place(queue, "c" + std::to_string(i),
                             1'700'000'000'000 + i * 997, i));
    }
    EXPECT_GT(queue.AllocatedForTesting(), 1000);
    for (const Placed& p : placed) Leave(queue, epoch, p);
  }
  // Only the latest arrival's path is kept: one node a level.
  EXPECT_EQ(queue.AllocatedForTesting(), ContactQueue::kLevels);
  epoch.Reclaim();
}

// A queue that empties and fills again in one millisecond allocates nothing
// after its first arrival; the next millisecond's arrival frees the old path.
TEST(ContactQueueTest, TheHotPathIsKeptAndReapedWhenTimeMovesOn) {
  EpochDomain epoch;
  ContactQueue queue("q", &epoch);
  auto guard = epoch.Pin();
  for (int i = 0; i < 100; ++i) {
    Placed p = Place(queue, "c" + std::to_string(i), 1'700'000'000'000, i);
    EXPECT_EQ(queue.AllocatedForTesting(), ContactQueue::kLevels);
    Leave(queue, epoch, p);
    EXPECT_EQ(queue.AllocatedForTesting(), ContactQueue::kLevels);
  }
  // Far from the old path (a different top-level digit): a whole new path.
  Placed far = Place(queue, "far", 1'000, 100);
  EXPECT_EQ(queue.AllocatedForTesting(), ContactQueue::kLevels);
  EXPECT_EQ(queue.LinkedForTesting(1'700'000'000'000), 0);
  Placed near = Place(queue, "near", 1'001, 101);
  EXPECT_EQ(queue.Position(*near.node), 2);
  Leave(queue, epoch, far);
  // "far" shares all but the leaf with "near", the hot path: its leaf goes.
  EXPECT_EQ(queue.AllocatedForTesting(), ContactQueue::kLevels);
  EXPECT_EQ(queue.Position(*near.node), 1);
  Leave(queue, epoch, near);
  EXPECT_EQ(queue.AllocatedForTesting(), ContactQueue::kLevels);
}

TEST(ContactQueueTest, KeysSaturateAtTheEdgesInOrder) {
  EXPECT_LT(ContactQueue::KeyOf(INT64_MIN), ContactQueue::KeyOf(-1));
  EXPECT_LT(ContactQueue::KeyOf(-1), ContactQueue::KeyOf(0));
  EXPECT_LT(ContactQueue::KeyOf(0), ContactQueue::KeyOf(INT64_MAX));
  EXPECT_EQ(ContactQueue::KeyOf(INT64_MAX), ContactQueue::KeyOf(INT64_MAX - 1));
}

// Several threads arrive and depart in overlapping milliseconds (so slots
// empty, freeze and reopen under contention); at quiescence the queue holds
// exactly the contacts still placed, in order, with exact positions, and
// frees everything once they leave.
TEST(ContactQueueTest, ConcurrentArrivalsAndDeparturesKeepCountsExact) {
  EpochDomain epoch;
  ContactQueue queue("q", &epoch);
  constexpr int kThreads = 4;
  constexpr int kRounds = 3000;
  std::atomic<int64_t> sequence{0};
  std::vector<std::vector<Placed>> kept(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::vector<Placed> mine;
      for (int i = 0; i < kRounds; ++i) {
        auto guard = epoch.Pin();
        const int64_t ms = static_cast<int64_t>(rng() % 64);
        mine.push_back(Place(queue, "t" + std::to_string(t) + "-" +
                                        std::to_string(i),
                             ms, sequence.fetch_add(1)));
        if (rng() % 4 != 0) {
          const size_t victim = rng() % mine.size();
          Leave(queue, epoch, mine[victim]);
          mine.erase(mine.begin() + victim);
        }
      }
      kept[t] = std::move(mine);
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<const QueueNode*> expected;
  for (const auto& mine : kept) {
    for (const Placed& p : mine) expected.push_back(p.node);
  }
  {
    auto guard = epoch.Pin();
    EXPECT_EQ(queue.waiting.load(), static_cast<int64_t>(expected.size()));
    std::vector<const QueueNode*> walked;
    queue.ForEachLive([&](QueueNode* node) {
      walked.push_back(node);
      return true;
    });
    ASSERT_EQ(walked.size(), expected.size());
    for (size_t i = 1; i < walked.size(); ++i) {
      EXPECT_LE(walked[i - 1]->aged_ms, walked[i]->aged_ms);
    }
    for (size_t i = 0; i < walked.size(); ++i) {
      EXPECT_EQ(queue.Position(*walked[i]), static_cast<int64_t>(i + 1));
    }
    for (const auto& mine : kept) {
      for (const Placed& p : mine) Leave(queue, epoch, p);
    }
  }
  EXPECT_EQ(queue.waiting.load(), 0);
  EXPECT_EQ(queue.AllocatedForTesting(), ContactQueue::kLevels);
  epoch.Reclaim();
}

}  // namespace
}  // namespace routing::internal

namespace routing::internal {
namespace {

// Contacts that come and go within one millisecond while others wait: the
// millisecond's leaf empties, is freed, and the next arrival starts afresh.
TEST(ContactQueueTest, ALeafEmptiedOverAndOverStaysShort) {
  EpochDomain epoch;
  ContactQueue queue("q", &epoch);
  auto guard = epoch.Pin();
  Placed waiting = Place(queue, "waiting", 1'000, 0);
  for (int i = 1; i <= 1000; ++i) {
    Placed p = Place(queue, "c" + std::to_string(i), 5'000, i);
    EXPECT_EQ(queue.Position(*p.node), 2);
    Leave(queue, epoch, p);
  }
  int linked = 0;
  queue.ForEachLive([&](QueueNode*) {
    ++linked;
    return true;
  });
  EXPECT_EQ(linked, 1);
  EXPECT_LT(queue.AllocatedForTesting(), 40);
  Leave(queue, epoch, waiting);
}

}  // namespace
}  // namespace routing::internal

namespace routing::internal {
namespace {

// A contact waiting long at the head of its millisecond while others of the
// same millisecond come and go behind it: their nodes are swept, so walks
// and positions stay short.
TEST(ContactQueueTest, ALongWaitAtTheHeadOfAMillisecondKeepsItShort) {
  EpochDomain epoch;
  ContactQueue queue("q", &epoch);
  auto guard = epoch.Pin();
  Placed waiting = Place(queue, "waiting", 5'000, 0);
  for (int i = 1; i <= 5000; ++i) {
    Placed p = Place(queue, "c" + std::to_string(i), 5'000, i);
    EXPECT_EQ(queue.Position(*p.node), 2);
    Leave(queue, epoch, p);
  }
  EXPECT_LE(queue.LinkedForTesting(5'000), kMinSweepDepartures + 2);
  Leave(queue, epoch, waiting);
}

}  // namespace
}  // namespace routing::internal
