// End-to-end: starts the real routingd binary and drives it over tcp:// and
// ipc:// with the C++ client (and raw ZeroMQ sockets for what a well-behaved
// client would never send).
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "flatbuffers/flatbuffers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sidecar/client.h"
#include "sidecar/event_topics.h"
#include "sidecar/wire_encoder.h"
#include "sidecar/zmq_frames.h"
#include "tests/sidecar/routingd_process.h"

namespace routing::sidecar {
namespace {

using ::testing::HasSubstr;

using Endpoints = RoutingdEndpoints;

Endpoints NewEndpoints(const std::string& transport) {
  return NewRoutingdEndpoints(transport, "routingd-e2e");
}

// A routingd child process on `endpoints`.
class Routingd {
 public:
  Routingd(const Endpoints& endpoints, const std::vector<std::string>& flags)
      : endpoints_(endpoints), process_(WithEndpoints(endpoints, flags)) {}

  // Waits until the daemon answers Health; false if it exited or timed out.
  bool WaitServing(ClientOptions options = {}) {
    options.server = endpoints_.requests;
    return process_.WaitServing(options);
  }
  // Sends SIGTERM and returns the exit code (-1 if killed by a signal).
  int Terminate() { return process_.Terminate(); }
  int Wait() { return process_.WaitExit(absl::InfiniteDuration()); }

  std::unique_ptr<RoutingClient> Client(ClientOptions options = {}) {
    options.server = endpoints_.requests;
    return RoutingClient::Connect(options).value();
  }
  const Endpoints& endpoints() const { return endpoints_; }

 private:
  Endpoints endpoints_;
  RoutingdProcess process_;
};

AgentProfile Agent(const std::string& id, int chat_capacity) {
  AgentProfile agent;
  agent.id = id;
  agent.skills = {{"billing", 4}};
  agent.languages = {{"en", 5}};
  agent.SetCapacity(Channel::kChat, chat_capacity);
  return agent;
}

Contact Chat(const std::string& id) {
  Contact contact;
  contact.id = id;
  contact.channel = Channel::kChat;
  contact.required_skills = {{"billing", 2}};
  contact.languages = {"en"};
  return contact;
}

// A DEALER socket for pipelining and for bytes the client library would
// never send.
class RawDealer {
 public:
  explicit RawDealer(const std::string& endpoint)
      : context_(zmq_ctx_new()), socket_(zmq_socket(context_, ZMQ_DEALER)) {
    (void)socket_.SetInt(ZMQ_LINGER, 0);
    zmq_connect(socket_.get(), endpoint.c_str());
  }
  ~RawDealer() {
    socket_.Close();
    zmq_ctx_term(context_);
  }
  void Send(const void* data, size_t size) {
    Frames frames;
    frames.Add(data, size);
    ASSERT_TRUE(frames.Send(socket_.get(), 0));
  }
  void SendFrames(const std::vector<std::string>& parts) {
    Frames frames;
    for (const std::string& p : parts) frames.Add(p);
    ASSERT_TRUE(frames.Send(socket_.get(), 0));
  }
  absl::StatusOr<Reply> Receive(absl::Duration timeout) {
    zmq_pollitem_t item = {socket_.get(), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, absl::ToInt64Milliseconds(timeout)) <= 0) {
      return absl::DeadlineExceededError("no reply");
    }
    Frames frames;
    if (!frames.Receive(socket_.get(), 0)) return ZmqError("receive");
    return Reply::Verify(frames.data(frames.size() - 1),
                         frames.size_of(frames.size() - 1));
  }

 private:
  void* context_;
  ZmqSocket socket_;
};

std::string StatsRequest(uint64_t id) {
  flatbuffers::FlatBufferBuilder fbb;
  FinishRequest(fbb, id, wire::RequestBody::GetStats,
                wire::CreateGetStats(fbb, 60).Union());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()),
                     fbb.GetSize());
}

std::string RouteRequest(uint64_t id, const Contact& contact) {
  flatbuffers::FlatBufferBuilder fbb;
  auto c = BuildContact(fbb, contact, nullptr);
  FinishRequest(fbb, id, wire::RequestBody::RouteContact,
                wire::CreateRouteContact(fbb, c).Union());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()),
                     fbb.GetSize());
}

