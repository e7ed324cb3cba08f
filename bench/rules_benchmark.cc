// BM_RulesDecision: one decision (route + release, as BM_Decision) against
// pools of 100 to 100,000 agents, scored by the router's built-in C++ policy
// (policy:0) or by the same policy written as a LuaJIT rules file
// (policy:1). lua_c_api_benchmark adds policy:2, the same rule called once
// per agent through the classic Lua C API; bench/compare_rules.sh runs both
// and prints them side by side.
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "bench/builtin_policy_rule.h"
#include "bench/decision_loop.h"
#include "benchmark/benchmark.h"
#include "bench/benchmark_rules_options.h"
#include "rules/lua_rules.h"

namespace {

void BM_RulesDecision(benchmark::State& state) {
  routing::ManualClock clock(absl::FromUnixSeconds(1'800'000'000));
  auto pool = bench::MakeDecisionPool(static_cast<int>(state.range(0)), &clock);
  if (state.range(1) == bench::kLuaJitRules) {
    auto rules = rules::CompileRules(
        "builtin_policy.lua",
        absl::StrCat("return { score = function(c, a) return ",
                     bench::kBuiltinPolicyExpression, " end }"),
        bench::BenchmarkRulesOptions());
    if (!rules.ok()) {
      state.SkipWithError(rules.status().ToString().c_str());
      return;
    }
    pool->router().SetRules(*rules);
  }
  bench::MeasureDecisions(state, *pool);
}
BENCHMARK(BM_RulesDecision)
    ->ArgNames({"agents", "policy"})
    ->ArgsProduct({{100, 1'000, 10'000, 100'000},
                   {bench::kBuiltinCpp, bench::kLuaJitRules}})
    ->Unit(benchmark::kMicrosecond);

// Cost of a reload: compiling a rules file (fresh state, bytecode check, its
// tests against a small router).
void BM_RulesCompile(benchmark::State& state) {
  const std::string source = absl::StrCat(
      "return { score = function(c, a) return ",
      bench::kBuiltinPolicyExpression,
      " end, tests = { { contact = { skills = { billing = 1 } }, agents = { "
      "{ id = 'x', skills = { billing = 3 } } }, expect = 'x' } } }");
  for (auto _ : state) {
    auto rules = rules::CompileRules("reload.lua", source,
                                     bench::BenchmarkRulesOptions());
    if (!rules.ok()) {
      state.SkipWithError(rules.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(rules);
  }
}
BENCHMARK(BM_RulesCompile)->Unit(benchmark::kMillisecond);

}  // namespace

