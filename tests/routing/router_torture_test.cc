// Torture test of routing/router.h: several threads call every operation of
// the public API at once against pools of two to four agents, so every call
// races with another on the same contact or the same agent. Each scenario runs
// in phases: the workers run for a bounded time, stop at a barrier, and at
// that quiescent point, before any call that could drain queues or otherwise
// repair the state, the invariants of router.h are checked:
//   - no agent beyond its capacity (also checked while running);
//   - no contact assigned more often than it was routed, none ended twice;
//   - each agent's load equals the contacts GetContact reports assigned to it;
//   - no queued contact is eligible for a free agent (no lost wakeup), judged
//     from the profiles, states and loads GetAgent reports;
//   - every contact the workers routed and did not end is held, and nothing
//     else is; Stats() agrees.
// Then the next phase starts on the same router, state and all.
//
// Scenarios: Route and Cancel of the same ids at the same moment; Requeue
// against Cancel and Release of the same contact; AdvanceQueues (rules with
// steps) against drains and SetRules swaps; AddAgent, RemoveAgent, UpdateAgent
// and state flaps of one agent id; UpdateAgent removing a skill while
// contacts needing it are routed; agents coming back from a break while
// contacts queue (lost wakeups).
//
// Run length: about 6 s in all by default (4 s under a sanitizer), in phases
// of 20 ms. A soak:
//   bazel run //tests/routing:router_torture_test -- --seconds=600
//   bazel test //tests/routing:router_torture_test --test_arg=--seconds=120
// (beyond about 250 s add --test_timeout=SECONDS), or
// ROUTER_TORTURE_SECONDS=600 in the environment (bazel test
// --test_env=ROUTER_TORTURE_SECONDS=600); the flag wins.
// --phase_ms=M sets the phase length. Standard --gtest_* flags work too.
#include <algorithm>
#include <array>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "routing/router.h"
#include "rules/lua_rules.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ROUTER_TORTURE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ROUTER_TORTURE_SANITIZED 1
#endif
#endif

namespace routing {
namespace {

// --- Run length --------------------------------------------------------------

#ifdef ROUTER_TORTURE_SANITIZED
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// Phases are bounded in time, not in operations, so a sanitized build (each
// operation 5-20x slower) does fewer operations in the same time; it also
// gets a shorter run, so CI, which runs the test again under TSan and ASan,
// stays quick. The default keeps the whole test under 10 s optimized.
constexpr double kDefaultSeconds = kSanitized ? 4.0 : 6.0;
constexpr int kDefaultPhaseMs = 20;
constexpr int kScenarios = 6;

struct RunLength {
  double seconds = kDefaultSeconds;  // The whole test, all scenarios.
  int phase_ms = kDefaultPhaseMs;
};

RunLength& Length() {
  static RunLength length;
  return length;
}

int PhasesPerScenario() {
  const double per_scenario_ms = Length().seconds * 1000.0 / kScenarios;
  return std::max(1, static_cast<int>(per_scenario_ms / Length().phase_ms));
}

// --- What the workers saw ----------------------------------------------------

// One thing a worker (or the listener, on a worker's thread) saw. Each worker
// logs into its own vector; the logs are merged at quiescence.
struct Event {
  enum Kind : uint8_t {
    kRouteCall,    // Route() called (counts as a routing of the contact).
    kRouted,       // Route() returned OK: the contact is held.
    kRequeueCall,  // Requeue() called (counts as a routing too).
    kEnded,        // Cancel() or Release() returned OK.
    kAssigned,     // From a Route/Requeue result or the listener.
  };
  Event(Kind kind, std::string contact, std::string agent = "",
        int64_t generation_before = -1, int64_t generation_after = -1)
      : kind(kind),
        contact(std::move(contact)),
        agent(std::move(agent)),
        generation_before(generation_before),
        generation_after(generation_after) {}

  Kind kind;
  std::string contact;
  std::string agent;  // kAssigned only.
  // Profile generations (see Scenario::generation) when the call that made
  // the assignment started and when the assignment was reported.
  int64_t generation_before;
  int64_t generation_after;
};

thread_local std::vector<Event>* tl_events = nullptr;
thread_local int64_t tl_generation_at_call = -1;

class Ledger final : public AssignmentListener {
 public:
  explicit Ledger(const std::atomic<int64_t>* generation)
      : generation_(generation) {}

  void OnAssigned(const Assignment& a) override {
    Event e(Event::kAssigned, a.contact_id, a.agent_id, tl_generation_at_call,
            generation_->load(std::memory_order_seq_cst));
    if (tl_events != nullptr) {
      tl_events->push_back(std::move(e));
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    orphans_.push_back(std::move(e));
  }

  std::vector<Event> TakeOrphans() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(orphans_, {});
  }

 private:
  const std::atomic<int64_t>* const generation_;
  std::mutex mu_;  // Not absl::Mutex: Debian's Abseil is invisible to TSan.
  std::vector<Event> orphans_;
};

// Violations of one check, collected from any thread, reported per phase.
class Violations {
 public:
  void Add(const std::string& check, std::string detail) {
    std::lock_guard<std::mutex> lock(mu_);
    Entry& e = entries_[check];
    if (e.examples.size() < kExamples) e.examples.push_back(std::move(detail));
    ++e.count;
  }

  // Reports each check violated since the last call as a test failure, with
  // its count and first examples, the first time it fails; later phases that
  // violate it again only count (see Repeats). Returns the violations.
  int64_t Report(const std::string& where) {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t total = 0;
    for (const auto& [check, e] : entries_) {
      total += e.count;
      auto [repeat, first] = repeats_.try_emplace(check);
      if (first) {
        ADD_FAILURE() << where << ": " << check << ": " << e.count
                      << " violation(s), e.g.\n    "
                      << absl::StrJoin(e.examples, "\n    ");
      } else {
        ++repeat->second.phases;
        repeat->second.count += e.count;
      }
    }
    entries_.clear();
    return total;
  }

  // The checks violated again after their first report.
  std::string Repeats() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out;
    for (const auto& [check, r] : repeats_) {
      if (r.phases == 0) continue;
      absl::StrAppend(&out, "\n  again in ", r.phases, " later phase(s), ",
                      r.count, " time(s): ", check);
    }
    return out;
  }