class RoutingdE2eTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RoutingdE2eTest, RosterAndRouting) {
  Routingd daemon(NewEndpoints(GetParam()), {});
  ASSERT_TRUE(daemon.WaitServing());
  auto client = daemon.Client();
  ASSERT_TRUE(client->AddAgent(Agent("alice", 2)).ok());
  ASSERT_TRUE(client->AddAgent(Agent("bob", 1)).ok());
  EXPECT_EQ(client->AddAgent(Agent("bob", 1)).code(),
            absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(client->SetAgentState("alice", AgentState::kAvailable).ok());
  AgentProfile updated = Agent("bob", 3);
  ASSERT_TRUE(client->UpdateAgent(updated).ok());

  absl::StatusOr<Reply> roster = client->ListAgents();
  ASSERT_TRUE(roster.ok()) << roster.status();
  ASSERT_EQ(roster->get()->body_as_AgentList()->agents()->size(), 2u);

  absl::StatusOr<Reply> routed =
      client->Route(Chat("chat-1"), nullptr, /*with_explanation=*/true);
  ASSERT_TRUE(routed.ok()) << routed.status();
  const wire::Decision* decision = routed->get()->body_as_Decision();
  EXPECT_EQ(decision->outcome(), wire::DecisionOutcome::Assigned);
  EXPECT_EQ(decision->agent_id()->str(), "alice");
  ASSERT_NE(decision->explanation(), nullptr);
  EXPECT_THAT(decision->explanation()->str(), HasSubstr("agent alice"));
  EXPECT_GT(decision->components()->size(), 0u);

  // Without with_explanation: the same decision, scored components with
  // their details, and no text.
  absl::StatusOr<Reply> second = client->Route(Chat("chat-2"));
  ASSERT_TRUE(second.ok()) << second.status();
  decision = second->get()->body_as_Decision();
  EXPECT_EQ(decision->agent_id()->str(), "alice");
  EXPECT_EQ(decision->explanation(), nullptr);
  ASSERT_EQ(decision->components()->size(), 6u);
  EXPECT_NE(decision->components()->Get(0)->detail(), nullptr);
  ASSERT_TRUE(client->Release("chat-2", ContactOutcome::kResolved).ok());

  EXPECT_EQ(client->RemoveAgent("alice").code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(client->Release("chat-1", ContactOutcome::kResolved).ok());
  ASSERT_TRUE(client->RemoveAgent("alice").ok());
  EXPECT_EQ(client->Cancel("chat-1").code(), absl::StatusCode::kNotFound);

  absl::StatusOr<Reply> stats = client->Stats(60);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->get()->body_as_Stats()->decisions(), 2);
  EXPECT_EQ(stats->get()->body_as_Stats()->released(), 2);
  EXPECT_EQ(daemon.Terminate(), 0);
}

TEST_P(RoutingdE2eTest,
       QueuedContactIsAssignedOnReleaseAndPublishedWithContext) {
  Routingd daemon(NewEndpoints(GetParam()), {});
  ASSERT_TRUE(daemon.WaitServing());
  auto client = daemon.Client();
  auto subscriber = EventSubscriber::Connect(daemon.endpoints().events,
                                             {ContactTopic("chat-2"), "agent/"})
                        .value();
  ASSERT_TRUE(client->AddAgent(Agent("alice", 1)).ok());
  // Subscriptions reach the publisher asynchronously: toggle the agent's
  // state until its event comes through, then the subscription is live.
  bool live = false;
  for (int i = 0; i < 100 && !live; ++i) {
    ASSERT_TRUE(client->SetAgentState("alice", AgentState::kBreak).ok());
    live = subscriber->Next(absl::Milliseconds(50)).ok();
  }
  ASSERT_TRUE(live);
  ASSERT_TRUE(client->SetAgentState("alice", AgentState::kAvailable).ok());

  ASSERT_TRUE(client->Route(Chat("chat-1")).ok());
  HandoffContext handoff;
  handoff.intent = "billing.dispute";
  handoff.language = "en";
  handoff.sentiment = "negative";
  handoff.summary = "charged twice for the May invoice";
  handoff.customer_id = "cust-42";
  handoff.attributes["invoice"] = "INV-5";
  absl::StatusOr<Reply> queued = client->Route(Chat("chat-2"), &handoff);
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(queued->get()->body_as_Decision()->outcome(),
            wire::DecisionOutcome::Queued);
  EXPECT_EQ(queued->get()->body_as_Decision()->queue_position(), 1);

  ASSERT_TRUE(client->Release("chat-1", ContactOutcome::kResolved).ok());
  // Skip the agent-state events and chat-1's immediate assignment on
  // agent/; chat-2's assignment from the queue must come.
  const wire::ContactAssigned* assigned = nullptr;
  std::pair<std::string, Event> event;
  for (int i = 0; i < 10 && (assigned == nullptr || assigned->immediate());
       ++i) {
    auto next = subscriber->Next(absl::Seconds(5));
    ASSERT_TRUE(next.ok()) << next.status();
    event = *std::move(next);
    assigned = event.second.get()->body_as_ContactAssigned();
  }
  ASSERT_NE(assigned, nullptr);
  EXPECT_EQ(assigned->contact_id()->str(), "chat-2");
  EXPECT_EQ(assigned->agent_id()->str(), "alice");
  EXPECT_EQ(assigned->customer_id()->str(), "cust-42");
  EXPECT_EQ(assigned->context()->intent()->str(), "billing.dispute");
  EXPECT_EQ(assigned->context()->sentiment()->str(), "negative");
  EXPECT_EQ(assigned->context()->summary()->str(),
            "charged twice for the May invoice");
  ASSERT_EQ(assigned->context()->attributes()->size(), 1u);
  EXPECT_EQ(assigned->context()->attributes()->Get(0)->key()->str(), "invoice");
  EXPECT_EQ(daemon.Terminate(), 0);
}

// The highest CPU this process may use.
int LastAllowedCpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof set, &set);
  int last = 0;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) last = c;
  }
  return last;
}

