// The LuaJIT rules engine: loading and refusing files, the sandbox, what
// rules read, failures falling back to the built-in policy, termination with
// the JIT on, memory limits, and the example files.
#include "rules/lua_rules.h"

#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "routing/router.h"

namespace rules {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string Problems(const std::vector<RulesProblem>& problems) {
  std::vector<std::string> lines;
  for (const RulesProblem& p : problems) lines.push_back(p.ToString());
  return absl::StrJoin(lines, "\n");
}

std::shared_ptr<const LuaRules> CompileOk(const std::string& source,
                                          RulesOptions options = {}) {
  std::vector<RulesProblem> problems;
  auto rules = CompileRules("test.lua", source, options, &problems);
  EXPECT_TRUE(rules.ok()) << rules.status() << "\n" << Problems(problems);
  return rules.ok() ? *rules : nullptr;
}

std::string Refusal(const std::string& source, RulesOptions options = {}) {
  std::vector<RulesProblem> problems;
  auto rules = CompileRules("test.lua", source, options, &problems);
  EXPECT_FALSE(rules.ok());
  EXPECT_EQ(rules.status().code(), absl::StatusCode::kInvalidArgument);
  return Problems(problems);
}

// A router with three available billing agents, for rules to decide among.
class RulesRoutingTest : public ::testing::Test {
 protected:
  RulesRoutingTest() : clock_(absl::FromUnixSeconds(1'800'000'000)) {
    routing::RouterOptions options;
    options.clock = &clock_;
    router_ = *routing::Router::Create(options);
    AddAgent("ana", 5, "es", "north", 1);
    AddAgent("bo", 3, "en", "south", 2);
    AddAgent("cy", 1, "en", "north", 3);
  }
  void AddAgent(const std::string& id, int billing, const std::string& lang,
                const std::string& team, int idle_rank) {
    routing::AgentProfile p;
    p.id = id;
    p.skills = {{"billing", billing}};
    p.languages = {{lang, 5}};
    p.team = team;
    p.attributes["shift"] = absl::StrCat("s", idle_rank);
    p.SetCapacity(routing::Channel::kVoice, 1);
    p.SetCapacity(routing::Channel::kChat, 2);
    ASSERT_TRUE(router_->AddAgent(p).ok());
    ASSERT_TRUE(
        router_->SetAgentState(id, routing::AgentState::kAvailable).ok());
    clock_.Advance(absl::Seconds(10));
  }
  routing::Contact Call(const std::string& id) {
    routing::Contact c;
    c.id = id;
    c.required_skills = {{"billing", 1}};
    c.customer_id = "cust-" + id;
    c.attributes["tier"] = "gold";
    return c;
  }
  routing::RoutingDecision RouteOk(const routing::Contact& c) {
    auto d = router_->Route(c);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : routing::RoutingDecision();
  }

  routing::ManualClock clock_;
  std::unique_ptr<routing::Router> router_;
};

// --- Loading and refusing ---------------------------------------------------

TEST(LuaRulesCompileTest, RefusesSyntaxErrorsWithTheLine) {
  EXPECT_THAT(Refusal("return {\n  score = function(c, a)\n    return +\n"
                      "  end\n}\n"),
              HasSubstr("test.lua:3: unexpected symbol near '+'"));
}

TEST(LuaRulesCompileTest, RefusesGlobalsOutsideTheAllowListAtLoad) {
  const std::string problems = Refusal(
      "return { eligible = function(c, a)\n"
      "  local f = io.open('/etc/passwd')\n"
      "  return os.time() > 0 and require('x') and load('x') and\n"
      "         debug ~= nil and jit ~= nil and ffi ~= nil and\n"
      "         collectgarbage() and loadstring('x') and getfenv()\n"
      "end }\n");
  for (const char* name : {"io", "os", "require", "load", "debug", "jit", "ffi",
                           "collectgarbage", "loadstring", "getfenv"}) {
    EXPECT_THAT(problems, HasSubstr(absl::StrCat("unknown global '", name)))
        << name;
  }
  EXPECT_THAT(problems, HasSubstr("test.lua:2:"));
}

TEST(LuaRulesCompileTest, RefusesWritesToGlobalsAndCapturedVariables) {
  EXPECT_THAT(Refusal("count = 0\nreturn {}\n"),
              HasSubstr("test.lua:1: rules cannot set global 'count'"));
  EXPECT_THAT(Refusal("local n = 0\nreturn { score = function(c, a)\n"
                      "  n = n + 1\n  return n\nend }\n"),
              HasSubstr("test.lua:3: rules cannot change a variable captured"));
  EXPECT_THAT(Refusal("local seen = {}\nreturn { score = function(c, a)\n"
                      "  local t = seen\n  t[c.id] = true\n  return 1\nend }\n"),
              HasSubstr("test.lua:4: rules cannot change a table captured"));
  // Tables the function builds itself are its own to change.
  CompileOk("local WEIGHT = { gold = 2 }\nreturn { score = function(c, a)\n"
            "  local t = {}\n  t.x = WEIGHT.gold\n  return t.x\nend }\n");
}

TEST(LuaRulesCompileTest, RefusesUnknownHooksAndMisshapenOnes) {
  EXPECT_THAT(Refusal("return { scor = function() end }"),
              HasSubstr("unknown hook 'scor'"));
  EXPECT_THAT(Refusal("return { score = 3 }"),
              HasSubstr("hook 'score' must be a function"));
  EXPECT_THAT(Refusal("return { weights = { skil = 1 } }"),
              HasSubstr("unknown weight 'skil'"));
  EXPECT_THAT(Refusal("return { steps = { { after = 30 }, { after = 10 } } }"),
              HasSubstr("steps[2]: 'after' must grow"));
  EXPECT_THAT(
      Refusal("return { steps = { { after = 0, skills = { b = 0 } } } }"),
      HasSubstr("steps[1]: 'skills' maps names to whole levels"));
  EXPECT_THAT(Refusal("return 42"), HasSubstr("must return a table"));
}

TEST(LuaRulesCompileTest, ATopLevelThatNeverEndsIsStoppedAtLoad) {
  RulesOptions options;
  options.load_instruction_limit = 100'000;
  EXPECT_THAT(Refusal("while true do end\nreturn {}", options),
              HasSubstr("top level runs too long"));
}

TEST(LuaRulesCompileTest, FailingEmbeddedTestsRefuseTheFile) {
  const std::string problems = Refusal(R"lua(
return {
  tests = {
    { name = "wrong on purpose", contact = { skills = { billing = 1 } },
      agents = { { id = "ana", skills = { billing = 5 } } },
      expect = "bo" },
  },
})lua");
  EXPECT_THAT(problems,
              AllOf(HasSubstr("test.lua:4: test 'wrong on purpose'"),
                    HasSubstr("expected agent 'bo', got agent 'ana'")));
}

TEST(LuaRulesCompileTest, ReportsWhichFunctionsRunInterpreted) {
  auto rules = CompileOk(R"lua(
local function total(a)
  local s = 0
  for i = 1, 3 do s = s + i end
  return s
end
return {
  score = function(c, a) return total(a) end,
  eligible = function(c, a) return skill(a, "billing") > 0 end,
})lua");
  ASSERT_NE(rules, nullptr);
  const std::string notes = absl::StrJoin(rules->interpreted_functions(), "\n");
  EXPECT_THAT(notes, HasSubstr("test.lua:2: function has a loop"));
  EXPECT_THAT(notes, HasSubstr("test.lua:8: function calls a rule function or a method"));
  EXPECT_THAT(notes, ::testing::Not(HasSubstr("test.lua:9")));
}

// --- What rules read
// ----------------------------------------------------------

TEST_F(RulesRoutingTest, RulesReadEveryFieldOfTheContactAndAgent) {
  // Each check the rule makes adds a power of two; the agent that passes all
  // of them scores 2^12 - 1 and wins.
  auto rules = CompileOk(R"lua(
return {
  score = function(c, a)
    local s = 0
    if c.id == "call-1" then s = s + 1 end
    if c.channel == "voice" then s = s + 2 end
    if c.customer == "cust-call-1" then s = s + 4 end
    if attr(c, "tier") == "gold" and attr(c, "nope") == nil then s = s + 8 end
    if requires(c, "billing") == 1 and requires(c, "sales") == 0 then s = s + 16 end
    if a.id == "ana" and a.team == "north" then s = s + 32 end
    if skill(a, "billing") == 5 and skill(a, "unknown-skill") == 0 then s = s + 64 end
    if speaks(a, "es") == 5 and speaks(a, "fr") == 0 then s = s + 128 end
    if load_on(a, "voice") == 0 and capacity_on(a, "chat") == 2 then s = s + 256 end
    if agent_attr(a, "shift") == "s1" then s = s + 512 end
    if a.idle == 30 and a.load == 0 and a.capacity == 1 then s = s + 1024 end
    if a.skill_score > 0 and a.score > 0 and c.waited == 0 then s = s + 2048 end
    return s
  end,
})lua");
  ASSERT_NE(rules, nullptr);
  router_->SetRules(rules);
  routing::RoutingDecision d = RouteOk(Call("call-1"));
  EXPECT_EQ(d.agent_id, "ana");
  EXPECT_EQ(d.score, 4095) << d.Explain();
}

TEST_F(RulesRoutingTest, SkillNamesResolvePerRouterAfterTheFilesTests) {
  // The file's tests run on their own router, where "sales" is skill 0; in
  // this router "billing" is 0 and "sales" unknown until bo gets it. The
  // rule must read each router's own ids.
  auto rules = CompileOk(R"lua(
return {
  score = function(c, a) return 10 * skill(a, "sales") + skill(a, "billing") end,
  tests = {
    { contact = { skills = { sales = 1 } },
      agents = { { id = "s", skills = { sales = 2 } } }, expect = "s" },
  },
})lua");
  ASSERT_NE(rules, nullptr);
  routing::AgentProfile bo;
  bo.id = "bo";
  bo.skills = {{"billing", 3}, {"sales", 1}};
  bo.SetCapacity(routing::Channel::kVoice, 1);
  ASSERT_TRUE(router_->UpdateAgent(bo).ok());
  router_->SetRules(rules);
  routing::RoutingDecision d = RouteOk(Call("call-1"));
  EXPECT_EQ(d.agent_id, "bo");
  EXPECT_EQ(d.score, 13) << d.Explain();
}

TEST_F(RulesRoutingTest, EligibleVetoesAndWeightsRescore) {
  auto rules = CompileOk(R"lua(
return {
  eligible = function(c, a) return a.id ~= "ana" end,
  weights = { skill = 0, affinity = 0, language = 0, load = 0,
              occupancy = 0, idle = 1 },
})lua");
  router_->SetRules(rules);
  routing::RoutingDecision d = RouteOk(Call("call-1"));
  // ana is vetoed; bo has been idle longest of the rest.
  EXPECT_EQ(d.agent_id, "bo");
  EXPECT_NEAR(d.score, 20.0 / 300.0, 1e-9);
}

// --- Failures ---------------------------------------------------------------

TEST_F(RulesRoutingTest,
       ARuntimeErrorFallsBackToTheBuiltInPolicyWithFileAndLine) {
  auto rules = CompileOk(R"lua(
return {
  score = function(c, a)
    if attr(c, "tier") == "broken" then
      return a.no_such_field
    end
    return 1
  end,
})lua");
  router_->SetRules(rules);
  routing::Contact c = Call("call-1");
  c.attributes["tier"] = "broken";
  routing::RoutingDecision d = RouteOk(c);
  EXPECT_TRUE(d.rules_fallback);
  EXPECT_EQ(d.agent_id, "ana");  // The built-in policy's choice.
  EXPECT_EQ(rules->errors(), 1);
  EXPECT_THAT(rules->last_error(),
              HasSubstr("test.lua:5: agent has no field 'no_such_field'"));
  EXPECT_EQ(router_->Stats().rules_fallbacks, 1);
  // The next contact is decided by the rules again.
  routing::RoutingDecision next = RouteOk(Call("call-2"));
  EXPECT_FALSE(next.rules_fallback);
  EXPECT_EQ(next.score, 1);
}

TEST_F(RulesRoutingTest, WrongReturnTypesAreRuleErrors) {
  auto rules = CompileOk("return { eligible = function(c, a) return 1 end }");
  router_->SetRules(rules);
  EXPECT_TRUE(RouteOk(Call("call-1")).rules_fallback);
  EXPECT_THAT(rules->last_error(),
              HasSubstr("eligible() returned a number (return true or false)"));
  auto nan = CompileOk("return { score = function(c, a) return 0/0 end }");
  router_->SetRules(nan);
  EXPECT_TRUE(RouteOk(Call("call-2")).rules_fallback);
  EXPECT_THAT(nan->last_error(), HasSubstr("return a finite number"));
}

TEST_F(RulesRoutingTest, RulesCannotReadOutsideTheirRecords) {
  // Views have no pointers or arrays; numeric indexing is refused, and an
  // accessor given a stale or foreign value says so instead of reading it.
  auto rules = CompileOk(R"lua(
return {
  score = function(c, a)
    if attr(c, "tier") == "index" then return a[100000] end
    if attr(c, "tier") == "contact" then return skill(c, "billing") end
    if attr(c, "tier") == "number" then return skill(7, "billing") end
    return 1
  end,
})lua");
  router_->SetRules(rules);
  for (const char* probe : {"index", "contact", "number"}) {
    routing::Contact c = Call(absl::StrCat("call-", probe));
    c.attributes["tier"] = probe;
    EXPECT_TRUE(RouteOk(c).rules_fallback) << probe;
    ASSERT_TRUE(
        router_->Cancel(c.id).ok() ||
        router_->Release(c.id, routing::ContactOutcome::kResolved).ok());
  }
  EXPECT_EQ(rules->errors(), 3);
  EXPECT_THAT(rules->last_error(),
              HasSubstr("skill() expects an agent as its first argument"));
}

TEST_F(RulesRoutingTest, ARuleThatNeverEndsIsStoppedWithTheJitOn) {
  // A hot straight-line rule first (so traces exist), then an endless loop
  // in a function the JIT would love to compile.
  RulesOptions options;
  options.evaluation_budget = absl::Milliseconds(30);
  auto rules = CompileOk(R"lua(
local function spin(n)
  local s = 0
  for i = 1, n do s = s + i % 7 end
  for i = 1, 1e15 do s = s + 1 end
  return s
end
return {
  score = function(c, a)
    if attr(c, "tier") == "spin" then return spin(1e9) end
    return a.score + skill(a, "billing")
  end,
})lua",
                         options);
  router_->SetRules(rules);
  for (int i = 0; i < 200; ++i) {
    routing::Contact c = Call(absl::StrCat("warm-", i));
    ASSERT_FALSE(RouteOk(c).rules_fallback);
    ASSERT_TRUE(
        router_->Release(c.id, routing::ContactOutcome::kResolved).ok());
  }
  routing::Contact c = Call("spinner");
  c.attributes["tier"] = "spin";
  const absl::Time start = absl::Now();
  routing::RoutingDecision d = RouteOk(c);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_TRUE(d.rules_fallback);
  EXPECT_THAT(rules->last_error(),
              HasSubstr("hook 'score' (line 9) ran longer than the time budget of 30 ms"));
  EXPECT_THAT(rules->last_error(), ::testing::ContainsRegex("test.lua:[45]:"));
}

TEST_F(RulesRoutingTest, AnOverrunBetweenHooksNamesTheHooksAndTheirLine) {
  // A budget far too small for thousands of candidates: the stop lands in
  // a hook or in the engine's loop between two calls of the hooks. Either
  // way the error points at the hooks' line in the file, never at line 0.
  for (int i = 0; i < 20000; ++i) {
    AddAgent(absl::StrCat("extra-", i), 1 + i % 5, "en", "north", i);
  }
  RulesOptions options;
  options.evaluation_budget = absl::Microseconds(1);
  options.breaker_failures = 0;
  const struct {
    const char* source;
    const char* location;
    const char* names;
  } files[] = {
      {R"lua(
return {
  eligible = function(c, a) return true end,
  score = function(c, a) return 1 end,
})lua",
       "^test.lua:[34]: ", "hooks? '(eligible|score)'"},
  };
  for (const auto& file : files) {
    auto rules = CompileOk(file.source, options);
    router_->SetRules(rules);
    // The watchdog looks every millisecond, so an evaluation is stopped
    // only when it outlasts one look: route until 20 were.
    std::set<std::string> seen;
    int overruns = 0;
    for (int i = 0; i < 2000 && overruns < 20; ++i) {
      routing::Contact c = Call(absl::StrCat("call-", i));
      const routing::RoutingDecision d = RouteOk(c);
      if (d.rules_fallback) {
        ++overruns;
        seen.insert(rules->last_error());
      }
      ASSERT_TRUE(
          router_->Release(c.id, routing::ContactOutcome::kResolved).ok() ||
          router_->Cancel(c.id).ok());
    }
    ASSERT_FALSE(seen.empty()) << file.source;
    for (const std::string& error : seen) {
      EXPECT_THAT(error, ::testing::ContainsRegex(file.location));
      EXPECT_THAT(error, HasSubstr("ran longer than the time budget"));
      EXPECT_THAT(error, ::testing::ContainsRegex(file.names));
    }
  }
}

