// The runner of a rules file's own tests (rules/internal/rules_test_runner.h):
// an agent's occupancy, the customer's history and the clock after routing
// are set up on a real router, so the rules see them as in production. Each
// file here passes only if the runner applies the field, and a variant with a
// wrong expectation fails at the test's line.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rules/lua_rules.h"

namespace rules {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string Problems(const std::vector<RulesProblem>& problems) {
  std::vector<std::string> lines;
  for (const RulesProblem& p : problems) lines.push_back(p.ToString());
  return absl::StrJoin(lines, "\n");
}

// The rules' time budget is wall time; these tests are about what the rules
// read, so a thread preempted on a loaded machine must not fail them.
RulesOptions Options() {
  RulesOptions options;
  options.evaluation_budget = absl::Seconds(5);
  return options;
}

// Compiles (running the file's tests); returns the problems, empty if the
// file was accepted.
std::vector<RulesProblem> Compile(const std::string& source) {
  std::vector<RulesProblem> problems;
  auto rules = CompileRules("test.lua", source, Options(), &problems);
  EXPECT_EQ(rules.ok(), problems.empty()) << Problems(problems);
  return problems;
}

// The line (1-based) of the first line of `source` containing `text`.
int LineOf(const std::string& source, const std::string& text) {
  const size_t at = source.find(text);
  EXPECT_NE(at, std::string::npos) << text;
  return 1 + static_cast<int>(
                 std::count(source.begin(), source.begin() + at, '\n'));
}

// Expects exactly one problem, at `line`, containing every piece of `text`.
void ExpectOneProblem(const std::vector<RulesProblem>& problems, int line,
                      const std::vector<std::string>& text) {
  ASSERT_EQ(problems.size(), 1u) << Problems(problems);
  EXPECT_EQ(problems[0].line, line) << problems[0].ToString();
  for (const std::string& piece : text) {
    EXPECT_THAT(problems[0].ToString(), HasSubstr(piece));
  }
}

// --- occupancy --------------------------------------------------------------

// Every agent must read the occupancy its `occ` attribute says (to 1e-9);
// any other value is a rule error, which fails the test.
constexpr char kOccupancyRules[] = R"lua(
return {
  eligible = function(c, a)
    if math.abs(a.occupancy - tonumber(agent_attr(a, "occ"))) >= 1e-9 then
      error(string.format("%s reads occupancy %.12f, not %s", a.id,
                          a.occupancy, agent_attr(a, "occ")))
    end
    return true
  end,
  tests = {
    { name = "occupancy 0.37 after two minutes idle",
      contact = {},
      agents = { { id = "x", occupancy = 0.37, idle = 120, attributes = { occ = "0.37" } } },
      expect = "x" },
    { name = "an agent who has handled nothing reads 0",
      contact = {},
      agents = { { id = "x", idle = 30, attributes = { occ = "0" } } },
      expect = "x" },
    { name = "occupancy 1, busy until the contact arrives",
      contact = {},
      agents = { { id = "x", occupancy = 1, attributes = { occ = "1" } } },
      expect = "x" },
    { name = "high occupancy and a long idle time stretch the session",
      contact = {},
      agents = { { id = "x", occupancy = 0.99, idle = 7200, attributes = { occ = "0.99" } } },
      expect = "x" },
    { name = "with chat load and past contacts inside the busy stretch",
      contact = { channel = "chat", customer = "c-1",
                  history = { { agent = "x", outcome = "resolved", ago = 600 },
                              { agent = "x", outcome = "unresolved", ago = 3600 } } },
      agents = { { id = "x", occupancy = 0.5, idle = 300, load = { chat = 1 },
                   channels = { voice = 1, chat = 2 }, attributes = { occ = "0.5" } } },
      expect = "x" },
    { name = "each agent its own",
      contact = {},
      agents = { { id = "hot", occupancy = 0.9, attributes = { occ = "0.9" } },
                 { id = "cool", occupancy = 0.25, idle = 60, attributes = { occ = "0.25" } } },
      expect = "cool" },
  },
})lua";

TEST(RulesTestRunnerTest, RulesReadTheOccupancyEachTestGives) {
  EXPECT_THAT(Problems(Compile(kOccupancyRules)), IsEmpty());
}

TEST(RulesTestRunnerTest, AWrongOccupancyExpectationFailsAtTheTestsLine) {
  const std::string source = absl::StrReplaceAll(
      kOccupancyRules, {{"occ = \"0.37\"", "occ = \"0.36\""}});
  ExpectOneProblem(
      Compile(source), LineOf(source, "occupancy 0.37 after two minutes idle"),
      {"test 'occupancy 0.37 after two minutes idle': the rules failed",
       "x reads occupancy 0.370000000000, not 0.36"});
  // The more occupied agent loses the built-in occupancy component.
  const std::string hot = absl::StrReplaceAll(
      kOccupancyRules, {{"expect = \"cool\"", "expect = \"hot\""}});
  ExpectOneProblem(Compile(hot), LineOf(hot, "each agent its own"),
                   {"test 'each agent its own': expected agent 'hot', got "
                    "agent 'cool'",
                    "handling 25% of logged-in time"});
}