TEST_P(RoutingdE2eTest, InlineAndMultipleWorkersServeAndPublish) {
  const std::string cpu = absl::StrCat(LastAllowedCpu());
  // With a journal, replies wait in the frontend for their records: the
  // frontend's own (inline) and the workers' (handed over), in each mode
  // that holds them.
  static int journals = 0;
  auto journal_dir = [this] {
    return absl::StrCat("--journal_dir=", ::testing::TempDir(),
                        "/inline-and-workers-", getpid(), "-", GetParam(), "-",
                        ++journals);
  };
  const std::vector<std::vector<std::string>> configurations = {
      {"--workers=0"},
      {"--workers=2"},
      {"--workers=0", "--worker_cpus=" + cpu, "--io_cpus=" + cpu,
       "--batch_io_thread=false"},
      {"--workers=0", journal_dir()},
      {"--workers=2", journal_dir(), "--fsync=none"},
      {"--workers=2", journal_dir(), "--journal_zero_fill=false"},
      {"--workers=2", journal_dir(), "--journal_cpus=" + cpu}};
  for (const std::vector<std::string>& flags : configurations) {
    SCOPED_TRACE(absl::StrJoin(flags, " "));
    Routingd daemon(NewEndpoints(GetParam()), flags);
    ASSERT_TRUE(daemon.WaitServing());
    auto client = daemon.Client();
    auto subscriber =
        EventSubscriber::Connect(daemon.endpoints().events, {"agent/"}).value();
    ASSERT_TRUE(client->AddAgent(Agent("alice", 1)).ok());
    bool live = false;
    for (int i = 0; i < 100 && !live; ++i) {
      ASSERT_TRUE(client->SetAgentState("alice", AgentState::kAvailable).ok());
      live = subscriber->Next(absl::Milliseconds(50)).ok();
    }
    ASSERT_TRUE(live);
    ASSERT_TRUE(client->Route(Chat("chat-1")).ok());
    ASSERT_TRUE(client->Route(Chat("chat-2")).ok());
    ASSERT_TRUE(client->Release("chat-1", ContactOutcome::kResolved).ok());
    // chat-1's immediate assignment first, then chat-2's from the queue.
    const wire::ContactAssigned* assigned = nullptr;
    std::pair<std::string, Event> event;
    for (int i = 0; i < 20 && (assigned == nullptr || assigned->immediate());
         ++i) {
      auto next = subscriber->Next(absl::Seconds(5));
      ASSERT_TRUE(next.ok()) << next.status();
      event = *std::move(next);
      assigned = event.second.get()->body_as_ContactAssigned();
    }
    ASSERT_NE(assigned, nullptr);
    EXPECT_EQ(event.first, AgentTopic("alice"));
    EXPECT_EQ(assigned->contact_id()->str(), "chat-2");
    EXPECT_EQ(daemon.Terminate(), 0);
  }
}

// One journaled call at a time, each waited for: nothing else is in flight
// to wake the frontend. A worker's reply whose record settled while the
// worker was handing it over (likely with --fsync=none, whose writes take
// microseconds) must still wake the frontend, or that reply is never sent.
TEST_P(RoutingdE2eTest, EveryJournaledReplyComesBackWhenNothingElseIsInFlight) {
  for (const char* fsync : {"--fsync=none", "--fsync=batch"}) {
    SCOPED_TRACE(fsync);
    const std::string dir =
        absl::StrCat(::testing::TempDir(), "/one-at-a-time-", getpid(), "-",
                     GetParam(), "-", fsync + 8);
    Routingd daemon(NewEndpoints(GetParam()),
                    {"--workers=2", "--journal_dir=" + dir, fsync});
    ASSERT_TRUE(daemon.WaitServing());
    ClientOptions options;
    options.timeout = absl::Seconds(2);  // A lost wake-up never answers.
    auto client = daemon.Client(options);
    ASSERT_TRUE(client->AddAgent(Agent("alice", 1)).ok());
    const int calls = std::string(fsync) == "--fsync=none" ? 3000 : 600;
    for (int i = 0; i < calls; ++i) {
      const absl::Status status = client->SetAgentState(
          "alice", i % 2 == 0 ? AgentState::kAvailable : AgentState::kBreak);
      ASSERT_TRUE(status.ok()) << "call " << i << ": " << status;
    }
    EXPECT_EQ(daemon.Terminate(), 0);
  }
}

TEST_P(RoutingdE2eTest, RefusesToStartOnCpusItMayNotUse) {
  for (const char* flag :
       {"--worker_cpus=4000", "--io_cpus=4000", "--worker_cpus=0-x",
        "--journal_cpus=4000", "--journal_cpus=1-"}) {
    SCOPED_TRACE(flag);
    Routingd daemon(NewEndpoints(GetParam()), {flag});
    EXPECT_FALSE(daemon.WaitServing());
    EXPECT_EQ(daemon.Wait(), 1);
  }
}

