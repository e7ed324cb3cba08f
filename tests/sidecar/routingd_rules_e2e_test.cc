// routingd's safe rules, end to end against the real binary: reloads refused
// by what the path is (a directory, a FIFO, a device), by size and by the
// rules directory, each answered at once with the old rules still serving; a
// reload whose compile takes seconds while routes keep being answered; the
// circuit breaker's suspension in Stats, in decisions and on rules/; and
// --rules_* flags refused at start naming the flag.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

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
#include "tests/sidecar/slow_rules.h"

namespace routing::sidecar {
namespace {

using ::testing::HasSubstr;

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

std::string WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

std::string NextStderrPath() {
  static int counter = 0;
  return absl::StrCat(TempDir(), "/routingd-", ++counter, ".stderr");
}

// A routingd child process on private ipc:// endpoints, its stderr kept in a
// file.
class Routingd {
 public:
  explicit Routingd(const std::vector<std::string>& flags)
      : endpoints_(NewRoutingdEndpoints("ipc", "routingd-rules")),
        process_(WithEndpoints(endpoints_, flags), NextStderrPath()) {}

  bool WaitServing() {
    ClientOptions options;
    options.server = endpoints_.requests;
    return process_.WaitServing(options);
  }
  int Terminate() { return process_.Terminate(); }
  int Wait() { return process_.WaitExit(absl::InfiniteDuration()); }
  std::string Stderr() const { return process_.Stderr(); }

  std::unique_ptr<RoutingClient> Client(
      absl::Duration timeout = absl::Seconds(10)) {
    ClientOptions options;
    options.server = endpoints_.requests;
    options.timeout = timeout;
    return RoutingClient::Connect(options).value();
  }
  const std::string& requests() const { return endpoints_.requests; }
  const std::string& events() const { return endpoints_.events; }

