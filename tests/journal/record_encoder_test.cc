// journal/record_encoder.h: a record built piece by piece from views of the
// router's state reads back as what was given, and an encoder reused for
// the next record carries nothing over from the one before.
#include "journal/record_encoder.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "flatbuffers/flatbuffers.h"
#include "gtest/gtest.h"
#include "journal/journal_generated.h"
#include "journal/journal_record.h"
#include "routing/router_state.h"

namespace journal {
namespace {

routing::AgentSnapshot Agent(const std::string& id) {
  routing::AgentSnapshot agent;
  agent.profile.id = id;
  agent.profile.skills = {{"billing", 4}, {"sales", 2}};
  agent.profile.languages = {{"en", 5}, {"fr", 3}};
  agent.profile.SetCapacity(routing::Channel::kChat, 3);
  agent.profile.team = "north";
  agent.profile.attributes["tier"] = "gold";
  agent.state = routing::AgentState::kBusy;
  agent.state_since = absl::FromUnixSeconds(1000);
  agent.handled = absl::Seconds(90);
  agent.contacts_handled = 7;
  return agent;
}

routing::ContactSnapshot Contact(const std::string& id) {
  routing::ContactSnapshot contact;
  contact.contact.id = id;
  contact.contact.channel = routing::Channel::kChat;
  contact.contact.queue = "billing";
  contact.contact.required_skills = {{"billing", 2}};
  contact.contact.languages = {"fr", "en"};
  contact.contact.priority = 3;
  contact.contact.customer_id = "cust-9";
  contact.contact.excluded_agents = {"agent-x"};
  contact.contact.attributes["intent"] = "refund";
  contact.contact.enqueue_time = absl::FromUnixSeconds(2000);
  contact.state = routing::ContactSnapshot::State::kAssigned;
  contact.agent_id = "agent-1";
  contact.assigned_at = absl::FromUnixSeconds(2005);
  contact.placement = 41;
  return contact;
}

TEST(RecordEncoderTest, APieceByPieceRecordReadsBackAsGiven) {
  const routing::AgentSnapshot agent = Agent("agent-1");
  const routing::ContactSnapshot contact = Contact("chat-1");
  RecordEncoder encoder;
  encoder.Start(RecordKind::kRequest, absl::FromUnixSeconds(2005));
  const routing::ContactView contact_view = routing::ViewOf(contact);
  encoder.AddContact("chat-1", &contact_view);
  encoder.AddContact("chat-gone", nullptr);
  const routing::AgentView agent_view = routing::ViewOf(agent);
  encoder.AddAgent("agent-1", &agent_view);
  encoder.AddAgent("agent-removed", nullptr);
  encoder.AddHistory(
      77, {"agent-1", routing::Channel::kChat,
           routing::ContactOutcome::kResolved, absl::FromUnixSeconds(1990)});
  RecordedAssignment assignment;
  assignment.contact_id = "chat-2";
  assignment.queue = "sales";
  assignment.waited = absl::Milliseconds(1500);
  assignment.decision.agent_id = "agent-1";
  assignment.decision.score = 0.75;
  assignment.decision.components = {{"skill", 1.0, 0.35, 0.35, "billing 4/5"}};
  assignment.decision.runners_up = {{"agent-2", 0.5}};
  encoder.AddAssignment(assignment);
  const std::string body = encoder.Finish("request bytes", "reply bytes");

  absl::StatusOr<JournalRecord> record = DecodeRecord(body);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->kind, RecordKind::kRequest);
  EXPECT_EQ(record->time, absl::FromUnixSeconds(2005));
  EXPECT_EQ(record->request, "request bytes");
  EXPECT_EQ(record->reply, "reply bytes");
  ASSERT_EQ(record->contacts.size(), 2u);
  EXPECT_EQ(record->contacts[0].id, "chat-1");
  ASSERT_TRUE(record->contacts[0].contact.has_value());
  const routing::ContactSnapshot& c = *record->contacts[0].contact;
  EXPECT_EQ(c.contact.queue, "billing");
  EXPECT_EQ(c.contact.languages, contact.contact.languages);
  EXPECT_EQ(c.contact.required_skills.size(), 1u);
  EXPECT_EQ(c.contact.priority, 3);
  EXPECT_EQ(c.contact.excluded_agents, contact.contact.excluded_agents);
  EXPECT_EQ(c.contact.attributes.at("intent"), "refund");
  EXPECT_EQ(c.contact.enqueue_time, contact.contact.enqueue_time);
  EXPECT_EQ(c.state, routing::ContactSnapshot::State::kAssigned);
  EXPECT_EQ(c.agent_id, "agent-1");
  EXPECT_EQ(c.assigned_at, contact.assigned_at);
  EXPECT_EQ(c.placement, 41u);
  EXPECT_EQ(record->contacts[1].id, "chat-gone");
  EXPECT_FALSE(record->contacts[1].contact.has_value());
  ASSERT_EQ(record->agents.size(), 2u);
  ASSERT_TRUE(record->agents[0].agent.has_value());
  const routing::AgentSnapshot& a = *record->agents[0].agent;
  EXPECT_EQ(a.profile.id, "agent-1");
  EXPECT_EQ(a.profile.skills.size(), 2u);
  EXPECT_EQ(a.profile.languages.size(), 2u);
  EXPECT_EQ(a.profile.CapacityOf(routing::Channel::kChat), 3);
  EXPECT_EQ(a.profile.team, "north");
  EXPECT_EQ(a.profile.attributes.at("tier"), "gold");
  EXPECT_EQ(a.state, routing::AgentState::kBusy);
  EXPECT_EQ(a.handled, absl::Seconds(90));
  EXPECT_EQ(a.contacts_handled, 7);
  EXPECT_FALSE(record->agents[1].agent.has_value());
  ASSERT_EQ(record->history.size(), 1u);
  EXPECT_EQ(record->history[0].customer_key, 77u);
  EXPECT_EQ(record->history[0].interaction.outcome,
            routing::ContactOutcome::kResolved);
  ASSERT_EQ(record->assignments.size(), 1u);
  EXPECT_EQ(record->assignments[0].contact_id, "chat-2");
  EXPECT_EQ(record->assignments[0].waited, absl::Milliseconds(1500));
  EXPECT_EQ(record->assignments[0].decision.agent_id, "agent-1");
  ASSERT_EQ(record->assignments[0].decision.components.size(), 1u);
  EXPECT_EQ(record->assignments[0].decision.components[0].detail,
            "billing 4/5");
  ASSERT_EQ(record->assignments[0].decision.runners_up.size(), 1u);
  EXPECT_EQ(record->rules_file, "");
  EXPECT_EQ(record->rules_version, 0u);
}

TEST(RecordEncoderTest, TheNextRecordCarriesNothingOfTheOneBefore) {
  const routing::AgentSnapshot agent = Agent("agent-1");
  const routing::ContactSnapshot contact = Contact("chat-1");
  RecordEncoder encoder;
  encoder.Start(RecordKind::kRulesReload, absl::FromUnixSeconds(10));
  const routing::ContactView contact_view = routing::ViewOf(contact);
  encoder.AddContact("chat-1", &contact_view);
  const routing::AgentView agent_view = routing::ViewOf(agent);
  encoder.AddAgent("agent-1", &agent_view);
  encoder.SetRules("rules.lua", "return {}", 4);
  // Left unfinished: Start drops it.
  encoder.Start(RecordKind::kRequest, absl::FromUnixSeconds(11));
  encoder.AddAgent("agent-2", nullptr);
  encoder.Finish("r1", "");
  encoder.Start(RecordKind::kQueueAdvance, absl::FromUnixSeconds(12));
  encoder.AddContact("chat-3", nullptr);
  absl::StatusOr<JournalRecord> record =
      DecodeRecord(encoder.Finish("", "reply"));
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->kind, RecordKind::kQueueAdvance);
  EXPECT_EQ(record->time, absl::FromUnixSeconds(12));
  EXPECT_EQ(record->request, "");
  EXPECT_EQ(record->reply, "reply");
  ASSERT_EQ(record->contacts.size(), 1u);
  EXPECT_EQ(record->contacts[0].id, "chat-3");
  EXPECT_TRUE(record->agents.empty());
  EXPECT_TRUE(record->assignments.empty());
  EXPECT_EQ(record->rules_file, "");
  EXPECT_EQ(record->rules_source, "");
  EXPECT_EQ(record->rules_version, 0u);
}

