// File: rules/lua_rules.h
//
// Operator routing rules written in Lua and run by LuaJIT: the
// routing::RoutingRules the router consults. A rules file returns a table of
// optional hooks (eligible, score or weights, priority, steps) and its own
// tests; docs/RULES.md is the reference.
//
//   rules::RulesOptions options;
//   std::vector<rules::RulesProblem> problems;
//   absl::StatusOr<std::shared_ptr<const rules::LuaRules>> rules =
//       rules::LoadRulesFile("rules/examples/vip_priority.lua", options,
//                            &problems);
//   if (!rules.ok()) { for (auto& p : problems) print(p.ToString()); }
//   else router->SetRules(*rules);   // hot swap; old decisions finish on old
//
// Compiling checks the file (syntax, allowed globals, bounded compiled code,
// hook shapes), runs its top level once under an instruction limit, then runs
// every test in the file against a real router; any problem refuses the file
// and leaves whatever rules were in force untouched.
//
// Thread-safety: a LuaRules is immutable once compiled and may be used by any
// number of threads at once. Each thread borrows one of a pool of Lua states
// (lock-free; a state is created when all are busy, up to max_states), so no
// decision waits for another. A rule that fails on one contact (error, wrong
// return type, time budget exceeded) makes Evaluate() return false: the
// router decides that contact with its built-in policy and counts it; the
// error, with file and line, is kept in last_error().
#ifndef RULES_LUA_RULES_H_
#define RULES_LUA_RULES_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "routing/routing_rules.h"

namespace rules {

// One thing wrong with a rules file, as an operator's editor shows it.
struct RulesProblem {
  std::string file;
  int line = 0;  // 0: the file as a whole.
  std::string message;
  std::string ToString() const;  // "FILE:LINE: message"
};

struct RulesOptions {
  // Memory one Lua state may allocate; beyond it the rule fails with "not
  // enough memory" and the decision falls back.
  size_t memory_limit_bytes = 32 << 20;
  // Longest a single evaluation may run before the watchdog stops it. Wall
  // time: an evaluation normally takes microseconds (docs/PERFORMANCE.md), so
  // the budget is mostly room for the thread being preempted on a busy
  // machine. Also the budget each hook gets on the sample contacts when the
  // file is compiled (docs/RULES.md, "Termination").
  absl::Duration evaluation_budget = absl::Milliseconds(2);
  // The circuit breaker: more than `breaker_failures` failed evaluations
  // (errors or budget overruns) within `breaker_window` suspend this rules
  // version. A suspended version never enters Lua again: every decision is
  // made by the built-in policy and says so (rules_suspended). Compiling
  // the file again (a reload) gives a fresh, armed version.
  // breaker_failures 0 turns the breaker off.
  int breaker_failures = 20;
  absl::Duration breaker_window = absl::Seconds(10);
  // Instructions the file's top level may run when loaded.
  int load_instruction_limit = 10'000'000;
  // Most Lua states kept for concurrent decisions (one per thread deciding
  // at once is enough).
  int max_states = 64;
  // Run the file's tests when compiling (the checker's `check` skips them).
  bool run_tests = true;
  // Largest rules source accepted, as a file or as text.
  size_t max_source_bytes = 1 << 20;
  // When not empty, LoadRulesFile() reads only regular files under this
  // directory (after resolving symbolic links and "..").
  std::string rules_dir;
};

// A rules step, as compiled from the file's `steps` list.
struct RulesStep {
  double after_seconds = 0;
  std::string name;
  bool replace_skills = false;
  std::vector<routing::SkillRequirement> skills;
  int min_level = 0;  // 0: levels as required.
  bool drop_languages = false;
  bool preferred_only = false;
};

class LuaRules final : public routing::RoutingRules {
 public:
  ~LuaRules() override;

  std::string Name() const override;
  void Plan(const routing::Contact& contact, absl::Duration waited,
            routing::ContactPlan* plan) const override;
  bool Evaluate(const routing::RulesContact& contact,
                routing::RulesCandidate* candidates, int count,
                const routing::RulesNames& names) const override;

  // The file's tests that ran and passed when it was compiled.
  int tests_passed() const;
  const std::vector<RulesStep>& steps() const;
  // Rule failures since compiling, and the latest one ("FILE:LINE: ...").
  int64_t errors() const;
  std::string last_error() const;

  // What operators watch: failures, the latest, and the breaker.
  struct Health {
    int64_t errors = 0;    // Failed evaluations (errors and overruns).
    int64_t overruns = 0;  // ...of which ran past the evaluation budget.
    std::string last_error;  // "FILE:LINE: message"; empty: none yet.
    bool suspended = false;  // The breaker tripped (see RulesOptions).
    absl::Time suspended_at = absl::InfinitePast();  // When it tripped.
  };
  Health health() const;
  // routing::RoutingRules: whether the breaker has tripped.
  bool Suspended() const override;
  // Rule errors (not overruns) the sample run of the compile met, as
  // "FILE:LINE: message": hooks that fail on some contact. They do not
  // refuse the file; `routing_rules check` prints them.
  std::vector<std::string> sample_warnings() const;
  // Rule functions that run interpreted because they loop or call other rule
  // functions (see docs/RULES.md, "Termination"), as "FILE:LINE: reason".
  std::vector<std::string> interpreted_functions() const;

  struct Impl;  // rules/internal/lua_rules_impl.h

 private:
  friend absl::StatusOr<std::shared_ptr<const LuaRules>> CompileRules(
      std::string_view, std::string_view, const RulesOptions&,
      std::vector<RulesProblem>*);
  explicit LuaRules(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Compiles rules from source text; `file_name` labels problems and errors.
// InvalidArgument (with every problem appended to `problems`, if given) when
// the file is refused.
absl::StatusOr<std::shared_ptr<const LuaRules>> CompileRules(
    std::string_view file_name, std::string_view source,
    const RulesOptions& options, std::vector<RulesProblem>* problems = nullptr);

// Reads a rules file with the checks LoadRulesFile makes (options.rules_dir,
// max_source_bytes, regular files only): its text, for a host that keeps
// the source it compiled (routingd's journal). NotFound if it cannot be
// read; the message names the path.
absl::StatusOr<std::string> ReadRulesFile(const std::string& path,
                                          const RulesOptions& options);

// Reads and compiles a file. NotFound if it cannot be read.
absl::StatusOr<std::shared_ptr<const LuaRules>> LoadRulesFile(
    const std::string& path, const RulesOptions& options,
    std::vector<RulesProblem>* problems = nullptr);

}  // namespace rules

#endif  // RULES_LUA_RULES_H_