// The C++ client's GetContact, ListContacts and Release with a survey, and the
// KPIs they feed, against the real daemon.
TEST_P(RoutingdE2eTest, WaitingContactsSurveysAndKpis) {
  Routingd daemon(NewEndpoints(GetParam()), {"--fcr_window_hours=24"});
  ASSERT_TRUE(daemon.WaitServing());
  auto client = daemon.Client();
  ASSERT_TRUE(client->AddAgent(Agent("alice", 1)).ok());
  ASSERT_TRUE(client->SetAgentState("alice", AgentState::kAvailable).ok());
  ASSERT_TRUE(client->Route(Chat("chat-1")).ok());
  ASSERT_TRUE(client->Route(Chat("chat-2")).ok());
  Contact urgent = Chat("chat-3");
  urgent.priority = 9;
  ASSERT_TRUE(client->Route(urgent).ok());

  absl::StatusOr<Reply> listed = client->ListContacts();
  ASSERT_TRUE(listed.ok()) << listed.status();
  const wire::ContactList* list = listed->get()->body_as_ContactList();
  ASSERT_EQ(list->contacts()->size(), 2u);
  EXPECT_EQ(list->contacts()->Get(0)->id()->str(), "chat-3");
  EXPECT_EQ(list->contacts()->Get(0)->queue_position(), 1);
  EXPECT_EQ(list->contacts()->Get(1)->id()->str(), "chat-2");
  EXPECT_EQ(list->contacts()->Get(1)->queue_position(), 2);
  EXPECT_EQ(client->ListContacts("billing", 0).status().code(),
            absl::StatusCode::kInvalidArgument);

  absl::StatusOr<Reply> held = client->GetContact("chat-1");
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->get()->body_as_ContactInfo()->state(),
            wire::ContactStateKind::Assigned);
  EXPECT_EQ(held->get()->body_as_ContactInfo()->agent_id()->str(), "alice");
  absl::Status unknown = client->GetContact("chat-9").status();
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(unknown.message()), HasSubstr("chat-9"));

  ContactSurvey out_of_range;
  out_of_range.csat = 6;
  absl::Status refused =
      client->Release("chat-1", ContactOutcome::kResolved, out_of_range);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("csat 6"));
  EXPECT_EQ(client->GetContact("chat-1")->get()->body_as_ContactInfo()->state(),
            wire::ContactStateKind::Assigned);
  ContactSurvey answered;
  answered.csat = 4;
  answered.nps = 0;
  ASSERT_TRUE(
      client->Release("chat-1", ContactOutcome::kResolved, answered).ok());

  absl::StatusOr<Reply> stats = client->Stats(60);
  ASSERT_TRUE(stats.ok()) << stats.status();
  const wire::ContactKpis* kpis =
      stats->get()->body_as_Stats()->queues()->Get(0)->kpis();
  EXPECT_EQ(kpis->released(), 1);
  EXPECT_EQ(kpis->csat_sum(), 4);
  EXPECT_EQ(kpis->detractors(), 1);
  EXPECT_DOUBLE_EQ(kpis->net_promoter_score(), -100.0);
  absl::StatusOr<Reply> roster = client->ListAgents();
  ASSERT_TRUE(roster.ok()) << roster.status();
  EXPECT_EQ(
      roster->get()->body_as_AgentList()->agents()->Get(0)->kpis()->released(),
      1);
  EXPECT_EQ(daemon.Terminate(), 0);
}

TEST_P(RoutingdE2eTest, RefusesAnFcrWindowOutOfRange) {
  for (const char* flag : {"--fcr_window_hours=0", "--fcr_window_hours=9000",
                           "--fcr_window_hours=-1"}) {
    SCOPED_TRACE(flag);
    Routingd daemon(NewEndpoints(GetParam()), {flag});
    EXPECT_FALSE(daemon.WaitServing());
    EXPECT_EQ(daemon.Wait(), 1);
  }
}

