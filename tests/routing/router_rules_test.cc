// How the router consults RoutingRules: vetoes and rescoring in decisions and
// in queue drains, steps that relax requirements as a contact waits, versions
// on decisions, and the built-in fallback when the rules fail. The rules here
// are a C++ double; rules/ tests the LuaJIT implementation.
#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "routing/router.h"
#include "routing/routing_rules.h"
#include "tests/routing/router_test_support.h"

namespace routing {
namespace {

using ::routing::testing::MakeAgent;
using ::routing::testing::MakeContact;
using ::routing::testing::RecordingListener;
using ::testing::HasSubstr;

// Vetoes agents whose id starts with "x", scores by idle-ness reversed (the
// agent with the most skills wins), and relaxes "billing" from 4 to 2 after
// 30 s. `fail` makes Evaluate report a failure.
class TestRules : public RoutingRules {
 public:
  std::string Name() const override { return "test"; }
  void Plan(const Contact& contact, absl::Duration waited,
            ContactPlan* plan) const override {
    plans.fetch_add(1);
    if (contact.attributes.contains("vip")) plan->priority = 9;
    if (preferred_first && waited < absl::Seconds(20)) {
      plan->preferred_only = true;
      plan->next_step_after = absl::Seconds(20);
      return;
    }
    if (!relax) return;
    if (waited < absl::Seconds(30)) {
      plan->next_step_after = absl::Seconds(30);
      return;
    }
    plan->step = 1;
    plan->replace_required_skills = true;
    plan->required_skills = {{"billing", 2}};
  }
  bool Evaluate(const RulesContact& contact, RulesCandidate* candidates,
                int count, const RulesNames& names) const override {
    if (fail) return false;
    for (int i = 0; i < count; ++i) {
      RulesCandidate& c = candidates[i];
      if (c.profile->id[0] == 'x') c.eligible = false;
      c.score = 100.0 + c.skill_count;
    }
    return true;
  }
  bool fail = false;
  bool relax = false;
  bool preferred_first = false;  // Preferred agents only for 20 s.
  mutable std::atomic<int> plans{0};
};

class RouterRulesTest : public ::testing::Test {
 protected:
  RouterRulesTest() : clock_(absl::FromUnixSeconds(1'800'000'000)) {
    RouterOptions options;
    options.clock = &clock_;
    options.listener = &listener_;
    router_ = *Router::Create(options);
    rules_ = std::make_shared<TestRules>();
  }
  void AddAvailable(const AgentProfile& agent) {
    ASSERT_TRUE(router_->AddAgent(agent).ok());
    ASSERT_TRUE(router_->SetAgentState(agent.id, AgentState::kAvailable).ok());
  }

  ManualClock clock_;
  RecordingListener listener_;
  std::unique_ptr<Router> router_;
  std::shared_ptr<TestRules> rules_;
};

TEST_F(RouterRulesTest, RulesVetoAndRescoreAndStampTheirVersion) {
  AddAvailable(MakeAgent("xavier", {{"billing", 5}, {"sales", 5}, {"a", 1}}));
  AddAvailable(MakeAgent("one", {{"billing", 5}}));
  AddAvailable(MakeAgent("two", {{"billing", 1}, {"sales", 1}}));
  EXPECT_EQ(router_->RulesVersion(), 0u);
  EXPECT_EQ(router_->SetRules(rules_), 1u);

  absl::StatusOr<RoutingDecision> d =
      router_->Route(MakeContact("c1", {{"billing", 1}}));
  ASSERT_TRUE(d.ok()) << d.status();
  // Built-in would pick "one" (billing 5); the rules veto xavier and rank by
  // skill count.
  EXPECT_EQ(d->agent_id, "two");
  EXPECT_EQ(d->score, 102.0);
  EXPECT_LT(d->builtin_score, 2.0);
  EXPECT_EQ(d->rules_version, 1u);
  EXPECT_EQ(d->rules_name, "test");
  EXPECT_FALSE(d->rules_fallback);
  EXPECT_THAT(d->Explain(), HasSubstr("rules test v1"));
}

TEST_F(RouterRulesTest, FailingRulesFallBackToTheBuiltInPolicyAndAreCounted) {
  AddAvailable(MakeAgent("one", {{"billing", 5}}));
  AddAvailable(MakeAgent("two", {{"billing", 1}, {"sales", 1}}));
  rules_->fail = true;
  router_->SetRules(rules_);
  absl::StatusOr<RoutingDecision> d =
      router_->Route(MakeContact("c1", {{"billing", 1}}));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->agent_id, "one");
  EXPECT_TRUE(d->rules_fallback);
  EXPECT_EQ(router_->Stats().rules_fallbacks, 1);
}

TEST_F(RouterRulesTest, ClearingRulesRestoresTheBuiltInPolicy) {
  AddAvailable(MakeAgent("one", {{"billing", 5}}));
  AddAvailable(MakeAgent("two", {{"billing", 1}, {"sales", 1}}));
  router_->SetRules(rules_);
  EXPECT_EQ(router_->SetRules(nullptr), 2u);
  absl::StatusOr<RoutingDecision> d =
      router_->Route(MakeContact("c1", {{"billing", 1}}));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->agent_id, "one");
  EXPECT_EQ(d->rules_version, 0u);
}

TEST_F(RouterRulesTest, AFreedAgentTakesOnlyQueuedContactsTheRulesAdmit) {
  ASSERT_TRUE(router_->AddAgent(MakeAgent("xavier", {{"billing", 5}})).ok());
  AddAvailable(MakeAgent("busy", {{"sales", 5}}));
  router_->SetRules(rules_);
  absl::StatusOr<RoutingDecision> d =
      router_->Route(MakeContact("c1", {{"billing", 1}}));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->outcome, DecisionOutcome::kQueued);
  // Xavier logs in: built-in eligible, vetoed by the rules.
  ASSERT_TRUE(router_->SetAgentState("xavier", AgentState::kAvailable).ok());
  EXPECT_TRUE(listener_.Take().empty());
  // An admitted agent gets it, with the rules' score in the assignment.
  AddAvailable(MakeAgent("yolanda", {{"billing", 2}}));
  auto assigned = listener_.Take();
  ASSERT_EQ(assigned.size(), 1u);
  EXPECT_EQ(assigned[0].agent_id, "yolanda");
  EXPECT_EQ(assigned[0].decision.score, 101.0);
  EXPECT_EQ(assigned[0].decision.rules_version, 1u);
}

