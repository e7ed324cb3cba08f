// routingd's journal (sidecar/state_journal.h) behind a real RequestHandler
// and Router on a ManualClock: random traffic through the handler, then
// what a restart recovers from the directory must be the router's state;
// a journal that cannot write refuses calls without running them, and
// catches up once it can.
#include "sidecar/state_journal.h"

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "flatbuffers/flatbuffers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "journal/contact_story.h"
#include "journal/journal_replay.h"
#include "journal/journal_walk.h"
#include "journal/segment_sink.h"
#include "journal/segment_spare.h"
#include "routing/clock.h"
#include "routing/router.h"
#include "rules/lua_rules.h"
#include "sidecar/request_handler.h"
#include "sidecar/rules_reload.h"
#include "sidecar/sidecar_metrics.h"
#include "sidecar/wire_encoder.h"
#include "tests/journal/journal_test_support.h"
#include "tests/journal/router_state_lines.h"

namespace routing::sidecar {
namespace {

using ::testing::HasSubstr;

// Contacts overflow from billing to "general" after 60 s: rules steps that
// AdvanceQueues moves contacts on to.
constexpr char kOverflowRules[] = R"lua(
return {
  name = "overflow",
  steps = {
    { after = 0, name = "first" },
    { after = 60, name = "general", skills = { general = 1 } },
  },
}
)lua";

// One routingd, without the transport: router, rules, journal, handler.
struct Daemon {
  Daemon(ManualClock* clock, const std::string& directory,
         const RecoveredState* recovered,
         std::function<absl::StatusOr<std::unique_ptr<journal::JournalSink>>()>
             open_sink = nullptr,
         int64_t segment_bytes = int64_t{64} << 20)
      : publisher(&metrics, absl::Seconds(20), clock), listener(&publisher) {
    RouterOptions options;
    options.clock = clock;
    options.listener = &listener;
    options.max_contacts = 1024;
    options.history_customers = 1024;
    options.offer_timeout[static_cast<int>(Channel::kChat)] = absl::Seconds(20);
    if (recovered != nullptr && recovered->rules.version > 0) {
      options.rules_versions_before = recovered->rules.version - 1;
    }
    router = Router::Create(options).value();
    rules = std::make_unique<RulesInForce>(router.get(), rules::RulesOptions());
    if (recovered != nullptr && !recovered->rules.file.empty()) {
      EXPECT_TRUE(rules
                      ->LoadSourceAtStart(recovered->rules.file,
                                          recovered->rules.source)
                      .ok());
    }
    StateJournalOptions journal_options;
    journal_options.directory = directory;
    journal_options.writer.fsync = journal::FsyncMode::kNone;
    journal_options.snapshot_interval = absl::ZeroDuration();
    journal_options.snapshot_records = 0;
    journal_options.clock = clock;
    journal_options.open_sink = std::move(open_sink);
    journal_options.segment_bytes = segment_bytes;
    journal =
        StateJournal::Open(router.get(), rules.get(), journal_options,
                           recovered != nullptr ? recovered->next_sequence : 1)
            .value();
    if (recovered != nullptr) {
      const absl::Status restored = journal->Restore(recovered->state);
      EXPECT_TRUE(restored.ok()) << restored;
    }
    RequestHandlerOptions handler_options;
    handler_options.clock = clock;
    handler_options.rules = rules.get();
    handler_options.journal = journal.get();
    handler = std::make_unique<RequestHandler>(router.get(), &metrics,
                                               handler_options);
  }

