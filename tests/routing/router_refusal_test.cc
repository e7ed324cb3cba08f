// "Errors never change state: a call that returns an error did nothing"
// (router.h). For every Router method and every refusal router.h documents,
// the whole observable state is snapshotted before and after the refused
// call and compared: the roster and every agent's status, every contact the
// test knows of, the statistics with every queue, the history of every
// customer the test knows of, and the policy and rules versions. Some
// refusals changed state that no getter shows directly (an interned agent id
// or skill name, a burned roster slot); those tests go on to show the
// consequence: an AddAgent or a Route that then fails.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "routing/router.h"
#include "tests/routing/router_test_support.h"

namespace routing {
namespace {

using ::routing::testing::MakeAgent;
using ::routing::testing::MakeContact;
using ::routing::testing::RecordingListener;

constexpr absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

std::string TimeText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E*S", t, absl::UTCTimeZone());
}

// The model's names come as std::string_view, which Debian's Abseil does not
// take for absl::string_view.
std::string Name(std::string_view name) { return std::string(name); }

template <typename Map>
std::string SortedPairs(const Map& map) {
  std::vector<std::string> pairs;
  for (const auto& [key, value] : map) pairs.push_back(key + "=" + value);
  std::sort(pairs.begin(), pairs.end());
  return absl::StrJoin(pairs, ",");
}

std::string Requirements(const std::vector<SkillRequirement>& list) {
  return absl::StrJoin(list, ",",
                       [](std::string* out, const SkillRequirement& r) {
                         absl::StrAppend(out, r.skill, ">=", r.min_level);
                       });
}

// Everything a caller can observe through the Router's getters, flattened to
// "key: value" lines, so that two snapshots compare line by line and a
// difference reads as the lines that changed.
class StateSnapshot {
 public:
  // What to look up beyond what the router lists by itself: ids that may or
  // may not be on the roster or held (a refused call must not add them).
  struct Probe {
    std::vector<std::string> agents;
    std::vector<std::string> contacts;
    std::vector<std::string> customers;
  };

  static StateSnapshot Take(const Router& router, const Probe& probe) {
    StateSnapshot s;
    s.Set("policy_version", router.PolicyVersion());
    s.Set("rules_version", router.RulesVersion());
    std::vector<std::string> agents = router.AgentIds();
    s.Set("roster", absl::StrJoin(agents, ","));
    agents.insert(agents.end(), probe.agents.begin(), probe.agents.end());
    for (const std::string& id : agents) s.AddAgent(router, id);
    for (const std::string& id : probe.contacts) s.AddContact(router, id);
    for (const std::string& id : probe.customers) {
      std::vector<std::string> entries;
      for (const CustomerInteraction& i : router.CustomerHistory(id)) {
        entries.push_back(absl::StrCat(
            i.agent_id, "/", Name(ChannelName(i.channel)), "/",
            Name(ContactOutcomeName(i.outcome)), "/", TimeText(i.time)));
      }
      s.Set(absl::StrCat("history[", id, "]"), absl::StrJoin(entries, "; "));
    }
    s.AddStats(router.Stats());
    return s;
  }

  // Empty if equal; otherwise one line per difference.
  std::string Diff(const StateSnapshot& after) const {
    std::vector<std::string> out;
    for (const auto& [key, value] : lines_) {
      auto it = after.lines_.find(key);
      if (it == after.lines_.end()) {
        out.push_back(absl::StrCat("  - ", key, ": ", value));
      } else if (it->second != value) {
        out.push_back(
            absl::StrCat("  ~ ", key, ": ", value, "  ->  ", it->second));
      }
    }
    for (const auto& [key, value] : after.lines_) {
      if (!lines_.contains(key)) {
        out.push_back(absl::StrCat("  + ", key, ": ", value));
      }
    }
    return absl::StrJoin(out, "\n");
  }

 private:
  template <typename T>
  void Set(const std::string& key, const T& value) {
    lines_[key] = absl::StrCat(value);
  }

