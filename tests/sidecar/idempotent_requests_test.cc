// Idempotency keys through the RequestHandler and a real Router
// (idempotent_requests.h): retries answered from the calling thread's store.
#include "sidecar/idempotent_requests.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "flatbuffers/flatbuffers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "routing/clock.h"
#include "routing/router.h"
#include "sidecar/idempotency_store.h"
#include "sidecar/request_decoder.h"
#include "sidecar/request_handler.h"
#include "sidecar/sidecar_metrics.h"
#include "sidecar/wire_encoder.h"

namespace routing::sidecar {
namespace {

using ::testing::HasSubstr;
using flatbuffers::FlatBufferBuilder;

class IdempotentRequestsTest : public ::testing::Test {
 protected:
  explicit IdempotentRequestsTest(int max_contacts = 100)
      : clock_(absl::FromUnixSeconds(1'700'000'000)),
        publisher_(&metrics_, absl::Seconds(20), &clock_) {
    RouterOptions options;
    options.clock = &clock_;
    options.listener = &publisher_;
    options.max_agents = 100;
    options.max_contacts = max_contacts;
    router_ = Router::Create(options).value();
    RequestHandlerOptions handler_options;
    handler_options.clock = &clock_;
    handler_ = std::make_unique<RequestHandler>(router_.get(), &metrics_,
                                                handler_options);
  }

  // Finishes `fbb` with a Request around `body`, carrying `key` if not empty.
  static std::vector<uint8_t> Finish(FlatBufferBuilder& fbb, uint64_t id,
                                     wire::RequestBody type,
                                     flatbuffers::Offset<void> body,
                                     const std::string& key) {
    auto key_offset = key.empty() ? 0 : fbb.CreateString(key);
    fbb.Finish(wire::CreateRequest(fbb, kProtocolVersion, id, type, body,
                                   key_offset),
               kFileIdentifier);
    return std::vector<uint8_t>(fbb.GetBufferPointer(),
                                fbb.GetBufferPointer() + fbb.GetSize());
  }

  static std::vector<uint8_t> RouteRequest(uint64_t id, const std::string& key,
                                           const std::string& contact_id,
                                           int priority = 0,
                                           bool with_explanation = false,
                                           const std::string& skill = "billing") {
    Contact contact;
    contact.id = contact_id;
    contact.channel = Channel::kChat;
    contact.priority = priority;
    contact.required_skills = {{skill, 2}};
    FlatBufferBuilder fbb;
    auto c = BuildContact(fbb, contact, nullptr);
    return Finish(fbb, id, wire::RequestBody::RouteContact,
                  wire::CreateRouteContact(fbb, c, with_explanation).Union(),
                  key);
  }

  static std::vector<uint8_t> AddAgentRequest(uint64_t id,
                                              const std::string& key,
                                              const std::string& agent_id,
                                              const std::string& skill =
                                                  "billing") {
    AgentProfile agent;
    agent.id = agent_id;
    agent.skills = {{skill, 4}};
    agent.SetCapacity(Channel::kChat, 2);
    FlatBufferBuilder fbb;
    auto a = BuildAgentProfile(fbb, agent);
    return Finish(fbb, id, wire::RequestBody::AddAgent,
                  wire::CreateAddAgent(fbb, a).Union(), key);
  }

  static std::vector<uint8_t> SetStateRequest(uint64_t id,
                                              const std::string& key,
                                              const std::string& agent_id,
                                              AgentState state) {
    FlatBufferBuilder fbb;
    auto s = wire::CreateSetAgentState(
        fbb, fbb.CreateString(agent_id),
        static_cast<wire::AgentStateKind>(state));
    return Finish(fbb, id, wire::RequestBody::SetAgentState, s.Union(), key);
  }

  // Handles `request` on this thread; the verified reply stays in reply_.
  const wire::Reply* Send(const std::vector<uint8_t>& request) {
    handler_->Handle(request.data(), request.size(), reply_);
    flatbuffers::Verifier verifier(reply_.GetBufferPointer(), reply_.GetSize());
    EXPECT_TRUE(verifier.VerifyBuffer<wire::Reply>(kFileIdentifier));
    return flatbuffers::GetRoot<wire::Reply>(reply_.GetBufferPointer());
  }

  void AddAvailableAgent(const std::string& id,
                         const std::string& skill = "billing") {
    ASSERT_EQ(Send(AddAgentRequest(900, "", id, skill))->body_type(),
              wire::ReplyBody::Ack);
    ASSERT_EQ(Send(SetStateRequest(901, "", id, AgentState::kAvailable))
                  ->body_type(),
              wire::ReplyBody::Ack);
  }

  ManualClock clock_;
  SidecarMetrics metrics_;
  AssignmentPublisher publisher_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<RequestHandler> handler_;
  FlatBufferBuilder reply_;
  IdempotencyStore store_;
  ScopedIdempotencyStore scoped_store_{&store_};
};

TEST_F(IdempotentRequestsTest, RetriedRouteGetsTheOriginalDecisionReplayed) {
  AddAvailableAgent("alice");
  AddAvailableAgent("bob");
  const wire::Reply* first = Send(RouteRequest(10, "route-chat-1", "chat-1"));
  ASSERT_EQ(first->body_type(), wire::ReplyBody::Decision);
  EXPECT_FALSE(first->replayed());
  const std::string agent = first->body_as_Decision()->agent_id()->str();
  const int64_t decided_at = first->body_as_Decision()->decided_at_unix_ms();
  const double score = first->body_as_Decision()->score();
  const size_t components = first->body_as_Decision()->components()->size();
  ASSERT_FALSE(agent.empty());

  // The reply was lost; the client retries later with a new request id.
  clock_.Advance(absl::Seconds(3));
  const wire::Reply* retry = Send(RouteRequest(11, "route-chat-1", "chat-1"));
  EXPECT_TRUE(retry->replayed());
  EXPECT_EQ(retry->request_id(), 11u);
  EXPECT_EQ(retry->protocol_version(), kProtocolVersion);
  ASSERT_EQ(retry->body_type(), wire::ReplyBody::Decision);
  const wire::Decision* decision = retry->body_as_Decision();
  EXPECT_EQ(decision->contact_id()->str(), "chat-1");
  EXPECT_EQ(decision->outcome(), wire::DecisionOutcome::Assigned);
  EXPECT_EQ(decision->agent_id()->str(), agent);
  EXPECT_EQ(decision->decided_at_unix_ms(), decided_at);
  EXPECT_EQ(decision->score(), score);
  EXPECT_EQ(decision->components()->size(), components);

  // Executed once: the router holds the contact once, its agent holds one.
  EXPECT_EQ(router_->Stats().contacts_held, 1);
  EXPECT_EQ(router_->Stats().decisions, 1);
  EXPECT_EQ(router_->GetAgent(agent)->LoadOf(Channel::kChat), 1);
  // Without the key the same retry is executed, and refused.
  const wire::Reply* unkeyed = Send(RouteRequest(12, "", "chat-1"));
  ASSERT_EQ(unkeyed->body_type(), wire::ReplyBody::Error);
  EXPECT_EQ(unkeyed->body_as_Error()->code(), wire::ErrorCode::AlreadyExists);
}

TEST_F(IdempotentRequestsTest, RetriedAddAgentIsAcknowledgedAgain) {
  ASSERT_EQ(Send(AddAgentRequest(1, "add-carol", "carol"))->body_type(),
            wire::ReplyBody::Ack);
  const wire::Reply* retry = Send(AddAgentRequest(2, "add-carol", "carol"));
  ASSERT_EQ(retry->body_type(), wire::ReplyBody::Ack);
  EXPECT_TRUE(retry->replayed());
  EXPECT_EQ(retry->request_id(), 2u);
  EXPECT_EQ(router_->AgentIds().size(), 1u);
}

TEST_F(IdempotentRequestsTest, SameKeyForAnotherRequestIsRefusedUnexecuted) {
  AddAvailableAgent("alice");
  ASSERT_EQ(Send(RouteRequest(1, "key-7", "chat-1"))->body_type(),
            wire::ReplyBody::Decision);
  // Another contact, another priority, explanation asked: each a different
  // request under the same key.
  for (const auto& request :
       {RouteRequest(2, "key-7", "chat-2"),
        RouteRequest(3, "key-7", "chat-1", /*priority=*/5),
        RouteRequest(4, "key-7", "chat-1", 0, /*with_explanation=*/true),
        SetStateRequest(5, "key-7", "alice", AgentState::kBreak)}) {
    const wire::Reply* reply = Send(request);
    ASSERT_EQ(reply->body_type(), wire::ReplyBody::Error);
    EXPECT_EQ(reply->body_as_Error()->code(), wire::ErrorCode::InvalidArgument);
    EXPECT_THAT(reply->body_as_Error()->message()->str(),
                HasSubstr("idempotency key key-7 was used for a different "
                          "request"));
    EXPECT_FALSE(reply->replayed());
  }
  EXPECT_EQ(router_->GetContact("chat-2").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(router_->GetAgent("alice")->state, AgentState::kAvailable);
}

TEST_F(IdempotentRequestsTest, FingerprintIgnoresLayoutIdAndExplicitDefaults) {
  auto fingerprint = [](const std::vector<uint8_t>& bytes) {
    return RequestFingerprint(*flatbuffers::GetRoot<wire::Request>(
        bytes.data()));
  };
  // Request id 0 is absent from the buffer, 9 present: same request.
  EXPECT_EQ(fingerprint(RouteRequest(0, "k", "chat-1")),
            fingerprint(RouteRequest(9, "other-key", "chat-1")));
  // Priority 0 written explicitly (forced) or left out: same request.
  FlatBufferBuilder forced;
  forced.ForceDefaults(true);
  auto id = forced.CreateString("chat-1");
  auto skill = wire::CreateSkill(forced, forced.CreateString("billing"), 2);
  auto skills = forced.CreateVector(std::vector{skill});
  wire::ContactBuilder contact(forced);
  contact.add_id(id);
  contact.add_channel(wire::ChannelKind::Chat);
  contact.add_required_skills(skills);
  contact.add_priority(0);
  auto c = contact.Finish();
  const std::vector<uint8_t> explicit_defaults =
      Finish(forced, 3, wire::RequestBody::RouteContact,
             wire::CreateRouteContact(forced, c, false).Union(), "k");
  EXPECT_EQ(fingerprint(explicit_defaults),
            fingerprint(RouteRequest(3, "k", "chat-1")));
  EXPECT_NE(fingerprint(RouteRequest(3, "k", "chat-1")),
            fingerprint(RouteRequest(3, "k", "chat-1", 0, false, "sales")));
}

TEST_F(IdempotentRequestsTest, DeterministicRefusalsAreReplayed) {
  // No agent knows "sales": NotFound. Remembered, so the retry gets the same
  // answer even though an agent with the skill has joined since.
  const wire::Reply* first =
      Send(RouteRequest(1, "k-sales", "chat-1", 0, false, "sales"));
  ASSERT_EQ(first->body_type(), wire::ReplyBody::Error);
  const wire::ErrorCode code = first->body_as_Error()->code();
  AddAvailableAgent("sam", "sales");
  const wire::Reply* retry =
      Send(RouteRequest(2, "k-sales", "chat-1", 0, false, "sales"));
  ASSERT_EQ(retry->body_type(), wire::ReplyBody::Error);
  EXPECT_EQ(retry->body_as_Error()->code(), code);
  EXPECT_TRUE(retry->replayed());
  EXPECT_FALSE(router_->GetContact("chat-1").ok());
}

class IdempotentRequestsFullRouterTest : public IdempotentRequestsTest {
 protected:
  IdempotentRequestsFullRouterTest() : IdempotentRequestsTest(1) {}
};

TEST_F(IdempotentRequestsFullRouterTest, TransientRefusalsAreNotRemembered) {
  AddAvailableAgent("alice");
  ASSERT_EQ(Send(RouteRequest(1, "", "chat-1"))->body_type(),
            wire::ReplyBody::Decision);
  const wire::Reply* full = Send(RouteRequest(2, "k-2", "chat-2"));
  ASSERT_EQ(full->body_type(), wire::ReplyBody::Error);
  ASSERT_EQ(full->body_as_Error()->code(), wire::ErrorCode::ResourceExhausted);
  ASSERT_TRUE(router_->Cancel("chat-1").ok());
  const wire::Reply* retry = Send(RouteRequest(3, "k-2", "chat-2"));
  ASSERT_EQ(retry->body_type(), wire::ReplyBody::Decision);
  EXPECT_FALSE(retry->replayed());
  EXPECT_TRUE(router_->GetContact("chat-2").ok());
}

TEST_F(IdempotentRequestsTest, KeysAreForgottenAfterTheRetention) {
  ASSERT_EQ(Send(AddAgentRequest(1, "add-dan", "dan"))->body_type(),
            wire::ReplyBody::Ack);
  clock_.Advance(IdempotencyStore::Limits().retention + absl::Seconds(1));
  const wire::Reply* late = Send(AddAgentRequest(2, "add-dan", "dan"));
  ASSERT_EQ(late->body_type(), wire::ReplyBody::Error);
  EXPECT_EQ(late->body_as_Error()->code(), wire::ErrorCode::AlreadyExists);
}

TEST_F(IdempotentRequestsTest, MalformedOrMisplacedKeysAreRefused) {
  FlatBufferBuilder stats;
  const wire::Reply* reply =
      Send(Finish(stats, 1, wire::RequestBody::GetStats,
                  wire::CreateGetStats(stats).Union(), "stats-key"));
  ASSERT_EQ(reply->body_type(), wire::ReplyBody::Error);
  EXPECT_EQ(reply->body_as_Error()->code(), wire::ErrorCode::InvalidArgument);
  EXPECT_THAT(reply->body_as_Error()->message()->str(),
              HasSubstr("not taken by GetStats"));

  reply = Send(AddAgentRequest(2, std::string(129, 'k'), "erin"));
  ASSERT_EQ(reply->body_type(), wire::ReplyBody::Error);
  EXPECT_THAT(reply->body_as_Error()->message()->str(),
              HasSubstr("idempotency_key is 129 bytes; 1..128"));
  reply = Send(AddAgentRequest(3, "tab\there", "erin"));
  ASSERT_EQ(reply->body_type(), wire::ReplyBody::Error);
  EXPECT_THAT(reply->body_as_Error()->message()->str(),
              HasSubstr("control character (byte 9) at offset 3"));
  EXPECT_TRUE(router_->AgentIds().empty());
  EXPECT_EQ(store_.size(), 0u);
  // 128 bytes is allowed.
  EXPECT_EQ(Send(AddAgentRequest(4, std::string(128, 'k'), "erin"))
                ->body_type(),
            wire::ReplyBody::Ack);
}

TEST_F(IdempotentRequestsTest, AThreadWithoutAStoreRefusesKeyedRequests) {
  ScopedIdempotencyStore none(nullptr);
  const wire::Reply* reply = Send(AddAgentRequest(1, "add-fay", "fay"));
  ASSERT_EQ(reply->body_type(), wire::ReplyBody::Error);
  EXPECT_EQ(reply->body_as_Error()->code(), wire::ErrorCode::Internal);
  EXPECT_THAT(reply->body_as_Error()->message()->str(),
              HasSubstr("no idempotency store"));
  EXPECT_TRUE(router_->AgentIds().empty());
  // Keyless requests are not concerned.
  EXPECT_EQ(Send(AddAgentRequest(2, "", "fay"))->body_type(),
            wire::ReplyBody::Ack);
}

}  // namespace
}  // namespace routing::sidecar
