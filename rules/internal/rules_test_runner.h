// File: rules/internal/rules_test_runner.h
//
// Runs the tests a rules file carries: each on a fresh router with a manual
// clock, the test's agents logged in (idle for as long as the test says,
// holding the load it says), the rules in force, then the test's contact
// routed after waiting `waited` seconds. The decision must name the expected
// agent (or queue the contact, for expect = "queued").
#ifndef RULES_INTERNAL_RULES_TEST_RUNNER_H_
#define RULES_INTERNAL_RULES_TEST_RUNNER_H_

#include <memory>
#include <vector>

#include "rules/internal/lua_rules_state.h"
#include "rules/lua_rules.h"

namespace rules::internal {

// Returns how many tests passed; appends a problem for each that failed.
int RunRulesTests(const std::shared_ptr<const LuaRules>& rules,
                  const std::vector<RulesTestCase>& tests,
                  std::vector<RulesProblem>* problems);

}  // namespace rules::internal

#endif  // RULES_INTERNAL_RULES_TEST_RUNNER_H_
