// File: bench/simulator/simulation_report.h
//
// The figures an operations manager runs a contact center by, as one
// simulation produced them: service level, average speed of answer,
// abandonment, occupancy and its spread across agents (fairness), skill-,
// language- and preferred-agent match rates, the router's own speed, and
// the same per report interval over the day. Formatted as a table for
// people and JSON for tools.
#ifndef BENCH_SIMULATOR_SIMULATION_REPORT_H_
#define BENCH_SIMULATOR_SIMULATION_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

namespace routing::simulator {

// Contact counts and waits, for the whole run, one stream or one interval.
struct ServiceFigures {
  int64_t offered = 0;  // Arrived (after the warm-up).
  int64_t answered = 0;
  int64_t answered_within_threshold = 0;
  int64_t abandoned = 0;
  int64_t waited = 0;  // Answered or abandoned after waiting at all.
  double total_answer_wait_seconds = 0;  // Over answered contacts.
  double max_answer_wait_seconds = 0;
  int64_t skill_matched = 0;       // Answered at the stream's target level.
  int64_t language_matched = 0;    // Answered in the first language asked.
  int64_t returning_answered = 0;  // Answered, with a previous agent known...
  int64_t previous_agent_hit = 0;  // ...and answered by that agent again.
  int64_t unfinished = 0;  // Still queued or being handled when time ran out.

  // Answered within the threshold over answered + abandoned (the usual
  // definition; contacts still waiting at the end are left out).
  double ServiceLevel() const;
  double AverageSpeedOfAnswer() const;   // Seconds, over answered contacts.
  double AbandonRate() const;            // Over answered + abandoned.
  double ProbabilityOfWaiting() const;   // Waited at all, over the same.
  double SkillMatchRate() const;         // Over answered.
  double LanguageMatchRate() const;      // Over answered.
  double PreferredAgentHitRate() const;  // Over returning answered.
};

struct IntervalFigures {
  double start_hour = 0;  // Since the simulated midnight of day one.
  ServiceFigures service;
  double occupancy = 0;       // Busy over on-duty agent time in the interval.
  double agents_on_duty = 0;  // Average number on duty (not on break).
};

struct AgentFigures {
  std::string agent_id;
  std::string group;
  double on_duty_hours = 0;  // Logged in, not on break.
  double busy_hours = 0;     // Holding a contact or in after-call work.
  int64_t contacts_handled = 0;
  double Occupancy() const;  // busy / on duty; 0 with no duty time.
};

struct StreamFigures {
  std::string stream;
  ServiceFigures service;
};

struct SimulationReport {
  std::string scenario;
  std::string rules;  // Rules file, or "built-in policy".
  uint64_t seed = 0;
  double simulated_hours = 0;
  double service_level_seconds = 20;
  ServiceFigures overall;
  std::vector<StreamFigures> streams;
  std::vector<AgentFigures> agents;
  std::vector<IntervalFigures> intervals;
  // Occupancy across agents with on-duty time: mean, standard deviation,
  // lowest and highest (the fairness of the distribution of work).
  double occupancy_mean = 0;
  double occupancy_stddev = 0;
  double occupancy_min = 0;
  double occupancy_max = 0;
  // The router: decisions made (Route calls and assignments from queues),
  // rules fallbacks, and decisions per second of wall time spent in it.
  int64_t router_decisions = 0;
  int64_t rules_fallbacks = 0;
  double router_decisions_per_second = 0;
  double wall_seconds = 0;  // The whole run.
};

// A readable table: overall, per stream, occupancy spread, per interval.
std::string FormatReportTable(const SimulationReport& report);

// The whole report as one JSON object.
std::string FormatReportJson(const SimulationReport& report);

// Two runs on the same traffic side by side (e.g. current rules vs a
// candidate), each figure with its difference; differences that make things
// worse by more than a small margin are marked "<- worse", better ones
// "<- better".
std::string FormatComparisonTable(const SimulationReport& before,
                                  const SimulationReport& after);

}  // namespace routing::simulator

#endif  // BENCH_SIMULATOR_SIMULATION_REPORT_H_
