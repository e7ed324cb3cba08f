// Builders and a recording listener shared by the router tests.
#ifndef TESTS_ROUTING_ROUTER_TEST_SUPPORT_H_
#define TESTS_ROUTING_ROUTER_TEST_SUPPORT_H_

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "routing/router.h"

namespace routing::testing {

inline AgentProfile MakeAgent(std::string id, std::vector<AgentSkill> skills,
                              std::vector<AgentLanguage> languages = {{"en",
                                                                       5}},
                              int voice = 1, int chat = 0) {
  AgentProfile p;
  p.id = std::move(id);
  p.skills = std::move(skills);
  p.languages = std::move(languages);
  p.SetCapacity(Channel::kVoice, voice);
  p.SetCapacity(Channel::kChat, chat);
  return p;
}

inline Contact MakeContact(std::string id,
                           std::vector<SkillRequirement> skills = {},
                           Channel channel = Channel::kVoice) {
  Contact c;
  c.id = std::move(id);
  c.channel = channel;
  c.required_skills = std::move(skills);
  return c;
}

// Collects assignments from any thread.
class RecordingListener : public AssignmentListener {
 public:
  void OnAssigned(const Assignment& assignment) override {
    std::lock_guard<std::mutex> lock(mu_);
    assignments_.push_back(assignment);
  }
  std::vector<Assignment> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(assignments_, {});
  }

 private:
  std::mutex mu_;  // Not absl::Mutex: Debian's Abseil is invisible to TSan.
  std::vector<Assignment> assignments_;
};

}  // namespace routing::testing

#endif  // TESTS_ROUTING_ROUTER_TEST_SUPPORT_H_
