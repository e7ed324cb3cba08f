#include "sidecar/http/supervisor_snapshot.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/sidecar/http/ops_fixture.h"

namespace routing::sidecar::http {
namespace {

using nlohmann::json;

class SupervisorSnapshotTest : public ::testing::Test {
 protected:
  SupervisorSnapshotTest() : metrics_(FixtureNow() - absl::Hours(1)) {
    RecordFixtureMetrics(metrics_);
    // Through text and back: what the page parses.
    snapshot_ = json::parse(
        SupervisorSnapshot(FixtureReadings(), FixtureWaiting(), metrics_,
                           AlarmThresholds(), SnapshotOptions())
            .dump());
  }
  const json& QueueNamed(const std::string& name) const {
    for (const json& q : snapshot_["queues"]) {
      if (q["name"] == name) return q;
    }
    ADD_FAILURE() << "no queue " << name;
    return snapshot_;
  }
  SidecarMetrics metrics_;
  json snapshot_;
};

TEST_F(SupervisorSnapshotTest, TotalsRulesAndThresholds) {
  EXPECT_EQ(snapshot_["generated_at_unix_ms"], 1'796'205'600'000);
  EXPECT_DOUBLE_EQ(snapshot_["uptime_s"].get<double>(), 3600);
  EXPECT_EQ(snapshot_["totals"]["decisions"], 7);
  EXPECT_EQ(snapshot_["totals"]["assigned_from_queue"], 1);
  EXPECT_EQ(snapshot_["totals"]["requeues"], 1);
  EXPECT_EQ(snapshot_["rules"]["version"], 3);
  EXPECT_EQ(snapshot_["rules"]["suspended"], true);
  EXPECT_EQ(snapshot_["rules"]["last_error"], "/srv/rules/vip.lua:3: boom");
  EXPECT_EQ(snapshot_["rules"]["fallbacks"], 2);
  EXPECT_DOUBLE_EQ(snapshot_["thresholds"]["service_level"].get<double>(), 0.8);
  EXPECT_DOUBLE_EQ(snapshot_["thresholds"]["oldest_wait_s"].get<double>(), 60);
}

TEST_F(SupervisorSnapshotTest, QueuesWithWaitingContactsWindowsAndAlarms) {
  const json& billing = QueueNamed("billing");
  EXPECT_EQ(billing["waiting"], 2);
  EXPECT_DOUBLE_EQ(billing["oldest_wait_s"].get<double>(), 95);
  ASSERT_EQ(billing["contacts"].size(), 2u);
  EXPECT_EQ(billing["contacts"][0], json({{"id", "chat-7"},
                                          {"channel", "chat"},
                                          {"wait_s", 95.0},
                                          {"priority", 5},
                                          {"rules_step", 1},
                                          {"position", 1}}));
  EXPECT_EQ(billing["contacts"][1]["id"], "call-9");
  EXPECT_EQ(billing["contacts"][1]["channel"], "voice");
  ASSERT_EQ(billing["windows"].size(), 3u);
  EXPECT_EQ(billing["windows"][0]["minutes"], 5);
  EXPECT_EQ(billing["windows"][2]["minutes"], 60);
  EXPECT_DOUBLE_EQ(billing["windows"][1]["asa_s"].get<double>(), 12);
  EXPECT_EQ(billing["agents_by_state"]["busy"], 1);
  EXPECT_EQ(billing["agents_by_state"]["logged_out"], 0);
  EXPECT_DOUBLE_EQ(billing["kpis"]["fcr"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(billing["kpis"]["aht_s"].get<double>(), 100);
  EXPECT_DOUBLE_EQ(billing["kpis"]["csat"].get<double>(), 4.5);
  EXPECT_EQ(billing["alarm"],
            json({{"active", true}, {"reasons", {"oldest_wait"}}}));

  // Names from clients arrive as data, quotes and markup included.
  const json& sales = QueueNamed("sales \"vip\"");
  EXPECT_EQ(sales["alarm"],
            json({{"active", true}, {"reasons", {"service_level"}}}));
  ASSERT_EQ(sales["contacts"].size(), 1u);
  EXPECT_EQ(sales["contacts"][0]["id"], "<b>mail</b>");
  EXPECT_EQ(sales["contacts"][0]["channel"], "email");
}

TEST_F(SupervisorSnapshotTest, AgentsWithTimeInStateLoadAndKpis) {
  ASSERT_EQ(snapshot_["agents"].size(), 3u);
  EXPECT_EQ(snapshot_["agents_total"], 3);
  const json& alice = snapshot_["agents"][0];
  EXPECT_EQ(alice["id"], "alice");
  EXPECT_EQ(alice["state"], "available");
  EXPECT_DOUBLE_EQ(alice["time_in_state_s"].get<double>(), 42);
  EXPECT_EQ(alice["load"], json({{"chat", 1}}));
  EXPECT_EQ(alice["capacity"], json({{"voice", 1}, {"chat", 2}}));
  EXPECT_DOUBLE_EQ(alice["occupancy"].get<double>(), 0.75);
  EXPECT_EQ(alice["kpis"]["released"], 3);
  EXPECT_DOUBLE_EQ(alice["kpis"]["fcr"].get<double>(), 1);
  EXPECT_EQ(snapshot_["agents"][1]["state"], "busy");
  EXPECT_DOUBLE_EQ(snapshot_["agents"][1]["time_in_state_s"].get<double>(),
                   180);
}

TEST_F(SupervisorSnapshotTest, AgentsBeyondTheLimitAreCountedNotListed) {
  SnapshotOptions options;
  options.max_agents = 1;
  const json limited = SupervisorSnapshot(FixtureReadings(), {}, metrics_,
                                          AlarmThresholds(), options);
  EXPECT_EQ(limited["agents"].size(), 1u);
  EXPECT_EQ(limited["agents_total"], 3);
  EXPECT_EQ(limited["queues"][0]["contacts"].size(), 0u);
}

TEST_F(SupervisorSnapshotTest, RecentDecisionsNewestFirstWithExplanations) {
  const json& decisions = snapshot_["recent_decisions"];
  ASSERT_EQ(decisions.size(), 3u);
  EXPECT_EQ(decisions[0]["kind"], "from_queue");
  EXPECT_EQ(decisions[0]["contact_id"], "chat-3");
  EXPECT_EQ(decisions[0]["agent_id"], "bruno");
  EXPECT_DOUBLE_EQ(decisions[0]["waited_s"].get<double>(), 25);
  EXPECT_EQ(decisions[1]["kind"], "requeued");
  EXPECT_EQ(decisions[1]["outcome"], "queued");
  EXPECT_EQ(decisions[1]["position"], 1);
  EXPECT_EQ(decisions[2]["kind"], "routed");
  EXPECT_EQ(decisions[2]["outcome"], "assigned");
  EXPECT_DOUBLE_EQ(decisions[2]["score"].get<double>(), 0.875);
  EXPECT_EQ(decisions[2]["at_unix_ms"], 1'796'205'590'000);
  EXPECT_NE(decisions[2]["explanation"].get<std::string>().find("chat-1"),
            std::string::npos)
      << decisions[2]["explanation"];
  EXPECT_EQ(snapshot_["decisions_dropped"], 0);
}

}  // namespace
}  // namespace routing::sidecar::http
