// Router::ExportState / ImportState: a router's state carried into a new
// router (what routingd's snapshots and restarts rest on).
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "routing/router.h"
#include "routing/router_state.h"
#include "tests/routing/router_test_support.h"

namespace routing::testing {
namespace {

using ::testing::HasSubstr;

class RouterStateTest : public ManualClockRouterTest {
 protected:
  // A second router on the same clock, for the state to go into.
  std::unique_ptr<Router> NewRouter(RouterOptions options = {}) {
    options.clock = &clock_;
    options.listener = &restored_listener_;
    auto router = Router::Create(options);
    EXPECT_TRUE(router.ok()) << router.status();
    return router.ok() ? std::move(*router) : nullptr;
  }

  // A morning's worth of state: agents in every presence, voice and chat
  // work held, two queues with priorities and same-millisecond ties, a
  // requeued contact excluding its first agent, and customer history.
  void BuildMorning() {
    AddAvailable(MakeAgent("ana", {{"billing", 5}}, {{"en", 5}}, 1, 2));
    AddAvailable(MakeAgent("bo", {{"billing", 3}, {"tech", 4}}, {{"es", 5}}));
    AddAvailable(MakeAgent("cy", {{"tech", 2}}));
    ASSERT_TRUE(router_->AddAgent(MakeAgent("dee", {{"billing", 2}})).ok());
    clock_.Advance(absl::Minutes(1));
    // History: cust-1 was served by bo and by ana.
    for (const char* agent_hint : {"first", "second"}) {
      Contact c = MakeContact(absl::StrCat("past-", agent_hint),
                              {{"billing", 1}});
      c.customer_id = "cust-1";
      RouteOk(c);
      clock_.Advance(absl::Minutes(3));
      ASSERT_TRUE(router_->Release(c.id, ContactOutcome::kResolved).ok());
      clock_.Advance(absl::Seconds(10));
    }
    // Held: ana on a call and a chat, bo on a call, cy on a call.
    RouteOk(MakeContact("call-a", {{"billing", 4}}));
    Contact chat = MakeContact("chat-a", {{"billing", 1}}, Channel::kChat);
    chat.attributes["intent"] = "refund";
    chat.customer_id = "cust-2";
    RouteOk(chat);
    RouteOk(MakeContact("call-b", {{"billing", 3}}));
    RouteOk(MakeContact("call-c", {{"tech", 1}}));
    ASSERT_TRUE(router_->SetAgentState("bo", AgentState::kBreak).ok());
    clock_.Advance(absl::Seconds(5));
    // Queued: billing and tech, a VIP, two arrivals in one millisecond.
    Contact q1 = MakeContact("wait-1", {{"billing", 1}});
    q1.languages = {"en", "es"};
    RouteOk(q1);
    clock_.Advance(absl::Seconds(2));
    RouteOk(MakeContact("wait-2", {{"tech", 1}}));
    RouteOk(MakeContact("wait-3", {{"billing", 1}}));  // same ms as wait-2
    Contact vip = MakeContact("wait-vip", {{"billing", 1}});
    vip.priority = 5;
    RouteOk(vip);
    clock_.Advance(absl::Seconds(1));
    // A transfer from cy back into tech, excluding cy.
    Contact transfer = MakeContact("call-c", {{"tech", 1}});
    ASSERT_TRUE(router_->Requeue(transfer).ok());
    clock_.Advance(absl::Seconds(30));
  }

  void ExpectSameAgent(Router& a, Router& b, const std::string& id) {
    auto x = a.GetAgent(id);
    auto y = b.GetAgent(id);
    ASSERT_TRUE(x.ok() && y.ok()) << id;
    EXPECT_EQ(x->state, y->state) << id;
    EXPECT_EQ(x->load, y->load) << id;
    EXPECT_EQ(x->state_since, y->state_since) << id;
    EXPECT_EQ(x->idle_since, y->idle_since) << id;
    EXPECT_EQ(x->contacts_handled, y->contacts_handled) << id;
    EXPECT_DOUBLE_EQ(x->occupancy, y->occupancy) << id;
    EXPECT_EQ(x->profile.skills.size(), y->profile.skills.size()) << id;
  }