  void AddAgent(const Router& router, const std::string& id) {
    const std::string key = absl::StrCat("agent[", id, "]");
    absl::StatusOr<AgentStatus> a = router.GetAgent(id);
    if (!a.ok()) {
      Set(key, absl::StatusCodeToString(a.status().code()));
      return;
    }
    const AgentProfile& p = a->profile;
    std::vector<std::string> capacity, load;
    for (Channel c : kAllChannels) {
      if (p.CapacityOf(c) == 0 && a->LoadOf(c) == 0) continue;
      capacity.push_back(
          absl::StrCat(Name(ChannelName(c)), "=", p.CapacityOf(c)));
      load.push_back(absl::StrCat(Name(ChannelName(c)), "=", a->LoadOf(c)));
    }
    Set(key + ".profile",
        absl::StrCat(
            "skills ",
            absl::StrJoin(p.skills, ",",
                          [](std::string* out, const AgentSkill& k) {
                            absl::StrAppend(out, k.skill, ":", k.level);
                          }),
            " languages ",
            absl::StrJoin(p.languages, ",",
                          [](std::string* out, const AgentLanguage& l) {
                            absl::StrAppend(out, l.language, ":", l.fluency);
                          }),
            " capacity ", absl::StrJoin(capacity, ","), " max_total ",
            p.max_total_contacts, " team ", p.team, " site ", p.site,
            " attributes ", SortedPairs(p.attributes)));
    Set(key + ".state", Name(AgentStateName(a->state)));
    Set(key + ".load", absl::StrJoin(load, ","));
    Set(key + ".state_since", TimeText(a->state_since));
    Set(key + ".idle_since", TimeText(a->idle_since));
    Set(key + ".occupancy", a->occupancy);
    Set(key + ".contacts_handled", a->contacts_handled);
  }

  void AddContact(const Router& router, const std::string& id) {
    const std::string key = absl::StrCat("contact[", id, "]");
    absl::StatusOr<ContactStatus> s = router.GetContact(id);
    if (!s.ok()) {
      Set(key, absl::StatusCodeToString(s.status().code()));
      return;
    }
    const Contact& c = s->contact;
    Set(key + ".state",
        s->state == ContactStatus::State::kQueued ? "queued" : "assigned");
    Set(key + ".agent", s->agent_id);
    Set(key + ".assigned_at", s->state == ContactStatus::State::kAssigned
                                  ? TimeText(s->assigned_at)
                                  : "");
    Set(key + ".contact",
        absl::StrCat(
            Name(ChannelName(c.channel)), " queue ", c.queue, " priority ",
            c.priority, " required ", Requirements(c.required_skills),
            " desired ", Requirements(c.desired_skills), " languages ",
            absl::StrJoin(c.languages, ","), " customer ", c.customer_id,
            " preferred ", absl::StrJoin(c.preferred_agents, ","), " excluded ",
            absl::StrJoin(c.excluded_agents, ","), " enqueued ",
            TimeText(c.enqueue_time), " attributes ",
            SortedPairs(c.attributes)));
  }

  void AddStats(const RouterStats& s) {
    Set("stats.policy_version", s.policy_version);
    Set("stats.rules_version", s.rules_version);
    Set("stats.rules_fallbacks", s.rules_fallbacks);
    Set("stats.decisions", s.decisions);
    Set("stats.assigned_immediately", s.assigned_immediately);
    Set("stats.queued", s.queued);
    Set("stats.assigned_from_queue", s.assigned_from_queue);
    Set("stats.cancelled", s.cancelled);
    Set("stats.released", s.released);
    Set("stats.contacts_held", s.contacts_held);
    Set("stats.agents", s.agents);
    Set("stats.agents_by_state", absl::StrJoin(s.agents_by_state, ","));
    std::vector<std::string> names;
    for (const QueueStats& q : s.queues) {
      names.push_back(q.queue);
      const std::string key = absl::StrCat("queue[", q.queue, "]");
      Set(key + ".waiting", q.waiting);
      Set(key + ".longest_wait", absl::FormatDuration(q.longest_wait));
      Set(key + ".answered", q.answered);
      Set(key + ".answered_in_service_level", q.answered_in_service_level);
      Set(key + ".abandoned", q.abandoned);
      Set(key + ".service_level", q.service_level);
      Set(key + ".average_speed_of_answer",
          absl::FormatDuration(q.average_speed_of_answer));
      Set(key + ".average_handle_time",
          absl::FormatDuration(q.average_handle_time));
    }
    Set("stats.queues", absl::StrJoin(names, ","));
  }

