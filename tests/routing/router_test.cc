// Behaviour of the Router as a telephony platform sees it: eligibility,
// scoring, queueing and aging, the contact lifecycle, and refusals.
#include "routing/router.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/routing/router_test_support.h"

namespace routing {
namespace {

using ::routing::testing::MakeAgent;
using ::routing::testing::MakeContact;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class RouterTest : public ::routing::testing::ManualClockRouterTest {};

// --- Eligibility ----------------------------------------------------------

TEST_F(RouterTest, PicksOnlyAgentsWithEveryRequiredSkillAtMinimumLevel) {
  AddAvailable(MakeAgent("low", {{"billing", 2}, {"sales", 5}}));
  AddAvailable(MakeAgent("no_sales", {{"billing", 5}}));
  AddAvailable(MakeAgent("fits", {{"billing", 3}, {"sales", 1}}));
  RoutingDecision d =
      RouteOk(MakeContact("c1", {{"billing", 3}, {"sales", 1}}));
  EXPECT_EQ(d.outcome, DecisionOutcome::kAssigned);
  EXPECT_EQ(d.agent_id, "fits");
  EXPECT_EQ(d.eligible_agents, 1);
}

TEST_F(RouterTest, AgentsNotAvailableAreNeverOffered) {
  ASSERT_TRUE(router_->AddAgent(MakeAgent("out", {{"billing", 5}})).ok());
  AddAvailable(MakeAgent("brk", {{"billing", 5}}));
  ASSERT_TRUE(router_->SetAgentState("brk", AgentState::kBreak).ok());
  AddAvailable(MakeAgent("acw", {{"billing", 5}}));
  ASSERT_TRUE(router_->SetAgentState("acw", AgentState::kAfterCallWork).ok());
  RoutingDecision d = RouteOk(MakeContact("c1", {{"billing", 1}}));
  EXPECT_EQ(d.outcome, DecisionOutcome::kQueued);
  ASSERT_TRUE(router_->SetAgentState("acw", AgentState::kAvailable).ok());
  std::vector<Assignment> later = listener_.Take();
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].agent_id, "acw");
}

TEST_F(RouterTest, LanguageIsAHardFilterWhenTheCustomerNamesLanguages) {
  AddAvailable(MakeAgent("en_only", {{"billing", 5}}, {{"en", 5}}));
  AddAvailable(
      MakeAgent("bilingual", {{"billing", 2}}, {{"en", 3}, {"es", 5}}));
  Contact c = MakeContact("c1", {{"billing", 1}});
  c.languages = {"es"};
  EXPECT_EQ(RouteOk(c).agent_id, "bilingual");
}

TEST_F(RouterTest, PerChannelCapacityIsNeverExceeded) {
  AddAvailable(MakeAgent("chatter", {{"support", 3}}, {{"en", 5}}, 1, 2));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(RouteOk(MakeContact("chat" + std::to_string(i), {{"support", 1}},
                                  Channel::kChat))
                  .agent_id,
              "chatter");
  }
  EXPECT_EQ(
      RouteOk(MakeContact("chat2", {{"support", 1}}, Channel::kChat)).outcome,
      DecisionOutcome::kQueued);
  // Voice capacity is separate: the agent still takes a call.
  EXPECT_EQ(RouteOk(MakeContact("call", {{"support", 1}})).agent_id, "chatter");
  absl::StatusOr<AgentStatus> status = router_->GetAgent("chatter");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->LoadOf(Channel::kChat), 2);
  EXPECT_EQ(status->LoadOf(Channel::kVoice), 1);
}

TEST_F(RouterTest, MaxTotalContactsCapsAcrossChannels) {
  AgentProfile agent = MakeAgent("a", {{"support", 3}}, {{"en", 5}}, 1, 3);
  agent.max_total_contacts = 2;
  AddAvailable(agent);
  EXPECT_EQ(RouteOk(MakeContact("c1", {}, Channel::kChat)).agent_id, "a");
  EXPECT_EQ(RouteOk(MakeContact("c2", {}, Channel::kVoice)).agent_id, "a");
  EXPECT_EQ(RouteOk(MakeContact("c3", {}, Channel::kChat)).outcome,
            DecisionOutcome::kQueued);
}

