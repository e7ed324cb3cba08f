// The listener's contract (routing_decision.h): assignments of queued contacts
// are told one after another and never nested, never after a Cancel, Release
// or Requeue of that contact has returned, with the routing attempt's token
// and the host's user data.
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "routing/router.h"
#include "tests/routing/router_test_support.h"

namespace routing {
namespace {

using ::routing::testing::MakeAgent;
using ::routing::testing::MakeContact;

// Runs `on_assigned` for each assignment, and records the deepest nesting of
// OnAssigned calls on any one thread.
class ScriptedListener : public AssignmentListener {
 public:
  std::function<void(const Assignment&)> on_assigned;

  void OnAssigned(const Assignment& assignment) override {
    thread_local int depth = 0;
    ++depth;
    int seen = deepest.load();
    while (depth > seen && !deepest.compare_exchange_weak(seen, depth)) {
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      told.push_back(assignment);
    }
    if (on_assigned) on_assigned(assignment);
    --depth;
  }

  std::atomic<int> deepest{0};
  std::mutex mu;
  std::vector<Assignment> told;
};

class RouterListenerTest : public ::testing::Test {
 protected:
  RouterListenerTest() : clock_(absl::FromUnixSeconds(1'800'000'000)) {}
  void SetUp() override {
    RouterOptions options;
    options.clock = &clock_;
    options.listener = &listener_;
    router_ = *Router::Create(options);
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
  ScriptedListener listener_;
  std::unique_ptr<Router> router_;
};

// Runs `body` on a thread with a `stack_bytes` stack.
void RunOnSmallStack(size_t stack_bytes, std::function<void()> body) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, stack_bytes), 0);
  pthread_t thread;
  auto* task = new std::function<void()>(std::move(body));
  ASSERT_EQ(pthread_create(
                &thread, &attr,
                [](void* p) -> void* {
                  auto* f = static_cast<std::function<void()>*>(p);
                  (*f)();
                  delete f;
                  return nullptr;
                },
                task),
            0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
}

// A listener that releases each contact it is told of frees the agent for the
// next one: a chain through every queued contact. It runs flat, in service
// order, on a 128 KB stack.
TEST_F(RouterListenerTest, ReleasesFromTheListenerDoNotNest) {
  AddAvailable(MakeAgent("a", {{"billing", 1}}));
  constexpr int kQueued = 20'000;
  ASSERT_EQ(RouteOk(MakeContact("first", {{"billing", 1}})).agent_id, "a");
  for (int i = 0; i < kQueued; ++i) {
    clock_.Advance(absl::Milliseconds(1));
    ASSERT_EQ(RouteOk(MakeContact(absl::StrCat("c", i), {{"billing", 1}}))
                  .outcome,
              DecisionOutcome::kQueued);
  }
  listener_.on_assigned = [&](const Assignment& a) {
    ASSERT_TRUE(router_->Release(a.contact_id, ContactOutcome::kResolved).ok());
  };
  RunOnSmallStack(128 << 10, [&] {
    ASSERT_TRUE(router_->Release("first", ContactOutcome::kResolved).ok());
  });
  ASSERT_EQ(listener_.told.size(), static_cast<size_t>(kQueued));
  for (int i = 0; i < kQueued; ++i) {
    ASSERT_EQ(listener_.told[i].contact_id, absl::StrCat("c", i));
  }
  EXPECT_EQ(listener_.deepest.load(), 1);
  EXPECT_EQ(router_->Stats().contacts_held, 0);
}

// Inside the listener for one contact, a release assigns another (told only
// once this call returns), which the listener then cancels: the cancelled
// contact is never told.
TEST_F(RouterListenerTest, AContactCancelledBeforeItIsToldIsNeverTold) {
  AddAvailable(MakeAgent("a", {{"billing", 1}}));
  AddAvailable(MakeAgent("b", {{"billing", 1}}));
  ASSERT_EQ(RouteOk(MakeContact("on-a", {{"billing", 1}})).agent_id, "a");
  ASSERT_EQ(RouteOk(MakeContact("on-b", {{"billing", 1}})).agent_id, "b");
  clock_.Advance(absl::Milliseconds(1));
  ASSERT_EQ(RouteOk(MakeContact("p", {{"billing", 1}})).outcome,
            DecisionOutcome::kQueued);
  clock_.Advance(absl::Milliseconds(1));
  ASSERT_EQ(RouteOk(MakeContact("x", {{"billing", 1}})).outcome,
            DecisionOutcome::kQueued);
  listener_.on_assigned = [&](const Assignment& a) {
    if (a.contact_id != "p") return;
    // b frees up: x is assigned to b now, and told after this returns...
    ASSERT_TRUE(router_->Release("on-b", ContactOutcome::kResolved).ok());
    absl::StatusOr<ContactStatus> x = router_->GetContact("x");
    ASSERT_TRUE(x.ok());
    ASSERT_EQ(x->state, ContactStatus::State::kAssigned);
    // ...unless the customer hangs up first.
    ASSERT_TRUE(router_->Cancel("x").ok());
  };
  ASSERT_TRUE(router_->Release("on-a", ContactOutcome::kResolved).ok());
  ASSERT_EQ(listener_.told.size(), 1u);
  EXPECT_EQ(listener_.told[0].contact_id, "p");
  EXPECT_EQ(router_->Stats().contacts_held, 1);  // p, on a.
}

// A Cancel from another thread returns only once a listener call about that
// contact has returned.
TEST_F(RouterListenerTest, CancelWaitsForTheListenerCallUnderWay) {
  AddAvailable(MakeAgent("a", {{"billing", 1}}));
  ASSERT_EQ(RouteOk(MakeContact("on-a", {{"billing", 1}})).agent_id, "a");
  ASSERT_EQ(RouteOk(MakeContact("x", {{"billing", 1}})).outcome,
            DecisionOutcome::kQueued);
  std::atomic<bool> in_listener{false};
  std::atomic<bool> let_go{false};
  std::atomic<bool> listener_returned{false};
  listener_.on_assigned = [&](const Assignment&) {
    in_listener = true;
    while (!let_go) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    listener_returned = true;
  };
  std::thread releaser([&] {
    ASSERT_TRUE(router_->Release("on-a", ContactOutcome::kResolved).ok());
  });
  while (!in_listener) std::this_thread::yield();
  std::atomic<bool> cancelled{false};
  std::atomic<bool> returned_before_listener{false};
  std::thread canceller([&] {
    EXPECT_TRUE(router_->Cancel("x").ok());
    returned_before_listener = !listener_returned.load();
    cancelled = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(cancelled.load()) << "Cancel returned while the listener ran";
  let_go = true;
  canceller.join();
  releaser.join();
  EXPECT_FALSE(returned_before_listener.load());
  EXPECT_EQ(router_->Stats().contacts_held, 0);
}

// Every routing attempt has its own token; the assignment of a queued
// contact carries the token of the decision that queued it, and the host's
// user data.
TEST_F(RouterListenerTest, AssignmentsCarryTheAttemptTokenAndUserData) {
  ASSERT_TRUE(router_->AddAgent(MakeAgent("a", {{"billing", 1}})).ok());
  int call_state = 0;
  Contact x = MakeContact("x", {{"billing", 1}});
  x.user_data = &call_state;
  const RoutingDecision first = RouteOk(x);
  ASSERT_EQ(first.outcome, DecisionOutcome::kQueued);
  EXPECT_NE(first.token, 0u);
  ASSERT_TRUE(router_->Cancel("x").ok());
  const RoutingDecision again = RouteOk(x);  // The same id, a new call.
  EXPECT_NE(again.token, first.token);
  Contact moved = MakeContact("x", {{"billing", 1}});
  moved.queue = "billing-vip";
  absl::StatusOr<RoutingDecision> requeued = router_->Requeue(moved);
  ASSERT_TRUE(requeued.ok()) << requeued.status();
  EXPECT_NE(requeued->token, again.token);
  ASSERT_TRUE(router_->SetAgentState("a", AgentState::kAvailable).ok());
  ASSERT_EQ(listener_.told.size(), 1u);
  EXPECT_EQ(listener_.told[0].token, requeued->token);
  EXPECT_EQ(listener_.told[0].decision.token, requeued->token);
  // Requeued without user data: the contact keeps the host's pointer.
  EXPECT_EQ(listener_.told[0].user_data, &call_state);
  const RoutingDecision other = RouteOk(MakeContact("y", {{"billing", 1}}));
  EXPECT_NE(other.token, requeued->token);
}

// Many threads route, cancel and release while the listener releases what it
// is told: once a Cancel or Release returned, no listener call for that
// contact may start. Checked per contact, at the listener.
TEST(RouterListenerStressTest, NoListenerCallAfterTheContactEnded) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 3'000;
  constexpr int kAgents = 4;
  struct Ended {
    std::atomic<bool> ended{false};
  };
  std::vector<Ended> ended(kThreads * kPerThread);
  std::atomic<int> late{0};
  std::atomic<int> told{0};
  ScriptedListener listener;
  std::unique_ptr<Router> router;
  listener.on_assigned = [&](const Assignment& a) {
    const int id = std::stoi(a.contact_id);
    if (ended[id].ended.load()) late.fetch_add(1);
    told.fetch_add(1);
    // Half the time the agent finishes at once, from inside the listener.
    if (id % 2 == 0 && router->Release(a.contact_id, ContactOutcome::kResolved)
                           .ok()) {
      ended[id].ended.store(true);
    }
  };
  RouterOptions options;
  options.listener = &listener;
  router = *Router::Create(options);
  for (int i = 0; i < kAgents; ++i) {
    const std::string agent = absl::StrCat("agent", i);
    ASSERT_TRUE(router->AddAgent(MakeAgent(agent, {{"billing", 1}})).ok());
    ASSERT_TRUE(router->SetAgentState(agent, AgentState::kAvailable).ok());
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<int> mine;
      for (int i = 0; i < kPerThread; ++i) {
        const int id = t * kPerThread + i;
        const std::string cid = std::to_string(id);
        if (router->Route(MakeContact(cid, {{"billing", 1}})).ok()) {
          mine.push_back(id);
        }
        // End an older contact of ours: a cancel or a release.
        if (mine.size() > 3) {
          const int old = mine[mine.size() - 4];
          const std::string oid = std::to_string(old);
          const bool ok =
              old % 3 == 0
                  ? router->Cancel(oid).ok()
                  : (router->Release(oid, ContactOutcome::kResolved).ok() ||
                     router->Cancel(oid).ok());
          if (ok) ended[old].ended.store(true);
        }
      }
      for (int id : mine) {
        const std::string cid = std::to_string(id);
        if (router->Cancel(cid).ok()) ended[id].ended.store(true);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(late.load(), 0);
  EXPECT_GT(told.load(), 0);
  EXPECT_EQ(router->Stats().contacts_held, 0);
}

}  // namespace
}  // namespace routing