 private:
  RoutingdEndpoints endpoints_;
  RoutingdProcess process_;
};

// A DEALER that sends a request and collects its reply later, so that a test
// can do other things while the daemon works on it.
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
  void Send(flatbuffers::FlatBufferBuilder& fbb) {
    Frames frames;
    frames.Add(fbb.GetBufferPointer(), fbb.GetSize());
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

void ReloadPath(flatbuffers::FlatBufferBuilder& fbb, uint64_t id,
                const std::string& path) {
  FinishRequest(
      fbb, id, wire::RequestBody::ReloadRules,
      wire::CreateReloadRules(fbb, fbb.CreateString(path), 0).Union());
}

AgentProfile Agent(const std::string& id) {
  AgentProfile agent;
  agent.id = id;
  agent.skills = {{"billing", 4}};
  agent.SetCapacity(Channel::kChat, 60);
  return agent;
}

Contact Chat(const std::string& id) {
  Contact contact;
  contact.id = id;
  contact.channel = Channel::kChat;
  contact.required_skills = {{"billing", 2}};
  return contact;
}

// Rules that send every contact to bob: a decision by bob says they serve.
constexpr char kPreferBob[] =
    "return { score = function(c, a)\n"
    "  if a.id == 'bob' then return 10 end\n"
    "  return 1\n"
    "end }\n";

// Fails on contacts whose handoff says explode=yes, at line 3.
constexpr char kExplodes[] =
    "return {\n"
    "  score = function(c, a)\n"
    "    if attr(c, 'explode') == 'yes' then error('boom') end\n"
    "    return a.score\n"
    "  end,\n"
    "}\n";

// The rules in force still decide: chat `id` goes to bob, under `version`.
void ExpectOldRulesServe(RoutingClient& client, const std::string& id,
                         uint64_t version) {
  absl::StatusOr<Reply> routed = client.Route(Chat(id));
  ASSERT_TRUE(routed.ok()) << routed.status();
  const wire::Decision* d = routed->get()->body_as_Decision();
  EXPECT_EQ(d->agent_id()->str(), "bob");
  EXPECT_EQ(d->rules_version(), version);
  EXPECT_FALSE(d->rules_fallback());
  ASSERT_TRUE(client.Release(id, ContactOutcome::kResolved).ok());
}

void AddAgents(RoutingClient& client) {
  for (const char* id : {"alice", "bob"}) {
    ASSERT_TRUE(client.AddAgent(Agent(id)).ok());
    ASSERT_TRUE(client.SetAgentState(id, AgentState::kAvailable).ok());
  }
}

// Each refusal names the problem, comes back at once (a FIFO with no writer
// and /dev/zero are never read), and leaves version 1 serving.
TEST(RoutingdRulesTest, ReloadsOfWhatIsNoRulesFileAreRefusedAtOnce) {
  const std::string dir = TempDir() + "/a-directory";
  mkdir(dir.c_str(), 0755);
  const std::string fifo = TempDir() + "/rules.fifo";
  unlink(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  const std::string big =
      WriteFile(TempDir() + "/big.lua",
                std::string(kPreferBob) + std::string(2 << 20, '\n'));
  const std::string good = WriteFile(TempDir() + "/prefer_bob.lua", kPreferBob);
  Routingd daemon({"--rules=" + good, "--rules_max_bytes=100000",
                   "--max_message_bytes=262144"});
  ASSERT_TRUE(daemon.WaitServing()) << daemon.Stderr();
  auto client = daemon.Client(absl::Seconds(5));
  AddAgents(*client);
  ExpectOldRulesServe(*client, "chat-0", 1);

  struct Case {
    std::string what;
    std::string path;  // Empty: send `source` as text.
    std::string source;
    std::string problem;
  };
  std::string padded_source = kPreferBob;
  while (padded_source.size() <= 150'000) padded_source += "-- padding\n";
  const std::vector<Case> cases = {
      {"directory", dir, "", "is not a regular file (it is a directory)"},
      {"fifo", fifo, "", "is not a regular file (it is a FIFO)"},
      {"device", "/dev/zero", "",
       "is not a regular file (it is a character device)"},
      {"2 MiB file", big, "", "is too large (2097"},
      {"missing", TempDir() + "/no-such.lua", "", "cannot read rules file"},
      {"source over the cap", "", padded_source,
       "rules source is too large (150"},
  };
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const absl::Time started = absl::Now();
    absl::StatusOr<Reply> reply = c.path.empty()
                                      ? client->ReloadRulesSource(c.source)
                                      : client->ReloadRulesFile(c.path);
    const absl::Duration took = absl::Now() - started;
    ASSERT_TRUE(reply.ok()) << reply.status();
    const wire::RulesReloaded* r = reply->get()->body_as_RulesReloaded();
    ASSERT_NE(r, nullptr);
    EXPECT_FALSE(r->accepted());
    EXPECT_EQ(r->version(), 1u);
    ASSERT_GE(r->problems()->size(), 1u);
    EXPECT_THAT(r->problems()->Get(0)->str(), HasSubstr(c.problem));
    EXPECT_LT(took, absl::Seconds(2));
    std::printf("%-20s refused in %.1f ms: %s\n", c.what.c_str(),
                absl::ToDoubleMilliseconds(took),
                r->problems()->Get(0)->c_str());
    ExpectOldRulesServe(*client, absl::StrCat("chat-", ++n), 1);
  }
  absl::StatusOr<Reply> stats = client->Stats(60);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->get()->body_as_Stats()->rules_version(), 1u);
  EXPECT_EQ(stats->get()->body_as_Stats()->rules_name()->str(), good);
  EXPECT_EQ(daemon.Terminate(), 0);
}

TEST(RoutingdRulesTest, RulesDirConfinesStartAndReloads) {
  const std::string dir = TempDir() + "/rules.d";
  mkdir(dir.c_str(), 0755);
  const std::string good = WriteFile(dir + "/prefer_bob.lua", kPreferBob);
  const std::string next = WriteFile(dir + "/next.lua", kPreferBob);
  const std::string outside = WriteFile(TempDir() + "/outside.lua", kPreferBob);
  const std::string link = dir + "/link.lua";
  unlink(link.c_str());
  ASSERT_EQ(symlink(outside.c_str(), link.c_str()), 0);

  {  // --rules outside --rules_dir stops routingd at start.
    Routingd refused({"--rules_dir=" + dir, "--rules=" + outside});
    EXPECT_FALSE(refused.WaitServing());
    EXPECT_EQ(refused.Wait(), 1);
    EXPECT_THAT(refused.Stderr(), HasSubstr("outside the rules directory"));
  }
  Routingd daemon({"--rules_dir=" + dir, "--rules=" + good});
  ASSERT_TRUE(daemon.WaitServing()) << daemon.Stderr();
  auto client = daemon.Client(absl::Seconds(5));
  AddAgents(*client);
  int n = 0;
  for (const std::string& path :
       {outside, link, dir + "/../outside.lua", std::string("/etc/passwd")}) {
    SCOPED_TRACE(path);
    absl::StatusOr<Reply> reply = client->ReloadRulesFile(path);
    ASSERT_TRUE(reply.ok()) << reply.status();
    const wire::RulesReloaded* r = reply->get()->body_as_RulesReloaded();
    EXPECT_FALSE(r->accepted());
    EXPECT_EQ(r->version(), 1u);
    ASSERT_GE(r->problems()->size(), 1u);
    EXPECT_THAT(r->problems()->Get(0)->str(),
                HasSubstr("is outside the rules directory"));
    ExpectOldRulesServe(*client, absl::StrCat("chat-", ++n), 1);
  }
  absl::StatusOr<Reply> accepted = client->ReloadRulesFile(next);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_TRUE(accepted->get()->body_as_RulesReloaded()->accepted());
  EXPECT_EQ(accepted->get()->body_as_RulesReloaded()->version(), 2u);
  ExpectOldRulesServe(*client, "chat-next", 2);
  EXPECT_EQ(daemon.Terminate(), 0);
}

TEST(RoutingdRulesTest, BadRulesFlagsAreRefusedAtStartNamingTheFlag) {
  const std::string file = WriteFile(TempDir() + "/not-a-dir", "x");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--rules_max_bytes=0", "--rules_max_bytes"},
      {"--rules_max_bytes=100000000000", "--rules_max_bytes"},
      {"--rules_budget_ms=0", "--rules_budget_ms"},
      {"--rules_budget_ms=-3", "--rules_budget_ms"},
      {"--rules_budget_ms=nan", "--rules_budget_ms"},
      {"--rules_breaker_failures=-1", "--rules_breaker_failures"},
      {"--rules_breaker_window_s=0", "--rules_breaker_window_s"},
      {"--rules_dir=/no/such/dir", "--rules_dir"},
      {"--rules_dir=" + file, "is not a directory"},
  };
  for (const auto& [flag, named] : cases) {
    SCOPED_TRACE(flag);
    Routingd daemon({flag});
    EXPECT_FALSE(daemon.WaitServing());
    EXPECT_EQ(daemon.Wait(), 1);
    EXPECT_THAT(daemon.Stderr(), HasSubstr(named));
  }
  // In range: serves.
  Routingd daemon({"--rules_max_bytes=4096", "--rules_budget_ms=0.5",
                   "--rules_breaker_failures=0", "--rules_breaker_window_s=1",
                   "--rules_dir=" + TempDir()});
  ASSERT_TRUE(daemon.WaitServing()) << daemon.Stderr();
  EXPECT_EQ(daemon.Terminate(), 0);
}

// A file near the size cap with thousands of tests compiles for a second or
// more. Meanwhile routes on the same daemon are answered as usual (reloads
// run on their own thread), and a second reload is answered Busy at once.
TEST(RoutingdRulesTest, SlowReloadNeverStallsRoutes) {
  const std::string text = SlowCompilingRules();
  const std::string slow = WriteFile(TempDir() + "/slow.lua", text);

  for (const char* workers : {"--workers=1", "--workers=0"}) {
    SCOPED_TRACE(workers);
    Routingd daemon({workers});
    ASSERT_TRUE(daemon.WaitServing()) << daemon.Stderr();
    auto client = daemon.Client(absl::Seconds(10));
    AddAgents(*client);

    RawDealer reloader(daemon.requests());
    flatbuffers::FlatBufferBuilder fbb;
    ReloadPath(fbb, 1, slow);
    const absl::Time reload_sent = absl::Now();
    reloader.Send(fbb);
    // Long enough for the reload to be handed to the reloader before the
    // second one below; far shorter than its compile.
    absl::SleepFor(absl::Milliseconds(100));

    absl::Duration slowest_route;
    int routes = 0;
    bool busy_seen = false;
    absl::StatusOr<Reply> reload_reply = absl::UnknownError("none yet");
    const absl::Time give_up = absl::Now() + absl::Seconds(120);
    while (absl::Now() < give_up) {
      reload_reply = reloader.Receive(absl::ZeroDuration());
      if (reload_reply.ok()) break;
      const std::string id = absl::StrCat("chat-", routes);
      const absl::Time started = absl::Now();
      absl::StatusOr<Reply> routed = client->Route(Chat(id));
      slowest_route = std::max(slowest_route, absl::Now() - started);
      ASSERT_TRUE(routed.ok()) << routed.status();
      ASSERT_TRUE(client->Release(id, ContactOutcome::kResolved).ok());
      ++routes;
      if (routes == 1) {
        // The first reload is still compiling: a second is not queued.
        const absl::Time asked = absl::Now();
        absl::StatusOr<Reply> second = client->ReloadRulesSource(kPreferBob);
        EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable)
            << second.status();
        EXPECT_THAT(std::string(second.status().message()),
                    HasSubstr("busy: another rules reload is still compiling"));
        EXPECT_LT(absl::Now() - asked, absl::Milliseconds(500));
        busy_seen = true;
      }
      absl::SleepFor(absl::Milliseconds(2));
    }
    const absl::Duration reload_took = absl::Now() - reload_sent;
    ASSERT_TRUE(reload_reply.ok()) << reload_reply.status();
    const wire::RulesReloaded* r = reload_reply->get()->body_as_RulesReloaded();
    ASSERT_NE(r, nullptr);
    EXPECT_TRUE(r->accepted());
    EXPECT_EQ(r->version(), 1u);
    EXPECT_TRUE(busy_seen);
    std::printf(
        "%s: reload compiled in %.0f ms; meanwhile %d routes answered, the "
        "slowest in %.1f ms\n",
        workers, absl::ToDoubleMilliseconds(reload_took), routes,
        absl::ToDoubleMilliseconds(slowest_route));
    // The compile is long enough for the check to mean something...
    EXPECT_GT(reload_took, absl::Milliseconds(600));
    EXPECT_GE(routes, 20);
    // ...and no route waited for it.
    EXPECT_LT(slowest_route, absl::Milliseconds(300));
    EXPECT_LT(slowest_route, reload_took / 3);
    // The daemon takes reloads again once this one has been answered.
    absl::StatusOr<Reply> again = client->ReloadRulesSource(kPreferBob);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->get()->body_as_RulesReloaded()->version(), 2u);
    EXPECT_EQ(daemon.Terminate(), 0);
  }
}

