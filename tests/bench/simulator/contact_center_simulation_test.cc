#include "bench/simulator/contact_center_simulation.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "bench/simulator/queueing_theory.h"
#include "bench/simulator/scenario.h"
#include "bench/simulator/simulation_report.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace routing::simulator {
namespace {

using ::testing::HasSubstr;

// The report without the figures that depend on the machine's speed.
std::string Deterministic(SimulationReport report) {
  report.router_decisions_per_second = 0;
  report.wall_seconds = 0;
  return FormatReportJson(report);
}

TEST(SimulationTest, SameSeedSameDayDifferentSeedDifferentDay) {
  Scenario scenario = DefaultDayScenario();
  auto first = Simulate(scenario, {});
  auto again = Simulate(scenario, {});
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(Deterministic(*first), Deterministic(*again));
  scenario.seed += 1;
  auto other = Simulate(scenario, {});
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE(Deterministic(*first), Deterministic(*other));
}

TEST(SimulationTest, DefaultDayAccountsForEveryContactAndAgent) {
  auto report = Simulate(DefaultDayScenario(), {});
  ASSERT_TRUE(report.ok()) << report.status();
  const ServiceFigures& all = report->overall;
  EXPECT_GT(all.offered, 2000);
  EXPECT_EQ(all.answered + all.abandoned + all.unfinished, all.offered);
  int64_t by_stream = 0;
  for (const StreamFigures& s : report->streams) by_stream += s.service.offered;
  EXPECT_EQ(by_stream, all.offered);
  int64_t by_interval = 0;
  for (const IntervalFigures& i : report->intervals) {
    by_interval += i.service.offered;
    EXPECT_GE(i.occupancy, 0);
    EXPECT_LE(i.occupancy, 1 + 1e-9);
  }
  EXPECT_EQ(by_interval, all.offered);
  // Impatient customers and a lunchtime peak: some abandon, most do not.
  EXPECT_GT(all.abandoned, 0);
  EXPECT_LT(all.AbandonRate(), 0.3);
  EXPECT_GT(report->occupancy_mean, 0.3);
  EXPECT_LE(report->occupancy_max, 1 + 1e-9);
  // Returning customers meet their previous agent more often than chance.
  EXPECT_GT(all.returning_answered, 0);
  EXPECT_GT(all.PreferredAgentHitRate(), 0.1);
  // Spanish speakers may fall back to English: not every answer is a match.
  EXPECT_LT(all.LanguageMatchRate(), 1.0);
  EXPECT_GT(all.LanguageMatchRate(), 0.5);
  EXPECT_GT(report->router_decisions, all.answered);
}

TEST(SimulationTest, NobodyIsAnsweredOutsideTheShift) {
  Scenario scenario =
      SingleSkillScenario(60, 120, 3, /*patience_mean_seconds=*/0, 24);
  scenario.warmup_hours = 0;
  scenario.agent_groups[0].shift_start_hour = 9;
  scenario.agent_groups[0].shift_end_hour = 17;
  auto report = Simulate(scenario, {});
  ASSERT_TRUE(report.ok()) << report.status();
  for (const IntervalFigures& i : report->intervals) {
    // (An agent finishing a call after 17:00 is still on duty until done.)
    if (i.start_hour < 9 || i.start_hour >= 17.5) {
      EXPECT_EQ(i.agents_on_duty, 0) << i.start_hour;
    }
  }
  // The night's contacts wait for the morning: the longest wait is hours.
  EXPECT_GT(report->overall.max_answer_wait_seconds, 3600 * 8);
  // What arrives after the shift is never answered.
  EXPECT_GT(report->overall.unfinished, 0);
}

TEST(SimulationTest, BreaksAndAfterCallWorkLowerServiceLevel) {
  Scenario plain = SingleSkillScenario(100, 180, 6, 0, 10);
  Scenario busy = plain;
  busy.agent_groups[0].after_call_work_seconds = 60;
  auto without = Simulate(plain, {});
  auto with = Simulate(busy, {});
  ASSERT_TRUE(without.ok() && with.ok());
  EXPECT_LT(with->overall.ServiceLevel(), without->overall.ServiceLevel());
  EXPECT_GT(with->occupancy_mean, without->occupancy_mean);
}

TEST(SimulationTest, RefusesAnInvalidScenarioNamingTheField) {
  Scenario scenario = DefaultDayScenario();
  scenario.streams[1].contacts_per_hour = 0;
  auto report = Simulate(scenario, {});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr("voice sales"));
  EXPECT_THAT(report.status().message(), HasSubstr("contacts_per_hour"));

