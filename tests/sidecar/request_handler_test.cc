#include "sidecar/request_handler.h"

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "flatbuffers/flatbuffers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "routing/clock.h"
#include "routing/router.h"
#include "sidecar/event_topics.h"
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
  // `clock` null: the system clock.
  // `run_id` 0: the process's.
  explicit HandlerFixture(const Clock* clock = nullptr, uint64_t run_id = 0)
      : publisher_(&metrics_, absl::Seconds(20), clock, run_id) {
    RouterOptions options;
    options.clock = clock;
    options.listener = &publisher_;
    options.max_agents = 1000;
    options.max_contacts = 10000;
    router_ = Router::Create(options).value();
    RequestHandlerOptions handler_options;
    handler_options.clock = clock;
    handler_options.run_id = run_id;
    handler_ = std::make_unique<RequestHandler>(router_.get(), &metrics_,
                                                handler_options);
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

  const wire::Reply* Route(const std::string& id, const HandoffContext* handoff,
                           int priority = 0,
                           const std::string& customer_id = "") {
    Contact contact;
    contact.id = id;
    contact.channel = Channel::kChat;
    contact.priority = priority;
    contact.customer_id = customer_id;
    contact.required_skills = {{"billing", 2}};
    flatbuffers::FlatBufferBuilder fbb;
    auto c = BuildContact(fbb, contact, handoff);
    FinishRequest(fbb, ++id_, wire::RequestBody::RouteContact,
                  wire::CreateRouteContact(fbb, c).Union());
    return Send(fbb);
  }

  const wire::Reply* Release(
      const std::string& id,
      flatbuffers::Optional<int32_t> csat = flatbuffers::nullopt,
      flatbuffers::Optional<int32_t> nps = flatbuffers::nullopt) {
    flatbuffers::FlatBufferBuilder fbb;
    auto r = wire::CreateReleaseContact(fbb, fbb.CreateString(id),
                                        wire::Outcome::Resolved, csat, nps);
    FinishRequest(fbb, ++id_, wire::RequestBody::ReleaseContact, r.Union());
    return Send(fbb);
  }

  const wire::Reply* GetContact(const std::string& id) {
    flatbuffers::FlatBufferBuilder fbb;
    auto g = wire::CreateGetContact(fbb, fbb.CreateString(id));
    FinishRequest(fbb, ++id_, wire::RequestBody::GetContact, g.Union());
    return Send(fbb);
  }

  const wire::Reply* ListContacts(const std::string& queue, int limit = 1000) {
    flatbuffers::FlatBufferBuilder fbb;
    auto l = wire::CreateListContacts(fbb, fbb.CreateString(queue), limit);
    FinishRequest(fbb, ++id_, wire::RequestBody::ListContacts, l.Union());
    return Send(fbb);
  }

  const wire::Stats* Stats() {
    flatbuffers::FlatBufferBuilder fbb;
    FinishRequest(fbb, ++id_, wire::RequestBody::GetStats,
                  wire::CreateGetStats(fbb, 60).Union());
    const wire::Reply* reply = Send(fbb);
    EXPECT_EQ(reply->body_type(), wire::ReplyBody::Stats);
    return reply->body_as_Stats();
  }

  const wire::AgentList* Agents() {
    flatbuffers::FlatBufferBuilder fbb;
    FinishRequest(fbb, ++id_, wire::RequestBody::ListAgents,
                  wire::CreateListAgents(fbb).Union());
    const wire::Reply* reply = Send(fbb);
    EXPECT_EQ(reply->body_type(), wire::ReplyBody::AgentList);
    return reply->body_as_AgentList();
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
  const std::string alice = AgentTopic("alice");
  const std::string billing = QueueTopic("billing");
  const std::string chat1 = ContactTopic("chat-1");
  const std::string chat2 = ContactTopic("chat-2");
  // Added (logged out), available, chat-1 assigned at once, chat-2 queued,
  // chat-2 assigned from its queue as chat-1's release frees alice, then
  // chat-1 released.
  EXPECT_THAT(topics,
              ElementsAre(alice, alice, chat1, billing, alice, chat2, billing,
                          chat2, billing, alice, chat1, billing, alice));
  ASSERT_EQ(events.size(), 13u);
  const wire::ContactAssigned* assigned =
      events[7].get()->body_as_ContactAssigned();
  ASSERT_NE(assigned, nullptr);
  EXPECT_FALSE(assigned->immediate());
  EXPECT_EQ(assigned->contact_id()->str(), "chat-2");
  EXPECT_EQ(assigned->agent_id()->str(), "alice");
  EXPECT_EQ(assigned->context()->intent()->str(), "billing.dispute");
  EXPECT_EQ(assigned->context()->summary()->str(), "charged twice");
  ASSERT_EQ(assigned->context()->attributes()->size(), 1u);
  EXPECT_EQ(assigned->context()->attributes()->Get(0)->value()->str(), "A-17");
  EXPECT_GT(events[7].get()->sequence(), events[5].get()->sequence());
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

// Contacts, surveys and KPIs on a clock the test moves.
struct ManualTime {
  ManualClock clock{absl::FromUnixSeconds(1'800'000'000)};
};

class LiveOperationsTest : public ManualTime, public HandlerFixture {
 protected:
  LiveOperationsTest() : HandlerFixture(&clock) {}

  // Ids, positions and waits (s) of a ContactList, in its order.
  static std::vector<std::tuple<std::string, int64_t, int64_t>> Listed(
      const wire::Reply* reply) {
    EXPECT_EQ(reply->body_type(), wire::ReplyBody::ContactList);
    std::vector<std::tuple<std::string, int64_t, int64_t>> listed;
    for (const wire::ContactInfo* c :
         *reply->body_as_ContactList()->contacts()) {
      listed.emplace_back(c->id()->str(), c->queue_position(),
                          c->waited_ms() / 1000);
    }
    return listed;
  }
};

TEST_F(LiveOperationsTest, ListContactsInServiceOrderWithPositionsAndWaits) {
  AddAgent("alice", 1);
  SetState("alice", AgentState::kAvailable);
  ASSERT_EQ(Route("chat-1", nullptr)->body_as_Decision()->outcome(),
            wire::DecisionOutcome::Assigned);
  ASSERT_EQ(Route("chat-2", nullptr)->body_as_Decision()->queue_position(), 1);
  clock.Advance(absl::Seconds(10));
  // Priority 3 ages it 3 x 30 s: ahead of chat-2, which came 10 s earlier.
  ASSERT_EQ(Route("chat-3", nullptr, 3)->body_as_Decision()->queue_position(),
            1);
  clock.Advance(absl::Seconds(5));
  ASSERT_EQ(Route("chat-4", nullptr)->body_as_Decision()->queue_position(), 3);
  clock.Advance(absl::Seconds(2));

  using Row = std::tuple<std::string, int64_t, int64_t>;
  EXPECT_THAT(Listed(ListContacts("")),
              ElementsAre(Row{"chat-3", 1, 7}, Row{"chat-2", 2, 17},
                          Row{"chat-4", 3, 2}));
  EXPECT_THAT(Listed(ListContacts("billing")),
              ElementsAre(Row{"chat-3", 1, 7}, Row{"chat-2", 2, 17},
                          Row{"chat-4", 3, 2}));
  const wire::Reply* all = ListContacts("billing");
  EXPECT_FALSE(all->body_as_ContactList()->truncated());
  const wire::ContactInfo* first =
      all->body_as_ContactList()->contacts()->Get(0);
  EXPECT_EQ(first->queue()->str(), "billing");
  EXPECT_EQ(first->channel(), wire::ChannelKind::Chat);
  EXPECT_EQ(first->state(), wire::ContactStateKind::Queued);
  EXPECT_EQ(first->priority(), 3);
  EXPECT_EQ(first->rules_step(), 0);
  EXPECT_EQ(first->enqueued_at_unix_ms(),
            absl::ToUnixMillis(clock.Now() - absl::Seconds(7)));

  const wire::Reply* first_two = ListContacts("billing", 2);
  EXPECT_THAT(Listed(first_two),
              ElementsAre(Row{"chat-3", 1, 7}, Row{"chat-2", 2, 17}));
  EXPECT_TRUE(first_two->body_as_ContactList()->truncated());
  EXPECT_TRUE(Listed(ListContacts("sales")).empty());

  const wire::Reply* bad = ListContacts("billing", 0);
  ASSERT_EQ(bad->body_type(), wire::ReplyBody::Error);
  EXPECT_EQ(bad->body_as_Error()->code(), wire::ErrorCode::InvalidArgument);
  EXPECT_THAT(bad->body_as_Error()->message()->str(),
              HasSubstr("list_contacts.limit 0 is outside 1..1000"));

  // Released, chat-1's agent takes the first in line; the rest move up.
  EXPECT_EQ(Release("chat-1")->body_type(), wire::ReplyBody::Ack);
  EXPECT_THAT(Listed(ListContacts("")),
              ElementsAre(Row{"chat-2", 1, 17}, Row{"chat-4", 2, 2}));
}

TEST_F(LiveOperationsTest, GetContactShowsQueuedAndAssignedContacts) {
  AddAgent("alice", 1);
  SetState("alice", AgentState::kAvailable);
  Route("chat-1", nullptr, 0, "cust-1");
  const absl::Time assigned_at = clock.Now();
  Route("chat-2", nullptr, 4, "cust-2");
  clock.Advance(absl::Seconds(42));

  const wire::Reply* reply = GetContact("chat-1");
  ASSERT_EQ(reply->body_type(), wire::ReplyBody::ContactInfo);
  const wire::ContactInfo* assigned = reply->body_as_ContactInfo();
  EXPECT_EQ(assigned->id()->str(), "chat-1");
  EXPECT_EQ(assigned->state(), wire::ContactStateKind::Assigned);
  EXPECT_EQ(assigned->agent_id()->str(), "alice");
  EXPECT_EQ(assigned->customer_id()->str(), "cust-1");
  EXPECT_EQ(assigned->queue()->str(), "billing");
  EXPECT_EQ(assigned->assigned_at_unix_ms(), absl::ToUnixMillis(assigned_at));
  EXPECT_EQ(assigned->waited_ms(), 0);  // Assigned on arrival.
  EXPECT_EQ(assigned->queue_position(), 0);

  reply = GetContact("chat-2");
  ASSERT_EQ(reply->body_type(), wire::ReplyBody::ContactInfo);
  const wire::ContactInfo* queued = reply->body_as_ContactInfo();
  EXPECT_EQ(queued->state(), wire::ContactStateKind::Queued);
  EXPECT_EQ(queued->queue_position(), 1);
  EXPECT_EQ(queued->waited_ms(), 42'000);
  EXPECT_EQ(queued->priority(), 4);
  EXPECT_EQ(queued->agent_id(), nullptr);
  EXPECT_EQ(queued->assigned_at_unix_ms(), 0);

  reply = GetContact("chat-404");
  ASSERT_EQ(reply->body_type(), wire::ReplyBody::Error);
  EXPECT_EQ(reply->body_as_Error()->code(), wire::ErrorCode::NotFound);
  EXPECT_THAT(reply->body_as_Error()->message()->str(), HasSubstr("chat-404"));
  reply = GetContact("");
  EXPECT_EQ(reply->body_as_Error()->code(), wire::ErrorCode::InvalidArgument);
  EXPECT_THAT(reply->body_as_Error()->message()->str(),
              HasSubstr("get_contact.contact_id is empty"));
}

TEST_F(LiveOperationsTest, SurveyOutOfRangeIsRefusedAndChangesNothing) {
  AddAgent("alice", 1);
  SetState("alice", AgentState::kAvailable);
  Route("chat-1", nullptr);
  struct Case {
    flatbuffers::Optional<int32_t> csat, nps;
    std::string named;
  };
  for (const Case& c :
       {Case{6, flatbuffers::nullopt, "csat 6"}, Case{0, 5, "csat 0"},
        Case{flatbuffers::nullopt, 11, "nps 11"}, Case{3, -1, "nps -1"}}) {
    const wire::Reply* reply = Release("chat-1", c.csat, c.nps);
    ASSERT_EQ(reply->body_type(), wire::ReplyBody::Error) << c.named;
    EXPECT_EQ(reply->body_as_Error()->code(), wire::ErrorCode::InvalidArgument);
    EXPECT_THAT(reply->body_as_Error()->message()->str(), HasSubstr(c.named));
  }
  // Also for a contact the router does not hold: the survey is checked first.
  EXPECT_EQ(Release("nobody", 9)->body_as_Error()->code(),
            wire::ErrorCode::InvalidArgument);

  EXPECT_EQ(GetContact("chat-1")->body_as_ContactInfo()->state(),
            wire::ContactStateKind::Assigned);
  const wire::Stats* stats = Stats();
  EXPECT_EQ(stats->released(), 0);
  EXPECT_EQ(stats->queues()->Get(0)->kpis()->released(), 0);
  EXPECT_EQ(Agents()->agents()->Get(0)->kpis()->released(), 0);
  EXPECT_EQ(Agents()->agents()->Get(0)->contacts_handled(), 0);
}

TEST_F(LiveOperationsTest, SurveysShowInQueueAndAgentKpis) {
  AddAgent("alice", 1);
  SetState("alice", AgentState::kAvailable);
  clock.Advance(absl::Seconds(30));
  Route("chat-1", nullptr, 0, "cust-1");
  clock.Advance(absl::Minutes(4));
  ASSERT_EQ(Release("chat-1", 5, 10)->body_type(), wire::ReplyBody::Ack);
  // The same customer again within the FCR window: not a first contact.
  Route("chat-2", nullptr, 0, "cust-1");
  clock.Advance(absl::Minutes(2));
  ASSERT_EQ(Release("chat-2", 2, 3)->body_type(), wire::ReplyBody::Ack);
  Route("chat-3", nullptr, 0, "cust-3");
  clock.Advance(absl::Minutes(3));
  ASSERT_EQ(Release("chat-3", flatbuffers::nullopt, 8)->body_type(),
            wire::ReplyBody::Ack);

  const wire::Stats* stats = Stats();
  ASSERT_EQ(stats->queues()->size(), 1u);
  const wire::QueueSnapshot* queue = stats->queues()->Get(0);
  const wire::ContactKpis* k = queue->kpis();
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->released(), 3);
  EXPECT_EQ(k->resolved(), 3);
  EXPECT_EQ(k->first_contact_resolved(), 2);
  EXPECT_NEAR(k->first_contact_resolution(), 2.0 / 3, 1e-9);
  EXPECT_EQ(k->total_handle_time_ms(), 9 * 60'000);
  EXPECT_EQ(k->average_handle_time_ms(), 3 * 60'000);
  EXPECT_EQ(k->csat_responses(), 2);
  EXPECT_EQ(k->csat_sum(), 7);
  EXPECT_DOUBLE_EQ(k->csat_average(), 3.5);
  EXPECT_EQ(k->nps_responses(), 3);
  EXPECT_EQ(k->promoters(), 1);
  EXPECT_EQ(k->detractors(), 1);
  EXPECT_DOUBLE_EQ(k->net_promoter_score(), 0.0);
  // The queue's agents and its recent windows.
  ASSERT_EQ(queue->agents_by_state()->size(),
            static_cast<size_t>(kAgentStateCount));
  EXPECT_EQ(
      queue->agents_by_state()->Get(static_cast<int>(AgentState::kAvailable)),
      1);
  ASSERT_EQ(queue->recent()->size(), 3u);
  EXPECT_EQ(queue->recent()->Get(0)->minutes(), 5);
  EXPECT_EQ(queue->recent()->Get(1)->minutes(), 15);
  EXPECT_EQ(queue->recent()->Get(2)->minutes(), 60);
  EXPECT_EQ(queue->recent()->Get(2)->answered(), 3);
  EXPECT_DOUBLE_EQ(queue->recent()->Get(2)->service_level(), 1.0);

  const wire::AgentInfo* alice = Agents()->agents()->Get(0);
  EXPECT_EQ(alice->id()->str(), "alice");
  ASSERT_NE(alice->kpis(), nullptr);
  EXPECT_EQ(alice->kpis()->released(), 3);
  EXPECT_EQ(alice->kpis()->first_contact_resolved(), 2);
  EXPECT_EQ(alice->kpis()->csat_sum(), 7);
  EXPECT_EQ(alice->kpis()->promoters(), 1);
  // Available since the start: 30 s + 4 + 2 + 3 minutes ago.
  EXPECT_EQ(alice->time_in_state_ms(), 30'000 + 9 * 60'000);
  EXPECT_EQ(alice->state_since_unix_ms(),
            absl::ToUnixMillis(absl::FromUnixSeconds(1'800'000'000)));
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

// --- Lifecycle events ------------------------------------------------------

class LifecycleEventsTest : public ManualTime, public HandlerFixture {
 protected:
  static constexpr uint64_t kRunId = 0x5eed;
  LifecycleEventsTest() : HandlerFixture(&clock, kRunId) {}

  const wire::Reply* Requeue(const std::string& id,
                             const std::string& skill = "billing") {
    Contact contact;
    contact.id = id;
    contact.channel = Channel::kChat;
    contact.required_skills = {{skill, 2}};
    flatbuffers::FlatBufferBuilder fbb;
    auto c = BuildContact(fbb, contact, nullptr);
    FinishRequest(fbb, ++id_, wire::RequestBody::RequeueContact,
                  wire::CreateRequeueContact(fbb, c).Union());
    return Send(fbb);
  }
  const wire::Reply* Cancel(const std::string& id) {
    flatbuffers::FlatBufferBuilder fbb;
    auto c = wire::CreateCancelContact(fbb, fbb.CreateString(id));
    FinishRequest(fbb, ++id_, wire::RequestBody::CancelContact, c.Union());
    return Send(fbb);
  }
  const wire::Reply* RemoveAgent(const std::string& id) {
    flatbuffers::FlatBufferBuilder fbb;
    auto r = wire::CreateRemoveAgent(fbb, fbb.CreateString(id));
    FinishRequest(fbb, ++id_, wire::RequestBody::RemoveAgent, r.Union());
    return Send(fbb);
  }
  const wire::Reply* Health() {
    flatbuffers::FlatBufferBuilder fbb;
    FinishRequest(fbb, ++id_, wire::RequestBody::Health,
                  wire::CreateHealth(fbb).Union());
    return Send(fbb);
  }

  // The events published since the last call, as "TOPIC WHAT CONTACT AGENT"
  // lines (topic without its NUL), in publish order.
  std::vector<std::string> Heard() {
    std::vector<PublishedEvent> all = sink_.events();
    std::vector<std::string> lines;
    for (size_t i = consumed_; i < all.size(); ++i) {
      const PublishedEvent& e = all[i];
      EXPECT_EQ(e.topic.back(), '\0') << e.topic;
      EXPECT_EQ(e.get()->run_id(), kRunId);
      std::string line(PrintableTopic(e.topic));
      if (const auto* a = e.get()->body_as_ContactAssigned()) {
        absl::StrAppend(&line,
                        a->immediate() ? " Assigned(immediate) " : " Assigned ",
                        a->contact_id()->str(), " ", a->agent_id()->str());
      } else if (const auto* c = e.get()->body_as_ContactChanged()) {
        absl::StrAppend(&line, " ", wire::EnumNameContactChange(c->change()),
                        " ", c->contact_id()->str(), " ",
                        c->agent_id() != nullptr ? c->agent_id()->str() : "-");
      } else if (const auto* s = e.get()->body_as_AgentStateChanged()) {
        absl::StrAppend(&line, " ", wire::EnumNameAgentStateKind(s->state()),
                        " ", wire::EnumNameAgentStateReason(s->reason()));
      }
      lines.push_back(line);
    }
    consumed_ = all.size();
    return lines;
  }
  const PublishedEvent Last() { return sink_.events().back(); }

  size_t consumed_ = 0;
};

TEST_F(LifecycleEventsTest, EveryStepOfAContactIsPublishedOnItsTopics) {
  ScopedEventSink scoped(&sink_);
  AddAgent("alice", 1);
  AddAgent("bob", 1);
  SetState("alice", AgentState::kAvailable);
  EXPECT_THAT(Heard(), ElementsAre("agent/alice LoggedOut Requested",
                                   "agent/bob LoggedOut Requested",
                                   "agent/alice Available Requested"));

  // Assigned at once: the agent's desktop hears it, with the context.
  HandoffContext handoff;
  handoff.intent = "billing.dispute";
  Route("chat-1", &handoff, 0, "cust-1");
  EXPECT_THAT(Heard(),
              ElementsAre("contact/chat-1 Assigned(immediate) chat-1 alice",
                          "queue/billing Assigned(immediate) chat-1 alice",
                          "agent/alice Assigned(immediate) chat-1 alice"));
  // Kept alive while `assigned` points into it.
  const PublishedEvent last = Last();
  const wire::ContactAssigned* assigned = last.get()->body_as_ContactAssigned();
  EXPECT_EQ(assigned->context()->intent()->str(), "billing.dispute");
  EXPECT_EQ(assigned->customer_id()->str(), "cust-1");
  EXPECT_EQ(assigned->decision()->agent_id()->str(), "alice");

  // Queued, with its place in line.
  clock.Advance(absl::Seconds(3));
  Route("chat-2", nullptr);
  EXPECT_THAT(Heard(), ElementsAre("contact/chat-2 Queued chat-2 -",
                                   "queue/billing Queued chat-2 -"));
  EXPECT_EQ(Last().get()->body_as_ContactChanged()->queue_position(), 1);

  // Requeued from alice: she hears she lost it; bob takes it at once (his
  // state set after: alice is excluded, so chat-1 waits until then).
  SetState("bob", AgentState::kAvailable);
  Heard();  // bob available, and chat-2 assigned to him from the queue.
  Requeue("chat-1");
  EXPECT_THAT(Heard(), ElementsAre("contact/chat-1 Requeued chat-1 alice",
                                   "queue/billing Requeued chat-1 alice",
                                   "agent/alice Requeued chat-1 alice",
                                   "contact/chat-1 Queued chat-1 -",
                                   "queue/billing Queued chat-1 -"));
  // The requeue keeps the customer it had.
  EXPECT_EQ(Last().get()->body_as_ContactChanged()->customer_id()->str(),
            "cust-1");

  // Cancelled while assigned names the agent; released carries the outcome.
  Cancel("chat-2");
  std::vector<std::string> cancelled = Heard();
  ASSERT_GE(cancelled.size(), 3u);
  EXPECT_THAT(std::vector<std::string>(cancelled.end() - 3, cancelled.end()),
              ElementsAre("contact/chat-2 Cancelled chat-2 bob",
                          "queue/billing Cancelled chat-2 bob",
                          "agent/bob Cancelled chat-2 bob"));
  // Bob, freed, took chat-1 from the queue before the Cancelled event left.
  EXPECT_THAT(std::vector<std::string>(cancelled.begin(), cancelled.end() - 3),
              ElementsAre("contact/chat-1 Assigned chat-1 bob",
                          "queue/billing Assigned chat-1 bob",
                          "agent/bob Assigned chat-1 bob"));
  Release("chat-1");
  EXPECT_THAT(Heard(), ElementsAre("contact/chat-1 Released chat-1 bob",
                                   "queue/billing Released chat-1 bob",
                                   "agent/bob Released chat-1 bob"));
  EXPECT_EQ(Last().get()->body_as_ContactChanged()->outcome(),
            wire::Outcome::Resolved);

  // Off the roster: logged out, for the agent's desktop.
  RemoveAgent("alice");
  EXPECT_THAT(Heard(), ElementsAre("agent/alice LoggedOut Requested"));

  // The same run id in Health and in every event; the per-topic sequences
  // are in every buffer, 0 until the publisher thread numbers them.
  const wire::Reply* health = Health();
  ASSERT_EQ(health->body_type(), wire::ReplyBody::HealthStatus);
  EXPECT_EQ(health->body_as_HealthStatus()->run_id(), kRunId);
  for (PublishedEvent e : sink_.events()) {
    wire::Event* event =
        flatbuffers::GetMutableRoot<wire::Event>(e.bytes.data());
    EXPECT_EQ(event->topic_sequence(), 0u);
    EXPECT_TRUE(event->mutate_topic_sequence(1));  // False if left out.
    EXPECT_TRUE(event->mutate_family_sequence(1));
  }
}

TEST_F(LifecycleEventsTest, AContactCancelledWhileQueuedNamesNoAgent) {
  ScopedEventSink scoped(&sink_);
  AddAgent("alice", 1);  // On the roster, logged out: chat-1 waits.
  Route("chat-1", nullptr);
  Heard();
  Cancel("chat-1");
  EXPECT_THAT(Heard(), ElementsAre("contact/chat-1 Cancelled chat-1 -",
                                   "queue/billing Cancelled chat-1 -"));
  // Refused requests publish nothing.
  Cancel("chat-1");
  Release("chat-404");
  EXPECT_THAT(Heard(), ElementsAre());
}

TEST_F(LifecycleEventsTest, StepMovesAndPositionChangesFromTheStepTimer) {
  ScopedEventSink scoped(&sink_);
  flatbuffers::FlatBufferBuilder fbb;
  FinishRequest(fbb, ++id_, wire::RequestBody::ReloadRules,
                wire::CreateReloadRules(
                    fbb, 0,
                    fbb.CreateString("return { steps = { { after = 0 },\n"
                                     "  { after = 10, min_level = 1 } } }"))
                    .Union());
  ASSERT_TRUE(Send(fbb)->body_as_RulesReloaded()->accepted());
  AddAgent("alice", 1);  // Logged out: everyone waits.
  Route("chat-1", nullptr);
  clock.Advance(absl::Seconds(2));
  Route("chat-2", nullptr);
  Heard();
  handler_->AdvanceQueues();  // The first walk takes the baseline.
  EXPECT_THAT(Heard(), ElementsAre());

  // chat-2 moves up when chat-1 leaves: told at the next due walk only.
  Cancel("chat-1");
  Heard();
  handler_->AdvanceQueues();
  EXPECT_THAT(Heard(), ElementsAre());
  clock.Advance(absl::Seconds(1));
  handler_->AdvanceQueues();
  EXPECT_THAT(Heard(), ElementsAre("contact/chat-2 PositionChanged chat-2 -",
                                   "queue/billing PositionChanged chat-2 -"));
  EXPECT_EQ(Last().get()->body_as_ContactChanged()->queue_position(), 1);
  clock.Advance(absl::Seconds(1));
  handler_->AdvanceQueues();
  EXPECT_THAT(Heard(), ElementsAre());  // Unchanged: nothing to tell.

  // Its next rules step falls due: told at once, with the step.
  clock.Advance(absl::Seconds(9));
  EXPECT_EQ(handler_->AdvanceQueues(), 1);
  EXPECT_THAT(Heard(), ElementsAre("contact/chat-2 StepMoved chat-2 -",
                                   "queue/billing StepMoved chat-2 -"));
  EXPECT_EQ(Last().get()->body_as_ContactChanged()->rules_step(), 2);
}

}  // namespace
}  // namespace routing::sidecar
