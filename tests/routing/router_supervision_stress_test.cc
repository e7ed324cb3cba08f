// Router::Stats while agents come and go on other threads. An AddAgent
// claims its slot before it publishes the agent (the slot reads "being
// added" meanwhile): Stats must count only agents on the roster, so that
// every agent it counts has a state, and it must never index its
// agents_by_state array with the marker of a slot being added (that wrote
// past the array, into the queue list after it, and crashed).
#include <atomic>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "routing/router.h"
#include "tests/routing/router_test_support.h"

namespace routing {
namespace {

using ::routing::testing::MakeAgent;
using ::routing::testing::MakeContact;

TEST(RouterSupervisionStressTest, StatsCountOnlyAgentsOnTheRosterWhileOthersJoin) {
  RouterOptions options;
  std::unique_ptr<Router> router = *Router::Create(options);
  // A queue for Stats to list after the agents (its vector follows the
  // array in RouterStats).
  ASSERT_TRUE(router->AddAgent(MakeAgent("keeper", {{"billing", 1}})).ok());
  ASSERT_TRUE(router->Route(MakeContact("waiting", {{"billing", 1}})).ok());

  std::atomic<bool> stop{false};
  std::vector<std::thread> churn;
  for (int t = 0; t < 2; ++t) {
    churn.emplace_back([&, t] {
      for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        const std::string id = absl::StrCat("agent-", t, "-", i % 16);
        (void)router->AddAgent(MakeAgent(id, {{"billing", 2}}));
        (void)router->RemoveAgent(id);
      }
    });
  }
  const absl::Time until = absl::Now() + absl::Milliseconds(500);
  int reads = 0;
  while (absl::Now() < until) {
    const RouterStats stats = router->Stats();
    ++reads;
    const int64_t by_state = std::accumulate(
        stats.agents_by_state.begin(), stats.agents_by_state.end(),
        int64_t{0});
    ASSERT_EQ(stats.agents, by_state) << "after " << reads << " reads";
    ASSERT_GE(stats.agents, 1);
    ASSERT_EQ(stats.queues.size(), 1u);
    EXPECT_EQ(stats.queues[0].queue, "billing");
    EXPECT_EQ(stats.queues[0].waiting, 1);
  }
  stop.store(true);
  for (std::thread& t : churn) t.join();
  EXPECT_GT(reads, 10);
}

}  // namespace
}  // namespace routing