TEST_F(RulesRoutingTest, ABusyPoolFallsBackInsteadOfWaiting) {
  // One state only; a slow evaluation holds it, so a decision on another
  // thread meanwhile must not wait: it falls back to the built-in policy.
  RulesOptions options;
  options.max_states = 1;
  options.evaluation_budget = absl::Seconds(1);
  auto rules = CompileOk(R"lua(
return { score = function(c, a)
  if attr(c, "tier") == "slow" then
    local n = 0
    for i = 1, 1e15 do n = n + 1 end
  end
  return 1
end })lua",
                         options);
  router_->SetRules(rules);
  std::thread slow([&] {
    routing::Contact c = Call("slow");
    c.attributes["tier"] = "slow";
    EXPECT_TRUE(RouteOk(c).rules_fallback);
  });
  // The slow contact is in the table just before its evaluation starts.
  while (!router_->GetContact("slow").ok())
    absl::SleepFor(absl::Milliseconds(1));
  absl::SleepFor(absl::Milliseconds(50));
  const absl::Time start = absl::Now();
  routing::RoutingDecision d = RouteOk(Call("quick"));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
  slow.join();
  EXPECT_TRUE(d.rules_fallback);
  EXPECT_EQ(rules->errors(), 2);
  // Both failures were recorded; whichever came last is kept.
  EXPECT_THAT(rules->last_error(),
              ::testing::AnyOf(HasSubstr("all 1 rules states are busy"),
                               HasSubstr("time budget")));
}

