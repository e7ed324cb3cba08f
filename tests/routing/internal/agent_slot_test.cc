#include "routing/internal/agent_slot.h"

#include "gtest/gtest.h"

namespace routing::internal {
namespace {

TEST(AgentWordTest, LoadsOfChannelsAreIndependent) {
  uint64_t w = AgentWord::WithPresence(AgentWord::kRemoved,
                                       static_cast<uint8_t>(AgentState::kAvailable));
  EXPECT_TRUE(AgentWord::IsAvailable(w));
  w = AgentWord::WithLoadDelta(w, ChannelIndex(Channel::kChat), +1);
  w = AgentWord::WithLoadDelta(w, ChannelIndex(Channel::kChat), +1);
  w = AgentWord::WithLoadDelta(w, ChannelIndex(Channel::kVideo), +1);
  EXPECT_EQ(AgentWord::Load(w, ChannelIndex(Channel::kChat)), 2);
  EXPECT_EQ(AgentWord::Load(w, ChannelIndex(Channel::kVideo)), 1);
  EXPECT_EQ(AgentWord::Load(w, ChannelIndex(Channel::kVoice)), 0);
  EXPECT_EQ(AgentWord::TotalLoad(w), 3);
  EXPECT_TRUE(AgentWord::IsAvailable(w));
}

TEST(AgentWordTest, FullCapacityDoesNotSpillIntoTheNextChannel) {
  uint64_t w = 0;
  for (int i = 0; i < kMaxChannelCapacity; ++i) {
    w = AgentWord::WithLoadDelta(w, ChannelIndex(Channel::kVoice), +1);
  }
  EXPECT_EQ(AgentWord::Load(w, ChannelIndex(Channel::kVoice)), kMaxChannelCapacity);
  EXPECT_EQ(AgentWord::Load(w, ChannelIndex(Channel::kChat)), 0);
  EXPECT_EQ(AgentWord::Presence(w), 0);
}

TEST(AgentWordTest, EveryChangeBumpsTheVersion) {
  const uint64_t a = 0;
  const uint64_t b = AgentWord::WithLoadDelta(a, 0, +1);
  const uint64_t c = AgentWord::WithLoadDelta(b, 0, -1);
  EXPECT_NE(a, c);  // Same load, different version: a stale CAS fails.
  EXPECT_EQ(AgentWord::TotalLoad(a), AgentWord::TotalLoad(c));
}

TEST(AgentRecordTest, RoomAccountsForChannelAndTotalCaps) {
  AgentRecord r;
  r.capacity[ChannelIndex(Channel::kVoice)] = 1;
  r.capacity[ChannelIndex(Channel::kChat)] = 3;
  r.max_total = 2;
  uint64_t w = 0;
  EXPECT_TRUE(r.HasRoomFor(w, ChannelIndex(Channel::kChat)));
  EXPECT_FALSE(r.HasRoomFor(w, ChannelIndex(Channel::kEmail)));
  w = AgentWord::WithLoadDelta(w, ChannelIndex(Channel::kVoice), +1);
  EXPECT_FALSE(r.HasRoomFor(w, ChannelIndex(Channel::kVoice)));
  EXPECT_TRUE(r.HasRoomFor(w, ChannelIndex(Channel::kChat)));
  w = AgentWord::WithLoadDelta(w, ChannelIndex(Channel::kChat), +1);
  EXPECT_FALSE(r.HasRoomFor(w, ChannelIndex(Channel::kChat)));  // Total cap.
}

TEST(AgentRecordTest, SkillAndLanguageLookups) {
  AgentRecord r;
  r.skills = {{2, 5}, {7, 3}};
  r.languages = {{0, 4}};
  EXPECT_EQ(r.SkillLevel(7), 3);
  EXPECT_EQ(r.SkillLevel(3), 0);
  EXPECT_EQ(r.Fluency(0), 4);
  EXPECT_EQ(r.Fluency(1), 0);
}

}  // namespace
}  // namespace routing::internal
