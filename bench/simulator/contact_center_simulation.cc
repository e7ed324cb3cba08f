#include "bench/simulator/contact_center_simulation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "routing/clock.h"
#include "routing/router.h"
#include "rules/lua_rules.h"

namespace routing::simulator {
namespace {

constexpr double kSecondsPerHour = 3600;
// Returning customers are drawn from this many most recent ones per stream.
constexpr size_t kRecentCustomers = 2000;

enum class EventKind {
  kArrival,    // a = stream
  kHandleEnd,  // a = contact
  kAbandon,    // a = contact
  kAcwEnd,     // a = agent
  kShiftStart,
  kShiftEnd,
  kBreakStart,
  kBreakEnd,  // a = agent
  kRulesStep,
};

struct Event {
  double at;     // Seconds since the simulated midnight of day one.
  uint64_t seq;  // Ties run in scheduling order: deterministic.
  EventKind kind;
  int subject;
  bool operator>(const Event& other) const {
    return at != other.at ? at > other.at : seq > other.seq;
  }
};

// SplitMix64: independent seeds for each random stream from one seed.
uint64_t SeedFor(uint64_t seed, uint64_t purpose) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (purpose + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

struct SimContact {
  int stream = 0;
  double arrived = 0;
  bool reported = false;  // Arrived after the warm-up.
  bool answered = false;
  bool abandoned = false;
  bool finished = false;
  int agent = -1;
  std::string customer_id;
  std::string language;
  int previous_agent = -1;  // The agent who last served this customer.
};

struct SimAgent {
  std::string id;
  int group = 0;
  int stagger_slot = 0;  // Its position in the group: staggers its breaks.
  bool on_shift = false;
  bool on_break = false;
  bool in_acw = false;
  int load = 0;
  AgentState router_state = AgentState::kLoggedOut;
  double accounted_until = 0;
  AgentFigures figures;
};

class Simulation : public AssignmentListener {
 public:
  Simulation(const Scenario& scenario, const SimulationOptions& options)
      : scenario_(scenario), options_(options) {}

  absl::StatusOr<SimulationReport> Run();

  void OnAssigned(const Assignment& assignment) override {
    const int contact = ContactIndex(assignment.contact_id);
    const int agent = AgentIndex(assignment.agent_id);
    if (contact < 0 || agent < 0) {
      Fail(absl::InternalError(absl::StrCat("unknown assignment ",
                                            assignment.contact_id, " -> ",
                                            assignment.agent_id)));
      return;
    }
    Answer(contact, agent);
  }

 private:
  double Start() const { return scenario_.start_hour * kSecondsPerHour; }
  double End() const { return scenario_.end_hour * kSecondsPerHour; }
  double ReportFrom() const {
    return (scenario_.start_hour + scenario_.warmup_hours) * kSecondsPerHour;
  }
  void Schedule(double at, EventKind kind, int subject) {
    if (at > End()) return;
    events_.push({at, next_seq_++, kind, subject});
  }
  void Fail(const absl::Status& status) {
    if (error_.ok()) error_ = status;
  }
  void SetClock(double at) {
    clock_.Set(base_ + absl::Seconds(at));
    now_ = at;
  }
  static int IndexAfter(const std::string& id, char prefix) {
    int index;
    if (id.size() < 2 || id[0] != prefix ||
        !absl::SimpleAtoi(absl::string_view(id).substr(1), &index)) {
      return -1;
    }
    return index;
  }
  int ContactIndex(const std::string& id) const {
    const int i = IndexAfter(id, 'c');
    return i >= 0 && i < static_cast<int>(contacts_.size()) ? i : -1;
  }
  int AgentIndex(const std::string& id) const {
    const int i = IndexAfter(id, 'a');
    return i >= 0 && i < static_cast<int>(agents_.size()) ? i : -1;
  }
  double ProfileAt(double at) const {
    const int hour = static_cast<int>(std::floor(at / kSecondsPerHour)) % 24;
    return scenario_.hourly_profile[hour];
  }
  int IntervalOf(double at) const {
    return static_cast<int>((at - Start()) / interval_seconds_);
  }
  ServiceFigures* IntervalService(double at) {
    const int i = IntervalOf(at);
    if (i < 0 || i >= static_cast<int>(intervals_.size())) return nullptr;
    return &intervals_[i].service;
  }

  absl::Status SetUp();
  void ScheduleAgentDays(int agent);
  void NextArrival(int stream, double after);
  void Arrive(int stream);
  void Answer(int contact, int agent);
  void EndHandling(int contact);
  void Abandon(int contact);
  // Brings the agent's state in the Router in line with its schedule.
  void SyncAgentState(int agent);
  // Adds the time since the agent was last accounted to its duty and busy
  // totals, split over the report intervals.
  void Account(int agent);
  template <typename F>
  auto Timed(F f) {
    const auto started = std::chrono::steady_clock::now();
    auto result = f();
    router_seconds_ += std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - started)
                           .count();
    return result;
  }
  SimulationReport BuildReport(double wall_seconds);

  const Scenario& scenario_;
  const SimulationOptions& options_;
  ManualClock clock_;
  absl::Time base_ =
      absl::FromCivil(absl::CivilDay(2026, 1, 5), absl::UTCTimeZone());
  std::unique_ptr<Router> router_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  uint64_t next_seq_ = 0;
  double now_ = 0;
  double interval_seconds_ = 1800;
  absl::Status error_;

  std::vector<SimContact> contacts_;
  std::vector<SimAgent> agents_;
  std::vector<IntervalFigures> intervals_;
  std::vector<double> interval_duty_seconds_;
  std::vector<double> interval_busy_seconds_;
  std::vector<ServiceFigures> stream_figures_;
  ServiceFigures overall_;
  std::vector<std::vector<std::string>> recent_customers_;  // Per stream.
  std::vector<int64_t> new_customers_;                      // Per stream.
  absl::flat_hash_map<std::string, int> last_agent_;        // By customer.
  double router_seconds_ = 0;

  std::mt19937_64 arrival_rng_;
  std::mt19937_64 customer_rng_;
  std::mt19937_64 handle_rng_;
  std::mt19937_64 patience_rng_;
};

absl::Status Simulation::SetUp() {
  if (absl::Status valid = ValidateScenario(scenario_); !valid.ok()) {
    return valid;
  }
  arrival_rng_.seed(SeedFor(scenario_.seed, 1));
  customer_rng_.seed(SeedFor(scenario_.seed, 2));
  handle_rng_.seed(SeedFor(scenario_.seed, 3));
  patience_rng_.seed(SeedFor(scenario_.seed, 4));

  RouterOptions router_options;
  router_options.clock = &clock_;
  router_options.listener = this;
  int agent_count = 0;
  for (const AgentGroup& g : scenario_.agent_groups) agent_count += g.count;
  router_options.max_agents = std::max(agent_count, 1);
  router_options.max_contacts = 1 << 18;
  router_options.history_customers = 1 << 18;
  absl::StatusOr<std::unique_ptr<Router>> router =
      Router::Create(router_options);
  if (!router.ok()) return router.status();
  router_ = std::move(*router);
  SetClock(Start());

  if (!options_.rules_file.empty()) {
    std::vector<::rules::RulesProblem> problems;
    ::rules::RulesOptions rules_options;
    rules_options.evaluation_budget = options_.rules_budget;
    rules_options.breaker_failures = options_.rules_breaker_failures;
    auto loaded = ::rules::LoadRulesFile(options_.rules_file, rules_options,
                                         &problems);
    if (!loaded.ok()) return loaded.status();
    router_->SetRules(*loaded);
  }

  interval_seconds_ = scenario_.report_interval_minutes * 60;
  const int interval_count =
      static_cast<int>(std::ceil((End() - Start()) / interval_seconds_));
  intervals_.resize(interval_count);
  for (int i = 0; i < interval_count; ++i) {
    intervals_[i].start_hour =
        scenario_.start_hour + i * interval_seconds_ / kSecondsPerHour;
  }
  interval_duty_seconds_.assign(interval_count, 0);
  interval_busy_seconds_.assign(interval_count, 0);
  stream_figures_.resize(scenario_.streams.size());
  recent_customers_.resize(scenario_.streams.size());
  new_customers_.assign(scenario_.streams.size(), 0);

  for (size_t g = 0; g < scenario_.agent_groups.size(); ++g) {
    const AgentGroup& group = scenario_.agent_groups[g];
    for (int n = 0; n < group.count; ++n) {
      SimAgent agent;
      agent.id = absl::StrCat("a", agents_.size());
      agent.group = static_cast<int>(g);
      agent.stagger_slot = n;
      agent.accounted_until = Start();
      agent.figures.agent_id = agent.id;
      agent.figures.group = group.name;
      AgentProfile profile;
      profile.id = agent.id;
      profile.skills = group.skills;
      profile.languages = group.languages;
      profile.capacity = group.capacity;
      profile.max_total_contacts = group.max_total_contacts;
      profile.team = group.name;
      if (absl::Status added = router_->AddAgent(profile); !added.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("agent group '", group.name, "': ", added.message()));
      }
      agents_.push_back(std::move(agent));
      ScheduleAgentDays(static_cast<int>(agents_.size()) - 1);
    }
  }
  for (size_t s = 0; s < scenario_.streams.size(); ++s) {
    NextArrival(static_cast<int>(s), Start());
  }
  if (!options_.rules_file.empty()) {
    Schedule(Start() + scenario_.rules_step_seconds, EventKind::kRulesStep, 0);
  }
  return absl::OkStatus();
}

void Simulation::ScheduleAgentDays(int agent) {
  const AgentGroup& group = scenario_.agent_groups[agents_[agent].group];
  const bool all_day =
      group.shift_end_hour - group.shift_start_hour >= 24 - 1e-9;
  const int first_day =
      static_cast<int>(std::floor(scenario_.start_hour / 24)) - 1;
  const int last_day = static_cast<int>(std::floor(scenario_.end_hour / 24));
  for (int day = first_day; day <= last_day; ++day) {
    const double day_start = day * 24 * kSecondsPerHour;
    const double shift_start =
        day_start + group.shift_start_hour * kSecondsPerHour;
    const double shift_end = day_start + group.shift_end_hour * kSecondsPerHour;
    if (shift_end <= Start()) continue;
    if (!all_day || day == first_day + 1) {
      // A shift under way at the start begins at once.
      Schedule(std::max(shift_start, Start()), EventKind::kShiftStart, agent);
    }
    if (!all_day) Schedule(shift_end, EventKind::kShiftEnd, agent);
    const double stagger =
        (agents_[agent].stagger_slot % 4) * group.break_stagger_minutes * 60;
    for (const ScheduledBreak& b : group.breaks) {
      const double begin = day_start + b.start_hour * kSecondsPerHour + stagger;
      if (begin < Start()) continue;
      Schedule(begin, EventKind::kBreakStart, agent);
      Schedule(begin + b.minutes * 60, EventKind::kBreakEnd, agent);
    }
  }
}

void Simulation::NextArrival(int stream, double after) {
  const ContactStream& s = scenario_.streams[stream];
  const double peak = *std::max_element(scenario_.hourly_profile.begin(),
                                        scenario_.hourly_profile.end());
  if (peak <= 0) return;
  const double max_rate = s.contacts_per_hour * peak / kSecondsPerHour;
  std::exponential_distribution<double> gap(max_rate);
  std::uniform_real_distribution<double> accept(0, 1);
  double at = after;
  // Thinning: candidates at the peak rate, kept with probability rate/peak.
  while (true) {
    at += gap(arrival_rng_);
    if (at > End()) return;
    if (accept(arrival_rng_) * peak < ProfileAt(at)) break;
  }
  Schedule(at, EventKind::kArrival, stream);
}

void Simulation::Arrive(int stream) {
  const ContactStream& s = scenario_.streams[stream];
  NextArrival(stream, now_);
  SimContact sim;
  sim.stream = stream;
  sim.arrived = now_;
  sim.reported = now_ >= ReportFrom();
  // The customer: a returning one (history affinity applies) or a new one.
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<std::string>& recent = recent_customers_[stream];
  if (!recent.empty() && unit(customer_rng_) < s.returning_share) {
    std::uniform_int_distribution<size_t> pick(0, recent.size() - 1);
    sim.customer_id = recent[pick(customer_rng_)];
  } else {
    sim.customer_id = absl::StrCat("s", stream, "-", new_customers_[stream]++);
  }
  if (auto it = last_agent_.find(sim.customer_id); it != last_agent_.end()) {
    sim.previous_agent = it->second;
  }
  if (!s.languages.empty()) {
    double total = 0;
    for (const auto& [language, share] : s.languages) total += share;
    double draw = unit(customer_rng_) * total;
    sim.language = s.languages.back().first;
    for (const auto& [language, share] : s.languages) {
      if (draw < share) {
        sim.language = language;
        break;
      }
      draw -= share;
    }
  }
  const int index = static_cast<int>(contacts_.size());
  contacts_.push_back(sim);

  Contact contact;
  contact.id = absl::StrCat("c", index);
  contact.channel = s.channel;
  contact.required_skills = {{s.skill, s.min_level}};
  if (!sim.language.empty()) {
    contact.languages = {sim.language};
    if (!s.fallback_language.empty() && s.fallback_language != sim.language) {
      contact.languages.push_back(s.fallback_language);
    }
  }
  contact.priority = s.priority;
  contact.customer_id = sim.customer_id;
  contact.attributes["stream"] = s.name;
  contact.enqueue_time = clock_.Now();
  if (sim.reported) {
    ++overall_.offered;
    ++stream_figures_[stream].offered;
    if (ServiceFigures* interval = IntervalService(now_)) ++interval->offered;
  }
  absl::StatusOr<RoutingDecision> decision =
      Timed([&] { return router_->Route(contact); });
  if (!decision.ok()) {
    Fail(absl::InternalError(absl::StrCat("routing ", contact.id, " of '",
                                          s.name,
                                          "': ", decision.status().message())));
    return;
  }
  if (decision->outcome == DecisionOutcome::kAssigned) {
    const int agent = AgentIndex(decision->agent_id);
    if (agent < 0) {
      Fail(absl::InternalError("assigned to an unknown agent"));
      return;
    }
    Answer(index, agent);
  } else if (s.patience_mean_seconds > 0) {
    std::exponential_distribution<double> patience(1.0 /
                                                   s.patience_mean_seconds);
    Schedule(now_ + patience(patience_rng_), EventKind::kAbandon, index);
  }
}

void Simulation::Answer(int contact_index, int agent_index) {
  SimContact& c = contacts_[contact_index];
  SimAgent& agent = agents_[agent_index];
  const ContactStream& s = scenario_.streams[c.stream];
  Account(agent_index);
  c.answered = true;
  c.agent = agent_index;
  ++agent.load;
  ++agent.figures.contacts_handled;
  last_agent_[c.customer_id] = agent_index;
  std::vector<std::string>& recent = recent_customers_[c.stream];
  if (c.previous_agent < 0) {
    if (recent.size() < kRecentCustomers) {
      recent.push_back(c.customer_id);
    } else {
      recent[contacts_.size() % kRecentCustomers] = c.customer_id;
    }
  }
  if (c.reported) {
    const double wait = now_ - c.arrived;
    const AgentGroup& group = scenario_.agent_groups[agent.group];
    int level = 0;
    for (const AgentSkill& skill : group.skills) {
      if (skill.skill == s.skill) level = skill.level;
    }
    bool speaks_first = c.language.empty();
    for (const AgentLanguage& l : group.languages) {
      speaks_first = speaks_first || l.language == c.language;
    }
    for (ServiceFigures* f :
         {&overall_, &stream_figures_[c.stream], IntervalService(c.arrived)}) {
      if (f == nullptr) continue;
      ++f->answered;
      if (wait <= scenario_.service_level_seconds) {
        ++f->answered_within_threshold;
      }
      if (wait > 0) ++f->waited;
      f->total_answer_wait_seconds += wait;
      f->max_answer_wait_seconds = std::max(f->max_answer_wait_seconds, wait);
      if (level >= s.target_level) ++f->skill_matched;
      if (speaks_first) ++f->language_matched;
      if (c.previous_agent >= 0) {
        ++f->returning_answered;
        if (c.previous_agent == agent_index) ++f->previous_agent_hit;
      }
    }
  }
  double handle = 0;
  if (s.handle.distribution == HandleTime::Distribution::kExponential) {
    std::exponential_distribution<double> d(1.0 / s.handle.mean_seconds);
    handle = d(handle_rng_);
  } else {
    const double mu =
        std::log(s.handle.mean_seconds) - s.handle.sigma * s.handle.sigma / 2;
    std::lognormal_distribution<double> d(mu, s.handle.sigma);
    handle = d(handle_rng_);
  }
  Schedule(now_ + handle, EventKind::kHandleEnd, contact_index);
}

void Simulation::EndHandling(int contact_index) {
  SimContact& c = contacts_[contact_index];
  const int agent_index = c.agent;
  SimAgent& agent = agents_[agent_index];
  const AgentGroup& group = scenario_.agent_groups[agent.group];
  Account(agent_index);
  c.finished = true;
  --agent.load;
  // Wrap-up first, so the freed capacity is not offered at once.
  if (scenario_.streams[c.stream].channel == Channel::kVoice &&
      group.after_call_work_seconds > 0 && agent.load == 0) {
    agent.in_acw = true;
    SyncAgentState(agent_index);
    Schedule(now_ + group.after_call_work_seconds, EventKind::kAcwEnd,
             agent_index);
  }
  const absl::Status released = Timed([&] {
    return router_->Release(absl::StrCat("c", contact_index),
                            ContactOutcome::kResolved);
  });
  if (!released.ok()) {
    Fail(absl::InternalError(
        absl::StrCat("releasing c", contact_index, ": ", released.message())));
    return;
  }
  SyncAgentState(agent_index);
}

void Simulation::Abandon(int contact_index) {
  SimContact& c = contacts_[contact_index];
  if (c.answered || c.abandoned) return;
  c.abandoned = true;
  const absl::Status cancelled =
      Timed([&] { return router_->Cancel(absl::StrCat("c", contact_index)); });
  if (!cancelled.ok()) {
    Fail(absl::InternalError(absl::StrCat("cancelling c", contact_index, ": ",
                                          cancelled.message())));
    return;
  }
  if (!c.reported) return;
  for (ServiceFigures* f :
       {&overall_, &stream_figures_[c.stream], IntervalService(c.arrived)}) {
    if (f == nullptr) continue;
    ++f->abandoned;
    ++f->waited;
  }
}

void Simulation::SyncAgentState(int agent_index) {
  SimAgent& agent = agents_[agent_index];
  AgentState wanted;
  if (!agent.on_shift) {
    // Finishing the last contact after the shift: not routable meanwhile.
    wanted = agent.load > 0 || agent.in_acw ? AgentState::kBusy
                                            : AgentState::kLoggedOut;
  } else if (agent.on_break) {
    wanted = AgentState::kBreak;
  } else if (agent.in_acw) {
    wanted = AgentState::kAfterCallWork;
  } else {
    wanted = AgentState::kAvailable;
  }
  if (wanted == agent.router_state) return;
  agent.router_state = wanted;
  const absl::Status set =
      Timed([&] { return router_->SetAgentState(agent.id, wanted); });
  if (!set.ok()) {
    Fail(absl::InternalError(absl::StrCat("setting ", agent.id, " ",
                                          std::string(AgentStateName(wanted)),
                                          ": ", set.message())));
  }
}

void Simulation::Account(int agent_index) {
  SimAgent& agent = agents_[agent_index];
  const double from = agent.accounted_until;
  const double to = std::min(now_, End());
  agent.accounted_until = now_;
  if (to <= from) return;
  const bool busy = agent.load > 0 || agent.in_acw;
  const bool on_duty = (agent.on_shift && !agent.on_break) || busy;
  if (!on_duty) return;
  double at = from;
  while (at < to) {
    const int i = IntervalOf(at);
    const double interval_end = Start() + (i + 1) * interval_seconds_;
    const double until = std::min(to, interval_end);
    const double span = until - at;
    if (at >= ReportFrom()) {
      if (i < static_cast<int>(intervals_.size())) {
        interval_duty_seconds_[i] += span;
        if (busy) interval_busy_seconds_[i] += span;
      }
      agent.figures.on_duty_hours += span / kSecondsPerHour;
      if (busy) agent.figures.busy_hours += span / kSecondsPerHour;
    }
    at = until;
  }
}

absl::StatusOr<SimulationReport> Simulation::Run() {
  const auto wall_started = std::chrono::steady_clock::now();
  if (absl::Status set_up = SetUp(); !set_up.ok()) return set_up;
  while (!events_.empty() && error_.ok()) {
    const Event event = events_.top();
    events_.pop();
    SetClock(event.at);
    const int n = event.subject;
    switch (event.kind) {
      case EventKind::kArrival:
        Arrive(n);
        break;
      case EventKind::kHandleEnd:
        EndHandling(n);
        break;
      case EventKind::kAbandon:
        Abandon(n);
        break;
      case EventKind::kAcwEnd:
        Account(n);
        agents_[n].in_acw = false;
        SyncAgentState(n);
        break;
      case EventKind::kShiftStart:
        Account(n);
        agents_[n].on_shift = true;
        SyncAgentState(n);
        break;
      case EventKind::kShiftEnd:
        Account(n);
        agents_[n].on_shift = false;
        agents_[n].on_break = false;
        SyncAgentState(n);
        break;
      case EventKind::kBreakStart:
        if (!agents_[n].on_shift) break;
        Account(n);
        agents_[n].on_break = true;
        SyncAgentState(n);
        break;
      case EventKind::kBreakEnd:
        Account(n);
        agents_[n].on_break = false;
        SyncAgentState(n);
        break;
      case EventKind::kRulesStep:
        Timed([&] { return router_->AdvanceQueues(); });
        Schedule(now_ + scenario_.rules_step_seconds, EventKind::kRulesStep, 0);
        break;
    }
  }
  if (!error_.ok()) return error_;
  SetClock(End());
  for (size_t a = 0; a < agents_.size(); ++a) Account(static_cast<int>(a));
  for (const SimContact& c : contacts_) {
    if (!c.reported || c.abandoned || c.answered) continue;
    for (ServiceFigures* f :
         {&overall_, &stream_figures_[c.stream], IntervalService(c.arrived)}) {
      if (f != nullptr) ++f->unfinished;
    }
  }
  const double wall = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - wall_started)
                          .count();
  return BuildReport(wall);
}

