// Snapshots: a router's state through the codec and the file, and into a
// new router; damage refused, naming the file.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "journal/snapshot_codec.h"
#include "journal/snapshot_files.h"
#include "journal/snapshot_generated.h"
#include "routing/router.h"
#include "tests/journal/journal_test_support.h"

namespace journal {
namespace {

using ::testing::HasSubstr;

routing::AgentProfile Agent(const std::string& id, const std::string& skill,
                            int level) {
  routing::AgentProfile p;
  p.id = id;
  p.skills = {{skill, level}};
  p.languages = {{"en", 5}, {"es", 3}};
  p.SetCapacity(routing::Channel::kVoice, 1);
  p.SetCapacity(routing::Channel::kChat, 2);
  p.team = "north";
  p.attributes["shift"] = "early";
  return p;
}

routing::Contact Contact(const std::string& id, const std::string& skill,
                         routing::Channel channel = routing::Channel::kVoice) {
  routing::Contact c;
  c.id = id;
  c.channel = channel;
  c.required_skills = {{skill, 1}};
  return c;
}

class SnapshotTest : public ::testing::Test {
 protected:
  SnapshotTest() : clock_(absl::FromUnixSeconds(1'800'000'000)) {}

  std::unique_ptr<routing::Router> NewRouter() {
    routing::RouterOptions options;
    options.clock = &clock_;
    return *routing::Router::Create(options);
  }

  // Agents in several states, held and queued contacts, history.
  std::unique_ptr<routing::Router> Busy() {
    auto router = NewRouter();
    for (const auto& [id, skill] :
         {std::pair{"ana", "billing"}, {"bo", "billing"}, {"cy", "tech"}}) {
      EXPECT_TRUE(router->AddAgent(Agent(id, skill, 4)).ok());
      EXPECT_TRUE(
          router->SetAgentState(id, routing::AgentState::kAvailable).ok());
      clock_.Advance(absl::Seconds(7));
    }
    routing::Contact past = Contact("past-1", "billing");
    past.customer_id = "cust-9";
    EXPECT_TRUE(router->Route(past).ok());
    clock_.Advance(absl::Minutes(2));
    EXPECT_TRUE(
        router->Release("past-1", routing::ContactOutcome::kResolved).ok());
    routing::Contact chat = Contact("chat-1", "billing", routing::Channel::kChat);
    chat.attributes["intent"] = "refund";
    chat.languages = {"es"};
    chat.customer_id = "cust-9";
    EXPECT_TRUE(router->Route(chat).ok());
    EXPECT_TRUE(router->Route(Contact("call-1", "billing")).ok());
    EXPECT_TRUE(router->Route(Contact("call-2", "billing")).ok());
    EXPECT_TRUE(router->Route(Contact("call-3", "tech")).ok());
    clock_.Advance(absl::Seconds(1));
    routing::Contact vip = Contact("call-4", "tech");
    vip.priority = 7;
    EXPECT_TRUE(router->Route(vip).ok());
    EXPECT_TRUE(router->Route(Contact("call-5", "tech")).ok());
    EXPECT_TRUE(
        router->SetAgentState("cy", routing::AgentState::kBreak).ok());
    clock_.Advance(absl::Seconds(30));
    return router;
  }

  routing::ManualClock clock_;
};

TEST_F(SnapshotTest, AStateGoesThroughTheCodecUnchanged) {
  auto router = Busy();
  const routing::RouterState state = router->ExportState();
  SnapshotInfo info;
  info.sequence = 4321;
  info.taken_at = clock_.Now();
  info.rules_file = "/etc/routing/rules.lua";
  info.rules_source = "return {}";
  info.rules_version = 3;
  auto decoded = DecodeSnapshot(EncodeSnapshot(info, state));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->info.sequence, 4321u);
  EXPECT_EQ(decoded->info.taken_at, clock_.Now());
  EXPECT_EQ(decoded->info.rules_file, "/etc/routing/rules.lua");
  EXPECT_EQ(decoded->info.rules_source, "return {}");
  EXPECT_EQ(decoded->info.rules_version, 3u);

  const routing::RouterState& back = decoded->state;
  ASSERT_EQ(back.agents.size(), state.agents.size());
  for (size_t i = 0; i < state.agents.size(); ++i) {
    const auto& a = state.agents[i];
    const auto& b = back.agents[i];
    EXPECT_EQ(b.profile.id, a.profile.id);
    EXPECT_EQ(b.profile.skills.size(), a.profile.skills.size());
    EXPECT_EQ(b.profile.languages.size(), a.profile.languages.size());
    EXPECT_EQ(b.profile.capacity, a.profile.capacity);
    EXPECT_EQ(b.profile.team, a.profile.team);
    EXPECT_EQ(b.profile.attributes, a.profile.attributes);
    EXPECT_EQ(b.state, a.state);
    EXPECT_EQ(b.state_since, a.state_since);
    EXPECT_EQ(b.idle_since, a.idle_since);
    EXPECT_EQ(b.logged_in_at, a.logged_in_at);
    EXPECT_EQ(b.handled, a.handled);
    EXPECT_EQ(b.contacts_handled, a.contacts_handled);
  }
  ASSERT_EQ(back.contacts.size(), state.contacts.size());
  for (size_t i = 0; i < state.contacts.size(); ++i) {
    const auto& a = state.contacts[i];
    const auto& b = back.contacts[i];
    EXPECT_EQ(b.contact.id, a.contact.id);
    EXPECT_EQ(b.contact.channel, a.contact.channel);
    EXPECT_EQ(b.contact.queue, a.contact.queue);
    EXPECT_EQ(b.contact.required_skills.size(),
              a.contact.required_skills.size());
    EXPECT_EQ(b.contact.languages, a.contact.languages);
    EXPECT_EQ(b.contact.priority, a.contact.priority);
    EXPECT_EQ(b.contact.customer_id, a.contact.customer_id);
    EXPECT_EQ(b.contact.enqueue_time, a.contact.enqueue_time);
    EXPECT_EQ(b.contact.attributes, a.contact.attributes);
    EXPECT_EQ(b.state, a.state);
    EXPECT_EQ(b.planned_at, a.planned_at);
    EXPECT_EQ(b.placement, a.placement);
    EXPECT_EQ(b.agent_id, a.agent_id);
    EXPECT_EQ(b.assigned_at, a.assigned_at);
  }
  ASSERT_EQ(back.customers.size(), state.customers.size());
  ASSERT_FALSE(back.customers.empty());
  EXPECT_EQ(back.customers[0].customer_key, state.customers[0].customer_key);
  EXPECT_EQ(back.customers[0].interactions[0].agent_id,
            state.customers[0].interactions[0].agent_id);

  // And into a new router, which then holds what the first one held.
  auto restored = NewRouter();
  ASSERT_TRUE(restored->ImportState(back).ok());
  for (const char* id :
       {"chat-1", "call-1", "call-2", "call-3", "call-4", "call-5"}) {
    auto x = router->GetContact(id);
    auto y = restored->GetContact(id);
    ASSERT_TRUE(x.ok() && y.ok()) << id;
    EXPECT_EQ(y->state, x->state) << id;
    EXPECT_EQ(y->agent_id, x->agent_id) << id;
    EXPECT_EQ(y->queue_position, x->queue_position) << id;
  }
  EXPECT_EQ(restored->CustomerHistory("cust-9").size(), 1u);
}

TEST_F(SnapshotTest, DecodingRefusesWhatItCannotTrust) {
  const std::string body = EncodeSnapshot({}, Busy()->ExportState());
  EXPECT_THAT(DecodeSnapshot("not a snapshot at all").status().message(),
              HasSubstr("not a snapshot"));
  for (size_t cut : {body.size() / 2, body.size() - 1}) {
    const auto status = DecodeSnapshot(body.substr(0, cut)).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << cut;
  }
  // A newer schema than this reader knows.
  flatbuffers::FlatBufferBuilder b;
  routing::journal::fb::SnapshotBuilder newer(b);
  newer.add_schema_version(kSnapshotSchemaVersion + 1);
  b.Finish(newer.Finish(), routing::journal::fb::SnapshotIdentifier());
  const auto status =
      DecodeSnapshot(std::string_view(
                         reinterpret_cast<const char*>(b.GetBufferPointer()),
                         b.GetSize()))
          .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr("schema version 2"));
}

TEST_F(SnapshotTest, FilesAreReplacedWholeAndDamageIsNamed) {
  const std::string dir = ScratchDirectory("snapshots");
  std::filesystem::create_directories(dir);
  auto none = ReadLatestSnapshotFile(dir);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  ASSERT_TRUE(WriteSnapshotFile(dir, 10, "first body").ok());
  ASSERT_TRUE(WriteSnapshotFile(dir, 20, "second body").ok());
  // A crash while writing a third leaves only its temporary file.
  std::ofstream(dir + "/snapshot-00000000000000000030.rsnap.tmp") << "half";
  auto latest = ReadLatestSnapshotFile(dir);
  ASSERT_TRUE(latest.ok()) << latest.status();
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ((*latest)->sequence, 20u);
  EXPECT_EQ((*latest)->body, "second body");
  EXPECT_FALSE(std::filesystem::exists(
      dir + "/snapshot-00000000000000000010.rsnap"));

  // One flipped bit in the body.
  const std::string path = (*latest)->path;
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[bytes.size() - 3] ^= 0x04;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  auto damaged = ReadLatestSnapshotFile(dir);
  EXPECT_EQ(damaged.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(damaged.status().message(), HasSubstr(path));
  EXPECT_THAT(damaged.status().message(), HasSubstr("checksum mismatch"));
}

TEST_F(SnapshotTest, TheNextSnapshotRemovesWhatACrashLeft) {
  const std::string dir = ScratchDirectory("snapshot-leftovers");
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(WriteSnapshotFile(dir, 10, "first body").ok());
  const std::string leftover = dir + "/snapshot-00000000000000000015.rsnap.tmp";
  std::ofstream(leftover) << "a state half written when the process died";
  std::ofstream(dir + "/notes.txt") << "not ours";
  ASSERT_TRUE(WriteSnapshotFile(dir, 20, "second body").ok());
  EXPECT_FALSE(std::filesystem::exists(leftover));
  EXPECT_TRUE(std::filesystem::exists(dir + "/notes.txt"));
  EXPECT_TRUE(std::filesystem::exists(
      dir + "/snapshot-00000000000000000020.rsnap"));
}

}  // namespace
}  // namespace journal