TEST_F(RulesRoutingTest, EndlessRecursionIsRefusedAtLoad) {
  // Tail recursion would spin without growing the stack: refused before it
  // can run (rules_termination_test has the other shapes).
  EXPECT_THAT(Refusal(R"lua(
local function again(n) return again(n + 1) end
return { score = function(c, a) return again(1) end })lua"),
              HasSubstr("test.lua:2: recursion"));
}

TEST_F(RulesRoutingTest, TheMemoryLimitHoldsPerState) {
  RulesOptions options;
  options.memory_limit_bytes = 8 << 20;
  auto rules = CompileOk(R"lua(
return { score = function(c, a)
  local big = string.rep("x", 64 * 1024 * 1024)
  return #big
end })lua",
                         options);
  router_->SetRules(rules);
  EXPECT_TRUE(RouteOk(Call("call-1")).rules_fallback);
  EXPECT_THAT(rules->last_error(), HasSubstr("not enough memory"));
  // The state still serves the next decision.
  auto fine =
      CompileOk("return { score = function(c, a) return 2 end }", options);
  router_->SetRules(fine);
  EXPECT_EQ(RouteOk(Call("call-2")).score, 2);
}

TEST_F(RulesRoutingTest, StringMethodsCannotReachDump) {
  auto rules = CompileOk(R"lua(
return { score = function(c, a)
  if ("x").dump ~= nil or string.find("a.b", ".", 1) ~= 2 then return 0 end
  return 5
end })lua");
  router_->SetRules(rules);
  EXPECT_EQ(RouteOk(Call("call-1")).score, 5);
}

