#include "sidecar/event_publisher.h"

#include <string>
#include <vector>

#include "flatbuffers/flatbuffers.h"

namespace routing::sidecar {
namespace {

using flatbuffers::FlatBufferBuilder;

thread_local EventSink* current_sink = nullptr;

void Publish(EventSink* sink, const std::vector<std::string>& topics,
             const FlatBufferBuilder& fbb) {
  sink->Publish(topics, fbb.GetBufferPointer(), fbb.GetSize());
}

}  // namespace

ScopedEventSink::ScopedEventSink(EventSink* sink) : previous_(current_sink) {
  current_sink = sink;
}
ScopedEventSink::~ScopedEventSink() { current_sink = previous_; }
EventSink* ScopedEventSink::Current() { return current_sink; }

EventPublisher::EventPublisher(SidecarMetrics* metrics, uint64_t run_id,
                               const Clock* clock)
    : metrics_(metrics),
      run_id_(run_id),
      clock_(clock != nullptr ? clock : SystemClock::Default()) {}

bool EventPublisher::CanPublish() {
  const EventSink* sink = ScopedEventSink::Current();
  return sink != nullptr && (sink->Wants(TopicFamily::kContact) ||
                             sink->Wants(TopicFamily::kQueue) ||
                             sink->Wants(TopicFamily::kAgent));
}

EventSink* EventPublisher::Sink(
    std::initializer_list<TopicFamily> families) const {
  EventSink* sink = ScopedEventSink::Current();
  if (sink == nullptr) {
    metrics_->events_without_channel.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  for (TopicFamily family : families) {
    if (sink->Wants(family)) return sink;
  }
  return nullptr;  // Nobody listens: not built.
}

EventHeader EventPublisher::NextHeader() const {
  EventHeader header;
  header.sequence =
      metrics_->event_sequence.fetch_add(1, std::memory_order_relaxed) + 1;
  header.at_unix_ms = absl::ToUnixMillis(clock_->Now());
  header.run_id = run_id_;
  return header;
}

void EventPublisher::ContactAssigned(const Assignment& assignment,
                                     bool immediate, uint64_t placement) {
  EventSink* sink = Sink({TopicFamily::kContact, TopicFamily::kQueue, TopicFamily::kAgent});
  if (sink == nullptr) return;
  FlatBufferBuilder fbb(1024);
  FinishAssignmentEvent(fbb, NextHeader(), assignment, immediate, placement);
  Publish(sink,
          {ContactTopic(assignment.contact_id), QueueTopic(assignment.queue),
           AgentTopic(assignment.agent_id)},
          fbb);
}

void EventPublisher::ContactChanged(const ContactChangeFacts& facts) {
  EventSink* sink = Sink({TopicFamily::kContact, TopicFamily::kQueue, TopicFamily::kAgent});
  if (sink == nullptr) return;
  FlatBufferBuilder fbb(256);
  FinishContactChangedEvent(fbb, NextHeader(), facts);
  std::vector<std::string> topics = {ContactTopic(facts.contact_id)};
  // Empty only when a race left the handler without the contact's facts
  // (request_handler.cc): the contact's own topic still hears it.
  if (!facts.queue.empty()) topics.push_back(QueueTopic(facts.queue));
  if (!facts.agent_id.empty()) topics.push_back(AgentTopic(facts.agent_id));
  Publish(sink, topics, fbb);
}

void EventPublisher::AgentStateChanged(std::string_view agent_id,
                                       AgentState state,
                                       wire::AgentStateReason reason) {
  EventSink* sink = Sink({TopicFamily::kAgent});
  if (sink == nullptr) return;
  FlatBufferBuilder fbb(256);
  FinishAgentStateEvent(fbb, NextHeader(), agent_id, state, reason);
  Publish(sink, {AgentTopic(agent_id)}, fbb);
}

void EventPublisher::RulesReloadFinished(
    bool accepted, uint64_t version, std::string_view name,
    std::string_view source, const std::vector<std::string>& problems) {
  EventSink* sink = Sink({TopicFamily::kRules});
  if (sink == nullptr) return;
  FlatBufferBuilder fbb(1024);
  FinishRulesReloadEvent(fbb, NextHeader(), accepted, version, name, source,
                         problems);
  Publish(sink, {std::string(kRulesReloadTopic)}, fbb);
}

void EventPublisher::RulesSuspended(const RulesSuspension& suspension) {
  EventSink* sink = Sink({TopicFamily::kRules});
  if (sink == nullptr) return;
  FlatBufferBuilder fbb(512);
  FinishRulesSuspendedEvent(fbb, NextHeader(), suspension);
  Publish(sink, {std::string(kRulesSuspendedTopic)}, fbb);
}

}  // namespace routing::sidecar
