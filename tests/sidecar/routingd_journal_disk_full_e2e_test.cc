// End-to-end: routingd's journal (--journal_dir) on a disk that fills up,
// a small tmpfs this test mounts (as root) and unmounts. While there is room
// routingd serves; once a filler file takes the last page, the request whose
// record does not fit is answered NOT_DURABLE (it ran, its record is kept in
// memory) and every later state-changing request JOURNAL_UNAVAILABLE without
// running, while reads go on; deleting the filler lets serving resume
// without a restart, and restarts on the same directory (after a crash,
// from the records; after SIGTERM, from the final snapshot) find every
// acknowledged effect, the NOT_DURABLE one's included, and none of the
// refused ones. Once per --fsync mode. And a rules reload that compiles
// while the disk fills: its record is kept and written once there is room.
// Without the right to mount, skipped.
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "flatbuffers/flatbuffers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sidecar/client.h"
#include "sidecar/wire_encoder.h"
#include "tests/sidecar/routingd_process.h"
#include "tests/sidecar/slow_rules.h"

namespace routing::sidecar {
namespace wire {
// Failures name the code.
void PrintTo(ErrorCode code, std::ostream* out) {
  *out << EnumNameErrorCode(code);
}
}  // namespace wire
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The small disk: room for the few records and the final snapshot this test
// makes (a few KiB; SegmentSink writes only a 16-byte header up front, no
// preallocation), and little enough that the filler fills it at once.
constexpr char kTmpfsOptions[] = "size=256k";
// Records of requests made after the filler may still fit in the part of
// the segment's last page the filler cannot take (tmpfs allocates whole
// pages): a queued RouteContact's record is some hundreds of bytes, so a
// 4 KiB page holds at most a few dozen.
constexpr int kMaxRecordsInLastPage = 64;
// Serving resumes as the next state-changing request finds room.
constexpr absl::Duration kResumeWithin = absl::Seconds(5);
constexpr char kNoSpace[] = "No space left on device";

// One reply as this test reads it: the Error's code and message (None for
// any other body), or no reply at all (replied false, message says why).
struct Answer {
  bool replied = false;
  wire::ErrorCode code = wire::ErrorCode::None;
  std::string message;
};

std::string Describe(const Answer& answer) {
  if (!answer.replied) return absl::StrCat("no reply: ", answer.message);
  return absl::StrCat(wire::EnumNameErrorCode(answer.code), " ",
                      answer.message);
}

// Sends the request `body` of `type` finished in `fbb` and reads its reply
// raw (the client's Status conversion would fold JOURNAL_UNAVAILABLE into
// Unavailable with BUSY, NOT_DURABLE into DataLoss with MALFORMED_REQUEST).
Answer Send(RoutingClient& client, flatbuffers::FlatBufferBuilder& fbb,
            wire::RequestBody type, flatbuffers::Offset<void> body) {
  const uint64_t id = client.NextRequestId();
  FinishRequest(fbb, id, type, body);
  absl::StatusOr<Reply> reply = client.CallUnchecked(fbb, id);
  Answer answer;
  if (!reply.ok()) {
    answer.message = reply.status().ToString();
    return answer;
  }
  answer.replied = true;
  if (const wire::Error* error = reply->get()->body_as_Error();
      error != nullptr) {
    answer.code = error->code();
    answer.message = error->message() != nullptr ? error->message()->str() : "";
  }
  return answer;
}

Answer AddChatAgent(RoutingClient& client, const std::string& agent_id) {
  AgentProfile profile;
  profile.id = agent_id;
  profile.SetCapacity(Channel::kChat, 1);
  flatbuffers::FlatBufferBuilder fbb;
  auto agent = BuildAgentProfile(fbb, profile);
  return Send(client, fbb, wire::RequestBody::AddAgent,
              wire::CreateAddAgent(fbb, agent).Union());
}

Answer RemoveAgent(RoutingClient& client, const std::string& agent_id) {
  flatbuffers::FlatBufferBuilder fbb;
  auto id = fbb.CreateString(agent_id);
  return Send(client, fbb, wire::RequestBody::RemoveAgent,
              wire::CreateRemoveAgent(fbb, id).Union());
}

Answer SetState(RoutingClient& client, const std::string& agent_id,
                AgentState state) {
  flatbuffers::FlatBufferBuilder fbb;
  auto id = fbb.CreateString(agent_id);
  return Send(client, fbb, wire::RequestBody::SetAgentState,
              wire::CreateSetAgentState(
                  fbb, id, static_cast<wire::AgentStateKind>(state))
                  .Union());
}

Answer RouteChat(RoutingClient& client, const std::string& contact_id,
                 const std::string& customer_id = "") {
  Contact contact;
  contact.id = contact_id;
  contact.channel = Channel::kChat;
  contact.customer_id = customer_id;
  flatbuffers::FlatBufferBuilder fbb;
  auto c = BuildContact(fbb, contact, nullptr);
  return Send(client, fbb, wire::RequestBody::RouteContact,
              wire::CreateRouteContact(fbb, c).Union());
}

Answer CancelContact(RoutingClient& client, const std::string& contact_id) {
  flatbuffers::FlatBufferBuilder fbb;
  auto id = fbb.CreateString(contact_id);
  return Send(client, fbb, wire::RequestBody::CancelContact,
              wire::CreateCancelContact(fbb, id).Union());
}

Answer ReleaseContact(RoutingClient& client, const std::string& contact_id) {
  flatbuffers::FlatBufferBuilder fbb;
  auto id = fbb.CreateString(contact_id);
  return Send(
      client, fbb, wire::RequestBody::ReleaseContact,
      wire::CreateReleaseContact(fbb, id, wire::Outcome::Resolved).Union());
}

// "alice Available Chat:1": the agent's state and load as ListAgents
// shows them; "dave absent" when not on the roster.
std::string AgentLine(RoutingClient& client, const std::string& agent_id) {
  absl::StatusOr<Reply> reply = client.ListAgents();
  if (!reply.ok()) {
    return absl::StrCat("ListAgents: ", reply.status().ToString());
  }
  const wire::AgentList* list = reply->get()->body_as_AgentList();
  if (list == nullptr || list->agents() == nullptr) return "no AgentList";
  for (const wire::AgentInfo* agent : *list->agents()) {
    if (agent->id() == nullptr || agent->id()->str() != agent_id) continue;
    std::string line = absl::StrCat(
        agent_id, " ", wire::EnumNameAgentStateKind(agent->state()));
    if (agent->load() != nullptr) {
      for (const wire::ChannelCapacity* load : *agent->load()) {
        absl::StrAppend(&line, " ", wire::EnumNameChannelKind(load->channel()),
                        ":", load->contacts());
      }
    }
    return line;
  }
  return absl::StrCat(agent_id, " absent");
}

// "chat-1 Assigned alice", "chat-2 Queued 1" (its place in line), or
// "chat-3 NotFound", as GetContact shows it.
std::string ContactLine(RoutingClient& client, const std::string& contact_id) {
  absl::StatusOr<Reply> reply = client.GetContact(contact_id);
  if (absl::IsNotFound(reply.status())) {
    return absl::StrCat(contact_id, " NotFound");
  }
  if (!reply.ok()) {
    return absl::StrCat("GetContact: ", reply.status().ToString());
  }
  const wire::ContactInfo* info = reply->get()->body_as_ContactInfo();
  if (info == nullptr) return "no ContactInfo";
  std::string line = absl::StrCat(
      contact_id, " ", wire::EnumNameContactStateKind(info->state()));
  if (info->state() == wire::ContactStateKind::Queued) {
    absl::StrAppend(&line, " ", info->queue_position());
  } else if (info->agent_id() != nullptr) {
    absl::StrAppend(&line, " ", info->agent_id()->str());
  }
  return line;
}

// Everything the reads show of the agents and contacts this test named.
std::vector<std::string> StateLines(
    RoutingClient& client, const std::vector<std::string>& agent_ids,
    const std::vector<std::string>& contact_ids) {
  std::vector<std::string> lines;
  for (const std::string& id : agent_ids) {
    lines.push_back(AgentLine(client, id));
  }
  for (const std::string& id : contact_ids) {
    lines.push_back(ContactLine(client, id));
  }
  return lines;
}

// Writes `path` until the disk refuses more; the bytes written.
absl::StatusOr<int64_t> FillDisk(const std::string& path) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  const std::string chunk(64 << 10, 'f');
  int64_t written = 0;
  int error = 0;
  while (true) {
    const ssize_t n = ::write(fd, chunk.data(), chunk.size());
    if (n >= 0) {
      written += n;
      continue;
    }
    if (errno == EINTR) continue;
    error = errno;
    break;
  }
  ::close(fd);
  if (error != ENOSPC) {
    return absl::InternalError(absl::StrCat("filling ", path, " stopped with ",
                                            std::strerror(error),
                                            ", not ENOSPC"));
  }
  return written;
}