TEST_F(RouterTest, ExcludedAgentIsNeverOfferedTheContact) {
  AddAvailable(MakeAgent("best", {{"billing", 5}}));
  AddAvailable(MakeAgent("other", {{"billing", 1}}));
  Contact c = MakeContact("c1", {{"billing", 1}});
  c.excluded_agents = {"best"};
  EXPECT_EQ(RouteOk(c).agent_id, "other");
}

TEST_F(RouterTest, ExclusionHoldsForAnAgentWhoLogsInLater) {
  Contact c = MakeContact("c1");
  c.excluded_agents = {"late"};
  AddAvailable(MakeAgent("busy", {}));
  RouteOk(MakeContact("c0"));  // busy now holds its one call.
  EXPECT_EQ(RouteOk(c).outcome, DecisionOutcome::kQueued);
  AddAvailable(MakeAgent("late", {}));
  EXPECT_TRUE(listener_.Take().empty());
  ASSERT_TRUE(router_->Release("c0", ContactOutcome::kResolved).ok());
  std::vector<Assignment> later = listener_.Take();
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].agent_id, "busy");
}

// --- Scoring ----------------------------------------------------------------

TEST_F(RouterTest, MostProficientAgentWinsAndTheExplanationSaysWhy) {
  AddAvailable(MakeAgent("junior", {{"billing", 2}}));
  AddAvailable(MakeAgent("senior", {{"billing", 5}}));
  RoutingDecision d = RouteOk(MakeContact("c1", {{"billing", 1}}));
  EXPECT_EQ(d.agent_id, "senior");
  ASSERT_EQ(d.components.size(), 6u);
  EXPECT_EQ(d.components[0].name, "skill");
  EXPECT_DOUBLE_EQ(d.components[0].value, 1.0);
  EXPECT_THAT(d.components[0].detail, HasSubstr("billing 5/5 (needs 1)"));
  double sum = 0;
  for (const ScoreComponent& c : d.components) sum += c.contribution;
  EXPECT_NEAR(sum, d.score, 1e-9);
  EXPECT_EQ(d.policy_version, 1u);
  EXPECT_THAT(d.Explain(), HasSubstr("c1 -> agent senior"));
}

TEST_F(RouterTest, DesiredSkillsRaiseTheScore) {
  AddAvailable(MakeAgent("plain", {{"billing", 4}}));
  AddAvailable(MakeAgent("extra", {{"billing", 4}, {"spanish_docs", 5}}));
  Contact c = MakeContact("c1", {{"billing", 1}});
  c.desired_skills = {{"spanish_docs", 1}};
  EXPECT_EQ(RouteOk(c).agent_id, "extra");
}

TEST_F(RouterTest, FluencyInThePreferredLanguageWins) {
  AddAvailable(MakeAgent("second_choice", {}, {{"en", 5}}));
  AddAvailable(MakeAgent("first_choice", {}, {{"es", 5}}));
  Contact c = MakeContact("c1");
  c.languages = {"es", "en"};
  RoutingDecision d = RouteOk(c);
  EXPECT_EQ(d.agent_id, "first_choice");
  EXPECT_THAT(d.components[2].detail, HasSubstr("es fluency 5/5 (choice 1)"));
}

TEST_F(RouterTest, PreferredAgentWinsOverABetterSkilledOne) {
  AddAvailable(MakeAgent("expert", {{"billing", 5}}));
  AddAvailable(MakeAgent("friend", {{"billing", 3}}));
  Contact c = MakeContact("c1", {{"billing", 1}});
  c.preferred_agents = {"friend"};
  RoutingDecision d = RouteOk(c);
  EXPECT_EQ(d.agent_id, "friend");
  EXPECT_EQ(d.components[1].detail, "named as preferred agent");
}

TEST_F(RouterTest, AgentWhoResolvedTheCustomerLastTimeIsPreferred) {
  AddAvailable(MakeAgent("expert", {{"billing", 5}}));
  AddAvailable(MakeAgent("resolver", {{"billing", 4}}));
  Contact first = MakeContact("c1", {{"billing", 1}});
  first.customer_id = "cust-9";
  first.preferred_agents = {"resolver"};
  EXPECT_EQ(RouteOk(first).agent_id, "resolver");
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(router_->Release("c1", ContactOutcome::kResolved).ok());
  clock_.Advance(absl::Hours(3));

  Contact again = MakeContact("c2", {{"billing", 1}});
  again.customer_id = "cust-9";
  RoutingDecision d = RouteOk(again);
  EXPECT_EQ(d.agent_id, "resolver");
  EXPECT_THAT(d.components[1].detail, HasSubstr("resolved this customer 3h"));
  std::vector<CustomerInteraction> history = router_->CustomerHistory("cust-9");
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].agent_id, "resolver");
  EXPECT_EQ(history[0].outcome, ContactOutcome::kResolved);
}