TEST_F(RouterRulesTest, RulesPriorityOrdersTheQueue) {
  ASSERT_TRUE(router_->AddAgent(MakeAgent("one", {{"billing", 5}})).ok());
  router_->SetRules(rules_);
  ASSERT_TRUE(router_->Route(MakeContact("plain", {{"billing", 1}})).ok());
  clock_.Advance(absl::Seconds(5));
  Contact vip = MakeContact("vip", {{"billing", 1}});
  vip.attributes["vip"] = "yes";
  absl::StatusOr<RoutingDecision> d = router_->Route(vip);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->queue_position, 1);
  ASSERT_TRUE(router_->SetAgentState("one", AgentState::kAvailable).ok());
  auto assigned = listener_.Take();
  ASSERT_EQ(assigned.size(), 1u);
  EXPECT_EQ(assigned[0].contact_id, "vip");
}

TEST_F(RouterRulesTest, AStepRelaxesRequirementsWhenItFallsDue) {
  rules_->relax = true;
  AddAvailable(MakeAgent("junior", {{"billing", 2}}));
  ASSERT_TRUE(router_->AddAgent(MakeAgent("senior", {{"billing", 5}})).ok());
  router_->SetRules(rules_);
  absl::StatusOr<RoutingDecision> d =
      router_->Route(MakeContact("c1", {{"billing", 4}}));
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->outcome, DecisionOutcome::kQueued);
  EXPECT_EQ(d->rules_step, 0);

  clock_.Advance(absl::Seconds(29));
  EXPECT_EQ(router_->AdvanceQueues(), 0);
  EXPECT_TRUE(listener_.Take().empty());

  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(router_->AdvanceQueues(), 1);
  auto assigned = listener_.Take();
  ASSERT_EQ(assigned.size(), 1u);
  EXPECT_EQ(assigned[0].agent_id, "junior");
  EXPECT_EQ(assigned[0].decision.rules_step, 1);
  EXPECT_EQ(assigned[0].waited, absl::Seconds(30));
  // Nothing is due any more: the next call does no work.
  const int plans = rules_->plans.load();
  EXPECT_EQ(router_->AdvanceQueues(), 0);
  EXPECT_EQ(rules_->plans.load(), plans);
}