TEST(RecordEncoderTest, AStateOnlyAgentChangeCarriesNoProfile) {
  // A requeue, a release, a state change: the agent's profile is the one it
  // had, and the record says only what changed in its state.
  const routing::AgentSnapshot agent = Agent("agent-1");
  const routing::AgentView view = routing::ViewOf(agent);
  RecordEncoder encoder;
  encoder.Start(RecordKind::kRequest, absl::FromUnixSeconds(3000));
  encoder.AddAgent("agent-1", &view, /*with_profile=*/false);
  const std::string state_only = encoder.Finish("", "");
  encoder.Start(RecordKind::kRequest, absl::FromUnixSeconds(3000));
  encoder.AddAgent("agent-1", &view);
  const std::string whole = encoder.Finish("", "");
  // Without the skills, languages, capacity, team and attributes.
  EXPECT_LT(state_only.size() + 100, whole.size())
      << state_only.size() << " against " << whole.size();

  absl::StatusOr<JournalRecord> record = DecodeRecord(state_only);
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_EQ(record->agents.size(), 1u);
  const AgentChange& change = record->agents[0];
  EXPECT_EQ(change.id, "agent-1");
  EXPECT_TRUE(change.profile_unchanged);
  ASSERT_TRUE(change.agent.has_value());
  EXPECT_TRUE(change.agent->profile.skills.empty());
  EXPECT_TRUE(change.agent->profile.team.empty());
  EXPECT_EQ(change.agent->state, routing::AgentState::kBusy);
  EXPECT_EQ(change.agent->state_since, absl::FromUnixSeconds(1000));
  EXPECT_EQ(change.agent->handled, absl::Seconds(90));
  EXPECT_EQ(change.agent->contacts_handled, 7);
  // EncodeRecord keeps the distinction.
  absl::StatusOr<JournalRecord> again = DecodeRecord(EncodeRecord(*record));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->agents[0].profile_unchanged);
  absl::StatusOr<JournalRecord> full = DecodeRecord(whole);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_FALSE(full->agents[0].profile_unchanged);
  EXPECT_EQ(full->agents[0].agent->profile.team, "north");
}