TEST_F(RouterTest, LongestIdleAgentWinsAmongEquals) {
  AddAvailable(MakeAgent("first", {{"billing", 3}}));
  clock_.Advance(absl::Seconds(30));
  AddAvailable(MakeAgent("second", {{"billing", 3}}));
  clock_.Advance(absl::Seconds(30));
  EXPECT_EQ(RouteOk(MakeContact("c1", {{"billing", 1}})).agent_id, "first");
  EXPECT_EQ(RouteOk(MakeContact("c2", {{"billing", 1}})).agent_id, "second");
}

TEST_F(RouterTest, LessLoadedAgentWinsForMultiChannelWork) {
  AddAvailable(MakeAgent("a", {}, {{"en", 5}}, 0, 3));
  AddAvailable(MakeAgent("b", {}, {{"en", 5}}, 0, 3));
  const std::string first =
      RouteOk(MakeContact("c1", {}, Channel::kChat)).agent_id;
  const std::string second =
      RouteOk(MakeContact("c2", {}, Channel::kChat)).agent_id;
  EXPECT_NE(first, second);
}

TEST_F(RouterTest, PolicyWeightsChangeTheWinnerAndTheVersion) {
  AddAvailable(MakeAgent("skilled", {{"billing", 5}}, {{"es", 2}}));
  AddAvailable(MakeAgent("fluent", {{"billing", 2}}, {{"es", 5}}));
  Contact c = MakeContact("c1", {{"billing", 1}});
  c.languages = {"es"};
  RoutingPolicy language_first;
  language_first.name = "language-first";
  language_first.weights.skill = 0.1;
  language_first.weights.language = 0.9;
  absl::StatusOr<uint64_t> version = router_->SetPolicy(language_first);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 2u);
  RoutingDecision d = RouteOk(c);
  EXPECT_EQ(d.agent_id, "fluent");
  EXPECT_EQ(d.policy_version, 2u);
  EXPECT_EQ(d.policy_name, "language-first");
}

TEST_F(RouterTest, InvalidPolicyIsRefusedAndTheOldOneKeepsServing) {
  RoutingPolicy bad;
  bad.weights.skill = -1;
  absl::StatusOr<uint64_t> v = router_->SetPolicy(bad);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(v.status().message(), HasSubstr("'skill'"));
  EXPECT_EQ(router_->PolicyVersion(), 1u);
}

// --- Queues, priority and aging --------------------------------------------

TEST_F(RouterTest, QueuedContactsGetPositionAndEstimatedWait) {
  AddAvailable(MakeAgent("a", {{"billing", 3}}));
  AddAvailable(MakeAgent("b", {{"billing", 3}}));
  RouteOk(MakeContact("c1", {{"billing", 1}}));
  RouteOk(MakeContact("c2", {{"billing", 1}}));
  RoutingDecision q1 = RouteOk(MakeContact("c3", {{"billing", 1}}));
  RoutingDecision q2 = RouteOk(MakeContact("c4", {{"billing", 1}}));
  EXPECT_EQ(q1.outcome, DecisionOutcome::kQueued);
  EXPECT_EQ(q1.queue, "billing");
  EXPECT_EQ(q1.queue_position, 1);
  EXPECT_EQ(q2.queue_position, 2);
  // Default handle time 3 min, two staffed agents: 90 s per place in line.
  EXPECT_EQ(q1.estimated_wait, absl::Seconds(90));
  EXPECT_EQ(q2.estimated_wait, absl::Seconds(180));
}

