// Many threads routing, cancelling, releasing, requeueing and changing agent
// state at once, for a bounded time; then every invariant of router.h is
// checked: no agent beyond capacity (also checked while running), no contact
// assigned twice, no contact lost, no queued contact left behind while an
// agent who could take it is free (no lost wakeup), and loads that add up.
// The lost-wakeup and load checks run first at quiescence, right after the
// workers stop, before any call that could drain a queue or repair a load
// (restoring the roster does both), and again after the restore.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "routing/router.h"

namespace routing {
namespace {

constexpr int kAgents = 48;
constexpr int kRoutingThreads = 4;
constexpr int kSkills = 4;
constexpr auto kRunFor = std::chrono::milliseconds(1500);
constexpr size_t kMostHeldPerThread = 400;
const char* const kSkillNames[kSkills] = {"billing", "sales", "tech",
                                          "retention"};

// Counts every assignment the router reports, from Route or the listener.
class AssignmentLedger : public AssignmentListener {
 public:
  void OnAssigned(const Assignment& a) override {
    Record(a.contact_id, a.agent_id);
  }

  void Record(const std::string& contact, const std::string& agent) {
    std::lock_guard<std::mutex> lock(mu_);
    Entry& e = entries_[contact];
    ++e.assignments;
    e.agents.insert(agent);
  }
  void Routed(const std::string& contact) {
    std::lock_guard<std::mutex> lock(mu_);
    ++entries_[contact].routings;
  }
  void CheckNoDoubleAssignment() {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [contact, e] : entries_) {
      EXPECT_LE(e.assignments, e.routings) << contact << " assigned twice";
    }
  }
  // Every agent the contact was ever assigned to.
  std::set<std::string> AgentsOf(const std::string& contact) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(contact);
    return it == entries_.end() ? std::set<std::string>() : it->second.agents;
  }
  int64_t total_assignments() {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t n = 0;
    for (const auto& [contact, e] : entries_) n += e.assignments;
    return n;
  }

 private:
  struct Entry {
    int routings = 0;
    int assignments = 0;
    std::set<std::string> agents;
  };
  std::mutex mu_;  // Not absl::Mutex: Debian's Abseil is invisible to TSan.
  std::map<std::string, Entry> entries_;
};

AgentProfile StressAgent(int i) {
  AgentProfile p;
  p.id = absl::StrCat("agent-", i);
  p.skills = {{kSkillNames[i % kSkills], 1 + i % 5},
              {kSkillNames[(i + 1) % kSkills], 1 + (i / 2) % 5}};
  p.languages = {{"en", 5}};
  if (i % 3 == 0) p.languages.push_back({"es", 4});
  p.SetCapacity(Channel::kVoice, 1);
  p.SetCapacity(Channel::kChat, 1 + i % 3);
  return p;
}

// Whether `a`, as GetAgent reports it, could take `c` now: available, room on
// the channel, the required skills and one of the customer's languages.
bool FreeAndEligible(const AgentStatus& a, const Contact& c) {
  if (a.state != AgentState::kAvailable ||
      a.LoadOf(c.channel) >= a.profile.CapacityOf(c.channel)) {
    return false;
  }
  for (const SkillRequirement& r : c.required_skills) {
    bool has = false;
    for (const AgentSkill& k : a.profile.skills) {
      if (k.skill == r.skill && k.level >= r.min_level) has = true;
    }
    if (!has) return false;
  }
  bool speaks = c.languages.empty();
  for (const std::string& l : c.languages) {
    for (const AgentLanguage& al : a.profile.languages) {
      if (al.language == l) speaks = true;
    }
  }
  return speaks;
}

// No lost wakeup: no queued contact has a free agent eligible for it, with
// agents as they stand (on the roster, their current profile, state and
// load). An agent the contact was ever assigned to is left out: a requeue
// excludes the agent it takes the contact from without saying so in the
// Contact that GetContact returns.
void ExpectNoLostWakeup(Router& router, const std::vector<AgentProfile>& roster,
                        const std::vector<std::vector<std::string>>& created,
                        AssignmentLedger& ledger, const char* when) {
  std::vector<AgentStatus> agents;
  for (const AgentProfile& p : roster) {
    absl::StatusOr<AgentStatus> a = router.GetAgent(p.id);
    if (a.ok()) agents.push_back(*std::move(a));  // Else off the roster.
  }
  for (const std::vector<std::string>& ids : created) {
    for (const std::string& id : ids) {
      absl::StatusOr<ContactStatus> s = router.GetContact(id);
      if (!s.ok() || s->state != ContactStatus::State::kQueued) continue;
      const std::set<std::string> assigned_before = ledger.AgentsOf(id);
      for (const AgentStatus& a : agents) {
        if (assigned_before.contains(a.profile.id)) continue;
        EXPECT_FALSE(FreeAndEligible(a, s->contact))
            << when << ": " << id << " waits while " << a.profile.id
            << " is free and eligible";
      }
    }
  }
}