// --- Priority and steps -----------------------------------------------------

TEST_F(RulesRoutingTest, PriorityHookOrdersTheQueue) {
  auto rules = CompileOk(R"lua(
return { priority = function(c)
  if attr(c, "tier") == "platinum" then return 9 end
  return 0
end })lua");
  router_->SetRules(rules);
  for (const char* id : {"a", "b", "c"}) RouteOk(Call(id));  // Fill everyone.
  RouteOk(Call("plain"));
  clock_.Advance(absl::Seconds(60));
  routing::Contact vip = Call("vip");
  vip.attributes["tier"] = "platinum";
  routing::RoutingDecision d = RouteOk(vip);
  EXPECT_EQ(d.outcome, routing::DecisionOutcome::kQueued);
  EXPECT_EQ(d.queue_position, 1);
}

TEST_F(RulesRoutingTest, PriorityStepSetsHowMuchALevelIsWorth) {
  // One level is worth 1 s here: a priority-9 contact arriving 60 s after a
  // plain one stays behind it.
  auto rules = CompileOk(R"lua(
return {
  priority_step = 1,
  priority = function(c, waited)
    if attr(c, "tier") == "platinum" then return 9 end
    return 0
  end,
})lua");
  router_->SetRules(rules);
  for (const char* id : {"a", "b", "c"}) RouteOk(Call(id));
  RouteOk(Call("plain"));
  clock_.Advance(absl::Seconds(60));
  routing::Contact vip = Call("vip");
  vip.attributes["tier"] = "platinum";
  EXPECT_EQ(RouteOk(vip).queue_position, 2);
  EXPECT_THAT(Refusal("return { priority_step = -1 }"),
              HasSubstr("'priority_step' must be a number of seconds"));
}

// --- Examples ---------------------------------------------------------------

TEST(LuaRulesExamplesTest, EveryExampleLoadsAndPassesItsOwnTests) {
  for (const char* name :
       {"default", "vip_priority", "language_first", "preferred_agent",
        "skill_overflow", "occupancy_cap"}) {
    std::vector<RulesProblem> problems;
    auto rules = LoadRulesFile(absl::StrCat("rules/examples/", name, ".lua"),
                               RulesOptions(), &problems);
    ASSERT_TRUE(rules.ok()) << rules.status() << "\n" << Problems(problems);
    EXPECT_GE((*rules)->tests_passed(), 3) << name;
    EXPECT_THAT(problems, IsEmpty());
  }
}

TEST(LuaRulesExamplesTest, MissingFileIsNotFound) {
  auto rules = LoadRulesFile("rules/examples/no_such.lua", RulesOptions());
  EXPECT_EQ(rules.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace rules