TEST_F(RouterTest, QueuedDecisionSaysWhereTheQualifiedAgentsAre) {
  AddAvailable(MakeAgent("on-call", {{"billing", 3}}));
  AddAvailable(MakeAgent("on-break", {{"billing", 4}}));
  ASSERT_TRUE(router_->SetAgentState("on-break", AgentState::kBreak).ok());
  ASSERT_TRUE(router_->AddAgent(MakeAgent("off-shift", {{"billing", 5}})).ok());
  AddAvailable(MakeAgent("sales-only", {{"sales", 5}}));
  AddAvailable(MakeAgent("top-skill", {{"billing", 5}}, {{"en", 5}}));
  EXPECT_EQ(RouteOk(MakeContact("c1", {{"billing", 2}})).agent_id, "top-skill");
  ASSERT_TRUE(router_->SetAgentState("top-skill", AgentState::kBreak).ok());
  EXPECT_EQ(RouteOk(MakeContact("c2", {{"billing", 2}})).agent_id, "on-call");

  Contact c3 = MakeContact("c3", {{"billing", 2}});
  c3.languages = {"en"};
  RoutingDecision d = RouteOk(c3);
  ASSERT_EQ(d.outcome, DecisionOutcome::kQueued);
  EXPECT_EQ(d.qualified.total, 4);
  EXPECT_EQ(d.qualified.at_capacity, 1);  // on-call
  EXPECT_EQ(d.qualified.unavailable, 2);  // on-break, top-skill
  EXPECT_EQ(d.qualified.logged_out, 1);   // off-shift
  EXPECT_THAT(d.Explain(), HasSubstr("4 agents qualify: 1 at capacity"));
  // The three qualified agents who are logged in share the 3-minute default
  // handle time; sales-only and the logged-out agent do not count.
  EXPECT_EQ(d.estimated_wait, absl::Seconds(60));
}

TEST_F(RouterTest, FreedAgentTakesTheOldestWaitingContact) {
  AddAvailable(MakeAgent("a", {{"billing", 3}}));
  RouteOk(MakeContact("busy", {{"billing", 1}}));
  for (const char* id : {"w1", "w2", "w3"}) {
    clock_.Advance(absl::Seconds(5));
    RouteOk(MakeContact(id, {{"billing", 1}}));
  }
  clock_.Advance(absl::Seconds(60));
  ASSERT_TRUE(router_->Release("busy", ContactOutcome::kResolved).ok());
  std::vector<Assignment> a = listener_.Take();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].contact_id, "w1");
  EXPECT_EQ(a[0].agent_id, "a");
  EXPECT_EQ(a[0].waited, absl::Seconds(70));  // Queued at t=5, served at t=75.
  EXPECT_EQ(a[0].decision.outcome, DecisionOutcome::kAssigned);
}

TEST_F(RouterTest, PriorityGoesFirstButAgingPreventsStarvation) {
  AddAvailable(MakeAgent("a", {}));
  RouteOk(MakeContact("busy"));
  Contact old_low = MakeContact("old_low");
  RouteOk(old_low);
  clock_.Advance(absl::Seconds(100));
  Contact vip = MakeContact("vip");
  vip.priority = 3;  // Worth 90 s with the default 30 s step: not enough.
  RouteOk(vip);
  Contact vip2 = MakeContact("vip2");
  vip2.priority = 4;  // Worth 120 s: overtakes the 100 s wait.
  RouteOk(vip2);

  std::vector<std::string> order;
  for (int i = 0; i < 3; ++i) {
    const std::string holding = i == 0 ? "busy" : order.back();
    ASSERT_TRUE(router_->Release(holding, ContactOutcome::kResolved).ok());
    std::vector<Assignment> a = listener_.Take();
    ASSERT_EQ(a.size(), 1u);
    order.push_back(a[0].contact_id);
  }
  EXPECT_THAT(order, ElementsAre("vip2", "old_low", "vip"));
}

TEST_F(RouterTest, AgentServesTheLongestWaiterAcrossItsQueues) {
  AddAvailable(MakeAgent("multi", {{"billing", 3}, {"sales", 3}}));
  RouteOk(MakeContact("busy", {{"billing", 1}}));
  RouteOk(MakeContact("sales_old", {{"sales", 1}}));
  clock_.Advance(absl::Seconds(10));
  RouteOk(MakeContact("billing_new", {{"billing", 1}}));
  ASSERT_TRUE(router_->Release("busy", ContactOutcome::kResolved).ok());
  std::vector<Assignment> a = listener_.Take();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].contact_id, "sales_old");
  EXPECT_EQ(a[0].queue, "sales");
}