// Loads add up: each agent's load per channel equals the contacts the router
// says are assigned to it, and no contact is assigned to an agent off the
// roster.
void ExpectLoadsAddUp(Router& router, const std::vector<AgentProfile>& roster,
                      const std::vector<std::vector<std::string>>& created,
                      const char* when) {
  absl::flat_hash_map<std::string, std::array<int, kChannelCount>> expected;
  for (const std::vector<std::string>& ids : created) {
    for (const std::string& id : ids) {
      absl::StatusOr<ContactStatus> s = router.GetContact(id);
      if (s.ok() && s->state == ContactStatus::State::kAssigned) {
        ++expected[s->agent_id][ChannelIndex(s->contact.channel)];
      }
    }
  }
  for (const AgentProfile& p : roster) {
    absl::StatusOr<AgentStatus> a = router.GetAgent(p.id);
    for (Channel c : kAllChannels) {
      const int held = expected[p.id][ChannelIndex(c)];
      if (!a.ok()) {
        EXPECT_EQ(held, 0) << when << ": " << p.id << " is off the roster";
        continue;
      }
      EXPECT_EQ(a->LoadOf(c), held)
          << when << ": " << p.id << " " << std::string(ChannelName(c));
    }
  }
}

// At quiescence the listing of waiting contacts agrees with every queue's
// count, and with GetContact's position of each listed contact.
void ExpectListingsAgree(const Router& router, const char* when) {
  std::map<std::string, int64_t> listed;
  for (const QueuedContact& q : router.QueuedContacts("", 1 << 20)) {
    ++listed[q.contact.queue];
    absl::StatusOr<ContactStatus> s = router.GetContact(q.contact.id);
    ASSERT_TRUE(s.ok()) << when << ": " << s.status();
    EXPECT_EQ(s->state, ContactStatus::State::kQueued) << when;
    EXPECT_EQ(s->queue_position, q.queue_position) << when << " " << q.contact.id;
  }
  for (const QueueStats& q : router.Stats().queues) {
    EXPECT_EQ(listed[q.queue], q.waiting) << when << ": queue " << q.queue;
  }
}

// Every release is counted once in its queue's KPIs, with its survey.
void ExpectKpisAddUp(const Router& router, int64_t surveys, const char* when) {
  RouterStats stats = router.Stats();
  int64_t released = 0, resolved = 0, csat = 0, nps = 0;
  for (const QueueStats& q : stats.queues) {
    released += q.kpis.released;
    resolved += q.kpis.resolved;
    csat += q.kpis.csat_responses;
    nps += q.kpis.nps_responses;
    EXPECT_LE(q.kpis.first_contact_resolved, q.kpis.resolved) << when;
  }
  EXPECT_EQ(released, stats.released) << when;
  EXPECT_EQ(resolved, stats.released) << when;  // Every release resolves.
  EXPECT_EQ(csat, surveys) << when;
  EXPECT_EQ(nps, surveys) << when;
}

