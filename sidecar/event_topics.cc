#include "sidecar/event_topics.h"

#include <string>
#include <string_view>

namespace routing::sidecar {
namespace {

std::string Topic(std::string_view family, std::string_view name) {
  std::string topic;
  topic.reserve(family.size() + name.size() + 1);
  topic.append(family);
  topic.append(name);
  topic.push_back(kTopicEnd);
  return topic;
}

}  // namespace

std::string ContactTopic(std::string_view contact_id) {
  return Topic("contact/", contact_id);
}
std::string QueueTopic(std::string_view queue) {
  return Topic("queue/", queue);
}
std::string AgentTopic(std::string_view agent_id) {
  return Topic("agent/", agent_id);
}

bool FamilyOf(std::string_view topic, TopicFamily* family) {
  static constexpr struct {
    std::string_view prefix;
    TopicFamily family;
  } kFamilies[] = {{"contact/", TopicFamily::kContact},
                   {"queue/", TopicFamily::kQueue},
                   {"agent/", TopicFamily::kAgent},
                   {"rules/", TopicFamily::kRules}};
  for (const auto& f : kFamilies) {
    if (topic.substr(0, f.prefix.size()) == f.prefix) {
      *family = f.family;
      return true;
    }
  }
  return false;
}

std::string SubscriptionFor(std::string_view written) {
  if (written.empty() || written.back() == '/' || written.back() == kTopicEnd) {
    return std::string(written);
  }
  std::string exact(written);
  exact.push_back(kTopicEnd);
  return exact;
}

std::string_view PrintableTopic(std::string_view topic) {
  if (!topic.empty() && topic.back() == kTopicEnd) topic.remove_suffix(1);
  return topic;
}

}  // namespace routing::sidecar
