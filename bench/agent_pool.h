// File: bench/agent_pool.h
//
// Builds the synthetic contact centers the benchmarks measure: N agents with a
// few skills each out of a catalogue, a share of them available, and contacts
// that ask for one of those skills. Deterministic for a given seed, so two
// runs (or two builds being compared) route the same traffic.
//
//   bench::PoolShape shape{.agents = 10'000, .available_share = 0.1};
//   auto pool = bench::BuildAgentPool(shape, &clock);
//   routing::Contact c = pool->NextContact();
#ifndef BENCH_AGENT_POOL_H_
#define BENCH_AGENT_POOL_H_

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "routing/router.h"

namespace bench {

struct PoolShape {
  int agents = 1000;
  double available_share = 0.1;  // The rest are busy (not routable).
  int skills = 50;               // Size of the skill catalogue.
  int skills_per_agent = 3;
  int skills_per_contact = 1;
  int languages = 4;  // Every agent speaks "en" plus maybe one more.
  uint32_t seed = 42;
};

class AgentPool {
 public:
  routing::Router& router() { return *router_; }
  const std::vector<std::string>& agent_ids() const { return agent_ids_; }
  // A new contact (unique id) on the voice channel asking for
  // `skills_per_contact` skills of the catalogue, in English.
  routing::Contact NextContact();
  // The same kind of contact, for thread `thread` of a multi-threaded run:
  // ids never collide across threads, and the call is safe from any thread.
  routing::Contact NextContactForThread(int thread, int n) const;

 private:
  friend absl::StatusOr<std::unique_ptr<AgentPool>> BuildAgentPool(
      const PoolShape& shape, const routing::Clock* clock,
      routing::AssignmentListener* listener);
  PoolShape shape_;
  std::unique_ptr<routing::Router> router_;
  std::vector<std::string> agent_ids_;
  std::vector<std::string> skill_names_;
  routing::Contact MakeContact(std::string id, std::mt19937& rng) const;
  std::mt19937 rng_;
  uint64_t next_contact_ = 0;
};

absl::StatusOr<std::unique_ptr<AgentPool>> BuildAgentPool(
    const PoolShape& shape, const routing::Clock* clock,
    routing::AssignmentListener* listener = nullptr);

}  // namespace bench

#endif  // BENCH_AGENT_POOL_H_
