// Builders and a recording listener shared by the router tests.
#ifndef TESTS_ROUTING_ROUTER_TEST_SUPPORT_H_
#define TESTS_ROUTING_ROUTER_TEST_SUPPORT_H_

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
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
    told_.push_back(std::string(assignment.decision.offered ? "offered "
                                                            : "assigned ") +
                    assignment.contact_id + " " + assignment.agent_id);
  }
  void OnOfferExpired(const ExpiredOffer& offer) override {
    std::lock_guard<std::mutex> lock(mu_);
    expired_.push_back(offer);
    told_.push_back("expired " + offer.contact_id + " " + offer.agent_id);
  }
  std::vector<Assignment> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(assignments_, {});
  }
  std::vector<ExpiredOffer> TakeExpired() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(expired_, {});
  }
  // Everything told, in order: "assigned C A" / "offered C A" /
  // "expired C A".
  std::vector<std::string> TakeTold() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(told_, {});
  }

 private:
  std::mutex mu_;  // Not absl::Mutex: Debian's Abseil is invisible to TSan.
  std::vector<Assignment> assignments_;
  std::vector<ExpiredOffer> expired_;
  std::vector<std::string> told_;
};

// A router on a manual clock with a recording listener, rebuilt with other
// options by Build().
class ManualClockRouterTest : public ::testing::Test {
 protected:
  ManualClockRouterTest() : clock_(absl::FromUnixSeconds(1'800'000'000)) {}

  void SetUp() override { Build(RouterOptions()); }

  void Build(RouterOptions options) {
    options.clock = &clock_;
    options.listener = &listener_;
    auto router = Router::Create(options);
    ASSERT_TRUE(router.ok()) << router.status();
    router_ = std::move(*router);
  }

  void AddAvailable(const AgentProfile& agent) {
    ASSERT_TRUE(router_->AddAgent(agent).ok());
    ASSERT_TRUE(router_->SetAgentState(agent.id, AgentState::kAvailable).ok());
  }

  RoutingDecision RouteOk(const Contact& contact) {
    absl::StatusOr<RoutingDecision> d = router_->Route(contact);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : RoutingDecision();
  }

  ManualClock clock_;
  RecordingListener listener_;
  std::unique_ptr<Router> router_;
};

}  // namespace routing::testing

#endif  // TESTS_ROUTING_ROUTER_TEST_SUPPORT_H_
