// Hot reload under load: routing threads decide and release contacts while
// another thread compiles and swaps rules hundreds of times (some reloads
// refused). No decision may fail, fall back or be lost, each must carry a
// rules version that was in force, and the rules' own failures stay at zero.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "routing/router.h"
#include "rules/lua_rules.h"

namespace rules {
namespace {

constexpr int kAgents = 32;
constexpr int kRoutingThreads = 3;
constexpr int kReloads = 200;

// Generous: this test is about reloads, and on a loaded 2-core machine (or
// under TSan) a thread can be preempted for longer than the default budget.
RulesOptions StressOptions() {
  RulesOptions options;
  options.evaluation_budget = absl::Seconds(2);
  return options;
}

std::string RulesSource(int bonus) {
  return absl::StrCat(R"lua(
return {
  eligible = function(c, a) return skill(a, "billing") >= 1 end,
  score = function(c, a) return a.score + )lua",
                      bonus, R"lua( + a.idle / 1000 end,
  tests = {
    { contact = { skills = { billing = 1 } },
      agents = { { id = "x", skills = { billing = 2 } } }, expect = "x" },
  },
})lua");
}

TEST(RulesReloadStressTest, ReloadsNeverFailOrLoseADecision) {
  routing::RouterOptions options;
  options.max_contacts = 4096;
  auto router = *routing::Router::Create(options);
  for (int i = 0; i < kAgents; ++i) {
    routing::AgentProfile p;
    p.id = absl::StrCat("agent-", i);
    p.skills = {{"billing", 1 + i % 5}};
    p.SetCapacity(routing::Channel::kChat, 2);
    ASSERT_TRUE(router->AddAgent(p).ok());
    ASSERT_TRUE(
        router->SetAgentState(p.id, routing::AgentState::kAvailable).ok());
  }
  std::vector<std::shared_ptr<const LuaRules>> compiled;
  auto first = CompileRules("stress.lua", RulesSource(0), StressOptions());
  ASSERT_TRUE(first.ok()) << first.status();
  router->SetRules(*first);
  compiled.push_back(*first);

  std::atomic<bool> stop{false};
  std::atomic<int64_t> decisions{0}, failures{0}, fallbacks{0}, unversioned{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kRoutingThreads; ++t) {
    threads.emplace_back([&, t] {
      int n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        routing::Contact c;
        c.id = absl::StrCat("t", t, "-", n++);
        c.channel = routing::Channel::kChat;
        c.required_skills = {{"billing", 1}};
        absl::StatusOr<routing::RoutingDecision> d = router->Route(c);
        if (!d.ok()) {
          failures.fetch_add(1);
          continue;
        }
        decisions.fetch_add(1);
        if (d->rules_fallback) fallbacks.fetch_add(1);
        if (d->rules_version == 0) unversioned.fetch_add(1);
        // Queued contacts are cancelled, assigned ones released: every
        // contact ends, so capacity keeps coming back.
        absl::Status end =
            d->outcome == routing::DecisionOutcome::kAssigned
                ? router->Release(c.id, routing::ContactOutcome::kResolved)
                : router->Cancel(c.id);
        if (!end.ok()) {
          // A queued contact may have been assigned meanwhile by a release.
          end = router->Release(c.id, routing::ContactOutcome::kResolved);
        }
        if (!end.ok()) failures.fetch_add(1);
      }
    });
  }

  int refused = 0;
  uint64_t last_version = router->RulesVersion();
  for (int i = 1; i <= kReloads; ++i) {
    // Every tenth reload is broken and must be refused without effect.
    const std::string source =
        i % 10 == 0 ? "return { score = function(c, a) return nope end }"
                    : RulesSource(i);
    auto rules = CompileRules(absl::StrCat("stress-", i, ".lua"), source,
                              StressOptions());
    if (!rules.ok()) {
      ++refused;
      EXPECT_EQ(router->RulesVersion(), last_version);
      continue;
    }
    last_version = router->SetRules(*rules);
    compiled.push_back(*rules);
  }
  stop.store(true);
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(refused, kReloads / 10);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(fallbacks.load(), 0);
  EXPECT_EQ(unversioned.load(), 0);
  EXPECT_GT(decisions.load(), 0);
  for (const auto& rules : compiled) {
    EXPECT_EQ(rules->errors(), 0) << rules->last_error();
  }
  EXPECT_EQ(router->Stats().contacts_held, 0);
  EXPECT_EQ(router->Stats().rules_fallbacks, 0);
}

}  // namespace
}  // namespace rules
