// How decisions, queues and history behave as the center's shape changes:
// the parts of //bench:routing_benchmarks that decision_benchmark.cc and
// rules_benchmark.cc do not cover.
//
// BM_DecisionShape: route + release against 1,000 and 10,000 agents, varying
//   the share available (1%, 10%, 50%), the skills each contact requires (1
//   or 3) and the languages in the pool (1 or 8).
// BM_DecisionExampleRules: route + release against 1,000 and 10,000 agents
//   with each rules file of rules/examples/ (index into kExampleRules).
// BM_QueueInsert: a contact joining a queue that already holds N waiting
//   contacts (every agent busy), then leaving it (cancel). N = 10..10,000.
// BM_ReleaseToListener: one agent serves a queue of N waiting contacts; each
//   iteration a contact arrives (queued) and the agent releases the one it
//   holds, so it takes the next waiting one, told to the listener (the
//   path of a PBX's callback: drain, notice, delivery).
// BM_PickBestContact: an agent becoming available picks the best of N
//   waiting contacts (priority, then aging); only that call is timed.
// BM_AdvanceQueuesStepsDue: N contacts wait under skill_overflow.lua (a
//   step 60 s after arrival), arrivals spread over those 60 s; each
//   iteration advances the clock to the next arrival's step, routes a new
//   contact, calls AdvanceQueues() (one step falls due) and cancels the
//   contact it moved, so N stays the same. N = 10..100,000.
// BM_HistoryLookup: the customer-history store read for a decision, with
//   N customers remembered.
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/agent_pool.h"
#include "bench/decision_loop.h"
#include "benchmark/benchmark.h"
#include "routing/clock.h"
#include "routing/internal/history_store.h"
#include "routing/router.h"
#include "bench/benchmark_rules_options.h"
#include "rules/lua_rules.h"

namespace {

using routing::AgentState;
using routing::ContactOutcome;
using routing::ManualClock;

constexpr int64_t kStart = 1'800'000'000;

const char* const kExampleRules[] = {
    "rules/examples/default.lua",        "rules/examples/vip_priority.lua",
    "rules/examples/language_first.lua", "rules/examples/preferred_agent.lua",
    "rules/examples/skill_overflow.lua", "rules/examples/occupancy_cap.lua",
};

std::unique_ptr<bench::AgentPool> BuildOrSkip(benchmark::State& state,
                                              const bench::PoolShape& shape,
                                              const routing::Clock* clock) {
  auto pool = bench::BuildAgentPool(shape, clock);
  if (!pool.ok()) {
    state.SkipWithError(pool.status().ToString().c_str());
    return nullptr;
  }
  return *std::move(pool);
}

void BM_DecisionShape(benchmark::State& state) {
  ManualClock clock(absl::FromUnixSeconds(kStart));
  bench::PoolShape shape;
  shape.agents = static_cast<int>(state.range(0));
  shape.available_share = static_cast<double>(state.range(1)) / 100;
  shape.skills_per_contact = static_cast<int>(state.range(2));
  shape.languages = static_cast<int>(state.range(3));
  // Contacts asking for 3 skills need agents holding them together.
  shape.skills_per_agent = shape.skills_per_contact == 1 ? 3 : 6;
  shape.skills = shape.skills_per_contact == 1 ? 50 : 12;
  auto pool = BuildOrSkip(state, shape, &clock);
  if (pool == nullptr) return;
  bench::MeasureDecisions(state, *pool);
}
BENCHMARK(BM_DecisionShape)
    ->ArgNames({"agents", "available_pct", "skills", "languages"})
    ->ArgsProduct({{1'000, 10'000}, {1, 10, 50}, {1, 3}, {1, 8}})
    ->Unit(benchmark::kMicrosecond);

void BM_DecisionExampleRules(benchmark::State& state) {
  ManualClock clock(absl::FromUnixSeconds(kStart));
  auto pool = bench::MakeDecisionPool(static_cast<int>(state.range(0)), &clock);
  const char* file = kExampleRules[state.range(1)];
  auto rules = rules::LoadRulesFile(file, bench::BenchmarkRulesOptions());
  if (!rules.ok()) {
    state.SkipWithError(rules.status().ToString().c_str());
    return;
  }
  pool->router().SetRules(*rules);
  state.SetLabel(file);
  bench::MeasureDecisions(state, *pool);
}
BENCHMARK(BM_DecisionExampleRules)
    ->ArgNames({"agents", "rules"})
    ->ArgsProduct({{1'000, 10'000}, {0, 1, 2, 3, 4, 5}})
    ->Unit(benchmark::kMicrosecond);

// A router with `agents` voice agents with skill "billing" and `waiting`
// contacts queued for it (every agent busy).
struct QueuedCenter {
  ManualClock clock{absl::FromUnixSeconds(kStart)};
  std::unique_ptr<routing::Router> router;
  routing::AssignmentListener* listener = nullptr;  // Set before Build.
  int next_contact = 0;

