// The rules in force (sidecar/rules_reload.h) and what the request handler
// does with them: options reaching every compile, refusals that keep the old
// rules, the circuit breaker's suspension reported once per version, health
// in the Stats reply, and the rules/ events.
#include "sidecar/rules_reload.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "flatbuffers/flatbuffers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "routing/router.h"
#include "sidecar/request_handler.h"
#include "sidecar/sidecar_metrics.h"
#include "sidecar/wire_encoder.h"

namespace routing::sidecar {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Fails on contacts carrying explode=yes, at line 3; the compile's sample
// contacts and the file's tests never carry it.
constexpr char kExplodes[] =
    "return {\n"
    "  score = function(c, a)\n"
    "    if attr(c, 'explode') == 'yes' then error('boom') end\n"
    "    return a.score\n"
    "  end,\n"
    "}\n";

// Loops (so runs interpreted, where the watchdog can stop it) on slow=yes.
constexpr char kSlow[] =
    "return {\n"
    "  score = function(c, a)\n"
    "    if attr(c, 'slow') == 'yes' then\n"
    "      local x = 0\n"
    "      for i = 1, 1e10 do x = x + i end\n"
    "      return x\n"
    "    end\n"
    "    return a.score\n"
    "  end,\n"
    "}\n";

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

std::string WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

// A ReloadRules table (path or source), kept alive with its buffer.
class ReloadRequest {
 public:
  static ReloadRequest Path(const std::string& path) {
    ReloadRequest r;
    r.fbb_.Finish(
        wire::CreateReloadRules(r.fbb_, r.fbb_.CreateString(path), 0));
    return r;
  }
  static ReloadRequest Source(const std::string& source) {
    ReloadRequest r;
    r.fbb_.Finish(
        wire::CreateReloadRules(r.fbb_, 0, r.fbb_.CreateString(source)));
    return r;
  }
  const wire::ReloadRules& get() const {
    return *flatbuffers::GetRoot<wire::ReloadRules>(fbb_.GetBufferPointer());
  }

 private:
  flatbuffers::FlatBufferBuilder fbb_;
};

class RulesFixture : public ::testing::Test {
 protected:
  RulesFixture() {
    RouterOptions options;
    options.max_agents = 100;
    options.max_contacts = 1000;
    router_ = Router::Create(options).value();
    AgentProfile alice;
    alice.id = "alice";
    alice.skills = {{"billing", 4}};
    alice.SetCapacity(Channel::kChat, 60);
    EXPECT_TRUE(router_->AddAgent(alice).ok());
    EXPECT_TRUE(router_->SetAgentState("alice", AgentState::kAvailable).ok());
  }

  absl::StatusOr<RoutingDecision> Route(const std::string& attribute) {
    Contact contact;
    contact.id = absl::StrCat("chat-", ++contacts_);
    contact.channel = Channel::kChat;
    contact.required_skills = {{"billing", 1}};
    if (!attribute.empty()) contact.attributes[attribute] = "yes";
    return router_->Route(contact);
  }

