// File: sidecar/event_publisher.h
//
// Builds routingd's events (routing.fbs) and hands them to the calling
// thread's EventSink, each on the topics routing.fbs gives it
// (event_topics.h):
//   ContactAssigned           contact/<id>, queue/<queue>, agent/<agent>
//   ContactChanged            contact/<id>, queue/<queue>, and agent/<agent>
//                             when it names one
//   AgentStateChanged         agent/<agent>
//   RulesReloadFinished       rules/reload
//   RulesSuspended            rules/suspended
// Each event gets the next global Event.sequence (metrics.event_sequence),
// the run id and the time; topic_sequence and family_sequence are left 0 for
// the publisher thread to fill in (event_sequencer.h).
//
//   EventPublisher events(&metrics, ProcessRunId(), clock);
//   ScopedEventSink sink(&my_sink);          // once per thread
//   events.ContactChanged(facts);            // published through my_sink
//
// A thread without a sink publishes nothing: each event it would have
// published is counted in metrics.events_without_channel.
// Thread-safety: an EventPublisher may be used from any thread at once.
#ifndef SIDECAR_EVENT_PUBLISHER_H_
#define SIDECAR_EVENT_PUBLISHER_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "routing/agent.h"
#include "routing/clock.h"
#include "routing/routing_decision.h"
#include "sidecar/event_topics.h"
#include "sidecar/sidecar_metrics.h"
#include "sidecar/wire_encoder.h"

namespace routing::sidecar {

// Where a thread's events go (a worker's socket to the publisher thread).
class EventSink {
 public:
  virtual ~EventSink() = default;
  // Publishes one finished Event buffer under each topic, in order.
  virtual void Publish(const std::vector<std::string>& topics,
                       const uint8_t* data, size_t size) = 0;
  // Whether some subscriber listens to the family (subscriber_interest.h):
  // an event on no wanted family's topic is not built at all.
  virtual bool Wants(TopicFamily family) const {
    (void)family;
    return true;
  }
};

// Makes `sink` the calling thread's EventSink for the scope's lifetime.
class ScopedEventSink {
 public:
  explicit ScopedEventSink(EventSink* sink);
  ~ScopedEventSink();
  ScopedEventSink(const ScopedEventSink&) = delete;
  ScopedEventSink& operator=(const ScopedEventSink&) = delete;
  static EventSink* Current();

 private:
  EventSink* previous_;
};

class EventPublisher {
 public:
  // `clock` null: SystemClock. `metrics` and `clock` must outlive it.
  EventPublisher(SidecarMetrics* metrics, uint64_t run_id,
                 const Clock* clock = nullptr);

  uint64_t run_id() const { return run_id_; }
  // Whether the calling thread has a sink and someone listens to a
  // contact's events (contact/, queue/ or agent/): callers skip gathering
  // facts for an event nobody would publish.
  static bool CanPublish();

  // `immediate`: assigned by the request that routed it.
  void ContactAssigned(const Assignment& assignment, bool immediate,
                       uint64_t placement);
  void ContactChanged(const ContactChangeFacts& facts);
  void AgentStateChanged(std::string_view agent_id, AgentState state,
                         wire::AgentStateReason reason);
  void RulesReloadFinished(bool accepted, uint64_t version,
                           std::string_view name, std::string_view source,
                           const std::vector<std::string>& problems);
  void RulesSuspended(const RulesSuspension& suspension);

 private:
  // The sink, or null after counting the event as without a channel; also
  // null (uncounted) when no subscriber wants any of `families`.
  EventSink* Sink(std::initializer_list<TopicFamily> families) const;
  EventHeader NextHeader() const;

  SidecarMetrics* metrics_;
  uint64_t run_id_;
  const Clock* clock_;
};

}  // namespace routing::sidecar

#endif  // SIDECAR_EVENT_PUBLISHER_H_
