#include "sidecar/http/metrics_exposition.h"

#include <array>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "routing/agent.h"
#include "routing/channel.h"
#include "routing/interaction.h"
#include "sidecar/http/prometheus_text.h"
#include "sidecar/routing_generated.h"

namespace routing::sidecar::http {
namespace {

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

std::string StateLabel(int state) {
  return std::string(AgentStateName(static_cast<AgentState>(state)));
}

void RequestFamilies(const SidecarMetrics& metrics, PrometheusText& text) {
  text.Family("routing_requests_total", "counter",
              "Replies sent, by request type and error code (code OK: "
              "success; type unknown: the request could not be read).");
  const int max_type = static_cast<int>(wire::RequestBody::MAX);
  const int max_code = static_cast<int>(wire::ErrorCode::MAX);
  for (int type = 0; type <= max_type; ++type) {
    const std::string type_label = RequestTypeLabel(type);
    for (int code = 0; code <= max_code; ++code) {
      const uint64_t count = metrics.Replies(type, code);
      // Every type's successes are always there, so rate() starts from 0;
      // an error series appears with its first error.
      if (count == 0 && (code != 0 || type == 0)) continue;
      const std::string code_label = ErrorCodeLabel(code);
      text.Sample("routing_requests_total",
                  {{"type", type_label}, {"code", code_label}},
                  static_cast<double>(count));
    }
  }
  auto counter = [&](std::string_view name, std::string_view help,
                     uint64_t value) {
    text.Family(name, "counter", help);
    text.Sample(name, {}, static_cast<double>(value));
  };
  counter("routing_busy_replies_total",
          "Requests answered Busy at once because --max_in_flight requests "
          "were in flight.",
          metrics.busy_rejections.load(std::memory_order_relaxed));
  counter("routing_malformed_requests_total",
          "Requests that were not a valid Request buffer.",
          metrics.malformed_requests.load(std::memory_order_relaxed));
  counter("routing_permission_denied_total",
          "Requests refused because the client's CURVE key lacks the role.",
          metrics.permission_denied.load(std::memory_order_relaxed));
  counter("routing_journal_refusals_total",
          "Requests refused unexecuted because the journal (--journal_dir) "
          "could not take records: a full or failing disk.",
          metrics.journal_refusals.load(std::memory_order_relaxed));
  counter("routing_journal_not_durable_total",
          "Requests executed whose journal record could not be made "
          "durable (answered NOT_DURABLE).",
          metrics.journal_not_durable.load(std::memory_order_relaxed));
  counter("routing_journal_records_written_total",
          "Journal records written to the journal's files (--journal_dir).",
          metrics.journal_records_written.load(std::memory_order_relaxed));
  counter("routing_journal_bytes_written_total",
          "Bytes of frames written to the journal's files, group frames "
          "deflated (docs/JOURNAL.md): over records written, the disk one "
          "record takes.",
          metrics.journal_bytes_written.load(std::memory_order_relaxed));
  counter("routing_journal_syncs_total",
          "fdatasync calls made on the journal's files: one per group "
          "under --fsync=batch.",
          metrics.journal_syncs.load(std::memory_order_relaxed));
  counter("routing_journal_write_failures_total",
          "Journal writes or syncs that failed (full or failing disk).",
          metrics.journal_failures.load(std::memory_order_relaxed));
  counter("routing_events_published_total", "Events sent on the PUB socket.",
          metrics.events_published.load(std::memory_order_relaxed));
  text.Family("routing_requests_in_flight", "gauge",
              "Requests accepted and not yet answered.");
  text.Sample("routing_requests_in_flight", {},
              metrics.in_flight.load(std::memory_order_relaxed));

  const BucketHistogram::Counts service = metrics.service_time().Read();
  text.Family("routing_request_duration_seconds", "histogram",
              "Service time of requests (decode, execute, encode), reloads "
              "excepted.");
  text.Histogram("routing_request_duration_seconds", {}, kLatencyBoundsSeconds,
                 service.counts, service.sum_seconds);
  const BucketHistogram::Counts decision = metrics.decision_latency().Read();
  text.Family("routing_decision_duration_seconds", "histogram",
              "Time the router took to decide a Route or Requeue.");
  text.Histogram("routing_decision_duration_seconds", {}, kLatencyBoundsSeconds,
                 decision.counts, decision.sum_seconds);
  const BucketHistogram::Counts sync = metrics.journal_sync_time().Read();
  text.Family("routing_journal_sync_duration_seconds", "histogram",
              "Duration of each fdatasync of the journal's files: what a "
              "reply under --fsync=batch waits for at least.");
  text.Histogram("routing_journal_sync_duration_seconds", {},
                 kLatencyBoundsSeconds, sync.counts, sync.sum_seconds);
}

void DecisionFamilies(const RouterStats& stats, const SidecarMetrics& metrics,
                      PrometheusText& text) {
  text.Family("routing_decisions_total", "counter",
              "Route and Requeue decisions, by outcome: assigned at once or "
              "queued.");
  text.Sample("routing_decisions_total", {{"outcome", "assigned"}},
              stats.assigned_immediately);
  text.Sample("routing_decisions_total", {{"outcome", "queued"}}, stats.queued);
  text.Family("routing_assignments_total", "counter",
              "Contacts given an agent: immediately by a decision, or from "
              "a queue when capacity freed.");
  text.Sample("routing_assignments_total", {{"kind", "immediate"}},
              stats.assigned_immediately);
  text.Sample("routing_assignments_total", {{"kind", "from_queue"}},
              stats.assigned_from_queue);
  text.Family("routing_offers_total", "counter",
              "Reservations: assignments made as offers (--offer_timeout).");
  text.Sample("routing_offers_total", {}, stats.offers);
  text.Family("routing_offers_ended_total", "counter",
              "Offers ended, by how: accepted, rejected or expired.");
  text.Sample("routing_offers_ended_total", {{"how", "accepted"}},
              stats.offers_accepted);
  text.Sample("routing_offers_ended_total", {{"how", "rejected"}},
              stats.offers_rejected);
  text.Sample("routing_offers_ended_total", {{"how", "expired"}},
              stats.offers_expired);
  text.Family("routing_contacts_cancelled_total", "counter",
              "Contacts cancelled (the customer left), queued or assigned.");
  text.Sample("routing_contacts_cancelled_total", {}, stats.cancelled);
  text.Family("routing_contacts_released_total", "counter",
              "Contacts released by their agent, by outcome.");
  for (int o = 0; o < kContactOutcomeCount; ++o) {
    const auto outcome = static_cast<ContactOutcome>(o);
    text.Sample("routing_contacts_released_total",
                {{"outcome", ContactOutcomeName(outcome)}},
                static_cast<double>(metrics.Releases(outcome)));
  }
  text.Family("routing_requeues_total", "counter",
              "RequeueContact decisions (transfers, unanswered offers).");
  text.Sample("routing_requeues_total", {},
              static_cast<double>(metrics.requeues()));
  text.Family("routing_contacts_held", "gauge",
              "Contacts held now, queued or assigned.");
  text.Sample("routing_contacts_held", {}, stats.contacts_held);
}

void RulesFamilies(const OpsReadings& readings, PrometheusText& text) {
  const RouterStats& stats = readings.stats;
  text.Family("routing_rules_fallbacks_total", "counter",
              "Decisions the rules failed on, made by the built-in policy.");
  text.Sample("routing_rules_fallbacks_total", {}, stats.rules_fallbacks);
  text.Family("routing_rules_suspended_decisions_total", "counter",
              "Decisions made while the rules were suspended by their "
              "circuit breaker.");
  text.Sample("routing_rules_suspended_decisions_total", {},
              stats.rules_suspended_decisions);
  text.Family("routing_rules_version", "gauge",
              "Version of the rules in force; 0: none, the built-in policy.");
  text.Sample("routing_rules_version", {},
              static_cast<double>(readings.rules.version));
  text.Family("routing_rules_suspended", "gauge",
              "1 when the circuit breaker has suspended the rules in force.");
  text.Sample("routing_rules_suspended", {}, readings.rules.suspended ? 1 : 0);
  text.Family("routing_rules_failures_total", "counter",
              "Failed evaluations (errors and overruns) of the rules version "
              "in force; restarts from 0 with each reload.");
  text.Sample("routing_rules_failures_total", {},
              static_cast<double>(readings.rules.errors));
  text.Family("routing_rules_overruns_total", "counter",
              "Evaluations of the rules version in force that ran past their "
              "budget; restarts from 0 with each reload.");
  text.Sample("routing_rules_overruns_total", {},
              static_cast<double>(readings.rules.overruns));
}

void AgentFamilies(const OpsReadings& readings, PrometheusText& text) {
  text.Family("routing_agents", "gauge", "Agents on the roster, by state.");
  for (int s = 0; s < kAgentStateCount; ++s) {
    text.Sample("routing_agents", {{"state", StateLabel(s)}},
                readings.stats.agents_by_state[s]);
  }
  std::array<std::array<int64_t, kChannelCount>, kAgentStateCount> by_channel{};
  std::array<int64_t, kChannelCount> load{};
  for (const AgentStatus& agent : readings.agents) {
    const int state = static_cast<int>(agent.state);
    if (state < 0 || state >= kAgentStateCount) continue;
    for (Channel channel : kAllChannels) {
      const int c = ChannelIndex(channel);
      if (agent.profile.capacity[c] > 0) ++by_channel[state][c];
      load[c] += agent.load[c];
    }
  }
  text.Family("routing_agents_by_channel", "gauge",
              "Agents by state and by channel they take (an agent who takes "
              "several channels counts under each).");
  for (int s = 0; s < kAgentStateCount; ++s) {
    const std::string state = StateLabel(s);
    for (Channel channel : kAllChannels) {
      text.Sample("routing_agents_by_channel",
                  {{"state", state}, {"channel", ChannelName(channel)}},
                  by_channel[s][ChannelIndex(channel)]);
    }
  }
  text.Family("routing_agent_contacts", "gauge",
              "Contacts agents hold now, by channel.");
  for (Channel channel : kAllChannels) {
    text.Sample("routing_agent_contacts", {{"channel", ChannelName(channel)}},
                load[ChannelIndex(channel)]);
  }
}

void QueueFamilies(const OpsReadings& readings,
                   const AlarmThresholds& thresholds, PrometheusText& text) {
  const std::vector<QueueStats>& queues = readings.stats.queues;
  // One family at a time, each over every queue: the format forbids
  // interleaving families.
  auto per_queue = [&](std::string_view name, std::string_view type,
                       std::string_view help, auto value_of) {
    text.Family(name, type, help);
    for (const QueueStats& q : queues) {
      text.Sample(name, {{"queue", q.queue}}, value_of(q));
    }
  };
  per_queue("routing_queue_waiting_contacts", "gauge",
            "Contacts waiting in the queue now.",
            [](const QueueStats& q) { return static_cast<double>(q.waiting); });
  per_queue("routing_queue_oldest_wait_seconds", "gauge",
            "How long the contact waiting longest has waited; 0 when none "
            "waits.",
            [](const QueueStats& q) { return Seconds(q.longest_wait); });
  per_queue(
      "routing_queue_answered_total", "counter",
      "Contacts of the queue given an agent, immediately or from the "
      "queue.",
      [](const QueueStats& q) { return static_cast<double>(q.answered); });
  per_queue("routing_queue_answered_in_service_level_total", "counter",
            "Of which within the service-level threshold.",
            [](const QueueStats& q) {
              return static_cast<double>(q.answered_in_service_level);
            });
  per_queue(
      "routing_contacts_abandoned_total", "counter",
      "Contacts cancelled while waiting in the queue.",
      [](const QueueStats& q) { return static_cast<double>(q.abandoned); });

  text.Family("routing_queue_answer_wait_seconds", "histogram",
              "How long answered contacts waited for their agent.");
  for (const QueueStats& q : queues) {
    std::array<uint64_t, kAnswerWaitBoundCount + 1> counts;
    for (size_t i = 0; i < counts.size(); ++i) {
      counts[i] =
          static_cast<uint64_t>(std::max<int64_t>(0, q.answer_wait_buckets[i]));
    }
    text.Histogram("routing_queue_answer_wait_seconds", {{"queue", q.queue}},
                   kAnswerWaitBoundsSeconds, counts,
                   Seconds(q.total_answer_wait));
  }

  auto windowed = [&](std::string_view name, std::string_view help,
                      auto value_of) {
    text.Family(name, "gauge", help);
    for (const QueueStats& q : queues) {
      for (int w = 0; w < kQueueWindowCount; ++w) {
        const std::string window = WindowLabel(w);
        text.Sample(name, {{"queue", q.queue}, {"window", window}},
                    value_of(q.recent[w]));
      }
    }
  };
  windowed("routing_queue_service_level_ratio",
           "Answered within the service-level threshold / (answered + "
           "abandoned) over the window; 1 when none.",
           [](const QueueWindowStats& w) { return w.service_level; });
  windowed("routing_queue_average_speed_of_answer_seconds",
           "Mean wait of the contacts answered over the window (ASA).",
           [](const QueueWindowStats& w) {
             return Seconds(w.average_speed_of_answer);
           });
  windowed("routing_queue_abandonment_ratio",
           "Abandoned / (answered + abandoned) over the window.",
           [](const QueueWindowStats& w) { return w.abandonment_rate; });

  per_queue(
      "routing_queue_first_contact_resolution_ratio", "gauge",
      "Released contacts resolved at the first contact (FCR).",
      [](const QueueStats& q) { return q.kpis.FirstContactResolution(); });
  per_queue(
      "routing_queue_average_handle_time_seconds", "gauge",
      "Mean handle time (assignment to release) of released contacts "
      "(AHT).",
      [](const QueueStats& q) { return Seconds(q.kpis.AverageHandleTime()); });
  per_queue(
      "routing_queue_csat_average", "gauge",
      "Mean customer satisfaction (1..5) of the surveys answered; 0: none.",
      [](const QueueStats& q) { return q.kpis.AverageCsat(); });
  per_queue("routing_queue_nps", "gauge",
            "Net Promoter Score (-100..100) of the surveys answered; 0: none.",
            [](const QueueStats& q) { return q.kpis.NetPromoterScore(); });
  per_queue("routing_queue_occupancy_ratio", "gauge",
            "Mean occupancy of the queue's logged-in agents.",
            [](const QueueStats& q) { return q.occupancy; });
  per_queue(
      "routing_queue_released_total", "counter",
      "Contacts of the queue released by their agent.",
      [](const QueueStats& q) { return static_cast<double>(q.kpis.released); });
  per_queue("routing_queue_first_contact_resolved_total", "counter",
            "Of which resolved at the customer's first contact.",
            [](const QueueStats& q) {
              return static_cast<double>(q.kpis.first_contact_resolved);
            });
  per_queue(
      "routing_queue_handle_time_seconds_total", "counter",
      "Handle time of the released contacts, summed.",
      [](const QueueStats& q) { return Seconds(q.kpis.total_handle_time); });
  per_queue("routing_queue_csat_responses_total", "counter",
            "Surveys that answered CSAT.", [](const QueueStats& q) {
              return static_cast<double>(q.kpis.csat_responses);
            });
  per_queue("routing_queue_nps_responses_total", "counter",
            "Surveys that answered NPS.", [](const QueueStats& q) {
              return static_cast<double>(q.kpis.nps_responses);
            });

  text.Family("routing_queue_agents", "gauge",
              "The queue's agents (those holding its required skills), by "
              "state.");
  for (const QueueStats& q : queues) {
    for (int s = 0; s < kAgentStateCount; ++s) {
      text.Sample("routing_queue_agents",
                  {{"queue", q.queue}, {"state", StateLabel(s)}},
                  q.agents_by_state[s]);
    }
  }

  text.Family("routing_queue_alarm", "gauge",
              "1 when the queue is in alarm for the reason: service level "
              "over 5 minutes below --alarm_service_level, or oldest wait "
              "above --alarm_oldest_wait_s.");
  for (const QueueStats& q : queues) {
    const QueueAlarm alarm = EvaluateQueueAlarm(q, thresholds);
    text.Sample("routing_queue_alarm",
                {{"queue", q.queue}, {"reason", kServiceLevelReason}},
                alarm.service_level ? 1 : 0);
    text.Sample("routing_queue_alarm",
                {{"queue", q.queue}, {"reason", kOldestWaitReason}},
                alarm.oldest_wait ? 1 : 0);
  }
}

}  // namespace

std::string WindowLabel(int window) {
  return absl::StrCat(kQueueWindowMinutes[window], "m");
}

std::string RequestTypeLabel(int request_type) {
  if (request_type <= 0 ||
      request_type > static_cast<int>(wire::RequestBody::MAX)) {
    return "unknown";
  }
  return wire::EnumNameRequestBody(
      static_cast<wire::RequestBody>(request_type));
}

std::string ErrorCodeLabel(int error_code) {
  if (error_code == 0) return "OK";
  if (error_code < 0 || error_code > static_cast<int>(wire::ErrorCode::MAX)) {
    return "unknown";
  }
  return wire::EnumNameErrorCode(static_cast<wire::ErrorCode>(error_code));
}

std::string RoutingMetricsText(const OpsReadings& readings,
                               const SidecarMetrics& metrics,
                               const AlarmThresholds& thresholds) {
  PrometheusText text;
  text.Family("routing_start_time_seconds", "gauge",
              "When routingd started, seconds since the Unix epoch.");
  text.Sample("routing_start_time_seconds", {},
              absl::ToDoubleSeconds(metrics.start() - absl::UnixEpoch()));
  DecisionFamilies(readings.stats, metrics, text);
  RequestFamilies(metrics, text);
  RulesFamilies(readings, text);
  AgentFamilies(readings, text);
  QueueFamilies(readings, thresholds, text);
  return text.Take();
}

}  // namespace routing::sidecar::http
