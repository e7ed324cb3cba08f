// AgentIndex: the slot word is the truth, the bitmaps follow it. These tests
// drive the index directly, from many threads, and check at quiescence that
// every bit agrees with the word it indexes.
#include "routing/internal/agent_index.h"

#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "routing/internal/epoch.h"

namespace routing::internal {
namespace {

constexpr int kVoice = 0;

std::unique_ptr<AgentRecord> Record(AgentIndex& index, const std::string& id,
                                    int voice_capacity) {
  auto record = std::make_unique<AgentRecord>();
  record->index = index.ids().FindOrInsert(id);
  record->capacity[kVoice] = voice_capacity;
  record->total_capacity = voice_capacity;
  record->profile.id = id;
  return record;
}

bool Available(AgentIndex& index, int agent) {
  uint64_t previous, next;
  return index.SetPresence(agent, static_cast<uint8_t>(AgentState::kAvailable),
                           &previous, &next);
}

// What the free bit of `agent` on `channel` must say, read from the truth.
bool ShouldBeFree(const AgentIndex& index, int agent, int channel) {
  const AgentSlot& slot = index.Slot(agent);
  const uint64_t word = slot.word.load();
  const AgentRecord* record = slot.record.load();
  return record != nullptr && AgentWord::IsAvailable(word) &&
         record->HasRoomFor(word, channel);
}

// Two threads change one agent's word at the same moment, phase after phase
// (a spin barrier lines them up): one takes or gives back its only unit, the
// other flips its presence, each followed by its own sync, as the router
// does. At quiescence, before anything else could repair it, the free bit
// equals the truth. (The window this depends on is a few instructions wide;
// the test below opens it on purpose.)
TEST(AgentIndexTest, FreeBitsAgreeWithTheWordAtQuiescence) {
  EpochDomain epoch;
  AgentIndex index(64, 8, 8, &epoch);
  auto record = Record(index, "a", 1);
  const int agent = record->index;
  ASSERT_TRUE(index.Add(std::move(record), 0).ok());
  ASSERT_TRUE(Available(index, agent));
  constexpr int kPhases = 20'000;
  std::atomic<int> arrived{0};
  std::atomic<int> phase{0};
  std::atomic<bool> stop{false};
  auto worker = [&](int role) {
    std::mt19937 rng(role);
    for (int p = 1; !stop.load(); ++p) {
      while (phase.load() < p) {
        if (stop.load()) return;
        std::this_thread::yield();  // Three threads share two cores.
      }
      {
        auto guard = epoch.Pin();
        if (role == 0) {
          if (rng() % 2 == 0) {
            bool raced = false;
            index.Claim(agent, kVoice, index.Slot(agent).record.load(),
                        &raced);
          } else {
            index.DropLoad(agent, kVoice, 0, true);
            index.SyncAvailability(agent);
          }
        } else {
          uint64_t previous, next;
          const AgentState state =
              rng() % 2 == 0 ? AgentState::kAvailable : AgentState::kBusy;
          index.SetPresence(agent, static_cast<uint8_t>(state), &previous,
                            &next);
          index.SyncAvailability(agent);
        }
      }
      arrived.fetch_add(1);
    }
  };
  std::thread first(worker, 0), second(worker, 1);
  int failures = 0;
  int first_failure = 0;
  for (int p = 1; p <= kPhases; ++p) {
    arrived.store(0);
    phase.store(p);
    while (arrived.load() < 2) std::this_thread::yield();
    // Quiescence: both threads wait for the next phase.
    if (index.Free(kVoice).Test(agent) != ShouldBeFree(index, agent, kVoice)) {
      if (failures++ == 0) first_failure = p;
      // Put the bit right so later phases test afresh.
      index.SyncAvailability(agent);
    }
  }
  stop.store(true);
  first.join();
  second.join();
  EXPECT_EQ(failures, 0) << "the free bit disagreed with the word after "
                         << failures << " of " << kPhases
                         << " phases, first in phase " << first_failure;
}

// Defect: a sync that read the word, then wrote its bits after another
// thread's release and sync had set them, cleared the bit of a free agent,
// and nothing looked at the queues again. Here a release and its sync run
// inside the window of a claim's sync: the claim's sync must see that the
// word moved, write the bits again, and report the race (the router then
// lets the agent look at the queues).
TEST(AgentIndexTest, AStaleSyncDoesNotHideAFreeAgent) {
  EpochDomain epoch;
  AgentIndex index(8, 4, 4, &epoch);
  auto record = Record(index, "a", 1);
  const int agent = record->index;
  ASSERT_TRUE(index.Add(std::move(record), 0).ok());
  ASSERT_TRUE(Available(index, agent));
  bool inside = false;
  int windows = 0;
  index.SetSyncWindowForTesting([&](int a) {
    if (inside || windows++ > 0) return;
    inside = true;
    // Another thread's release, and its own sync, complete in the window.
    index.DropLoad(a, kVoice, 0, true);
    EXPECT_FALSE(index.SyncAvailability(a));
    EXPECT_TRUE(index.Free(kVoice).Test(a));
    inside = false;
  });
  auto guard = epoch.Pin();
  bool raced = false;
  ASSERT_TRUE(
      index.Claim(agent, kVoice, index.Slot(agent).record.load(), &raced));
  EXPECT_EQ(AgentWord::Load(index.Slot(agent).word.load(), kVoice), 0);
  EXPECT_TRUE(index.Free(kVoice).Test(agent))
      << "a sync from a stale word cleared the bit of a free agent";
  EXPECT_TRUE(raced) << "the race went unreported: no one drains the queues";
}

// A sync whose word moved while it wrote reports it when the agent has room
// (the caller must then look at the queues); a sync that raced with nothing
// does not.
TEST(AgentIndexTest, SyncReportsOnlyARaceThatLeftRoom) {
  EpochDomain epoch;
  AgentIndex index(8, 4, 4, &epoch);
  auto record = Record(index, "a", 1);
  const int agent = record->index;
  ASSERT_TRUE(index.Add(std::move(record), 0).ok());
  ASSERT_TRUE(Available(index, agent));
  auto guard = epoch.Pin();
  EXPECT_FALSE(index.SyncAvailability(agent));
  EXPECT_TRUE(index.Free(kVoice).Test(agent));
  bool raced = true;
  ASSERT_TRUE(index.Claim(agent, kVoice, index.Slot(agent).record.load(),
                          &raced));
  EXPECT_FALSE(raced);
  EXPECT_FALSE(index.Free(kVoice).Test(agent));
  // Full: a second claim is refused and changes nothing.
  EXPECT_FALSE(index.Claim(agent, kVoice, index.Slot(agent).record.load(),
                           &raced));
  EXPECT_EQ(AgentWord::Load(index.Slot(agent).word.load(), kVoice), 1);
}

// Of concurrent adds of one id exactly one wins, and the loser changes
// nothing: not the winner's presence, not a load it already took.
TEST(AgentIndexTest, ConcurrentAddsOfOneIdAdmitOne) {
  EpochDomain epoch;
  AgentIndex index(8, 4, 4, &epoch);
  for (int round = 0; round < 300; ++round) {
    const std::string id = "a" + std::to_string(round % 4);
    const int agent = index.ids().FindOrInsert(id);
    std::atomic<int> added{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        if (index.Add(Record(index, id, 1), 0).ok()) {
          added.fetch_add(1);
          // The winner goes available and takes a contact at once.
          Available(index, agent);
          bool raced;
          auto guard = epoch.Pin();
          index.Claim(agent, kVoice, index.Slot(agent).record.load(), &raced);
        }
      });
    }
    for (std::thread& t : threads) t.join();
    ASSERT_EQ(added.load(), 1) << "round " << round;
    const uint64_t word = index.Slot(agent).word.load();
    ASSERT_TRUE(AgentWord::IsAvailable(word));
    ASSERT_EQ(AgentWord::Load(word, kVoice), 1);
    index.DropLoad(agent, kVoice, 0, true);
    uint64_t removed;
    ASSERT_TRUE(index.Remove(agent, &removed));
  }
}

}  // namespace
}  // namespace routing::internal