  std::map<std::string, std::string> lines_;
};

absl::Status StatusOf(const absl::Status& status) { return status; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& result) {
  return result.status();
}

// Expects `call` to be refused with `code` and to change nothing observable.
#define EXPECT_REFUSED_UNCHANGED(code, call) \
  ExpectRefusedUnchanged(                    \
      code, [&] { return StatusOf(call); }, #call, __FILE__, __LINE__)

// A router with some of everything: agents in each state, contacts assigned
// and queued on two channels, a released contact in a customer's history,
// three queues with statistics.
//
// clang-format off
//   ana   billing 5, sales 2; en, es; voice 1, chat 2   available   holds call-1, chat-1
//   bo    billing 2, sales 3; en; voice 1               available   holds call-2
//   cy    sales 4; fr, en; voice 1, chat 1              logged out
//   dee   general 3; en; voice 1                        busy
//   gone  added, then removed
//   call-3 waits in "sales" (only cy qualifies), call-4 in "vip";
//   done-1 was served by ana and released (cust-2's history).
// clang-format on
class RefusalTest : public ::testing::Test {
 protected:
  RefusalTest() : clock_(kStart) {}

  void SetUp() override { Build(SmallOptions()); }

  // Limits a test can reach on purpose; the fixture uses 5 agent ids, 3
  // skills, 3 languages, 3 queues and holds 5 contacts.
  static RouterOptions SmallOptions() {
    RouterOptions options;
    options.max_agents = 16;
    options.max_skills = 8;
    options.max_languages = 6;
    options.max_queues = 6;
    options.max_contacts = 16;
    return options;
  }

  void Build(RouterOptions options) {
    options.clock = &clock_;
    options.listener = &listener_;
    clock_.Set(kStart);
    absl::StatusOr<std::unique_ptr<Router>> router = Router::Create(options);
    ASSERT_TRUE(router.ok()) << router.status();
    router_ = std::move(*router);
    Populate();
  }

  void Populate() {
    AgentProfile ana = MakeAgent("ana", {{"billing", 5}, {"sales", 2}},
                                 {{"en", 5}, {"es", 4}}, 1, 2);
    ana.team = "north";
    ana.site = "madrid";
    ana.attributes["shift"] = "early";
    Add(ana, AgentState::kAvailable);
    Add(MakeAgent("bo", {{"billing", 2}, {"sales", 3}}),
        AgentState::kAvailable);
    Add(MakeAgent("cy", {{"sales", 4}}, {{"fr", 5}, {"en", 3}}, 1, 1),
        AgentState::kLoggedOut);
    Add(MakeAgent("dee", {{"general", 3}}), AgentState::kBusy);
    Add(MakeAgent("gone", {{"general", 1}}), AgentState::kLoggedOut);
    ASSERT_TRUE(router_->RemoveAgent("gone").ok());

    clock_.Advance(absl::Minutes(1));
    Contact done = MakeContact("done-1", {{"billing", 1}});
    done.customer_id = "cust-2";
    ASSERT_EQ(Route(done).agent_id, "ana");
    clock_.Advance(absl::Minutes(4));
    ASSERT_TRUE(router_->Release("done-1", ContactOutcome::kResolved).ok());

    clock_.Advance(absl::Minutes(1));
    Contact call1 = MakeContact("call-1", {{"billing", 3}});
    call1.customer_id = "cust-1";
    call1.attributes["intent"] = "refund";
    ASSERT_EQ(Route(call1).agent_id, "ana");
    Contact chat1 = MakeContact("chat-1", {{"billing", 1}}, Channel::kChat);
    chat1.customer_id = "cust-3";
    ASSERT_EQ(Route(chat1).agent_id, "ana");
    ASSERT_EQ(Route(MakeContact("call-2", {{"sales", 3}})).agent_id, "bo");
    clock_.Advance(absl::Seconds(20));
    Contact call3 = MakeContact("call-3", {{"sales", 4}});
    call3.customer_id = "cust-3";
    call3.languages = {"fr", "en"};
    ASSERT_EQ(Route(call3).outcome, DecisionOutcome::kQueued);
    Contact call4 = MakeContact("call-4", {{"billing", 1}});
    call4.queue = "vip";
    call4.priority = 2;
    ASSERT_EQ(Route(call4).outcome, DecisionOutcome::kQueued);
    clock_.Advance(absl::Seconds(15));
    listener_.Take();
  }

  void Add(const AgentProfile& agent, AgentState state) {
    ASSERT_TRUE(router_->AddAgent(agent).ok()) << agent.id;
    if (state != AgentState::kLoggedOut) {
      ASSERT_TRUE(router_->SetAgentState(agent.id, state).ok()) << agent.id;
    }
    clock_.Advance(absl::Seconds(10));
  }

  RoutingDecision Route(const Contact& contact) {
    absl::StatusOr<RoutingDecision> d = router_->Route(contact);
    EXPECT_TRUE(d.ok()) << contact.id << ": " << d.status();
    return d.ok() ? *d : RoutingDecision();
  }

  StateSnapshot Snapshot() const {
    StateSnapshot::Probe probe;
    probe.agents = {"gone", "new-agent", "nobody", "late-1", "late-2"};
    probe.contacts = {"done-1", "call-1", "chat-1",   "call-2",
                      "call-3", "call-4", "new-call", "nope"};
    probe.customers = {"cust-1", "cust-2", "cust-3", "cust-new"};
    return StateSnapshot::Take(*router_, probe);
  }

  template <typename Call>
  void ExpectRefusedUnchanged(absl::StatusCode code, Call call,
                              const char* what, const char* file, int line) {
    const ::testing::ScopedTrace trace(file, line, what);
    const StateSnapshot before = Snapshot();
    const absl::Status status = call();
    EXPECT_EQ(status.code(), code) << what << "\n  returned " << status;
    const std::string diff = before.Diff(Snapshot());
    EXPECT_TRUE(diff.empty())
        << what << "\n  returned " << status << "\n  and changed:\n"
        << diff;
  }

  // A contact nobody could ever serve: billing 5 (only ana) in French (only
  // cy).
  static Contact Unservable(const std::string& id) {
    Contact c = MakeContact(id, {{"billing", 5}});
    c.languages = {"fr"};
    return c;
  }

  // After refusals that might have interned agent ids: `n` more agents fit.
  void ExpectRoomForAgents(int n) {
    for (int i = 1; i <= n; ++i) {
      const std::string id = absl::StrCat("late-", i);
      absl::Status added = router_->AddAgent(MakeAgent(id, {{"general", 1}}));
      EXPECT_TRUE(added.ok()) << "adding " << id << " (" << i << " of the " << n
                              << " the roster has room for): " << added;
    }
  }

  ManualClock clock_;
  RecordingListener listener_;
  std::unique_ptr<Router> router_;
};

// --- AddAgent ---------------------------------------------------------------

TEST_F(RefusalTest, AddAgentInvalidArgument) {
  const auto code = absl::StatusCode::kInvalidArgument;
  auto agent = [] { return MakeAgent("new-agent", {{"billing", 3}}); };
  EXPECT_REFUSED_UNCHANGED(code, router_->AddAgent(MakeAgent("", {})));
  EXPECT_REFUSED_UNCHANGED(
      code, router_->AddAgent(MakeAgent(std::string(300, 'a'), {})));
  AgentProfile p = agent();
  p.skills = {{"billing", 0}};
  EXPECT_REFUSED_UNCHANGED(code, router_->AddAgent(p));
  p.skills = {{"billing", 6}};
  EXPECT_REFUSED_UNCHANGED(code, router_->AddAgent(p));
  p = agent();
  p.skills = {{"billing", 3}, {"billing", 4}};
  EXPECT_REFUSED_UNCHANGED(code, router_->AddAgent(p));
  p = agent();
  p.skills = {{"", 3}};
  EXPECT_REFUSED_UNCHANGED(code, router_->AddAgent(p));
  p = agent();
  p.languages = {{"en", 0}};
  EXPECT_REFUSED_UNCHANGED(code, router_->AddAgent(p));
  p.languages = {{"en", 3}, {"en", 4}};
  EXPECT_REFUSED_UNCHANGED(code, router_->AddAgent(p));
  p = agent();
  p.SetCapacity(Channel::kVoice, -1);
  EXPECT_REFUSED_UNCHANGED(code, router_->AddAgent(p));
  p.SetCapacity(Channel::kVoice, kMaxChannelCapacity + 1);
  EXPECT_REFUSED_UNCHANGED(code, router_->AddAgent(p));
  p.SetCapacity(Channel::kVoice, 0);  // No capacity anywhere.
  EXPECT_REFUSED_UNCHANGED(code, router_->AddAgent(p));
  p = agent();
  p.max_total_contacts = 2;  // Above its one voice call.
  EXPECT_REFUSED_UNCHANGED(code, router_->AddAgent(p));
  p = agent();
  for (int i = 0; i < 300; ++i) p.attributes[absl::StrCat("k", i)] = "v";
  EXPECT_REFUSED_UNCHANGED(code, router_->AddAgent(p));
  p = agent();
  p.attributes["summary"] = std::string(64 * 1024 + 1, 'x');
  EXPECT_REFUSED_UNCHANGED(code, router_->AddAgent(p));
}

TEST_F(RefusalTest, AddAgentAlreadyExists) {
  const auto code = absl::StatusCode::kAlreadyExists;
  // Holding contacts, idle and logged out: each keeps its state and load.
  EXPECT_REFUSED_UNCHANGED(
      code, router_->AddAgent(MakeAgent("ana", {{"general", 1}})));
  EXPECT_REFUSED_UNCHANGED(code, router_->AddAgent(MakeAgent("cy", {})));
  EXPECT_REFUSED_UNCHANGED(code, router_->AddAgent(MakeAgent("dee", {})));
}

TEST_F(RefusalTest, AddAgentResourceExhaustedWhenTheRosterIsFull) {
  RouterOptions options = SmallOptions();
  options.max_agents = 5;  // ana, bo, cy, dee, gone.
  Build(options);
  EXPECT_REFUSED_UNCHANGED(
      absl::StatusCode::kResourceExhausted,
      router_->AddAgent(MakeAgent("new-agent", {{"billing", 1}})));
}

// Invalid profiles were checked after the id was interned: each refused add
// of a new id used up a slot of max_agents.
TEST_F(RefusalTest, RefusedAddAgentUsesNoRosterSlot) {
  RouterOptions options = SmallOptions();
  options.max_agents = 7;  // 5 ids used: room for 2.
  Build(options);
  for (int i = 0; i < 4; ++i) {
    AgentProfile p = MakeAgent(absl::StrCat("invalid-", i), {{"billing", 9}});
    EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kInvalidArgument,
                             router_->AddAgent(p));
  }
  ExpectRoomForAgents(2);
}

// A profile's skills were interned one by one, so an add refused because the
// skill table filled up half-way left the first new skills known: a contact
// requiring one is no longer NotFound, and the table has less room.
TEST_F(RefusalTest, AddAgentRefusedForSkillsInternsNoSkill) {
  RouterOptions options = SmallOptions();
  options.max_skills = 4;  // billing, sales, general: room for 1.
  Build(options);
  EXPECT_REFUSED_UNCHANGED(
      absl::StatusCode::kResourceExhausted,
      router_->AddAgent(
          MakeAgent("new-agent", {{"astrology", 1}, {"alchemy", 1}})));
  EXPECT_EQ(router_->Route(MakeContact("new-call", {{"astrology", 1}}))
                .status()
                .code(),
            absl::StatusCode::kNotFound)
      << "the refused AddAgent left 'astrology' known";
  EXPECT_TRUE(router_->AddAgent(MakeAgent("late-1", {{"calligraphy", 2}})).ok())
      << "the skill table has room for one more skill";
}

TEST_F(RefusalTest, AddAgentRefusedForLanguagesInternsNoLanguage) {
  RouterOptions options = SmallOptions();
  options.max_languages = 4;  // en, es, fr: room for 1.
  Build(options);
  EXPECT_REFUSED_UNCHANGED(
      absl::StatusCode::kResourceExhausted,
      router_->AddAgent(
          MakeAgent("new-agent", {{"billing", 1}}, {{"de", 5}, {"it", 5}})));
  Contact german = MakeContact("new-call", {{"billing", 1}});
  german.languages = {"de"};
  EXPECT_EQ(router_->Route(german).status().code(), absl::StatusCode::kNotFound)
      << "the refused AddAgent left 'de' known";
  EXPECT_TRUE(
      router_->AddAgent(MakeAgent("late-1", {{"billing", 1}}, {{"pt", 4}}))
          .ok())
      << "the language table has room for one more language";
}

// --- UpdateAgent ------------------------------------------------------------

TEST_F(RefusalTest, UpdateAgentNotFound) {
  const auto code = absl::StatusCode::kNotFound;
  EXPECT_REFUSED_UNCHANGED(
      code, router_->UpdateAgent(MakeAgent("nobody", {{"billing", 1}})));
  EXPECT_REFUSED_UNCHANGED(
      code, router_->UpdateAgent(MakeAgent("gone", {{"billing", 1}})));
}

TEST_F(RefusalTest, UpdateAgentInvalidArgument) {
  const auto code = absl::StatusCode::kInvalidArgument;
  EXPECT_REFUSED_UNCHANGED(code, router_->UpdateAgent(MakeAgent("", {})));
  AgentProfile p = MakeAgent("ana", {{"billing", 9}});
  EXPECT_REFUSED_UNCHANGED(code, router_->UpdateAgent(p));
  p = MakeAgent("ana", {{"billing", 5}, {"billing", 4}});
  EXPECT_REFUSED_UNCHANGED(code, router_->UpdateAgent(p));
  p = MakeAgent("ana", {{"billing", 5}}, {{"en", 5}}, 0, 0);
  EXPECT_REFUSED_UNCHANGED(code, router_->UpdateAgent(p));
  p = MakeAgent("bo", {{"billing", 2}}, {{"en", 9}});
  EXPECT_REFUSED_UNCHANGED(code, router_->UpdateAgent(p));
}

TEST_F(RefusalTest, UpdateAgentRefusedForSkillsInternsNoSkill) {
  RouterOptions options = SmallOptions();
  options.max_skills = 4;  // billing, sales, general: room for 1.
  Build(options);
  EXPECT_REFUSED_UNCHANGED(
      absl::StatusCode::kResourceExhausted,
      router_->UpdateAgent(
          MakeAgent("bo", {{"billing", 2}, {"astrology", 1}, {"alchemy", 1}})));
  EXPECT_EQ(router_->Route(MakeContact("new-call", {{"astrology", 1}}))
                .status()
                .code(),
            absl::StatusCode::kNotFound)
      << "the refused UpdateAgent left 'astrology' known";
}

// --- RemoveAgent, SetAgentState, GetAgent ------------------------------------

TEST_F(RefusalTest, RemoveAgentRefusals) {
  EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kInvalidArgument,
                           router_->RemoveAgent(""));
  EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kNotFound,
                           router_->RemoveAgent("nobody"));
  EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kNotFound,
                           router_->RemoveAgent("gone"));
  // Still holding contacts.
  EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kFailedPrecondition,
                           router_->RemoveAgent("ana"));
  EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kFailedPrecondition,
                           router_->RemoveAgent("bo"));
}

