// ContactCompiler and AgentCompiler on their own: what a refused input
// leaves behind (nothing), how names resolve, and the arithmetic of aged
// arrival at its edges.
#include "routing/internal/contact_compiler.h"

#include <cstdint>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "routing/internal/agent_compiler.h"
#include "routing/internal/agent_index.h"
#include "routing/internal/epoch.h"
#include "routing/internal/history_store.h"
#include "routing/internal/input_checks.h"
#include "routing/internal/name_table.h"

namespace routing::internal {
namespace {

constexpr int64_t kNow = int64_t{1'800'000'000} * 1'000'000'000;

class CompilerTest : public ::testing::Test {
 protected:
  CompilerTest()
      : agents_(options_.max_agents, 16, 16, &epoch_),
        skills_(16),
        languages_(16),
        teams_(16),
        history_(1024, 4),
        agent_compiler_(&options_, &skills_, &languages_, &teams_, &agents_),
        contact_compiler_(&options_, &skills_, &languages_, &agents_.ids(),
                          &history_) {}

  static RouterOptions Options() {
    RouterOptions options;
    options.max_agents = 64;
    options.max_skills = 16;
    options.max_languages = 16;
    return options;
  }

  absl::StatusOr<std::unique_ptr<ContactRoute>> Compile(
      const Contact& contact, const RoutingRules* rules = nullptr) {
    return contact_compiler_.Compile(contact, options_.policy, rules, kNow);
  }

  const RouterOptions options_ = Options();
  EpochDomain epoch_;
  AgentIndex agents_;
  NameTable skills_;
  NameTable languages_;
  NameTable teams_;
  HistoryStore history_;
  AgentCompiler agent_compiler_;
  ContactCompiler contact_compiler_;
};

TEST_F(CompilerTest, AnAgentCompilesToSortedIdsAndARefusedOneInternsNothing) {
  AgentProfile agent;
  agent.id = "a";
  agent.skills = {{"tech", 3}, {"billing", 5}};
  agent.languages = {{"en", 5}};
  agent.SetCapacity(Channel::kVoice, 1);
  auto record = agent_compiler_.Compile(agent, 0);
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_EQ((*record)->skills.size(), 2u);
  EXPECT_LT((*record)->skills[0].first, (*record)->skills[1].first);
  EXPECT_EQ((*record)->SkillLevel(skills_.Find("billing")), 5);
  EXPECT_EQ((*record)->total_capacity, 1);

  AgentProfile bad = agent;
  bad.id = "b";
  bad.skills = {{"sales", 2}, {"sales", 3}};
  const int known = skills_.size();
  absl::Status refused = agent_compiler_.Validate(bad);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("lists skill 'sales' twice"),
            std::string_view::npos)
      << refused;
  EXPECT_FALSE(agent_compiler_.Compile(bad, 1).ok());
  EXPECT_EQ(skills_.size(), known) << "a refused profile left a name behind";
  EXPECT_EQ(skills_.Find("sales"), -1);
}

TEST_F(CompilerTest, AProfileThatWouldOverfillTheSkillTableIsRefusedWhole) {
  AgentProfile agent;
  agent.id = "many";
  agent.SetCapacity(Channel::kVoice, 1);
  for (int i = 0; i < 17; ++i) {
    agent.skills.push_back({"skill-" + std::to_string(i), 1});
  }
  absl::Status refused = agent_compiler_.Validate(agent);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  EXPECT_EQ(skills_.size(), 0);
}

TEST_F(CompilerTest, AContactResolvesNamesWithoutInterningAny) {
  AgentProfile agent;
  agent.id = "known";
  agent.skills = {{"billing", 3}};
  agent.languages = {{"en", 5}};
  agent.SetCapacity(Channel::kVoice, 1);
  ASSERT_TRUE(agent_compiler_.Compile(agent, agents_.ids().FindOrInsert("known"))
                  .ok());
  Contact contact;
  contact.id = "c1";
  contact.required_skills = {{"billing", 2}};
  contact.desired_skills = {{"never-seen", 1}};  // Desired: kept as unknown.
  contact.languages = {"fr", "en"};
  contact.excluded_agents = {"known", "stranger"};
  const int skills = skills_.size(), ids = agents_.ids().size();
  auto route = Compile(contact);
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_EQ((*route)->contact.queue, "billing");  // Defaults to the skill.
  ASSERT_EQ((*route)->languages.size(), 1u);      // "fr": nobody speaks it.
  EXPECT_EQ((*route)->language_rank[0], 1);
  EXPECT_EQ((*route)->excluded_agents.size(), 1u);
  ASSERT_EQ((*route)->excluded_unknown.size(), 1u);
  EXPECT_EQ((*route)->excluded_unknown[0], "stranger");
  EXPECT_EQ((*route)->enqueue_ns, kNow);
  EXPECT_EQ(skills_.size(), skills);
  EXPECT_EQ(agents_.ids().size(), ids);

  contact.required_skills = {{"welsh-billing", 1}};
  auto refused = Compile(contact);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(skills_.Find("welsh-billing"), -1);
}

TEST_F(CompilerTest, AgedArrivalSaturatesForAHugePriorityStep) {
  RouterOptions options = Options();
  options.policy.priority_step = absl::Hours(24 * 365 * 200);
  ContactCompiler compiler(&options, &skills_, &languages_, &agents_.ids(),
                           &history_);
  Contact contact;
  contact.id = "vip";
  contact.priority = 9;
  auto route = compiler.Compile(contact, options.policy, nullptr, kNow);
  ASSERT_TRUE(route.ok()) << route.status();
  // 9 x 200 years overflows nanoseconds: the lead saturates (no undefined
  // behaviour), and the contact is still ahead of a priority-0 one.
  EXPECT_EQ((*route)->aged_arrival_ns, kNow - INT64_MAX);
  contact.priority = 0;
  auto plain = compiler.Compile(contact, options.policy, nullptr, kNow);
  ASSERT_TRUE(plain.ok());
  EXPECT_LT((*route)->aged_ms, (*plain)->aged_ms);
}

TEST_F(CompilerTest, AnEnqueueTimeInTheFutureOrMonthsAgoIsRefused) {
  Contact contact;
  contact.id = "c";
  contact.enqueue_time = absl::FromUnixNanos(kNow) + kMaxEnqueueClockSkew +
                         absl::Milliseconds(1);
  EXPECT_EQ(Compile(contact).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Within the skew a host clock may have: waiting from now.
  contact.enqueue_time = absl::FromUnixNanos(kNow) + absl::Milliseconds(20);
  auto ahead = Compile(contact);
  ASSERT_TRUE(ahead.ok()) << ahead.status();
  EXPECT_EQ((*ahead)->enqueue_ns, kNow);
  contact.enqueue_time = absl::FromUnixNanos(kNow) - absl::Hours(24 * 31);
  EXPECT_EQ(Compile(contact).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace routing::internal