TEST_F(RouterRulesTest, AStepNobodyCanServeKeepsTheContactQueued) {
  rules_->relax = true;
  ASSERT_TRUE(router_->AddAgent(MakeAgent("senior", {{"billing", 5}})).ok());
  ASSERT_TRUE(router_->AddAgent(MakeAgent("sales", {{"sales", 1}})).ok());
  router_->SetRules(rules_);
  ASSERT_TRUE(router_->Route(MakeContact("c1", {{"billing", 4}})).ok());
  ASSERT_TRUE(router_->RemoveAgent("senior").ok());
  clock_.Advance(absl::Seconds(31));
  router_->AdvanceQueues();
  absl::StatusOr<ContactStatus> status = router_->GetContact("c1");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state, ContactStatus::State::kQueued);
}

// The same contact, in a step asking for a skill nobody on the roster has
// any more, comes back when the state is loaded into a new router (a
// restart): refusing it would keep routingd from starting at all.
TEST_F(RouterRulesTest, AContactInAStepNobodyCanServeComesBackInANewRouter) {
  rules_->relax = true;
  ASSERT_TRUE(router_->AddAgent(MakeAgent("senior", {{"billing", 5}})).ok());
  ASSERT_TRUE(router_->AddAgent(MakeAgent("seller", {{"sales", 1}})).ok());
  router_->SetRules(rules_);
  ASSERT_TRUE(router_->Route(MakeContact("c1", {{"sales", 4}})).ok());
  clock_.Advance(absl::Seconds(31));
  router_->AdvanceQueues();  // Step 1: billing 2, which only senior has.
  ASSERT_TRUE(router_->RemoveAgent("senior").ok());
  const RouterState state = router_->ExportState();

  RouterOptions options;
  options.clock = &clock_;
  std::unique_ptr<Router> restarted = *Router::Create(options);
  restarted->SetRules(rules_);
  const absl::Status imported = restarted->ImportState(state);
  ASSERT_TRUE(imported.ok()) << imported;
  absl::StatusOr<ContactStatus> status = restarted->GetContact("c1");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state, ContactStatus::State::kQueued);
  EXPECT_EQ(status->rules_step, 1);
  // An agent with the skill takes it.
  ASSERT_TRUE(restarted->AddAgent(MakeAgent("new", {{"billing", 3}})).ok());
  ASSERT_TRUE(restarted->SetAgentState("new", AgentState::kAvailable).ok());
  status = restarted->GetContact("c1");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state, ContactStatus::State::kAssigned);
}

// A "preferred agents only" step restricts contacts that have someone to
// prefer; a first-time customer with none is routed at once, not refused as
// unservable (found by the simulator with rules/examples/preferred_agent.lua).
TEST_F(RouterRulesTest, APreferredOnlyStepDoesNotStrandCustomersWithNobody) {
  rules_->preferred_first = true;
  AddAvailable(MakeAgent("pat", {{"billing", 3}}));
  AddAvailable(MakeAgent("ace", {{"billing", 5}}));
  router_->SetRules(rules_);

  absl::StatusOr<RoutingDecision> first =
      router_->Route(MakeContact("new-customer", {{"billing", 2}}));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->outcome, DecisionOutcome::kAssigned);
  ASSERT_TRUE(router_->Release("new-customer", ContactOutcome::kResolved).ok());

  // With a preferred agent named, only that agent may take it in step 0.
  ASSERT_TRUE(router_->SetAgentState("pat", AgentState::kBusy).ok());
  Contact loyal = MakeContact("loyal", {{"billing", 2}});
  loyal.preferred_agents = {"pat"};
  absl::StatusOr<RoutingDecision> waiting = router_->Route(loyal);
  ASSERT_TRUE(waiting.ok()) << waiting.status();
  EXPECT_EQ(waiting->outcome, DecisionOutcome::kQueued);
  ASSERT_TRUE(router_->SetAgentState("pat", AgentState::kAvailable).ok());
  auto assigned = listener_.Take();
  ASSERT_EQ(assigned.size(), 1u);
  EXPECT_EQ(assigned[0].agent_id, "pat");

  // A returning customer whose previous agent cannot take this contact (not
  // on the roster any more) waits for the next step instead of being refused.
  Contact moved = MakeContact("moved", {{"billing", 2}});
  moved.preferred_agents = {"left-the-company"};
  ASSERT_TRUE(
      router_->AddAgent(MakeAgent("left-the-company", {{"sales", 1}})).ok());
  ASSERT_TRUE(router_->SetAgentState("ace", AgentState::kBusy).ok());
  absl::StatusOr<RoutingDecision> held = router_->Route(moved);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->outcome, DecisionOutcome::kQueued);
  ASSERT_TRUE(router_->SetAgentState("ace", AgentState::kAvailable).ok());
  EXPECT_TRUE(listener_.Take().empty());  // Step 0: preferred agents only.
  clock_.Advance(absl::Seconds(20));
  EXPECT_EQ(router_->AdvanceQueues(), 1);
  assigned = listener_.Take();
  ASSERT_EQ(assigned.size(), 1u);
  EXPECT_EQ(assigned[0].agent_id, "ace");
}

}  // namespace
}  // namespace routing