 private:
  static constexpr size_t kExamples = 4;
  struct Entry {
    int64_t count = 0;
    std::vector<std::string> examples;
  };
  struct Repeat {
    int phases = 0;
    int64_t count = 0;
  };
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, Repeat> repeats_;
};

// Ids of contacts routed and (as far as the workers know) still held, for
// other workers to cancel, release or requeue.
class ContactPool {
 public:
  void Add(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    ids_.push_back(id);
  }
  bool Pick(std::mt19937& rng, std::string* id) const {
    std::lock_guard<std::mutex> lock(mu_);
    if (ids_.empty()) return false;
    *id = ids_[rng() % ids_.size()];
    return true;
  }
  void Remove(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find(ids_.begin(), ids_.end(), id);
    if (it == ids_.end()) return;
    *it = ids_.back();
    ids_.pop_back();
  }
  int size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(ids_.size());
  }
  std::vector<std::string> Snapshot() const {
    std::lock_guard<std::mutex> lock(mu_);
    return ids_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> ids_;
};

// --- Descriptions for failure messages ---------------------------------------

// Debian's Abseil has its own string_view: hand StrCat std::strings.
std::string Name(Channel c) { return std::string(ChannelName(c)); }
std::string Name(AgentState s) { return std::string(AgentStateName(s)); }

std::string Describe(const Contact& c) {
  std::string s = absl::StrCat(c.id, " (", Name(c.channel));
  for (const SkillRequirement& r : c.required_skills) {
    absl::StrAppend(&s, ", ", r.skill, ">=", r.min_level);
  }
  if (!c.languages.empty()) {
    absl::StrAppend(&s, ", speaks ", absl::StrJoin(c.languages, "|"));
  }
  if (!c.excluded_agents.empty()) {
    absl::StrAppend(&s, ", excludes ", absl::StrJoin(c.excluded_agents, ","));
  }
  return s + ")";
}

int TotalLoad(const AgentStatus& a) {
  int total = 0;
  for (int load : a.load) total += load;
  return total;
}

std::string Describe(const AgentStatus& a) {
  std::string s = absl::StrCat(a.profile.id, " (", Name(a.state));
  for (Channel c : kAllChannels) {
    if (a.profile.CapacityOf(c) == 0 && a.LoadOf(c) == 0) continue;
    absl::StrAppend(&s, ", ", Name(c), " ", a.LoadOf(c), "/",
                    a.profile.CapacityOf(c));
  }
  if (a.profile.max_total_contacts > 0) {
    absl::StrAppend(&s, ", total ", TotalLoad(a), "/",
                    a.profile.max_total_contacts);
  }
  for (const AgentSkill& k : a.profile.skills) {
    absl::StrAppend(&s, ", ", k.skill, " ", k.level);
  }
  for (const AgentLanguage& l : a.profile.languages) {
    absl::StrAppend(&s, ", ", l.language);
  }
  return s + ")";
}

// --- The built-in hard filter, computed from the outside ---------------------

bool HasRequiredSkills(const AgentProfile& p, const Contact& c) {
  for (const SkillRequirement& r : c.required_skills) {
    bool has = false;
    for (const AgentSkill& k : p.skills) {
      if (k.skill == r.skill && k.level >= r.min_level) has = true;
    }
    if (!has) return false;
  }
  return true;
}

bool SpeaksOne(const AgentProfile& p, const Contact& c) {
  if (c.languages.empty()) return true;
  for (const std::string& language : c.languages) {
    for (const AgentLanguage& l : p.languages) {
      if (l.language == language) return true;
    }
  }
  return false;
}

// Whether `a`, as GetAgent reports it, could take `c` now: available, room on
// the channel and in total, the skills and a language, not excluded.
bool FreeAndEligible(const AgentStatus& a, const Contact& c) {
  if (a.state != AgentState::kAvailable) return false;
  if (a.LoadOf(c.channel) >= a.profile.CapacityOf(c.channel)) return false;
  if (a.profile.max_total_contacts > 0 &&
      TotalLoad(a) >= a.profile.max_total_contacts) {
    return false;
  }
  if (std::find(c.excluded_agents.begin(), c.excluded_agents.end(),
                a.profile.id) != c.excluded_agents.end()) {
    return false;
  }
  return HasRequiredSkills(a.profile, c) && SpeaksOne(a.profile, c);
}

AgentProfile MakeAgent(std::string id, std::vector<AgentSkill> skills,
                       std::vector<AgentLanguage> languages, int voice,
                       int chat, int max_total = 0) {
  AgentProfile p;
  p.id = std::move(id);
  p.skills = std::move(skills);
  p.languages = std::move(languages);
  p.SetCapacity(Channel::kVoice, voice);
  p.SetCapacity(Channel::kChat, chat);
  p.max_total_contacts = max_total;
  return p;
}

AgentState RandomState(std::mt19937& rng) {
  // Available half the time, so queues both form and drain.
  static constexpr AgentState kStates[] = {
      AgentState::kAvailable,     AgentState::kAvailable,
      AgentState::kAvailable,     AgentState::kBusy,
      AgentState::kAfterCallWork, AgentState::kBreak,
  };
  if (rng() % 12 == 0) return AgentState::kLoggedOut;
  return kStates[rng() % std::size(kStates)];
}

// --- One scenario: a router, its workers, and the phases ---------------------

struct Worker {
  std::string role;
  std::function<void(Worker&)> step;  // One operation; called until stopped.
  const std::atomic<bool>* stop = nullptr;  // Set at the end of each phase.
  int index = 0;
  std::mt19937 rng;
  std::vector<Event> events;
  int64_t operations = 0;
  int64_t cpu_ms = 0;  // CPU time the thread used, for the summary.
};

// What the workers' logs say about one contact, merged over all phases.
struct ContactLog {
  int routings = 0;  // Route and Requeue calls.
  bool routed = false;
  bool requeued = false;
  int ended = 0;
  int assignments = 0;
  std::vector<std::string> agents;  // Every agent it was ever assigned to.
};

class Scenario {
 public:
  struct Options {
    std::string name;
    const Clock* clock = nullptr;  // Null: SystemClock.
    std::vector<AgentProfile> agents;
    // Agent ids the checks look at, beyond `agents` (ids that come and go).
    std::vector<std::string> extra_agent_ids;
    // Profiles never change and no rules relax requirements: an assigned
    // contact's agent must have its skills and a language.
    bool assigned_agents_qualify = true;
  };

  explicit Scenario(Options options)
      : options_(std::move(options)), ledger_(&generation) {
    RouterOptions ro;
    ro.clock = options_.clock;
    ro.listener = &ledger_;
    ro.max_agents = 64;
    ro.max_contacts = 1 << 16;
    ro.history_customers = 1 << 12;
    auto router = Router::Create(ro);
    EXPECT_TRUE(router.ok()) << router.status();
    if (router.ok()) router_ = *std::move(router);
    for (const AgentProfile& p : options_.agents) {
      agent_ids_.push_back(p.id);
      EXPECT_TRUE(router_->AddAgent(p).ok()) << p.id;
      EXPECT_TRUE(router_->SetAgentState(p.id, AgentState::kAvailable).ok());
    }
    for (const std::string& id : options_.extra_agent_ids) {
      agent_ids_.push_back(id);
    }
  }

  Router& router() { return *router_; }
  Violations& violations() { return violations_; }

  void AddWorker(std::string role, std::function<void(Worker&)> step) {
    auto w = std::make_unique<Worker>();
    w->role = std::move(role);
    w->step = std::move(step);
    w->index = static_cast<int>(workers_.size());
    w->rng.seed(0x5eed + 7919 * w->index);
    workers_.push_back(std::move(w));
  }

  // Scenario-specific checks, run at quiescence after the common ones.
  void AddQuiescentCheck(std::function<void()> check) {
    quiescent_checks_.push_back(std::move(check));
  }
  // Called for every assignment event as the logs are merged.
  void OnAssignmentEvent(std::function<void(const Event&)> check) {
    assignment_checks_.push_back(std::move(check));
  }

  // How many contacts the workers should hold at once, given what the agents
  // can hold: a little more in even phases, so queues form and drain all the
  // time; a little less in odd ones, so agents keep having room while some
  // contacts wait (for an agent who is busy or on a break), which is when a
  // lost wakeup would show at quiescence: with every agent full the check
  // has nothing to look at.
  int HeldLimit(int capacity) const {
    return phase_.load(std::memory_order_relaxed) % 2 == 0
               ? capacity + 3
               : std::max(1, capacity - 2);
  }

  // A profile generation for scenarios that change profiles from one thread:
  // odd while an update is in flight, even once it returned. Every worker
  // call notes it first (BeginCall), and every assignment event carries the
  // value at the start of the call and at the assignment.
  std::atomic<int64_t> generation{0};

  void BeginCall() {
    tl_generation_at_call = generation.load(std::memory_order_seq_cst);
  }

  // --- Logged calls: every worker call that can route or end a contact goes
  // through these, so the merge knows what each contact went through.
  absl::StatusOr<RoutingDecision> Route(Worker& w, const Contact& c) {
    w.events.emplace_back(Event::kRouteCall, c.id);
    BeginCall();
    const int64_t before = tl_generation_at_call;
    absl::StatusOr<RoutingDecision> d = router_->Route(c);
    if (d.ok()) {
      w.events.emplace_back(Event::kRouted, c.id);
      NoteDecision(w, *d, before);
    }
    return d;
  }
  absl::StatusOr<RoutingDecision> Requeue(Worker& w, const Contact& c) {
    w.events.emplace_back(Event::kRequeueCall, c.id);
    BeginCall();
    const int64_t before = tl_generation_at_call;
    absl::StatusOr<RoutingDecision> d = router_->Requeue(c);
    if (d.ok()) NoteDecision(w, *d, before);
    return d;
  }
  absl::Status Cancel(Worker& w, const std::string& id) {
    BeginCall();
    absl::Status s = router_->Cancel(id);
    if (s.ok()) w.events.emplace_back(Event::kEnded, id);
    return s;
  }
  absl::Status Release(Worker& w, const std::string& id) {
    BeginCall();
    absl::Status s = router_->Release(id, ContactOutcome::kResolved);
    if (s.ok()) w.events.emplace_back(Event::kEnded, id);
    return s;
  }

