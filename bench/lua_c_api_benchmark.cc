// BM_RulesDecision with policy:2: the built-in policy's expression called
// once per candidate agent through Lua 5.4's C API. A binary of its own
// because Lua 5.4 and LuaJIT export the same C symbols; bench/compare_rules.sh
// runs it beside rules_benchmark on the same pools.
#include "bench/builtin_policy_rule.h"
#include "bench/decision_loop.h"
#include "bench/lua_c_api_rules.h"
#include "benchmark/benchmark.h"

namespace {

void BM_RulesDecision(benchmark::State& state) {
  routing::ManualClock clock(absl::FromUnixSeconds(1'800'000'000));
  auto pool = bench::MakeDecisionPool(static_cast<int>(state.range(0)), &clock);
  auto rules = bench::LuaCApiRules::Create(bench::kBuiltinPolicyExpression);
  if (!rules.ok()) {
    state.SkipWithError(rules.status().ToString().c_str());
    return;
  }
  pool->router().SetRules(*rules);
  bench::MeasureDecisions(state, *pool);
}
BENCHMARK(BM_RulesDecision)
    ->ArgNames({"agents", "policy"})
    ->ArgsProduct({{100, 1'000, 10'000, 100'000}, {bench::kLuaCApi}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
