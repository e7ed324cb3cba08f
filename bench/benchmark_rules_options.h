// File: bench/benchmark_rules_options.h
//
// The RulesOptions every benchmark compiles rules with: the production
// options, except a 1 s evaluation budget and no circuit breaker. A
// benchmark measures how fast rules run; on a loaded machine a preempted
// thread can hold one decision past the 2 ms production budget, which would
// turn a measurement into a fallback (and, 20 times over, suspend the rules
// for the rest of the run). The budget and breaker are measured on their
// own in bench/simulator/breaker_compare.sh.
#ifndef BENCH_BENCHMARK_RULES_OPTIONS_H_
#define BENCH_BENCHMARK_RULES_OPTIONS_H_

#include "absl/time/time.h"
#include "rules/lua_rules.h"

namespace bench {

inline rules::RulesOptions BenchmarkRulesOptions() {
  rules::RulesOptions options;
  options.evaluation_budget = absl::Seconds(1);
  options.breaker_failures = 0;
  return options;
}

}  // namespace bench

#endif  // BENCH_BENCHMARK_RULES_OPTIONS_H_