  // An error no interleaving explains.
  void Unexpected(const Worker& w, const std::string& call,
                  const absl::Status& s) {
    violations_.Add("unexpected error",
                    absl::StrCat(w.role, ": ", call, ": ", s.ToString()));
  }

  // Runs the phases, checking at quiescence after each.
  void Run() {
    ASSERT_NE(router_, nullptr);
    const int phases = PhasesPerScenario();
    const auto phase_length = std::chrono::milliseconds(Length().phase_ms);
    const int n = static_cast<int>(workers_.size());
    std::barrier<> sync(n + 1);
    std::atomic<bool> stop{false};
    std::atomic<bool> done{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        Worker& w = *workers_[i];
        w.stop = &stop;
        tl_events = &w.events;
        while (true) {
          sync.arrive_and_wait();  // Phase start.
          if (done.load()) break;
          while (!stop.load(std::memory_order_relaxed)) {
            w.step(w);
            ++w.operations;
          }
          sync.arrive_and_wait();  // Quiescence.
        }
        timespec cpu;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
        w.cpu_ms = cpu.tv_sec * 1000 + cpu.tv_nsec / 1'000'000;
        tl_events = nullptr;
      });
    }
    int phase = 0;
    for (; phase < phases; ++phase) {
      phase_.store(phase);
      stop.store(false);
      sync.arrive_and_wait();
      // Loads against capacity while the workers run.
      const auto end = std::chrono::steady_clock::now() + phase_length;
      while (std::chrono::steady_clock::now() < end) {
        AuditCapacity();
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
      stop.store(true);
      sync.arrive_and_wait();
      // Every worker is parked at the barrier: nothing runs in the router.
      // Only read-only calls from here to the next phase.
      MergeLogs();
      CheckQuiescent();
      for (const auto& check : quiescent_checks_) check();
      const std::string where =
          absl::StrCat(options_.name, ", phase ", phase + 1, " of ", phases);
      violations_.Report(where);
      Prune();
    }
    done.store(true);
    sync.arrive_and_wait();
    for (std::thread& t : threads) t.join();

    std::string summary =
        absl::StrCat(options_.name, ": ", phase, " phase(s) of ",
                     Length().phase_ms, " ms; operations:");
    for (const auto& w : workers_) {
      absl::StrAppend(&summary, " ", w->role, " ", w->operations, " (",
                      w->cpu_ms, " ms cpu)");
    }
    const RouterStats stats = router_->Stats();
    absl::StrAppend(&summary, "; decisions ", stats.decisions, ", queued ",
                    stats.queued, ", assigned from queue ",
                    stats.assigned_from_queue, ", cancelled ", stats.cancelled,
                    ", released ", stats.released,
                    "; at quiescence, queued contacts ", queued_seen_,
                    ", free agents ", free_agents_seen_);
    absl::StrAppend(&summary, violations_.Repeats());
    std::printf("%s\n", summary.c_str());
    std::fflush(stdout);
  }

 private:
  void AuditCapacity() {
    for (const std::string& id : agent_ids_) {
      absl::StatusOr<AgentStatus> a = router_->GetAgent(id);
      if (!a.ok()) continue;
      for (Channel c : kAllChannels) {
        if (a->LoadOf(c) > a->profile.CapacityOf(c)) {
          violations_.Add("agent beyond capacity (while running)",
                          Describe(*a));
        }
      }
      if (a->profile.max_total_contacts > 0 &&
          TotalLoad(*a) > a->profile.max_total_contacts) {
        violations_.Add("agent beyond max_total_contacts (while running)",
                        Describe(*a));
      }
    }
  }

  void NoteDecision(Worker& w, const RoutingDecision& d, int64_t before) {
    if (d.outcome != DecisionOutcome::kAssigned) return;
    w.events.emplace_back(Event::kAssigned, d.contact_id, d.agent_id, before,
                          generation.load(std::memory_order_seq_cst));
  }

  void Apply(const Event& e) {
    ContactLog& log = contacts_[e.contact];
    switch (e.kind) {
      case Event::kRouteCall:
        ++log.routings;
        break;
      case Event::kRouted:
        log.routed = true;
        break;
      case Event::kRequeueCall:
        ++log.routings;
        log.requeued = true;
        break;
      case Event::kEnded:
        ++log.ended;
        break;
      case Event::kAssigned:
        ++log.assignments;
        if (std::find(log.agents.begin(), log.agents.end(), e.agent) ==
            log.agents.end()) {
          log.agents.push_back(e.agent);
        }
        for (const auto& check : assignment_checks_) check(e);
        break;
    }
  }

  void MergeLogs() {
    for (auto& w : workers_) {
      for (const Event& e : w->events) Apply(e);
      w->events.clear();
    }
    for (const Event& e : ledger_.TakeOrphans()) Apply(e);
  }

  // Contacts that ended and are no longer held cannot change any more.
  void Prune() {
    for (auto it = contacts_.begin(); it != contacts_.end();) {
      auto next = std::next(it);
      if (it->second.ended > 0 && !router_->GetContact(it->first).ok()) {
        contacts_.erase(it);
      }
      it = next;
    }
  }

