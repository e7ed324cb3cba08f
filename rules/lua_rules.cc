#include "rules/lua_rules.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "rules/internal/lua_rules_state.h"
#include "rules/internal/rules_samples.h"
#include "rules/internal/rules_source_file.h"
#include "rules/internal/rules_test_runner.h"

namespace rules {

using internal::LuaRulesState;

namespace {

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// States created with a file beyond the first: a few cover the threads that
// usually route at once; the pool grows on demand past them.
constexpr int kWarmStatesCap = 8;
// The evaluation budget while the file's own tests run.
constexpr absl::Duration kTestBudget = absl::Seconds(1);
}  // namespace

std::string RulesProblem::ToString() const {
  if (line <= 0) return absl::StrCat(file, ": ", message);
  return absl::StrCat(file, ":", line, ": ", message);
}

// The compiled file: its steps, and a pool of Lua states running it, watched
// by one thread that interrupts an evaluation running past its budget.
struct LuaRules::Impl {
  std::string file_name;
  std::string source;
  RulesOptions options;
  std::vector<RulesStep> steps;
  bool has_priority = false;
  absl::Duration priority_step;  // Zero: the policy's.
  bool has_evaluation = false;   // eligible, score or weights.
  int tests_passed = 0;
  std::vector<std::string> interpreted;
  std::vector<std::string> sample_warnings;

  // Pool: slots filled left to right, never emptied until destruction. A
  // state is borrowed by winning its busy flag.
  std::unique_ptr<std::atomic<LuaRulesState*>[]> states;
  std::atomic<int> created{0};

  std::atomic<int64_t> errors{0};
  std::atomic<int64_t> overruns{0};
  // Set once by the breaker; read (one relaxed load) by every decision.
  std::atomic<bool> suspended{false};
  // The breaker counts only once the version is live: never during the
  // compile's sample run and tests.
  std::atomic<bool> armed{false};
  // Guards what follows: taken on the error path only, never by a decision
  // that succeeds.
  mutable std::mutex error_mu;
  std::string last_error;
  absl::Time suspended_at = absl::InfinitePast();
  // Steady-clock times of the latest failures, at most breaker_failures + 1.
  std::deque<int64_t> recent_failures_ns;

  // The budget the watchdog and every state enforce: the file's tests run
  // under kTestBudget, live evaluations under options.evaluation_budget.
  std::atomic<int64_t> budget_ns{0};
  void SetBudget(absl::Duration budget) {
    budget_ns.store(absl::ToInt64Nanoseconds(budget),
                    std::memory_order_relaxed);
    const int n = std::min(created.load(), options.max_states);
    for (int i = 0; i < n; ++i) {
      if (LuaRulesState* state = states[i].load(std::memory_order_acquire)) {
        state->set_budget(budget);
      }
    }
  }