TEST_F(RouterTest, QueuedContactSkipsAgentsItIsNotEligibleFor) {
  AddAvailable(MakeAgent("novice", {{"billing", 1}}));
  AddAvailable(MakeAgent("expert", {{"billing", 5}}));
  RouteOk(MakeContact("e1", {{"billing", 5}}));    // expert busy
  RouteOk(MakeContact("hard", {{"billing", 5}}));  // waits for expert
  clock_.Advance(absl::Seconds(1));
  RouteOk(MakeContact("n1", {{"billing", 1}}));    // novice busy
  RouteOk(MakeContact("easy", {{"billing", 1}}));  // waits
  ASSERT_TRUE(router_->Release("n1", ContactOutcome::kResolved).ok());
  std::vector<Assignment> a = listener_.Take();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].contact_id, "easy");  // "hard" is older but needs level 5.
  EXPECT_EQ(a[0].agent_id, "novice");
}

TEST_F(RouterTest, AssignmentCarriesTheChatbotContext) {
  AddAvailable(MakeAgent("a", {}, {{"en", 5}}, 0, 1));
  RouteOk(MakeContact("busy", {}, Channel::kChat));
  Contact handoff = MakeContact("conv-1", {}, Channel::kChat);
  handoff.customer_id = "cust-1";
  handoff.attributes = {
      {"intent", "cancel_subscription"},
      {"summary", "wants to cancel, offered discount, declined"}};
  RouteOk(handoff);
  ASSERT_TRUE(router_->Release("busy", ContactOutcome::kResolved).ok());
  std::vector<Assignment> a = listener_.Take();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].attributes.at("intent"), "cancel_subscription");
  EXPECT_EQ(a[0].customer_id, "cust-1");
}

// --- Lifecycle
// ----------------------------------------------------------------

TEST_F(RouterTest, CancelTakesAContactOutOfItsQueue) {
  AddAvailable(MakeAgent("a", {}));
  RouteOk(MakeContact("busy"));
  RouteOk(MakeContact("hangs_up"));
  RouteOk(MakeContact("stays"));
  ASSERT_TRUE(router_->Cancel("hangs_up").ok());
  EXPECT_EQ(router_->GetContact("hangs_up").status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(router_->Release("busy", ContactOutcome::kResolved).ok());
  std::vector<Assignment> a = listener_.Take();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].contact_id, "stays");
  RouterStats stats = router_->Stats();
  ASSERT_EQ(stats.queues.size(), 1u);
  EXPECT_EQ(stats.queues[0].abandoned, 1);
  EXPECT_EQ(stats.queues[0].waiting, 0);
}

TEST_F(RouterTest, CancellingAnAssignedContactFreesTheAgent) {
  AddAvailable(MakeAgent("a", {}));
  RouteOk(MakeContact("c1"));
  RouteOk(MakeContact("c2"));
  ASSERT_TRUE(router_->Cancel("c1").ok());
  std::vector<Assignment> a = listener_.Take();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].contact_id, "c2");
}

TEST_F(RouterTest, ReleaseOfAQueuedContactIsRefused) {
  AddAvailable(MakeAgent("a", {}));
  RouteOk(MakeContact("c1"));
  RouteOk(MakeContact("c2"));
  absl::Status s = router_->Release("c2", ContactOutcome::kResolved);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<ContactStatus> status = router_->GetContact("c2");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state, ContactStatus::State::kQueued);
}

TEST_F(RouterTest, RequeueTransfersToAnotherAgentAndRecordsHistory) {
  AddAvailable(MakeAgent("tier1", {{"general", 3}, {"tech", 2}}));
  AddAvailable(MakeAgent("tier2", {{"tech", 5}}));
  Contact c = MakeContact("c1", {{"general", 1}});
  c.customer_id = "cust-7";
  EXPECT_EQ(RouteOk(c).agent_id, "tier1");
  clock_.Advance(absl::Minutes(2));
  Contact transfer = MakeContact("c1", {{"tech", 2}});
  absl::StatusOr<RoutingDecision> d = router_->Requeue(transfer);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->agent_id, "tier2");  // tier1 qualifies but handed it on.
  absl::StatusOr<ContactStatus> status = router_->GetContact("c1");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->contact.customer_id, "cust-7");
  EXPECT_EQ(router_->CustomerHistory("cust-7")[0].outcome,
            ContactOutcome::kTransferred);
  EXPECT_EQ(router_->GetAgent("tier1")->LoadOf(Channel::kVoice), 0);
  // The two minutes tier1 spent on the call count as handling time.
  EXPECT_DOUBLE_EQ(router_->GetAgent("tier1")->occupancy, 1.0);
}