  std::unique_ptr<Router> router_;
  int contacts_ = 0;
};

TEST_F(RulesFixture, OptionsReachEveryCompileAndRefusalsKeepTheOldRules) {
  const std::string dir = TempDir() + "/rules_dir";
  mkdir(dir.c_str(), 0755);
  const std::string subdir = dir + "/team";
  mkdir(subdir.c_str(), 0755);
  const std::string inside = WriteFile(dir + "/explodes.lua", kExplodes);
  const std::string outside = WriteFile(TempDir() + "/outside.lua", kExplodes);
  rules::RulesOptions options;
  options.rules_dir = dir;
  options.max_source_bytes = 400;
  RulesInForce rules(router_.get(), options);
  EXPECT_EQ(rules.Health().version, 0u);
  EXPECT_TRUE(rules.LoadAtStart("").ok());

  absl::Status at_start = rules.LoadAtStart(outside);
  EXPECT_THAT(std::string(at_start.message()),
              HasSubstr("outside the rules directory"));
  EXPECT_EQ(router_->RulesVersion(), 0u);
  ASSERT_TRUE(rules.LoadAtStart(inside).ok());
  EXPECT_EQ(rules.Health().version, 1u);
  EXPECT_EQ(rules.Health().name, inside);

  struct Refusal {
    ReloadRequest request;
    std::string problem;
  };
  std::vector<Refusal> refusals;
  refusals.push_back({ReloadRequest::Path(outside), "outside the rules"});
  refusals.push_back({ReloadRequest::Path(subdir), "it is a directory"});
  refusals.push_back(
      {ReloadRequest::Source(std::string(kExplodes) + std::string(400, ' ')),
       "too large"});
  for (const Refusal& refusal : refusals) {
    SCOPED_TRACE(refusal.problem);
    ReloadOutcome outcome = rules.Reload(refusal.request.get());
    ASSERT_TRUE(outcome.status.ok());
    EXPECT_FALSE(outcome.accepted);
    EXPECT_EQ(outcome.version, 1u);
    EXPECT_EQ(outcome.name, inside);
    ASSERT_EQ(outcome.problems.size(), 1u);
    EXPECT_THAT(outcome.problems[0], HasSubstr(refusal.problem));
    EXPECT_EQ(router_->RulesVersion(), 1u);
  }
  ReloadOutcome text = rules.Reload(ReloadRequest::Source(kExplodes).get());
  EXPECT_TRUE(text.accepted);
  EXPECT_EQ(text.version, 2u);
  EXPECT_EQ(text.name, "request.lua");
  EXPECT_EQ(text.source, "request.lua");
  EXPECT_EQ(rules.Health().version, 2u);
}

TEST_F(RulesFixture, EvaluationBudgetReachesTheCompile) {
  rules::RulesOptions options;
  options.evaluation_budget = absl::Milliseconds(5);
  options.breaker_failures = 0;  // Off: counted, never suspended.
  RulesInForce rules(router_.get(), options);
  ASSERT_TRUE(rules.Reload(ReloadRequest::Source(kSlow).get()).accepted);
  const absl::Time started = absl::Now();
  absl::StatusOr<RoutingDecision> decision = Route("slow");
  ASSERT_TRUE(decision.ok()) << decision.status();
  // Stopped near 5 ms (the default budget would also stop it; 10^10
  // iterations would not end by themselves for minutes).
  EXPECT_LT(absl::Now() - started, absl::Seconds(1));
  EXPECT_TRUE(decision->rules_fallback);
  const RulesHealth health = rules.Health();
  EXPECT_EQ(health.errors, 1);
  EXPECT_EQ(health.overruns, 1);
  EXPECT_FALSE(health.suspended);
  EXPECT_THAT(health.last_error, StartsWith("request.lua:"));
}

TEST_F(RulesFixture, SuspensionIsReportedOncePerVersionAndAReloadRearms) {
  rules::RulesOptions options;
  options.breaker_failures = 3;
  options.breaker_window = absl::Seconds(60);
  RulesInForce rules(router_.get(), options);
  ASSERT_TRUE(rules.Reload(ReloadRequest::Source(kExplodes).get()).accepted);
  EXPECT_FALSE(rules.NewSuspension().has_value());
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<RoutingDecision> d = Route("explode");
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_TRUE(d->rules_fallback);
    // The fourth failure trips the breaker; the router stamps its decision
    // after the evaluation, so that one may say suspended already.
    if (i < 3) {
      EXPECT_FALSE(d->rules_suspended);
    }
  }
  absl::StatusOr<RoutingDecision> suspended = Route("");
  ASSERT_TRUE(suspended.ok());
  EXPECT_TRUE(suspended->rules_suspended);
  const RulesHealth health = rules.Health();
  EXPECT_TRUE(health.suspended);
  EXPECT_EQ(health.errors, 4);
  EXPECT_THAT(health.last_error, HasSubstr("request.lua:3:"));
  EXPECT_THAT(health.last_error, HasSubstr("boom"));
  EXPECT_LE(health.suspended_at, absl::Now());
  EXPECT_EQ(router_->Stats().rules_suspended_decisions, 1);

  std::optional<RulesHealth> reported = rules.NewSuspension();
  ASSERT_TRUE(reported.has_value());
  EXPECT_EQ(reported->version, 1u);
  EXPECT_EQ(reported->name, "request.lua");
  EXPECT_FALSE(rules.NewSuspension().has_value());  // Once.

