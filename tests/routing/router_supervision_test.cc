// What supervisors read from the Router: the waiting contacts of each queue
// (QueuedContacts, GetContact's position), outcome KPIs per queue and per
// agent (FCR, AHT, CSAT, NPS), the 5/15/60-minute windows, the histogram of
// answered waits, and each queue's agents by state.
#include <memory>
#include <optional>
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

ContactSurvey Survey(std::optional<int> csat, std::optional<int> nps) {
  ContactSurvey survey;
  survey.csat = csat;
  survey.nps = nps;
  return survey;
}

class RouterSupervisionTest : public ::routing::testing::ManualClockRouterTest {
 protected:
  // The queue's statistics now (a copy: Stats() returns a fresh snapshot).
  std::optional<QueueStats> QueueNow(const std::string& name) {
    RouterStats stats = router_->Stats();
    for (const QueueStats& q : stats.queues) {
      if (q.queue == name) return q;
    }
    return std::nullopt;
  }
  static const QueueStats* QueueNamed(const RouterStats& stats,
                                      const std::string& name) {
    for (const QueueStats& q : stats.queues) {
      if (q.queue == name) return &q;
    }
    return nullptr;
  }

  // Routes a billing call for `customer` to the free agent "ann", holds it
  // for `handle`, and releases it with `outcome` and `survey`.
  absl::Status HandleCall(const std::string& id, const std::string& customer,
                          absl::Duration handle, ContactOutcome outcome,
                          ContactSurvey survey = {}) {
    Contact c = MakeContact(id, {{"billing", 1}});
    c.customer_id = customer;
    absl::StatusOr<RoutingDecision> d = router_->Route(c);
    if (!d.ok()) return d.status();
    if (d->outcome != DecisionOutcome::kAssigned) {
      return absl::InternalError("expected an assignment");
    }
    clock_.Advance(handle);
    return router_->Release(id, outcome, survey);
  }
};

// --- Waiting contacts ------------------------------------------------------

TEST_F(RouterSupervisionTest, QueuedContactsListEachQueueInServiceOrder) {
  ASSERT_TRUE(router_->AddAgent(MakeAgent("ann", {{"billing", 3}})).ok());
  ASSERT_TRUE(router_->AddAgent(MakeAgent("bob", {{"sales", 3}})).ok());
  RouteOk(MakeContact("b1", {{"billing", 1}}));
  clock_.Advance(absl::Seconds(10));
  RouteOk(MakeContact("s1", {{"sales", 1}}));
  clock_.Advance(absl::Seconds(10));
  Contact urgent = MakeContact("b2", {{"billing", 1}});
  urgent.priority = 2;  // 60 s of aging: goes before b1's 20 s.
  RouteOk(urgent);
  clock_.Advance(absl::Seconds(5));

  std::vector<QueuedContact> billing = router_->QueuedContacts("billing");
  ASSERT_EQ(billing.size(), 2u);
  EXPECT_EQ(billing[0].contact.id, "b2");
  EXPECT_EQ(billing[0].queue_position, 1);
  EXPECT_EQ(billing[0].contact.priority, 2);
  EXPECT_EQ(billing[0].waited, absl::Seconds(5));
  EXPECT_EQ(billing[1].contact.id, "b1");
  EXPECT_EQ(billing[1].queue_position, 2);
  EXPECT_EQ(billing[1].waited, absl::Seconds(25));
  EXPECT_EQ(billing[1].contact.queue, "billing");

  std::vector<QueuedContact> all = router_->QueuedContacts("");
  std::vector<std::string> ids;
  for (const QueuedContact& q : all) ids.push_back(q.contact.id);
  EXPECT_THAT(ids, ElementsAre("b2", "b1", "s1"));

  EXPECT_EQ(router_->QueuedContacts("billing", 1).size(), 1u);
  EXPECT_TRUE(router_->QueuedContacts("no-such-queue").empty());
  EXPECT_TRUE(router_->QueuedContacts("billing", 0).empty());

  // GetContact agrees on the position; a contact that leaves moves the rest.
  ASSERT_TRUE(router_->Cancel("b2").ok());
  absl::StatusOr<ContactStatus> b1 = router_->GetContact("b1");
  ASSERT_TRUE(b1.ok()) << b1.status();
  EXPECT_EQ(b1->state, ContactStatus::State::kQueued);
  EXPECT_EQ(b1->queue_position, 1);
  EXPECT_EQ(router_->QueuedContacts("billing").size(), 1u);
}