// Several clients at once against several workers: every request answered,
// every contact routed, assigned (at once or from the queue) and released.
TEST_P(RoutingdE2eTest, ConcurrentClientsAgainstSeveralWorkers) {
  constexpr int kClients = 4;
  constexpr int kContactsPerClient = 150;
  Routingd daemon(NewEndpoints(GetParam()), {"--workers=2"});
  ASSERT_TRUE(daemon.WaitServing());
  {
    auto setup = daemon.Client();
    for (int a = 0; a < 6; ++a) {
      const std::string id = absl::StrCat("agent-", a);
      ASSERT_TRUE(setup->AddAgent(Agent(id, 1)).ok());
      ASSERT_TRUE(setup->SetAgentState(id, AgentState::kAvailable).ok());
    }
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto client = daemon.Client();
      auto id = [c](int i) { return absl::StrCat("chat-", c, "-", i); };
      for (int i = 0; i <= kContactsPerClient; ++i) {
        if (i < kContactsPerClient && !client->Route(Chat(id(i))).ok()) {
          failures.fetch_add(1);
        }
        if (i == 0) continue;
        // Release the previous contact once it has an agent.
        const absl::Time give_up = absl::Now() + absl::Seconds(20);
        while (true) {
          absl::Status released =
              client->Release(id(i - 1), ContactOutcome::kResolved);
          if (released.ok()) break;
          if (released.code() != absl::StatusCode::kFailedPrecondition ||
              absl::Now() > give_up) {
            failures.fetch_add(1);
            break;
          }
          absl::SleepFor(absl::Microseconds(200));
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto stats = daemon.Client()->Stats(60);
  ASSERT_TRUE(stats.ok());
  const wire::Stats* s = stats->get()->body_as_Stats();
  EXPECT_EQ(s->decisions(), kClients * kContactsPerClient);
  EXPECT_EQ(s->released(), kClients * kContactsPerClient);
  EXPECT_EQ(s->contacts_held(), 0);
  EXPECT_EQ(s->assigned_immediately() + s->assigned_from_queue(),
            kClients * kContactsPerClient);
  EXPECT_EQ(daemon.Terminate(), 0);
}

// Writes `text` to a file under the test's temporary directory.
std::string WriteRulesFile(const std::string& name, const std::string& text) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path =
      absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
  std::ofstream(path) << text;
  return path;
}

// Rules at start (--rules), reloads from a path and from source, refusals
// with FILE:LINE problems that leave the old rules serving, and a rules step
// that falls due while the contact waits (the daemon advances steps itself).
TEST_P(RoutingdE2eTest, ReloadRules) {
  const std::string prefer_bob = WriteRulesFile(
      absl::StrCat("prefer_bob_", GetParam(), ".lua"),
      "return { score = function(c, a)\n"
      "  if a.id == 'bob' then return 10 end\n"
      "  return attr(c, 'intent') == 'billing.dispute' and 5 or 1\n"
      "end }\n");
  Routingd daemon(NewEndpoints(GetParam()), {"--rules=" + prefer_bob});
  ASSERT_TRUE(daemon.WaitServing());
  auto client = daemon.Client();
  ASSERT_TRUE(client->AddAgent(Agent("alice", 1)).ok());
  ASSERT_TRUE(client->AddAgent(Agent("bob", 1)).ok());
  ASSERT_TRUE(client->SetAgentState("alice", AgentState::kAvailable).ok());
  ASSERT_TRUE(client->SetAgentState("bob", AgentState::kAvailable).ok());

  absl::StatusOr<Reply> routed = client->Route(Chat("chat-1"));
  ASSERT_TRUE(routed.ok()) << routed.status();
  const wire::Decision* d = routed->get()->body_as_Decision();
  EXPECT_EQ(d->agent_id()->str(), "bob");
  EXPECT_EQ(d->rules_version(), 1u);
  EXPECT_FALSE(d->rules_fallback());
  // The handoff context is what rules read through attr().
  HandoffContext handoff;
  handoff.intent = "billing.dispute";
  routed = client->Route(Chat("chat-2"), &handoff);
  ASSERT_TRUE(routed.ok()) << routed.status();
  EXPECT_EQ(routed->get()->body_as_Decision()->agent_id()->str(), "alice");
  EXPECT_EQ(routed->get()->body_as_Decision()->score(), 5);
  ASSERT_TRUE(client->Release("chat-1", ContactOutcome::kResolved).ok());
  ASSERT_TRUE(client->Release("chat-2", ContactOutcome::kResolved).ok());

  // A broken edit is refused with its line; version 1 keeps serving.
  absl::StatusOr<Reply> refused = client->ReloadRulesSource(
      "return { eligible = function(c, a)\n  return os.time() > 0 end }");
  ASSERT_TRUE(refused.ok()) << refused.status();
  const wire::RulesReloaded* r = refused->get()->body_as_RulesReloaded();
  EXPECT_FALSE(r->accepted());
  EXPECT_EQ(r->version(), 1u);
  ASSERT_GE(r->problems()->size(), 1u);
  EXPECT_THAT(r->problems()->Get(0)->str(),
              HasSubstr("request.lua:2: unknown global 'os'"));
  refused = client->ReloadRulesFile("/nonexistent/rules.lua");
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_FALSE(refused->get()->body_as_RulesReloaded()->accepted());
  EXPECT_THAT(
      refused->get()->body_as_RulesReloaded()->problems()->Get(0)->str(),
      HasSubstr("cannot read rules file"));

  // A good reload from a path: bob only for his own customers' first second,
  // then anyone. Bob is on a break; the step falls due by itself.
  const std::string steps = WriteRulesFile(
      absl::StrCat("steps_", GetParam(), ".lua"),
      "return { steps = { { after = 0, preferred_only = true },\n"
      "                   { after = 1 } } }\n");
  absl::StatusOr<Reply> accepted = client->ReloadRulesFile(steps);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_TRUE(accepted->get()->body_as_RulesReloaded()->accepted());
  EXPECT_EQ(accepted->get()->body_as_RulesReloaded()->version(), 2u);
  auto subscriber = EventSubscriber::Connect(daemon.endpoints().events,
                                             {ContactTopic("chat-3"), "agent/"})
                        .value();
  bool live = false;
  for (int i = 0; i < 100 && !live; ++i) {
    ASSERT_TRUE(client->SetAgentState("bob", AgentState::kBreak).ok());
    live = subscriber->Next(absl::Milliseconds(50)).ok();
  }
  ASSERT_TRUE(live);
  Contact loyal = Chat("chat-3");
  loyal.preferred_agents = {"bob"};
  routed = client->Route(loyal);
  ASSERT_TRUE(routed.ok()) << routed.status();
  EXPECT_EQ(routed->get()->body_as_Decision()->outcome(),
            wire::DecisionOutcome::Queued);
  EXPECT_EQ(routed->get()->body_as_Decision()->rules_step(), 1);
  const wire::ContactAssigned* assigned = nullptr;
  std::pair<std::string, Event> event;
  for (int i = 0; i < 20 && assigned == nullptr; ++i) {
    auto next = subscriber->Next(absl::Seconds(5));
    ASSERT_TRUE(next.ok()) << next.status();
    event = *std::move(next);
    assigned = event.second.get()->body_as_ContactAssigned();
  }
  ASSERT_NE(assigned, nullptr);
  EXPECT_EQ(assigned->contact_id()->str(), "chat-3");
  EXPECT_EQ(assigned->agent_id()->str(), "alice");

  absl::StatusOr<Reply> stats = client->Stats(60);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->get()->body_as_Stats()->rules_version(), 2u);
  EXPECT_EQ(stats->get()->body_as_Stats()->rules_fallbacks(), 0);

  // A reload naming neither or both sources is refused before the engine.
  flatbuffers::FlatBufferBuilder fbb;
  const uint64_t id = client->NextRequestId();
  FinishRequest(fbb, id, wire::RequestBody::ReloadRules,
                wire::CreateReloadRules(fbb).Union());
  absl::StatusOr<Reply> empty = client->CallUnchecked(fbb, id);
  ASSERT_TRUE(empty.ok());
  EXPECT_THAT(empty->get()->body_as_Error()->message()->str(),
              HasSubstr("exactly one of path and source"));
  EXPECT_EQ(daemon.Terminate(), 0);

  // A broken --rules file stops the daemon at start, naming the problem.
  const std::string broken = WriteRulesFile(
      absl::StrCat("broken_", GetParam(), ".lua"), "return { scor = 1 }\n");
  Routingd with_rules(NewEndpoints(GetParam()), {"--rules=" + broken});
  EXPECT_FALSE(with_rules.WaitServing());
  EXPECT_EQ(with_rules.Wait(), 1);
}

TEST_P(RoutingdE2eTest, MalformedInputGetsNamedErrorsAndServiceContinues) {
  Routingd daemon(NewEndpoints(GetParam()), {"--max_message_bytes=1024"});
  ASSERT_TRUE(daemon.WaitServing());
  RawDealer raw(daemon.endpoints().requests);

  std::mt19937 random(3);
  for (int i = 0; i < 50; ++i) {
    std::string noise(random() % 200, '\0');
    for (char& c : noise) c = static_cast<char>(random());
    raw.Send(noise.data(), noise.size());
    absl::StatusOr<Reply> reply = raw.Receive(absl::Seconds(5));
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->get()->body_as_Error()->code(),
              wire::ErrorCode::MalformedRequest);
  }

  std::string request = RouteRequest(7, Chat("chat-1"));
  std::string wrong_id = request;
  wrong_id.replace(4, 4, "ABCD");
  raw.Send(wrong_id.data(), wrong_id.size());
  auto reply = raw.Receive(absl::Seconds(5));
  ASSERT_TRUE(reply.ok());
  EXPECT_THAT(reply->get()->body_as_Error()->message()->str(),
              HasSubstr("wrong file identifier \"ABCD\""));

  raw.Send(request.data(), request.size() / 2);  // Truncated.
  reply = raw.Receive(absl::Seconds(5));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->get()->body_as_Error()->code(),
            wire::ErrorCode::MalformedRequest);

  raw.SendFrames({request, request});  // Two frames: not one request.
  reply = raw.Receive(absl::Seconds(5));
  ASSERT_TRUE(reply.ok());
  EXPECT_THAT(reply->get()->body_as_Error()->message()->str(),
              HasSubstr("one frame after the envelope"));

  std::string large(1500, 'x');  // Above the limit, within ZMQ_MAXMSGSIZE.
  raw.Send(large.data(), large.size());
  reply = raw.Receive(absl::Seconds(5));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->get()->body_as_Error()->code(), wire::ErrorCode::TooLarge);

  {
    // Far above: libzmq drops that connection; everyone else is served.
    RawDealer abuser(daemon.endpoints().requests);
    std::string huge(100'000, 'x');
    abuser.Send(huge.data(), huge.size());
    EXPECT_FALSE(abuser.Receive(absl::Milliseconds(300)).ok());
  }

  // A REQ client (lockstep, with an envelope delimiter) is served too.
  void* context = zmq_ctx_new();
  ZmqSocket req(zmq_socket(context, ZMQ_REQ));
  (void)req.SetInt(ZMQ_LINGER, 0);
  zmq_connect(req.get(), daemon.endpoints().requests.c_str());
  std::string stats = StatsRequest(99);
  zmq_send(req.get(), stats.data(), stats.size(), 0);
  Frames answer;
  zmq_pollitem_t item = {req.get(), 0, ZMQ_POLLIN, 0};
  ASSERT_EQ(zmq_poll(&item, 1, 5000), 1);
  ASSERT_TRUE(answer.Receive(req.get(), 0));
  auto stats_reply = Reply::Verify(answer.data(0), answer.size_of(0));
  ASSERT_TRUE(stats_reply.ok());
  EXPECT_EQ(stats_reply->get()->request_id(), 99u);
  EXPECT_GE(stats_reply->get()->body_as_Stats()->malformed_requests(), 53u);
  req.Close();
  zmq_ctx_term(context);

  auto client = daemon.Client();
  EXPECT_TRUE(client->Health().ok());
  EXPECT_EQ(daemon.Terminate(), 0);
}