  void CheckQuiescent() {
    Router& r = *router_;
    // Agents as they are now.
    std::map<std::string, AgentStatus> agents;
    for (const std::string& id : agent_ids_) {
      absl::StatusOr<AgentStatus> a = r.GetAgent(id);
      if (a.ok()) {
        agents[id] = *std::move(a);
      } else if (a.status().code() != absl::StatusCode::kNotFound) {
        violations_.Add(
            "unexpected error",
            absl::StrCat("GetAgent(", id, "): ", a.status().ToString()));
      }
    }
    std::vector<std::string> listed = r.AgentIds();
    for (const std::string& id : agent_ids_) {
      const bool in_list =
          std::find(listed.begin(), listed.end(), id) != listed.end();
      if (in_list != agents.contains(id)) {
        violations_.Add(
            "AgentIds() disagrees with GetAgent()",
            absl::StrCat(id, in_list ? " listed but GetAgent says NotFound"
                                     : " on the roster but not listed"));
      }
    }
    for (const auto& [id, a] : agents) {
      for (Channel c : kAllChannels) {
        if (a.LoadOf(c) > a.profile.CapacityOf(c)) {
          violations_.Add("agent beyond capacity", Describe(a));
        }
      }
      if (a.profile.max_total_contacts > 0 &&
          TotalLoad(a) > a.profile.max_total_contacts) {
        violations_.Add("agent beyond max_total_contacts", Describe(a));
      }
    }

    // Contacts as they are now, against what the workers were told.
    absl::flat_hash_map<std::string, std::array<int, kChannelCount>> loads;
    int64_t held = 0;
    int64_t queued = 0;
    std::vector<std::pair<ContactStatus, const ContactLog*>> waiting;
    for (const auto& [id, log] : contacts_) {
      if (log.ended > 1) {
        violations_.Add("contact ended twice (two Cancel/Release succeeded)",
                        absl::StrCat(id, " ended ", log.ended, " times"));
      }
      if (log.assignments > log.routings) {
        violations_.Add(
            "contact assigned more often than it was routed",
            absl::StrCat(id, ": ", log.routings, " Route/Requeue call(s), ",
                         log.assignments, " assignment(s), to ",
                         absl::StrJoin(log.agents, ", ")));
      }
      const bool expected = log.routed && log.ended == 0;
      absl::StatusOr<ContactStatus> s = r.GetContact(id);
      if (!s.ok()) {
        if (s.status().code() != absl::StatusCode::kNotFound) {
          violations_.Add(
              "unexpected error",
              absl::StrCat("GetContact(", id, "): ", s.status().ToString()));
        } else if (expected) {
          violations_.Add(
              "contact lost (routed, never cancelled or released, not held)",
              absl::StrCat(id, ": ", log.routings, " routing(s), ",
                           log.assignments, " assignment(s)",
                           log.requeued ? ", requeued" : ""));
        }
        continue;
      }
      ++held;
      if (!expected) {
        violations_.Add(
            "contact held that should not be (ended, or never routed OK)",
            absl::StrCat(Describe(s->contact),
                         log.routed ? ": routed OK" : ": never routed OK",
                         ", ended ", log.ended, " time(s), now ",
                         s->state == ContactStatus::State::kQueued
                             ? "queued"
                             : "assigned to " + s->agent_id));
      }
      if (s->state == ContactStatus::State::kAssigned) {
        auto agent = agents.find(s->agent_id);
        if (agent == agents.end()) {
          violations_.Add(
              "contact assigned to an agent not on the roster",
              absl::StrCat(Describe(s->contact), " -> ", s->agent_id));
          continue;
        }
        ++loads[s->agent_id][ChannelIndex(s->contact.channel)];
        if (options_.assigned_agents_qualify &&
            !(HasRequiredSkills(agent->second.profile, s->contact) &&
              SpeaksOne(agent->second.profile, s->contact))) {
          violations_.Add(
              "contact assigned to an agent it does not qualify for",
              absl::StrCat(Describe(s->contact), " -> ",
                           Describe(agent->second)));
        }
      } else {
        ++queued;
        if (log.assignments > 0 && !log.requeued) {
          violations_.Add(
              "contact back in a queue after an assignment, never requeued",
              absl::StrCat(Describe(s->contact), " was assigned to ",
                           absl::StrJoin(log.agents, ", ")));
        }
        waiting.emplace_back(*std::move(s), &log);
      }
    }

    // Loads add up.
    for (const auto& [id, a] : agents) {
      for (Channel c : kAllChannels) {
        const int expected = loads[id][ChannelIndex(c)];
        if (a.LoadOf(c) != expected) {
          violations_.Add(
              "agent load differs from the contacts assigned to it",
              absl::StrCat(Describe(a), ": ", Name(c), " load ", a.LoadOf(c),
                           ", contacts assigned ", expected));
        }
      }
    }

    // No lost wakeup. An agent the contact was ever assigned to is left out:
    // a requeue excludes its previous agent without saying so in the Contact.
    for (const auto& [id, a] : agents) {
      bool free = a.state == AgentState::kAvailable;
      if (free) {
        free = false;
        for (Channel c : kAllChannels) {
          free = free || a.LoadOf(c) < a.profile.CapacityOf(c);
        }
      }
      if (free) ++free_agents_seen_;
    }
    queued_seen_ += static_cast<int64_t>(waiting.size());
    for (const auto& [status, log] : waiting) {
      for (const auto& [id, a] : agents) {
        if (std::find(log->agents.begin(), log->agents.end(), id) !=
            log->agents.end()) {
          continue;
        }
        if (FreeAndEligible(a, status.contact)) {
          violations_.Add(
              "queued contact eligible for a free agent (lost wakeup)",
              absl::StrCat(Describe(status.contact), " waits while ",
                           Describe(a), " is free and eligible"));
        }
      }
    }

    // Statistics agree with what the contacts say.
    const RouterStats stats = r.Stats();
    if (stats.contacts_held != held) {
      violations_.Add(
          "Stats().contacts_held differs from the contacts held",
          absl::StrCat("contacts_held ", stats.contacts_held, ", held ", held));
    }
    int64_t waiting_total = 0;
    for (const QueueStats& q : stats.queues) waiting_total += q.waiting;
    if (waiting_total != queued) {
      violations_.Add(
          "Stats() waiting differs from the contacts queued",
          absl::StrCat("waiting ", waiting_total, ", queued ", queued));
    }
  }

  const Options options_;
  Ledger ledger_;
  std::unique_ptr<Router> router_;
  std::vector<std::string> agent_ids_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::function<void()>> quiescent_checks_;
  std::vector<std::function<void(const Event&)>> assignment_checks_;
  absl::flat_hash_map<std::string, ContactLog> contacts_;
  Violations violations_;
  // Over all quiescent points: contacts found queued, and agents found
  // available with room on some channel (what the lost-wakeup check had to
  // work with).
  int64_t queued_seen_ = 0;
  int64_t free_agents_seen_ = 0;
  std::atomic<int> phase_{0};
};

Scenario::Options ScenarioOptions(std::string name,
                                  std::vector<AgentProfile> agents) {
  Scenario::Options options;
  options.name = std::move(name);
  options.agents = std::move(agents);
  return options;
}

// A Route that finds no free agent takes a few microseconds optimized (the
// scan, the count of qualified agents, the queue), several times that under
// a sanitizer: the latest a cancel is aimed after Route starts.
constexpr int64_t kMaxAimNs = kSanitized ? 100'000 : 20'000;

// Between the operations of threads that only stir (presence flaps, rules
// swaps): often enough to matter, not so often that they starve the threads
// whose races are under test on a two-core machine.
void Pause() { std::this_thread::sleep_for(std::chrono::microseconds(20)); }

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One step of a scenario's only thread that ends contacts: cancels (one time
// in `cancel_one_in`) or releases a contact from `pool`. Whatever it picks was
// routed OK and ended by nobody else, so NotFound means the router lost track
// of a contact it holds: a hang-up that goes unheard.
void EndOne(Scenario& s, ContactPool& pool, Worker& w, int cancel_one_in) {
  std::string id;
  if (!pool.Pick(w.rng, &id)) {
    std::this_thread::yield();
    return;
  }
  const bool cancel = w.rng() % cancel_one_in == 0;
  absl::Status st = cancel ? s.Cancel(w, id) : s.Release(w, id);
  if (st.ok()) {
    pool.Remove(id);
  } else if (st.code() == absl::StatusCode::kNotFound) {
    s.violations().Add("Cancel/Release of a held contact answered NotFound",
                       absl::StrCat(cancel ? "Cancel(" : "Release(", id,
                                    "): ", st.ToString()));
    pool.Remove(id);  // Whether it is still held is checked at quiescence.
  } else if (cancel || st.code() != absl::StatusCode::kFailedPrecondition) {
    s.Unexpected(w, cancel ? "Cancel" : "Release", st);
  } else {
    std::this_thread::yield();  // Still queued.
  }
}

// Contacts the agents can hold at once, all together.
int Capacity(const std::vector<AgentProfile>& agents) {
  int capacity = 0;
  for (const AgentProfile& p : agents) {
    int total = 0;
    for (int c : p.capacity) total += c;
    if (p.max_total_contacts > 0) total = std::min(total, p.max_total_contacts);
    capacity += total;
  }
  return capacity;
}

// When the workers hold enough contacts, a held customer hangs up (a random
// one is cancelled), so routing never pauses. True if one did.
bool HangUpWhenFull(Scenario& s, Worker& w, ContactPool& pool, int capacity) {
  std::string id;
  if (pool.size() < s.HeldLimit(capacity) || !pool.Pick(w.rng, &id)) {
    return false;
  }
  absl::Status st = s.Cancel(w, id);
  if (st.ok() || st.code() == absl::StatusCode::kNotFound) {
    pool.Remove(id);
  } else {
    s.Unexpected(w, "Cancel", st);
  }
  return true;
}

// --- Scenario 1: Route and Cancel of the same ids at the same moment ---------