// routingd on loopback TCP with `flags`, its stderr in `stderr_path`.
class Routingd {
 public:
  Routingd(const std::vector<std::string>& flags,
           const std::string& stderr_path)
      : endpoints_(NewRoutingdEndpoints("tcp", "routingd-disk-full")),
        process_(WithEndpoints(endpoints_, flags), stderr_path) {
    ClientOptions options;
    options.server = endpoints_.requests;
    if (!process_.WaitServing(options)) return;
    absl::StatusOr<std::unique_ptr<RoutingClient>> client =
        RoutingClient::Connect(options);
    if (client.ok()) client_ = *std::move(client);
  }
  // Null unless routingd answered Health.
  RoutingClient* client() { return client_.get(); }
  // For another connection (one per thread).
  ClientOptions Options(absl::Duration timeout) const {
    ClientOptions options;
    options.server = endpoints_.requests;
    options.timeout = timeout;
    return options;
  }
  int Terminate() {
    client_.reset();
    return process_.Terminate();
  }
  std::string Stderr() const { return process_.Stderr(); }

 private:
  RoutingdEndpoints endpoints_;
  RoutingdProcess process_;
  std::unique_ptr<RoutingClient> client_;
};

// A small tmpfs of its own (Name() under TEST_TMPDIR, TmpfsOptions()),
// unmounted whatever happens, and routingd journaling on it.
class RoutingdOnSmallDiskTest : public ::testing::Test {
 protected:
  virtual std::string Name() const = 0;
  virtual std::string TmpfsOptions() const { return kTmpfsOptions; }
  virtual std::string Fsync() const { return "batch"; }