TEST_P(RoutingdE2eTest, OverloadIsAnsweredBusyNeverDropped) {
  Routingd daemon(NewEndpoints(GetParam()), {"--max_in_flight=1"});
  ASSERT_TRUE(daemon.WaitServing());
  // Counted from here: a start-up probe that timed out may have been
  // answered Busy after the prober stopped listening.
  auto before = daemon.Client()->Stats(59);
  ASSERT_TRUE(before.ok());
  const uint64_t busy_before =
      before->get()->body_as_Stats()->busy_rejections();
  RawDealer raw(daemon.endpoints().requests);
  constexpr int kRequests = 2000;
  for (int i = 1; i <= kRequests; ++i) {
    std::string request = StatsRequest(i);
    raw.Send(request.data(), request.size());
  }
  absl::flat_hash_set<uint64_t> answered;
  int busy = 0;
  for (int i = 0; i < kRequests; ++i) {
    absl::StatusOr<Reply> reply = raw.Receive(absl::Seconds(10));
    ASSERT_TRUE(reply.ok()) << "after " << i << " replies";
    EXPECT_TRUE(answered.insert(reply->get()->request_id()).second);
    if (reply->get()->body_type() == wire::ReplyBody::Error) {
      EXPECT_EQ(reply->get()->body_as_Error()->code(), wire::ErrorCode::Busy);
      ++busy;
    }
  }
  EXPECT_EQ(answered.size(), static_cast<size_t>(kRequests));
  EXPECT_GT(busy, 0);
  auto stats = daemon.Client()->Stats(60);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->get()->body_as_Stats()->busy_rejections() - busy_before,
            static_cast<uint64_t>(busy));
  EXPECT_EQ(daemon.Terminate(), 0);
}