  SidecarMetrics metrics;
  AssignmentPublisher publisher;
  JournalListener listener;
  std::unique_ptr<Router> router;
  std::unique_ptr<RulesInForce> rules;
  std::unique_ptr<StateJournal> journal;
  std::unique_ptr<RequestHandler> handler;
};

StateJournalOptions ReadOptions(const std::string& directory) {
  StateJournalOptions options;
  options.directory = directory;
  return options;
}

class StateJournalTest : public ::testing::TestWithParam<int> {
 protected:
  StateJournalTest() : clock_(absl::FromUnixSeconds(1'800'000'000)) {}

  // Sends the request finished in `fbb`; returns the reply's error code.
  wire::ErrorCode Send(Daemon& d, flatbuffers::FlatBufferBuilder& fbb,
                       std::string* message = nullptr) {
    std::vector<uint8_t> request(fbb.GetBufferPointer(),
                                 fbb.GetBufferPointer() + fbb.GetSize());
    d.handler->Handle(request.data(), request.size(), reply_);
    // As the daemon does: the reply waits for its record to be durable,
    // and says NotDurable if it cannot be.
    const uint64_t sequence = StateJournal::TakeThreadSequence();
    const wire::Reply* reply =
        flatbuffers::GetRoot<wire::Reply>(reply_.GetBufferPointer());
    if (sequence != 0) {
      if (absl::Status durable = d.journal->WaitDurable(sequence);
          !durable.ok()) {
        if (message != nullptr) *message = std::string(durable.message());
        return wire::ErrorCode::NotDurable;
      }
    }
    if (reply->body_type() != wire::ReplyBody::Error) {
      return wire::ErrorCode::None;
    }
    if (message != nullptr) *message = reply->body_as_Error()->message()->str();
    return reply->body_as_Error()->code();
  }

  wire::ErrorCode AddAgent(Daemon& d, const std::string& id,
                           const std::string& skill, int level, int chat) {
    AgentProfile agent;
    agent.id = id;
    agent.skills = {{skill, level}, {"general", 2}};
    agent.languages = {{"en", 5}};
    agent.SetCapacity(Channel::kVoice, 1);
    agent.SetCapacity(Channel::kChat, chat);
    flatbuffers::FlatBufferBuilder fbb;
    auto a = BuildAgentProfile(fbb, agent);
    FinishRequest(fbb, ++id_, wire::RequestBody::AddAgent,
                  wire::CreateAddAgent(fbb, a).Union());
    return Send(d, fbb);
  }

  // The agent's profile as AddAgent gave it, with `skills` skills and
  // `voice` voice capacity instead.
  wire::ErrorCode UpdateAgent(Daemon& d, const std::string& id, int skills,
                              int voice) {
    AgentProfile agent;
    agent.id = id;
    const std::vector<std::string> names = {"billing", "tech", "sales",
                                            "general"};
    for (int s = 0; s < skills && s < 4; ++s) agent.skills.push_back({names[s], 3});
    agent.languages = {{"en", 5}};
    agent.SetCapacity(Channel::kVoice, voice);
    agent.SetCapacity(Channel::kChat, 2);
    flatbuffers::FlatBufferBuilder fbb;
    auto a = BuildAgentProfile(fbb, agent);
    FinishRequest(fbb, ++id_, wire::RequestBody::UpdateAgent,
                  wire::CreateUpdateAgent(fbb, a).Union());
    return Send(d, fbb);
  }

  wire::ErrorCode SetState(Daemon& d, const std::string& id, int state,
                           std::string* message = nullptr) {
    flatbuffers::FlatBufferBuilder fbb;
    auto s = wire::CreateSetAgentState(
        fbb, fbb.CreateString(id), static_cast<wire::AgentStateKind>(state));
    FinishRequest(fbb, ++id_, wire::RequestBody::SetAgentState, s.Union());
    return Send(d, fbb, message);
  }

  wire::ErrorCode Route(Daemon& d, const std::string& id, Channel channel,
                        const std::string& skill, int priority,
                        const std::string& customer, bool requeue = false) {
    Contact contact;
    contact.id = id;
    contact.channel = channel;
    contact.priority = priority;
    contact.customer_id = customer;
    contact.required_skills = {{skill, 1}};
    flatbuffers::FlatBufferBuilder fbb;
    auto c = BuildContact(fbb, contact, nullptr);
    if (requeue) {
      FinishRequest(fbb, ++id_, wire::RequestBody::RequeueContact,
                    wire::CreateRequeueContact(fbb, c).Union());
    } else {
      FinishRequest(fbb, ++id_, wire::RequestBody::RouteContact,
                    wire::CreateRouteContact(fbb, c).Union());
    }
    return Send(d, fbb);
  }

  wire::ErrorCode ContactCall(Daemon& d, wire::RequestBody type,
                              const std::string& id) {
    flatbuffers::FlatBufferBuilder fbb;
    auto name = fbb.CreateString(id);
    flatbuffers::Offset<void> body;
    switch (type) {
      case wire::RequestBody::CancelContact:
        body = wire::CreateCancelContact(fbb, name).Union();
        break;
      case wire::RequestBody::ReleaseContact:
        body = wire::CreateReleaseContact(fbb, name, wire::Outcome::Resolved)
                   .Union();
        break;
      case wire::RequestBody::AcceptOffer:
        body = wire::CreateAcceptOffer(fbb, name).Union();
        break;
      case wire::RequestBody::RejectOffer:
        body = wire::CreateRejectOffer(fbb, name).Union();
        break;
      default:
        ADD_FAILURE() << "not a contact call";
        return wire::ErrorCode::Internal;
    }
    FinishRequest(fbb, ++id_, type, body);
    return Send(d, fbb);
  }

  wire::ErrorCode RemoveAgent(Daemon& d, const std::string& id) {
    flatbuffers::FlatBufferBuilder fbb;
    auto r = wire::CreateRemoveAgent(fbb, fbb.CreateString(id));
    FinishRequest(fbb, ++id_, wire::RequestBody::RemoveAgent, r.Union());
    return Send(d, fbb);
  }

  wire::ErrorCode Reload(Daemon& d, const std::string& source) {
    flatbuffers::FlatBufferBuilder fbb;
    auto r = wire::CreateReloadRules(fbb, 0, fbb.CreateString(source));
    FinishRequest(fbb, ++id_, wire::RequestBody::ReloadRules, r.Union());
    return Send(d, fbb);
  }

  void RandomCall(Daemon& d, std::mt19937& rng, int step) {
    const std::vector<std::string> skills = {"billing", "tech", "sales"};
    auto pick = [&](int n) { return static_cast<int>(rng() % n); };
    const std::string agent = absl::StrCat("agent-", pick(8));
    const std::string contact = absl::StrCat("c-", pick(40));
    switch (pick(12)) {
      case 0:
        // A new agent, or a changed profile for one on the roster.
        if (AddAgent(d, agent, skills[pick(3)], 1 + pick(5), 1 + pick(2)) ==
            wire::ErrorCode::AlreadyExists) {
          UpdateAgent(d, agent, 1 + pick(4), 1 + pick(2));
        }
        break;
      case 1:
      case 2:
        SetState(d, agent, pick(5));
        break;
      case 3:
      case 4:
      case 5:
        Route(d, contact, pick(3) == 0 ? Channel::kChat : Channel::kVoice,
              skills[pick(3)], pick(4) == 0 ? 1 + pick(5) : 0,
              absl::StrCat("cust-", pick(12)));
        break;
      case 6:
        ContactCall(d, wire::RequestBody::CancelContact, contact);
        break;
      case 7:
        ContactCall(d, wire::RequestBody::ReleaseContact, contact);
        break;
      case 8:
        Route(d, contact, Channel::kVoice, skills[pick(3)], 0, "",
              /*requeue=*/true);
        break;
      case 9:
        ContactCall(d,
                    pick(2) == 0 ? wire::RequestBody::AcceptOffer
                                 : wire::RequestBody::RejectOffer,
                    contact);
        break;
      case 10:
        RemoveAgent(d, agent);
        break;
      case 11:
        clock_.Advance(absl::Seconds(1 + pick(40)));
        d.handler->AdvanceQueues();
        break;
    }
    if (step % 3 == 0) clock_.Advance(absl::Milliseconds(1 + pick(3000)));
    if (step % 7 == 0) d.handler->AdvanceQueues();
  }

  ManualClock clock_;
  uint64_t id_ = 0;
  flatbuffers::FlatBufferBuilder reply_;
};

TEST_P(StateJournalTest, WhatARestartRecoversIsTheRoutersState) {
  const std::string dir =
      journal::ScratchDirectory(absl::StrCat("state-journal-", GetParam()));
  std::mt19937 rng(GetParam());
  auto daemon = std::make_unique<Daemon>(&clock_, dir, nullptr);
  ASSERT_EQ(Reload(*daemon, kOverflowRules), wire::ErrorCode::None);
  constexpr int kCalls = 500;
  const int snapshot_at = 100 + static_cast<int>(rng() % 300);
  for (int step = 1; step <= kCalls; ++step) {
    RandomCall(*daemon, rng, step);
    if (step == snapshot_at) {
      ASSERT_TRUE(daemon->journal->Snapshot().ok());
    }
  }
  const routing::RouterState final_state = daemon->router->ExportState();
  const uint64_t rules_version = daemon->router->RulesVersion();

  // As after a crash: the files as they are (no final snapshot).
  absl::StatusOr<RecoveredState> recovered = RecoverState(ReadOptions(dir));
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_GT(recovered->snapshot.sequence, 0u);
  EXPECT_GT(recovered->records, 0u);
  EXPECT_TRUE(journal::SameState(journal::Canonical(recovered->state),
                                 journal::Canonical(final_state)));
  EXPECT_EQ(recovered->rules.version, rules_version);
  EXPECT_EQ(recovered->rules.source, kOverflowRules);

  // Restored into a new daemon: the same state, the same places in line,
  // the same rules version.
  std::vector<QueuedContact> queued = daemon->router->QueuedContacts("");
  daemon.reset();
  Daemon restored(&clock_, dir, &*recovered);
  EXPECT_EQ(restored.router->RulesVersion(), rules_version);
  EXPECT_TRUE(
      journal::SameState(journal::Canonical(restored.router->ExportState()),
                         journal::Canonical(final_state)));
  for (const QueuedContact& q : queued) {
    absl::StatusOr<ContactStatus> mine =
        restored.router->GetContact(q.contact.id);
    ASSERT_TRUE(mine.ok()) << q.contact.id;
    EXPECT_EQ(mine->queue_position, q.queue_position) << q.contact.id;
    EXPECT_EQ(mine->rules_step, q.rules_step) << q.contact.id;
  }
}

// The router options the test daemons run with, for a replay.
journal::ReplayOptions ReplayOptionsLikeTheDaemon() {
  journal::ReplayOptions options;
  options.router.max_contacts = 1024;
  options.router.history_customers = 1024;
  options.router.offer_timeout[static_cast<int>(Channel::kChat)] =
      absl::Seconds(20);
  return options;
}

TEST_P(StateJournalTest, ReplayDecidesEveryRecordAsRecorded) {
  const std::string dir = journal::ScratchDirectory(
      absl::StrCat("state-journal-replay-", GetParam()));
  std::mt19937 rng(GetParam());
  {
    Daemon d(&clock_, dir, nullptr);
    ASSERT_EQ(Reload(d, kOverflowRules), wire::ErrorCode::None);
    // At least one voice call assigned at once (for the check below).
    ASSERT_EQ(AddAgent(d, "sure", "billing", 3, 1), wire::ErrorCode::None);
    ASSERT_EQ(SetState(d, "sure", 1), wire::ErrorCode::None);
    ASSERT_EQ(Route(d, "c-sure", Channel::kVoice, "billing", 0, ""),
              wire::ErrorCode::None);
    for (int step = 1; step <= 400; ++step) RandomCall(d, rng, step);
  }
  absl::StatusOr<journal::ReplayReport> replay =
      journal::ReplayJournal(dir, ReplayOptionsLikeTheDaemon());
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->first_difference, "");
  EXPECT_GT(replay->decisions_compared, 100u);

  // Replayed with voice calls offered too (not as routingd ran), the same
  // inputs decide otherwise: the replay names the first record that
  // differs.
  journal::ReplayOptions other = ReplayOptionsLikeTheDaemon();
  other.router.offer_timeout[static_cast<int>(Channel::kVoice)] =
      absl::Seconds(20);
  replay = journal::ReplayJournal(dir, other);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_THAT(replay->first_difference, HasSubstr("record #"));
}

INSTANTIATE_TEST_SUITE_P(Seeds, StateJournalTest, ::testing::Range(1, 13));

class StateJournalFaultTest : public StateJournalTest {};

TEST_F(StateJournalFaultTest, CallsThatKeepProfilesRecordAgentStatesOnly) {
  // A route, a requeue, a release, a state change: the agents' state fields
  // only. AddAgent and UpdateAgent: the profile whole. A restart folds
  // both into the agents as the router has them.
  const std::string dir = journal::ScratchDirectory("state-only-agents");
  auto daemon = std::make_unique<Daemon>(&clock_, dir, nullptr);
  for (const char* id : {"a1", "a2"}) {
    ASSERT_EQ(AddAgent(*daemon, id, "billing", 4, 2), wire::ErrorCode::None);
    ASSERT_EQ(SetState(*daemon, id, 1), wire::ErrorCode::None);
  }
  ASSERT_EQ(Route(*daemon, "c1", Channel::kVoice, "billing", 0, "cust-1"),
            wire::ErrorCode::None);
  ASSERT_EQ(Route(*daemon, "c1", Channel::kVoice, "billing", 0, "",
                  /*requeue=*/true),
            wire::ErrorCode::None);
  ASSERT_EQ(UpdateAgent(*daemon, "a1", 3, 2), wire::ErrorCode::None);
  ASSERT_EQ(ContactCall(*daemon, wire::RequestBody::ReleaseContact, "c1"),
            wire::ErrorCode::None);
  const routing::RouterState final_state = daemon->router->ExportState();

  // Request type: whether each of its agent changes kept the profile.
  std::map<std::string, std::vector<bool>> kept;
  absl::StatusOr<journal::WalkReport> walk = journal::WalkJournal(
      dir, [](const journal::Snapshot&) {},
      [&](uint64_t, const journal::JournalRecord& record) {
        const wire::Request* request =
            flatbuffers::GetRoot<wire::Request>(record.request.data());
        for (const journal::AgentChange& change : record.agents) {
          kept[wire::EnumNameRequestBody(request->body_type())].push_back(
              change.profile_unchanged);
          if (!change.profile_unchanged) {
            EXPECT_FALSE(change.agent->profile.skills.empty()) << change.id;
          }
        }
        return absl::OkStatus();
      });
  ASSERT_TRUE(walk.ok()) << walk.status();
  EXPECT_THAT(kept["AddAgent"], ::testing::ElementsAre(false, false));
  EXPECT_THAT(kept["UpdateAgent"], ::testing::ElementsAre(false));
  // (A route changes no agent's own fields: its load is its contacts.)
  for (const char* type :
       {"SetAgentState", "RequeueContact", "ReleaseContact"}) {
    EXPECT_FALSE(kept[type].empty()) << type;
    EXPECT_THAT(kept[type], ::testing::Each(true)) << type;
  }
  EXPECT_THAT(kept["RouteContact"], ::testing::Each(true));

  daemon.reset();
  absl::StatusOr<RecoveredState> recovered = RecoverState(ReadOptions(dir));
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_TRUE(journal::SameState(journal::Canonical(recovered->state),
                                 journal::Canonical(final_state)));
  for (const routing::AgentSnapshot& agent : recovered->state.agents) {
    if (agent.profile.id != "a1") continue;
    EXPECT_EQ(agent.profile.skills.size(), 3u);
    EXPECT_EQ(agent.profile.CapacityOf(Channel::kVoice), 2);
  }
}

TEST_F(StateJournalFaultTest, ReplayUnderOtherRulesTellsWhatWouldChange) {
  const std::string dir = journal::ScratchDirectory("state-journal-what-if");
  {
    Daemon d(&clock_, dir, nullptr);
    ASSERT_EQ(AddAgent(d, "ann", "billing", 5, 1), wire::ErrorCode::None);
    ASSERT_EQ(AddAgent(d, "bob", "billing", 1, 1), wire::ErrorCode::None);
    ASSERT_EQ(SetState(d, "ann", 1), wire::ErrorCode::None);
    ASSERT_EQ(SetState(d, "bob", 1), wire::ErrorCode::None);
    // c1 goes to ann (the better skill); c2 to bob; c3 waits for whoever
    // frees first: ann, released 30 s later.
    ASSERT_EQ(Route(d, "c1", Channel::kVoice, "billing", 0, "cu1"),
              wire::ErrorCode::None);
    ASSERT_EQ(d.router->GetContact("c1")->agent_id, "ann");
    ASSERT_EQ(Route(d, "c2", Channel::kVoice, "billing", 0, "cu2"),
              wire::ErrorCode::None);
    ASSERT_EQ(Route(d, "c3", Channel::kVoice, "billing", 0, "cu3"),
              wire::ErrorCode::None);
    clock_.Advance(absl::Seconds(30));
    ASSERT_EQ(ContactCall(d, wire::RequestBody::ReleaseContact, "c1"),
              wire::ErrorCode::None);
    ASSERT_EQ(d.router->GetContact("c3")->agent_id, "ann");
  }
  const std::string rules_file = absl::StrCat(dir, "-prefer-bob.lua");
  {
    std::FILE* f = std::fopen(rules_file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(R"lua(
return {
  name = "prefer-bob",
  score = function(contact, agent)
    if agent.id == "bob" then return agent.score + 1 end
    return agent.score
  end,
}
)lua",
               f);
    std::fclose(f);
  }
  journal::ReplayOptions options = ReplayOptionsLikeTheDaemon();
  options.other_rules_file = rules_file;
  absl::StatusOr<journal::ReplayReport> what_if =
      journal::ReplayJournal(dir, options);
  ASSERT_TRUE(what_if.ok()) << what_if.status();
  std::map<std::string, journal::ContactOutcomes> by_id;
  for (const auto& o : what_if->contacts) by_id[o.contact_id] = o;
  ASSERT_EQ(by_id.size(), 3u);
  // Under the other rules c1 goes to bob, c2 to ann; c3 still waits for
  // the release of c1, which now frees bob.
  EXPECT_EQ(by_id["c1"].recorded_agent, "ann");
  EXPECT_EQ(by_id["c1"].replayed_agent, "bob");
  EXPECT_EQ(by_id["c2"].recorded_agent, "bob");
  EXPECT_EQ(by_id["c2"].replayed_agent, "ann");
  EXPECT_EQ(by_id["c3"].recorded_agent, "ann");
  EXPECT_EQ(by_id["c3"].replayed_agent, "bob");
  EXPECT_EQ(by_id["c3"].recorded_wait, absl::Seconds(30));
  EXPECT_EQ(by_id["c3"].replayed_wait, absl::Seconds(30));
  std::string summary;
  for (const std::string& line : what_if->summary) {
    absl::StrAppend(&summary, line, "\n");
  }
  EXPECT_THAT(summary, HasSubstr("by another agent: 3"));
  EXPECT_THAT(summary, HasSubstr("c1: ann after 0 s -> bob after 0 s"));
}

TEST_F(StateJournalFaultTest, WhyTellsAContactsLife) {
  const std::string dir = journal::ScratchDirectory("state-journal-why");
  {
    Daemon d(&clock_, dir, nullptr);
    ASSERT_EQ(AddAgent(d, "ann", "billing", 5, 1), wire::ErrorCode::None);
    ASSERT_EQ(AddAgent(d, "bob", "billing", 2, 1), wire::ErrorCode::None);
    ASSERT_EQ(SetState(d, "ann", 1), wire::ErrorCode::None);
    ASSERT_EQ(SetState(d, "bob", 1), wire::ErrorCode::None);
    ASSERT_EQ(Route(d, "c1", Channel::kVoice, "billing", 0, "cu1"),
              wire::ErrorCode::None);
    ASSERT_EQ(Route(d, "c2", Channel::kVoice, "billing", 0, "cu2"),
              wire::ErrorCode::None);
    ASSERT_EQ(Route(d, "c3", Channel::kVoice, "billing", 0, "cu3"),
              wire::ErrorCode::None);
    ASSERT_EQ(Route(d, "c4", Channel::kVoice, "billing", 0, "cu4"),
              wire::ErrorCode::None);
    clock_.Advance(absl::Seconds(45));
    ASSERT_EQ(ContactCall(d, wire::RequestBody::ReleaseContact, "c2"),
              wire::ErrorCode::None);  // bob takes c3
    ASSERT_EQ(ContactCall(d, wire::RequestBody::ReleaseContact, "c1"),
              wire::ErrorCode::None);  // ann takes c4
    ASSERT_EQ(ContactCall(d, wire::RequestBody::ReleaseContact, "c4"),
              wire::ErrorCode::None);
  }
  auto story_of = [&](const std::string& id) {
    journal::ContactStory story(id);
    auto walk = journal::WalkJournal(
        dir, [&](const journal::Snapshot& s) { story.Start(s.state, 0); },
        [&](uint64_t seq, const journal::JournalRecord& r) {
          story.Add(seq, r);
          return absl::OkStatus();
        });
    EXPECT_TRUE(walk.ok()) << walk.status();
    std::string text;
    for (const std::string& line : story.lines()) {
      absl::StrAppend(&text, line, "\n");
    }
    return text;
  };
  const std::string c1 = story_of("c1");
  EXPECT_THAT(c1, HasSubstr("-> assigned to ann at once"));
  EXPECT_THAT(c1, HasSubstr("skill"));
  EXPECT_THAT(c1, HasSubstr("runners-up: bob"));
  EXPECT_THAT(c1, HasSubstr("released by ann"));
  const std::string c4 = story_of("c4");
  EXPECT_THAT(c4, HasSubstr("queued at position 2"));
  EXPECT_THAT(c4, HasSubstr("assigned to ann after waiting 45s "
                            "(ReleaseContact c1)"));
  EXPECT_THAT(c4, HasSubstr("ann became free"));
  EXPECT_EQ(story_of("nobody"), "");
}

TEST_F(StateJournalFaultTest, ACallTheJournalCannotTakeChangesNothing) {
  const std::string dir = journal::ScratchDirectory("state-journal-faults");
  journal::FaultySink* faulty = nullptr;
  Daemon d(&clock_, dir, nullptr,
           [&]() -> absl::StatusOr<std::unique_ptr<journal::JournalSink>> {
             auto inner = journal::SegmentSink::Open(dir);
             if (!inner.ok()) return inner.status();
             auto sink =
                 std::make_unique<journal::FaultySink>(*std::move(inner));
             faulty = sink.get();
             return sink;
           });
  ASSERT_NE(faulty, nullptr);
  ASSERT_EQ(AddAgent(d, "ann", "billing", 3, 1), wire::ErrorCode::None);
  ASSERT_EQ(SetState(d, "ann", 1), wire::ErrorCode::None);  // available

  faulty->fail_appends = true;
  // Ran, but its record could not be written: not durable.
  std::string message;
  EXPECT_EQ(SetState(d, "ann", 4, &message), wire::ErrorCode::NotDurable);
  EXPECT_THAT(message, HasSubstr("no space left"));
  EXPECT_EQ(d.router->GetAgent("ann")->state, AgentState::kBreak);
  // From now on refused before running: nothing changes.
  EXPECT_EQ(SetState(d, "ann", 1, &message),
            wire::ErrorCode::JournalUnavailable);
  EXPECT_THAT(message, HasSubstr("nothing was executed"));
  EXPECT_EQ(d.router->GetAgent("ann")->state, AgentState::kBreak);
  EXPECT_EQ(Route(d, "c1", Channel::kVoice, "billing", 0, "cu"),
            wire::ErrorCode::JournalUnavailable);
  EXPECT_FALSE(d.router->GetContact("c1").ok());
  EXPECT_EQ(d.metrics.journal_refusals.load(), 2u);
  EXPECT_EQ(d.journal->Stats().records_pending, 1u);

  // The disk serves again: the kept record first, then the next call.
  faulty->fail_appends = false;
  EXPECT_EQ(SetState(d, "ann", 1), wire::ErrorCode::None);
  EXPECT_EQ(Route(d, "c1", Channel::kVoice, "billing", 0, "cu"),
            wire::ErrorCode::None);
  EXPECT_EQ(d.journal->Stats().records_pending, 0u);
  const routing::RouterState final_state = d.router->ExportState();
  absl::StatusOr<RecoveredState> recovered = RecoverState(ReadOptions(dir));
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(recovered->records, 5u);  // add, available, break, available, c1
  EXPECT_TRUE(journal::SameState(journal::Canonical(recovered->state),
                                 journal::Canonical(final_state)));
}

TEST_F(StateJournalFaultTest, RefusedAndIdempotentCallsLeaveNoRecord) {
  const std::string dir = journal::ScratchDirectory("state-journal-refusals");
  Daemon d(&clock_, dir, nullptr);
  ASSERT_EQ(AddAgent(d, "ann", "billing", 3, 1), wire::ErrorCode::None);
  EXPECT_EQ(AddAgent(d, "ann", "billing", 3, 1),
            wire::ErrorCode::AlreadyExists);
  EXPECT_EQ(ContactCall(d, wire::RequestBody::CancelContact, "nobody"),
            wire::ErrorCode::NotFound);
  EXPECT_EQ(Reload(d, "return {"), wire::ErrorCode::None);  // refused rules
  absl::StatusOr<RecoveredState> recovered = RecoverState(ReadOptions(dir));
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(recovered->records, 1u);
  EXPECT_EQ(recovered->rules.version, 0u);
}

TEST_F(StateJournalFaultTest, ARestartedJournalCarriesOn) {
  // Restart, serve, restart again: records carry on from where the first
  // run's left off (its final snapshot), and time spent down counts as
  // waiting.
  const std::string dir = journal::ScratchDirectory("state-journal-carries-on");
  {
    Daemon d(&clock_, dir, nullptr);
    ASSERT_EQ(AddAgent(d, "ann", "billing", 3, 1), wire::ErrorCode::None);
    ASSERT_EQ(Route(d, "c1", Channel::kVoice, "billing", 0, "cu"),
              wire::ErrorCode::None);
    ASSERT_EQ(Route(d, "c2", Channel::kVoice, "billing", 0, "cu2"),
              wire::ErrorCode::None);
  }
  absl::StatusOr<RecoveredState> first = RecoverState(ReadOptions(dir));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->next_sequence, 4u);
  routing::RouterState final_state;
  {
    Daemon again(&clock_, dir, &*first);
    clock_.Advance(absl::Seconds(30));
    ASSERT_EQ(SetState(again, "ann", 1), wire::ErrorCode::None);
    ASSERT_EQ(again.router->GetContact("c1")->agent_id, "ann");
    ASSERT_EQ(ContactCall(again, wire::RequestBody::ReleaseContact, "c1"),
              wire::ErrorCode::None);
    // c2 waited 30 s, downtime included, and is now ann's.
    ASSERT_EQ(again.router->GetContact("c2")->agent_id, "ann");
    final_state = again.router->ExportState();
  }
  absl::StatusOr<RecoveredState> second = RecoverState(ReadOptions(dir));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->next_sequence, 6u);
  EXPECT_TRUE(journal::SameState(journal::Canonical(second->state),
                                 journal::Canonical(final_state)));
  ASSERT_EQ(second->state.customers.size(), 1u);  // cu: released by ann
}