namespace routing {
namespace {

class NamedRules : public RoutingRules {
 public:
  explicit NamedRules(std::string name) : name_(std::move(name)) {}
  std::string Name() const override { return name_; }
  void Plan(const Contact&, absl::Duration, ContactPlan*) const override {}
  bool Evaluate(const RulesContact&, RulesCandidate*, int,
                const RulesNames&) const override {
    return true;
  }

 private:
  const std::string name_;
};

// Concurrent SetRules calls: the version in force only ever grows while
// they run (an older call installing after a newer one shows as a step
// back), and once they return, the call with the highest version is the one
// in force, rules and all.
TEST(RouterRulesConcurrencyTest, TheLatestSetRulesCallIsInForce) {
  ManualClock clock(absl::FromUnixSeconds(1'800'000'000));
  RouterOptions options;
  options.clock = &clock;
  auto router = *Router::Create(options);
  ASSERT_TRUE(router->AddAgent(testing::MakeAgent("a", {{"billing", 3}})).ok());
  ASSERT_TRUE(router->SetAgentState("a", AgentState::kAvailable).ok());
  constexpr int kThreads = 3;
  constexpr int kCalls = 5'000;
  std::vector<std::shared_ptr<const RoutingRules>> rules;
  for (int t = 0; t < kThreads; ++t) {
    rules.push_back(std::make_shared<NamedRules>("rules-" + std::to_string(t)));
  }
  // Rounds of contention: the race is a few instructions wide.
  constexpr int kRounds = 20;
  std::vector<uint64_t> last(kThreads);
  int steps_back = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::atomic<bool> done{false};
    std::atomic<int> seen_back{0};
    std::thread reader([&] {
      uint64_t seen = 0;
      while (!done.load()) {
        const uint64_t now = router->RulesVersion();
        if (now < seen) seen_back.fetch_add(1);
        seen = std::max(seen, now);
      }
    });
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
      writers.emplace_back([&, t] {
        for (int i = 0; i < kCalls; ++i) {
          // Thread 2 clears the rules every other call: a null install is
          // versioned too.
          last[t] =
              router->SetRules(t == 2 && i % 2 == 0 ? nullptr : rules[t]);
        }
      });
    }
    for (std::thread& t : writers) t.join();
    done.store(true);
    reader.join();
    steps_back += seen_back.load();
    // At quiescence: the latest call is in force.
    ASSERT_EQ(router->RulesVersion(),
              *std::max_element(last.begin(), last.end()))
        << "round " << round << ": an older SetRules call is in force";
  }
  EXPECT_EQ(steps_back, 0) << "an older SetRules call replaced a newer one";
  const auto latest = std::max_element(last.begin(), last.end());
  const int by = static_cast<int>(latest - last.begin());
  EXPECT_EQ(*latest, uint64_t{kRounds * kThreads * kCalls});
  ASSERT_EQ(router->RulesVersion(), *latest);
  auto decision = router->Route(testing::MakeContact("c", {{"billing", 1}}));
  ASSERT_TRUE(decision.ok()) << decision.status();
  // The last call of thread 2 (i odd) installs rules, not null.
  EXPECT_EQ(decision->rules_version, *latest);
  EXPECT_EQ(decision->rules_name, "rules-" + std::to_string(by));
}

}  // namespace
}  // namespace routing
