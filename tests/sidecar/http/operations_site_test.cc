// The operations site in process, over a real Router (runs under the
// sanitizers, unlike the end-to-end tests with Prometheus and Chromium):
// every route answers, the stream sends snapshots, Stop ends it.
#include "sidecar/http/operations_site.h"


#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/sidecar/http/http_test_client.h"
#include "nlohmann/json.hpp"
#include "sidecar/http/prometheus_text.h"

namespace routing::sidecar::http {
namespace {

using ::routing::sidecar::http::test_client::Body;
using ::routing::sidecar::http::test_client::Exchange;
using ::routing::sidecar::http::test_client::Get;

class OperationsSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RouterOptions options;
    router_ = *Router::Create(options);
    rules_ =
        std::make_unique<RulesInForce>(router_.get(), rules::RulesOptions());
    AgentProfile alice;
    alice.id = "alice";
    alice.skills = {{"billing", 5}};
    alice.SetCapacity(Channel::kChat, 1);
    ASSERT_TRUE(router_->AddAgent(alice).ok());
    ASSERT_TRUE(router_->SetAgentState("alice", AgentState::kAvailable).ok());
    for (const char* id : {"chat-1", "chat-2"}) {
      Contact contact;
      contact.id = id;
      contact.channel = Channel::kChat;
      contact.required_skills = {{"billing", 1}};
      absl::StatusOr<RoutingDecision> d = router_->Route(contact);
      ASSERT_TRUE(d.ok()) << d.status();
      metrics_.RecordRoutingDecision(*d, false, absl::Microseconds(4));
    }
    OperationsSiteOptions site_options;
    site_options.server.address = *ParseHttpAddress("127.0.0.1:0");
    site_options.thresholds.oldest_wait = absl::Milliseconds(1);
    site_options.event_interval = absl::Milliseconds(100);
    absl::StatusOr<std::unique_ptr<OperationsSite>> site =
        OperationsSite::Start(router_.get(), rules_.get(), &metrics_,
                              site_options);
    ASSERT_TRUE(site.ok()) << site.status();
    site_ = *std::move(site);
    absl::SleepFor(absl::Milliseconds(5));  // chat-2 past the 1 ms alarm.
  }

  SidecarMetrics metrics_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<RulesInForce> rules_;
  std::unique_ptr<OperationsSite> site_;
};

TEST_F(OperationsSiteTest, MetricsFromTheLiveRouter) {
  const std::string response = Get(site_->port(), "/metrics");
  ASSERT_TRUE(absl::StartsWith(response, "HTTP/1.1 200")) << response;
  EXPECT_TRUE(absl::StrContains(
      response, absl::StrCat("Content-Type: ", kPrometheusContentType)));
  const std::string text = Body(response);
  EXPECT_TRUE(absl::StrContains(
      text, "routing_decisions_total{outcome=\"assigned\"} 1\n"));
  EXPECT_TRUE(absl::StrContains(
      text, "routing_decisions_total{outcome=\"queued\"} 1\n"));
  EXPECT_TRUE(absl::StrContains(
      text, "routing_queue_waiting_contacts{queue=\"billing\"} 1\n"));
  EXPECT_TRUE(absl::StrContains(
      text,
      "routing_queue_alarm{queue=\"billing\",reason=\"oldest_wait\"} 1\n"));
  EXPECT_TRUE(
      absl::StrContains(text, "routing_decision_duration_seconds_count 2\n"));
}

TEST_F(OperationsSiteTest, SnapshotListsWaitingContactsAgentsAndDecisions) {
  const std::string response = Get(site_->port(), "/api/snapshot");
  ASSERT_TRUE(absl::StartsWith(response, "HTTP/1.1 200")) << response;
  const nlohmann::json snapshot = nlohmann::json::parse(Body(response));
  ASSERT_EQ(snapshot["queues"].size(), 1u);
  const nlohmann::json& billing = snapshot["queues"][0];
  EXPECT_EQ(billing["name"], "billing");
  ASSERT_EQ(billing["contacts"].size(), 1u);
  EXPECT_EQ(billing["contacts"][0]["id"], "chat-2");
  EXPECT_EQ(billing["contacts"][0]["position"], 1);
  EXPECT_EQ(billing["alarm"]["active"], true);
  ASSERT_EQ(snapshot["agents"].size(), 1u);
  EXPECT_EQ(snapshot["agents"][0]["load"]["chat"], 1);
  EXPECT_EQ(snapshot["recent_decisions"].size(), 2u);
  EXPECT_EQ(snapshot["recent_decisions"][0]["contact_id"], "chat-2");
}

TEST_F(OperationsSiteTest, PageIsSelfContainedHtml) {
  const std::string response = Get(site_->port(), "/");
  ASSERT_TRUE(absl::StartsWith(response, "HTTP/1.1 200")) << response;
  EXPECT_TRUE(absl::StrContains(response, "Content-Type: text/html"));
  EXPECT_TRUE(absl::StrContains(response,
                                "Content-Security-Policy: default-src 'none'"));
  const std::string page = Body(response);
  EXPECT_TRUE(absl::StrContains(page, "<!doctype html>"));
  EXPECT_TRUE(absl::StrContains(page, "new EventSource("));
  EXPECT_FALSE(absl::StrContains(page, "http://"));
  EXPECT_FALSE(absl::StrContains(page, "https://"));
  EXPECT_TRUE(absl::EndsWith(page, "</html>\n"))
      << page.substr(page.size() - 40);
}

TEST_F(OperationsSiteTest, EventsStreamSnapshotsUntilStop) {
  const std::string stream =
      Exchange(site_->port(), "GET /events HTTP/1.1\r\nHost: x\r\n\r\n",
               "\n\nevent: snapshot\ndata: ");  // The second one begins.
  ASSERT_TRUE(absl::StartsWith(stream, "HTTP/1.1 200")) << stream;
  EXPECT_TRUE(absl::StrContains(stream, "Content-Type: text/event-stream"));
  const std::string body = Body(stream);
  ASSERT_TRUE(absl::StartsWith(body, "retry: 2000\n\nevent: snapshot\ndata: "))
      << body;
  const size_t start = body.find("data: ") + 6;
  const nlohmann::json first =
      nlohmann::json::parse(body.substr(start, body.find('\n', start) - start));
  EXPECT_EQ(first["totals"]["decisions"], 2);
  site_->Stop();
  EXPECT_EQ(Get(site_->port(), "/metrics"), "");  // Closed.
}

}  // namespace
}  // namespace routing::sidecar::http
