#include "rules/internal/rules_test_runner.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "routing/router.h"

namespace rules::internal {

namespace {

// A fixed instant, so a test's outcome never depends on the day it runs.
const absl::Time kTestEpoch = absl::FromUnixSeconds(1'800'000'000);

// Sets the test up and routes its contact; returns "" on success or what
// went wrong.
std::string RunOne(const std::shared_ptr<const LuaRules>& rules,
                   const RulesTestCase& test) {
  routing::ManualClock clock(kTestEpoch - absl::Hours(25));
  routing::RouterOptions options;
  options.clock = &clock;
  options.max_agents = 4'096;
  options.max_contacts = 4'096;
  options.history_customers = 1'024;
  options.max_skill_level = 100;
  options.max_fluency = 100;
  absl::StatusOr<std::unique_ptr<routing::Router>> created =
      routing::Router::Create(options);
  if (!created.ok()) return created.status().ToString();
  routing::Router& router = **created;

  std::vector<std::string> ids;
  for (const RulesTestCase::TestAgent& agent : test.agents) {
    if (absl::Status s = router.AddAgent(agent.profile); !s.ok()) {
      return absl::StrCat("agent '", agent.profile.id, "': ", s.message());
    }
    ids.push_back(agent.profile.id);
  }
  // Log agents in longest-idle first, each at now - idle; then give each its
  // load with contacts only it may take (rules not yet in force).
  std::vector<const RulesTestCase::TestAgent*> order;
  for (const auto& agent : test.agents) order.push_back(&agent);
  std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) {
    return a->idle_seconds > b->idle_seconds;
  });
  int filler = 0;
  for (const RulesTestCase::TestAgent* agent : order) {
    clock.Set(kTestEpoch - absl::Seconds(agent->idle_seconds));
    const std::string& id = agent->profile.id;
    if (absl::Status s =
            router.SetAgentState(id, routing::AgentState::kAvailable);
        !s.ok()) {
      return absl::StrCat("agent '", id, "': ", s.message());
    }
    for (int c = 0; c < routing::kChannelCount; ++c) {
      for (int i = 0; i < agent->load[c]; ++i) {
        routing::Contact busy;
        busy.id = absl::StrCat("load-", ++filler);
        busy.channel = routing::kAllChannels[c];
        for (const std::string& other : ids) {
          if (other != id) busy.excluded_agents.push_back(other);
        }
        absl::StatusOr<routing::RoutingDecision> d = router.Route(busy);
        if (!d.ok() || d->agent_id != id) {
          return absl::StrCat("agent '", id, "' cannot hold its load on ",
                              std::string(routing::ChannelName(busy.channel)),
                              " (check its channels)");
        }
      }
    }
  }
  clock.Set(kTestEpoch);
  for (const RulesTestCase::TestAgent& agent : test.agents) {
    if (agent.state != routing::AgentState::kAvailable) {
      if (absl::Status s = router.SetAgentState(agent.profile.id, agent.state);
          !s.ok()) {
        return absl::StrCat("agent '", agent.profile.id, "': ", s.message());
      }
    }
  }

  router.SetRules(rules);
  routing::Contact contact = test.contact;
  contact.enqueue_time = kTestEpoch - absl::Seconds(test.waited_seconds);
  const int64_t errors_before = rules->errors();
  absl::StatusOr<routing::RoutingDecision> d = router.Route(contact);
  if (!d.ok()) return std::string(d.status().message());
  if (d->rules_fallback || rules->errors() != errors_before) {
    return absl::StrCat("the rules failed: ", rules->last_error());
  }
  const std::string got = d->outcome == routing::DecisionOutcome::kQueued
                              ? std::string("queued")
                              : d->agent_id;
  if (got != test.expect) {
    return absl::StrCat("expected ", test.expect == "queued" ? "" : "agent ",
                        "'", test.expect, "', got ",
                        got == "queued" ? "" : "agent ", "'", got, "'\n",
                        d->Explain());
  }
  return "";
}

}  // namespace

int RunRulesTests(const std::shared_ptr<const LuaRules>& rules,
                  const std::vector<RulesTestCase>& tests,
                  std::vector<RulesProblem>* problems) {
  int passed = 0;
  for (const RulesTestCase& test : tests) {
    const std::string failure = RunOne(rules, test);
    if (failure.empty()) {
      ++passed;
    } else {
      problems->push_back({rules->Name(), test.line,
                           absl::StrCat("test '", test.name, "': ", failure)});
    }
  }
  return passed;
}

}  // namespace rules::internal