  void SetUp() override {
    const char* base = std::getenv("TEST_TMPDIR");
    scratch_ = absl::StrCat(base != nullptr ? base : "/tmp", "/", Name());
    mount_point_ = scratch_ + "/disk";
    // A leftover mount from an aborted run is taken off before reuse.
    ::umount2(mount_point_.c_str(), MNT_DETACH);
    std::filesystem::remove_all(scratch_);
    std::filesystem::create_directories(mount_point_);
    if (::mount("tmpfs", mount_point_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                TmpfsOptions().c_str()) != 0) {
      const int error = errno;
      if (error == EPERM || error == EACCES) {
        GTEST_SKIP() << "not permitted to mount a tmpfs at " << mount_point_
                     << " (" << std::strerror(error)
                     << "): this test needs root (CAP_SYS_ADMIN)";
      }
      FAIL() << "cannot mount a tmpfs at " << mount_point_ << ": "
             << std::strerror(error);
    }
    mounted_ = true;
    journal_dir_ = mount_point_ + "/journal";
    filler_ = mount_point_ + "/filler";
  }

  void TearDown() override {
    // routingd holds its segment open on the disk: stopped (SIGKILL if
    // still running) before the unmount.
    routingd_.reset();
    if (HasFailure()) {
      for (int start = 1; start <= starts_; ++start) {
        std::ifstream in(StderrPath(start));
        std::cerr << "routingd's stderr (start " << start << "):\n"
                  << in.rdbuf() << "\n";
      }
    }
    if (mounted_ && ::umount(mount_point_.c_str()) != 0) {
      const int error = errno;
      ADD_FAILURE() << "umount " << mount_point_ << ": " << std::strerror(error)
                    << "; detaching it lazily";
      ::umount2(mount_point_.c_str(), MNT_DETACH);
    }
    mounted_ = false;
    std::error_code ignored;
    std::filesystem::remove_all(scratch_, ignored);
  }

