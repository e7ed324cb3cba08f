#include "sidecar/event_sequencer.h"

#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "flatbuffers/flatbuffers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sidecar/event_topics.h"
#include "sidecar/routing_generated.h"
#include "sidecar/wire_encoder.h"

namespace routing::sidecar {
namespace {

using ::testing::HasSubstr;

// An event as a worker hands it to the publisher: its own bytes.
std::vector<uint8_t> AgentEvent() {
  flatbuffers::FlatBufferBuilder fbb;
  FinishAgentStateEvent(fbb, EventHeader{7, 1000, 99}, "alice",
                        AgentState::kAvailable,
                        wire::AgentStateReason::Requested);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::vector<uint8_t> ContactEvent(wire::ContactChange change) {
  flatbuffers::FlatBufferBuilder fbb;
  ContactChangeFacts facts;
  facts.change = change;
  facts.contact_id = "chat-1";
  facts.queue = "billing";
  FinishContactChangedEvent(fbb, EventHeader{8, 1000, 99}, facts);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

// Stamps a fresh copy of `bytes` and returns (topic_sequence,
// family_sequence).
std::pair<uint64_t, uint64_t> Stamp(EventSequencer& sequencer,
                                    const std::string& topic,
                                    std::vector<uint8_t> bytes) {
  absl::Status status = sequencer.Stamp(topic, bytes.data(), bytes.size());
  EXPECT_TRUE(status.ok()) << status;
  const wire::Event* event = flatbuffers::GetRoot<wire::Event>(bytes.data());
  EXPECT_EQ(event->run_id(), 99u);
  return {event->topic_sequence(), event->family_sequence()};
}

TEST(EventSequencerTest, CountsEachTopicAndEachFamilyFromOne) {
  EventSequencer sequencer;
  using P = std::pair<uint64_t, uint64_t>;
  EXPECT_EQ(Stamp(sequencer, AgentTopic("alice"), AgentEvent()), P(1, 1));
  EXPECT_EQ(Stamp(sequencer, AgentTopic("bob"), AgentEvent()), P(1, 2));
  EXPECT_EQ(Stamp(sequencer, AgentTopic("alice"), AgentEvent()), P(2, 3));
  EXPECT_EQ(Stamp(sequencer, ContactTopic("chat-1"),
                  ContactEvent(wire::ContactChange::Queued)),
            P(1, 1));
  EXPECT_EQ(Stamp(sequencer, QueueTopic("billing"),
                  ContactEvent(wire::ContactChange::Queued)),
            P(1, 1));
  // chat-10 is another topic: its numbering is its own.
  EXPECT_EQ(Stamp(sequencer, ContactTopic("chat-10"),
                  ContactEvent(wire::ContactChange::Queued)),
            P(1, 2));
  EXPECT_EQ(Stamp(sequencer, ContactTopic("chat-1"),
                  ContactEvent(wire::ContactChange::Requeued)),
            P(2, 3));
  EXPECT_EQ(Stamp(sequencer, std::string(kRulesReloadTopic), AgentEvent()),
            P(1, 1));
}

TEST(EventSequencerTest, AContactTopicIsForgottenAfterItsTerminalEvent) {
  EventSequencer sequencer;
  using P = std::pair<uint64_t, uint64_t>;
  for (wire::ContactChange end :
       {wire::ContactChange::Released, wire::ContactChange::Cancelled}) {
    SCOPED_TRACE(static_cast<int>(end));
    Stamp(sequencer, ContactTopic("chat-1"),
          ContactEvent(wire::ContactChange::Queued));
    const size_t tracked = sequencer.tracked_topics();
    EXPECT_EQ(Stamp(sequencer, ContactTopic("chat-1"), ContactEvent(end)).first,
              2u);
    EXPECT_EQ(sequencer.tracked_topics(), tracked - 1);
  }
  // The queue's topic outlives its contacts; the id routed again counts
  // afresh, while its family goes on.
  EXPECT_EQ(Stamp(sequencer, ContactTopic("chat-1"),
                  ContactEvent(wire::ContactChange::Queued)),
            P(1, 5));
  EXPECT_EQ(Stamp(sequencer, QueueTopic("billing"),
                  ContactEvent(wire::ContactChange::Released)),
            P(1, 1));
  EXPECT_EQ(Stamp(sequencer, QueueTopic("billing"),
                  ContactEvent(wire::ContactChange::Released)),
            P(2, 2));
}

TEST(EventSequencerTest, StampsUnalignedBytes) {
  EventSequencer sequencer;
  std::vector<uint8_t> event = AgentEvent();
  std::vector<uint8_t> storage(event.size() + 8);
  uint8_t* odd = storage.data() + 1;
  std::memcpy(odd, event.data(), event.size());
  ASSERT_TRUE(sequencer.Stamp(AgentTopic("a"), odd, event.size()).ok());
  ASSERT_TRUE(sequencer.Stamp(AgentTopic("a"), odd, event.size()).ok());
  std::memcpy(event.data(), odd, event.size());
  EXPECT_EQ(flatbuffers::GetRoot<wire::Event>(event.data())->topic_sequence(),
            2u);
}

TEST(EventSequencerTest, RefusesWhatItCannotNumberAndCountsNothing) {
  EventSequencer sequencer;
  std::vector<uint8_t> event = AgentEvent();
  absl::Status status =
      sequencer.Stamp("contacts/x", event.data(), event.size());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("of no family"));

  std::vector<uint8_t> garbage(64, 0xAB);
  status = sequencer.Stamp(AgentTopic("a"), garbage.data(), garbage.size());
  EXPECT_THAT(status.message(), HasSubstr("not a valid Event"));

  // An Event built without the two fields (not by our encoder).
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(wire::CreateEvent(fbb, 1, 1, 0), kFileIdentifier);
  std::vector<uint8_t> bare(fbb.GetBufferPointer(),
                            fbb.GetBufferPointer() + fbb.GetSize());
  status = sequencer.Stamp(AgentTopic("a"), bare.data(), bare.size());
  EXPECT_THAT(status.message(), HasSubstr("lacks topic_sequence"));
  EXPECT_EQ(sequencer.tracked_topics(), 0u);
  EXPECT_EQ(Stamp(sequencer, AgentTopic("a"), AgentEvent()).first, 1u);
}

}  // namespace
}  // namespace routing::sidecar