TEST_F(RefusalTest, SetAgentStateRefusals) {
  EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kInvalidArgument,
                           router_->SetAgentState("", AgentState::kBreak));
  EXPECT_REFUSED_UNCHANGED(
      absl::StatusCode::kInvalidArgument,
      router_->SetAgentState("cy", static_cast<AgentState>(9)));
  EXPECT_REFUSED_UNCHANGED(
      absl::StatusCode::kNotFound,
      router_->SetAgentState("nobody", AgentState::kAvailable));
  EXPECT_REFUSED_UNCHANGED(
      absl::StatusCode::kNotFound,
      router_->SetAgentState("gone", AgentState::kAvailable));
}

TEST_F(RefusalTest, ReadsOfAbsentThingsChangeNothing) {
  EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kNotFound,
                           router_->GetAgent("nobody"));
  EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kNotFound,
                           router_->GetAgent("gone"));
  EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kInvalidArgument,
                           router_->GetAgent(""));
  EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kNotFound,
                           router_->GetContact("nope"));
  EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kNotFound,
                           router_->GetContact("done-1"));
}

// --- Route ------------------------------------------------------------------

TEST_F(RefusalTest, RouteInvalidArgument) {
  const auto code = absl::StatusCode::kInvalidArgument;
  auto call = [] { return MakeContact("new-call", {{"billing", 1}}); };
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(MakeContact("")));
  EXPECT_REFUSED_UNCHANGED(code,
                           router_->Route(MakeContact(std::string(300, 'c'))));
  Contact c = call();
  c.channel = static_cast<Channel>(17);
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  c = call();
  c.priority = -1;
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  c.priority = kMaxPriority + 1;
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  c = call();
  c.required_skills = {{"billing", 0}};
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  c.required_skills = {{"billing", 6}};
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  c.required_skills = {{"billing", 1}, {"billing", 2}};
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  c.required_skills = {{"", 1}};
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  c = call();
  for (int i = 0; i < 65; ++i) c.desired_skills.push_back({"billing", 1});
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  c = call();
  c.desired_skills = {{"sales", 0}};
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  c = call();
  c.languages = {"en", ""};
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  c = call();
  // Further in the future than a host clock's allowed skew (5 s).
  c.enqueue_time = clock_.Now() + absl::Seconds(6);
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  c.enqueue_time = clock_.Now() - absl::Hours(24 * 31);  // A clock error.
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  c = call();
  c.customer_id = std::string(300, 'u');
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  c = call();
  for (int i = 0; i < 300; ++i) c.attributes[absl::StrCat("k", i)] = "v";
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  c = call();
  c.preferred_agents = {"ana", ""};
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  c = call();
  c.excluded_agents = {"bo", ""};
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  c = call();
  c.queue = std::string(300, 'q');
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
}