  // Starts routingd on the journal; the test fails unless it serves.
  void StartRoutingd() {
    ++starts_;
    routingd_ = std::make_unique<Routingd>(
        std::vector<std::string>{"--journal_dir=" + journal_dir_,
                                 "--fsync=" + Fsync(),
                                 // No snapshot while the test runs: only the
                                 // one at shutdown.
                                 "--snapshot_interval_s=0"},
        StderrPath(starts_));
    ASSERT_NE(routingd_->client(), nullptr) << "routingd did not serve:\n"
                                            << routingd_->Stderr();
  }

  // Not on the small disk: stderr must never compete for its room.
  std::string StderrPath(int start) const {
    return absl::StrCat(scratch_, "/routingd-", start, ".stderr");
  }

  std::string scratch_;
  std::string mount_point_;
  std::string journal_dir_;
  std::string filler_;
  bool mounted_ = false;
  int starts_ = 0;
  std::unique_ptr<Routingd> routingd_;
};

// The whole story, once per --fsync mode.
class RoutingdJournalDiskFullTest
    : public RoutingdOnSmallDiskTest,
      public ::testing::WithParamInterface<std::string> {
 protected:
  std::string Name() const override {
    return "routingd-disk-full-" + GetParam();
  }
  std::string Fsync() const override { return GetParam(); }
};