  void ExpectSameContact(Router& a, Router& b, const std::string& id) {
    auto x = a.GetContact(id);
    auto y = b.GetContact(id);
    ASSERT_TRUE(x.ok()) << id << ": " << x.status();
    ASSERT_TRUE(y.ok()) << id << ": " << y.status();
    EXPECT_EQ(x->state, y->state) << id;
    EXPECT_EQ(x->agent_id, y->agent_id) << id;
    EXPECT_EQ(x->assigned_at, y->assigned_at) << id;
    EXPECT_EQ(x->queue_position, y->queue_position) << id;
    EXPECT_EQ(x->rules_step, y->rules_step) << id;
    EXPECT_EQ(x->placement, y->placement) << id;
    EXPECT_EQ(x->contact.enqueue_time, y->contact.enqueue_time) << id;
    EXPECT_EQ(x->contact.queue, y->contact.queue) << id;
    EXPECT_EQ(x->contact.priority, y->contact.priority) << id;
    EXPECT_EQ(x->contact.attributes, y->contact.attributes) << id;
    EXPECT_EQ(x->contact.excluded_agents, y->contact.excluded_agents) << id;
  }

  // Each queue's contacts in service order, queues by name (QueuedContacts
  // lists queues in the order the router first met them, which a restored
  // router need not share).
  static std::vector<std::string> Order(Router& router) {
    std::vector<std::pair<std::string, std::string>> ids;
    for (const QueuedContact& q : router.QueuedContacts("")) {
      ids.emplace_back(q.contact.queue,
                       q.contact.queue + ":" + q.contact.id + "@" +
                           std::to_string(q.queue_position));
    }
    std::stable_sort(ids.begin(), ids.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::string> out;
    for (auto& [queue, line] : ids) out.push_back(std::move(line));
    return out;
  }

  RecordingListener restored_listener_;
};

TEST_F(RouterStateTest, ARestoredRouterHoldsWhatTheOriginalHeld) {
  BuildMorning();
  const RouterState state = router_->ExportState();
  EXPECT_EQ(state.agents.size(), 4u);
  EXPECT_EQ(state.contacts.size(), 8u);
  auto restored = NewRouter();
  ASSERT_TRUE(restored->ImportState(state).ok());

  for (const char* agent : {"ana", "bo", "cy", "dee"}) {
    ExpectSameAgent(*router_, *restored, agent);
  }
  for (const char* contact : {"call-a", "chat-a", "call-b", "call-c", "wait-1",
                              "wait-2", "wait-3", "wait-vip"}) {
    ExpectSameContact(*router_, *restored, contact);
  }
  EXPECT_EQ(Order(*restored), Order(*router_));
  EXPECT_THAT(Order(*restored),
              ::testing::ElementsAre("billing:wait-vip@1", "billing:wait-1@2",
                                     "billing:wait-3@3", "tech:call-c@1"));
  // cy, freed by the transfer, took wait-2; call-c waits, excluded from cy.
  EXPECT_EQ(restored->GetContact("wait-2")->agent_id, "cy");
  ASSERT_EQ(restored->CustomerHistory("cust-1").size(), 2u);
  EXPECT_EQ(restored->CustomerHistory("cust-1")[0].agent_id,
            router_->CustomerHistory("cust-1")[0].agent_id);
  EXPECT_EQ(restored->CustomerHistory("cust-1")[0].time,
            router_->CustomerHistory("cust-1")[0].time);
  EXPECT_EQ(restored->Stats().contacts_held, router_->Stats().contacts_held);
  // Nothing was decided by the import: every agent with room had nothing
  // it could take.
  EXPECT_TRUE(restored_listener_.Take().empty());
}

TEST_F(RouterStateTest, ARestoredRouterDecidesAsTheOriginalWould) {
  BuildMorning();
  auto restored = NewRouter();
  ASSERT_TRUE(restored->ImportState(router_->ExportState()).ok());
  listener_.Take();
  // The same traffic into both: releases free agents (queued contacts go
  // to them), new contacts, a customer with history.
  auto both = [&](auto&& call) {
    call(*router_);
    call(*restored);
  };
  both([](Router& r) { ASSERT_TRUE(r.Release("call-a", ContactOutcome::kResolved).ok()); });
  both([](Router& r) { ASSERT_TRUE(r.SetAgentState("bo", AgentState::kAvailable).ok()); });
  clock_.Advance(absl::Seconds(3));
  both([](Router& r) { ASSERT_TRUE(r.Release("call-b", ContactOutcome::kResolved).ok()); });
  std::vector<std::string> original_told, restored_told;
  for (const Assignment& a : listener_.Take()) {
    original_told.push_back(a.contact_id + "->" + a.agent_id);
  }
  for (const Assignment& a : restored_listener_.Take()) {
    restored_told.push_back(a.contact_id + "->" + a.agent_id);
  }
  EXPECT_FALSE(original_told.empty());
  EXPECT_EQ(restored_told, original_told);

  Contact returning = MakeContact("call-back", {{"billing", 1}});
  returning.customer_id = "cust-1";
  auto x = router_->Route(returning);
  auto y = restored->Route(returning);
  ASSERT_TRUE(x.ok() && y.ok());
  EXPECT_EQ(x->outcome, y->outcome);
  EXPECT_EQ(x->agent_id, y->agent_id);
  EXPECT_EQ(x->queue_position, y->queue_position);
  EXPECT_DOUBLE_EQ(x->score, y->score);
  EXPECT_EQ(Order(*restored), Order(*router_));
}

TEST_F(RouterStateTest, TheRestoredStateExportsAsTheOriginal) {
  BuildMorning();
  const RouterState first = router_->ExportState();
  auto restored = NewRouter();
  ASSERT_TRUE(restored->ImportState(first).ok());
  const RouterState second = restored->ExportState();
  ASSERT_EQ(second.agents.size(), first.agents.size());
  ASSERT_EQ(second.contacts.size(), first.contacts.size());
  auto ids = [](const RouterState& s) {
    std::vector<std::string> out;
    for (const ContactSnapshot& c : s.contacts) {
      out.push_back(absl::StrCat(c.contact.id, "/", c.state, "/", c.agent_id,
                                 "/", absl::FormatTime(c.planned_at)));
    }
    // Held contacts come in table order; queued ones in service order.
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(ids(second), ids(first));
  ASSERT_EQ(second.customers.size(), first.customers.size());
}

TEST_F(RouterStateTest, OffersComeBackAndLapseOnTime) {
  RouterOptions options;
  options.offer_timeout[static_cast<int>(Channel::kChat)] = absl::Seconds(20);
  Build(options);
  AddAvailable(MakeAgent("ana", {{"billing", 3}}, {{"en", 5}}, 1, 1));
  AddAvailable(MakeAgent("bo", {{"billing", 3}}, {{"en", 5}}, 1, 1));
  const RoutingDecision offered =
      RouteOk(MakeContact("chat-1", {{"billing", 1}}, Channel::kChat));
  ASSERT_TRUE(offered.offered);
  clock_.Advance(absl::Seconds(5));

  auto restored = NewRouter(options);
  ASSERT_TRUE(restored->ImportState(router_->ExportState()).ok());
  auto status = restored->GetContact("chat-1");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state, ContactStatus::State::kOffered);
  EXPECT_EQ(status->offer_expires_at, offered.offer_expires_at);
  EXPECT_EQ(restored->AdvanceQueues(), 0);  // Not yet due.
  clock_.Advance(absl::Seconds(16));
  EXPECT_EQ(restored->AdvanceQueues(), 1);
  const std::vector<ExpiredOffer> expired = restored_listener_.TakeExpired();
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].agent_id, offered.agent_id);
  // Offered to the other agent at once, as the original would.
  EXPECT_EQ(router_->AdvanceQueues(), 1);
  EXPECT_EQ(restored->GetContact("chat-1")->agent_id,
            router_->GetContact("chat-1")->agent_id);
}

TEST_F(RouterStateTest, AnAgentWithRoomTakesWaitingWorkWhenImported) {
  // A state exported while a release was under way: ana is free and a
  // contact she can take waits. The import settles it as a release would.
  RouterState state;
  AgentSnapshot ana;
  ana.profile = MakeAgent("ana", {{"billing", 3}});
  ana.state = AgentState::kAvailable;
  ana.state_since = clock_.Now() - absl::Minutes(5);
  state.agents.push_back(ana);
  ContactSnapshot waiting;
  waiting.contact = MakeContact("call-1", {{"billing", 1}});
  waiting.contact.enqueue_time = clock_.Now() - absl::Minutes(2);
  waiting.planned_at = waiting.contact.enqueue_time;
  state.contacts.push_back(waiting);
  auto restored = NewRouter();
  ASSERT_TRUE(restored->ImportState(state).ok());
  const std::vector<Assignment> told = restored_listener_.Take();
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0].contact_id, "call-1");
  EXPECT_EQ(restored->GetContact("call-1")->state,
            ContactStatus::State::kAssigned);
  EXPECT_EQ(restored->GetAgent("ana")->state_since,
            clock_.Now() - absl::Minutes(5));
}

