// File: bench/lua_c_api_rules.h
//
// The baseline the LuaJIT rules engine is measured against: a RoutingRules
// that calls a Lua 5.4 function once per candidate agent through the classic
// C API (a table of the agent's fields pushed, lua_pcall, the number read
// back), as scripting integrations commonly do. Benchmark use only: one Lua
// state, so one thread at a time.
//
//   auto rules = bench::LuaCApiRules::Create("return 0.35 * a.skill_score");
//   router->SetRules(*rules);
#ifndef BENCH_LUA_C_API_RULES_H_
#define BENCH_LUA_C_API_RULES_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "routing/routing_rules.h"

struct lua_State;

namespace bench {

class LuaCApiRules final : public routing::RoutingRules {
 public:
  // `expression` scores an agent `a` (fields as in docs/RULES.md).
  static absl::StatusOr<std::shared_ptr<LuaCApiRules>> Create(
      const std::string& expression);
  ~LuaCApiRules() override;

  std::string Name() const override { return "lua5.4-c-api"; }
  void Plan(const routing::Contact&, absl::Duration,
            routing::ContactPlan*) const override {}
  bool Evaluate(const routing::RulesContact& contact,
                routing::RulesCandidate* candidates, int count,
                const routing::RulesNames& names) const override;

 private:
  LuaCApiRules() = default;
  lua_State* L_ = nullptr;
  int score_ref_ = -1;
};

}  // namespace bench

#endif  // BENCH_LUA_C_API_RULES_H_
