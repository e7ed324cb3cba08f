#include "sidecar/http/metrics_exposition.h"

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/sidecar/http/ops_fixture.h"

namespace routing::sidecar::http {
namespace {

class MetricsExpositionTest : public ::testing::Test {
 protected:
  MetricsExpositionTest() : metrics_(FixtureNow() - absl::Hours(1)) {
    RecordFixtureMetrics(metrics_);
    text_ = RoutingMetricsText(FixtureReadings(), metrics_, AlarmThresholds());
  }
  // The line that starts with `series ` (name and labels), or "".
  std::string Line(const std::string& series) const {
    for (absl::string_view line : absl::StrSplit(text_, '\n')) {
      if (absl::StartsWith(line, series + " ")) return std::string(line);
    }
    return "";
  }
  SidecarMetrics metrics_;
  std::string text_;
};

TEST_F(MetricsExpositionTest, DecisionsAssignmentsReleasesAndRequeues) {
  EXPECT_EQ(Line("routing_decisions_total{outcome=\"assigned\"}"),
            "routing_decisions_total{outcome=\"assigned\"} 4");
  EXPECT_EQ(Line("routing_decisions_total{outcome=\"queued\"}"),
            "routing_decisions_total{outcome=\"queued\"} 3");
  EXPECT_EQ(Line("routing_assignments_total{kind=\"from_queue\"}"),
            "routing_assignments_total{kind=\"from_queue\"} 1");
  EXPECT_EQ(Line("routing_contacts_released_total{outcome=\"resolved\"}"),
            "routing_contacts_released_total{outcome=\"resolved\"} 2");
  EXPECT_EQ(Line("routing_contacts_released_total{outcome=\"transferred\"}"),
            "routing_contacts_released_total{outcome=\"transferred\"} 1");
  EXPECT_EQ(Line("routing_requeues_total"), "routing_requeues_total 1");
  EXPECT_EQ(Line("routing_contacts_cancelled_total"),
            "routing_contacts_cancelled_total 1");
}

TEST_F(MetricsExpositionTest, RequestsByTypeAndCode) {
  EXPECT_EQ(Line("routing_requests_total{type=\"RouteContact\",code=\"OK\"}"),
            "routing_requests_total{type=\"RouteContact\",code=\"OK\"} 3");
  EXPECT_EQ(
      Line("routing_requests_total{type=\"RouteContact\",code=\"NotFound\"}"),
      "routing_requests_total{type=\"RouteContact\",code=\"NotFound\"} 1");
  EXPECT_EQ(Line("routing_requests_total{type=\"unknown\",code="
                 "\"MalformedRequest\"}"),
            "routing_requests_total{type=\"unknown\",code="
            "\"MalformedRequest\"} 1");
  // Every type's successes are there from the start; errors only once seen.
  EXPECT_EQ(Line("routing_requests_total{type=\"Health\",code=\"OK\"}"),
            "routing_requests_total{type=\"Health\",code=\"OK\"} 0");
  EXPECT_EQ(Line("routing_requests_total{type=\"Health\",code=\"Busy\"}"), "");
}

TEST_F(MetricsExpositionTest, LatencyHistogramsAreCumulative) {
  EXPECT_EQ(Line("routing_decision_duration_seconds_bucket{le=\"2.5e-05\"}"),
            "routing_decision_duration_seconds_bucket{le=\"2.5e-05\"} 0");
  EXPECT_EQ(Line("routing_decision_duration_seconds_bucket{le=\"5e-05\"}"),
            "routing_decision_duration_seconds_bucket{le=\"5e-05\"} 1");
  EXPECT_EQ(Line("routing_decision_duration_seconds_bucket{le=\"0.001\"}"),
            "routing_decision_duration_seconds_bucket{le=\"0.001\"} 1");
  EXPECT_EQ(Line("routing_decision_duration_seconds_bucket{le=\"0.0025\"}"),
            "routing_decision_duration_seconds_bucket{le=\"0.0025\"} 2");
  EXPECT_EQ(Line("routing_decision_duration_seconds_bucket{le=\"+Inf\"}"),
            "routing_decision_duration_seconds_bucket{le=\"+Inf\"} 2");
  EXPECT_EQ(Line("routing_decision_duration_seconds_count"),
            "routing_decision_duration_seconds_count 2");
  EXPECT_EQ(Line("routing_decision_duration_seconds_sum"),
            "routing_decision_duration_seconds_sum 0.00203");
  EXPECT_EQ(Line("routing_request_duration_seconds_count"),
            "routing_request_duration_seconds_count 1");
}

TEST_F(MetricsExpositionTest, JournalWritesSyncsAndSyncDurations) {
  // Nothing journaled: the series are there, at zero.
  EXPECT_EQ(Line("routing_journal_records_written_total"),
            "routing_journal_records_written_total 0");
  EXPECT_EQ(Line("routing_journal_sync_duration_seconds_count"),
            "routing_journal_sync_duration_seconds_count 0");
  metrics_.RecordJournalGroup(40, 9000, true, absl::Microseconds(300), true);
  metrics_.RecordJournalGroup(2, 700, true, absl::Microseconds(1700), true);
  metrics_.RecordJournalGroup(5, 1100, false, absl::ZeroDuration(), true);
  metrics_.RecordJournalGroup(7, 1500, true, absl::Microseconds(90), false);
  text_ = RoutingMetricsText(FixtureReadings(), metrics_, AlarmThresholds());
  EXPECT_EQ(Line("routing_journal_records_written_total"),
            "routing_journal_records_written_total 47");
  EXPECT_EQ(Line("routing_journal_bytes_written_total"),
            "routing_journal_bytes_written_total 10800");
  EXPECT_EQ(Line("routing_journal_syncs_total"),
            "routing_journal_syncs_total 2");
  EXPECT_EQ(Line("routing_journal_write_failures_total"),
            "routing_journal_write_failures_total 1");
  EXPECT_EQ(Line("routing_journal_sync_duration_seconds_bucket{le=\"5e-04\"}"),
            "routing_journal_sync_duration_seconds_bucket{le=\"5e-04\"} 1");
  EXPECT_EQ(Line("routing_journal_sync_duration_seconds_bucket{le=\"0.0025\"}"),
            "routing_journal_sync_duration_seconds_bucket{le=\"0.0025\"} 2");
  EXPECT_EQ(Line("routing_journal_sync_duration_seconds_sum"),
            "routing_journal_sync_duration_seconds_sum 0.002");
}

TEST_F(MetricsExpositionTest, AnswerWaitHistogramPerQueue) {
  const std::string b =
      "routing_queue_answer_wait_seconds_bucket{queue=\"billing\",";
  EXPECT_EQ(Line(b + "le=\"5\"}"), b + "le=\"5\"} 3");
  EXPECT_EQ(Line(b + "le=\"15\"}"), b + "le=\"15\"} 3");
  EXPECT_EQ(Line(b + "le=\"20\"}"), b + "le=\"20\"} 4");
  EXPECT_EQ(Line(b + "le=\"600\"}"), b + "le=\"600\"} 4");
  EXPECT_EQ(Line(b + "le=\"+Inf\"}"), b + "le=\"+Inf\"} 5");
  EXPECT_EQ(Line("routing_queue_answer_wait_seconds_sum{queue=\"billing\"}"),
            "routing_queue_answer_wait_seconds_sum{queue=\"billing\"} 700");
  EXPECT_EQ(Line("routing_queue_answer_wait_seconds_count{queue=\"billing\"}"),
            "routing_queue_answer_wait_seconds_count{queue=\"billing\"} 5");
}

TEST_F(MetricsExpositionTest, QueueGaugesWindowsKpisAndEscapedNames) {
  EXPECT_EQ(Line("routing_queue_waiting_contacts{queue=\"sales \\\"vip\\\"\"}"),
            "routing_queue_waiting_contacts{queue=\"sales \\\"vip\\\"\"} 1");
  EXPECT_EQ(Line("routing_queue_oldest_wait_seconds{queue=\"billing\"}"),
            "routing_queue_oldest_wait_seconds{queue=\"billing\"} 95");
  EXPECT_EQ(Line("routing_queue_service_level_ratio{queue=\"billing\","
                 "window=\"15m\"}"),
            "routing_queue_service_level_ratio{queue=\"billing\","
            "window=\"15m\"} 0.9");
  EXPECT_EQ(Line("routing_queue_average_speed_of_answer_seconds{queue="
                 "\"billing\",window=\"60m\"}"),
            "routing_queue_average_speed_of_answer_seconds{queue="
            "\"billing\",window=\"60m\"} 12");
  EXPECT_EQ(Line("routing_queue_first_contact_resolution_ratio{queue="
                 "\"billing\"}"),
            "routing_queue_first_contact_resolution_ratio{queue="
            "\"billing\"} 0.5");
  EXPECT_EQ(
      Line("routing_queue_average_handle_time_seconds{queue=\"billing\"}"),
      "routing_queue_average_handle_time_seconds{queue=\"billing\"} 100");
  EXPECT_EQ(Line("routing_queue_csat_average{queue=\"billing\"}"),
            "routing_queue_csat_average{queue=\"billing\"} 4.5");
  EXPECT_EQ(Line("routing_queue_nps{queue=\"billing\"}"),
            "routing_queue_nps{queue=\"billing\"} 100");
  EXPECT_EQ(Line("routing_queue_agents{queue=\"billing\",state=\"busy\"}"),
            "routing_queue_agents{queue=\"billing\",state=\"busy\"} 1");
}

TEST_F(MetricsExpositionTest, AlarmsByReason) {
  EXPECT_EQ(Line("routing_queue_alarm{queue=\"billing\",reason="
                 "\"oldest_wait\"}"),
            "routing_queue_alarm{queue=\"billing\",reason=\"oldest_wait\"} 1");
  EXPECT_EQ(
      Line("routing_queue_alarm{queue=\"billing\",reason="
           "\"service_level\"}"),
      "routing_queue_alarm{queue=\"billing\",reason=\"service_level\"} 0");
  EXPECT_EQ(Line("routing_queue_alarm{queue=\"sales \\\"vip\\\"\",reason="
                 "\"service_level\"}"),
            "routing_queue_alarm{queue=\"sales \\\"vip\\\"\",reason="
            "\"service_level\"} 1");
}

TEST_F(MetricsExpositionTest, AgentsByStateAndChannelWithoutAgentIds) {
  EXPECT_EQ(Line("routing_agents{state=\"available\"}"),
            "routing_agents{state=\"available\"} 2");
  EXPECT_EQ(
      Line("routing_agents_by_channel{state=\"available\",channel="
           "\"chat\"}"),
      "routing_agents_by_channel{state=\"available\",channel=\"chat\"} 1");
  EXPECT_EQ(Line("routing_agents_by_channel{state=\"available\",channel="
                 "\"email\"}"),
            "routing_agents_by_channel{state=\"available\",channel=\"email\"} "
            "1");
  EXPECT_EQ(Line("routing_agents_by_channel{state=\"busy\",channel=\"chat\"}"),
            "routing_agents_by_channel{state=\"busy\",channel=\"chat\"} 1");
  EXPECT_EQ(Line("routing_agent_contacts{channel=\"email\"}"),
            "routing_agent_contacts{channel=\"email\"} 2");
  // Bounded labels only: no agent or contact id anywhere.
  for (const char* id : {kSecretAgentId, "alice", "chat-7", "chat-1"}) {
    EXPECT_FALSE(absl::StrContains(text_, id)) << id;
  }
}

TEST_F(MetricsExpositionTest, RulesHealth) {
  EXPECT_EQ(Line("routing_rules_version"), "routing_rules_version 3");
  EXPECT_EQ(Line("routing_rules_suspended"), "routing_rules_suspended 1");
  EXPECT_EQ(Line("routing_rules_fallbacks_total"),
            "routing_rules_fallbacks_total 2");
  EXPECT_EQ(Line("routing_rules_failures_total"),
            "routing_rules_failures_total 21");
}

TEST_F(MetricsExpositionTest, EveryFamilyOnceWithHelpAndTypeBeforeItsSamples) {
  std::set<std::string> seen;
  std::string current;
  for (absl::string_view line :
       absl::StrSplit(text_, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "# HELP ")) {
      std::string name(line.substr(7, line.find(' ', 7) - 7));
      EXPECT_TRUE(seen.insert(name).second) << "family twice: " << name;
      EXPECT_TRUE(absl::StartsWith(name, "routing_")) << name;
      current = name;
      continue;
    }
    if (absl::StartsWith(line, "# TYPE ")) {
      EXPECT_TRUE(absl::StartsWith(line.substr(7), current + " ")) << line;
      std::string type(line.substr(line.rfind(' ') + 1));
      if (type == "counter") {
        EXPECT_TRUE(absl::EndsWith(current, "_total")) << current;
      } else {
        EXPECT_FALSE(absl::EndsWith(current, "_total")) << current;
      }
      continue;
    }
    EXPECT_TRUE(absl::StartsWith(line, current))
        << line << " outside " << current;
  }
}

}  // namespace
}  // namespace routing::sidecar::http