TEST(RouterTortureTest, RouteAndCancelOfTheSameContacts) {
  const std::vector<AgentProfile> agents = {
      MakeAgent("a0", {{"billing", 3}}, {{"en", 5}, {"es", 3}}, 1, 2),
      MakeAgent("a1", {{"billing", 2}}, {{"en", 4}}, 1, 2),
      MakeAgent("a2", {{"billing", 5}}, {{"es", 5}}, 1, 2, /*max_total=*/2),
  };
  Scenario s(ScenarioOptions("route/cancel of the same ids", agents));
  const int capacity = Capacity(agents);
  constexpr int kRouters = 2;
  std::atomic<int64_t> next_id{0};
  // What each router is doing: the number of the contact it is routing (-1:
  // none) and when that Route started; the outcome of its last Route, as
  // number * 8 + one of these.
  enum Outcome : int64_t { kAborted = 1, kQueued = 2, kAssigned = 3 };
  std::array<std::atomic<int64_t>, kRouters> in_flight;
  std::array<std::atomic<int64_t>, kRouters> started_ns;
  std::array<std::atomic<int64_t>, kRouters> outcome;
  for (int t = 0; t < kRouters; ++t) {
    in_flight[t].store(-1);
    started_ns[t].store(0);
    outcome[t].store(-1);
  }
  ContactPool pool;
  auto name = [](int64_t n) { return absl::StrCat("c", n); };

  for (int t = 0; t < kRouters; ++t) {
    s.AddWorker(absl::StrCat("router", t), [&, t](Worker& w) {
      // Keep the contacts flowing: a customer in the queue hangs up.
      if (HangUpWhenFull(s, w, pool, capacity)) return;
      const int64_t n = next_id.fetch_add(1);
      Contact c;
      c.id = name(n);
      c.channel = w.rng() % 2 ? Channel::kVoice : Channel::kChat;
      c.required_skills = {{"billing", 1 + static_cast<int>(w.rng() % 2)}};
      const int language = w.rng() % 3;
      if (language == 1) c.languages = {"en"};
      if (language == 2) c.languages = {"es"};
      // Every language has two speakers, so excluding one keeps it servable.
      if (w.rng() % 6 == 0) c.excluded_agents = {agents[w.rng() % 3].id};
      c.customer_id = absl::StrCat("cust-", w.rng() % 50);
      started_ns[t].store(SteadyNanos());
      in_flight[t].store(n);  // The canceller goes for it now.
      absl::StatusOr<RoutingDecision> d = s.Route(w, c);
      int64_t result = kAborted;
      if (d.ok()) {
        pool.Add(c.id);
        result = d->outcome == DecisionOutcome::kQueued ? kQueued : kAssigned;
      } else if (d.status().code() != absl::StatusCode::kAborted) {
        // Aborted: "cancelled while it was being routed", which it may be.
        s.Unexpected(w, "Route", d.status());
      }
      outcome[t].store(n * 8 + result);
      in_flight[t].store(-1);
    });
  }
  // Cancels every other contact while it is being routed, aimed at a moment
  // after its Route started. The aim adapts: a cancel that came before the
  // insert or while the contact was still being routed (Route aborted) was
  // early, one that found it queued was late, so cancels home in on the
  // moment a contact goes from routing to its queue. The rest are cancelled
  // from their queues.
  int64_t aim_ns = kSanitized ? 8'000 : 2'000;
  int64_t targeted = -1;  // The last contact number cancelled in flight.
  int64_t early = 0, routing = 0, queued = 0, late_to_aim = 0;
  s.AddWorker("canceller", [&](Worker& w) {
    // Watch for the next even contact to start routing (not for long: on a
    // busy machine the routers may not be running).
    int t = 0;
    int64_t n = -1;
    int64_t start = 0;
    const int64_t give_up = SteadyNanos() + 20'000;
    while (n < 0 && !w.stop->load(std::memory_order_relaxed) &&
           SteadyNanos() < give_up) {
      for (t = 0; t < kRouters; ++t) {
        n = in_flight[t].load();
        if (n > targeted && n % 2 == 0) {
          start = started_ns[t].load();
          if (in_flight[t].load() == n) break;  // `start` is n's.
        }
        n = -1;
      }
    }
    std::string id;
    if (n < 0) {
      if (w.rng() % 4 != 0 || !pool.Pick(w.rng, &id)) {
        std::this_thread::yield();
        return;
      }
      absl::Status st = s.Cancel(w, id);
      if (st.ok()) {
        pool.Remove(id);
      } else if (st.code() != absl::StatusCode::kNotFound) {
        s.Unexpected(w, "Cancel", st);
      }
      return;
    }
    targeted = n;
    id = name(n);
    // Aim within a quarter of the estimate either side.
    const int64_t spread = std::max<int64_t>(200, aim_ns / 4);
    const int64_t at =
        start + aim_ns - spread + static_cast<int64_t>(w.rng() % (2 * spread));
    const bool on_time = SteadyNanos() <= at;
    while (SteadyNanos() < at) {
    }
    absl::Status st = s.Cancel(w, id);
    if (st.ok()) {
      pool.Remove(id);
    } else if (st.code() != absl::StatusCode::kNotFound) {
      s.Unexpected(w, "Cancel", st);
    }
    // Wait for that Route's outcome, and correct the aim by a few percent.
    int64_t o;
    while ((o = outcome[t].load()) / 8 < n) std::this_thread::yield();
    if (o / 8 != n) return;
    if (!on_time) {
      ++late_to_aim;
      return;
    }
    // An assigned contact says nothing: the cancel may have come before the
    // insert, or after a release.
    if (o % 8 == kAssigned) return;
    const int64_t step = std::max<int64_t>(10, aim_ns / 32);
    if (!st.ok() || o % 8 == kAborted) {
      aim_ns = std::min<int64_t>(kMaxAimNs, aim_ns + step);
      ++(st.ok() ? routing : early);
    } else {
      aim_ns = std::max<int64_t>(0, aim_ns - step);
      ++queued;
    }
  });
  // Releases assigned contacts (drains) and flaps agents.
  s.AddWorker("releaser", [&](Worker& w) {
    if (w.rng() % 8 == 0) {
      absl::Status st =
          s.router().SetAgentState(agents[w.rng() % 3].id, RandomState(w.rng));
      if (!st.ok()) s.Unexpected(w, "SetAgentState", st);
      return;
    }
    std::string id;
    if (!pool.Pick(w.rng, &id)) {
      std::this_thread::yield();
      return;
    }
    absl::Status st = s.Release(w, id);
    if (st.ok() || st.code() == absl::StatusCode::kNotFound) {
      pool.Remove(id);  // NotFound: the canceller took it.
    } else if (st.code() == absl::StatusCode::kFailedPrecondition) {
      std::this_thread::yield();  // Still queued.
    } else {
      s.Unexpected(w, "Release", st);
    }
  });
  s.Run();
  std::printf(
      "  cancels aimed in flight: %lld before the insert, %lld while routing, "
      "%lld once queued, %lld noticed too late; aim now %lld ns after Route "
      "starts\n",
      static_cast<long long>(early), static_cast<long long>(routing),
      static_cast<long long>(queued), static_cast<long long>(late_to_aim),
      static_cast<long long>(aim_ns));
}

// --- Scenario 2: Requeue against Cancel and Release of the same contact ------

TEST(RouterTortureTest, RequeueAgainstCancelOfTheSameContact) {
  const std::vector<AgentProfile> agents = {
      MakeAgent("b0", {{"billing", 2}, {"sales", 3}}, {{"en", 5}}, 1, 2),
      MakeAgent("b1", {{"billing", 3}, {"sales", 1}}, {{"en", 5}}, 1, 1),
      MakeAgent("b2", {{"billing", 5}, {"sales", 2}}, {{"en", 5}}, 1, 2,
                /*max_total=*/2),
  };
  Scenario s(ScenarioOptions("requeue/cancel of the same contact", agents));
  // Few contacts, so requeuers and the ender keep meeting on the same one.
  constexpr int kContested = 6;
  std::atomic<int64_t> next_id{0};
  std::atomic<int64_t> spurious_requeue_not_found{0};
  ContactPool pool;
  auto contact = [](std::mt19937& rng, std::string id) {
    Contact c;
    c.id = std::move(id);
    c.channel = rng() % 2 ? Channel::kVoice : Channel::kChat;
    const char* skill = rng() % 2 ? "billing" : "sales";
    c.required_skills = {{skill, 1 + static_cast<int>(rng() % 2)}};
    c.customer_id = absl::StrCat("cust-", rng() % 20);
    return c;
  };

  s.AddWorker("router", [&](Worker& w) {
    if (pool.size() >= kContested) {
      std::this_thread::yield();
      return;
    }
    Contact c = contact(w.rng, absl::StrCat("r", next_id.fetch_add(1)));
    absl::StatusOr<RoutingDecision> d = s.Route(w, c);
    if (d.ok()) {
      pool.Add(c.id);
    } else {
      s.Unexpected(w, "Route", d.status());
    }
  });
  for (int t = 0; t < 2; ++t) {
    s.AddWorker(absl::StrCat("requeuer", t), [&](Worker& w) {
      std::string id;
      if (!pool.Pick(w.rng, &id)) {
        std::this_thread::yield();
        return;
      }
      absl::StatusOr<RoutingDecision> d = s.Requeue(w, contact(w.rng, id));
      if (d.ok()) return;
      switch (d.status().code()) {
        case absl::StatusCode::kNotFound:
          // The ender took it, or the other requeuer had it in hand.
          ++spurious_requeue_not_found;
          break;
        case absl::StatusCode::kAborted:
          // Cancelled while re-routed, or another call was routing it.
          break;
        default:
          s.Unexpected(w, "Requeue", d.status());
      }
    });
  }
  s.AddWorker("ender", [&](Worker& w) { EndOne(s, pool, w, 2); });
  s.AddWorker("flapper", [&](Worker& w) {
    absl::Status st =
        s.router().SetAgentState(agents[w.rng() % 3].id, RandomState(w.rng));
    if (!st.ok()) s.Unexpected(w, "SetAgentState", st);
    Pause();
  });
  s.Run();
  std::printf("  requeues answered NotFound: %lld\n",
              static_cast<long long>(spurious_requeue_not_found.load()));
}