  ASSERT_TRUE(rules.Reload(ReloadRequest::Source(kExplodes).get()).accepted);
  EXPECT_FALSE(rules.Health().suspended);
  EXPECT_EQ(rules.Health().errors, 0);
  EXPECT_EQ(rules.Health().version, 2u);
  EXPECT_FALSE(rules.NewSuspension().has_value());
  absl::StatusOr<RoutingDecision> rearmed = Route("");
  ASSERT_TRUE(rearmed.ok());
  EXPECT_FALSE(rearmed->rules_suspended);
  EXPECT_FALSE(rearmed->rules_fallback);
}

// --- The request handler's side ----------------------------------------------

class RecordingSink : public EventSink {
 public:
  void Publish(const std::vector<std::string>& topics, const uint8_t* data,
               size_t size) override {
    for (const std::string& topic : topics) {
      flatbuffers::Verifier verifier(data, size);
      EXPECT_TRUE(verifier.VerifyBuffer<wire::Event>(kFileIdentifier));
      events.push_back({topic, std::vector<uint8_t>(data, data + size)});
    }
  }
  const wire::Event* event(size_t i) const {
    return flatbuffers::GetRoot<wire::Event>(events[i].second.data());
  }
  std::vector<std::pair<std::string, std::vector<uint8_t>>> events;
};

class HandlerRulesTest : public RulesFixture {
 protected:
  HandlerRulesTest() : sink_scope_(&sink_) {
    rules::RulesOptions options;
    options.breaker_failures = 1;
    rules_ = std::make_unique<RulesInForce>(router_.get(), options);
    RequestHandlerOptions handler_options;
    handler_options.rules = rules_.get();
    handler_ = std::make_unique<RequestHandler>(router_.get(), &metrics_,
                                                handler_options);
  }

  std::vector<uint8_t> ReloadSource(uint64_t id, const std::string& source) {
    flatbuffers::FlatBufferBuilder fbb;
    FinishRequest(
        fbb, id, wire::RequestBody::ReloadRules,
        wire::CreateReloadRules(fbb, 0, fbb.CreateString(source)).Union());
    return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
  }
  std::vector<uint8_t> StatsRequest(uint64_t id) {
    flatbuffers::FlatBufferBuilder fbb;
    FinishRequest(fbb, id, wire::RequestBody::GetStats,
                  wire::CreateGetStats(fbb, 60).Union());
    return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
  }
  const wire::Reply* Handle(const std::vector<uint8_t>& request) {
    handler_->Handle(request.data(), request.size(), reply_);
    return flatbuffers::GetRoot<wire::Reply>(reply_.GetBufferPointer());
  }

  SidecarMetrics metrics_;
  RecordingSink sink_;
  ScopedEventSink sink_scope_;
  std::unique_ptr<RulesInForce> rules_;
  std::unique_ptr<RequestHandler> handler_;
  flatbuffers::FlatBufferBuilder reply_;
};

TEST_F(HandlerRulesTest, ReloadsAreLeftForTheReloaderOnlyWhenAsked) {
  const std::vector<uint8_t> reload = ReloadSource(7, kExplodes);
  EXPECT_FALSE(handler_->HandleUnlessReload(reload.data(), reload.size(),
                                            reply_, RoleSet::All()));
  EXPECT_EQ(reply_.GetSize(), 0u);
  EXPECT_EQ(router_->RulesVersion(), 0u);
  EXPECT_EQ(metrics_.requests.load(), 0u);
  const std::vector<uint8_t> stats = StatsRequest(8);
  EXPECT_TRUE(handler_->HandleUnlessReload(stats.data(), stats.size(), reply_,
                                           RoleSet::All()));
  EXPECT_EQ(flatbuffers::GetRoot<wire::Reply>(reply_.GetBufferPointer())
                ->request_id(),
            8u);

  handler_->RefuseReload(reload.data(), reload.size(), "another is running",
                         reply_);
  const wire::Reply* busy =
      flatbuffers::GetRoot<wire::Reply>(reply_.GetBufferPointer());
  EXPECT_EQ(busy->request_id(), 7u);
  ASSERT_EQ(busy->body_type(), wire::ReplyBody::Error);
  EXPECT_EQ(busy->body_as_Error()->code(), wire::ErrorCode::Busy);
  EXPECT_EQ(router_->RulesVersion(), 0u);
}

