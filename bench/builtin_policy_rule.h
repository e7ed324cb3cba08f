// File: bench/builtin_policy_rule.h
//
// The built-in scoring policy as one Lua expression over an agent `a` with
// the six component fields, so the rules benchmarks run exactly the same
// rule through LuaJIT rules and through the classic Lua C API. The weights
// are RoutingPolicy's defaults (routing/routing_policy.h).
#ifndef BENCH_BUILTIN_POLICY_RULE_H_
#define BENCH_BUILTIN_POLICY_RULE_H_

namespace bench {

inline constexpr char kBuiltinPolicyExpression[] =
    "0.35 * a.skill_score + 0.25 * a.affinity_score + "
    "0.15 * a.language_score + 0.10 * a.load_score + "
    "0.05 * a.occupancy_score + 0.10 * a.idle_score";

// Benchmark argument "policy": who scores the candidates.
enum RulesPolicy {
  kBuiltinCpp = 0,   // The router's own C++ scoring, no rules.
  kLuaJitRules = 1,  // The expression as a rules file (rules/, LuaJIT).
  kLuaCApi = 2,      // The expression called once per agent via Lua 5.4.
};

}  // namespace bench

#endif  // BENCH_BUILTIN_POLICY_RULE_H_