// --- Scenario 3: AdvanceQueues (rules with steps) against drains -------------

// Rules whose steps only ever relax the contact's own requirements, so an agent
// who meets those is eligible at every step and the lost-wakeup check stays
// exact whichever step a contact has reached (no eligible hook: no vetoes).
constexpr char kRelaxingRules[] = R"lua(
return {
  name = "relax",
  steps = {
    { after = 0, name = "as asked" },
    { after = 20, name = "any level", min_level = 1 },
    { after = 40, name = "any language", languages = false },
  },
})lua";
constexpr char kOtherRelaxingRules[] = R"lua(
return {
  name = "relax-fast",
  steps = {
    { after = 0, name = "as asked" },
    { after = 10, name = "any language", languages = false },
    { after = 30, name = "level 2", min_level = 2 },
  },
  score = function(contact, agent) return agent.score + agent.idle / 1000 end,
})lua";

std::shared_ptr<const RoutingRules> Compile(const char* name,
                                            const char* source) {
  rules::RulesOptions options;
  // A decision on a loaded 2-core machine (or under a sanitizer) can be
  // preempted for longer than the default budget; a fallback would not break
  // any check here, but would hide the rules from the scenario.
  options.evaluation_budget = absl::Seconds(5);
  std::vector<rules::RulesProblem> problems;
  auto compiled = rules::CompileRules(name, source, options, &problems);
  std::string text;
  for (const rules::RulesProblem& p : problems) text += p.ToString() + "\n";
  EXPECT_TRUE(compiled.ok()) << compiled.status() << "\n" << text;
  if (!compiled.ok()) return nullptr;
  return *compiled;
}

