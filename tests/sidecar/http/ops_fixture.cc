#include "tests/sidecar/http/ops_fixture.h"

#include "sidecar/routing_generated.h"

namespace routing::sidecar::http {

absl::Time FixtureNow() { return absl::FromUnixSeconds(1'796'205'600); }

OpsReadings FixtureReadings() {
  OpsReadings r;
  r.now = FixtureNow();
  RouterStats& s = r.stats;
  s.decisions = 7;
  s.assigned_immediately = 4;
  s.queued = 3;
  s.assigned_from_queue = 1;
  s.cancelled = 1;
  s.released = 3;
  s.contacts_held = 5;
  s.agents = 3;
  s.agents_by_state = {0, 2, 1, 0, 0};
  s.rules_fallbacks = 2;
  s.rules_suspended_decisions = 1;

  QueueStats billing;
  billing.queue = "billing";
  billing.waiting = 2;
  billing.longest_wait = absl::Seconds(95);  // Above 60 s: alarm.
  billing.answered = 5;
  billing.answered_in_service_level = 4;
  billing.abandoned = 1;
  billing.answer_wait_buckets[0] = 3;                      // <= 5 s
  billing.answer_wait_buckets[3] = 1;                      // <= 20 s
  billing.answer_wait_buckets[kAnswerWaitBoundCount] = 1;  // > 600 s
  billing.total_answer_wait = absl::Seconds(700);
  for (int w = 0; w < kQueueWindowCount; ++w) {
    billing.recent[w].span = absl::Minutes(kQueueWindowMinutes[w]);
    billing.recent[w].service_level = 0.9;
    billing.recent[w].abandonment_rate = 0.1;
    billing.recent[w].average_speed_of_answer = absl::Seconds(12);
    billing.recent[w].answered = 5;
  }
  billing.kpis.released = 4;
  billing.kpis.resolved = 3;
  billing.kpis.first_contact_resolved = 2;
  billing.kpis.total_handle_time = absl::Seconds(400);
  billing.kpis.csat_responses = 2;
  billing.kpis.csat_sum = 9;
  billing.kpis.nps_responses = 2;
  billing.kpis.promoters = 2;
  billing.agents_by_state = {0, 1, 1, 0, 0};
  billing.occupancy = 0.5;

  QueueStats sales;
  sales.queue = "sales \"vip\"";
  sales.waiting = 1;
  sales.longest_wait = absl::Seconds(3);
  sales.recent[0].service_level = 0.5;  // Below 0.8: alarm.
  s.queues = {billing, sales};

  AgentStatus alice;
  alice.profile.id = "alice";
  alice.profile.SetCapacity(Channel::kChat, 2);
  alice.profile.SetCapacity(Channel::kVoice, 1);
  alice.state = AgentState::kAvailable;
  alice.load[ChannelIndex(Channel::kChat)] = 1;
  alice.state_since = FixtureNow() - absl::Seconds(42);
  alice.occupancy = 0.75;
  alice.contacts_handled = 3;
  alice.kpis.released = 3;
  alice.kpis.first_contact_resolved = 3;
  AgentStatus bruno;
  bruno.profile.id = "bruno";
  bruno.profile.SetCapacity(Channel::kChat, 1);
  bruno.state = AgentState::kBusy;
  bruno.state_since = FixtureNow() - absl::Minutes(3);
  AgentStatus secret;
  secret.profile.id = kSecretAgentId;
  secret.profile.SetCapacity(Channel::kEmail, 5);
  secret.state = AgentState::kAvailable;
  secret.load[ChannelIndex(Channel::kEmail)] = 2;
  r.agents = {alice, bruno, secret};

  r.rules.version = 3;
  r.rules.name = "/srv/rules/vip.lua";
  r.rules.errors = 21;
  r.rules.overruns = 4;
  r.rules.last_error = "/srv/rules/vip.lua:3: boom";
  r.rules.suspended = true;
  return r;
}

std::vector<QueuedContact> FixtureWaiting() {
  std::vector<QueuedContact> waiting(3);
  waiting[0].contact.id = "chat-7";
  waiting[0].contact.queue = "billing";
  waiting[0].contact.channel = Channel::kChat;
  waiting[0].contact.priority = 5;
  waiting[0].queue_position = 1;
  waiting[0].waited = absl::Seconds(95);
  waiting[0].rules_step = 1;
  waiting[1].contact.id = "call-9";
  waiting[1].contact.queue = "billing";
  waiting[1].queue_position = 2;
  waiting[1].waited = absl::Seconds(30);
  waiting[2].contact.id = "<b>mail</b>";
  waiting[2].contact.queue = "sales \"vip\"";
  waiting[2].contact.channel = Channel::kEmail;
  waiting[2].queue_position = 1;
  waiting[2].waited = absl::Seconds(3);
  return waiting;
}

void RecordFixtureMetrics(SidecarMetrics& metrics) {
  const int route = static_cast<int>(wire::RequestBody::RouteContact);
  for (int i = 0; i < 3; ++i) metrics.RecordReply(route, 0);
  metrics.RecordReply(route, static_cast<int>(wire::ErrorCode::NotFound));
  metrics.RecordReply(0, static_cast<int>(wire::ErrorCode::MalformedRequest));
  RoutingDecision routed;
  routed.contact_id = "chat-1";
  routed.queue = "billing";
  routed.channel = Channel::kChat;
  routed.outcome = DecisionOutcome::kAssigned;
  routed.agent_id = "alice";
  routed.score = 0.875;
  routed.decided_at = FixtureNow() - absl::Seconds(10);
  metrics.RecordRoutingDecision(routed, /*requeue=*/false,
                                absl::Microseconds(30));
  RoutingDecision queued = routed;
  queued.contact_id = "chat-7";
  queued.outcome = DecisionOutcome::kQueued;
  queued.agent_id.clear();
  queued.queue_position = 1;
  queued.decided_at = FixtureNow() - absl::Seconds(5);
  metrics.RecordRoutingDecision(queued, /*requeue=*/true,
                                absl::Milliseconds(2));
  Assignment later;
  later.contact_id = "chat-3";
  later.decision = routed;
  later.decision.contact_id = "chat-3";
  later.decision.agent_id = "bruno";
  later.decision.decided_at = FixtureNow() - absl::Seconds(1);
  later.waited = absl::Seconds(25);
  metrics.RecordQueuedAssignment(later);
  metrics.RecordRelease(ContactOutcome::kResolved);
  metrics.RecordRelease(ContactOutcome::kResolved);
  metrics.RecordRelease(ContactOutcome::kTransferred);
  metrics.RecordLatency(absl::Microseconds(40));
}

}  // namespace routing::sidecar::http
