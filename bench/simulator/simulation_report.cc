#include "bench/simulator/simulation_report.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace routing::simulator {
namespace {

double Ratio(int64_t part, int64_t whole) {
  return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole)
                   : 0.0;
}

std::string Percent(double share) {
  return absl::StrFormat("%.1f%%", 100 * share);
}

std::string Seconds(double seconds) {
  return absl::StrFormat("%.1f s", seconds);
}

std::string HourOfDay(double hour) {
  const int minutes = static_cast<int>(std::lround(hour * 60));
  const int day = minutes / (24 * 60);
  const std::string clock =
      absl::StrFormat("%02d:%02d", (minutes / 60) % 24, minutes % 60);
  return day == 0 ? clock : absl::StrCat("d", day + 1, " ", clock);
}

using Json = nlohmann::ordered_json;  // Fields in the order written.

// A figure as the report has always printed it: six significant digits, and
// null for a ratio with nothing to divide (NaN, infinity).
Json Number(double value) {
  double rounded = 0;
  if (!std::isfinite(value) ||
      !absl::SimpleAtod(absl::StrFormat("%.6g", value), &rounded)) {
    return nullptr;
  }
  return rounded;
}

Json ServiceJson(const ServiceFigures& f) {
  Json j;
  j["offered"] = f.offered;
  j["answered"] = f.answered;
  j["answered_within_threshold"] = f.answered_within_threshold;
  j["abandoned"] = f.abandoned;
  j["unfinished"] = f.unfinished;
  j["service_level"] = Number(f.ServiceLevel());
  j["average_speed_of_answer_s"] = Number(f.AverageSpeedOfAnswer());
  j["max_wait_s"] = Number(f.max_answer_wait_seconds);
  j["abandon_rate"] = Number(f.AbandonRate());
  j["probability_of_waiting"] = Number(f.ProbabilityOfWaiting());
  j["skill_match_rate"] = Number(f.SkillMatchRate());
  j["language_match_rate"] = Number(f.LanguageMatchRate());
  j["returning_answered"] = f.returning_answered;
  j["preferred_agent_hit_rate"] = Number(f.PreferredAgentHitRate());
  return j;
}

// One table row: a label and the service figures that matter most.
std::string ServiceRow(const std::string& label, const ServiceFigures& f) {
  return absl::StrFormat(
      "%-22s %8d %8d %7s %8s %8s %7s %7s %7s %7s\n", label, f.offered,
      f.answered, Percent(f.ServiceLevel()), Seconds(f.AverageSpeedOfAnswer()),
      Percent(f.AbandonRate()), Percent(f.ProbabilityOfWaiting()),
      Percent(f.SkillMatchRate()), Percent(f.LanguageMatchRate()),
      Percent(f.PreferredAgentHitRate()));
}

const char kServiceHeader[] =
    "                        offered answered      SL      ASA  abandon   "
    "waited  skill%   lang%   pref%\n";

}  // namespace

double ServiceFigures::ServiceLevel() const {
  return Ratio(answered_within_threshold, answered + abandoned);
}
double ServiceFigures::AverageSpeedOfAnswer() const {
  return answered > 0 ? total_answer_wait_seconds / answered : 0;
}
double ServiceFigures::AbandonRate() const {
  return Ratio(abandoned, answered + abandoned);
}
double ServiceFigures::ProbabilityOfWaiting() const {
  return Ratio(waited, answered + abandoned);
}
double ServiceFigures::SkillMatchRate() const {
  return Ratio(skill_matched, answered);
}
double ServiceFigures::LanguageMatchRate() const {
  return Ratio(language_matched, answered);
}
double ServiceFigures::PreferredAgentHitRate() const {
  return Ratio(previous_agent_hit, returning_answered);
}
double AgentFigures::Occupancy() const {
  return on_duty_hours > 0 ? busy_hours / on_duty_hours : 0;
}

std::string FormatReportTable(const SimulationReport& r) {
  std::string out = absl::StrFormat(
      "Scenario: %s | rules: %s | seed %d | %.1f h reported | SL = answered "
      "within %.0f s\n\n",
      r.scenario, r.rules, r.seed, r.simulated_hours, r.service_level_seconds);
  absl::StrAppend(&out, kServiceHeader, ServiceRow("all contacts", r.overall));
  for (const StreamFigures& s : r.streams) {
    absl::StrAppend(&out, ServiceRow("  " + s.stream, s.service));
  }
  absl::StrAppendFormat(
      &out,
      "\nOccupancy across %d agents: mean %s, spread (stddev) %s, lowest %s, "
      "highest %s\n",
      r.agents.size(), Percent(r.occupancy_mean), Percent(r.occupancy_stddev),
      Percent(r.occupancy_min), Percent(r.occupancy_max));
  absl::StrAppendFormat(
      &out,
      "Router: %d decisions, %d rules fallbacks, %.0f decisions/s of router "
      "time; run took %.2f s\n\n",
      r.router_decisions, r.rules_fallbacks, r.router_decisions_per_second,
      r.wall_seconds);
  absl::StrAppend(&out,
                  "interval   offered answered      SL      ASA  abandon "
                  "occupancy  agents\n");
  for (const IntervalFigures& i : r.intervals) {
    if (i.service.offered == 0 && i.agents_on_duty == 0) continue;
    absl::StrAppendFormat(&out, "%-9s %8d %8d %7s %8s %8s %9s %7.1f\n",
                          HourOfDay(i.start_hour), i.service.offered,
                          i.service.answered, Percent(i.service.ServiceLevel()),
                          Seconds(i.service.AverageSpeedOfAnswer()),
                          Percent(i.service.AbandonRate()),
                          Percent(i.occupancy), i.agents_on_duty);
  }
  return out;
}

