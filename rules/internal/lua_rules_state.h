// File: rules/internal/lua_rules_state.h
//
// One LuaJIT state running one rules file: the only place (with
// lua_rules_state.cc and rules_file_tables.cc) that touches a lua_State. A
// state is used by one thread at a time (the pool hands it out); the watchdog
// may call Interrupt() from another thread.
#ifndef RULES_INTERNAL_LUA_RULES_STATE_H_
#define RULES_INTERNAL_LUA_RULES_STATE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "routing/interaction.h"
#include "routing/routing_rules.h"
#include "rules/internal/rules_view.h"
#include "rules/lua_rules.h"

struct lua_State;
struct lua_Debug;

namespace rules::internal {

// A test written in a rules file, read into C++ (docs/RULES.md, "Tests";
// rules_test_runner.h says how each field is set up on the router).
struct RulesTestCase {
  // The router remembers this many interactions per customer (the default
  // RouterOptions::history_depth, which the runner's router keeps), so a
  // test's history holds at most this many.
  static constexpr int kMaxHistory = 4;
  // Longest agent session the runner sets up to hold an agent's occupancy,
  // idle time and history together.
  static constexpr double kMaxSessionSeconds = 400.0 * 24 * 3600;

  std::string name;
  int line = 0;  // Of the test's table, when known; else 0.
  routing::Contact contact;
  double waited_seconds = 0;
  struct TestAgent {
    routing::AgentProfile profile;
    routing::AgentState state = routing::AgentState::kAvailable;
    double idle_seconds = 0;
    std::array<int, routing::kChannelCount> load = {};
    // Handling time / logged-in time when the contact is routed, 0..1.
    // Unset: nothing handled this session (0).
    std::optional<double> occupancy;
  };
  std::vector<TestAgent> agents;
  // The customer's past interactions, most recent first: each a contact the
  // agent released with `outcome` `ago_seconds` before the test's contact is
  // routed.
  struct PastInteraction {
    std::string agent_id;
    routing::Channel channel = routing::Channel::kVoice;
    routing::ContactOutcome outcome = routing::ContactOutcome::kUnknown;
    double ago_seconds = 0;
  };
  std::vector<PastInteraction> history;
  std::string expect;  // An agent id, or "queued".
  // Checkpoints after routing, in order: the clock moves on
  // `advance_seconds`, the router advances its queues, and the contact must
  // then be with the agent `expect` names, or still "queued".
  struct Checkpoint {
    double advance_seconds = 0;
    std::string expect;
    int line = 0;  // Of the checkpoint's table, when known; else 0.
  };
  std::vector<Checkpoint> later;
};

class LuaRulesState {
 public:
  // Loads, checks and runs the file's top level. On refusal returns
  // InvalidArgument and appends the problems.
  static absl::StatusOr<std::unique_ptr<LuaRulesState>> Create(
      const std::string& file_name, const std::string& source,
      const RulesOptions& options, std::vector<RulesProblem>* problems);
  ~LuaRulesState();

  // Runs eligible/score over the candidates. False (and *error set, the
  // candidates untouched) on a rule failure.
  bool Evaluate(const routing::RulesContact& contact,
                routing::RulesCandidate* candidates, int count,
                const routing::RulesNames& names, std::string* error);
  // The priority hook's answer, -1 without one; false on a rule failure.
  bool Priority(const routing::Contact& contact, double waited_seconds,
                int* priority, std::string* error);

  // Read once, from the compiling state.
  bool ReadSteps(std::vector<RulesStep>* steps,
                 std::vector<RulesProblem>* problems);
  bool ReadTests(std::vector<RulesTestCase>* tests,
                 std::vector<RulesProblem>* problems);
  std::vector<std::string> InterpretedFunctions();
  // Whether the file's hooks table has `name`.
  bool HasHook(const char* name);
  // The file's priority_step in seconds (0: none).
  double PriorityStepSeconds();

  // Watchdog side: when an evaluation has run longer than the budget, makes
  // the state raise an error at its next interpreted instruction.
  int64_t evaluation_started_ns() const {
    return started_ns_.load(std::memory_order_acquire);
  }
  void Interrupt();
  void set_budget(absl::Duration budget) {
    budget_ns_.store(absl::ToInt64Nanoseconds(budget),
                     std::memory_order_relaxed);
  }
  // Whether the last Evaluate() or Priority() failed by running past the
  // budget, and then the hook that ran ("hook 'score' (line 3)") and the
  // line it was stopped at.
  bool overran() const { return overran_; }
  const std::string& overrun_hook() const { return overrun_hook_; }
  int overrun_line() const { return overrun_line_; }

  std::atomic<bool> busy{false};  // Owned by the pool.

 private:
  LuaRulesState() = default;
  bool CallPrelude(int function_ref, int args, int results, std::string* error);
  void FillContact(const routing::Contact& contact, int channel, int priority,
                   int step, double waited_seconds);
  static void BudgetHook(lua_State* L, lua_Debug* ar);

  struct Memory {
    size_t used = 0;
    size_t limit = 0;
    LuaRulesState* owner = nullptr;
  };
  static void* Allocate(void* ud, void* ptr, size_t old_size, size_t new_size);

  // The first line of the source containing `text` (0: none), to point
  // problems in data tables at a line.
  int LineOf(const std::string& text) const;

  std::string file_name_;
  std::string source_;
  // The budget in force: the live one, or the compile's test budget while
  // the file's own tests run (LuaRules sets it).
  std::atomic<int64_t> budget_ns_{0};
  Memory memory_;
  lua_State* L_ = nullptr;
  int module_ref_ = -1;
  int evaluate_ref_ = -1;
  int priority_ref_ = -1;
  int running_ref_ = -1;  // The prelude function of the call in progress.
  std::unique_ptr<RulesStaging> staging_;
  std::atomic<int64_t> started_ns_{0};
  bool overran_ = false;
  int overrun_line_ = 0;
  std::map<std::string, int> hook_lines_;  // Hook name -> line defined.
  std::string overrun_hook_;
};

}  // namespace rules::internal

#endif  // RULES_INTERNAL_LUA_RULES_STATE_H_