TEST_F(StateJournalFaultTest, SnapshotsKeepRetiredSegmentsAndRestartsReadOn) {
  // Small segments, snapshots between bursts of calls: each snapshot keeps
  // the segments it retires (up to the limit) for the spare's thread to
  // reuse, and a restart still finds exactly the router's state.
  const std::string dir = journal::ScratchDirectory("state-journal-reuse");
  std::filesystem::create_directories(dir);
  if (!journal::SegmentSpare::MakesSpares(dir)) {
    GTEST_SKIP() << dir << " is on tmpfs: no spares, nothing kept";
  }
  std::mt19937 rng(7);
  routing::RouterState final_state;
  {
    Daemon d(&clock_, dir, nullptr, nullptr, /*segment_bytes=*/8192);
    ASSERT_EQ(Reload(d, kOverflowRules), wire::ErrorCode::None);
    size_t kept_at_first = 0;
    for (int burst = 0; burst < 4; ++burst) {
      for (int step = 1; step <= 250; ++step) RandomCall(d, rng, step);
      ASSERT_TRUE(d.journal->Snapshot().ok());
      const std::vector<std::string> kept = *journal::ListReusableSegments(dir);
      EXPECT_LE(kept.size(),
                static_cast<size_t>(StateJournalOptions().reuse_segments));
      if (burst == 0) kept_at_first = kept.size();
      // Only the segment in use is left to read.
      EXPECT_EQ(journal::ListSegments(dir)->size(), 1u);
    }
    EXPECT_GT(kept_at_first, 0u);
    final_state = d.router->ExportState();
  }
  absl::StatusOr<RecoveredState> recovered = RecoverState(ReadOptions(dir));
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_TRUE(journal::SameState(journal::Canonical(recovered->state),
                                 journal::Canonical(final_state)));
}

}  // namespace
}  // namespace routing::sidecar