TEST_P(RoutingdJournalDiskFullTest,
       RefusesWhileFullAndResumesWhenSpaceIsFreed) {
  ASSERT_NO_FATAL_FAILURE(StartRoutingd());
  RoutingClient* client = routingd_->client();
  const std::vector<std::string> agents = {"alice", "bob", "carol", "dave"};
  std::vector<std::string> contacts = {"chat-0", "chat-1", "chat-2", "chat-3"};

  // 1. Room on the disk: routingd serves. alice takes chats, bob and carol
  // stay logged out, so chats beyond alice's one wait in line.
  for (const char* agent : {"alice", "bob", "carol"}) {
    ASSERT_EQ(AddChatAgent(*client, agent).code, wire::ErrorCode::None);
  }
  ASSERT_EQ(SetState(*client, "alice", AgentState::kAvailable).code,
            wire::ErrorCode::None);
  ASSERT_EQ(RouteChat(*client, "chat-0", "cust-1").code, wire::ErrorCode::None);
  ASSERT_EQ(ReleaseContact(*client, "chat-0").code, wire::ErrorCode::None);
  for (const char* id : {"chat-1", "chat-2", "chat-3"}) {
    ASSERT_EQ(RouteChat(*client, id, "cust-1").code, wire::ErrorCode::None);
  }
  ASSERT_EQ(CancelContact(*client, "chat-3").code, wire::ErrorCode::None);
  EXPECT_EQ(ContactLine(*client, "chat-1"), "chat-1 Assigned alice");
  EXPECT_EQ(ContactLine(*client, "chat-2"), "chat-2 Queued 1");

  // 2. The disk fills up.
  absl::StatusOr<int64_t> filled = FillDisk(filler_);
  ASSERT_TRUE(filled.ok()) << filled.status();
  struct statvfs disk;
  ASSERT_EQ(::statvfs(mount_point_.c_str(), &disk), 0);
  ASSERT_EQ(disk.f_bavail, 0u) << "the filler left room";

  // Records that fit in the segment's last page still go through; the
  // first that does not is NOT_DURABLE: it ran (its contact waits in line),
  // its record is kept in memory.
  std::vector<std::string> routed_while_full;
  std::string not_durable_id;
  Answer first_refusal;
  for (int i = 1; i <= kMaxRecordsInLastPage && not_durable_id.empty(); ++i) {
    const std::string id = absl::StrCat("full-", i);
    contacts.push_back(id);
    const Answer answer = RouteChat(*client, id);
    ASSERT_TRUE(answer.replied) << Describe(answer);
    if (answer.code == wire::ErrorCode::None) {
      routed_while_full.push_back(id);
    } else {
      not_durable_id = id;
      first_refusal = answer;
    }
  }
  ASSERT_FALSE(not_durable_id.empty())
      << kMaxRecordsInLastPage << " records went to a full disk";
  EXPECT_EQ(first_refusal.code, wire::ErrorCode::NotDurable)
      << Describe(first_refusal);
  EXPECT_THAT(first_refusal.message, HasSubstr(kNoSpace));
  EXPECT_THAT(first_refusal.message, HasSubstr(journal_dir_ + "/journal-"));
  // chat-2 first in line, then the full-N in order.
  const int not_durable_position =
      static_cast<int>(routed_while_full.size()) + 2;
  EXPECT_EQ(ContactLine(*client, not_durable_id),
            absl::StrCat(not_durable_id, " Queued ", not_durable_position));

  // From now on every state-changing request is refused, naming the disk's
  // error, and changes nothing; each retries the kept record first.
  const std::vector<std::string> before_refusals =
      StateLines(*client, agents, contacts);
  EXPECT_EQ(AgentLine(*client, "bob"), "bob LoggedOut");
  EXPECT_EQ(AgentLine(*client, "dave"), "dave absent");
  contacts.push_back("refused-1");
  struct Refused {
    std::string what;
    Answer answer;
  };
  const std::vector<Refused> refused = {
      {"RouteContact refused-1", RouteChat(*client, "refused-1")},
      // Would assign chat-2 from the queue at once.
      {"SetAgentState bob", SetState(*client, "bob", AgentState::kAvailable)},
      {"SetAgentState alice", SetState(*client, "alice", AgentState::kBreak)},
      {"AddAgent dave", AddChatAgent(*client, "dave")},
      {"RemoveAgent carol", RemoveAgent(*client, "carol")},
      {"CancelContact chat-2", CancelContact(*client, "chat-2")},
      {"ReleaseContact chat-1", ReleaseContact(*client, "chat-1")},
      {"CancelContact " + not_durable_id,
       CancelContact(*client, not_durable_id)},
      {"RouteContact refused-1 again", RouteChat(*client, "refused-1")},
  };
  for (const Refused& r : refused) {
    EXPECT_EQ(r.answer.code, wire::ErrorCode::JournalUnavailable)
        << r.what << ": " << Describe(r.answer);
    EXPECT_THAT(r.answer.message, HasSubstr(kNoSpace)) << r.what;
    EXPECT_THAT(r.answer.message, HasSubstr("nothing was executed")) << r.what;
  }
  EXPECT_EQ(ContactLine(*client, "refused-1"), "refused-1 NotFound");
  EXPECT_EQ(AgentLine(*client, "bob"), "bob LoggedOut");
  EXPECT_EQ(AgentLine(*client, "alice"), "alice Available Chat:1");
  EXPECT_EQ(AgentLine(*client, "carol"), "carol LoggedOut");
  EXPECT_EQ(AgentLine(*client, "dave"), "dave absent");
  EXPECT_EQ(ContactLine(*client, "chat-1"), "chat-1 Assigned alice");
  EXPECT_EQ(ContactLine(*client, "chat-2"), "chat-2 Queued 1");
  std::vector<std::string> unchanged = before_refusals;
  unchanged.push_back("refused-1 NotFound");
  EXPECT_EQ(StateLines(*client, agents, contacts), unchanged);
  // Through the client's own calls: Unavailable, named as the journal's.
  const absl::Status via_client =
      client->SetAgentState("bob", AgentState::kAvailable);
  EXPECT_TRUE(absl::IsUnavailable(via_client)) << via_client;
  EXPECT_THAT(std::string(via_client.message()),
              HasSubstr("journal unavailable: "));
  EXPECT_THAT(std::string(via_client.message()), HasSubstr(kNoSpace));
  // Reads are served.
  absl::StatusOr<Reply> health = client->Health();
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_TRUE(health->get()->body_as_HealthStatus()->serving());
  absl::StatusOr<Reply> stats = client->Stats(60);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->get()->body_as_Stats()->agents(), 3);
  absl::StatusOr<Reply> listed = client->ListContacts();
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_NE(listed->get()->body_as_ContactList()->contacts(), nullptr);
  EXPECT_EQ(listed->get()->body_as_ContactList()->contacts()->size(),
            static_cast<size_t>(not_durable_position));

  // 3. Room again: the next state-changing request writes the kept record,
  // then runs. bob takes chat-2, the first in line.
  ASSERT_TRUE(std::filesystem::remove(filler_));
  const absl::Time freed = absl::Now();
  Answer resumed;
  int attempts = 0;
  do {
    if (attempts > 0) absl::SleepFor(absl::Milliseconds(20));
    ++attempts;
    resumed = SetState(*client, "bob", AgentState::kAvailable);
  } while (resumed.code == wire::ErrorCode::JournalUnavailable &&
           absl::Now() - freed < kResumeWithin);
  ASSERT_EQ(resumed.code, wire::ErrorCode::None)
      << "not serving " << kResumeWithin
      << " after the filler went: " << Describe(resumed);
  // Each state-changing request tries the kept record first: the first one
  // after the space came back finds it.
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(ContactLine(*client, "chat-2"), "chat-2 Assigned bob");
  contacts.push_back("after-1");
  ASSERT_EQ(RouteChat(*client, "after-1").code, wire::ErrorCode::None);
  EXPECT_EQ(ContactLine(*client, "after-1"),
            absl::StrCat("after-1 Queued ", not_durable_position));
  const std::vector<std::string> acknowledged =
      StateLines(*client, agents, contacts);

  // 4. A crash (SIGKILL: no final snapshot; none was taken while serving)
  // and a restart: the records alone give back what was acknowledged, the
  // NOT_DURABLE request's contact among them (its record was written once
  // there was room), and nothing of the refused requests.
  const int held_contacts = not_durable_position + 2;
  routingd_.reset();
  ASSERT_NO_FATAL_FAILURE(StartRoutingd());
  client = routingd_->client();
  EXPECT_THAT(routingd_->Stderr(),
              HasSubstr(absl::StrCat("restored 3 agents, ", held_contacts,
                                     " contacts, 1 customers from snapshot 0 "
                                     "and ")));
  EXPECT_EQ(StateLines(*client, agents, contacts), acknowledged)
      << "before the crash:\n  " << absl::StrJoin(acknowledged, "\n  ");

  // 5. SIGTERM: the final snapshot, and a restart from it alone.
  EXPECT_EQ(routingd_->Terminate(), 0);
  EXPECT_THAT(routingd_->Stderr(), Not(HasSubstr("final snapshot")));
  ASSERT_NO_FATAL_FAILURE(StartRoutingd());
  client = routingd_->client();
  EXPECT_THAT(routingd_->Stderr(),
              HasSubstr(absl::StrCat("restored 3 agents, ", held_contacts,
                                     " contacts, 1 customers")));
  EXPECT_THAT(routingd_->Stderr(), HasSubstr(" and 0 records"));
  EXPECT_EQ(StateLines(*client, agents, contacts), acknowledged)
      << "before the restart:\n  " << absl::StrJoin(acknowledged, "\n  ");
  EXPECT_EQ(ContactLine(*client, not_durable_id),
            absl::StrCat(not_durable_id, " Queued ", not_durable_position - 1));
  EXPECT_EQ(ContactLine(*client, "refused-1"), "refused-1 NotFound");
  EXPECT_EQ(AgentLine(*client, "dave"), "dave absent");
  EXPECT_EQ(AgentLine(*client, "carol"), "carol LoggedOut");
  EXPECT_EQ(AgentLine(*client, "bob"), "bob Available Chat:1");
  // And it journals again.
  EXPECT_EQ(CancelContact(*client, "after-1").code, wire::ErrorCode::None);
}