TEST_F(RouterTest,
       TransferredContactWaitsFromTheTransferButMovedOneKeepsItsWait) {
  AddAvailable(MakeAgent("tier1", {{"general", 3}}));
  AddAvailable(MakeAgent("tier2", {{"tech", 5}}));
  EXPECT_EQ(RouteOk(MakeContact("busy", {{"tech", 1}})).agent_id, "tier2");
  EXPECT_EQ(RouteOk(MakeContact("served", {{"general", 1}})).agent_id, "tier1");
  // A second contact waits for tier1; after 40 s it is moved to tech instead.
  EXPECT_EQ(RouteOk(MakeContact("waiting", {{"general", 1}})).outcome,
            DecisionOutcome::kQueued);
  clock_.Advance(absl::Seconds(40));
  ASSERT_EQ(router_->Requeue(MakeContact("waiting", {{"tech", 1}}))->outcome,
            DecisionOutcome::kQueued);
  // Two minutes into the call, tier1 transfers "served" to tech as well.
  clock_.Advance(absl::Minutes(2));
  ASSERT_EQ(router_->Requeue(MakeContact("served", {{"tech", 1}}))->outcome,
            DecisionOutcome::kQueued);
  clock_.Advance(absl::Seconds(30));
  ASSERT_TRUE(router_->Release("busy", ContactOutcome::kResolved).ok());
  ASSERT_TRUE(router_->Release("waiting", ContactOutcome::kResolved).ok());
  std::vector<Assignment> a = listener_.Take();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].contact_id, "waiting");  // Never served: it keeps its wait,
  EXPECT_EQ(a[0].waited, absl::Seconds(190));
  EXPECT_EQ(a[1].contact_id, "served");  // while the transfer waits 30 s.
  EXPECT_EQ(a[1].waited, absl::Seconds(30));
}

TEST_F(RouterTest, InvalidRequeueLeavesTheContactWithItsAgent) {
  AddAvailable(MakeAgent("a", {{"general", 3}}));
  RouteOk(MakeContact("c1", {{"general", 1}}));
  Contact bad = MakeContact("c1", {{"general", 9}});
  EXPECT_EQ(router_->Requeue(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<ContactStatus> status = router_->GetContact("c1");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->agent_id, "a");
}

TEST_F(RouterTest, OccupancyAndHandledCountsFollowReleases) {
  AddAvailable(MakeAgent("a", {}));
  RouteOk(MakeContact("c1"));
  clock_.Advance(absl::Minutes(3));
  ASSERT_TRUE(router_->Release("c1", ContactOutcome::kResolved).ok());
  clock_.Advance(absl::Minutes(1));
  absl::StatusOr<AgentStatus> status = router_->GetAgent("a");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->contacts_handled, 1);
  EXPECT_NEAR(status->occupancy, 0.75, 1e-9);
  RouterStats stats = router_->Stats();
  EXPECT_EQ(stats.queues[0].average_handle_time, absl::Minutes(3));
}