  scenario = DefaultDayScenario();
  scenario.agent_groups[0].breaks.push_back({23, 30});
  EXPECT_THAT(Simulate(scenario, {}).status().message(),
              HasSubstr("inside the shift"));
}

TEST(SimulationTest, ReportsARulesFileItCannotLoad) {
  SimulationOptions options;
  options.rules_file = "/nonexistent/rules.lua";
  auto report = Simulate(DefaultDayScenario(), options);
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().message(), HasSubstr("/nonexistent/rules.lua"));
}

TEST(SimulationTest, WhatIfOnTheSameTrafficMarksTheDifferences) {
  Scenario scenario = DefaultDayScenario();
  SimulationOptions overflow;
  overflow.rules_file = "rules/examples/skill_overflow.lua";
  auto builtin = Simulate(scenario, {});
  auto rules = Simulate(scenario, overflow);
  ASSERT_TRUE(builtin.ok()) << builtin.status();
  ASSERT_TRUE(rules.ok()) << rules.status();
  // The same traffic: the same contacts offered.
  EXPECT_EQ(builtin->overall.offered, rules->overall.offered);
  EXPECT_EQ(rules->rules, "rules/examples/skill_overflow.lua");
  EXPECT_EQ(rules->rules_fallbacks, 0);
  const std::string table = FormatComparisonTable(*builtin, *rules);
  EXPECT_THAT(table, HasSubstr("service level"));
  EXPECT_THAT(table, HasSubstr("skill_overflow.lua"));
  // Overflowing to weaker agents sooner must show in the skill match.
  EXPECT_NE(builtin->overall.skill_matched, rules->overall.skill_matched);
  EXPECT_THAT(table, HasSubstr("<- "));
}

// Validation against queueing theory: one skill, Poisson arrivals,
// exponential handling, first come first served. Each load runs 300
// simulated hours (about 30,000-40,000 contacts) after a 1-hour warm-up; the
// tolerance is a few standard errors of the measured shares at these
// sizes, wider at 90% occupancy where waits are long and correlated.
struct Load {
  double contacts_per_hour;
  double tolerance;
};

TEST(SimulationValidationTest, MatchesErlangCWithoutAbandonment) {
  constexpr double kHandle = 240;
  constexpr int kAgents = 10;
  for (const Load& load :
       {Load{105, 0.02}, Load{120, 0.025}, Load{135, 0.04}}) {
    SCOPED_TRACE(absl::StrCat(load.contacts_per_hour, " contacts/h"));
    Scenario scenario =
        SingleSkillScenario(load.contacts_per_hour, kHandle, kAgents, 0, 301);
    auto report = Simulate(scenario, {});
    ASSERT_TRUE(report.ok()) << report.status();
    auto theory =
        ErlangC::Create(load.contacts_per_hour / 3600, kHandle, kAgents);
    ASSERT_TRUE(theory.ok()) << theory.status();
    const ServiceFigures& f = report->overall;
    EXPECT_EQ(f.abandoned, 0);
    EXPECT_NEAR(f.ProbabilityOfWaiting(), theory->probability_of_waiting(),
                load.tolerance);
    EXPECT_NEAR(f.ServiceLevel(), *theory->ServiceLevel(20), load.tolerance);
    EXPECT_NEAR(report->occupancy_mean, theory->occupancy(), 0.02);
  }
}

TEST(SimulationValidationTest, MatchesErlangAWithAbandonment) {
  constexpr double kHandle = 240;
  constexpr int kAgents = 10;
  constexpr double kPatience = 120;
  // Up to an offered load above the number of agents: stable only because
  // customers give up.
  for (const Load& load : {Load{120, 0.025}, Load{150, 0.03}}) {
    SCOPED_TRACE(absl::StrCat(load.contacts_per_hour, " contacts/h"));
    Scenario scenario = SingleSkillScenario(load.contacts_per_hour, kHandle,
                                            kAgents, kPatience, 301);
    auto report = Simulate(scenario, {});
    ASSERT_TRUE(report.ok()) << report.status();
    auto theory = ErlangA::Create(load.contacts_per_hour / 3600, kHandle,
                                  kAgents, kPatience);
    ASSERT_TRUE(theory.ok()) << theory.status();
    const ServiceFigures& f = report->overall;
    EXPECT_NEAR(f.ProbabilityOfWaiting(), theory->probability_of_waiting(),
                load.tolerance);
    EXPECT_NEAR(f.AbandonRate(), theory->probability_of_abandoning(),
                load.tolerance);
    EXPECT_NEAR(f.ServiceLevel(), *theory->ServiceLevel(20), load.tolerance);
  }
}

}  // namespace
}  // namespace routing::simulator
