// Randomised single-threaded checks of the router against a brute-force model
// built from its own public snapshots: thousands of random operations, and
// after every decision the hard rules are re-derived from scratch.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "routing/router.h"
#include "tests/routing/router_test_support.h"

namespace routing {
namespace {

using ::routing::testing::RecordingListener;

constexpr int kAgents = 24;
const char* const kSkills[] = {"billing", "sales", "tech", "claims",
                               "retention"};
const char* const kLanguages[] = {"en", "es", "fr", "de"};

AgentProfile RandomAgent(int i, std::mt19937& rng) {
  AgentProfile p;
  p.id = absl::StrCat("agent-", i);
  for (const char* skill : kSkills) {
    if (rng() % 2) p.skills.push_back({skill, 1 + static_cast<int>(rng() % 5)});
  }
  for (const char* language : kLanguages) {
    if (p.languages.empty() || rng() % 3 == 0) {
      p.languages.push_back({language, 1 + static_cast<int>(rng() % 5)});
    }
  }
  p.SetCapacity(Channel::kVoice, static_cast<int>(rng() % 2));
  p.SetCapacity(Channel::kChat, 1 + static_cast<int>(rng() % 3));
  if (rng() % 3 == 0) p.max_total_contacts = 1;
  return p;
}

Contact RandomContact(int n, std::mt19937& rng) {
  Contact c;
  c.id = absl::StrCat("contact-", n);
  c.channel = rng() % 2 ? Channel::kVoice : Channel::kChat;
  const int requirements = static_cast<int>(rng() % 3);
  for (int r = 0; r < requirements; ++r) {
    const std::string skill = kSkills[rng() % std::size(kSkills)];
    if (std::none_of(
            c.required_skills.begin(), c.required_skills.end(),
            [&](const SkillRequirement& s) { return s.skill == skill; })) {
      c.required_skills.push_back({skill, 1 + static_cast<int>(rng() % 4)});
    }
  }
  if (rng() % 2) c.languages = {kLanguages[rng() % std::size(kLanguages)]};
  if (rng() % 5 == 0)
    c.excluded_agents = {absl::StrCat("agent-", rng() % kAgents)};
  c.priority = static_cast<int>(rng() % 3);
  return c;
}

// The hard rules, re-derived from a snapshot: would `agent` be allowed to take
// `contact` right now?
bool Eligible(const AgentStatus& agent, const Contact& contact) {
  if (agent.state != AgentState::kAvailable) return false;
  if (agent.LoadOf(contact.channel) >=
      agent.profile.CapacityOf(contact.channel)) {
    return false;
  }
  int total = 0;
  for (int load : agent.load) total += load;
  if (agent.profile.max_total_contacts > 0 &&
      total >= agent.profile.max_total_contacts) {
    return false;
  }
  for (const SkillRequirement& r : contact.required_skills) {
    bool has = false;
    for (const AgentSkill& s : agent.profile.skills) {
      has = has || (s.skill == r.skill && s.level >= r.min_level);
    }
    if (!has) return false;
  }
  if (!contact.languages.empty()) {
    bool speaks = false;
    for (const AgentLanguage& l : agent.profile.languages) {
      speaks = speaks || l.language == contact.languages[0];
    }
    if (!speaks) return false;
  }
  return std::find(contact.excluded_agents.begin(),
                   contact.excluded_agents.end(),
                   agent.profile.id) == contact.excluded_agents.end();
}

int SkillSum(const AgentStatus& agent, const Contact& contact) {
  int sum = 0;
  for (const SkillRequirement& r : contact.required_skills) {
    for (const AgentSkill& s : agent.profile.skills) {
      if (s.skill == r.skill) sum += s.level;
    }
  }
  return sum;
}

class RouterPropertyTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  void SetUp() override {
    RouterOptions options;
    options.clock = &clock_;
    options.listener = &listener_;
    auto created = Router::Create(options);
    ASSERT_TRUE(created.ok());
    router_ = std::move(*created);
  }

  absl::flat_hash_map<std::string, AgentStatus> Snapshot() {
    absl::flat_hash_map<std::string, AgentStatus> agents;
    for (const std::string& id : router_->AgentIds()) {
      absl::StatusOr<AgentStatus> a = router_->GetAgent(id);
      if (a.ok()) agents[id] = *a;
    }
    return agents;
  }

  ManualClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  RecordingListener listener_;
  std::unique_ptr<Router> router_;
};

TEST_P(RouterPropertyTest,
       DecisionsObeyTheHardRulesAndSkillOnlyPolicyPicksTheMostSkilled) {
  std::mt19937 rng(GetParam());
  for (int i = 0; i < kAgents; ++i) {
    const AgentProfile agent = RandomAgent(i, rng);
    ASSERT_TRUE(router_->AddAgent(agent).ok());
    ASSERT_TRUE(router_->SetAgentState(agent.id, AgentState::kAvailable).ok());
  }
  // Only skill counts: the winner must have the highest summed level among
  // the eligible agents, which the model can check exactly.
  RoutingPolicy skill_only;
  skill_only.name = "skill-only";
  skill_only.weights = {1, 0, 0, 0, 0, 0};
  ASSERT_TRUE(router_->SetPolicy(skill_only).ok());

  std::vector<std::string> held;
  int assigned = 0, queued = 0, refused = 0, drained = 0;
  for (int step = 0; step < 3000; ++step) {
    clock_.Advance(absl::Seconds(1 + rng() % 20));
    const int op = static_cast<int>(rng() % 10);
    if (op < 4) {
      const Contact contact = RandomContact(step, rng);
      const auto before = Snapshot();
      int eligible = 0, best_skill = -1, qualified = 0;
      for (const auto& [id, agent] : before) {
        AgentStatus any_state = agent;  // Qualified: eligible if free.
        any_state.state = AgentState::kAvailable;
        any_state.load = {};
        if (Eligible(any_state, contact)) ++qualified;
        if (!Eligible(agent, contact)) continue;
        ++eligible;
        best_skill = std::max(best_skill, SkillSum(agent, contact));
      }
      absl::StatusOr<RoutingDecision> d = router_->Route(contact);
      if (!d.ok()) {
        // Only refusals for a contact nobody on the roster could ever serve.
        ASSERT_EQ(qualified, 0) << d.status();
        ASSERT_TRUE(d.status().code() ==
                        absl::StatusCode::kFailedPrecondition ||
                    d.status().code() == absl::StatusCode::kNotFound)
            << d.status();
        ++refused;
        continue;
      }
      held.push_back(contact.id);
      if (d->outcome == DecisionOutcome::kAssigned) {
        ++assigned;
        ASSERT_TRUE(before.contains(d->agent_id));
        const AgentStatus& winner = before.at(d->agent_id);
        EXPECT_TRUE(Eligible(winner, contact))
            << contact.id << " -> " << d->agent_id;
        EXPECT_EQ(d->eligible_agents, eligible) << contact.id;
        EXPECT_EQ(SkillSum(winner, contact), best_skill) << contact.id;
        EXPECT_EQ(d->policy_name, "skill-only");
      } else {
        ++queued;
        EXPECT_EQ(eligible, 0)
            << contact.id << " queued with a free eligible agent";
        EXPECT_EQ(d->qualified.total, qualified) << contact.id;
        EXPECT_EQ(d->qualified.at_capacity + d->qualified.unavailable +
                      d->qualified.logged_out,
                  qualified);
        EXPECT_GE(d->queue_position, 1);
      }
    } else if (op < 8 && !held.empty()) {
      const size_t k = rng() % held.size();
      absl::StatusOr<ContactStatus> s = router_->GetContact(held[k]);
      ASSERT_TRUE(s.ok()) << held[k] << " was lost: " << s.status();
      const absl::Status done =
          s->state == ContactStatus::State::kAssigned
              ? router_->Release(held[k], ContactOutcome::kResolved)
              : router_->Cancel(held[k]);
      ASSERT_TRUE(done.ok()) << done;
      held[k] = held.back();
      held.pop_back();
    } else {
      const std::string agent = absl::StrCat("agent-", rng() % kAgents);
      const AgentState state =
          rng() % 3 ? AgentState::kAvailable : AgentState::kBreak;
      ASSERT_TRUE(router_->SetAgentState(agent, state).ok());
    }
    // Assignments made by drains must obey the same rules; the listener saw
    // them as they happened, and capacity must hold at every step.
    for (const Assignment& a : listener_.Take()) {
      ASSERT_TRUE(router_->GetAgent(a.agent_id).ok());
      absl::StatusOr<ContactStatus> s = router_->GetContact(a.contact_id);
      ASSERT_TRUE(s.ok()) << a.contact_id << " assigned but not held";
      EXPECT_EQ(s->agent_id, a.agent_id);
      ++drained;
    }
    for (const auto& [id, agent] : Snapshot()) {
      for (Channel c : kAllChannels) {
        ASSERT_LE(agent.LoadOf(c), agent.profile.CapacityOf(c)) << id;
      }
    }
  }
  // The run exercised every path.
  EXPECT_GT(assigned, 200) << queued << " queued, " << refused << " refused";
  EXPECT_GT(queued, 50) << assigned << " assigned";  // Every path was taken:
  EXPECT_GT(drained, 20) << queued << " queued";
  EXPECT_EQ(router_->Stats().contacts_held, static_cast<int64_t>(held.size()));
}

INSTANTIATE_TEST_SUITE_P(Seeds, RouterPropertyTest,
                         ::testing::Values(1u, 2u, 3u, 4u));

}  // namespace
}  // namespace routing