TEST_F(RouterTest, AgentRemovalWaitsUntilItsContactsAreReleased) {
  AddAvailable(MakeAgent("a", {}));
  RouteOk(MakeContact("c1"));
  EXPECT_EQ(router_->RemoveAgent("a").code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(router_->Release("c1", ContactOutcome::kUnresolved).ok());
  ASSERT_TRUE(router_->RemoveAgent("a").ok());
  EXPECT_EQ(router_->GetAgent("a").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(router_->AgentIds().empty());
  // The id can come back, with a new profile.
  ASSERT_TRUE(router_->AddAgent(MakeAgent("a", {{"sales", 2}})).ok());
  EXPECT_EQ(router_->GetAgent("a")->profile.skills[0].skill, "sales");
}

TEST_F(RouterTest, UpdatedSkillsApplyToTheNextDecision) {
  AddAvailable(MakeAgent("a", {{"billing", 3}}));
  absl::StatusOr<RoutingDecision> before =
      router_->Route(MakeContact("c1", {{"billing", 5}}));
  EXPECT_EQ(before.status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(router_->UpdateAgent(MakeAgent("a", {{"billing", 5}})).ok());
  EXPECT_EQ(RouteOk(MakeContact("c1", {{"billing", 5}})).agent_id, "a");
  EXPECT_EQ(router_->GetAgent("a")->state, AgentState::kAvailable);
}

TEST_F(RouterTest, NewSkillsDrainTheQueue) {
  AddAvailable(MakeAgent("expert", {{"billing", 5}}));
  AddAvailable(MakeAgent("junior", {{"billing", 3}}));
  EXPECT_EQ(RouteOk(MakeContact("c1", {{"billing", 5}})).agent_id, "expert");
  EXPECT_EQ(RouteOk(MakeContact("c2", {{"billing", 5}})).outcome,
            DecisionOutcome::kQueued);
  // The junior passes the certification: the waiting contact is theirs now.
  ASSERT_TRUE(router_->UpdateAgent(MakeAgent("junior", {{"billing", 5}})).ok());
  std::vector<Assignment> a = listener_.Take();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].contact_id, "c2");
  EXPECT_EQ(a[0].agent_id, "junior");
}

TEST_F(RouterTest, RaisedCapacityDrainsTheQueue) {
  AddAvailable(MakeAgent("a", {}, {{"en", 5}}, 0, 1));
  RouteOk(MakeContact("c1", {}, Channel::kChat));
  RouteOk(MakeContact("c2", {}, Channel::kChat));
  ASSERT_TRUE(router_->UpdateAgent(MakeAgent("a", {}, {{"en", 5}}, 0, 2)).ok());
  ASSERT_EQ(listener_.Take().size(), 1u);
}

// --- Refusals: clear errors, nothing changed
// ----------------------------------

TEST_F(RouterTest, BadAgentsAreRefusedWithTheReason) {
  struct Case {
    AgentProfile agent;
    absl::StatusCode code;
    std::string message;
  };
  AgentProfile zero = MakeAgent("zero", {{"billing", 3}}, {{"en", 5}}, 0, 0);
  AgentProfile level = MakeAgent("level", {{"billing", 6}});
  AgentProfile dup = MakeAgent("dup", {{"billing", 3}, {"billing", 4}});
  AgentProfile fluency = MakeAgent("fluency", {}, {{"en", 0}});
  AgentProfile huge = MakeAgent("huge", {}, {{"en", 5}}, 64, 0);
  AgentProfile empty = MakeAgent("", {});
  AgentProfile negative = MakeAgent("neg", {}, {{"en", 5}}, -1, 1);
  for (const Case& c : std::vector<Case>{
           {zero, absl::StatusCode::kInvalidArgument, "capacity of zero"},
           {level, absl::StatusCode::kInvalidArgument, "level 6"},
           {dup, absl::StatusCode::kInvalidArgument, "twice"},
           {fluency, absl::StatusCode::kInvalidArgument, "fluency 0"},
           {huge, absl::StatusCode::kInvalidArgument, "capacity 64"},
           {empty, absl::StatusCode::kInvalidArgument, "agent id is empty"},
           {negative, absl::StatusCode::kInvalidArgument, "capacity -1"},
       }) {
    absl::Status s = router_->AddAgent(c.agent);
    EXPECT_EQ(s.code(), c.code) << c.agent.id;
    EXPECT_THAT(s.message(), HasSubstr(c.message)) << c.agent.id;
  }
  EXPECT_TRUE(router_->AgentIds().empty());
  ASSERT_TRUE(router_->AddAgent(MakeAgent("ok", {})).ok());
  EXPECT_EQ(router_->AddAgent(MakeAgent("ok", {})).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(router_->SetAgentState("ghost", AgentState::kAvailable).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(router_->SetAgentState("ok", static_cast<AgentState>(42)).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RouterTest, BadContactsAreRefusedWithTheReason) {
  AddAvailable(MakeAgent("a", {{"billing", 3}}));
  struct Case {
    Contact contact;
    absl::StatusCode code;
    std::string message;
  };
  Contact unknown_skill = MakeContact("c1", {{"mortgages", 1}});
  Contact unservable = MakeContact("c2", {{"billing", 4}});
  Contact level = MakeContact("c3", {{"billing", 0}});
  Contact priority = MakeContact("c4");
  priority.priority = 10;
  Contact channel = MakeContact("c5");
  channel.channel = static_cast<Channel>(17);
  Contact future = MakeContact("c6");
  future.enqueue_time = clock_.Now() + absl::Seconds(6);
  Contact language = MakeContact("c7");
  language.languages = {"tlh"};
  Contact no_id = MakeContact("");
  Contact ancient = MakeContact("c8");
  ancient.enqueue_time = clock_.Now() - absl::Hours(24 * 365);
  for (const Case& c : std::vector<Case>{
           {unknown_skill, absl::StatusCode::kNotFound, "'mortgages'"},
           {unservable, absl::StatusCode::kFailedPrecondition, "billing >= 4"},
           {level, absl::StatusCode::kInvalidArgument, "level 0"},
           {priority, absl::StatusCode::kInvalidArgument, "priority 10"},
           {channel, absl::StatusCode::kInvalidArgument, "channel number 17"},
           {future, absl::StatusCode::kInvalidArgument,
            "after the router's clock"},
           {language, absl::StatusCode::kNotFound, "tlh"},
           {no_id, absl::StatusCode::kInvalidArgument, "contact id is empty"},
           {ancient, absl::StatusCode::kInvalidArgument, "clock error"},
       }) {
    absl::StatusOr<RoutingDecision> d = router_->Route(c.contact);
    EXPECT_EQ(d.status().code(), c.code) << c.contact.id;
    EXPECT_THAT(d.status().message(), HasSubstr(c.message)) << c.contact.id;
  }
  RouterStats stats = router_->Stats();
  EXPECT_EQ(stats.contacts_held, 0);
  EXPECT_EQ(stats.decisions, 0);
  // The refused contacts left the agent free.
  EXPECT_EQ(RouteOk(MakeContact("c1", {{"billing", 1}})).agent_id, "a");
  EXPECT_EQ(router_->Route(MakeContact("c1")).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(router_->Cancel("nope").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(router_->Release("c1", static_cast<ContactOutcome>(9)).code(),
            absl::StatusCode::kInvalidArgument);
}

// A host whose clock runs a little ahead of the router's (an IVR 20 ms fast)
// is served: its contact starts waiting at the router's "now". An id too long
// to be held is named in part only.
TEST_F(RouterTest, EnqueueTimeSlightlyAheadCountsAsNow) {
  ASSERT_TRUE(router_->AddAgent(MakeAgent("a", {{"billing", 3}})).ok());
  Contact ahead = MakeContact("ahead", {{"billing", 1}});
  ahead.enqueue_time = clock_.Now() + absl::Milliseconds(20);
  absl::StatusOr<RoutingDecision> d = router_->Route(ahead);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->outcome, DecisionOutcome::kQueued);  // a is logged out.
  absl::StatusOr<ContactStatus> held = router_->GetContact("ahead");
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->contact.enqueue_time, clock_.Now());
  Contact far = MakeContact("far", {{"billing", 1}});
  far.enqueue_time = clock_.Now() + absl::Seconds(6);
  EXPECT_EQ(router_->Route(far).status().code(),
            absl::StatusCode::kInvalidArgument);

  const std::string huge(10 << 20, 'x');
  for (const absl::Status& s :
       {router_->Cancel(huge),
        router_->Release(huge, ContactOutcome::kResolved),
        router_->GetContact(huge).status(),
        router_->Requeue(MakeContact(huge)).status(),
        router_->RemoveAgent(huge),
        router_->SetAgentState(huge, AgentState::kAvailable),
        router_->GetAgent(huge).status()}) {
    EXPECT_FALSE(s.ok());
    EXPECT_LT(s.message().size(), 200u) << s.message().substr(0, 200);
  }
}

TEST_F(RouterTest, FullRouterSaysResourceExhausted) {
  RouterOptions options;
  options.max_agents = 2;
  options.max_contacts = 2;
  Build(options);
  ASSERT_TRUE(router_->AddAgent(MakeAgent("a", {})).ok());
  ASSERT_TRUE(router_->AddAgent(MakeAgent("b", {})).ok());
  EXPECT_EQ(router_->AddAgent(MakeAgent("c", {})).code(),
            absl::StatusCode::kResourceExhausted);
  RouteOk(MakeContact("c1"));
  RouteOk(MakeContact("c2"));
  EXPECT_EQ(router_->Route(MakeContact("c3")).status().code(),
            absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(router_->Cancel("c1").ok());
  RouteOk(MakeContact("c3"));
}

TEST(RouterCreateTest, RefusesOptionsOutOfRange) {
  RouterOptions options;
  options.max_agents = 0;
  EXPECT_THAT(Router::Create(options).status().message(),
              HasSubstr("max_agents"));
  options = RouterOptions();
  options.history_depth = 9;
  EXPECT_THAT(Router::Create(options).status().message(),
              HasSubstr("history_depth"));
  options = RouterOptions();
  options.policy.priority_step = absl::ZeroDuration();
  EXPECT_THAT(Router::Create(options).status().message(),
              HasSubstr("priority_step"));
}

}  // namespace
}  // namespace routing