TEST_P(RoutingdE2eTest, ShutdownAnswersEveryRequestInFlightAndExitsZero) {
  Routingd daemon(NewEndpoints(GetParam()), {});
  ASSERT_TRUE(daemon.WaitServing());
  ASSERT_TRUE(daemon.Client()->AddAgent(Agent("alice", 5)).ok());
  RawDealer raw(daemon.endpoints().requests);
  constexpr int kRequests = 500;
  for (int i = 1; i <= kRequests; ++i) {
    std::string request = RouteRequest(i, Chat(absl::StrCat("chat-", i)));
    raw.Send(request.data(), request.size());
  }
  ASSERT_TRUE(raw.Receive(absl::Seconds(10)).ok());  // Serving has begun.
  const int exit_code = daemon.Terminate();
  absl::flat_hash_set<uint64_t> answered;
  int refused = 0;
  for (int i = 1; i < kRequests; ++i) {
    absl::StatusOr<Reply> reply = raw.Receive(absl::Seconds(5));
    ASSERT_TRUE(reply.ok())
        << "only " << i << " of " << kRequests << " requests answered";
    answered.insert(reply->get()->request_id());
    if (reply->get()->body_type() == wire::ReplyBody::Error &&
        reply->get()->body_as_Error()->code() ==
            wire::ErrorCode::ShuttingDown) {
      ++refused;
    }
  }
  EXPECT_EQ(answered.size(), static_cast<size_t>(kRequests - 1));
  EXPECT_EQ(exit_code, 0);
  std::printf("shutdown: %d of %d requests refused as SHUTTING_DOWN\n", refused,
              kRequests);
}

INSTANTIATE_TEST_SUITE_P(Transports, RoutingdE2eTest,
                         ::testing::Values("tcp", "ipc"),
                         [](const auto& info) { return info.param; });

// --- Lifecycle events, exact topics, run id and sequences --------------

// Toggles `agent`'s state until an event reaches `subscriber` (subscribed to
// the agent's topic among others): then its subscriptions are live. Drains
// what the toggling published.
bool WaitLive(RoutingClient& client, EventSubscriber& subscriber,
              const std::string& agent) {
  bool live = false;
  for (int i = 0; i < 100 && !live; ++i) {
    if (!client.SetAgentState(agent, AgentState::kBreak).ok()) return false;
    live = subscriber.Next(absl::Milliseconds(50)).ok();
  }
  while (subscriber.Next(absl::Milliseconds(100)).ok()) {
  }
  return live;
}

uint64_t RunIdOf(RoutingClient& client) {
  absl::StatusOr<Reply> health = client.Health();
  return health.ok() ? health->get()->body_as_HealthStatus()->run_id() : 0;
}

// "Queued 1", "Assigned 2", "Released 3", "Assigned(immediate) 1": what an
// event says and its topic_sequence.
std::string Describe(const wire::Event& event) {
  if (const auto* a = event.body_as_ContactAssigned()) {
    return absl::StrCat(a->immediate() ? "Assigned(immediate) " : "Assigned ",
                        event.topic_sequence());
  }
  if (const auto* c = event.body_as_ContactChanged()) {
    return absl::StrCat(wire::EnumNameContactChange(c->change()), " ",
                        event.topic_sequence());
  }
  return absl::StrCat("other ", event.topic_sequence());
}

TEST_P(RoutingdE2eTest, AnExactContactTopicHearsItsLifeInOrderAndNoSibling) {
  Routingd daemon(NewEndpoints(GetParam()), {});
  ASSERT_TRUE(daemon.WaitServing());
  auto client = daemon.Client();
  ASSERT_TRUE(client->AddAgent(Agent("alice", 1)).ok());
  auto subscriber =
      EventSubscriber::Connect(daemon.endpoints().events,
                               {ContactTopic("chat-1"), AgentTopic("alice")})
          .value();
  ASSERT_TRUE(WaitLive(*client, *subscriber, "alice"));
  const uint64_t run_id = RunIdOf(*client);
  ASSERT_NE(run_id, 0u);

  // chat-10 first in line, then chat-1: alice takes chat-10 when she comes
  // back, chat-1 when chat-10 hangs up, and releases it.
  ASSERT_TRUE(client->Route(Chat("chat-10")).ok());
  ASSERT_TRUE(client->Route(Chat("chat-1")).ok());
  ASSERT_TRUE(client->SetAgentState("alice", AgentState::kAvailable).ok());
  ASSERT_TRUE(client->Cancel("chat-10").ok());
  ASSERT_TRUE(client->Release("chat-1", ContactOutcome::kResolved).ok());
  // An agent's desktop hears an assignment made by the route itself.
  ASSERT_TRUE(client->Route(Chat("chat-2")).ok());

  std::vector<std::string> contact_events;
  bool desktop_heard_immediate = false;
  while (!desktop_heard_immediate) {
    auto next = subscriber->Next(absl::Seconds(5));
    ASSERT_TRUE(next.ok()) << next.status() << " after "
                           << absl::StrJoin(contact_events, ", ");
    const wire::Event& event = *next->second.get();
    EXPECT_EQ(event.run_id(), run_id);
    if (next->first.rfind("contact/", 0) == 0) {
      ASSERT_EQ(next->first, ContactTopic("chat-1"));  // Never chat-10.
      contact_events.push_back(Describe(event));
    } else if (const auto* a = event.body_as_ContactAssigned();
               a != nullptr && a->immediate()) {
      EXPECT_EQ(next->first, AgentTopic("alice"));
      EXPECT_EQ(a->contact_id()->str(), "chat-2");
      desktop_heard_immediate = true;
    }
  }
  EXPECT_THAT(contact_events,
              ::testing::ElementsAre("Queued 1", "Assigned 2", "Released 3"));
  EXPECT_EQ(daemon.Terminate(), 0);
}