TEST(RouterTortureTest, AdvanceQueuesAgainstDrainsAndRulesSwaps) {
  auto relax = Compile("relax.lua", kRelaxingRules);
  auto relax_fast = Compile("relax_fast.lua", kOtherRelaxingRules);
  ASSERT_NE(relax, nullptr);
  ASSERT_NE(relax_fast, nullptr);
  ManualClock clock(absl::FromUnixSeconds(1'800'000'000));
  const std::vector<AgentProfile> agents = {
      MakeAgent("ana", {{"billing", 5}}, {{"es", 5}}, 1, 2),
      MakeAgent("bo", {{"billing", 2}}, {{"en", 5}}, 1, 2),
      MakeAgent("cy", {{"billing", 4}}, {{"en", 4}}, 1, 1),
      MakeAgent("di", {{"billing", 1}}, {{"es", 3}, {"en", 2}}, 1, 2,
                /*max_total=*/2),
  };
  Scenario::Options options =
      ScenarioOptions("advance queues/drains/rules swaps", agents);
  options.clock = &clock;
  // Steps relax requirements: an agent below the contact's own may take it
  // at a later step.
  options.assigned_agents_qualify = false;
  Scenario s(std::move(options));
  s.router().SetRules(relax);
  const int capacity = Capacity(agents);
  std::atomic<int64_t> next_id{0};
  ContactPool pool;

  s.AddWorker("router", [&](Worker& w) {
    if (pool.size() >= s.HeldLimit(capacity)) {
      std::this_thread::yield();
      return;
    }
    Contact c;
    c.id = absl::StrCat("q", next_id.fetch_add(1));
    c.channel = w.rng() % 2 ? Channel::kVoice : Channel::kChat;
    // Mostly more than most agents have: these wait for a step. Up to 4, so
    // that without rules someone on the roster (ana for Spanish, cy for
    // English) qualifies and Route never refuses.
    c.required_skills = {{"billing", 2 + static_cast<int>(w.rng() % 3)}};
    c.languages = {w.rng() % 2 ? "es" : "en"};
    c.priority = w.rng() % 3;
    c.customer_id = absl::StrCat("cust-", w.rng() % 30);
    absl::StatusOr<RoutingDecision> d = s.Route(w, c);
    if (d.ok()) {
      pool.Add(c.id);
    } else {
      s.Unexpected(w, "Route", d.status());
    }
  });
  // Releases (each one drains queues for the freed agent) and cancels.
  s.AddWorker("ender", [&](Worker& w) { EndOne(s, pool, w, 4); });
  // Time passes and steps fall due.
  s.AddWorker("advancer", [&](Worker& w) {
    clock.Advance(absl::Seconds(1 + w.rng() % 5));
    s.BeginCall();
    s.router().AdvanceQueues();
    std::this_thread::yield();
  });
  // Rules swaps and presence flaps.
  s.AddWorker("swapper", [&](Worker& w) {
    const int op = w.rng() % 8;
    if (op == 0) {
      s.router().SetRules(relax);
    } else if (op == 1) {
      s.router().SetRules(relax_fast);
    } else if (op == 2) {
      s.router().SetRules(nullptr);
    } else {
      s.BeginCall();
      absl::Status st =
          s.router().SetAgentState(agents[w.rng() % 4].id, RandomState(w.rng));
      if (!st.ok()) s.Unexpected(w, "SetAgentState", st);
    }
    Pause();
  });
  s.Run();
}

// --- Scenario 4: Add, remove, update and flaps of one agent id ---------------

TEST(RouterTortureTest, AddRemoveUpdateOfOneAgentId) {
  // "anchor" stays, so a contact is never refused as unservable.
  const std::vector<AgentProfile> anchors = {
      MakeAgent("anchor", {{"tech", 3}, {"billing", 3}}, {{"en", 5}}, 1, 2),
  };
  // Variants of "flux": same capacity, different skills.
  const std::vector<AgentProfile> flux = {
      MakeAgent("flux", {{"tech", 3}}, {{"en", 5}}, 1, 2),
      MakeAgent("flux", {{"tech", 1}, {"billing", 2}}, {{"en", 5}}, 1, 2),
      MakeAgent("flux", {{"billing", 4}}, {{"en", 5}}, 1, 2),
  };
  Scenario::Options options =
      ScenarioOptions("add/remove/update of one agent id", anchors);
  options.extra_agent_ids = {"flux"};
  // Updates change skills under contacts already assigned.
  options.assigned_agents_qualify = false;
  Scenario s(std::move(options));
  const int capacity = Capacity({anchors[0], flux[0]});
  std::atomic<int64_t> adds{0};
  std::atomic<int64_t> removes{0};
  std::atomic<int64_t> next_id{0};
  ContactPool pool;

  // Three threads change flux at once: whenever it is off the roster all of
  // them add it (so adds of one id race); otherwise each ends its shift (logs
  // it out, waits for its contacts to be released, removes it), updates its
  // profile, or sets its presence (mostly available, so that it takes
  // contacts and a racing add or update would meet a held load).
  std::atomic<bool> leaving{false};  // A shift is ending: nobody sets it
                                     // available meanwhile.
  for (int t = 0; t < 3; ++t) {
    s.AddWorker(absl::StrCat("roster", t), [&](Worker& w) {
      Router& r = s.router();
      s.BeginCall();
      absl::Status st;
      if (r.GetAgent("flux").status().code() == absl::StatusCode::kNotFound) {
        st = r.AddAgent(flux[w.rng() % flux.size()]);
        if (st.ok()) {
          ++adds;
        } else if (st.code() != absl::StatusCode::kAlreadyExists) {
          s.Unexpected(w, "AddAgent", st);
        }
        return;
      }
      const int op = w.rng() % 6;
      if (op == 0 && !leaving.exchange(true)) {
        st = r.SetAgentState("flux", AgentState::kLoggedOut);
        if (!st.ok() && st.code() != absl::StatusCode::kNotFound) {
          s.Unexpected(w, "SetAgentState", st);
        }
        // The ender releases its contacts; give it a few milliseconds.
        for (int i = 0; i < 40 && !w.stop->load(); ++i) {
          absl::StatusOr<AgentStatus> a = r.GetAgent("flux");
          if (!a.ok() || TotalLoad(*a) == 0) break;
          std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
        st = r.RemoveAgent("flux");
        if (st.ok()) {
          ++removes;
        } else if (st.code() != absl::StatusCode::kNotFound &&
                   st.code() != absl::StatusCode::kFailedPrecondition) {
          s.Unexpected(w, "RemoveAgent", st);
        }
        leaving.store(false);
      } else if (op == 1) {
        st = r.UpdateAgent(flux[w.rng() % flux.size()]);
        if (!st.ok() && st.code() != absl::StatusCode::kNotFound) {
          s.Unexpected(w, "UpdateAgent", st);
        }
      } else {
        AgentState state =
            w.rng() % 3 ? AgentState::kAvailable : RandomState(w.rng);
        if (leaving.load() && state == AgentState::kAvailable) {
          state = AgentState::kBusy;
        }
        st = r.SetAgentState("flux", state);
        if (!st.ok() && st.code() != absl::StatusCode::kNotFound) {
          s.Unexpected(w, "SetAgentState", st);
        }
      }
      // Let the router and the ender run; the adds above are what must
      // coincide, and all three threads make them as soon as flux is gone.
      std::this_thread::yield();
    });
  }
  s.AddWorker("router", [&](Worker& w) {
    if (pool.size() >= s.HeldLimit(capacity)) {
      std::this_thread::yield();
      return;
    }
    Contact c;
    c.id = absl::StrCat("f", next_id.fetch_add(1));
    c.channel = w.rng() % 2 ? Channel::kVoice : Channel::kChat;
    c.required_skills = {{w.rng() % 2 ? "tech" : "billing", 1}};
    absl::StatusOr<RoutingDecision> d = s.Route(w, c);
    if (d.ok()) {
      pool.Add(c.id);
    } else {
      s.Unexpected(w, "Route", d.status());
    }
  });
  s.AddWorker("ender", [&](Worker& w) {
    EndOne(s, pool, w, 3);
    // The anchor flaps too, so contacts queue and drain to flux.
    if (w.rng() % 16 == 0) {
      absl::Status st = s.router().SetAgentState("anchor", RandomState(w.rng));
      if (!st.ok()) s.Unexpected(w, "SetAgentState", st);
    }
  });

  // Of concurrent adds of one id exactly one succeeds, and only a successful
  // remove takes it away: the successes alternate, add first.
  s.AddQuiescentCheck([&] {
    const int64_t net = adds.load() - removes.load();
    absl::StatusOr<AgentStatus> a = s.router().GetAgent("flux");
    if (net != 0 && net != 1) {
      s.violations().Add(
          "AddAgent of one id succeeded twice without a remove between",
          absl::StrCat(adds.load(), " adds and ", removes.load(),
                       " removes succeeded"));
    } else if (a.ok() != (net == 1)) {
      s.violations().Add(
          "roster disagrees with the adds and removes that succeeded",
          absl::StrCat(adds.load(), " adds, ", removes.load(),
                       " removes, GetAgent(flux): ",
                       a.ok() ? "present" : a.status().ToString()));
    }
    if (a.ok()) {
      bool known = false;
      for (const AgentProfile& p : flux) {
        if (p.skills.size() != a->profile.skills.size()) continue;
        bool same = true;
        for (size_t i = 0; i < p.skills.size(); ++i) {
          same = same && p.skills[i].skill == a->profile.skills[i].skill &&
                 p.skills[i].level == a->profile.skills[i].level;
        }
        known = known || same;
      }
      if (!known) {
        s.violations().Add("flux has a profile nobody set", Describe(*a));
      }
    }
  });
  s.Run();
  std::printf("  flux: %lld adds, %lld removes succeeded\n",
              static_cast<long long>(adds.load()),
              static_cast<long long>(removes.load()));
}

// --- Scenario 5: UpdateAgent removes a skill while contacts route ------------

TEST(RouterTortureTest, UpdateAgentRemovingASkillWhileRouting) {
  const AgentProfile with_tech =
      MakeAgent("shifty", {{"billing", 3}, {"tech", 3}}, {{"en", 5}}, 1, 2);
  const AgentProfile without_tech =
      MakeAgent("shifty", {{"billing", 3}}, {{"en", 5}}, 1, 2);
  const std::vector<AgentProfile> agents = {
      with_tech,
      MakeAgent("steady", {{"billing", 2}, {"tech", 2}}, {{"en", 5}}, 1, 1),
  };
  Scenario::Options options =
      ScenarioOptions("update removing a skill", agents);
  options.assigned_agents_qualify = false;
  Scenario s(std::move(options));
  const int capacity = Capacity(agents);
  // Generation 2k is the k-th profile installed: with tech for even k.
  auto has_tech = [](int64_t generation) { return (generation / 2) % 2 == 0; };
  constexpr int kRouters = 2;
  std::atomic<int64_t> next_id{0};
  ContactPool pool;
  // Contacts being routed this instant, for the updater's look after it
  // removes the skill.
  std::mutex mu;
  std::array<std::string, kRouters> in_flight;
  // (contact, generation): once the update that installed `generation`
  // (shifty without tech) had returned, GetContact showed the contact not
  // assigned to shifty. Such a contact reported assigned to shifty while
  // the generation is still the same was assigned after the update.
  std::set<std::pair<std::string, int64_t>> seen_unassigned;

  for (int t = 0; t < kRouters; ++t) {
    s.AddWorker(absl::StrCat("router", t), [&, t](Worker& w) {
      if (pool.size() >= s.HeldLimit(capacity)) {
        std::this_thread::yield();
        return;
      }
      const bool tech = w.rng() % 3 != 0;
      Contact c;
      c.id = absl::StrCat(tech ? "tech-" : "bill-", next_id.fetch_add(1));
      c.channel = w.rng() % 2 ? Channel::kVoice : Channel::kChat;
      c.required_skills = {{tech ? "tech" : "billing", 1}};
      {
        std::lock_guard<std::mutex> lock(mu);
        in_flight[t] = c.id;
      }
      absl::StatusOr<RoutingDecision> d = s.Route(w, c);
      {
        std::lock_guard<std::mutex> lock(mu);
        in_flight[t].clear();
      }
      if (d.ok()) {
        pool.Add(c.id);
      } else {
        s.Unexpected(w, "Route", d.status());
      }
    });
  }
  s.AddWorker("ender", [&](Worker& w) { EndOne(s, pool, w, 4); });
  // The only thread that changes shifty's profile: odd generation while the
  // update is in flight.
  s.AddWorker("updater", [&](Worker& w) {
    if (w.rng() % 4 == 0) {
      s.BeginCall();
      const char* who = w.rng() % 2 ? "shifty" : "steady";
      absl::Status st = s.router().SetAgentState(who, RandomState(w.rng));
      if (!st.ok()) s.Unexpected(w, "SetAgentState", st);
      return;
    }
    const int64_t next = s.generation.load() + 2;
    s.generation.fetch_add(1);  // In flight.
    s.BeginCall();
    absl::Status st =
        s.router().UpdateAgent(has_tech(next) ? with_tech : without_tech);
    s.generation.fetch_add(1);  // Returned.
    if (!st.ok()) s.Unexpected(w, "UpdateAgent", st);
    if (!has_tech(next)) {
      std::vector<std::string> ids = pool.Snapshot();
      {
        std::lock_guard<std::mutex> lock(mu);
        for (const std::string& id : in_flight) {
          if (!id.empty()) ids.push_back(id);
        }
      }
      for (const std::string& id : ids) {
        if (!absl::StartsWith(id, "tech-")) continue;
        absl::StatusOr<ContactStatus> c = s.router().GetContact(id);
        // A contact no longer held proves nothing: it may have been assigned
        // to shifty before the update and released since, with the
        // listener hearing of that assignment only now (callbacks run when
        // the assigning call has finished its work).
        if (!c.ok()) continue;
        if (c->state == ContactStatus::State::kAssigned &&
            c->agent_id == "shifty") {
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        seen_unassigned.emplace(id, next);
      }
    }
    // Hold the profile a while: a decision that read the old one and was
    // preempted before its claim lands within this generation.
    std::this_thread::sleep_for(std::chrono::microseconds(w.rng() % 500));
  });
  s.OnAssignmentEvent([&](const Event& e) {
    if (e.agent != "shifty" || !absl::StartsWith(e.contact, "tech-")) return;
    const int64_t g = e.generation_after;
    if (g % 2 != 0 || has_tech(g)) return;
    // The call that assigned it started after the update had returned.
    if (e.generation_before == g) {
      s.violations().Add(
          "contact assigned to an agent lacking a required skill (the "
          "update removing it returned before the assigning call began)",
          absl::StrCat(e.contact,
                       " (tech>=1) -> shifty, without tech since "
                       "generation ",
                       g));
      return;
    }
    // Or GetContact showed it unassigned after the update had returned.
    std::lock_guard<std::mutex> lock(mu);
    if (seen_unassigned.contains({e.contact, g})) {
      s.violations().Add(
          "contact assigned to an agent lacking a required skill (assigned "
          "after the update removing it returned)",
          absl::StrCat(e.contact,
                       " (tech>=1) -> shifty: not assigned to "
                       "shifty when the update to generation ",
                       g,
                       " (without tech) had returned, assigned to shifty "
                       "before the next update"));
    }
  });
  // Assignments of later phases can only match the current generation.
  s.AddQuiescentCheck([&] {
    const int64_t current = s.generation.load();
    std::lock_guard<std::mutex> lock(mu);
    std::erase_if(seen_unassigned,
                  [&](const auto& entry) { return entry.second != current; });
  });
  s.Run();
}

// --- Scenario 6: presence flaps against routing (lost wakeups) --------------

TEST(RouterTortureTest, AgentsComingBackWhileContactsQueue) {
  // Room for many chats each, so an agent who is back rarely fills up: a
  // contact left waiting while it is available stays visible until its next
  // state change or release.
  const std::vector<AgentProfile> agents = {
      MakeAgent("w0", {{"billing", 2}}, {{"en", 5}}, 0, 8),
      MakeAgent("w1", {{"billing", 3}}, {{"en", 5}}, 0, 8),
  };
  Scenario s(
      ScenarioOptions("agents coming back while contacts queue", agents));
  const int capacity = Capacity(agents);
  std::atomic<int64_t> next_id{0};
  ContactPool pool;

  // Contacts arrive all the time; while both agents are away they queue,
  // and a Route that found nobody races the agent coming back. When the
  // router holds enough, a waiting customer hangs up, so routing never
  // pauses (a pause would leave nothing to race).
  for (int t = 0; t < 2; ++t) {
    s.AddWorker(absl::StrCat("router", t), [&](Worker& w) {
      if (HangUpWhenFull(s, w, pool, capacity)) return;
      Contact c;
      c.id = absl::StrCat("w", next_id.fetch_add(1));
      c.channel = Channel::kChat;
      c.required_skills = {{"billing", 1 + static_cast<int>(w.rng() % 2)}};
      c.languages = {"en"};
      absl::StatusOr<RoutingDecision> d = s.Route(w, c);
      if (d.ok()) {
        pool.Add(c.id);
      } else {
        s.Unexpected(w, "Route", d.status());
      }
    });
  }
  // Both agents step away briefly, then come back for longer: a contact
  // that missed the return waits while they are available.
  s.AddWorker("presence", [&](Worker& w) {
    const AgentState away =
        w.rng() % 2 ? AgentState::kBusy : AgentState::kBreak;
    for (const AgentProfile& p : agents) {
      absl::Status st = s.router().SetAgentState(p.id, away);
      if (!st.ok()) s.Unexpected(w, "SetAgentState", st);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(20 + w.rng() % 40));
    for (const AgentProfile& p : agents) {
      s.BeginCall();
      absl::Status st = s.router().SetAgentState(p.id, AgentState::kAvailable);
      if (!st.ok()) s.Unexpected(w, "SetAgentState", st);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100 + w.rng() % 200));
  });
  // Releases now and then (each one drains the queues for its agent).
  s.AddWorker("releaser", [&](Worker& w) {
    std::this_thread::sleep_for(std::chrono::microseconds(10));
    std::string id;
    if (!pool.Pick(w.rng, &id)) return;
    absl::Status st = s.Release(w, id);
    if (st.ok() || st.code() == absl::StatusCode::kNotFound) {
      pool.Remove(id);  // NotFound: a router cancelled it.
    } else if (st.code() != absl::StatusCode::kFailedPrecondition) {
      s.Unexpected(w, "Release", st);  // FailedPrecondition: still queued.
    }
  });
  s.Run();
}

}  // namespace
}  // namespace routing

namespace {

constexpr char kUsage[] =
    "Usage: router_torture_test [--seconds=N] [--phase_ms=M] [--gtest_...]\n"
    "  --seconds=N   run about N seconds in all, split evenly among the\n"
    "                scenarios (default 6; 4 under a sanitizer); also\n"
    "                ROUTER_TORTURE_SECONDS=N in the environment\n"
    "  --phase_ms=M  length of one phase between quiescence checks "
    "(default 20)\n";

bool ParseSeconds(const std::string& text, double* seconds) {
  return absl::SimpleAtod(text, seconds) && *seconds > 0 && *seconds < 1e7;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help") std::fputs(kUsage, stdout);
  }
  ::testing::InitGoogleTest(&argc, argv);
  routing::RunLength& length = routing::Length();
  if (const char* env = std::getenv("ROUTER_TORTURE_SECONDS")) {
    if (!ParseSeconds(env, &length.seconds)) {
      std::fprintf(stderr,
                   "router_torture_test: ROUTER_TORTURE_SECONDS=%s is not a "
                   "positive number of seconds\n",
                   env);
      return 2;
    }
  }
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help") continue;
    if (absl::StartsWith(std::string(arg), "--seconds=")) {
      const std::string value(arg.substr(std::strlen("--seconds=")));
      if (!ParseSeconds(value, &length.seconds)) {
        std::fprintf(stderr,
                     "router_torture_test: --seconds=%s is not a positive "
                     "number of seconds\n",
                     value.c_str());
        return 2;
      }
    } else if (absl::StartsWith(std::string(arg), "--phase_ms=")) {
      const std::string value(arg.substr(std::strlen("--phase_ms=")));
      if (!absl::SimpleAtoi(value, &length.phase_ms) || length.phase_ms < 1) {
        std::fprintf(stderr,
                     "router_torture_test: --phase_ms=%s is not a positive "
                     "whole number\n",
                     value.c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr, "router_torture_test: unknown argument '%s'\n%s",
                   argv[i], kUsage);
      return 2;
    }
  }
  std::printf(
      "router_torture_test: %.1f s in all, %d phase(s) of %d ms per "
      "scenario%s\n",
      length.seconds, routing::PhasesPerScenario(), length.phase_ms,
      routing::kSanitized ? " (sanitizer build)" : "");
  return RUN_ALL_TESTS();
}
