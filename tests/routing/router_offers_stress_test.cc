// Reservations under contention: offers accepted, rejected, cancelled,
// requeued and lapsing on many threads at once, on the same contacts, while
// agents change state. At quiescence (no call running, nothing run to
// repair the state first) every agent's load equals the contacts offered or
// assigned to it, none is over capacity, and every contact not ended by the
// test is still held.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "routing/router.h"

namespace routing {
namespace {

constexpr int kAgents = 6;
constexpr int kChatCapacity = 2;
constexpr int kContactsPerRouter = 600;
constexpr int kRouters = 2;

// Offers heard (from Route replies and the listener), for the desktops to
// act on; entries are never removed, so several threads act on one offer.
class OfferBoard : public AssignmentListener {
 public:
  void OnAssigned(const Assignment& assignment) override {
    if (assignment.decision.offered) Note(assignment.contact_id);
  }
  void OnOfferExpired(const ExpiredOffer& offer) override {
    expired_.fetch_add(1, std::memory_order_relaxed);
    (void)offer;
  }
  void Note(const std::string& contact_id) {
    std::lock_guard<std::mutex> lock(mu_);
    offered_.push_back(contact_id);
  }
  std::string Pick(std::mt19937& rng) {
    std::lock_guard<std::mutex> lock(mu_);
    if (offered_.empty()) return "";
    // Mostly recent offers, so threads collide on the same ones.
    const size_t n = offered_.size();
    const size_t back = std::uniform_int_distribution<size_t>(
        0, std::min<size_t>(n - 1, 8))(rng);
    return offered_[n - 1 - back];
  }
  int64_t expired() const { return expired_.load(std::memory_order_relaxed); }

