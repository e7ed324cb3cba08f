#include "sidecar/request_handler.h"

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "flatbuffers/flatbuffers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "routing/router.h"
#include "sidecar/wire_encoder.h"

namespace routing::sidecar {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct PublishedEvent {
  std::string topic;
  std::vector<uint8_t> bytes;
  const wire::Event* get() const {
    return flatbuffers::GetRoot<wire::Event>(bytes.data());
  }
};

class RecordingSink : public EventSink {
 public:
  void Publish(const std::vector<std::string>& topics, const uint8_t* data,
               size_t size) override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const std::string& topic : topics) {
      flatbuffers::Verifier verifier(data, size);
      EXPECT_TRUE(verifier.VerifyBuffer<wire::Event>(kFileIdentifier));
      events_.push_back({topic, std::vector<uint8_t>(data, data + size)});
    }
  }
  std::vector<PublishedEvent> events() {
    std::lock_guard<std::mutex> lock(mutex_);
    return events_;
  }

 private:
  std::mutex mutex_;
  std::vector<PublishedEvent> events_;
};

class HandlerFixture : public ::testing::Test {
 protected:
  HandlerFixture() : publisher_(&metrics_, absl::Seconds(20)) {
    RouterOptions options;
    options.listener = &publisher_;
    options.max_agents = 1000;
    options.max_contacts = 10000;
    router_ = Router::Create(options).value();
    handler_ = std::make_unique<RequestHandler>(router_.get(), &metrics_,
                                                RequestHandlerOptions{});
  }

  // Sends a request finished in `fbb` and returns the verified reply.
  const wire::Reply* Send(flatbuffers::FlatBufferBuilder& fbb) {
    std::vector<uint8_t> request(fbb.GetBufferPointer(),
                                 fbb.GetBufferPointer() + fbb.GetSize());
    handler_->Handle(request.data(), request.size(), reply_);
    flatbuffers::Verifier verifier(reply_.GetBufferPointer(), reply_.GetSize());
    EXPECT_TRUE(verifier.VerifyBuffer<wire::Reply>(kFileIdentifier));
    return flatbuffers::GetRoot<wire::Reply>(reply_.GetBufferPointer());
  }

  const wire::Reply* AddAgent(const std::string& id, int chat_capacity) {
    AgentProfile agent;
    agent.id = id;
    agent.skills = {{"billing", 4}};
    agent.languages = {{"en", 5}};
    agent.SetCapacity(Channel::kChat, chat_capacity);
    flatbuffers::FlatBufferBuilder fbb;
    auto a = BuildAgentProfile(fbb, agent);
    FinishRequest(fbb, ++id_, wire::RequestBody::AddAgent,
                  wire::CreateAddAgent(fbb, a).Union());
    return Send(fbb);
  }

  const wire::Reply* SetState(const std::string& id, AgentState state) {
    flatbuffers::FlatBufferBuilder fbb;
    auto s = wire::CreateSetAgentState(
        fbb, fbb.CreateString(id), static_cast<wire::AgentStateKind>(state));
    FinishRequest(fbb, ++id_, wire::RequestBody::SetAgentState, s.Union());
    return Send(fbb);
  }

  const wire::Reply* Route(const std::string& id,
                           const HandoffContext* handoff) {
    Contact contact;
    contact.id = id;
    contact.channel = Channel::kChat;
    contact.required_skills = {{"billing", 2}};
    flatbuffers::FlatBufferBuilder fbb;
    auto c = BuildContact(fbb, contact, handoff);
    FinishRequest(fbb, ++id_, wire::RequestBody::RouteContact,
                  wire::CreateRouteContact(fbb, c).Union());
    return Send(fbb);
  }

  const wire::Reply* Release(const std::string& id) {
    flatbuffers::FlatBufferBuilder fbb;
    auto r = wire::CreateReleaseContact(fbb, fbb.CreateString(id),
                                        wire::Outcome::Resolved);
    FinishRequest(fbb, ++id_, wire::RequestBody::ReleaseContact, r.Union());
    return Send(fbb);
  }

  SidecarMetrics metrics_;
  AssignmentPublisher publisher_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<RequestHandler> handler_;
  flatbuffers::FlatBufferBuilder reply_;
  RecordingSink sink_;
  uint64_t id_ = 0;
};