  std::mutex watchdog_mu;
  std::condition_variable watchdog_cv;
  bool stopping = false;
  std::thread watchdog;

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(watchdog_mu);
      stopping = true;
    }
    watchdog_cv.notify_all();
    if (watchdog.joinable()) watchdog.join();
    const int n = std::min(created.load(), options.max_states);
    for (int i = 0; i < n; ++i) delete states[i].load();
  }

  void Adopt(std::unique_ptr<LuaRulesState> state) {
    const int slot = created.fetch_add(1);
    state->busy.store(false, std::memory_order_relaxed);
    states[slot].store(state.release(), std::memory_order_release);
  }

  LuaRulesState* Acquire() {
    thread_local int hint = 0;
    const int n =
        std::min(created.load(std::memory_order_acquire), options.max_states);
    for (int k = 0; k < n; ++k) {
      const int i = (hint + k) % n;
      LuaRulesState* state = states[i].load(std::memory_order_acquire);
      if (state != nullptr && !state->busy.load(std::memory_order_relaxed) &&
          !state->busy.exchange(true, std::memory_order_acquire)) {
        hint = i;
        return state;
      }
    }
    // Every state is busy: one more, if the pool has room. Creating compiles
    // the file again (a few hundred microseconds), once per extra thread.
    int slot = created.load(std::memory_order_acquire);
    do {
      if (slot >= options.max_states) return nullptr;
    } while (!created.compare_exchange_weak(slot, slot + 1,
                                            std::memory_order_acq_rel));
    std::vector<RulesProblem> ignored;
    absl::StatusOr<std::unique_ptr<LuaRulesState>> state =
        LuaRulesState::Create(file_name, source, options, &ignored);
    if (!state.ok()) return nullptr;  // The slot stays empty.
    (*state)->busy.store(true, std::memory_order_relaxed);
    LuaRulesState* raw = state->release();
    states[slot].store(raw, std::memory_order_release);
    hint = slot;
    return raw;
  }

  static void Release(LuaRulesState* state) {
    state->busy.store(false, std::memory_order_release);
  }

  // Counts a failed evaluation and trips the breaker when more than
  // breaker_failures fell within breaker_window.
  void RecordError(std::string error, bool overran = false) {
    errors.fetch_add(1, std::memory_order_relaxed);
    if (overran) overruns.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(error_mu);
    last_error = std::move(error);
    if (options.breaker_failures <= 0 || !armed.load(std::memory_order_relaxed) ||
        suspended.load(std::memory_order_relaxed)) {
      return;
    }
    const int64_t now = SteadyNowNs();
    const int64_t window = absl::ToInt64Nanoseconds(options.breaker_window);
    recent_failures_ns.push_back(now);
    while (!recent_failures_ns.empty() &&
           now - recent_failures_ns.front() > window) {
      recent_failures_ns.pop_front();
    }
    if (static_cast<int>(recent_failures_ns.size()) >
        options.breaker_failures) {
      suspended_at = absl::Now();
      suspended.store(true, std::memory_order_release);
    }
    while (static_cast<int>(recent_failures_ns.size()) >
           options.breaker_failures) {
      recent_failures_ns.pop_front();
    }
  }

  // Forgets failures: the file's tests and sample runs do not count against
  // the version that goes live.
  void ResetHealth() {
    std::lock_guard<std::mutex> lock(error_mu);
    errors.store(0, std::memory_order_relaxed);
    overruns.store(0, std::memory_order_relaxed);
    suspended.store(false, std::memory_order_relaxed);
    last_error.clear();
    recent_failures_ns.clear();
    suspended_at = absl::InfinitePast();
  }

  void WatchEvaluations() {
    const auto period = std::chrono::nanoseconds(std::clamp<int64_t>(
        absl::ToInt64Nanoseconds(options.evaluation_budget) / 4, 1'000'000,
        50'000'000));
    std::unique_lock<std::mutex> lock(watchdog_mu);
    while (!watchdog_cv.wait_for(lock, period, [&] { return stopping; })) {
      const int64_t budget = budget_ns.load(std::memory_order_relaxed);
      const int64_t now =
          std::chrono::duration_cast<std::chrono::nanoseconds>(
              std::chrono::steady_clock::now().time_since_epoch())
              .count();
      const int n = std::min(created.load(), options.max_states);
      for (int i = 0; i < n; ++i) {
        LuaRulesState* state = states[i].load(std::memory_order_acquire);
        if (state == nullptr) continue;
        const int64_t started = state->evaluation_started_ns();
        if (started != 0 && now - started > budget) state->Interrupt();
      }
    }
  }
};

