#include "bench/agent_pool.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "routing/status_macros.h"

namespace bench {

routing::Contact AgentPool::NextContact() {
  return MakeContact(absl::StrCat("contact-", next_contact_++), rng_);
}

routing::Contact AgentPool::NextContactForThread(int thread, int n) const {
  std::mt19937 rng(shape_.seed * 7919u + thread * 104729u + n);
  return MakeContact(absl::StrCat("thread-", thread, "-contact-", n), rng);
}

routing::Contact AgentPool::MakeContact(std::string id,
                                        std::mt19937& rng) const {
  routing::Contact c;
  c.id = std::move(id);
  c.channel = routing::Channel::kVoice;
  std::uniform_int_distribution<int> skill(0, shape_.skills - 1);
  while (static_cast<int>(c.required_skills.size()) <
         shape_.skills_per_contact) {
    const std::string& name = skill_names_[skill(rng)];
    bool duplicate = false;
    for (const auto& r : c.required_skills) duplicate |= r.skill == name;
    if (!duplicate) c.required_skills.push_back({name, 1});
  }
  c.languages = {"en"};
  c.customer_id = absl::StrCat("customer-", rng() % 100'000);
  return c;
}

absl::StatusOr<std::unique_ptr<AgentPool>> BuildAgentPool(
    const PoolShape& shape, const routing::Clock* clock,
    routing::AssignmentListener* listener) {
  auto pool = std::make_unique<AgentPool>();
  pool->shape_ = shape;
  pool->rng_.seed(shape.seed);
  routing::RouterOptions options;
  options.clock = clock;
  options.listener = listener;
  options.max_agents = std::max(shape.agents, 1);
  options.history_customers = 1 << 17;
  ROUTING_ASSIGN_OR_RETURN(pool->router_, routing::Router::Create(options));
  for (int s = 0; s < shape.skills; ++s) {
    pool->skill_names_.push_back(absl::StrCat("skill-", s));
  }
  std::uniform_int_distribution<int> skill(0, shape.skills - 1);
  std::uniform_int_distribution<int> level(1, 5);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int i = 0; i < shape.agents; ++i) {
    routing::AgentProfile p;
    p.id = absl::StrCat("agent-", i);
    while (static_cast<int>(p.skills.size()) < shape.skills_per_agent) {
      const std::string& name = pool->skill_names_[skill(pool->rng_)];
      bool duplicate = false;
      for (const auto& k : p.skills) duplicate |= k.skill == name;
      if (!duplicate) p.skills.push_back({name, level(pool->rng_)});
    }
    p.languages = {{"en", level(pool->rng_)}};
    if (shape.languages > 1) {
      p.languages.push_back(
          {absl::StrCat("lang-", 1 + pool->rng_() % (shape.languages - 1)),
           level(pool->rng_)});
    }
    p.SetCapacity(routing::Channel::kVoice, 1);
    p.SetCapacity(routing::Channel::kChat, 3);
    ROUTING_RETURN_IF_ERROR(pool->router_->AddAgent(p));
    const bool available = unit(pool->rng_) < shape.available_share;
    ROUTING_RETURN_IF_ERROR(pool->router_->SetAgentState(
        p.id, available ? routing::AgentState::kAvailable
                        : routing::AgentState::kBusy));
    pool->agent_ids_.push_back(p.id);
  }
  return pool;
}

}  // namespace bench