TEST_F(RouterSupervisionTest, AssignedContactsAreNotListedAsWaiting) {
  AddAvailable(MakeAgent("ann", {{"billing", 3}}));
  RouteOk(MakeContact("b1", {{"billing", 1}}));
  RouteOk(MakeContact("b2", {{"billing", 1}}));
  std::vector<QueuedContact> waiting = router_->QueuedContacts("billing");
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0].contact.id, "b2");
  absl::StatusOr<ContactStatus> b1 = router_->GetContact("b1");
  ASSERT_TRUE(b1.ok());
  EXPECT_EQ(b1->state, ContactStatus::State::kAssigned);
  EXPECT_EQ(b1->queue_position, 0);
}

// --- Surveys and KPIs ------------------------------------------------------

TEST_F(RouterSupervisionTest, OutOfRangeSurveyIsRefusedAndChangesNothing) {
  AddAvailable(MakeAgent("ann", {{"billing", 3}}));
  RouteOk(MakeContact("b1", {{"billing", 1}}));
  absl::Status csat = router_->Release("b1", ContactOutcome::kResolved,
                                       Survey(6, std::nullopt));
  EXPECT_EQ(csat.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(csat.message(), HasSubstr("csat 6"));
  EXPECT_THAT(csat.message(), HasSubstr("1..5"));
  absl::Status nps = router_->Release("b1", ContactOutcome::kResolved,
                                      Survey(std::nullopt, -1));
  EXPECT_EQ(nps.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(nps.message(), HasSubstr("nps -1"));
  EXPECT_EQ(router_->Release("b1", ContactOutcome::kResolved,
                             Survey(0, std::nullopt))
                .code(),
            absl::StatusCode::kInvalidArgument);
  // Still assigned, nothing counted.
  absl::StatusOr<ContactStatus> b1 = router_->GetContact("b1");
  ASSERT_TRUE(b1.ok());
  EXPECT_EQ(b1->state, ContactStatus::State::kAssigned);
  RouterStats stats = router_->Stats();
  EXPECT_EQ(stats.released, 0);
  EXPECT_EQ(QueueNamed(stats, "billing")->kpis.released, 0);
  // The edges of the ranges are accepted.
  EXPECT_TRUE(router_->Release("b1", ContactOutcome::kResolved,
                               Survey(5, 0))
                  .ok());
}

TEST_F(RouterSupervisionTest, KpisPerQueueAndPerAgent) {
  AddAvailable(MakeAgent("ann", {{"billing", 3}}));
  ASSERT_TRUE(HandleCall("c1", "cust-1", absl::Minutes(4),
                         ContactOutcome::kResolved,
                         Survey(5, 10))
                  .ok());
  ASSERT_TRUE(HandleCall("c2", "cust-2", absl::Minutes(2),
                         ContactOutcome::kUnresolved,
                         Survey(2, 3))
                  .ok());
  ASSERT_TRUE(HandleCall("c3", "", absl::Minutes(6),
                         ContactOutcome::kResolved, Survey(std::nullopt, 8))
                  .ok());
  std::optional<QueueStats> billing = QueueNow("billing");
  ASSERT_TRUE(billing.has_value());
  const ContactKpis& k = billing->kpis;
  EXPECT_EQ(k.released, 3);
  EXPECT_EQ(k.resolved, 2);
  EXPECT_EQ(k.first_contact_resolved, 2);
  EXPECT_NEAR(k.FirstContactResolution(), 2.0 / 3, 1e-9);
  EXPECT_EQ(k.AverageHandleTime(), absl::Minutes(4));
  EXPECT_EQ(k.csat_responses, 2);
  EXPECT_DOUBLE_EQ(k.AverageCsat(), 3.5);
  EXPECT_EQ(k.nps_responses, 3);
  EXPECT_EQ(k.promoters, 1);
  EXPECT_EQ(k.detractors, 1);
  EXPECT_DOUBLE_EQ(k.NetPromoterScore(), 0.0);

  absl::StatusOr<AgentStatus> ann = router_->GetAgent("ann");
  ASSERT_TRUE(ann.ok());
  EXPECT_EQ(ann->kpis.released, 3);
  EXPECT_EQ(ann->kpis.resolved, 2);
  EXPECT_EQ(ann->kpis.AverageHandleTime(), absl::Minutes(4));
  EXPECT_DOUBLE_EQ(ann->kpis.AverageCsat(), 3.5);

  // A re-added agent starts again from zero.
  ASSERT_TRUE(router_->RemoveAgent("ann").ok());
  ASSERT_TRUE(router_->AddAgent(MakeAgent("ann", {{"billing", 3}})).ok());
  EXPECT_EQ(router_->GetAgent("ann")->kpis.released, 0);
}

TEST_F(RouterSupervisionTest, RepeatContactWithinTheWindowIsNotFirstContact) {
  RouterOptions options;
  options.fcr_window = absl::Hours(24);
  Build(options);
  AddAvailable(MakeAgent("ann", {{"billing", 3}, {"sales", 3}}));
  // cust-1 calls, is not helped, calls back two hours later and is resolved:
  // the second call is not a first-contact resolution.
  ASSERT_TRUE(HandleCall("c1", "cust-1", absl::Minutes(3),
                         ContactOutcome::kUnresolved)
                  .ok());
  clock_.Advance(absl::Hours(2));
  ASSERT_TRUE(
      HandleCall("c2", "cust-1", absl::Minutes(3), ContactOutcome::kResolved)
          .ok());
  // Two days later the window has passed: resolved first time again.
  clock_.Advance(absl::Hours(48));
  ASSERT_TRUE(
      HandleCall("c3", "cust-1", absl::Minutes(3), ContactOutcome::kResolved)
          .ok());
  // Another queue does not count as a repeat.
  Contact sales = MakeContact("s1", {{"sales", 1}});
  sales.customer_id = "cust-1";
  ASSERT_EQ(RouteOk(sales).outcome, DecisionOutcome::kAssigned);
  ASSERT_TRUE(router_->Release("s1", ContactOutcome::kResolved).ok());

  RouterStats stats = router_->Stats();
  const ContactKpis& billing = QueueNamed(stats, "billing")->kpis;
  EXPECT_EQ(billing.released, 3);
  EXPECT_EQ(billing.resolved, 2);
  EXPECT_EQ(billing.first_contact_resolved, 1);
  EXPECT_EQ(QueueNamed(stats, "sales")->kpis.first_contact_resolved, 1);
  // The agent's count follows the same rule, over both queues.
  absl::StatusOr<AgentStatus> ann = router_->GetAgent("ann");
  ASSERT_TRUE(ann.ok());
  EXPECT_EQ(ann->kpis.resolved, 3);
  EXPECT_EQ(ann->kpis.first_contact_resolved, 2);
}

TEST_F(RouterSupervisionTest, FcrWindowOutOfRangeIsRefused) {
  RouterOptions options;
  options.fcr_window = absl::ZeroDuration();
  absl::StatusOr<std::unique_ptr<Router>> router = Router::Create(options);
  EXPECT_EQ(router.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(router.status().message(), HasSubstr("fcr_window"));
}

// --- Windows and histograms ------------------------------------------------

TEST_F(RouterSupervisionTest, WindowsForgetWhatIsOlderThanTheirSpan) {
  ASSERT_TRUE(router_->AddAgent(MakeAgent("ann", {{"billing", 3}})).ok());
  // Minute 0: one abandoned after waiting; one answered after 40 s (outside
  // the 20 s service level).
  RouteOk(MakeContact("gone", {{"billing", 1}}));
  ASSERT_TRUE(router_->Cancel("gone").ok());
  RouteOk(MakeContact("slow", {{"billing", 1}}));
  clock_.Advance(absl::Seconds(40));
  ASSERT_TRUE(router_->SetAgentState("ann", AgentState::kAvailable).ok());
  ASSERT_TRUE(router_->Release("slow", ContactOutcome::kResolved).ok());
  // Ten minutes later: one answered at once.
  clock_.Advance(absl::Minutes(10));
  RouteOk(MakeContact("fast", {{"billing", 1}}));

  std::optional<QueueStats> q = QueueNow("billing");
  ASSERT_TRUE(q.has_value());
  const QueueWindowStats& last5 = q->recent[0];
  EXPECT_EQ(last5.span, absl::Minutes(5));
  EXPECT_EQ(last5.answered, 1);
  EXPECT_EQ(last5.abandoned, 0);
  EXPECT_DOUBLE_EQ(last5.service_level, 1.0);
  EXPECT_EQ(last5.average_speed_of_answer, absl::ZeroDuration());
  const QueueWindowStats& last15 = q->recent[1];
  EXPECT_EQ(last15.answered, 2);
  EXPECT_EQ(last15.answered_in_service_level, 1);
  EXPECT_EQ(last15.abandoned, 1);
  EXPECT_NEAR(last15.service_level, 1.0 / 3, 1e-9);
  EXPECT_NEAR(last15.abandonment_rate, 1.0 / 3, 1e-9);
  EXPECT_EQ(last15.average_speed_of_answer, absl::Seconds(20));
  EXPECT_EQ(q->recent[2].answered, 2);

  // An hour on, every window is empty again; the cumulative counts stay.
  clock_.Advance(absl::Minutes(61));
  q = QueueNow("billing");
  for (const QueueWindowStats& w : q->recent) {
    EXPECT_EQ(w.answered + w.abandoned, 0) << absl::FormatDuration(w.span);
    EXPECT_DOUBLE_EQ(w.service_level, 1.0);
  }
  EXPECT_EQ(q->answered, 2);
  EXPECT_EQ(q->abandoned, 1);
}

TEST_F(RouterSupervisionTest, AnsweredWaitsFallInTheirBuckets) {
  ASSERT_TRUE(router_->AddAgent(MakeAgent("ann", {{"billing", 3}}, {{"en", 5}},
                                          /*voice=*/3))
                  .ok());
  RouteOk(MakeContact("w0", {{"billing", 1}}));
  clock_.Advance(absl::Seconds(20));  // w0 waits exactly 20 s: <= 20 bucket.
  RouteOk(MakeContact("w1", {{"billing", 1}}));
  clock_.Advance(absl::Seconds(700));  // w0 720 s, w1 700 s: beyond 600 s.
  RouteOk(MakeContact("w2", {{"billing", 1}}));
  ASSERT_TRUE(router_->SetAgentState("ann", AgentState::kAvailable).ok());
  std::optional<QueueStats> q = QueueNow("billing");
  ASSERT_TRUE(q.has_value());
  int64_t total = 0;
  for (int64_t n : q->answer_wait_buckets) total += n;
  EXPECT_EQ(total, 3);
  EXPECT_EQ(q->answer_wait_buckets[0], 1);  // w2: 0 s, <= 5 s.
  EXPECT_EQ(q->answer_wait_buckets[kAnswerWaitBoundCount], 2);
  EXPECT_EQ(q->total_answer_wait, absl::Seconds(1420));
}

// --- The queue's agents -----------------------------------------------------

TEST_F(RouterSupervisionTest, QueueAgentsAreThoseQualifiedForItsLatestContact) {
  AddAvailable(MakeAgent("ann", {{"billing", 3}}));
  ASSERT_TRUE(router_->AddAgent(MakeAgent("bob", {{"billing", 1}})).ok());
  AddAvailable(MakeAgent("cy", {{"sales", 5}}));
  ASSERT_TRUE(router_->SetAgentState("bob", AgentState::kBreak).ok());
  RouteOk(MakeContact("b1", {{"billing", 2}}));  // ann only (bob is 1/5).
  clock_.Advance(absl::Minutes(10));
  ASSERT_TRUE(router_->Release("b1", ContactOutcome::kResolved).ok());

  std::optional<QueueStats> q = QueueNow("billing");
  ASSERT_TRUE(q.has_value());
  auto state = [&](AgentState s) {
    return q->agents_by_state[static_cast<int>(s)];
  };
  EXPECT_EQ(state(AgentState::kAvailable), 1);  // ann; cy lacks billing.
  EXPECT_EQ(state(AgentState::kBreak), 0);      // bob is below level 2.
  EXPECT_DOUBLE_EQ(q->occupancy, 1.0);  // ann handled b1 all her 10 minutes.

  // A contact needing level 1 widens the queue to bob.
  RouteOk(MakeContact("b2", {{"billing", 1}}));
  q = QueueNow("billing");
  EXPECT_EQ(state(AgentState::kBreak), 1);
}

}  // namespace
}  // namespace routing
