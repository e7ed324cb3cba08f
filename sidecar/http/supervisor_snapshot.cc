#include "sidecar/http/supervisor_snapshot.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "routing/channel.h"
#include "routing/routing_decision.h"

namespace routing::sidecar::http {
namespace {

using nlohmann::json;

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

std::string StateName(AgentState state) {
  return std::string(AgentStateName(state));
}

json Kpis(const ContactKpis& kpis) {
  return {{"released", kpis.released},
          {"resolved", kpis.resolved},
          {"fcr", kpis.FirstContactResolution()},
          {"aht_s", Seconds(kpis.AverageHandleTime())},
          {"csat", kpis.AverageCsat()},
          {"csat_responses", kpis.csat_responses},
          {"nps", kpis.NetPromoterScore()},
          {"nps_responses", kpis.nps_responses}};
}

// Only the channels with a non-zero value: {"chat": 2}.
json PerChannel(const std::array<int, kChannelCount>& values) {
  json out = json::object();
  for (Channel channel : kAllChannels) {
    const int value = values[ChannelIndex(channel)];
    if (value != 0) out[std::string(ChannelName(channel))] = value;
  }
  return out;
}

json Queue(const QueueStats& q,
           const std::vector<const QueuedContact*>& waiting,
           const AlarmThresholds& thresholds) {
  json windows = json::array();
  for (int w = 0; w < kQueueWindowCount; ++w) {
    const QueueWindowStats& window = q.recent[w];
    windows.push_back({{"minutes", kQueueWindowMinutes[w]},
                       {"service_level", window.service_level},
                       {"asa_s", Seconds(window.average_speed_of_answer)},
                       {"abandonment_rate", window.abandonment_rate},
                       {"answered", window.answered},
                       {"abandoned", window.abandoned}});
  }
  json by_state = json::object();
  for (int s = 0; s < kAgentStateCount; ++s) {
    by_state[StateName(static_cast<AgentState>(s))] = q.agents_by_state[s];
  }
  const QueueAlarm alarm = EvaluateQueueAlarm(q, thresholds);
  json reasons = json::array();
  if (alarm.service_level) reasons.push_back(kServiceLevelReason);
  if (alarm.oldest_wait) reasons.push_back(kOldestWaitReason);
  json contacts = json::array();
  for (const QueuedContact* c : waiting) {
    contacts.push_back(
        {{"id", c->contact.id},
         {"channel", std::string(ChannelName(c->contact.channel))},
         {"wait_s", Seconds(c->waited)},
         {"priority", c->contact.priority},
         {"rules_step", c->rules_step},
         {"position", c->queue_position}});
  }
  return {{"name", q.queue},
          {"waiting", q.waiting},
          {"oldest_wait_s", Seconds(q.longest_wait)},
          {"answered", q.answered},
          {"abandoned", q.abandoned},
          {"service_level", q.service_level},
          {"asa_s", Seconds(q.average_speed_of_answer)},
          {"occupancy", q.occupancy},
          {"windows", std::move(windows)},
          {"agents_by_state", std::move(by_state)},
          {"kpis", Kpis(q.kpis)},
          {"alarm", {{"active", alarm.any()}, {"reasons", std::move(reasons)}}},
          {"contacts", std::move(contacts)},
          {"contacts_shown", waiting.size()}};
}

json Agent(const AgentStatus& agent, absl::Time now) {
  return {{"id", agent.profile.id},
          {"state", StateName(agent.state)},
          {"time_in_state_s",
           agent.state_since == absl::InfinitePast()
               ? 0.0
               : std::max(0.0, Seconds(now - agent.state_since))},
          {"load", PerChannel(agent.load)},
          {"capacity", PerChannel(agent.profile.capacity)},
          {"occupancy", agent.occupancy},
          {"contacts_handled", agent.contacts_handled},
          {"kpis", Kpis(agent.kpis)}};
}

json Decision(const RecentDecision& recent) {
  const RoutingDecision& d = recent.decision;
  const bool assigned = d.outcome == DecisionOutcome::kAssigned;
  return {{"at_unix_ms", d.decided_at == absl::InfinitePast()
                             ? int64_t{0}
                             : absl::ToUnixMillis(d.decided_at)},
          {"kind", RecentDecisionKindName(recent.kind)},
          {"contact_id", d.contact_id},
          {"queue", d.queue},
          {"channel", std::string(ChannelName(d.channel))},
          {"outcome", assigned ? "assigned" : "queued"},
          {"agent_id", d.agent_id},
          {"score", d.score},
          {"position", d.queue_position},
          {"waited_s", Seconds(recent.waited)},
          {"rules_version", d.rules_version},
          {"rules_step", d.rules_step},
          {"rules_fallback", d.rules_fallback},
          {"explanation", d.Explain()}};
}

}  // namespace

json SupervisorSnapshot(const OpsReadings& readings,
                        const std::vector<QueuedContact>& waiting,
                        const SidecarMetrics& metrics,
                        const AlarmThresholds& thresholds,
                        const SnapshotOptions& options) {
  const RouterStats& stats = readings.stats;
  absl::flat_hash_map<std::string, std::vector<const QueuedContact*>> by_queue;
  for (const QueuedContact& c : waiting) {
    by_queue[c.contact.queue].push_back(&c);
  }
  json queues = json::array();
  static const std::vector<const QueuedContact*> kNone;
  for (const QueueStats& q : stats.queues) {
    auto it = by_queue.find(q.queue);
    queues.push_back(
        Queue(q, it == by_queue.end() ? kNone : it->second, thresholds));
  }
  json agents = json::array();
  for (const AgentStatus& agent : readings.agents) {
    if (static_cast<int>(agents.size()) >= options.max_agents) break;
    agents.push_back(Agent(agent, readings.now));
  }
  json decisions = json::array();
  for (const RecentDecision& d : metrics.recent_decisions().Read()) {
    decisions.push_back(Decision(d));
  }
  const RulesHealth& rules = readings.rules;
  return {{"generated_at_unix_ms", absl::ToUnixMillis(readings.now)},
          {"uptime_s", Seconds(readings.now - metrics.start())},
          {"thresholds",
           {{"service_level", thresholds.service_level},
            {"oldest_wait_s", Seconds(thresholds.oldest_wait)}}},
          {"totals",
           {{"decisions", stats.decisions},
            {"assigned_immediately", stats.assigned_immediately},
            {"queued", stats.queued},
            {"assigned_from_queue", stats.assigned_from_queue},
            {"cancelled", stats.cancelled},
            {"released", stats.released},
            {"contacts_held", stats.contacts_held},
            {"agents", stats.agents},
            {"requests", metrics.requests.load(std::memory_order_relaxed)},
            {"busy_replies",
             metrics.busy_rejections.load(std::memory_order_relaxed)},
            {"requeues", metrics.requeues()}}},
          {"rules",
           {{"version", rules.version},
            {"name", rules.name},
            {"fallbacks", stats.rules_fallbacks},
            {"suspended_decisions", stats.rules_suspended_decisions},
            {"errors", rules.errors},
            {"overruns", rules.overruns},
            {"last_error", rules.last_error},
            {"suspended", rules.suspended}}},
          {"queues", std::move(queues)},
          {"agents", std::move(agents)},
          {"agents_total", readings.agents.size()},
          {"recent_decisions", std::move(decisions)},
          {"decisions_dropped", metrics.recent_decisions().dropped()}};
}

}  // namespace routing::sidecar::http