// A record body made by hand, as another writer might.
std::string HandMadeRecord(uint32_t version, bool with_agent,
                           bool profile_unchanged) {
  namespace fb = routing::journal::fb;
  flatbuffers::FlatBufferBuilder b;
  auto id = b.CreateString("agent-1");
  flatbuffers::Offset<fb::Agent> table;
  if (with_agent) {
    auto agent_id = b.CreateString("agent-1");
    fb::AgentBuilder agent(b);
    agent.add_id(agent_id);
    agent.add_state(static_cast<uint8_t>(routing::AgentState::kAvailable));
    table = agent.Finish();
  }
  auto change = fb::CreateAgentChange(b, id, table, profile_unchanged);
  auto agents = b.CreateVector(&change, 1);
  fb::RecordBuilder record(b);
  record.add_schema_version(version);
  record.add_time_ns(absl::ToUnixNanos(absl::FromUnixSeconds(5)));
  record.add_agents(agents);
  b.Finish(record.Finish(), fb::RecordIdentifier());
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()),
                     b.GetSize());
}

TEST(RecordEncoderTest, VersionOneRecordsStillReadAndLaterOnesAreRefused) {
  absl::StatusOr<JournalRecord> v1 =
      DecodeRecord(HandMadeRecord(1, /*with_agent=*/true, false));
  ASSERT_TRUE(v1.ok()) << v1.status();
  ASSERT_EQ(v1->agents.size(), 1u);
  EXPECT_FALSE(v1->agents[0].profile_unchanged);
  EXPECT_EQ(v1->agents[0].agent->profile.id, "agent-1");

  for (uint32_t version : {0u, kRecordSchemaVersion + 1}) {
    absl::StatusOr<JournalRecord> refused =
        DecodeRecord(HandMadeRecord(version, true, false));
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss) << version;
    EXPECT_NE(refused.status().message().find(
                  absl::StrCat("schema version ", version)),
              std::string::npos)
        << refused.status().message();
  }
  // An unchanged profile with no state to go with it is not a change.
  absl::StatusOr<JournalRecord> empty =
      DecodeRecord(HandMadeRecord(2, /*with_agent=*/false, true));
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(empty.status().message().find("'agent-1'"), std::string::npos)
      << empty.status().message();
}

// EncodeRecord is the same encoder fed from a JournalRecord: a rules
// reload keeps its file, text and version.
TEST(RecordEncoderTest, EncodeRecordKeepsARulesReload) {
  JournalRecord reload;
  reload.kind = RecordKind::kRulesReload;
  reload.time = absl::FromUnixSeconds(20);
  reload.rules_file = "/etc/routing/rules.lua";
  reload.rules_source = "return { version = 'x' }";
  reload.rules_version = 9;
  absl::StatusOr<JournalRecord> back = DecodeRecord(EncodeRecord(reload));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->kind, RecordKind::kRulesReload);
  EXPECT_EQ(back->rules_file, reload.rules_file);
  EXPECT_EQ(back->rules_source, reload.rules_source);
  EXPECT_EQ(back->rules_version, 9u);
}

TEST(RecordEncoderTest, ABodyAtAnyOffsetDecodes) {
  // A body lies wherever its frame put it: after a group frame of any
  // length, or as another writer made it. (UBSan checks the reads.)
  JournalRecord reload;
  reload.kind = RecordKind::kRulesReload;
  reload.time = absl::FromUnixSeconds(20);
  reload.rules_file = "/etc/routing/rules.lua";
  reload.rules_version = 9;
  const std::string body = EncodeRecord(reload);
  for (size_t offset = 0; offset < 8; ++offset) {
    const std::string bytes = std::string(offset, 'x') + body;
    absl::StatusOr<JournalRecord> back =
        DecodeRecord(std::string_view(bytes).substr(offset));
    ASSERT_TRUE(back.ok()) << offset << ": " << back.status();
    EXPECT_EQ(back->rules_file, reload.rules_file) << offset;
    EXPECT_EQ(back->time, reload.time) << offset;
  }
}

}  // namespace
}  // namespace journal
