// File: rules/internal/rules_samples.h
//
// The run half of the termination check (docs/RULES.md, "Termination"):
// every hook of a freshly compiled file runs on sample contacts and agents
// under the evaluation budget before the file may go live. The samples are
// the contacts and agents of the file's own tests plus synthetic ones that
// cover every channel, empty fields (no queue, customer, language, skill or
// attribute) and filled ones, fresh and long waits, idle and loaded agents.
//
// A hook that runs past the budget on a sample (three tries, so a thread
// preempted once on a busy machine is not mistaken for a slow hook) refuses
// the file with "FILE:LINE" of the line it was stopped at, naming the hook.
// Other rule errors do not refuse the file; they come back as warnings.
#ifndef RULES_INTERNAL_RULES_SAMPLES_H_
#define RULES_INTERNAL_RULES_SAMPLES_H_

#include <string>
#include <vector>

#include "rules/internal/lua_rules_state.h"
#include "rules/lua_rules.h"

namespace rules::internal {

// `state` must be watched by the rules' watchdog (it is in their pool).
// Appends refusals to `problems`, other rule errors to `warnings`.
void RunRulesSamples(LuaRulesState& state,
                     const std::vector<RulesTestCase>& tests,
                     bool has_evaluation, bool has_priority,
                     const std::string& file_name,
                     std::vector<RulesProblem>* problems,
                     std::vector<std::string>* warnings);

}  // namespace rules::internal

#endif  // RULES_INTERNAL_RULES_SAMPLES_H_
