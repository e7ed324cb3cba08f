// File: sidecar/event_topics.h
//
// The topics routingd publishes events under (routing.fbs): the one place
// that spells them. Every topic ends with a NUL byte, so that a ZeroMQ
// subscription (a prefix match) to one exact topic never hears another whose
// name merely starts the same way: "contact/chat-1\0" is chat-1 alone, never
// chat-10. A family ("contact/", "queue/", "agent/", "rules/") is still
// subscribed to by its prefix without the NUL.
//
//   sink->Publish({ContactTopic("chat-1"), QueueTopic("billing")}, ...);
//   zmq_setsockopt(sub, ZMQ_SUBSCRIBE, t.data(), t.size());  // t: any of them
//   std::string s = SubscriptionFor("contact/chat-1");  // "contact/chat-1\0"
//   std::string f = SubscriptionFor("queue/");           // "queue/" (family)
//
// Contract: the NUL delimits a name only while names hold no NUL; routing.fbs
// forbids control characters in ids and queue names for that reason.
// Thread-safety: stateless.
#ifndef SIDECAR_EVENT_TOPICS_H_
#define SIDECAR_EVENT_TOPICS_H_

#include <string>
#include <string_view>

namespace routing::sidecar {

// The byte that ends every topic.
inline constexpr char kTopicEnd = '\0';

// contact/<id>\0, queue/<name>\0, agent/<id>\0.
std::string ContactTopic(std::string_view contact_id);
std::string QueueTopic(std::string_view queue);
std::string AgentTopic(std::string_view agent_id);
// rules/reload\0 and rules/suspended\0 (13 and 16 bytes).
inline constexpr std::string_view kRulesReloadTopic{"rules/reload\0", 13};
inline constexpr std::string_view kRulesSuspendedTopic{"rules/suspended\0", 16};

// The families a topic belongs to, each counted by Event.family_sequence.
enum class TopicFamily { kContact = 0, kQueue, kAgent, kRules };
inline constexpr int kTopicFamilyCount = 4;
// The family of a topic by its prefix; false for a topic of none (never one
// routingd publishes).
bool FamilyOf(std::string_view topic, TopicFamily* family);

// What to subscribe to for a topic as a person writes it: a family prefix
// (ending with '/'), "" (everything) or a text already ending with NUL stays
// as it is; anything else names one exact topic and gets its NUL.
std::string SubscriptionFor(std::string_view written);

// A topic as printed: without its ending NUL.
std::string_view PrintableTopic(std::string_view topic);

}  // namespace routing::sidecar

#endif  // SIDECAR_EVENT_TOPICS_H_
