// File: rules/internal/rules_test_runner.h
//
// Runs the tests a rules file carries (docs/RULES.md, "Tests"), each on a
// fresh router with a manual clock, so that what the rules read is what the
// router really reports, not a value poked into a view:
//
//   - every agent works one session that ends at the instant T the test's
//     contact is routed. It logs in at the start, and is free of work for
//     the last `idle` seconds;
//   - `occupancy` p: the agent handles a contact (on its first channel) for
//     p of the session, ending when its idle time begins, so the router's
//     handling time / logged-in time is p at T (to kOccupancyTolerance). The
//     session lasts 8 hours, or longer when the idle time or the history
//     needs it; a history entry falling inside the busy stretch splits it;
//   - the customer's `history`: the agent takes and releases a contact of the
//     customer with the given outcome, `ago` seconds before T (taken and
//     released at once, so it adds no handling time), oldest first, so the
//     router's customer history lists them as the test does;
//   - `load`: contacts only that agent may take, routed when its idle time
//     begins; `state`: set at T;
//   - then the rules go into force and the contact is routed at T, having
//     waited `waited` seconds. The decision must name the expected agent (or
//     queue the contact, for expect = "queued");
//   - each `later` checkpoint advances the clock, calls AdvanceQueues() once
//     (as a host does periodically) and checks where the contact is.
//
// Before routing, the runner checks that the router reports the occupancy,
// idle time and history the test set up; a mismatch fails the test.
#ifndef RULES_INTERNAL_RULES_TEST_RUNNER_H_
#define RULES_INTERNAL_RULES_TEST_RUNNER_H_

#include <memory>
#include <vector>

#include "rules/internal/lua_rules_state.h"
#include "rules/lua_rules.h"

namespace rules::internal {

// How close the occupancy the router reports at T must be to the test's.
// Setup times are whole nanoseconds over a session of hours, so the error
// is below 1e-12; the rules see 1 minus the built-in occupancy component,
// which adds a rounding of about 1e-16.
inline constexpr double kOccupancyTolerance = 1e-9;

// Returns how many tests passed; appends a problem for each that failed, at
// the test's line.
int RunRulesTests(const std::shared_ptr<const LuaRules>& rules,
                  const std::vector<RulesTestCase>& tests,
                  std::vector<RulesProblem>* problems);

}  // namespace rules::internal

#endif  // RULES_INTERNAL_RULES_TEST_RUNNER_H_
