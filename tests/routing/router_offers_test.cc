// Reservations (RouterOptions::offer_timeout): assignments on a channel with a
// timeout are offers the host accepts or rejects; a rejected or lapsed offer
// returns the contact to its queue in the place it had, and the agent to
// missed_offer_state.
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "routing/router.h"
#include "tests/routing/router_test_support.h"

namespace routing {
namespace {

using ::routing::testing::MakeAgent;
using ::routing::testing::MakeContact;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr absl::Duration kChatOffer = absl::Seconds(30);

class RouterOffersTest : public ::routing::testing::ManualClockRouterTest {
 protected:
  void SetUp() override { Build(OfferOptions()); }

  static RouterOptions OfferOptions() {
    RouterOptions options;
    options.offer_timeout[ChannelIndex(Channel::kChat)] = kChatOffer;
    return options;
  }

  // A chat agent with room for `chat` chats and no voice.
  static AgentProfile ChatAgent(const std::string& id, int chat = 1) {
    return MakeAgent(id, {{"billing", 3}}, {{"en", 5}}, /*voice=*/0, chat);
  }
  static Contact Chat(const std::string& id) {
    return MakeContact(id, {{"billing", 1}}, Channel::kChat);
  }

  void AddLoggedIn(const AgentProfile& agent, AgentState state) {
    ASSERT_TRUE(router_->AddAgent(agent).ok());
    ASSERT_TRUE(router_->SetAgentState(agent.id, state).ok());
  }

  ContactStatus StatusOf(const std::string& id) {
    absl::StatusOr<ContactStatus> s = router_->GetContact(id);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : ContactStatus();
  }
  AgentStatus AgentOf(const std::string& id) {
    absl::StatusOr<AgentStatus> a = router_->GetAgent(id);
    EXPECT_TRUE(a.ok()) << a.status();
    return a.ok() ? *a : AgentStatus();
  }
  int64_t AnsweredIn(const std::string& queue) {
    for (const QueueStats& q : router_->Stats().queues) {
      if (q.queue == queue) return q.answered;
    }
    return -1;
  }