TEST_F(HandlerRulesTest, StatsAndEventsFollowTheRulesHealth) {
  const wire::Reply* reply = Handle(StatsRequest(1));
  ASSERT_EQ(reply->body_type(), wire::ReplyBody::Stats);
  EXPECT_EQ(reply->body_as_Stats()->rules_name()->str(), "");
  EXPECT_FALSE(reply->body_as_Stats()->rules_suspended());

  reply = Handle(ReloadSource(2, kExplodes));
  ASSERT_EQ(reply->body_type(), wire::ReplyBody::RulesReloaded);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].first, kRulesReloadTopic);
  const wire::RulesReloadFinished* loaded =
      sink_.event(0)->body_as_RulesReloadFinished();
  ASSERT_NE(loaded, nullptr);
  EXPECT_TRUE(loaded->accepted());
  EXPECT_EQ(loaded->version(), 1u);
  EXPECT_EQ(loaded->name()->str(), "request.lua");
  EXPECT_EQ(loaded->problems()->size(), 0u);

  reply = Handle(ReloadSource(3, "return {\n x = y }"));
  ASSERT_EQ(sink_.events.size(), 2u);
  const wire::RulesReloadFinished* refused =
      sink_.event(1)->body_as_RulesReloadFinished();
  EXPECT_FALSE(refused->accepted());
  EXPECT_EQ(refused->version(), 1u);
  ASSERT_EQ(refused->problems()->size(), 1u);
  EXPECT_THAT(refused->problems()->Get(0)->str(),
              HasSubstr("request.lua:2: unknown global 'y'"));

  EXPECT_FALSE(handler_->WatchRules());
  ASSERT_TRUE(Route("explode").ok());
  ASSERT_TRUE(Route("explode").ok());  // Two failures: past breaker_failures.
  ASSERT_TRUE(Route("").ok());         // Decided suspended.
  EXPECT_TRUE(handler_->WatchRules());
  EXPECT_FALSE(handler_->WatchRules());  // Once per version.
  ASSERT_EQ(sink_.events.size(), 3u);
  EXPECT_EQ(sink_.events[2].first, kRulesSuspendedTopic);
  const wire::RulesSuspended* suspended =
      sink_.event(2)->body_as_RulesSuspended();
  ASSERT_NE(suspended, nullptr);
  EXPECT_EQ(suspended->version(), 1u);
  EXPECT_EQ(suspended->name()->str(), "request.lua");
  EXPECT_THAT(suspended->last_error()->str(), HasSubstr("request.lua:3:"));
  EXPECT_EQ(suspended->errors(), 2);
  EXPECT_GT(suspended->suspended_at_unix_ms(), 0);

  reply = Handle(StatsRequest(4));
  const wire::Stats* stats = reply->body_as_Stats();
  EXPECT_EQ(stats->rules_version(), 1u);
  EXPECT_EQ(stats->rules_name()->str(), "request.lua");
  EXPECT_TRUE(stats->rules_suspended());
  EXPECT_EQ(stats->rules_errors(), 2);
  EXPECT_EQ(stats->rules_overruns(), 0);
  EXPECT_THAT(stats->rules_last_error()->str(), HasSubstr("request.lua:3:"));
  EXPECT_EQ(stats->rules_suspended_decisions(), 1);
  EXPECT_EQ(stats->rules_fallbacks(), 3);

  // A route decided while suspended says so on the wire.
  Contact contact;
  contact.id = "wire-1";
  contact.channel = Channel::kChat;
  contact.required_skills = {{"billing", 1}};
  flatbuffers::FlatBufferBuilder route;
  auto c = BuildContact(route, contact, nullptr);
  FinishRequest(route, 5, wire::RequestBody::RouteContact,
                wire::CreateRouteContact(route, c).Union());
  reply = Handle(
      {route.GetBufferPointer(), route.GetBufferPointer() + route.GetSize()});
  ASSERT_EQ(reply->body_type(), wire::ReplyBody::Decision);
  EXPECT_TRUE(reply->body_as_Decision()->rules_suspended());
  EXPECT_TRUE(reply->body_as_Decision()->rules_fallback());

  Handle(ReloadSource(6, kExplodes));  // Re-arms.
  reply = Handle(StatsRequest(7));
  EXPECT_FALSE(reply->body_as_Stats()->rules_suspended());
  EXPECT_EQ(reply->body_as_Stats()->rules_version(), 2u);
  EXPECT_EQ(reply->body_as_Stats()->rules_errors(), 0);
}

}  // namespace
}  // namespace routing::sidecar