TEST_F(RouterStateTest, ABadStateIsRefusedNamingTheProblemAndLoadsNothing) {
  RouterState base;
  AgentSnapshot ana;
  ana.profile = MakeAgent("ana", {{"billing", 3}});
  ana.state = AgentState::kAvailable;
  base.agents.push_back(ana);
  ContactSnapshot held;
  held.contact = MakeContact("call-1", {{"billing", 1}});
  held.state = ContactSnapshot::State::kAssigned;
  held.agent_id = "ana";
  held.planned_at = clock_.Now();
  base.contacts.push_back(held);

  auto expect_refused = [&](const RouterState& state, absl::StatusCode code,
                            const std::string& words) {
    auto restored = NewRouter();
    const absl::Status status = restored->ImportState(state);
    EXPECT_EQ(status.code(), code) << status;
    EXPECT_THAT(status.message(), HasSubstr(words));
    EXPECT_TRUE(restored->AgentIds().empty()) << words;
    EXPECT_EQ(restored->Stats().contacts_held, 0) << words;
    // Refused, and still empty: the same state, fixed, goes in.
    EXPECT_TRUE(restored->ImportState(base).ok());
  };

  RouterState unknown_agent = base;
  unknown_agent.contacts[0].agent_id = "zed";
  expect_refused(unknown_agent, absl::StatusCode::kInvalidArgument,
                 "agent 'zed', who is not in the state's roster");
  RouterState over_capacity = base;
  ContactSnapshot second = held;
  second.contact.id = "call-2";
  over_capacity.contacts.push_back(second);
  expect_refused(over_capacity, absl::StatusCode::kInvalidArgument,
                 "would put agent 'ana' over its capacity (2 on voice");
  RouterState twice = base;
  twice.agents.push_back(ana);
  expect_refused(twice, absl::StatusCode::kInvalidArgument,
                 "agent 'ana' is listed twice");
  RouterState bad_contact = base;
  bad_contact.contacts[0].contact.priority = 99;
  expect_refused(bad_contact, absl::StatusCode::kInvalidArgument,
                 "contact 'call-1' of the state");
  RouterState bad_profile = base;
  bad_profile.agents[0].profile.skills.push_back({"billing", 2});
  expect_refused(bad_profile, absl::StatusCode::kInvalidArgument,
                 "agent 1 of the state");

  // A router already in use is refused.
  auto used = NewRouter();
  ASSERT_TRUE(used->AddAgent(MakeAgent("x", {{"billing", 1}})).ok());
  EXPECT_EQ(used->ImportState(base).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(used->AgentIds().size(), 1u);
}

TEST_F(RouterStateTest, AContactWhoseSkillNobodyHasNowStillComesBack) {
  AddAvailable(MakeAgent("ana", {{"billing", 3}}));
  ASSERT_TRUE(router_->AddAgent(MakeAgent("rare", {{"latin", 3}})).ok());
  RouteOk(MakeContact("call-1", {{"latin", 1}}));
  ASSERT_TRUE(router_->RemoveAgent("rare").ok());
  auto restored = NewRouter();
  ASSERT_TRUE(restored->ImportState(router_->ExportState()).ok());
  auto status = restored->GetContact("call-1");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state, ContactStatus::State::kQueued);
}