TEST(RouterStressTest, InvariantsHoldUnderConcurrentLoad) {
  SystemClock clock;
  AssignmentLedger ledger;
  RouterOptions options;
  options.clock = &clock;
  options.listener = &ledger;
  options.max_agents = 64;
  auto router_or = Router::Create(options);
  ASSERT_TRUE(router_or.ok());
  Router& router = **router_or;
  std::vector<AgentProfile> roster;
  for (int i = 0; i < kAgents; ++i) {
    roster.push_back(StressAgent(i));
    ASSERT_TRUE(router.AddAgent(roster.back()).ok());
    ASSERT_TRUE(
        router.SetAgentState(roster.back().id, AgentState::kAvailable).ok());
  }

  std::atomic<bool> stop{false};
  std::atomic<int64_t> capacity_violations{0};
  std::atomic<int64_t> unexpected_errors{0};
  std::atomic<int64_t> operations{0};
  std::vector<std::vector<std::string>> created(kRoutingThreads);
  std::atomic<int64_t> surveys{0};
  std::atomic<int64_t> listing_errors{0};
  std::atomic<int64_t> listings{0};

  auto routing_thread = [&](int t) {
    std::mt19937 rng(1234 + t);
    std::vector<std::string> mine;  // Contacts this thread may still hold.
    int next = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      operations.fetch_add(1, std::memory_order_relaxed);
      // A thread holds at most kMostHeldPerThread contacts: past that it
      // only ends them. Otherwise the queues grow with the machine's speed,
      // and the clean-up below (each release drains past every waiting
      // contact the agent cannot take) grows with their square.
      const int op = mine.size() >= kMostHeldPerThread ? 5 + rng() % 5
                                                       : rng() % 10;
      if (op < 5 || mine.empty()) {
        Contact c;
        c.id = absl::StrCat("t", t, "-", next++);
        c.channel = rng() % 2 ? Channel::kVoice : Channel::kChat;
        c.required_skills = {
            {kSkillNames[rng() % kSkills], 1 + static_cast<int>(rng() % 3)}};
        if (rng() % 4 == 0) c.languages = {"es", "en"};
        c.priority = rng() % 4;
        c.customer_id = absl::StrCat("cust-", rng() % 200);
        ledger.Routed(c.id);
        absl::StatusOr<RoutingDecision> d = router.Route(c);
        if (!d.ok()) {
          unexpected_errors.fetch_add(1);
          ADD_FAILURE() << d.status();
          continue;
        }
        if (d->outcome == DecisionOutcome::kAssigned) {
          ledger.Record(c.id, d->agent_id);
        }
        mine.push_back(c.id);
        created[t].push_back(c.id);
      } else {
        const size_t k = rng() % mine.size();
        const std::string id = mine[k];
        absl::Status s;
        if (op < 8) {
          // Half the customers answer the survey.
          ContactSurvey survey;
          if (rng() % 2 == 0) {
            survey.csat = 1 + static_cast<int>(rng() % 5);
            survey.nps = static_cast<int>(rng() % 11);
          }
          s = router.Release(id, ContactOutcome::kResolved, survey);
          // Still queued is a legitimate answer; the contact stays ours.
          if (s.code() == absl::StatusCode::kFailedPrecondition) continue;
          if (s.ok() && survey.csat.has_value()) surveys.fetch_add(1);
        } else if (op == 8) {
          s = router.Cancel(id);
        } else {
          Contact again;
          again.id = id;
          again.channel = Channel::kVoice;
          again.required_skills = {{kSkillNames[rng() % kSkills], 1}};
          ledger.Routed(id);
          absl::StatusOr<RoutingDecision> d = router.Requeue(again);
          if (d.ok() && d->outcome == DecisionOutcome::kAssigned) {
            ledger.Record(id, d->agent_id);
          }
          if (!d.ok()) {
            unexpected_errors.fetch_add(1);
            ADD_FAILURE() << d.status();
          }
          continue;
        }
        if (!s.ok()) {
          unexpected_errors.fetch_add(1);
          ADD_FAILURE() << id << ": " << s;
        }
        mine[k] = mine.back();
        mine.pop_back();
      }
    }
  };

  // Agents go on break and come back, and get new skill levels, while
  // contacts are routed.
  auto supervisor_thread = [&] {
    std::mt19937 rng(99);
    while (!stop.load(std::memory_order_relaxed)) {
      const int i = rng() % kAgents;
      const int op = rng() % 6;
      absl::Status s;
      if (op == 0) {
        s = router.SetAgentState(roster[i].id, AgentState::kBreak);
      } else if (op == 2) {
        // End of shift: log out, leave the roster once the last contact is
        // released, and come back as a new login.
        s = router.SetAgentState(roster[i].id, AgentState::kLoggedOut);
        if (s.code() == absl::StatusCode::kNotFound) s = absl::OkStatus();
        if (s.ok()) {
          s = router.RemoveAgent(roster[i].id);
          if (s.code() == absl::StatusCode::kFailedPrecondition ||
              s.code() == absl::StatusCode::kNotFound) {
            s = absl::OkStatus();  // Still holds contacts: stays logged out.
          } else if (s.ok()) {
            s = router.AddAgent(roster[i]);
          }
        }
      } else if (op == 1) {
        AgentProfile p = roster[i];
        p.skills[0].level = 1 + rng() % 5;
        s = router.UpdateAgent(p);
      } else {
        s = router.SetAgentState(roster[i].id, AgentState::kAvailable);
      }
      if (!s.ok()) {
        unexpected_errors.fetch_add(1);
        ADD_FAILURE() << s;
      }
    }
  };

  auto auditor_thread = [&] {
    while (!stop.load(std::memory_order_relaxed)) {
      for (const AgentProfile& p : roster) {
        absl::StatusOr<AgentStatus> s = router.GetAgent(p.id);
        if (!s.ok()) continue;
        for (Channel c : kAllChannels) {
          if (s->LoadOf(c) > p.CapacityOf(c)) capacity_violations.fetch_add(1);
        }
      }
    }
  };

  // A wall board: lists the waiting contacts and reads the statistics while
  // everything moves. Each queue's listing counts positions 1, 2, 3... and
  // lists only that queue's contacts.
  auto wallboard_thread = [&] {
    while (!stop.load(std::memory_order_relaxed)) {
      std::map<std::string, int64_t> last_position;
      for (const QueuedContact& q : router.QueuedContacts("")) {
        int64_t& last = last_position[q.contact.queue];
        if (q.queue_position != last + 1 || q.waited < absl::ZeroDuration()) {
          listing_errors.fetch_add(1);
        }
        last = q.queue_position;
      }
      RouterStats stats = router.Stats();
      for (const QueueStats& q : stats.queues) {
        for (const QueueWindowStats& w : q.recent) {
          if (w.answered_in_service_level > w.answered) {
            listing_errors.fetch_add(1);
          }
        }
      }
      listings.fetch_add(1, std::memory_order_relaxed);
    }
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < kRoutingThreads; ++t)
    threads.emplace_back(routing_thread, t);
  threads.emplace_back(supervisor_thread);
  threads.emplace_back(auditor_thread);
  threads.emplace_back(wallboard_thread);
  std::this_thread::sleep_for(kRunFor);
  stop = true;
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(capacity_violations.load(), 0);
  EXPECT_EQ(unexpected_errors.load(), 0);
  EXPECT_GT(operations.load(), 1000);
  ledger.CheckNoDoubleAssignment();

  // Quiescent now: the workers have stopped and nothing has run since. Check
  // before anything can drain a queue or repair a load: restoring the roster
  // below adds, updates and sets agents available, and each of those hands
  // waiting contacts to free agents, which would hide a lost wakeup.
  ExpectNoLostWakeup(router, roster, created, ledger, "at quiescence");
  ExpectLoadsAddUp(router, roster, created, "at quiescence");
  EXPECT_EQ(listing_errors.load(), 0);
  EXPECT_GT(listings.load(), 0);
  ExpectListingsAgree(router, "at quiescence");
  ExpectKpisAddUp(router, surveys.load(), "at quiescence");

  // Every agent back, at original skills.
  for (const AgentProfile& p : roster) {
    if (router.GetAgent(p.id).status().code() == absl::StatusCode::kNotFound) {
      ASSERT_TRUE(router.AddAgent(p).ok());
    }
    ASSERT_TRUE(router.UpdateAgent(p).ok());
    ASSERT_TRUE(router.SetAgentState(p.id, AgentState::kAvailable).ok());
  }

  // Still so once the roster is restored (each restore drained the queues
  // for its agent).
  ExpectNoLostWakeup(router, roster, created, ledger, "after the restore");
  ExpectLoadsAddUp(router, roster, created, "after the restore");
  std::vector<std::string> held;
  for (const std::vector<std::string>& ids : created) {
    for (const std::string& id : ids) {
      if (router.GetContact(id).ok()) held.push_back(id);
    }
  }
  ASSERT_EQ(static_cast<int64_t>(held.size()), router.Stats().contacts_held);

  // Nothing is lost: releasing everything assigned drains every queue.
  for (int round = 0; round < 10'000 && router.Stats().contacts_held > 0;
       ++round) {
    for (const std::string& id : held) {
      absl::StatusOr<ContactStatus> s = router.GetContact(id);
      if (s.ok() && s->state == ContactStatus::State::kAssigned) {
        ASSERT_TRUE(router.Release(id, ContactOutcome::kResolved).ok());
      }
    }
  }
  ExpectKpisAddUp(router, surveys.load(), "after the drain");
  RouterStats stats = router.Stats();
  EXPECT_EQ(stats.contacts_held, 0);
  for (const QueueStats& q : stats.queues) EXPECT_EQ(q.waiting, 0) << q.queue;
  for (const AgentProfile& p : roster) {
    absl::StatusOr<AgentStatus> a = router.GetAgent(p.id);
    for (Channel c : kAllChannels) EXPECT_EQ(a->LoadOf(c), 0) << p.id;
  }
  // An assignment a Cancel, Release or Requeue overtook is never told.
  EXPECT_EQ(stats.assigned_immediately + stats.assigned_from_queue -
                stats.assignments_untold,
            ledger.total_assignments());
  ledger.CheckNoDoubleAssignment();
}

}  // namespace
}  // namespace routing