TEST_F(HandlerFixture, RoutesQueuesAndPublishesTheLaterAssignmentWithContext) {
  ScopedEventSink scoped(&sink_);
  EXPECT_EQ(AddAgent("alice", 1)->body_type(), wire::ReplyBody::Ack);
  EXPECT_EQ(SetState("alice", AgentState::kAvailable)->body_type(),
            wire::ReplyBody::Ack);

  const wire::Reply* first = Route("chat-1", nullptr);
  EXPECT_EQ(first->request_id(), id_);
  ASSERT_EQ(first->body_type(), wire::ReplyBody::Decision);
  EXPECT_EQ(first->body_as_Decision()->outcome(),
            wire::DecisionOutcome::Assigned);
  EXPECT_EQ(first->body_as_Decision()->agent_id()->str(), "alice");

  HandoffContext handoff;
  handoff.intent = "billing.dispute";
  handoff.summary = "charged twice";
  handoff.attributes["order"] = "A-17";
  const wire::Reply* second = Route("chat-2", &handoff);
  ASSERT_EQ(second->body_type(), wire::ReplyBody::Decision);
  EXPECT_EQ(second->body_as_Decision()->outcome(),
            wire::DecisionOutcome::Queued);
  EXPECT_EQ(second->body_as_Decision()->queue_position(), 1);

  EXPECT_EQ(Release("chat-1")->body_type(), wire::ReplyBody::Ack);
  std::vector<PublishedEvent> events = sink_.events();
  std::vector<std::string> topics;
  for (const auto& e : events) topics.push_back(e.topic);
  EXPECT_THAT(topics, ElementsAre("agent/alice", "contact/chat-2",
                                  "queue/billing", "agent/alice"));
  const wire::ContactAssigned* assigned =
      events[1].get()->body_as_ContactAssigned();
  ASSERT_NE(assigned, nullptr);
  EXPECT_EQ(assigned->agent_id()->str(), "alice");
  EXPECT_EQ(assigned->context()->intent()->str(), "billing.dispute");
  EXPECT_EQ(assigned->context()->summary()->str(), "charged twice");
  ASSERT_EQ(assigned->context()->attributes()->size(), 1u);
  EXPECT_EQ(assigned->context()->attributes()->Get(0)->value()->str(), "A-17");
  EXPECT_GT(events[1].get()->sequence(), events[0].get()->sequence());
}

TEST_F(HandlerFixture, EngineErrorsComeBackAsErrorRepliesNamingTheValue) {
  const wire::Reply* reply = Release("nobody");
  ASSERT_EQ(reply->body_type(), wire::ReplyBody::Error);
  EXPECT_EQ(reply->body_as_Error()->code(), wire::ErrorCode::NotFound);
  EXPECT_THAT(reply->body_as_Error()->message()->str(), HasSubstr("nobody"));
  AddAgent("alice", 1);
  reply = AddAgent("alice", 1);
  EXPECT_EQ(reply->body_as_Error()->code(), wire::ErrorCode::AlreadyExists);
  reply = SetState("alice", static_cast<AgentState>(99));
  EXPECT_EQ(reply->body_as_Error()->code(), wire::ErrorCode::InvalidArgument);
  EXPECT_THAT(reply->body_as_Error()->message()->str(), HasSubstr("state 99"));
}

TEST_F(HandlerFixture, MalformedBytesGetAnErrorReplyAndAreCounted) {
  const std::string junk = "definitely not a flatbuffer, just text";
  handler_->Handle(reinterpret_cast<const uint8_t*>(junk.data()), junk.size(),
                   reply_);
  const auto* reply =
      flatbuffers::GetRoot<wire::Reply>(reply_.GetBufferPointer());
  ASSERT_EQ(reply->body_type(), wire::ReplyBody::Error);
  EXPECT_EQ(reply->body_as_Error()->code(), wire::ErrorCode::MalformedRequest);
  EXPECT_EQ(metrics_.malformed_requests.load(), 1u);
}

