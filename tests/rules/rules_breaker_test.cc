// The circuit breaker of a rules version: too many failures (errors or
// budget overruns) within the window suspend it; decisions then skip Lua,
// say so and are counted; the health report carries the last error with
// FILE:LINE; a freshly compiled version (a reload) is armed again.
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "routing/router.h"
#include "rules/lua_rules.h"

namespace rules {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Fails (an error at line 3) on contacts whose tier is "bad"; too slow for
// the budget on tier "slow".
constexpr char kFlakyRules[] = R"lua(return { score = function(c, a)
  local tier = attr(c, "tier")
  if tier == "bad" then error("bad tier") end
  if tier == "slow" then
    local s = 0
    for i = 1, 1e15 do s = s + i end
    return s
  end
  return a.score
end })lua";

class RulesBreakerTest : public ::testing::Test {
 protected:
  RulesBreakerTest() : clock_(absl::FromUnixSeconds(1'800'000'000)) {
    routing::RouterOptions options;
    options.clock = &clock_;
    router_ = *routing::Router::Create(options);
    for (const char* id : {"ana", "bo"}) {
      routing::AgentProfile p;
      p.id = id;
      p.skills = {{"billing", 3}};
      p.SetCapacity(routing::Channel::kChat, 50);
      const absl::Status added = router_->AddAgent(p);
      EXPECT_TRUE(added.ok()) << added;
      EXPECT_TRUE(
          router_->SetAgentState(id, routing::AgentState::kAvailable).ok());
    }
  }
  std::shared_ptr<const LuaRules> Compile(RulesOptions options) {
    auto rules = CompileRules("flaky.lua", kFlakyRules, options);
    EXPECT_TRUE(rules.ok()) << rules.status();
    return rules.ok() ? *rules : nullptr;
  }
  routing::RoutingDecision Route(const std::string& tier) {
    routing::Contact c;
    c.id = absl::StrCat("c-", ++next_);
    c.channel = routing::Channel::kChat;
    c.required_skills = {{"billing", 1}};
    c.attributes["tier"] = tier;
    auto d = router_->Route(c);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : routing::RoutingDecision();
  }

  routing::ManualClock clock_;
  std::unique_ptr<routing::Router> router_;
  int next_ = 0;
};

TEST_F(RulesBreakerTest, TripsAfterTooManyFailuresAndDecisionsSaySo) {
  RulesOptions options;
  options.breaker_failures = 5;
  options.breaker_window = absl::Seconds(60);
  // Only the errors count: a busy machine must not add an overrun.
  options.evaluation_budget = absl::Seconds(1);
  auto rules = Compile(options);
  ASSERT_NE(rules, nullptr);
  router_->SetRules(rules);

  for (int i = 0; i < 5; ++i) {
    routing::RoutingDecision d = Route("bad");
    EXPECT_TRUE(d.rules_fallback);
    EXPECT_FALSE(d.rules_suspended);
  }
  EXPECT_FALSE(rules->health().suspended);
  EXPECT_FALSE(Route("gold").rules_fallback);  // Still in force.

  // The sixth failure within the window trips it.
  EXPECT_TRUE(Route("bad").rules_fallback);
  const LuaRules::Health tripped = rules->health();
  EXPECT_TRUE(tripped.suspended);
  EXPECT_EQ(tripped.errors, 6);
  EXPECT_EQ(tripped.overruns, 0);
  EXPECT_THAT(tripped.last_error, StartsWith("flaky.lua:3: bad tier"));
  EXPECT_NE(tripped.suspended_at, absl::InfinitePast());

  // Suspended: Lua is never entered again (no new error on a bad contact),
  // and every decision says so.
  routing::RoutingDecision good = Route("gold");
  EXPECT_TRUE(good.rules_suspended);
  EXPECT_TRUE(good.rules_fallback);
  EXPECT_THAT(good.Explain(), HasSubstr("suspended"));
  EXPECT_TRUE(Route("bad").rules_suspended);
  EXPECT_EQ(rules->health().errors, 6);
  const routing::RouterStats stats = router_->Stats();
  EXPECT_EQ(stats.rules_suspended_decisions, 2);
  EXPECT_EQ(stats.rules_fallbacks, 8);

  // A reload compiles a fresh version: armed again.
  auto reloaded = Compile(options);
  ASSERT_NE(reloaded, nullptr);
  router_->SetRules(reloaded);
  EXPECT_FALSE(reloaded->health().suspended);
  routing::RoutingDecision after = Route("gold");
  EXPECT_FALSE(after.rules_suspended);
  EXPECT_FALSE(after.rules_fallback);
}

TEST_F(RulesBreakerTest, FailuresOutsideTheWindowDoNotTripIt) {
  RulesOptions options;
  options.breaker_failures = 3;
  options.breaker_window = absl::Milliseconds(200);
  // Only the errors count: a busy machine must not add an overrun.
  options.evaluation_budget = absl::Seconds(1);
  auto rules = Compile(options);
  ASSERT_NE(rules, nullptr);
  router_->SetRules(rules);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 3; ++i) Route("bad");
    absl::SleepFor(absl::Milliseconds(300));
  }
  EXPECT_EQ(rules->health().errors, 9);
  EXPECT_FALSE(rules->health().suspended);
}

TEST_F(RulesBreakerTest, OverrunsCountAndTripIt) {
  RulesOptions options;
  options.breaker_failures = 2;
  options.evaluation_budget = absl::Milliseconds(5);
  auto rules = Compile(options);
  ASSERT_NE(rules, nullptr);
  router_->SetRules(rules);
  const absl::Time start = absl::Now();
  for (int i = 0; i < 10; ++i) Route("slow");
  // Three overruns (about 5 ms each) trip it; the other seven cost nothing.
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  const LuaRules::Health h = rules->health();
  EXPECT_TRUE(h.suspended);
  EXPECT_EQ(h.overruns, 3);
  EXPECT_THAT(h.last_error,
              HasSubstr("hook 'score' (line 1) ran longer than the time "
                        "budget of 5 ms"));
  EXPECT_THAT(h.last_error, StartsWith("flaky.lua:6:"));
}

TEST_F(RulesBreakerTest, ZeroFailuresTurnsTheBreakerOff) {
  RulesOptions options;
  options.breaker_failures = 0;
  auto rules = Compile(options);
  ASSERT_NE(rules, nullptr);
  router_->SetRules(rules);
  for (int i = 0; i < 50; ++i) Route("bad");
  EXPECT_FALSE(rules->health().suspended);
  EXPECT_EQ(rules->health().errors, 50);
}

}  // namespace
}  // namespace rules