TEST_F(RefusalTest, RouteAlreadyExists) {
  const auto code = absl::StatusCode::kAlreadyExists;
  // Held and assigned, held and queued; the copies name new queues, which
  // must not appear.
  Contact c = MakeContact("call-1", {{"billing", 1}});
  c.queue = "brand-new";
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  c = MakeContact("call-3", {{"sales", 1}});
  c.queue = "another-new";
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(MakeContact("chat-1")));
}

TEST_F(RefusalTest, RouteNotFound) {
  const auto code = absl::StatusCode::kNotFound;
  Contact c = MakeContact("new-call", {{"astrology", 1}});
  c.queue = "stars";
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  c = MakeContact("new-call", {{"billing", 1}});
  c.languages = {"tlh", "qya"};  // Nobody speaks either.
  c.queue = "elvish";
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
}

TEST_F(RefusalTest, RouteFailedPrecondition) {
  const auto code = absl::StatusCode::kFailedPrecondition;
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(Unservable("new-call")));
  // The same in a queue of its own, which must not be opened.
  Contact c = Unservable("new-call");
  c.queue = "nobody-serves";
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  // Every qualified agent excluded.
  c = MakeContact("new-call", {{"sales", 4}});
  c.excluded_agents = {"cy"};
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
  // No qualified agent takes the channel.
  c = MakeContact("new-call", {{"general", 1}}, Channel::kEmail);
  EXPECT_REFUSED_UNCHANGED(code, router_->Route(c));
}