std::string FormatReportJson(const SimulationReport& r) {
  Json report;
  report["scenario"] = r.scenario;
  report["rules"] = r.rules;
  report["seed"] = r.seed;
  report["simulated_hours"] = Number(r.simulated_hours);
  report["service_level_seconds"] = Number(r.service_level_seconds);
  report["overall"] = ServiceJson(r.overall);
  report["occupancy"] = {{"mean", Number(r.occupancy_mean)},
                         {"stddev", Number(r.occupancy_stddev)},
                         {"min", Number(r.occupancy_min)},
                         {"max", Number(r.occupancy_max)}};
  report["router"] = {
      {"decisions", r.router_decisions},
      {"rules_fallbacks", r.rules_fallbacks},
      {"decisions_per_second", Number(r.router_decisions_per_second)}};
  report["wall_seconds"] = Number(r.wall_seconds);
  Json& streams = report["streams"] = Json::array();
  for (const StreamFigures& s : r.streams) {
    streams.push_back(
        {{"stream", s.stream}, {"service", ServiceJson(s.service)}});
  }
  Json& agents = report["agents"] = Json::array();
  for (const AgentFigures& a : r.agents) {
    agents.push_back({{"agent", a.agent_id},
                      {"group", a.group},
                      {"on_duty_hours", Number(a.on_duty_hours)},
                      {"busy_hours", Number(a.busy_hours)},
                      {"contacts_handled", a.contacts_handled},
                      {"occupancy", Number(a.Occupancy())}});
  }
  Json& intervals = report["intervals"] = Json::array();
  for (const IntervalFigures& i : r.intervals) {
    intervals.push_back({{"start_hour", Number(i.start_hour)},
                         {"service", ServiceJson(i.service)},
                         {"occupancy", Number(i.occupancy)},
                         {"agents_on_duty", Number(i.agents_on_duty)}});
  }
  // Names come from scenario and rules files: invalid UTF-8 is replaced
  // rather than thrown on (the report never fails over a name).
  return report.dump(/*indent=*/-1, ' ', /*ensure_ascii=*/false,
                     Json::error_handler_t::replace) +
         "\n";
}

namespace {

// A compared figure: higher_is_better says which way "worse" points;
// margin is the change below which nothing is marked.
struct Compared {
  std::string name;
  double before;
  double after;
  bool higher_is_better;
  bool percent;
  double margin;
};

std::string FormatValue(double value, bool percent) {
  return percent ? Percent(value) : absl::StrFormat("%.1f", value);
}

}  // namespace

std::string FormatComparisonTable(const SimulationReport& before,
                                  const SimulationReport& after) {
  const ServiceFigures& b = before.overall;
  const ServiceFigures& a = after.overall;
  const std::vector<Compared> rows = {
      {"service level", b.ServiceLevel(), a.ServiceLevel(), true, true, 0.005},
      {"avg speed of answer (s)", b.AverageSpeedOfAnswer(),
       a.AverageSpeedOfAnswer(), false, false, 0.5},
      {"abandon rate", b.AbandonRate(), a.AbandonRate(), false, true, 0.005},
      {"skill match", b.SkillMatchRate(), a.SkillMatchRate(), true, true,
       0.005},
      {"language match", b.LanguageMatchRate(), a.LanguageMatchRate(), true,
       true, 0.005},
      {"preferred-agent hits", b.PreferredAgentHitRate(),
       a.PreferredAgentHitRate(), true, true, 0.005},
      {"occupancy mean", before.occupancy_mean, after.occupancy_mean, true,
       true, 0.005},
      {"occupancy spread", before.occupancy_stddev, after.occupancy_stddev,
       false, true, 0.005},
  };
  std::string out = absl::StrFormat(
      "What-if on the same traffic (scenario %s, seed %d)\n  A: %s\n  B: %s\n\n"
      "%-26s %10s %10s %10s\n",
      before.scenario, before.seed, before.rules, after.rules, "", "A", "B",
      "B - A");
  for (const Compared& row : rows) {
    const double delta = row.after - row.before;
    std::string mark;
    if (std::fabs(delta) > row.margin) {
      mark = (delta > 0) == row.higher_is_better ? "  <- better" : "  <- worse";
    }
    absl::StrAppendFormat(&out, "%-26s %10s %10s %10s%s\n", row.name,
                          FormatValue(row.before, row.percent),
                          FormatValue(row.after, row.percent),
                          row.percent ? absl::StrFormat("%+.1f pt", 100 * delta)
                                      : absl::StrFormat("%+.1f", delta),
                          mark);
  }
  out += "\nPer stream (service level, A -> B):\n";
  for (size_t i = 0; i < before.streams.size() && i < after.streams.size();
       ++i) {
    absl::StrAppendFormat(&out, "  %-24s %7s -> %7s   abandon %6s -> %6s\n",
                          before.streams[i].stream,
                          Percent(before.streams[i].service.ServiceLevel()),
                          Percent(after.streams[i].service.ServiceLevel()),
                          Percent(before.streams[i].service.AbandonRate()),
                          Percent(after.streams[i].service.AbandonRate()));
  }
  return out;
}

}  // namespace routing::simulator