TEST(RulesTestRunnerTest, OccupancyFallsAsTheClockMovesOn) {
  // 0.9 over an 8-hour session: 0.9 * 8 h / (8 h + 45 s) = 0.89860 later,
  // which lifts the rule's veto at the checkpoint.
  const std::string source = R"lua(
return {
  eligible = function(c, a) return a.occupancy < 0.8987 end,
  tests = {
    { name = "spared at 90%, taken once below 89.87%",
      contact = {},
      agents = { { id = "x", occupancy = 0.9 } },
      expect = "queued",
      later = { { advance = 30, expect = "queued" },
                { advance = 15, expect = "x" } } },
  },
})lua";
  EXPECT_THAT(Problems(Compile(source)), IsEmpty());
  const std::string wrong =
      absl::StrReplaceAll(source, {{"{ advance = 30, expect = \"queued\" }",
                                    "{ advance = 30, expect = \"x\" }"}});
  ExpectOneProblem(
      Compile(wrong), LineOf(wrong, "spared at 90%"),
      {"later[1] (line " + std::to_string(LineOf(wrong, "advance = 30")) +
       "), 30 s after routing: expected agent 'x', got "
       "'queued'"});
}

// --- history ----------------------------------------------------------------

// What each agent must read about the customer; anything else is an error,
// which fails the test with the rule's message.
constexpr char kHistoryRules[] = R"lua(
local HALF_LIFE = 7 * 24 * 3600
local WANT = {
  -- Most recent first in the history: y unresolved 10 min ago (its older
  -- resolved contact does not count), x resolved 2 h ago, t transferred.
  x = { served = true, resolved = true, affinity = 0.8 * 2 ^ (-7200 / HALF_LIFE) },
  y = { served = true, resolved = false, affinity = 0.5 * 2 ^ (-600 / HALF_LIFE) },
  t = { served = true, resolved = false, affinity = 0 },
  s = { served = true, resolved = true, affinity = 0.8 * 2 ^ (-60 / HALF_LIFE) },
  z = { served = false, resolved = false, affinity = 0 },
}
return {
  eligible = function(c, a)
    local w = WANT[a.id]
    if a.served_before ~= w.served or a.resolved_before ~= w.resolved or
       math.abs(a.affinity_score - w.affinity) > 1e-9 then
      error("the history reads wrong for " .. a.id)
    end
    return true
  end,
  tests = {
    { name = "served, resolved and affinity as the router records them",
      contact = { customer = "cust-9",
                  history = {
                    { agent = "y", outcome = "unresolved", ago = 600 },
                    { agent = "x", outcome = "resolved", ago = 7200, channel = "chat" },
                    { agent = "t", outcome = "transferred", ago = 7200 },
                    { agent = "y", outcome = "resolved", ago = 90000 },
                  } },
      agents = { { id = "z" }, { id = "t" }, { id = "y" }, { id = "x" } },
      expect = "x" },
    { name = "within one second, the entry listed first is the most recent",
      contact = { customer = "cust-11",
                  history = { { agent = "s", outcome = "resolved", ago = 60 },
                              { agent = "s", outcome = "unresolved", ago = 60 } } },
      agents = { { id = "s" } },
      expect = "s" },
    { name = "another customer has no history with them",
      contact = { customer = "cust-10" },
      agents = { { id = "z" } },
      expect = "z" },
  },
})lua";

TEST(RulesTestRunnerTest, RulesReadTheCustomersHistoryAsRecorded) {
  EXPECT_THAT(Problems(Compile(kHistoryRules)), IsEmpty());
}

TEST(RulesTestRunnerTest, AWrongHistoryExpectationFailsAtTheTestsLine) {
  // With x's resolved contact recorded as unresolved, x reads
  // resolved_before = false and the rule fails the test.
  const std::string source = absl::StrReplaceAll(
      kHistoryRules, {{"{ agent = \"x\", outcome = \"resolved\"",
                       "{ agent = \"x\", outcome = \"unresolved\""}});
  ExpectOneProblem(
      Compile(source),
      LineOf(source, "served, resolved and affinity as the router records"),
      {"the rules failed", "the history reads wrong for x"});
}

