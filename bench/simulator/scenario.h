// File: bench/simulator/scenario.h
//
// What a simulated contact-center day is made of: the contact streams that
// arrive (channel, skill, languages, rate over the day, handle times,
// customer patience, returning customers) and the agent groups that serve
// them (skills, languages, capacity, shifts, breaks, after-call work).
// ContactCenterSimulation (contact_center_simulation.h) runs one against the
// real Router.
//
// Times of day are hours since the simulated midnight (9.5 = 09:30). A
// scenario may run over several days: the hourly profile repeats, shifts and
// breaks recur every day.
#ifndef BENCH_SIMULATOR_SCENARIO_H_
#define BENCH_SIMULATOR_SCENARIO_H_

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "routing/agent.h"
#include "routing/channel.h"

namespace routing::simulator {

// How long an agent holds a contact once it is answered.
struct HandleTime {
  enum class Distribution { kExponential, kLogNormal };
  Distribution distribution = Distribution::kExponential;
  double mean_seconds = 300;
  // Log-normal only: the standard deviation of the underlying normal (shape);
  // the location is chosen so the mean is mean_seconds.
  double sigma = 0.8;
};

// One kind of contact: e.g. Spanish billing calls.
struct ContactStream {
  std::string name;
  Channel channel = Channel::kVoice;
  std::string skill;
  int min_level = 1;     // Hard requirement passed to the Router.
  int target_level = 1;  // An answer by an agent at this level or above is a
                         // "skill match" in the report.
  // Languages customers of this stream speak, with their shares (summing to
  // about 1; each contact names one). Empty: no language asked for.
  std::vector<std::pair<std::string, double>> languages;
  // A second language every customer whose own differs will also accept
  // (most speak some English): the Router may then fall back to it, and the
  // report counts how often it did. Empty: none.
  std::string fallback_language;
  // Mean arrivals per hour when the hourly profile is 1.
  double contacts_per_hour = 60;
  HandleTime handle;
  // Mean customer patience (exponential); 0: customers never abandon.
  double patience_mean_seconds = 0;
  // Share of contacts from customers of this stream seen before (they carry
  // the same customer id, so history affinity applies).
  double returning_share = 0;
  int priority = 0;
};

struct ScheduledBreak {
  double start_hour = 12;
  double minutes = 30;
};

// `count` agents with the same profile and schedule.
struct AgentGroup {
  std::string name;
  int count = 1;
  std::vector<AgentSkill> skills;
  std::vector<AgentLanguage> languages;
  std::array<int, kChannelCount> capacity = {};
  int max_total_contacts = 0;
  double shift_start_hour = 0;
  double shift_end_hour = 24;  // May exceed 24 for a night shift.
  std::vector<ScheduledBreak> breaks;
  // Breaks are staggered so a group never leaves all at once: agent n of the
  // group takes each break (n % 4) * break_stagger_minutes later.
  double break_stagger_minutes = 15;
  // Wrap-up after each voice contact, in seconds (the agent is not routable).
  double after_call_work_seconds = 0;
};

struct Scenario {
  std::string name = "scenario";
  double start_hour = 0;
  double end_hour = 24;
  // Contacts arriving before start_hour + warmup_hours are simulated but not
  // reported (the center starts empty).
  double warmup_hours = 0;
  // Arrival-rate multiplier for each hour of the day.
  std::array<double, 24> hourly_profile;
  std::vector<ContactStream> streams;
  std::vector<AgentGroup> agent_groups;
  double service_level_seconds = 20;  // "80/20": answered within 20 s.
  double report_interval_minutes = 30;
  // How often queued contacts are moved on to rules steps that fell due.
  double rules_step_seconds = 1;
  uint64_t seed = 1;

  Scenario() { hourly_profile.fill(1.0); }
};

// InvalidArgument naming the first field out of range (a stream with no
// rate, a group with no capacity, a profile hour below zero...).
absl::Status ValidateScenario(const Scenario& scenario);

// A realistic mid-size center over one day: voice and chat, billing, sales
// and technical support, English and Spanish, morning and late shifts with
// breaks, a lunchtime and early-evening peak, impatient callers and
// returning customers.
Scenario DefaultDayScenario();

// One skill, Poisson arrivals at `contacts_per_hour` all day, exponential
// handle times, `agents` agents all day, first come first served: the M/M/c
// queue of Erlang C (patience 0) or M/M/c+M of Erlang A (patience > 0).
Scenario SingleSkillScenario(double contacts_per_hour,
                             double mean_handle_seconds, int agents,
                             double patience_mean_seconds, double hours);

}  // namespace routing::simulator

#endif  // BENCH_SIMULATOR_SCENARIO_H_
