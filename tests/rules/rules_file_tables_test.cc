// Reading a rules file's tests (rules/internal/rules_file_tables.cc): every
// value of an agent's `occupancy`, the contact's `history` and the test's
// `later` checkpoints out of range is refused, naming the test and the field
// at FILE:LINE, the line where the file writes the field.
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

using ::testing::HasSubstr;

std::string Problems(const std::vector<RulesProblem>& problems) {
  std::vector<std::string> lines;
  for (const RulesProblem& p : problems) lines.push_back(p.ToString());
  return absl::StrJoin(lines, "\n");
}

// The rules' time budget is wall time: generous, so a thread preempted on a
// loaded machine does not fail the file's tests.
RulesOptions Options() {
  RulesOptions options;
  options.evaluation_budget = absl::Seconds(5);
  return options;
}

std::vector<RulesProblem> Refused(const std::string& source) {
  std::vector<RulesProblem> problems;
  auto rules = CompileRules("test.lua", source, Options(), &problems);
  EXPECT_FALSE(rules.ok()) << source;
  EXPECT_EQ(rules.status().code(), absl::StatusCode::kInvalidArgument);
  for (const RulesProblem& p : problems) {
    EXPECT_GT(p.line, 0) << "a problem without a line: " << p.ToString();
  }
  return problems;
}

// Expects a problem at `line` containing `text`.
void ExpectProblemAt(const std::vector<RulesProblem>& problems, int line,
                     const std::string& text) {
  for (const RulesProblem& p : problems) {
    if (p.line == line && p.ToString().find(text) != std::string::npos) return;
  }
  ADD_FAILURE() << "no problem at line " << line << " with \"" << text
                << "\" among:\n"
                << Problems(problems);
}

// One test whose contact (line 5), first agent (line 6) or test table (line
// 7) gets the snippet under test. Agent "a" has been idle 60 s; "b" takes
// voice only.
std::string WithSnippet(const std::string& contact, const std::string& agent,
                        const std::string& test) {
  return absl::StrCat(R"lua(return {
  tests = {
    { name = "the test",
      contact = { customer = "c-1",
        )lua",
                      contact, R"lua(},
      agents = { { id = "a", idle = 60 )lua",
                      agent, R"lua(}, { id = "b", channels = { voice = 1 } } },
      )lua",
                      test, R"lua(
      expect = "a" },
  },
})lua");
}

TEST(RulesFileTablesTest, TheSnippetTemplateIsAcceptedAsItIs) {
  std::vector<RulesProblem> problems;
  EXPECT_TRUE(
      CompileRules("test.lua", WithSnippet("", "", ""), Options(), &problems)
          .ok())
      << Problems(problems);
}

TEST(RulesFileTablesTest, RefusesOccupancyOutOfRangeAtItsLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {", occupancy = 1.5", "agents[1]: 'occupancy' must be from 0 to 1"},
      {", occupancy = -0.01", "agents[1]: 'occupancy' must be from 0 to 1"},
      {", occupancy = 0/0", "agents[1]: 'occupancy' must be from 0 to 1"},
      {", occupancy = \"high\"", "agents[1]: 'occupancy' must be a number"},
      {", occupancy = 1",
       "agents[1]: 'occupancy' 1 leaves no time to be idle: give 'idle' = 0"},
      {", occupancy = 0.9999999",
       "agents[1]: 'occupancy' 0.9999999 with 'idle' 60 s needs a session "
       "longer than 400 days"},
  };
  for (const auto& [snippet, text] : cases) {
    SCOPED_TRACE(snippet);
    ExpectProblemAt(Refused(WithSnippet("", snippet, "")), 6,
                    absl::StrCat("test.lua:6: test 'the test': ", text));
  }
}

TEST(RulesFileTablesTest, RefusesHistoryOutOfRangeAtItsLine) {
  const std::string fine = "{ agent = \"a\", outcome = \"resolved\" }";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"history = \"a\",", "contact: 'history' must be a list"},
      {"history = { \"a\" },", "contact.history[1]: must be a table"},
      {"history = { { agent = \"a\", outcome = \"fixed\" } },",
       "contact.history[1]: unknown outcome 'fixed' (resolved, unresolved, "
       "transferred, unknown)"},
      {"history = { { agent = \"a\" } },",
       "contact.history[1]: 'outcome' must be a string"},
      {"history = { { outcome = \"resolved\" } },",
       "contact.history[1]: 'agent' must be a string"},
      {"history = { { agent = \"zed\", outcome = \"resolved\" } },",
       "contact.history[1]: agent 'zed' is not one of the test's agents"},
      {"history = { { agent = \"a\", outcome = \"resolved\", by = 1 } },",
       "contact.history[1]: unknown field 'by'"},
      {"history = { { agent = \"a\", outcome = \"resolved\", ago = 90.5 } },",
       "contact.history[1]: 'ago' must be whole seconds"},
      {"history = { { agent = \"a\", outcome = \"resolved\", ago = -1 } },",
       "contact.history[1]: 'ago' must be from 0 to 31536000"},
      {"history = { { agent = \"a\", outcome = \"resolved\", ago = 31536001 "
       "} },",
       "contact.history[1]: 'ago' must be from 0 to 31536000"},
      {"history = { { agent = \"a\", outcome = \"resolved\", ago = 30 } },",
       "contact.history[1]: agent 'a' has been idle for 60 s, so cannot have "
       "served the customer 30 s ago"},
      {"history = { { agent = \"a\", outcome = \"resolved\", ago = 600 }, { "
       "agent = \"a\", outcome = \"resolved\", ago = 300 } },",
       "contact.history[2]: 'ago' 300 s is more recent than history[1] (600 "
       "s); list the history most recent first"},
      {"history = { { agent = \"b\", outcome = \"resolved\", channel = "
       "\"chat\" } },",
       "contact.history[1]: agent 'b' takes no chat contacts"},
      {"history = { { agent = \"a\", outcome = \"resolved\", channel = "
       "\"fax\" } },",
       "contact.history[1]: unknown channel 'fax'"},
      {absl::StrCat("history = { ", fine, ", ", fine, ", ", fine, ", ", fine,
                    ", ", fine, " },"),
       "contact: 'history' lists 5 interactions; the router remembers a "
       "customer's 4 most recent"},
      {absl::StrCat("customer = \"\", history = { ", fine, " },"),
       "contact: 'history' needs the contact's 'customer'"},
  };
  for (const auto& [snippet, text] : cases) {
    SCOPED_TRACE(snippet);
    ExpectProblemAt(Refused(WithSnippet(snippet, "", "")), 5,
                    absl::StrCat("test.lua:5: test 'the test': ", text));
  }
}