TEST_P(RoutingdE2eTest, RunIdIsRandomPerStartAndInEveryEvent) {
  const Endpoints endpoints = NewEndpoints(GetParam());
  uint64_t first = 0;
  {
    Routingd daemon(endpoints, {});
    ASSERT_TRUE(daemon.WaitServing());
    first = RunIdOf(*daemon.Client());
    EXPECT_NE(first, 0u);
    EXPECT_EQ(daemon.Terminate(), 0);
  }
  Routingd restarted(endpoints, {});
  ASSERT_TRUE(restarted.WaitServing());
  auto client = restarted.Client();
  const uint64_t second = RunIdOf(*client);
  EXPECT_NE(second, 0u);
  EXPECT_NE(second, first);  // A client seeing this resynchronises.
  auto subscriber =
      EventSubscriber::Connect(restarted.endpoints().events, {"agent/"})
          .value();
  ASSERT_TRUE(client->AddAgent(Agent("alice", 1)).ok());
  ASSERT_TRUE(client->SetAgentState("alice", AgentState::kBreak).ok());
  auto event = subscriber->Next(absl::Seconds(5));
  for (int i = 0; i < 100 && !event.ok(); ++i) {
    ASSERT_TRUE(client->SetAgentState("alice", AgentState::kBreak).ok());
    event = subscriber->Next(absl::Milliseconds(50));
  }
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->second.get()->run_id(), second);
  EXPECT_EQ(restarted.Terminate(), 0);
}

// The race of subscribing just after a "queued" reply: the assignment may
// be published before the subscription reaches routingd. The client
// subscribes, then asks GetContact, which is the truth; the first
// topic_sequence it hears tells it how many events it missed.
TEST_P(RoutingdE2eTest, SubscribingAfterTheAssignmentGetContactIsTheTruth) {
  Routingd daemon(NewEndpoints(GetParam()), {});
  ASSERT_TRUE(daemon.WaitServing());
  auto client = daemon.Client();
  ASSERT_TRUE(client->AddAgent(Agent("alice", 1)).ok());
  ASSERT_TRUE(client->SetAgentState("alice", AgentState::kBreak).ok());
  absl::StatusOr<Reply> routed = client->Route(Chat("chat-1"));
  ASSERT_TRUE(routed.ok()) << routed.status();
  ASSERT_EQ(routed->get()->body_as_Decision()->outcome(),
            wire::DecisionOutcome::Queued);
  ASSERT_TRUE(client->SetAgentState("alice", AgentState::kAvailable).ok());

  // Only now does the client subscribe: Queued and Assigned went by.
  auto subscriber =
      EventSubscriber::Connect(daemon.endpoints().events,
                               {ContactTopic("chat-1"), AgentTopic("bob")})
          .value();
  ASSERT_TRUE(client->AddAgent(Agent("bob", 1)).ok());
  ASSERT_TRUE(WaitLive(*client, *subscriber, "bob"));
  absl::StatusOr<Reply> held = client->GetContact("chat-1");
  ASSERT_TRUE(held.ok()) << held.status();
  const wire::ContactInfo* info = held->get()->body_as_ContactInfo();
  EXPECT_EQ(info->state(), wire::ContactStateKind::Assigned);
  EXPECT_EQ(info->agent_id()->str(), "alice");

  // The next event on the contact's topic is the release: the two before
  // were missed, and GetContact above already told what they said. Nobody
  // listened to contact events then, so they were never built, nor
  // numbered: the release is the topic's first event.
  ASSERT_TRUE(client->Release("chat-1", ContactOutcome::kResolved).ok());
  auto next = subscriber->Next(absl::Seconds(5));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->first, ContactTopic("chat-1"));
  EXPECT_EQ(Describe(*next->second.get()), "Released 1");
  EXPECT_EQ(daemon.Terminate(), 0);
}

TEST(RoutingdCurveTest, OnlyAllowedClientKeysGetIn) {
  char server_public[41], server_secret[41];
  char good_public[41], good_secret[41];
  char bad_public[41], bad_secret[41];
  ASSERT_EQ(zmq_curve_keypair(server_public, server_secret), 0);
  ASSERT_EQ(zmq_curve_keypair(good_public, good_secret), 0);
  ASSERT_EQ(zmq_curve_keypair(bad_public, bad_secret), 0);
  const std::string dir = std::getenv("TEST_TMPDIR");
  std::ofstream(dir + "/server.key") << server_secret << "\n";
  std::ofstream(dir + "/clients") << "# allowed\n" << good_public << "\n";
  Routingd daemon(NewEndpoints("tcp"),
                  {"--curve_secret_key_file=" + dir + "/server.key",
                   "--curve_allowed_clients_file=" + dir + "/clients"});
  ClientOptions good;
  good.curve_server_key = server_public;
  good.curve_public_key = good_public;
  good.curve_secret_key = good_secret;
  ASSERT_TRUE(daemon.WaitServing(good));
  auto client = daemon.Client(good);
  EXPECT_TRUE(client->Health().ok());

  ClientOptions bad = good;
  bad.curve_public_key = bad_public;
  bad.curve_secret_key = bad_secret;
  bad.timeout = absl::Milliseconds(500);
  EXPECT_EQ(daemon.Client(bad)->Health().status().code(),
            absl::StatusCode::kDeadlineExceeded);
  ClientOptions plain;
  plain.timeout = absl::Milliseconds(500);
  EXPECT_EQ(daemon.Client(plain)->Health().status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(daemon.Terminate(), 0);
}

}  // namespace
}  // namespace routing::sidecar
