// File: bench/simulator/contact_center_simulation.h
//
// A discrete-event simulation of a contact center over hours of simulated
// time, driving the real Router in-process (optionally with a Lua rules
// file) on a ManualClock, so a simulated day takes seconds of wall time.
//
//   Scenario scenario = DefaultDayScenario();
//   SimulationOptions options;
//   options.rules_file = "rules/examples/skill_overflow.lua";  // optional
//   absl::StatusOr<SimulationReport> report = Simulate(scenario, options);
//
// What is simulated:
//   - arrivals per stream: a Poisson process whose rate follows the
//     scenario's hourly profile (thinning), each contact with a language
//     drawn from the stream's shares and, for a returning customer, the id
//     of a customer served before;
//   - handle times, exponential or log-normal; after-call work for voice;
//   - customer patience (exponential): a contact still queued when it runs
//     out is cancelled and counted as abandoned;
//   - agents logging in and out on their shifts and going on breaks (an
//     agent holding a contact finishes it first);
//   - rules steps: every rules_step_seconds the Router is asked to move
//     queued contacts on to steps that fell due (AdvanceQueues).
// Deterministic: the same scenario, seed and rules give the same report
// (apart from the wall-clock speed figures). Events at the same instant
// run in the order they were scheduled.
//
// Errors: InvalidArgument for a scenario ValidateScenario refuses; the
// rules loader's error (with FILE:LINE problems) for a refused rules file;
// Internal if the Router refuses something the simulation relies on.
#ifndef BENCH_SIMULATOR_CONTACT_CENTER_SIMULATION_H_
#define BENCH_SIMULATOR_CONTACT_CENTER_SIMULATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/simulator/scenario.h"
#include "bench/simulator/simulation_report.h"

namespace routing::simulator {

struct SimulationOptions {
  std::string rules_file;  // Empty: the built-in policy.
  // Evaluation budget and circuit breaker of the rules (rules/lua_rules.h).
  absl::Duration rules_budget = absl::Milliseconds(2);
  int rules_breaker_failures = 20;
};

absl::StatusOr<SimulationReport> Simulate(const Scenario& scenario,
                                          const SimulationOptions& options);

}  // namespace routing::simulator

#endif  // BENCH_SIMULATOR_CONTACT_CENTER_SIMULATION_H_