TEST(RulesFileTablesTest, RefusesCheckpointsOutOfRangeAtTheirLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"later = 5,", "'later' must be a list of { advance = seconds"},
      {"later = { 5 },", "later[1]: must be a table"},
      {"later = { { expect = \"a\" } },",
       "later[1]: needs 'advance' (seconds after the previous check)"},
      {"later = { { advance = -1, expect = \"a\" } },",
       "later[1]: 'advance' must be from 0 to 604800"},
      {"later = { { advance = 604801, expect = \"a\" } },",
       "later[1]: 'advance' must be from 0 to 604800"},
      {"later = { { advance = \"soon\", expect = \"a\" } },",
       "later[1]: 'advance' must be a number"},
      {"later = { { advance = 5 } },", "later[1]: 'expect' must be a string"},
      {"later = { { advance = 5, expect = \"zed\" } },",
       "later[1]: 'expect' must be \"queued\" or the id of one of the test's "
       "agents, not 'zed'"},
      {"later = { { advance = 5, expect = \"a\", at = 1 } },",
       "later[1]: unknown field 'at' (expected advance, expect)"},
  };
  for (const auto& [snippet, text] : cases) {
    SCOPED_TRACE(snippet);
    ExpectProblemAt(Refused(WithSnippet("", "", snippet)), 7,
                    absl::StrCat("test.lua:7: test 'the test': ", text));
  }
}

TEST(RulesFileTablesTest, AProblemPointsAtTheLineOfItsField) {
  // Fields on lines of their own; the second test has no name.
  const std::string source = R"lua(return {
  tests = {
    { name = "first",
      contact = {
        customer = "c-1",
        history = {
          { agent = "a", outcome = "resolved" },
          { agent = "a",
            outcome = "resolved",
            ago = 1.5 },
        },
      },
      agents = { { id = "a" } },
      expect = "a",
      later = {
        { advance = 5, expect = "a" },
        { advance = 5,
          expect = "nobody" },
      } },
    {
      contact = {},
      agents = {
        { id = "a",
          occupancy = 3 },
      },
      expect = "a" },
  },
})lua";
  const std::vector<RulesProblem> problems = Refused(source);
  ExpectProblemAt(problems, 10,
                  "test 'first': contact.history[2]: 'ago' must be whole");
  ExpectProblemAt(problems, 10,
                  "contact.history[2]: 'ago' 1.5 s is more recent than "
                  "history[1] (3600 s)");
  ExpectProblemAt(problems, 18,
                  "test 'first': later[2]: 'expect' must be \"queued\"");
  ExpectProblemAt(problems, 24,
                  "test 'tests[2]': agents[1]: 'occupancy' must be from 0");
  EXPECT_EQ(problems.size(), 4u) << Problems(problems);
}

TEST(RulesFileTablesTest, AnUnnamedFailingTestIsReportedAtItsTable) {
  // Braces, keys and `end` inside comments, strings and function bodies do
  // not throw the line count off.
  const std::string source = R"lua(-- tests = { { name = "x" } }
local NOTE = [[
  tests = { {
]]
return {
  score = function(c, a)
    local t = { tests = { 1 } }  -- }
    if a.id == "a" then return 2 end
    return #t + #"{" + #'}'
  end,
  --[==[ tests = {
    { ]==]
  tests = {
    { name = "fine", contact = {}, agents = { { id = "a" } }, expect = "a" },
    {
      contact = { attributes = { note = "{ expect = 'b' }" } },
      agents = { { id = "a" }, { id = "b" } },
      expect = "b" },
  },
})lua";
  const std::vector<RulesProblem> problems = Refused(source);
  ASSERT_EQ(problems.size(), 1u) << Problems(problems);
  EXPECT_EQ(problems[0].line, 15) << problems[0].ToString();
  EXPECT_THAT(problems[0].ToString(),
              HasSubstr("test.lua:15: test 'tests[2]': expected agent 'b', "
                        "got agent 'a'"));
}

TEST(RulesFileTablesTest, StepsProblemsHaveTheirLineToo) {
  const std::string source = R"lua(return {
  steps = {
    { after = 30 },
    { after = 10 },
  },
})lua";
  ExpectProblemAt(Refused(source), 4,
                  "test.lua:4: steps[2]: 'after' must grow");
}

}  // namespace
}  // namespace rules