INSTANTIATE_TEST_SUITE_P(FsyncModes, RoutingdJournalDiskFullTest,
                         ::testing::Values("always", "batch", "none"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });


// ReloadRules compiles outside the journal's order lock, then records the
// rules now in force. When the disk fills while it compiles, and another
// request's record is the first that does not fit, the new rules are in
// force all the same: the reload is answered NOT_DURABLE, and its record is
// kept behind the other one and written once there is room, so that a crash
// afterwards restarts under the rules the later requests were decided by.
class RoutingdJournalReloadDiskFullTest : public RoutingdOnSmallDiskTest {
 protected:
  std::string Name() const override { return "routingd-reload-disk-full"; }
  // The reload's record holds the rules' text (some 450 KiB).
  std::string TmpfsOptions() const override { return "size=4m"; }
};

TEST_F(RoutingdJournalReloadDiskFullTest,
       ReloadCompiledWhileTheDiskFilledIsWrittenOnceThereIsRoom) {
  const std::string rules = scratch_ + "/slow.lua";  // Not on the small disk.
  std::ofstream(rules) << SlowCompilingRules();
  ASSERT_NO_FATAL_FAILURE(StartRoutingd());
  RoutingClient* client = routingd_->client();
  ASSERT_EQ(AddChatAgent(*client, "alice").code, wire::ErrorCode::None);

  absl::StatusOr<Reply> reloaded = absl::UnknownError("not answered");
  std::thread reloader(
      [&reloaded, &rules, options = routingd_->Options(absl::Seconds(120))] {
        absl::StatusOr<std::unique_ptr<RoutingClient>> own =
            RoutingClient::Connect(options);
        reloaded = own.ok() ? (*own)->ReloadRulesFile(rules) : own.status();
      });
  // Long enough for the reloader to have found the journal available (as
  // the request arrives), far shorter than the compile.
  absl::SleepFor(absl::Milliseconds(200));
  absl::StatusOr<int64_t> filled = FillDisk(filler_);
  std::string not_durable_id;
  for (int i = 1; i <= kMaxRecordsInLastPage && filled.ok(); ++i) {
    const std::string id = absl::StrCat("full-", i);
    const Answer answer = RouteChat(*client, id);
    if (answer.code == wire::ErrorCode::None) continue;
    EXPECT_EQ(answer.code, wire::ErrorCode::NotDurable) << Describe(answer);
    not_durable_id = id;
    break;
  }
  reloader.join();
  ASSERT_TRUE(filled.ok()) << filled.status();
  ASSERT_FALSE(not_durable_id.empty())
      << kMaxRecordsInLastPage << " records went to a full disk";
  ASSERT_FALSE(reloaded.ok())
      << "the reload compiled before the disk filled: nothing to check";
  EXPECT_EQ(reloaded.status().code(), absl::StatusCode::kDataLoss)
      << reloaded.status();
  EXPECT_THAT(std::string(reloaded.status().message()),
              HasSubstr("not durable: "));
  EXPECT_THAT(std::string(reloaded.status().message()), HasSubstr(kNoSpace));
  // It was: the rules are in force.
  EXPECT_THAT(std::string(reloaded.status().message()),
              Not(HasSubstr("nothing was executed")));
  absl::StatusOr<Reply> stats = client->Stats(60);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->get()->body_as_Stats()->rules_version(), 1u);

  // Room again: the next request writes the kept records first.
  ASSERT_TRUE(std::filesystem::remove(filler_));
  ASSERT_EQ(SetState(*client, "alice", AgentState::kAvailable).code,
            wire::ErrorCode::None);

  // A crash, and a restart from the records: the rules came back with
  // the contact whose record waited before them.
  routingd_.reset();
  ASSERT_NO_FATAL_FAILURE(StartRoutingd());
  client = routingd_->client();
  stats = client->Stats(60);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->get()->body_as_Stats()->rules_version(), 1u)
      << "the reload's record was never written";
  EXPECT_THAT(ContactLine(*client, not_durable_id), Not(HasSubstr("NotFound")));
}

}  // namespace
}  // namespace routing::sidecar