TEST_F(HandlerFixture, StatsReportQueuesSkillsServiceLevelAndLatency) {
  AddAgent("alice", 1);
  AddAgent("bob", 1);
  SetState("alice", AgentState::kAvailable);
  Route("chat-1", nullptr);
  Route("chat-2", nullptr);
  flatbuffers::FlatBufferBuilder fbb;
  FinishRequest(fbb, 77, wire::RequestBody::GetStats,
                wire::CreateGetStats(fbb, 60).Union());
  const wire::Reply* reply = Send(fbb);
  ASSERT_EQ(reply->body_type(), wire::ReplyBody::Stats);
  const wire::Stats* stats = reply->body_as_Stats();
  EXPECT_EQ(stats->decisions(), 2);
  EXPECT_EQ(stats->queued(), 1);
  EXPECT_EQ(stats->agents(), 2);
  ASSERT_EQ(stats->queues()->size(), 1u);
  EXPECT_EQ(stats->queues()->Get(0)->waiting(), 1);
  ASSERT_EQ(stats->agents_by_skill()->size(), 1u);
  EXPECT_EQ(stats->agents_by_skill()->Get(0)->available(), 1);
  EXPECT_EQ(stats->agents_by_skill()->Get(0)->logged_out(), 1);
  EXPECT_EQ(stats->answered_in_window(), 1);
  EXPECT_DOUBLE_EQ(stats->service_level_in_window(), 1.0);
  EXPECT_GT(stats->decisions_per_second(), 0);
  EXPECT_GT(stats->latency_p50_us(), 0);
  EXPECT_GE(stats->latency_max_us(), stats->latency_p99_us());

  flatbuffers::FlatBufferBuilder bad;
  FinishRequest(bad, 78, wire::RequestBody::GetStats,
                wire::CreateGetStats(bad, 100000).Union());
  EXPECT_THAT(Send(bad)->body_as_Error()->message()->str(),
              HasSubstr("window_seconds 100000"));
}

// The rules engine is linked later; until then reloads are refused plainly.
TEST_F(HandlerFixture, ReloadRulesFromSourceAnswersVersionOrProblems) {
  flatbuffers::FlatBufferBuilder fbb;
  FinishRequest(
      fbb, 5, wire::RequestBody::ReloadRules,
      wire::CreateReloadRules(
          fbb, 0, fbb.CreateString("return { weights = { idle = 1 } }"))
          .Union());
  const wire::Reply* reply = Send(fbb);
  ASSERT_EQ(reply->body_type(), wire::ReplyBody::RulesReloaded);
  EXPECT_TRUE(reply->body_as_RulesReloaded()->accepted());
  EXPECT_EQ(reply->body_as_RulesReloaded()->version(), 1u);

  flatbuffers::FlatBufferBuilder bad;
  FinishRequest(
      bad, 6, wire::RequestBody::ReloadRules,
      wire::CreateReloadRules(bad, 0, bad.CreateString("return {\n x = y }"))
          .Union());
  reply = Send(bad);
  ASSERT_EQ(reply->body_type(), wire::ReplyBody::RulesReloaded);
  EXPECT_FALSE(reply->body_as_RulesReloaded()->accepted());
  EXPECT_EQ(reply->body_as_RulesReloaded()->version(), 1u);
  EXPECT_THAT(reply->body_as_RulesReloaded()->problems()->Get(0)->str(),
              HasSubstr("request.lua:2: unknown global 'y'"));
}

TEST(LatencyHistogramTest, QuantilesAreWithinBucketPrecision) {
  LatencyHistogram histogram;
  for (uint64_t v = 1; v <= 10000; ++v) histogram.Record(v * 1000);
  EXPECT_NEAR(histogram.Quantile(0.5), 5'000'000, 5'000'000 * 0.04);
  EXPECT_NEAR(histogram.Quantile(0.99), 9'900'000, 9'900'000 * 0.04);
  EXPECT_EQ(histogram.Max(), 10'000'000u);
  EXPECT_EQ(histogram.Count(), 10000u);
}

TEST(SidecarMetricsTest, WindowCountsOnlyItsSeconds) {
  const absl::Time start = absl::FromUnixSeconds(1'000'000);
  SidecarMetrics metrics(start);
  metrics.RecordDecision(start);
  metrics.RecordAnswered(start + absl::Seconds(5), true);
  metrics.RecordAnswered(start + absl::Seconds(6), false);
  metrics.RecordAbandoned(start + absl::Seconds(7));
  SidecarMetrics::Window all =
      metrics.WindowAt(start + absl::Seconds(7), absl::Seconds(60));
  EXPECT_EQ(all.decisions, 1);
  EXPECT_EQ(all.answered, 2);
  EXPECT_EQ(all.answered_in_service_level, 1);
  EXPECT_EQ(all.abandoned, 1);
  SidecarMetrics::Window recent =
      metrics.WindowAt(start + absl::Seconds(7), absl::Seconds(2));
  EXPECT_EQ(recent.decisions, 0);
  EXPECT_EQ(recent.answered, 1);
  // An hour later the same slots hold nothing of the old seconds.
  SidecarMetrics::Window later = metrics.WindowAt(
      start + absl::Seconds(7) + absl::Hours(1), absl::Seconds(60));
  EXPECT_EQ(later.answered, 0);
}

}  // namespace
}  // namespace routing::sidecar
