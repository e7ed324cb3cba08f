// The termination check of rules files (docs/RULES.md, "Termination"): the
// load-time proof refuses what cannot be proved to finish, naming the line;
// the sample run refuses a hook that does not finish within the budget on
// sample contacts; what is provably bounded and fast is accepted.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rules/lua_rules.h"

namespace rules {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Every problem of a refused file, one per line ("test.lua:LINE: ...").
std::string Refusal(const std::string& source) {
  std::vector<RulesProblem> problems;
  auto rules = CompileRules("test.lua", source, RulesOptions(), &problems);
  EXPECT_FALSE(rules.ok()) << "accepted:\n" << source;
  std::vector<std::string> lines;
  for (const RulesProblem& p : problems) lines.push_back(p.ToString());
  return absl::StrJoin(lines, "\n");
}

std::shared_ptr<const LuaRules> Accepted(const std::string& source) {
  std::vector<RulesProblem> problems;
  auto rules = CompileRules("test.lua", source, RulesOptions(), &problems);
  EXPECT_TRUE(rules.ok()) << rules.status();
  return rules.ok() ? *rules : nullptr;
}

TEST(RulesTerminationTest, WhileLoopInEveryHookIsRefusedAtItsLine) {
  for (const char* hook : {"eligible", "score", "priority"}) {
    SCOPED_TRACE(hook);
    EXPECT_THAT(Refusal(absl::StrCat("return {\n  ", hook,
                                     " = function(c, a)\n"
                                     "    while true do end\n"
                                     "    return 1\n"
                                     "  end,\n}\n")),
                StartsWith("test.lua:3: a 'while' or 'repeat' loop cannot be "
                           "proved to finish"));
  }
}

TEST(RulesTerminationTest, RepeatUntilFalseIsRefused) {
  EXPECT_THAT(Refusal("return { score = function(c, a)\n"
                      "  local n = 0\n"
                      "  repeat n = n + 1 until false\n"
                      "  return n\n"
                      "end }\n"),
              StartsWith("test.lua:3: a 'while' or 'repeat' loop"));
}

TEST(RulesTerminationTest, BackwardGotoIsRefused) {
  EXPECT_THAT(Refusal("return { eligible = function(c, a)\n"
                      "  local n = 0\n"
                      "  ::again::\n"
                      "  n = n + 1\n"
                      "  if n < 10 then goto again end\n"
                      "  return true\n"
                      "end }\n"),
              StartsWith("test.lua:5: a 'goto' that jumps backwards"));
}

TEST(RulesTerminationTest, BackwardGotoOutOfAScopeWithCapturedLocals) {
  // LuaJIT closes the captured local with UCLO, which jumps back itself.
  EXPECT_THAT(Refusal("return { score = function(c, a)\n"
                      "  local n = 0\n"
                      "  do\n"
                      "    ::top::\n"
                      "    local x = n\n"
                      "    local g = function() return x end\n"
                      "    n = g() + 1\n"
                      "    if n < 1e15 then goto top end\n"
                      "  end\n"
                      "  return n\n"
                      "end }\n"),
              StartsWith("test.lua:8: a 'goto' that jumps backwards"));
}

TEST(RulesTerminationTest, EachProblemIsReportedOnce) {
  EXPECT_EQ(Refusal("return { score = function(c, a)\n"
                    "  local function inner()\n"
                    "    while true do end\n"
                    "  end\n"
                    "  inner()\n"
                    "  return 1\n"
                    "end }\n"),
            "test.lua:3: a 'while' or 'repeat' loop cannot be proved to "
            "finish; rules may loop only with a numeric 'for' or with "
            "ipairs()/pairs() (docs/RULES.md, \"Termination\")");
}

TEST(RulesTerminationTest, ForwardGotoIsFine) {
  Accepted(
      "return { eligible = function(c, a)\n"
      "  if a.load > 3 then goto no end\n"
      "  do return true end\n"
      "  ::no::\n"
      "  return false\n"
      "end }\n");
}

TEST(RulesTerminationTest, RecursionThroughALocalFunctionIsRefused) {
  EXPECT_THAT(Refusal("local function down(n)\n"
                      "  if n <= 0 then return 0 end\n"
                      "  return down(n - 1)\n"
                      "end\n"
                      "return { score = function(c, a) return down(3) end }\n"),
              StartsWith("test.lua:3: recursion: this call can reach the "
                         "function it is in again"));
}

TEST(RulesTerminationTest, MutualRecursionIsRefused) {
  EXPECT_THAT(Refusal("local ping\n"
                      "local function pong(n) return ping(n) end\n"
                      "ping = function(n) return pong(n) end\n"
                      "return { score = function(c, a) return ping(1) end }\n"),
              HasSubstr("recursion"));
}

TEST(RulesTerminationTest, RecursionInsideAHookIsRefused) {
  EXPECT_THAT(Refusal("return { score = function(c, a)\n"
                      "  local function fact(n)\n"
                      "    if n <= 1 then return 1 end\n"
                      "    return n * fact(n - 1)\n"
                      "  end\n"
                      "  return fact(5)\n"
                      "end }\n"),
              StartsWith("test.lua:4: a function defined inside another "
                         "function may call only built-ins"));
}

TEST(RulesTerminationTest, CallingAParameterOrATableFieldIsRefused) {
  EXPECT_THAT(Refusal("local function apply(f, x) return f(x) end\n"
                      "return { score = function(c, a)\n"
                      "  return apply(math.abs, -1) end }\n"),
              StartsWith("test.lua:1: the function called here cannot be "
                         "identified before it runs"));
  EXPECT_THAT(Refusal("local H = {}\n"
                      "H.f = function(x) return x end\n"
                      "return { score = function(c, a)\n"
                      "  return H.f(1) end }\n"),
              StartsWith("test.lua:4: the function called here cannot be "
                         "identified"));
}

TEST(RulesTerminationTest, FunctionsUnderStringMethodNamesAreRefused) {
  // `t:sub()` would pass for a string method.
  EXPECT_THAT(Refusal("local function loop(t) return t:sub() end\n"
                      "local T = { sub = loop }\n"
                      "return { score = function(c, a) return loop(T) end }\n"),
              HasSubstr("table field named 'sub'"));
}

TEST(RulesTerminationTest, ComparatorOfTableSortIsPartOfTheCallGraph) {
  EXPECT_THAT(Refusal("local order\n"
                      "local function by(x, y)\n"
                      "  table.sort({3, 2, 1}, order)\n"
                      "  return x < y\n"
                      "end\n"
                      "order = by\n"
                      "return { score = function(c, a)\n"
                      "  local t = {2, 1}\n"
                      "  table.sort(t, by)\n"
                      "  return t[1] end }\n"),
              HasSubstr("recursion"));
}

TEST(RulesTerminationTest, NumericForNeedsAConstantNonZeroStep) {
  EXPECT_THAT(Refusal("return { score = function(c, a)\n"
                      "  local s = 0\n"
                      "  for i = 1, 10, 0 do s = s + i end\n"
                      "  return s end }\n"),
              StartsWith("test.lua:3: a numeric 'for' loop needs a constant, "
                         "non-zero step"));
  EXPECT_THAT(Refusal("return { score = function(c, a)\n"
                      "  local s, step = 0, a.load\n"
                      "  for i = 1, 10, step do s = s + i end\n"
                      "  return s end }\n"),
              StartsWith("test.lua:3: a numeric 'for' loop"));
}

TEST(RulesTerminationTest, GenericForMustUseIpairsPairsOrNext) {
  EXPECT_THAT(Refusal("local function gen() return nil end\n"
                      "return { score = function(c, a)\n"
                      "  for x in gen do end\n"
                      "  return 1 end }\n"),
              HasSubstr("test.lua:3: a generic 'for' loop must iterate with "
                        "ipairs(), pairs() or next"));
}

TEST(RulesTerminationTest, BoundedLoopsHelpersAndStringMethodsAreAccepted) {
  auto rules = Accepted(
      "local TIERS = { 'gold', 'silver' }\n"
      "local WEIGHT = { gold = 2, silver = 1 }\n"
      "local function clamp(x) return math.max(0, math.min(1, x)) end\n"
      "local function tier_bonus(c)\n"
      "  local bonus = 0\n"
      "  for _, t in ipairs(TIERS) do\n"
      "    if attr(c, 'tier') == t then bonus = bonus + 0.1 end\n"
      "  end\n"
      "  for k, w in pairs(WEIGHT) do bonus = bonus + 0 * w end\n"
      "  for k, w in next, WEIGHT do bonus = bonus + 0 * w end\n"
      "  return bonus\n"
      "end\n"
      "return {\n"
      "  eligible = function(c, a) return a.id:sub(1, 1) ~= 'x' end,\n"
      "  score = function(c, a)\n"
      "    local s = 0\n"
      "    for i = 10, 1, -1 do s = s + i end\n"  // Long-ish but bounded.
      "    for i = 1, 20000 do s = s + 1 end\n"
      "    local t = { 3, 1, 2 }\n"
      "    table.sort(t, function(x, y) return x < y end)\n"
      "    return clamp(a.score + tier_bonus(c)) + 0 * s\n"
      "  end,\n"
      "}\n");
  ASSERT_NE(rules, nullptr);
  EXPECT_TRUE(rules->sample_warnings().empty());
}

TEST(RulesTerminationTest, AHookThatRunsPastTheBudgetOnASampleIsRefused) {
  // Provably bounded, but far too long for a decision.
  EXPECT_THAT(Refusal("return { score = function(c, a)\n"
                      "  local s = 0\n"
                      "  for i = 1, 1e15 do s = s + i end\n"
                      "  return s end }\n"),
              AllOf(StartsWith("test.lua:3: hook 'score' (line 1) did not "
                               "finish within the evaluation budget on a "
                               "voice contact with empty fields"),
                    HasSubstr("Termination")));
  // Only on some contacts: the samples cover every channel and filled fields.
  EXPECT_THAT(Refusal("return { priority = function(c, waited)\n"
                      "  local s = 0\n"
                      "  if c.channel == 'video' and waited > 60 then\n"
                      "    for i = 1, 1e15 do s = s + i end\n"
                      "  end\n"
                      "  return s end }\n"),
              StartsWith("test.lua:4: hook 'priority' (line 1) did not finish "
                         "within the evaluation budget on a video contact "
                         "waiting an hour"));
}

TEST(RulesTerminationTest, AHookThatFailsOnASampleIsAcceptedWithAWarning) {
  auto rules = Accepted("return { score = function(c, a)\n"
                        "  return #attr(c, 'tier')\n"  // nil on empty fields
                        "end }\n");
  ASSERT_NE(rules, nullptr);
  ASSERT_FALSE(rules->sample_warnings().empty());
  EXPECT_THAT(rules->sample_warnings()[0], StartsWith("test.lua:2:"));
  // The samples do not count against the rules once live.
  EXPECT_EQ(rules->health().errors, 0);
  EXPECT_FALSE(rules->health().suspended);
}

TEST(RulesTerminationTest, WholeFileProblemsNameTheLine) {
  EXPECT_THAT(Refusal("local x = 1\nreturn x\n"),
              StartsWith("test.lua:2: the rules file must return a table"));
  EXPECT_THAT(Refusal("local x = 1\n\nreturn x -- the end\n\n"),
              StartsWith("test.lua:3: the rules file must return a table"));
  EXPECT_THAT(Refusal("return {\n  scor = function(c, a) return 1 end,\n}\n"),
              StartsWith("test.lua:2: unknown hook 'scor'"));
  EXPECT_THAT(Refusal("return {\n  weights = { skil = 1 },\n}\n"),
              StartsWith("test.lua:2: unknown weight 'skil'"));
}

TEST(RulesTerminationTest, TooLargeSourceIsRefused) {
  RulesOptions options;
  options.max_source_bytes = 1000;
  std::vector<RulesProblem> problems;
  auto rules = CompileRules("big.lua", std::string(1001, ' ') + "return {}",
                            options, &problems);
  ASSERT_FALSE(rules.ok());
  EXPECT_EQ(rules.status().code(), absl::StatusCode::kOutOfRange);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].ToString(),
            "big.lua: rules source is too large (1010 bytes; at most 1000)");
}

}  // namespace
}  // namespace rules