  // Three chats queued one second apart while nobody is free.
  void QueueThree() {
    AddLoggedIn(ChatAgent("ann"), AgentState::kBreak);
    for (const char* id : {"a", "b", "c"}) {
      EXPECT_EQ(RouteOk(Chat(id)).outcome, DecisionOutcome::kQueued);
      clock_.Advance(absl::Seconds(1));
    }
  }
};

TEST_F(RouterOffersTest, AnAssignmentOnAnOfferedChannelIsAnOfferHoldingTheAgent) {
  AddAvailable(ChatAgent("ann"));
  const absl::Time now = clock_.Now();
  RoutingDecision d = RouteOk(Chat("chat-1"));
  ASSERT_EQ(d.outcome, DecisionOutcome::kAssigned);
  EXPECT_EQ(d.agent_id, "ann");
  EXPECT_TRUE(d.offered);
  EXPECT_EQ(d.offer_expires_at, now + kChatOffer);
  EXPECT_EQ(d.placement, 0u);

  ContactStatus s = StatusOf("chat-1");
  EXPECT_EQ(s.state, ContactStatus::State::kOffered);
  EXPECT_EQ(s.agent_id, "ann");
  EXPECT_EQ(s.offer_expires_at, now + kChatOffer);
  EXPECT_EQ(AgentOf("ann").LoadOf(Channel::kChat), 1);
  // Not answered until accepted; a second chat finds ann full.
  EXPECT_EQ(AnsweredIn("billing"), 0);
  EXPECT_EQ(RouteOk(Chat("chat-2")).outcome, DecisionOutcome::kQueued);
  EXPECT_EQ(router_->Stats().offers, 1);
}

TEST_F(RouterOffersTest, AChannelWithoutATimeoutAssignsAtOnce) {
  AddAvailable(MakeAgent("bob", {{"billing", 3}}));
  RoutingDecision d = RouteOk(MakeContact("call-1", {{"billing", 1}}));
  ASSERT_EQ(d.outcome, DecisionOutcome::kAssigned);
  EXPECT_FALSE(d.offered);
  EXPECT_EQ(StatusOf("call-1").state, ContactStatus::State::kAssigned);
  EXPECT_EQ(AnsweredIn("billing"), 1);
  EXPECT_EQ(router_->Stats().offers, 0);
}

TEST_F(RouterOffersTest, AcceptAssignsAndStartsTheHandleTime) {
  AddAvailable(ChatAgent("ann"));
  RouteOk(Chat("chat-1"));
  // Release before the accept is refused, naming the agent, and changes
  // nothing.
  absl::Status early = router_->Release("chat-1", ContactOutcome::kResolved);
  EXPECT_EQ(early.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(early.message(), HasSubstr("offered to agent 'ann'"));
  EXPECT_EQ(StatusOf("chat-1").state, ContactStatus::State::kOffered);

  clock_.Advance(absl::Seconds(4));
  ASSERT_TRUE(router_->AcceptOffer("chat-1", "ann").ok());
  ContactStatus s = StatusOf("chat-1");
  EXPECT_EQ(s.state, ContactStatus::State::kAssigned);
  EXPECT_EQ(s.assigned_at, clock_.Now());
  EXPECT_EQ(AnsweredIn("billing"), 1);
  RouterStats stats = router_->Stats();
  EXPECT_EQ(stats.offers_accepted, 1);

  // The offer's deadline passing changes nothing once accepted.
  clock_.Advance(kChatOffer * 2);
  router_->AdvanceQueues();
  EXPECT_EQ(StatusOf("chat-1").state, ContactStatus::State::kAssigned);
  EXPECT_THAT(listener_.TakeExpired(), ::testing::IsEmpty());

  clock_.Advance(absl::Seconds(60));
  ASSERT_TRUE(router_->Release("chat-1", ContactOutcome::kResolved).ok());
  EXPECT_EQ(AgentOf("ann").LoadOf(Channel::kChat), 0);
}

TEST_F(RouterOffersTest, RefusedAcceptsAndRejectsChangeNothing) {
  AddAvailable(ChatAgent("ann"));
  AddLoggedIn(ChatAgent("bob"), AgentState::kBreak);
  RouteOk(Chat("chat-1"));
  absl::Status wrong = router_->AcceptOffer("chat-1", "bob");
  EXPECT_EQ(wrong.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(wrong.message(), HasSubstr("offered to agent 'ann', not to 'bob'"));
  absl::StatusOr<RoutingDecision> wrong_reject =
      router_->RejectOffer("chat-1", "bob");
  EXPECT_EQ(wrong_reject.status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string huge(1 << 20, 'x');
  absl::Status long_agent = router_->AcceptOffer("chat-1", huge);
  EXPECT_EQ(long_agent.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_LT(long_agent.message().size(), 1024u);
  EXPECT_EQ(router_->RejectOffer("chat-1", huge).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(router_->AcceptOffer("nobody", "").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(router_->RejectOffer("nobody", "").status().code(),
            absl::StatusCode::kNotFound);

  ContactStatus s = StatusOf("chat-1");
  EXPECT_EQ(s.state, ContactStatus::State::kOffered);
  EXPECT_EQ(s.agent_id, "ann");
  EXPECT_EQ(AgentOf("ann").state, AgentState::kAvailable);
  EXPECT_EQ(AgentOf("ann").LoadOf(Channel::kChat), 1);

  // Queued and already-accepted contacts are not offered.
  RouteOk(Chat("chat-2"));
  EXPECT_THAT(router_->AcceptOffer("chat-2", "").message(),
              HasSubstr("waiting in its queue"));
  ASSERT_TRUE(router_->AcceptOffer("chat-1", "").ok());
  absl::Status twice = router_->AcceptOffer("chat-1", "ann");
  EXPECT_EQ(twice.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(twice.message(), HasSubstr("assigned to agent 'ann'"));
  EXPECT_EQ(router_->RejectOffer("chat-1", "ann").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusOf("chat-1").state, ContactStatus::State::kAssigned);
}

TEST_F(RouterOffersTest, ARejectedOfferGoesBackToItsPlaceAndTheAgentToBreak) {
  QueueThree();
  // Ann comes back: the first in line is offered to her.
  ASSERT_TRUE(router_->SetAgentState("ann", AgentState::kAvailable).ok());
  EXPECT_THAT(listener_.TakeTold(), ElementsAre("offered a ann"));
  EXPECT_EQ(StatusOf("b").queue_position, 1);

  absl::StatusOr<RoutingDecision> back = router_->RejectOffer("a", "ann");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->outcome, DecisionOutcome::kQueued);
  EXPECT_EQ(back->queue_position, 1);  // Ahead of b and c again.
  EXPECT_EQ(back->placement, 1u);
  ContactStatus a = StatusOf("a");
  EXPECT_EQ(a.state, ContactStatus::State::kQueued);
  EXPECT_EQ(a.queue_position, 1);
  EXPECT_EQ(a.placement, 1u);
  EXPECT_EQ(StatusOf("b").queue_position, 2);
  EXPECT_EQ(AgentOf("ann").state, AgentState::kBreak);
  EXPECT_EQ(AgentOf("ann").LoadOf(Channel::kChat), 0);
  EXPECT_EQ(router_->Stats().offers_rejected, 1);

  // Ann, back again, is not offered the chat she turned down; bob is.
  ASSERT_TRUE(router_->SetAgentState("ann", AgentState::kAvailable).ok());
  EXPECT_THAT(listener_.TakeTold(), ElementsAre("offered b ann"));
  AddAvailable(ChatAgent("bob"));
  EXPECT_THAT(listener_.TakeTold(), ElementsAre("offered a bob"));
}

TEST_F(RouterOffersTest, AReturnedOfferIsAheadOfEveryLaterMillisecond) {
  AddLoggedIn(ChatAgent("ann"), AgentState::kBreak);
  RouteOk(Chat("a"));
  clock_.Advance(absl::Milliseconds(1));
  RouteOk(Chat("b"));
  ASSERT_TRUE(router_->SetAgentState("ann", AgentState::kAvailable).ok());
  ASSERT_EQ(StatusOf("a").state, ContactStatus::State::kOffered);
  // Placed again a minute later, it still ranks by its arrival.
  clock_.Advance(absl::Minutes(1));
  RouteOk(Chat("c"));
  ASSERT_TRUE(router_->RejectOffer("a", "").ok());
  EXPECT_EQ(StatusOf("a").queue_position, 1);
  EXPECT_EQ(StatusOf("b").queue_position, 2);
  EXPECT_EQ(StatusOf("c").queue_position, 3);
}

TEST_F(RouterOffersTest, ALapsedOfferReturnsTheContactAndTellsTheListener) {
  QueueThree();
  ASSERT_TRUE(router_->SetAgentState("ann", AgentState::kAvailable).ok());
  listener_.TakeTold();
  clock_.Advance(kChatOffer - absl::Milliseconds(1));
  router_->AdvanceQueues();
  EXPECT_EQ(StatusOf("a").state, ContactStatus::State::kOffered);

  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(router_->AdvanceQueues(), 1);
  std::vector<ExpiredOffer> expired = listener_.TakeExpired();
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].contact_id, "a");
  EXPECT_EQ(expired[0].agent_id, "ann");
  EXPECT_EQ(expired[0].queue, "billing");
  EXPECT_EQ(expired[0].placement, 0u);
  EXPECT_EQ(expired[0].agent_state, AgentState::kBreak);
  ContactStatus a = StatusOf("a");
  EXPECT_EQ(a.state, ContactStatus::State::kQueued);
  EXPECT_EQ(a.queue_position, 1);
  EXPECT_EQ(AgentOf("ann").state, AgentState::kBreak);
  EXPECT_EQ(AgentOf("ann").LoadOf(Channel::kChat), 0);
  EXPECT_EQ(router_->Stats().offers_expired, 1);
  // Time spent on the offer counts as waiting: still the oldest.
  EXPECT_EQ(router_->QueuedContacts("billing").front().contact.id, "a");
}

TEST_F(RouterOffersTest, ALapsedOfferIsOfferedToTheNextFreeAgentAfterTheExpiry) {
  AddAvailable(ChatAgent("ann"));
  AddAvailable(ChatAgent("bob"));
  RoutingDecision first = RouteOk(Chat("chat-1"));
  ASSERT_TRUE(first.offered);
  const std::string other = first.agent_id == "ann" ? "bob" : "ann";
  clock_.Advance(kChatOffer);
  router_->AdvanceQueues();
  EXPECT_THAT(listener_.TakeTold(),
              ElementsAre("expired chat-1 " + first.agent_id,
                          "offered chat-1 " + other));
  ContactStatus s = StatusOf("chat-1");
  EXPECT_EQ(s.state, ContactStatus::State::kOffered);
  EXPECT_EQ(s.agent_id, other);
  EXPECT_EQ(s.placement, 1u);
  EXPECT_EQ(s.offer_expires_at, clock_.Now() + kChatOffer);
}

TEST_F(RouterOffersTest, AnAgentNoLongerAvailableKeepsItsState) {
  AddAvailable(ChatAgent("ann"));
  RouteOk(Chat("chat-1"));
  ASSERT_TRUE(router_->SetAgentState("ann", AgentState::kLoggedOut).ok());
  clock_.Advance(kChatOffer);
  router_->AdvanceQueues();
  std::vector<ExpiredOffer> expired = listener_.TakeExpired();
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].agent_state, AgentState::kLoggedOut);
  EXPECT_EQ(AgentOf("ann").state, AgentState::kLoggedOut);
}

TEST_F(RouterOffersTest, AMissedOfferStateOfAvailableLeavesTheAgentServing) {
  RouterOptions options = OfferOptions();
  options.missed_offer_state = AgentState::kAvailable;
  Build(options);
  AddLoggedIn(ChatAgent("ann"), AgentState::kBreak);
  RouteOk(Chat("a"));
  clock_.Advance(absl::Seconds(1));
  RouteOk(Chat("b"));
  ASSERT_TRUE(router_->SetAgentState("ann", AgentState::kAvailable).ok());
  listener_.TakeTold();
  // Turned down: ann stays available and is offered the next chat, not a.
  absl::StatusOr<RoutingDecision> back = router_->RejectOffer("a", "ann");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->outcome, DecisionOutcome::kQueued);
  EXPECT_EQ(AgentOf("ann").state, AgentState::kAvailable);
  EXPECT_EQ(StatusOf("b").state, ContactStatus::State::kOffered);
  EXPECT_EQ(StatusOf("b").agent_id, "ann");
  EXPECT_EQ(StatusOf("a").queue_position, 1);
}

TEST_F(RouterOffersTest, CancelWhileOfferedFreesTheAgentWithoutHandleTime) {
  AddAvailable(ChatAgent("ann"));
  RouteOk(Chat("chat-1"));
  clock_.Advance(absl::Seconds(10));
  ASSERT_TRUE(router_->Cancel("chat-1").ok());
  EXPECT_EQ(AgentOf("ann").LoadOf(Channel::kChat), 0);
  EXPECT_EQ(AgentOf("ann").state, AgentState::kAvailable);
  EXPECT_EQ(router_->GetContact("chat-1").status().code(),
            absl::StatusCode::kNotFound);
  // The stale schedule entry is dropped without a word.
  clock_.Advance(kChatOffer);
  EXPECT_EQ(router_->AdvanceQueues(), 0);
  EXPECT_THAT(listener_.TakeExpired(), ::testing::IsEmpty());
}

TEST_F(RouterOffersTest, RequeueOfAnOfferKeepsTheWaitAndExcludesTheAgent) {
  AddAvailable(ChatAgent("ann"));
  AddLoggedIn(ChatAgent("bob"), AgentState::kBreak);
  const absl::Time arrival = clock_.Now();
  ASSERT_EQ(RouteOk(Chat("chat-1")).agent_id, "ann");
  clock_.Advance(absl::Seconds(5));
  absl::StatusOr<RoutingDecision> d = router_->Requeue(Chat("chat-1"));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->outcome, DecisionOutcome::kQueued);
  ContactStatus s = StatusOf("chat-1");
  EXPECT_EQ(s.contact.enqueue_time, arrival);
  EXPECT_EQ(AgentOf("ann").LoadOf(Channel::kChat), 0);
  // Ann is free but excluded: the chat waits for someone else.
  EXPECT_EQ(s.state, ContactStatus::State::kQueued);
}

TEST_F(RouterOffersTest, CreateRefusesATimeoutOutOfRange) {
  RouterOptions options;
  options.offer_timeout[ChannelIndex(Channel::kVideo)] = absl::Hours(2);
  absl::StatusOr<std::unique_ptr<Router>> router = Router::Create(options);
  EXPECT_EQ(router.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(router.status().message(), HasSubstr("offer_timeout for video"));
  options.offer_timeout[ChannelIndex(Channel::kVideo)] = absl::Seconds(-1);
  EXPECT_FALSE(Router::Create(options).ok());
}

}  // namespace
}  // namespace routing