 private:
  std::mutex mu_;  // Not absl::Mutex: Debian's Abseil is invisible to TSan.
  std::vector<std::string> offered_;
  std::atomic<int64_t> expired_{0};
};

TEST(RouterOffersStressTest, LoadsMatchOffersAndAssignmentsAtQuiescence) {
  OfferBoard board;
  RouterOptions options;
  options.listener = &board;
  // Short enough that the ticker lapses many offers during the run.
  options.offer_timeout[ChannelIndex(Channel::kChat)] = absl::Milliseconds(2);
  options.missed_offer_state = AgentState::kBreak;
  auto created = Router::Create(options);
  ASSERT_TRUE(created.ok()) << created.status();
  std::unique_ptr<Router> router = std::move(*created);

  std::vector<std::string> agents;
  for (int i = 0; i < kAgents; ++i) {
    AgentProfile p;
    p.id = absl::StrCat("agent-", i);
    p.skills = {{"billing", 3}};
    p.languages = {{"en", 5}};
    p.SetCapacity(Channel::kChat, kChatCapacity);
    ASSERT_TRUE(router->AddAgent(p).ok());
    ASSERT_TRUE(router->SetAgentState(p.id, AgentState::kAvailable).ok());
    agents.push_back(p.id);
  }

  std::atomic<bool> stop{false};
  std::atomic<int> routers_running{kRouters};
  // Contacts the test ended (cancelled or released) successfully.
  std::mutex ended_mu;
  absl::flat_hash_set<std::string> ended;
  auto note_ended = [&](const std::string& id) {
    std::lock_guard<std::mutex> lock(ended_mu);
    ended.insert(id);
  };
  std::atomic<int64_t> accepted{0}, rejected{0};
  // Rejects whose offer ended but whose contact a Cancel took while it was
  // placed again (Aborted), or that found the offer already ended (Aborted,
  // nothing done).
  std::atomic<int64_t> rejects_aborted{0};

  std::vector<std::thread> threads;
  for (int r = 0; r < kRouters; ++r) {
    threads.emplace_back([&, r] {
      for (int i = 0; i < kContactsPerRouter; ++i) {
        Contact c;
        c.id = absl::StrCat("chat-", r, "-", i);
        c.channel = Channel::kChat;
        c.required_skills = {{"billing", 1}};
        absl::StatusOr<RoutingDecision> d = router->Route(c);
        ASSERT_TRUE(d.ok()) << d.status();
        if (d->offered) board.Note(c.id);
      }
      routers_running.fetch_sub(1);
    });
  }
  // Desktops: accept, reject, cancel, requeue or release whatever was
  // offered, racing each other on the same contacts.
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(1234 + t);
      while (!stop.load()) {
        const std::string id = board.Pick(rng);
        if (id.empty()) {
          std::this_thread::yield();
          continue;
        }
        switch (std::uniform_int_distribution<int>(0, 9)(rng)) {
          case 0:
          case 1:
          case 2:
            if (router->AcceptOffer(id, "").ok()) accepted.fetch_add(1);
            break;
          case 3:
          case 4: {
            absl::StatusOr<RoutingDecision> back = router->RejectOffer(id, "");
            if (back.ok()) {
              rejected.fetch_add(1);
            } else if (back.status().code() == absl::StatusCode::kAborted) {
              rejects_aborted.fetch_add(1);
            }
            break;
          }
          case 5:
            if (router->Cancel(id).ok()) note_ended(id);
            break;
          case 6: {
            Contact c;
            c.id = id;
            c.channel = Channel::kChat;
            c.required_skills = {{"billing", 1}};
            (void)router->Requeue(c);
            break;
          }
          default:
            if (router->Release(id, ContactOutcome::kResolved).ok()) {
              note_ended(id);
            }
            break;
        }
      }
    });
  }
  // Supervisors: agents back from their missed-offer break.
  threads.emplace_back([&] {
    std::mt19937 rng(99);
    while (!stop.load()) {
      const std::string& agent =
          agents[std::uniform_int_distribution<int>(0, kAgents - 1)(rng)];
      (void)router->SetAgentState(agent, AgentState::kAvailable);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  // The host's tick.
  threads.emplace_back([&] {
    while (!stop.load()) {
      router->AdvanceQueues();
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  });

  while (routers_running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop.store(true);
  for (std::thread& t : threads) t.join();

  // Quiescence: read the state as the threads left it.
  absl::flat_hash_map<std::string, int> held_by;
  int64_t held = 0;
  for (int r = 0; r < kRouters; ++r) {
    for (int i = 0; i < kContactsPerRouter; ++i) {
      const std::string id = absl::StrCat("chat-", r, "-", i);
      absl::StatusOr<ContactStatus> s = router->GetContact(id);
      if (ended.contains(id)) {
        EXPECT_FALSE(s.ok()) << id << " was ended but is still held";
        continue;
      }
      ASSERT_TRUE(s.ok()) << id << " was lost: " << s.status();
      ++held;
      if (s->state != ContactStatus::State::kQueued) {
        ++held_by[s->agent_id];
      }
    }
  }
  for (const std::string& agent : agents) {
    absl::StatusOr<AgentStatus> a = router->GetAgent(agent);
    ASSERT_TRUE(a.ok());
    const int load = a->LoadOf(Channel::kChat);
    EXPECT_LE(load, kChatCapacity) << agent;
    EXPECT_EQ(load, held_by[agent]) << agent;
  }
  RouterStats stats = router->Stats();
  EXPECT_EQ(stats.contacts_held, held);
  EXPECT_EQ(stats.offers_accepted, accepted.load());
  EXPECT_GE(stats.offers_rejected, rejected.load());
  EXPECT_LE(stats.offers_rejected, rejected.load() + rejects_aborted.load());
  EXPECT_EQ(stats.offers_expired, board.expired());
  EXPECT_GE(stats.offers, stats.offers_accepted + stats.offers_rejected +
                              stats.offers_expired);
  // The run exercised every end of an offer.
  EXPECT_GT(accepted.load(), 0);
  EXPECT_GT(rejected.load(), 0);
  EXPECT_GT(board.expired(), 0);
}

}  // namespace
}  // namespace routing
