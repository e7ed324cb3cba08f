// contact_center_simulator: a simulated day (or more) of a contact center
// against the real router, with or without a rules file; or two rules files
// on the same traffic and seed, side by side (what-if).
//
//   bazel run //bench/simulator:contact_center_simulator
//   bazel run //bench/simulator:contact_center_simulator --
//       --rules=rules/examples/skill_overflow.lua --json=/tmp/day.json
//   bazel run //bench/simulator:contact_center_simulator --
//       --rules=rules/examples/default.lua
//       --compare_rules=rules/examples/language_first.lua
// (each command on one line).
//
// Relative paths are taken from the directory `bazel run` was started in.
// Exits 1 with the reason (a rules file's problems as FILE:LINE) on error.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "bench/simulator/contact_center_simulation.h"
#include "bench/simulator/report_charts.h"
#include "bench/simulator/scenario.h"
#include "bench/simulator/simulation_report.h"

ABSL_FLAG(std::string, scenario, "default",
          "default (a multi-skill, bilingual voice and chat day, 07:00-22:00) "
          "or single (one skill, Poisson arrivals, exponential handling, "
          "FCFS: the M/M/c queue; see --rate, --aht, --agents, --patience).");
ABSL_FLAG(std::string, rules, "", "Rules file; empty: the built-in policy.");
ABSL_FLAG(std::string, compare_rules, "",
          "A second rules file (or 'builtin') run on the same traffic and "
          "seed; prints both reports and the differences.");
ABSL_FLAG(double, rules_budget_ms, 2,
          "Time one rules evaluation may take, milliseconds.");
ABSL_FLAG(int, rules_breaker_failures, 20,
          "Failed rules evaluations within 10 s that suspend the rules; 0: "
          "no breaker.");
ABSL_FLAG(uint64_t, seed, 0, "Random seed; 0: the scenario's own.");
ABSL_FLAG(double, days, 1, "Days to simulate (the day's pattern repeats).");
ABSL_FLAG(double, rate, 120, "single: contacts per hour.");
ABSL_FLAG(double, aht, 240, "single: mean handle time, seconds.");
ABSL_FLAG(int, agents, 10, "single: agents.");
ABSL_FLAG(double, patience, 0,
          "single: mean patience in seconds (0: nobody abandons).");
ABSL_FLAG(std::string, json, "", "Also write the report(s) as JSON here.");
ABSL_FLAG(std::string, charts_dir, "",
          "Also chart the day(s) into this directory: day.png (service "
          "level, abandonment, occupancy, offered contacts and agents per "
          "interval; both runs with --compare_rules), with its data and "
          "gnuplot script.");

namespace {

std::string FromInvocationDirectory(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  const char* dir = std::getenv("BUILD_WORKING_DIRECTORY");
  return dir == nullptr ? path : absl::StrCat(dir, "/", path);
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "contact_center_simulator: %s\n",
               std::string(status.message()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Simulates a contact center against the router and reports service "
      "level, ASA, abandonment, occupancy and match rates.");
  absl::ParseCommandLine(argc, argv);
  namespace sim = routing::simulator;

  sim::Scenario scenario;
  const std::string kind = absl::GetFlag(FLAGS_scenario);
  const double days = absl::GetFlag(FLAGS_days);
  if (days <= 0 || days > 31) {
    return Fail(absl::InvalidArgumentError("--days must be in (0, 31]"));
  }
  if (kind == "default") {
    scenario = sim::DefaultDayScenario();
    scenario.end_hour += (days - 1) * 24;
  } else if (kind == "single") {
    scenario = sim::SingleSkillScenario(
        absl::GetFlag(FLAGS_rate), absl::GetFlag(FLAGS_aht),
        absl::GetFlag(FLAGS_agents), absl::GetFlag(FLAGS_patience), days * 24);
  } else {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("--scenario=", kind, " is not one of: default, single")));
  }
  if (absl::GetFlag(FLAGS_seed) != 0) scenario.seed = absl::GetFlag(FLAGS_seed);

  sim::SimulationOptions first;
  first.rules_file = FromInvocationDirectory(absl::GetFlag(FLAGS_rules));
  first.rules_budget =
      absl::Microseconds(1000 * absl::GetFlag(FLAGS_rules_budget_ms));
  first.rules_breaker_failures = absl::GetFlag(FLAGS_rules_breaker_failures);
  absl::StatusOr<sim::SimulationReport> report = sim::Simulate(scenario, first);
  if (!report.ok()) return Fail(report.status());
  std::printf("%s", sim::FormatReportTable(*report).c_str());
  std::string json = sim::FormatReportJson(*report);
  std::vector<const sim::SimulationReport*> charted = {&*report};
  absl::StatusOr<sim::SimulationReport> candidate;

  if (const std::string other = absl::GetFlag(FLAGS_compare_rules);
      !other.empty()) {
    sim::SimulationOptions second;
    second.rules_file =
        other == "builtin" ? "" : FromInvocationDirectory(other);
    candidate = sim::Simulate(scenario, second);
    if (!candidate.ok()) return Fail(candidate.status());
    std::printf("\n%s\n%s", sim::FormatReportTable(*candidate).c_str(),
                sim::FormatComparisonTable(*report, *candidate).c_str());
    json =
        absl::StrCat("[", json, ",", sim::FormatReportJson(*candidate), "]\n");
    charted.push_back(&*candidate);
  }
  if (const std::string path = absl::GetFlag(FLAGS_json); !path.empty()) {
    std::ofstream out(FromInvocationDirectory(path));
    out << json;
    if (!out) {
      return Fail(absl::UnavailableError(absl::StrCat("cannot write ", path)));
    }
  }
  if (const std::string dir = absl::GetFlag(FLAGS_charts_dir); !dir.empty()) {
    const std::string path = FromInvocationDirectory(dir);
    if (absl::Status charts = sim::WriteDayCharts(charted, path);
        !charts.ok()) {
      return Fail(charts);
    }
    std::printf("\nCharts: %s/day.png\n", path.c_str());
  }
  return 0;
}