SimulationReport Simulation::BuildReport(double wall_seconds) {
  SimulationReport report;
  report.scenario = scenario_.name;
  report.rules =
      options_.rules_file.empty() ? "built-in policy" : options_.rules_file;
  report.seed = scenario_.seed;
  report.simulated_hours =
      scenario_.end_hour - scenario_.start_hour - scenario_.warmup_hours;
  report.service_level_seconds = scenario_.service_level_seconds;
  report.overall = overall_;
  for (size_t s = 0; s < scenario_.streams.size(); ++s) {
    report.streams.push_back({scenario_.streams[s].name, stream_figures_[s]});
  }
  std::vector<double> occupancies;
  for (const SimAgent& agent : agents_) {
    report.agents.push_back(agent.figures);
    if (agent.figures.on_duty_hours > 0) {
      occupancies.push_back(agent.figures.Occupancy());
    }
  }
  if (!occupancies.empty()) {
    double sum = 0;
    for (double o : occupancies) sum += o;
    report.occupancy_mean = sum / occupancies.size();
    double squares = 0;
    for (double o : occupancies) {
      squares += (o - report.occupancy_mean) * (o - report.occupancy_mean);
    }
    report.occupancy_stddev = std::sqrt(squares / occupancies.size());
    report.occupancy_min =
        *std::min_element(occupancies.begin(), occupancies.end());
    report.occupancy_max =
        *std::max_element(occupancies.begin(), occupancies.end());
  }
  for (size_t i = 0; i < intervals_.size(); ++i) {
    IntervalFigures interval = intervals_[i];
    const double duty = interval_duty_seconds_[i];
    interval.occupancy = duty > 0 ? interval_busy_seconds_[i] / duty : 0;
    interval.agents_on_duty = duty / interval_seconds_;
    report.intervals.push_back(interval);
  }
  const RouterStats stats = router_->Stats();
  // Route calls plus assignments made from the queues as agents freed up.
  report.router_decisions = stats.decisions + stats.assigned_from_queue;
  report.rules_fallbacks = stats.rules_fallbacks;
  report.router_decisions_per_second =
      router_seconds_ > 0 ? report.router_decisions / router_seconds_ : 0;
  report.wall_seconds = wall_seconds;
  return report;
}

}  // namespace

absl::StatusOr<SimulationReport> Simulate(const Scenario& scenario,
                                          const SimulationOptions& options) {
  Simulation simulation(scenario, options);
  return simulation.Run();
}

}  // namespace routing::simulator
