// Reservations over the protocol: AcceptOffer and RejectOffer, offered
// decisions and contacts, and the events they raise.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "flatbuffers/flatbuffers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "routing/clock.h"
#include "routing/router.h"
#include "sidecar/event_publisher.h"
#include "sidecar/request_handler.h"
#include "sidecar/wire_encoder.h"

namespace routing::sidecar {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kOffer = absl::Seconds(20);

class TopicLog : public EventSink {
 public:
  void Publish(const std::vector<std::string>& topics, const uint8_t* data,
               size_t size) override {
    std::lock_guard<std::mutex> lock(mutex_);
    const wire::Event* event = flatbuffers::GetRoot<wire::Event>(data);
    for (const std::string& topic : topics) {
      std::string line = topic.substr(0, topic.size() - 1) + " ";
      if (const wire::ContactAssigned* a = event->body_as_ContactAssigned()) {
        line += std::string(a->offered() ? "offered " : "assigned ") +
                a->agent_id()->str();
      } else if (const wire::ContactChanged* c =
                     event->body_as_ContactChanged()) {
        line += wire::EnumNameContactChange(c->change());
      } else if (const wire::AgentStateChanged* s =
                     event->body_as_AgentStateChanged()) {
        line += std::string(wire::EnumNameAgentStateKind(s->state())) + " " +
                wire::EnumNameAgentStateReason(s->reason());
      }
      lines_.push_back(line);
    }
  }
  std::vector<std::string> Take() {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::exchange(lines_, {});
  }
  // The lines about one topic.
  static std::vector<std::string> On(const std::vector<std::string>& lines,
                                     const std::string& topic) {
    std::vector<std::string> on;
    for (const std::string& l : lines) {
      if (l.rfind(topic + " ", 0) == 0) on.push_back(l.substr(topic.size() + 1));
    }
    return on;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

class RequestHandlerOffersTest : public ::testing::Test {
 protected:
  RequestHandlerOffersTest()
      : clock_(absl::FromUnixSeconds(1'800'000'000)),
        publisher_(&metrics_, absl::Seconds(20), &clock_, 7),
        sink_(&log_) {
    RouterOptions options;
    options.clock = &clock_;
    options.listener = &publisher_;
    options.offer_timeout[ChannelIndex(Channel::kChat)] = kOffer;
    router_ = Router::Create(options).value();
    RequestHandlerOptions handler_options;
    handler_options.clock = &clock_;
    handler_options.run_id = 7;
    handler_ = std::make_unique<RequestHandler>(router_.get(), &metrics_,
                                                handler_options);
  }

  const wire::Reply* Send(flatbuffers::FlatBufferBuilder& fbb) {
    std::vector<uint8_t> request(fbb.GetBufferPointer(),
                                 fbb.GetBufferPointer() + fbb.GetSize());
    handler_->Handle(request.data(), request.size(), reply_);
    flatbuffers::Verifier verifier(reply_.GetBufferPointer(), reply_.GetSize());
    EXPECT_TRUE(verifier.VerifyBuffer<wire::Reply>(kFileIdentifier));
    return flatbuffers::GetRoot<wire::Reply>(reply_.GetBufferPointer());
  }
  void AddChatAgent(const std::string& id, AgentState state) {
    AgentProfile agent;
    agent.id = id;
    agent.skills = {{"billing", 4}};
    agent.languages = {{"en", 5}};
    agent.SetCapacity(Channel::kChat, 1);
    ASSERT_TRUE(router_->AddAgent(agent).ok());
    ASSERT_TRUE(router_->SetAgentState(id, state).ok());
  }
  const wire::Reply* Route(const std::string& id) {
    Contact contact;
    contact.id = id;
    contact.channel = Channel::kChat;
    contact.required_skills = {{"billing", 2}};
    flatbuffers::FlatBufferBuilder fbb;
    auto c = BuildContact(fbb, contact, nullptr);
    FinishRequest(fbb, ++id_, wire::RequestBody::RouteContact,
                  wire::CreateRouteContact(fbb, c).Union());
    return Send(fbb);
  }
  const wire::Reply* Accept(const std::string& contact,
                            const std::string& agent) {
    flatbuffers::FlatBufferBuilder fbb;
    auto body = wire::CreateAcceptOfferDirect(fbb, contact.c_str(),
                                              agent.c_str());
    FinishRequest(fbb, ++id_, wire::RequestBody::AcceptOffer, body.Union());
    return Send(fbb);
  }
  const wire::Reply* Reject(const std::string& contact,
                            const std::string& agent) {
    flatbuffers::FlatBufferBuilder fbb;
    auto body = wire::CreateRejectOfferDirect(fbb, contact.c_str(),
                                              agent.c_str());
    FinishRequest(fbb, ++id_, wire::RequestBody::RejectOffer, body.Union());
    return Send(fbb);
  }
  const wire::ContactInfo* Info(const std::string& contact) {
    flatbuffers::FlatBufferBuilder fbb;
    auto body = wire::CreateGetContactDirect(fbb, contact.c_str());
    FinishRequest(fbb, ++id_, wire::RequestBody::GetContact, body.Union());
    return Send(fbb)->body_as_ContactInfo();
  }

  ManualClock clock_;
  SidecarMetrics metrics_;
  AssignmentPublisher publisher_;
  TopicLog log_;
  ScopedEventSink sink_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<RequestHandler> handler_;
  flatbuffers::FlatBufferBuilder reply_;
  uint64_t id_ = 0;
};

TEST_F(RequestHandlerOffersTest, AnOfferIsDecidedAcceptedAndAnnounced) {
  AddChatAgent("ann", AgentState::kAvailable);
  const wire::Decision* d = Route("chat-1")->body_as_Decision();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->outcome(), wire::DecisionOutcome::Assigned);
  EXPECT_TRUE(d->offered());
  EXPECT_EQ(d->offer_expires_at_unix_ms(),
            absl::ToUnixMillis(clock_.Now() + kOffer));
  const wire::ContactInfo* info = Info("chat-1");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->state(), wire::ContactStateKind::Offered);
  EXPECT_EQ(info->agent_id()->str(), "ann");
  EXPECT_EQ(info->offer_expires_at_unix_ms(),
            absl::ToUnixMillis(clock_.Now() + kOffer));

  const wire::Reply* accepted = Accept("chat-1", "ann");
  EXPECT_EQ(accepted->body_type(), wire::ReplyBody::Ack);
  EXPECT_EQ(Info("chat-1")->state(), wire::ContactStateKind::Assigned);
  std::vector<std::string> lines = log_.Take();
  EXPECT_THAT(TopicLog::On(lines, "contact/chat-1"),
              ::testing::ElementsAre("offered ann", "Accepted"));
  EXPECT_THAT(TopicLog::On(lines, "agent/ann"),
              ::testing::ElementsAre("offered ann", "Accepted"));
}

TEST_F(RequestHandlerOffersTest, ARejectedOfferIsBackInItsQueueAndTheAgentOnBreak) {
  AddChatAgent("ann", AgentState::kAvailable);
  Route("chat-1");
  log_.Take();
  const wire::Reply* reply = Reject("chat-1", "ann");
  const wire::Decision* back = reply->body_as_Decision();
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->outcome(), wire::DecisionOutcome::Queued);
  EXPECT_EQ(back->queue_position(), 1);
  EXPECT_EQ(back->placement(), 1u);
  EXPECT_EQ(Info("chat-1")->state(), wire::ContactStateKind::Queued);
  std::vector<std::string> lines = log_.Take();
  EXPECT_THAT(TopicLog::On(lines, "contact/chat-1"),
              ::testing::ElementsAre("Rejected", "Queued"));
  EXPECT_THAT(TopicLog::On(lines, "agent/ann"),
              ::testing::Contains("Break MissedOffer"));
}

TEST_F(RequestHandlerOffersTest, ALapsedOfferIsAnnouncedWithTheAgentsBreak) {
  AddChatAgent("ann", AgentState::kAvailable);
  Route("chat-1");
  log_.Take();
  clock_.Advance(kOffer);
  EXPECT_EQ(handler_->AdvanceQueues(), 1);
  std::vector<std::string> lines = log_.Take();
  EXPECT_THAT(TopicLog::On(lines, "contact/chat-1"),
              ::testing::ElementsAre("OfferExpired"));
  EXPECT_THAT(TopicLog::On(lines, "agent/ann"),
              ::testing::ElementsAre("OfferExpired", "Break MissedOffer"));
  const wire::ContactInfo* info = Info("chat-1");
  EXPECT_EQ(info->state(), wire::ContactStateKind::Queued);
  EXPECT_EQ(info->placement(), 1u);
  flatbuffers::FlatBufferBuilder fbb;
  FinishRequest(fbb, ++id_, wire::RequestBody::GetStats,
                wire::CreateGetStats(fbb).Union());
  const wire::Stats* stats = Send(fbb)->body_as_Stats();
  ASSERT_NE(stats, nullptr);
  EXPECT_EQ(stats->offers(), 1);
  EXPECT_EQ(stats->offers_expired(), 1);
  EXPECT_EQ(stats->offers_accepted(), 0);
}

TEST_F(RequestHandlerOffersTest, RefusedAnswersNameTheProblemAndChangeNothing) {
  AddChatAgent("ann", AgentState::kAvailable);
  Route("chat-1");
  const wire::Reply* wrong = Accept("chat-1", "bob");
  ASSERT_EQ(wrong->body_type(), wire::ReplyBody::Error);
  EXPECT_EQ(wrong->body_as_Error()->code(),
            wire::ErrorCode::FailedPrecondition);
  EXPECT_THAT(wrong->body_as_Error()->message()->str(),
              HasSubstr("offered to agent 'ann', not to 'bob'"));
  const wire::Reply* unknown = Reject("nobody", "");
  EXPECT_EQ(unknown->body_as_Error()->code(), wire::ErrorCode::NotFound);
  const wire::Reply* control = Accept("chat\x01", "");
  EXPECT_EQ(control->body_as_Error()->code(),
            wire::ErrorCode::InvalidArgument);
  EXPECT_EQ(Info("chat-1")->state(), wire::ContactStateKind::Offered);
  EXPECT_EQ(router_->GetAgent("ann")->state, AgentState::kAvailable);
}

}  // namespace
}  // namespace routing::sidecar