TEST_F(RouterStateTest, OneAgentOrContactExportsAsTheWholeStateListsIt) {
  BuildMorning();
  const RouterState state = router_->ExportState();
  for (const AgentSnapshot& agent : state.agents) {
    auto one = router_->ExportAgent(agent.profile.id);
    ASSERT_TRUE(one.ok()) << one.status();
    EXPECT_EQ(one->state, agent.state);
    EXPECT_EQ(one->state_since, agent.state_since);
    EXPECT_EQ(one->idle_since, agent.idle_since);
    EXPECT_EQ(one->handled, agent.handled);
  }
  absl::Time previous_arrival = absl::InfinitePast();
  for (const ContactSnapshot& contact : state.contacts) {
    auto one = router_->ExportContact(contact.contact.id);
    ASSERT_TRUE(one.ok()) << one.status();
    EXPECT_EQ(one->state, contact.state);
    EXPECT_EQ(one->agent_id, contact.agent_id);
    EXPECT_EQ(one->planned_at, contact.planned_at);
    EXPECT_EQ(one->aged_arrival, contact.aged_arrival);
    if (contact.state == ContactSnapshot::State::kQueued) {
      // Queued contacts come in service order: aged arrival first.
      EXPECT_LE(previous_arrival, contact.aged_arrival) << contact.contact.id;
      previous_arrival = contact.aged_arrival;
    }
  }
  EXPECT_EQ(router_->ExportContact("nobody").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(router_->ExportAgent("nobody").status().code(),
            absl::StatusCode::kNotFound);
}

// A visit reads in place what the export copies: the same fields, and the
// same refusals (without calling the visitor).
TEST_F(RouterStateTest, AVisitShowsWhatTheExportCopies) {
  BuildMorning();
  const RouterState state = router_->ExportState();
  ASSERT_FALSE(state.agents.empty());
  ASSERT_FALSE(state.contacts.empty());
  for (const AgentSnapshot& agent : state.agents) {
    int visits = 0;
    ASSERT_TRUE(router_
                    ->VisitAgent(agent.profile.id,
                                 [&](const AgentView& view) {
                                   ++visits;
                                   const AgentSnapshot copy = SnapshotOf(view);
                                   EXPECT_EQ(copy.profile.id, agent.profile.id);
                                   EXPECT_EQ(copy.profile.skills.size(),
                                             agent.profile.skills.size());
                                   EXPECT_EQ(copy.state, agent.state);
                                   EXPECT_EQ(copy.idle_since, agent.idle_since);
                                   EXPECT_EQ(copy.handled, agent.handled);
                                   EXPECT_EQ(copy.contacts_handled,
                                             agent.contacts_handled);
                                 })
                    .ok());
    EXPECT_EQ(visits, 1);
  }
  for (const ContactSnapshot& contact : state.contacts) {
    int visits = 0;
    ASSERT_TRUE(router_
                    ->VisitContact(contact.contact.id,
                                   [&](const ContactView& view) {
                                     ++visits;
                                     EXPECT_EQ(view.contact->id,
                                               contact.contact.id);
                                     EXPECT_EQ(view.contact->queue,
                                               contact.contact.queue);
                                     EXPECT_EQ(view.state, contact.state);
                                     EXPECT_EQ(view.agent_id, contact.agent_id);
                                     EXPECT_EQ(view.placement,
                                               contact.placement);
                                     EXPECT_EQ(view.aged_arrival,
                                               contact.aged_arrival);
                                   })
                    .ok());
    EXPECT_EQ(visits, 1);
  }
  bool called = false;
  EXPECT_EQ(router_->VisitContact("nobody", [&](const ContactView&) {
                      called = true;
                    }).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(router_->VisitAgent("nobody", [&](const AgentView&) {
                      called = true;
                    }).code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(called);

  // In place, the host's pointer shows; a copy leaves it out.
  int host_call = 0;
  Contact hosted = MakeContact("call-hosted", {{"billing", 1}});
  hosted.user_data = &host_call;
  RouteOk(hosted);
  ASSERT_TRUE(router_
                  ->VisitContact("call-hosted",
                                 [&](const ContactView& view) {
                                   EXPECT_EQ(view.contact->user_data,
                                             &host_call);
                                   EXPECT_EQ(SnapshotOf(view).contact.user_data,
                                             nullptr);
                                 })
                  .ok());
}

TEST(HistoryKeyTest, IsTheSameInEveryProcess) {
  // Snapshots hold these keys: a change of the hash would lose every
  // customer's history on the next restart.
  EXPECT_EQ(HistoryKey("cust-1"), 0x25f5f1c71bbace45ull);
  EXPECT_NE(HistoryKey("cust-1"), HistoryKey("cust-2"));
}

}  // namespace
}  // namespace routing::testing