  // `fill`: queue the `waiting` contacts (else only make room for them).
  bool Build(benchmark::State& state, int agents, int waiting,
             bool fill = true) {
    routing::RouterOptions options;
    options.clock = &clock;
    options.listener = listener;
    options.max_contacts = waiting + agents + 1024;
    auto created = routing::Router::Create(options);
    if (!created.ok()) {
      state.SkipWithError(created.status().ToString().c_str());
      return false;
    }
    router = *std::move(created);
    for (int a = 0; a < agents; ++a) {
      routing::AgentProfile agent;
      agent.id = absl::StrCat("agent-", a);
      agent.skills = {{"billing", 1 + a % 5}};
      agent.SetCapacity(routing::Channel::kVoice, 1);
      if (!router->AddAgent(agent).ok()) return false;
    }
    for (int i = 0; fill && i < waiting; ++i) {
      clock.Advance(absl::Milliseconds(10));
      if (!router->Route(NextContact()).ok()) {
        state.SkipWithError("filling the queue failed");
        return false;
      }
    }
    return true;
  }

  routing::Contact NextContact() {
    routing::Contact contact;
    contact.id = absl::StrCat("c", next_contact++);
    contact.required_skills = {{"billing", 1}};
    contact.priority = next_contact % 3;
    return contact;
  }
};

void BM_QueueInsert(benchmark::State& state) {
  QueuedCenter center;
  if (!center.Build(state, 10, static_cast<int>(state.range(0)))) return;
  for (auto _ : state) {
    routing::Contact contact = center.NextContact();
    auto decision = center.router->Route(contact);
    if (!decision.ok() ||
        decision->outcome != routing::DecisionOutcome::kQueued) {
      state.SkipWithError("the contact did not queue");
      return;
    }
    (void)center.router->Cancel(contact.id);
  }
  state.SetItemsProcessed(state.iterations());
}
// 10 to 100,000 waiting, side by side: arrival, departure and the queue
// position cost O(trie levels), not O(waiting) (contact_queue.h).
BENCHMARK(BM_QueueInsert)
    ->ArgName("waiting")
    ->RangeMultiplier(10)
    ->Range(10, 100'000)
    ->Unit(benchmark::kMicrosecond);

// Remembers the last contact the listener was told of, and how many.
class LastAssignment final : public routing::AssignmentListener {
 public:
  void OnAssigned(const routing::Assignment& assignment) override {
    contact_id = assignment.contact_id;
    ++told;
  }
  std::string contact_id;
  int64_t told = 0;
};

void BM_ReleaseToListener(benchmark::State& state) {
  QueuedCenter center;
  LastAssignment heard;
  center.listener = &heard;
  if (!center.Build(state, 1, static_cast<int>(state.range(0)))) return;
  // The agent logs in and takes the first waiting contact.
  if (!center.router->SetAgentState("agent-0", AgentState::kAvailable).ok() ||
      heard.told != 1) {
    state.SkipWithError("the agent took no waiting contact");
    return;
  }
  for (auto _ : state) {
    center.clock.Advance(absl::Milliseconds(10));
    if (!center.router->Route(center.NextContact()).ok() ||
        !center.router->Release(heard.contact_id, ContactOutcome::kResolved)
             .ok()) {
      state.SkipWithError("route or release failed");
      return;
    }
  }
  if (heard.told != static_cast<int64_t>(state.iterations()) + 1) {
    state.SkipWithError("an assignment was not told");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReleaseToListener)
    ->ArgName("waiting")
    ->RangeMultiplier(100)
    ->Range(10, 10'000)
    ->Unit(benchmark::kMicrosecond);

void BM_PickBestContact(benchmark::State& state) {
  QueuedCenter center;
  const int waiting = static_cast<int>(state.range(0));
  LastAssignment listener;
  // The listener must be in the options: build by hand with it.
  routing::RouterOptions options;
  options.clock = &center.clock;
  options.listener = &listener;
  options.max_contacts = waiting + 1024;
  auto created = routing::Router::Create(options);
  if (!created.ok()) {
    state.SkipWithError(created.status().ToString().c_str());
    return;
  }
  center.router = *std::move(created);
  routing::AgentProfile agent;
  agent.id = "picker";
  agent.skills = {{"billing", 3}};
  agent.SetCapacity(routing::Channel::kVoice, 1);
  (void)center.router->AddAgent(agent);
  for (int i = 0; i < waiting; ++i) {
    center.clock.Advance(absl::Milliseconds(10));
    (void)center.router->Route(center.NextContact());
  }
  for (auto _ : state) {
    const auto started = std::chrono::steady_clock::now();
    (void)center.router->SetAgentState("picker", AgentState::kAvailable);
    const auto elapsed = std::chrono::steady_clock::now() - started;
    state.SetIterationTime(std::chrono::duration<double>(elapsed).count());
    if (listener.contact_id.empty()) {
      state.SkipWithError("the available agent picked nothing");
      return;
    }
    // Back to N waiting: the agent goes busy, finishes, a new contact queues.
    (void)center.router->SetAgentState("picker", AgentState::kBusy);
    (void)center.router->Release(listener.contact_id,
                                 ContactOutcome::kResolved);
    listener.contact_id.clear();
    center.clock.Advance(absl::Milliseconds(10));
    (void)center.router->Route(center.NextContact());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PickBestContact)
    ->ArgName("waiting")
    ->RangeMultiplier(10)
    ->Range(10, 100'000)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

void BM_AdvanceQueuesStepsDue(benchmark::State& state) {
  QueuedCenter center;
  const int waiting = static_cast<int>(state.range(0));
  if (!center.Build(state, 10, waiting, /*fill=*/false)) return;
  auto rules = rules::LoadRulesFile("rules/examples/skill_overflow.lua",
                                    bench::BenchmarkRulesOptions());
  if (!rules.ok()) {
    state.SkipWithError(rules.status().ToString().c_str());
    return;
  }
  center.router->SetRules(*rules);
  // The step asks for "general": someone must hold it for the step to
  // compile.
  routing::AgentProfile generalist;
  generalist.id = "generalist";
  generalist.skills = {{"general", 3}};
  generalist.SetCapacity(routing::Channel::kVoice, 1);
  (void)center.router->AddAgent(generalist);
  // Every agent busy (the generalist is logged out): the contacts wait.
  for (int a = 0; a < 10; ++a) {
    (void)center.router->SetAgentState(absl::StrCat("agent-", a),
                                       AgentState::kBusy);
  }
  const absl::Duration spacing = absl::Seconds(60) / waiting;
  std::vector<std::string> ids;  // In arrival order.
  for (int i = 0; i < waiting; ++i) {
    routing::Contact contact = center.NextContact();
    contact.priority = 0;
    ids.push_back(contact.id);
    if (!center.router->Route(contact).ok()) {
      state.SkipWithError("filling the queue failed");
      return;
    }
    center.clock.Advance(spacing);
  }
  size_t oldest = 0;
  int64_t moved = 0;
  for (auto _ : state) {
    routing::Contact contact = center.NextContact();
    contact.priority = 0;
    ids.push_back(contact.id);
    (void)center.router->Route(contact);
    center.clock.Advance(spacing);
    moved += center.router->AdvanceQueues();
    (void)center.router->Cancel(ids[oldest++]);
  }
  state.counters["moved_per_call"] =
      static_cast<double>(moved) / static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
}
// The step schedule finds the due contacts without walking the waiting ones.
BENCHMARK(BM_AdvanceQueuesStepsDue)
    ->ArgName("waiting")
    ->RangeMultiplier(10)
    ->Range(10, 100'000)
    ->Unit(benchmark::kMicrosecond);

void BM_HistoryLookup(benchmark::State& state) {
  const int customers = static_cast<int>(state.range(0));
  routing::internal::HistoryStore store(customers, 4);
  routing::internal::InteractionRecord record;
  record.time = absl::FromUnixSeconds(kStart);
  std::vector<std::string> ids;
  ids.reserve(customers);
  for (int i = 0; i < customers; ++i) {
    ids.push_back(absl::StrCat("customer-", i));
    record.agent_index = static_cast<uint32_t>(i % 5000);
    store.Record(ids.back(), record);
  }
  std::mt19937 rng(5);
  routing::internal::InteractionRecord out[4];
  int64_t found = 0;
  for (auto _ : state) {
    found += store.Lookup(ids[rng() % ids.size()], out, 4) > 0;
  }
  state.counters["hit_share"] =
      static_cast<double>(found) / static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistoryLookup)
    ->ArgName("customers")
    ->RangeMultiplier(10)
    ->Range(10'000, 1'000'000)
    ->Unit(benchmark::kNanosecond);

}  // namespace