TEST_F(RefusalTest, RouteResourceExhaustedWhenFull) {
  RouterOptions options = SmallOptions();
  options.max_contacts = 5;  // The fixture holds 5.
  options.max_agents = 7;    // 5 ids used: room for 2.
  Build(options);
  EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kResourceExhausted,
                           router_->Route(MakeContact("new-call")));
  Contact c = MakeContact("new-call", {{"billing", 1}});
  c.queue = "overflow";
  c.customer_id = "cust-new";
  c.excluded_agents = {"x1", "x2", "x3"};
  EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kResourceExhausted,
                           router_->Route(c));
  ExpectRoomForAgents(2);
}

TEST_F(RefusalTest, RouteResourceExhaustedWhenQueuesAreFull) {
  RouterOptions options = SmallOptions();
  options.max_queues = 3;  // billing, sales, vip.
  Build(options);
  Contact c = MakeContact("new-call", {{"billing", 1}});
  c.queue = "fourth";
  EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kResourceExhausted,
                           router_->Route(c));
}

// Excluded agent ids were interned in the agent id table before the route
// was refused, each using up a slot of max_agents.
TEST_F(RefusalTest, RefusedRouteUsesNoRosterSlot) {
  RouterOptions options = SmallOptions();
  options.max_agents = 7;  // 5 ids used: room for 2.
  Build(options);
  int n = 0;
  auto excluding = [&n](Contact c) {
    for (int i = 0; i < 3; ++i)
      c.excluded_agents.push_back(absl::StrCat("x", n++));
    return c;
  };
  Contact bad_queue = MakeContact("new-call", {{"billing", 1}});
  bad_queue.queue = std::string(300, 'q');
  EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kInvalidArgument,
                           router_->Route(excluding(bad_queue)));
  EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kAlreadyExists,
                           router_->Route(excluding(MakeContact("call-1"))));
  EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kFailedPrecondition,
                           router_->Route(excluding(Unservable("new-call"))));
  ExpectRoomForAgents(2);
}