LuaRules::LuaRules(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LuaRules::~LuaRules() = default;

std::string LuaRules::Name() const { return impl_->file_name; }
int LuaRules::tests_passed() const { return impl_->tests_passed; }
const std::vector<RulesStep>& LuaRules::steps() const { return impl_->steps; }
int64_t LuaRules::errors() const {
  return impl_->errors.load(std::memory_order_relaxed);
}
std::string LuaRules::last_error() const {
  std::lock_guard<std::mutex> lock(impl_->error_mu);
  return impl_->last_error;
}
std::vector<std::string> LuaRules::interpreted_functions() const {
  return impl_->interpreted;
}

LuaRules::Health LuaRules::health() const {
  Health h;
  h.errors = impl_->errors.load(std::memory_order_relaxed);
  h.overruns = impl_->overruns.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(impl_->error_mu);
  h.last_error = impl_->last_error;
  h.suspended = impl_->suspended.load(std::memory_order_acquire);
  h.suspended_at = impl_->suspended_at;
  return h;
}

bool LuaRules::Suspended() const {
  return impl_->suspended.load(std::memory_order_relaxed);
}

std::vector<std::string> LuaRules::sample_warnings() const {
  return impl_->sample_warnings;
}

void LuaRules::Plan(const routing::Contact& contact, absl::Duration waited,
                    routing::ContactPlan* plan) const {
  const double waited_seconds = absl::ToDoubleSeconds(waited);
  const std::vector<RulesStep>& steps = impl_->steps;
  size_t reached = 0;
  while (reached < steps.size() &&
         steps[reached].after_seconds <= waited_seconds) {
    ++reached;
  }
  if (reached < steps.size()) {
    plan->next_step_after = absl::Seconds(steps[reached].after_seconds);
  }
  plan->step = static_cast<int>(reached);
  plan->priority_step = impl_->priority_step;
  if (reached > 0) {
    const RulesStep& step = steps[reached - 1];
    if (step.replace_skills || step.min_level > 0) {
      plan->replace_required_skills = true;
      plan->required_skills =
          step.replace_skills ? step.skills : contact.required_skills;
      if (step.min_level > 0) {
        for (routing::SkillRequirement& r : plan->required_skills) {
          r.min_level = std::min(r.min_level, step.min_level);
        }
      }
    }
    plan->drop_languages = step.drop_languages;
    plan->preferred_only = step.preferred_only;
  }
  if (!impl_->has_priority || Suspended()) return;
  LuaRulesState* state = impl_->Acquire();
  if (state == nullptr) {
    impl_->RecordError(absl::StrCat(impl_->file_name, ": all ",
                                    impl_->options.max_states,
                                    " rules states are busy"));
    return;
  }
  std::string error;
  int priority = -1;
  const bool ok = state->Priority(contact, waited_seconds, &priority, &error);
  const bool overran = !ok && state->overran();
  Impl::Release(state);
  if (ok) {
    plan->priority = priority;
  } else {
    impl_->RecordError(std::move(error), overran);
  }
}

bool LuaRules::Evaluate(const routing::RulesContact& contact,
                        routing::RulesCandidate* candidates, int count,
                        const routing::RulesNames& names) const {
  if (!impl_->has_evaluation || count == 0) return true;
  if (Suspended()) return false;
  LuaRulesState* state = impl_->Acquire();
  if (state == nullptr) {
    impl_->RecordError(absl::StrCat(impl_->file_name, ": all ",
                                    impl_->options.max_states,
                                    " rules states are busy"));
    return false;
  }
  std::string error;
  const bool ok = state->Evaluate(contact, candidates, count, names, &error);
  const bool overran = !ok && state->overran();
  Impl::Release(state);
  if (!ok) impl_->RecordError(std::move(error), overran);
  return ok;
}

absl::StatusOr<std::shared_ptr<const LuaRules>> CompileRules(
    std::string_view file_name, std::string_view source,
    const RulesOptions& options, std::vector<RulesProblem>* problems) {
  std::vector<RulesProblem> local;
  if (problems == nullptr) problems = &local;
  const size_t before = problems->size();
  if (options.max_states < 1 || options.memory_limit_bytes < (1 << 20) ||
      options.evaluation_budget <= absl::ZeroDuration() ||
      options.load_instruction_limit < 1) {
    return absl::InvalidArgumentError(
        "rules options: max_states >= 1, memory_limit_bytes >= 1 MiB, a "
        "positive evaluation_budget and load_instruction_limit are required");
  }
  if (source.size() > options.max_source_bytes) {
    problems->push_back({std::string(file_name), 0,
                         absl::StrCat("rules source is too large (",
                                      source.size(), " bytes; at most ",
                                      options.max_source_bytes, ")")});
    return absl::OutOfRangeError(problems->back().ToString());
  }
  auto impl = std::make_unique<LuaRules::Impl>();
  impl->file_name = std::string(file_name);
  impl->source = std::string(source);
  impl->options = options;
  impl->budget_ns.store(absl::ToInt64Nanoseconds(options.evaluation_budget));
  impl->states =
      std::make_unique<std::atomic<LuaRulesState*>[]>(options.max_states);
  for (int i = 0; i < options.max_states; ++i) impl->states[i] = nullptr;

  absl::StatusOr<std::unique_ptr<LuaRulesState>> first =
      LuaRulesState::Create(impl->file_name, impl->source, options, problems);
  if (!first.ok()) return first.status();
  std::vector<internal::RulesTestCase> tests;
  (*first)->ReadSteps(&impl->steps, problems);
  (*first)->ReadTests(&tests, problems);
  impl->has_priority = (*first)->HasHook("priority");
  impl->priority_step = absl::Seconds((*first)->PriorityStepSeconds());
  impl->has_evaluation = (*first)->HasHook("eligible") ||
                         (*first)->HasHook("score") ||
                         (*first)->HasHook("weights");
  impl->interpreted = (*first)->InterpretedFunctions();
  if (problems->size() > before) {
    return absl::InvalidArgumentError(
        absl::StrCat(impl->file_name, ": ", problems->size() - before,
                     " problem(s), first: ", (*problems)[before].ToString()));
  }
  impl->Adopt(*std::move(first));
  // One state per hardware thread up front (capped), so the first decisions
  // on each routing thread do not pay for compiling the file again.
  const int warm = std::min<int>(
      options.max_states,
      std::clamp<int>(std::thread::hardware_concurrency(), 1, kWarmStatesCap));
  for (int i = 1; i < warm; ++i) {
    std::vector<RulesProblem> ignored;
    auto extra =
        LuaRulesState::Create(impl->file_name, impl->source, options, &ignored);
    if (!extra.ok()) break;  // The pool grows on demand instead.
    impl->Adopt(*std::move(extra));
  }
  LuaRules::Impl* raw = impl.get();
  raw->watchdog = std::thread([raw] { raw->WatchEvaluations(); });
  std::shared_ptr<LuaRules> rules(new LuaRules(std::move(impl)));

  // The run half of the termination check: every hook on sample contacts,
  // under the budget, watched by the watchdog just started.
  if (LuaRulesState* state = raw->Acquire(); state != nullptr) {
    internal::RunRulesSamples(*state, tests, raw->has_evaluation,
                              raw->has_priority, raw->file_name, problems,
                              &raw->sample_warnings);
    LuaRules::Impl::Release(state);
    if (problems->size() > before) {
      return absl::InvalidArgumentError(absl::StrCat(
          raw->file_name, ": ", problems->size() - before,
          " problem(s), first: ", (*problems)[before].ToString()));
    }
  }

  if (options.run_tests) {
    // The file's tests check where contacts go, not how fast: a generous
    // budget, so a compile on a busy machine never refuses a good file
    // because a thread was preempted. The sample run above kept the live
    // budget; a state created meanwhile starts with the live one, which is
    // only stricter.
    raw->SetBudget(std::max(options.evaluation_budget, kTestBudget));
    const int passed = internal::RunRulesTests(rules, tests, problems);
    raw->SetBudget(options.evaluation_budget);
    if (problems->size() > before) {
      return absl::InvalidArgumentError(absl::StrCat(
          rules->Name(), ": ", problems->size() - before,
          " test(s) failed, first: ", (*problems)[before].ToString()));
    }
    rules->impl_->tests_passed = passed;
  }
  raw->ResetHealth();  // Live from here: only live failures count.
  raw->armed.store(true, std::memory_order_relaxed);
  return std::shared_ptr<const LuaRules>(std::move(rules));
}

absl::StatusOr<std::string> ReadRulesFile(const std::string& path,
                                          const RulesOptions& options) {
  absl::StatusOr<std::string> source = internal::ReadRulesSource(
      path, options.rules_dir, options.max_source_bytes);
  if (!source.ok()) {
    return absl::Status(source.status().code(),
                        absl::StrCat(path, ": ", source.status().message()));
  }
  return source;
}

absl::StatusOr<std::shared_ptr<const LuaRules>> LoadRulesFile(
    const std::string& path, const RulesOptions& options,
    std::vector<RulesProblem>* problems) {
  absl::StatusOr<std::string> source = internal::ReadRulesSource(
      path, options.rules_dir, options.max_source_bytes);
  if (!source.ok()) {
    if (problems != nullptr) {
      problems->push_back({path, 0, std::string(source.status().message())});
    }
    return absl::Status(source.status().code(),
                        absl::StrCat(path, ": ", source.status().message()));
  }
  return CompileRules(path, *source, options, problems);
}

}  // namespace rules