TEST(RulesTestRunnerTest, HistoryBringsTheCustomerBackToTheResolver) {
  // The built-in affinity (resolved 0.8) outweighs skill and idle time.
  const std::string source = R"lua(
return {
  tests = {
    { name = "back to pat",
      contact = { skills = { billing = 1 }, customer = "cust-1",
                  history = { { agent = "pat", outcome = "resolved", ago = 1200 } } },
      agents = { { id = "ace", skills = { billing = 5 }, idle = 3600 },
                 { id = "pat", skills = { billing = 1 }, idle = 1200 } },
      expect = "pat" },
  },
})lua";
  EXPECT_THAT(Problems(Compile(source)), IsEmpty());
  const std::string wrong =
      absl::StrReplaceAll(source, {{"expect = \"pat\"", "expect = \"ace\""}});
  ExpectOneProblem(Compile(wrong), LineOf(wrong, "back to pat"),
                   {"test 'back to pat': expected agent 'ace', got agent 'pat'",
                    "resolved this customer 20m ago"});
}

// --- the clock: later checkpoints -------------------------------------------

constexpr char kOverflowRules[] = R"lua(
return {
  steps = { { after = 0, preferred_only = true }, { after = 45, name = "overflow" } },
  eligible = function(c, a)
    if attr(c, "patient") == "yes" then return c.waited >= 30 end
    return true
  end,
  tests = {
    { name = "queued at first, with the overflow agent after 45 s",
      contact = { preferred = { "own" } },
      agents = { { id = "own", state = "busy" }, { id = "overflow" } },
      expect = "queued",
      later = {
        { advance = 44, expect = "queued" },
        { advance = 1, expect = "overflow" },
        { advance = 600, expect = "overflow" },
      } },
    { name = "a veto that depends on the wait lifts at a checkpoint",
      contact = { attributes = { patient = "yes" }, waited = 10 },
      agents = { { id = "a" } },
      expect = "queued",
      later = { { advance = 19.5, expect = "queued" }, { advance = 0.5, expect = "a" } } },
  },
})lua";

TEST(RulesTestRunnerTest, CheckpointsAdvanceTheClockAndTheQueues) {
  EXPECT_THAT(Problems(Compile(kOverflowRules)), IsEmpty());
}

TEST(RulesTestRunnerTest, AWrongCheckpointFailsAtTheTestsLineNamingIt) {
  const std::string early = absl::StrReplaceAll(
      kOverflowRules, {{"{ advance = 44, expect = \"queued\" }",
                        "{ advance = 44, expect = \"overflow\" }"}});
  ExpectOneProblem(
      Compile(early), LineOf(early, "queued at first, with the overflow"),
      {"test 'queued at first, with the overflow agent after 45 s': later[1] "
       "(line " +
       std::to_string(LineOf(early, "advance = 44")) +
       "), 44 s after routing: expected agent 'overflow', got 'queued'"});

  const std::string late = absl::StrReplaceAll(
      kOverflowRules, {{"{ advance = 0.5, expect = \"a\" }",
                        "{ advance = 0.5, expect = \"queued\" }"}});
  ExpectOneProblem(Compile(late), LineOf(late, "a veto that depends"),
                   {"later[2]",
                    "20 s after routing: expected 'queued', got "
                    "agent 'a'"});
}

TEST(RulesTestRunnerTest, AFailedFirstExpectationSkipsTheCheckpoints) {
  const std::string source = absl::StrReplaceAll(
      kOverflowRules,
      {{"expect = \"queued\",\n      later = {\n        { advance = 44",
        "expect = \"own\",\n      later = {\n        { advance = 44"}});
  ExpectOneProblem(Compile(source),
                   LineOf(source, "queued at first, with the overflow"),
                   {"expected agent 'own', got 'queued'"});
}

// --- together ----------------------------------------------------------------

TEST(RulesTestRunnerTest, OccupancyHistoryAndCheckpointsInOneTest) {
  // The customer's own agent (in the history) is busy; after 20 s anyone
  // qualifies, and the least occupied agent wins.
  const std::string source = R"lua(
return {
  steps = { { after = 0, preferred_only = true }, { after = 20 } },
  score = function(c, a) return 1 - a.occupancy end,
  tests = {
    { name = "own agent busy, then the least occupied",
      contact = { customer = "cust-3",
                  history = { { agent = "own", outcome = "resolved" } } },
      agents = { { id = "own", state = "busy" },
                 { id = "hot", occupancy = 0.8 },
                 { id = "calm", occupancy = 0.2, idle = 600 } },
      expect = "queued",
      later = { { advance = 20, expect = "calm" } } },
  },
})lua";
  EXPECT_THAT(Problems(Compile(source)), IsEmpty());
  const std::string wrong =
      absl::StrReplaceAll(source, {{"expect = \"calm\"", "expect = \"hot\""}});
  ExpectOneProblem(Compile(wrong), LineOf(wrong, "own agent busy"),
                   {"later[1]", "expected agent 'hot', got agent 'calm'"});
}

}  // namespace
}  // namespace rules