// --- Cancel, Release
// ----------------------------------------------------------

TEST_F(RefusalTest, CancelNotFound) {
  const auto code = absl::StatusCode::kNotFound;
  EXPECT_REFUSED_UNCHANGED(code, router_->Cancel("nope"));
  EXPECT_REFUSED_UNCHANGED(code, router_->Cancel("done-1"));  // Released.
  // An id no contact can have is malformed, and named so.
  EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kInvalidArgument,
                           router_->Cancel(""));
  EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kInvalidArgument,
                           router_->Cancel(std::string(300, 'x')));
}

TEST_F(RefusalTest, ReleaseRefusals) {
  EXPECT_REFUSED_UNCHANGED(absl::StatusCode::kNotFound,
                           router_->Release("nope", ContactOutcome::kResolved));
  EXPECT_REFUSED_UNCHANGED(
      absl::StatusCode::kNotFound,
      router_->Release("done-1", ContactOutcome::kResolved));
  // Still queued.
  EXPECT_REFUSED_UNCHANGED(
      absl::StatusCode::kFailedPrecondition,
      router_->Release("call-3", ContactOutcome::kResolved));
  EXPECT_REFUSED_UNCHANGED(
      absl::StatusCode::kInvalidArgument,
      router_->Release("call-1", static_cast<ContactOutcome>(7)));
}

