// routing_journal dump: what a record says, as JSON and as a line, from the
// request and reply bytes routingd exchanged; and the command on a journal
// directory, damage included.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "journal/journal_record.h"
#include "journal/journal_writer.h"
#include "journal/record_description.h"
#include "journal/segment_sink.h"
#include "routing/routing_decision.h"
#include "sidecar/wire_encoder.h"
#include "tests/journal/journal_test_support.h"

namespace journal {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace wire = routing::sidecar::wire;

std::string Bytes(const flatbuffers::FlatBufferBuilder& fbb) {
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()),
                     fbb.GetSize());
}

// A RouteContact for chat-1 and its reply: assigned to ana.
JournalRecord RoutedRecord() {
  JournalRecord record;
  record.time = absl::FromUnixSeconds(1'800'000'000);
  routing::Contact contact;
  contact.id = "chat-1";
  contact.channel = routing::Channel::kChat;
  contact.required_skills = {{"billing", 2}};
  flatbuffers::FlatBufferBuilder request;
  auto c = routing::sidecar::BuildContact(request, contact, nullptr);
  routing::sidecar::FinishRequest(request, 7, wire::RequestBody::RouteContact,
                                  wire::CreateRouteContact(request, c).Union());
  record.request = Bytes(request);
  routing::RoutingDecision decision;
  decision.contact_id = "chat-1";
  decision.outcome = routing::DecisionOutcome::kAssigned;
  decision.agent_id = "ana";
  decision.queue = "billing";
  decision.score = 0.8;
  flatbuffers::FlatBufferBuilder reply;
  auto d = routing::sidecar::BuildDecision(reply, decision, false);
  routing::sidecar::FinishReply(reply, 7, wire::ReplyBody::Decision, d.Union());
  record.reply = Bytes(reply);
  routing::ContactSnapshot after;
  after.contact = contact;
  after.contact.queue = "billing";
  after.state = routing::ContactSnapshot::State::kAssigned;
  after.agent_id = "ana";
  record.contacts.push_back({"chat-1", after});
  routing::AgentSnapshot ana;
  ana.profile.id = "ana";
  ana.state = routing::AgentState::kAvailable;
  record.agents.push_back({"ana", ana});
  return record;
}

TEST(RecordDescriptionTest, SaysWhatTheRequestDidAndWhatChanged) {
  const nlohmann::json d = DescribeRecord(12, RoutedRecord());
  EXPECT_EQ(d["seq"], 12);
  EXPECT_EQ(d["time"], "2027-01-15T08:00:00Z");
  EXPECT_EQ(d["kind"], "request");
  EXPECT_EQ(d["request"]["type"], "RouteContact");
  EXPECT_EQ(d["request"]["request_id"], 7);
  EXPECT_EQ(d["request"]["contact"], "chat-1");
  EXPECT_EQ(d["reply"]["type"], "Decision");
  EXPECT_EQ(d["reply"]["outcome"], "Assigned");
  EXPECT_EQ(d["reply"]["agent"], "ana");
  EXPECT_EQ(d["contacts"][0]["state"], "assigned");
  EXPECT_EQ(d["agents"][0]["state"], "available");
  EXPECT_EQ(RecordLine(12, RoutedRecord()),
            "12 2027-01-15T08:00:00Z request RouteContact chat-1 -> Assigned "
            "ana; chat-1 assigned ana, ana available");
}

TEST(RecordDescriptionTest, BytesThatDoNotDecodeAreSaidToBeSo) {
  JournalRecord record = RoutedRecord();
  record.request = "not a request";
  record.reply = "nor a reply";
  record.contacts = {{"chat-1", std::nullopt}};
  const nlohmann::json d = DescribeRecord(1, record);
  EXPECT_EQ(d["request"]["type"], "unreadable");
  EXPECT_EQ(d["reply"]["type"], "unreadable");
  EXPECT_EQ(d["contacts"][0]["left"], true);
}

// The command itself, on a journal written as routingd writes one.
class DumpCommandTest : public ::testing::Test {
 protected:
  std::string Run(const std::string& args, int* exit_code) {
    const std::string out = ScratchDirectory("dump.out");
    const std::string command =
        absl::StrCat("journal/routing_journal ", args, " >", out, " 2>&1");
    const int status = std::system(command.c_str());
    *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(out);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

TEST_F(DumpCommandTest, PrintsEveryRecordAndNamesDamage) {
  const std::string dir = ScratchDirectory("journal-to-dump");
  {
    auto writer = *JournalWriter::Create(*SegmentSink::Open(dir), 1, {});
    // One write each (a plain frame each): the damage below has records
    // after it, so it is not a torn tail.
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<uint64_t> sequence =
          writer->Append(EncodeRecord(RoutedRecord()));
      ASSERT_TRUE(sequence.ok());
      ASSERT_TRUE(writer->WaitDurable(*sequence).ok());
    }
  }
  int code = -1;
  const std::string text = Run("dump " + dir, &code);
  EXPECT_EQ(code, 0) << text;
  EXPECT_THAT(text, HasSubstr("1 2027-01-15T08:00:00Z request RouteContact"));
  EXPECT_THAT(text, HasSubstr("\n3 2027-01-15T08:00:00Z"));
  const std::string json = Run("dump " + dir + " --json", &code);
  EXPECT_EQ(code, 0);
  EXPECT_THAT(json, HasSubstr("\"outcome\":\"Assigned\""));

  // A flipped bit in the first record: refused, naming where.
  const std::string segment = ListSegments(dir)->front().path;
  std::string bytes;
  {
    std::ifstream in(segment, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[40] ^= 0x01;
  std::ofstream(segment, std::ios::binary | std::ios::trunc) << bytes;
  const std::string damaged = Run("dump " + dir, &code);
  EXPECT_EQ(code, 1);
  EXPECT_THAT(damaged, HasSubstr(segment + " at offset 16"));

  EXPECT_THAT(Run("frobnicate " + dir, &code), HasSubstr("unknown command"));
  EXPECT_EQ(code, 2);
  Run("dump " + dir + "/missing", &code);
  EXPECT_EQ(code, 1);
}

TEST_F(DumpCommandTest, ADirectoryWithoutAJournalIsAnErrorNotAnEmptyHistory) {
  // A mistyped --journal_dir, or the wrong one: no segment, no snapshot.
  const std::string dir = ScratchDirectory("not-a-journal");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/notes.txt") << "not a segment";
  for (const std::string& args :
       {"dump " + dir, "dump " + dir + " --json", "why " + dir + " c-1",
        "replay " + dir}) {
    int code = -1;
    const std::string text = Run(args, &code);
    EXPECT_EQ(code, 1) << args << ": " << text;
    EXPECT_THAT(text, HasSubstr(dir + " holds no journal")) << args;
    EXPECT_THAT(text, Not(HasSubstr("replayed 0 records"))) << args;
  }
}

TEST_F(DumpCommandTest, HelpAfterACommandIsHelpNotADirectory) {
  for (const char* args : {"--help", "-h", "dump --help", "why --help",
                           "replay DIR --help"}) {
    int code = -1;
    const std::string text = Run(args, &code);
    EXPECT_EQ(code, 0) << args << ": " << text;
    EXPECT_THAT(text, HasSubstr("usage: routing_journal COMMAND DIR")) << args;
    EXPECT_THAT(text, Not(HasSubstr("cannot read"))) << args;
  }
}

}  // namespace
}  // namespace journal