// Waits for the next event on `topic`, skipping others.
absl::StatusOr<std::pair<std::string, Event>> NextOn(
    EventSubscriber& subscriber, const std::string& topic) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    auto next = subscriber.Next(absl::Seconds(1));
    if (next.ok() && next->first == topic) return next;
  }
  return absl::DeadlineExceededError(absl::StrCat("no event on ", topic));
}

TEST(RoutingdRulesTest, BreakerSuspendsShowsInStatsPublishesAndReloadRearms) {
  const std::string path = WriteFile(TempDir() + "/breaker.lua", kExplodes);
  Routingd daemon({"--rules=" + path, "--rules_breaker_failures=3",
                   "--rules_breaker_window_s=60", "--step_interval_ms=50"});
  ASSERT_TRUE(daemon.WaitServing()) << daemon.Stderr();
  auto client = daemon.Client();
  AddAgents(*client);
  auto subscriber =
      EventSubscriber::Connect(daemon.events(), {"rules/", "agent/"}).value();
  bool live = false;
  for (int i = 0; i < 100 && !live; ++i) {
    ASSERT_TRUE(client->SetAgentState("alice", AgentState::kAvailable).ok());
    live = subscriber->Next(absl::Milliseconds(50)).ok();
  }
  ASSERT_TRUE(live);

  HandoffContext explode;
  explode.attributes["explode"] = "yes";
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<Reply> routed =
        client->Route(Chat(absl::StrCat("bad-", i)), &explode);
    ASSERT_TRUE(routed.ok()) << routed.status();
    EXPECT_TRUE(routed->get()->body_as_Decision()->rules_fallback());
    // The fourth failure trips the breaker; the router stamps its decision
    // after the evaluation, so that one may say suspended already.
    if (i < 3) {
      EXPECT_FALSE(routed->get()->body_as_Decision()->rules_suspended());
    }
  }
  absl::StatusOr<Reply> routed = client->Route(Chat("plain"));
  ASSERT_TRUE(routed.ok()) << routed.status();
  EXPECT_TRUE(routed->get()->body_as_Decision()->rules_suspended());
  EXPECT_TRUE(routed->get()->body_as_Decision()->rules_fallback());

  auto event = NextOn(*subscriber, std::string(kRulesSuspendedTopic));
  ASSERT_TRUE(event.ok()) << event.status();
  const wire::RulesSuspended* suspended =
      event->second.get()->body_as_RulesSuspended();
  ASSERT_NE(suspended, nullptr);
  EXPECT_EQ(suspended->version(), 1u);
  EXPECT_EQ(suspended->name()->str(), path);
  EXPECT_THAT(suspended->last_error()->str(), HasSubstr("breaker.lua:3:"));
  EXPECT_THAT(suspended->last_error()->str(), HasSubstr("boom"));
  EXPECT_EQ(suspended->errors(), 4);
  EXPECT_LE(suspended->suspended_at_unix_ms(),
            event->second.get()->at_unix_ms());

  absl::StatusOr<Reply> stats = client->Stats(60);
  ASSERT_TRUE(stats.ok());
  const wire::Stats* s = stats->get()->body_as_Stats();
  EXPECT_TRUE(s->rules_suspended());
  EXPECT_EQ(s->rules_version(), 1u);
  EXPECT_EQ(s->rules_name()->str(), path);
  EXPECT_EQ(s->rules_errors(), 4);
  EXPECT_EQ(s->rules_overruns(), 0);
  EXPECT_THAT(s->rules_last_error()->str(), HasSubstr("breaker.lua:3:"));
  EXPECT_EQ(s->rules_suspended_decisions(), 1);
  EXPECT_EQ(s->rules_fallbacks(), 5);

  // A reload (a fresh compile) re-arms, and says so on rules/reload.
  absl::StatusOr<Reply> reloaded = client->ReloadRulesFile(path);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_TRUE(reloaded->get()->body_as_RulesReloaded()->accepted());
  event = NextOn(*subscriber, std::string(kRulesReloadTopic));
  ASSERT_TRUE(event.ok()) << event.status();
  const wire::RulesReloadFinished* reload =
      event->second.get()->body_as_RulesReloadFinished();
  ASSERT_NE(reload, nullptr);
  EXPECT_TRUE(reload->accepted());
  EXPECT_EQ(reload->version(), 2u);
  EXPECT_EQ(reload->name()->str(), path);
  EXPECT_EQ(reload->source()->str(), path);

  stats = client->Stats(60);
  ASSERT_TRUE(stats.ok());
  s = stats->get()->body_as_Stats();
  EXPECT_FALSE(s->rules_suspended());
  EXPECT_EQ(s->rules_version(), 2u);
  EXPECT_EQ(s->rules_errors(), 0);
  EXPECT_EQ(s->rules_last_error()->str(), "");
  routed = client->Route(Chat("after"));
  ASSERT_TRUE(routed.ok()) << routed.status();
  EXPECT_FALSE(routed->get()->body_as_Decision()->rules_suspended());
  EXPECT_FALSE(routed->get()->body_as_Decision()->rules_fallback());
  EXPECT_EQ(daemon.Terminate(), 0);
}

}  // namespace
}  // namespace routing::sidecar