// --- Requeue
// ------------------------------------------------------------------

TEST_F(RefusalTest, RequeueNotFound) {
  const auto code = absl::StatusCode::kNotFound;
  EXPECT_REFUSED_UNCHANGED(code, router_->Requeue(MakeContact("nope")));
  EXPECT_REFUSED_UNCHANGED(code, router_->Requeue(MakeContact("done-1")));
  // Held, but the new requirements name an unknown skill or language.
  EXPECT_REFUSED_UNCHANGED(
      code, router_->Requeue(MakeContact("call-1", {{"astrology", 1}})));
  Contact c = MakeContact("call-3", {{"sales", 1}});
  c.languages = {"tlh"};
  EXPECT_REFUSED_UNCHANGED(code, router_->Requeue(c));
}

TEST_F(RefusalTest, RequeueInvalidArgument) {
  const auto code = absl::StatusCode::kInvalidArgument;
  Contact c = MakeContact("call-1", {{"billing", 1}});
  c.priority = 12;
  EXPECT_REFUSED_UNCHANGED(code, router_->Requeue(c));
  EXPECT_REFUSED_UNCHANGED(
      code, router_->Requeue(MakeContact("call-3", {{"sales", 0}})));
  c = MakeContact("call-4", {{"billing", 1}});
  c.queue = std::string(300, 'q');
  EXPECT_REFUSED_UNCHANGED(code, router_->Requeue(c));
}

// Requeue took the contact from its agent (or queue) before routing it
// again; refused, it had dropped the contact, freed the agent and recorded
// a transfer.
TEST_F(RefusalTest, RequeueFailedPrecondition) {
  const auto code = absl::StatusCode::kFailedPrecondition;
  // Only ana has billing 5, and the agent a contact is transferred from is
  // excluded from its new routing.
  EXPECT_REFUSED_UNCHANGED(
      code, router_->Requeue(MakeContact("call-1", {{"billing", 5}})));
  // Nobody has sales 5: the queued contact stays where it is.
  EXPECT_REFUSED_UNCHANGED(
      code, router_->Requeue(MakeContact("call-3", {{"sales", 5}})));
  // The same, in a queue of its own.
  Contact c = MakeContact("call-4", {{"billing", 5}});
  c.languages = {"fr"};
  c.queue = "nowhere";
  EXPECT_REFUSED_UNCHANGED(code, router_->Requeue(c));
}

// --- SetPolicy
// ------------------------------------------------------------------

TEST_F(RefusalTest, SetPolicyInvalidArgument) {
  const auto code = absl::StatusCode::kInvalidArgument;
  RoutingPolicy p;
  p.weights.skill = -1;
  EXPECT_REFUSED_UNCHANGED(code, router_->SetPolicy(p));
  p = RoutingPolicy();
  p.weights = {0, 0, 0, 0, 0, 0};
  EXPECT_REFUSED_UNCHANGED(code, router_->SetPolicy(p));
  p = RoutingPolicy();
  p.resolved_affinity = 1.5;
  EXPECT_REFUSED_UNCHANGED(code, router_->SetPolicy(p));
  p = RoutingPolicy();
  p.priority_step = absl::ZeroDuration();
  EXPECT_REFUSED_UNCHANGED(code, router_->SetPolicy(p));
  p = RoutingPolicy();
  p.default_handle_time = absl::InfiniteDuration();
  EXPECT_REFUSED_UNCHANGED(code, router_->SetPolicy(p));
}

// The snapshot itself sees changes: a call that succeeds shows up in it.
TEST_F(RefusalTest, SnapshotSeesWhatSucceedingCallsChange) {
  const StateSnapshot before = Snapshot();
  ASSERT_TRUE(router_->SetAgentState("cy", AgentState::kAvailable).ok());
  const std::string diff = before.Diff(Snapshot());
  EXPECT_THAT(diff, ::testing::HasSubstr("agent[cy].state: logged_out"));
  EXPECT_THAT(diff, ::testing::HasSubstr("contact[call-3].state: queued"));
  EXPECT_THAT(diff, ::testing::HasSubstr("queue[sales].waiting: 1  ->  0"));
}

}  // namespace
}  // namespace routing
