// The reference model: every operation is a direct transcription of the
// routing semantics (see reference_router.h), over ordered containers, with
// nothing precomputed that could go stale.
#include "tests/routing/reference_router.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace routing::testing {

namespace {

// Limits the router's contract states for what callers hand in.
constexpr size_t kMaxIdBytes = 256;
constexpr size_t kMaxListEntries = 64;
constexpr size_t kMaxAgentSkills = 4 * kMaxListEntries;
constexpr size_t kMaxAttributes = 256;
constexpr size_t kMaxAttributeValueBytes = 64 * 1024;
constexpr absl::Duration kMaxClaimedWait = absl::Hours(24 * 30);
constexpr absl::Duration kMaxEnqueueClockSkew = absl::Seconds(5);
constexpr int kMaxCapacity = kMaxChannelCapacity;
// A later language choice is worth this much less than the one before.
constexpr double kLanguagePreferenceStep = 0.2;
constexpr int64_t kNanosPerMilli = 1'000'000;
constexpr int64_t kNanosPerSecond = 1'000'000'000;

bool BadName(std::string_view name) {
  return name.empty() || name.size() > kMaxIdBytes;
}

absl::Status Invalid(std::string_view what) {
  return absl::InvalidArgumentError(std::string(what));
}

double Clamp01(double v) { return std::min(1.0, std::max(0.0, v)); }

// floor(ns / 1e6), saturated to int64.
int64_t FloorMillis(__int128 ns) {
  __int128 ms = ns / kNanosPerMilli;
  if (ns % kNanosPerMilli != 0 && ns < 0) --ms;
  if (ms > std::numeric_limits<int64_t>::max()) {
    return std::numeric_limits<int64_t>::max();
  }
  if (ms < std::numeric_limits<int64_t>::min()) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(ms);
}

double WaitedSeconds(int64_t now, int64_t enqueue_ns) {
  return std::max<double>(0, static_cast<double>(now - enqueue_ns)) / 1e9;
}

absl::Status CheckSkillList(const std::vector<SkillRequirement>& list,
                            int max_level) {
  std::set<std::string_view> seen;
  for (const SkillRequirement& r : list) {
    if (BadName(r.skill)) return Invalid("bad skill name");
    if (r.min_level < 1 || r.min_level > max_level) {
      return Invalid(absl::StrCat("skill ", r.skill, " level out of range"));
    }
    if (!seen.insert(r.skill).second) return Invalid("skill listed twice");
  }
  return absl::OkStatus();
}

absl::Status CheckAttributes(
    const absl::flat_hash_map<std::string, std::string>& attributes) {
  if (attributes.size() > kMaxAttributes) return Invalid("too many attributes");
  for (const auto& [key, value] : attributes) {
    if (BadName(key)) return Invalid("bad attribute name");
    if (value.size() > kMaxAttributeValueBytes) {
      return Invalid("attribute value too long");
    }
  }
  return absl::OkStatus();
}

std::string QueueOf(const Contact& contact) {
  if (!contact.queue.empty()) return contact.queue;
  if (!contact.required_skills.empty()) {
    return contact.required_skills.front().skill;
  }
  return "default";
}

bool Lists(const std::vector<std::string>& ids, std::string_view id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

int ReferenceRouter::Agent::TotalLoad() const {
  int total = 0;
  for (int l : load) total += l;
  return total;
}

int ReferenceRouter::Agent::Level(std::string_view skill) const {
  for (const AgentSkill& s : profile.skills) {
    if (s.skill == skill) return s.level;
  }
  return 0;
}

int ReferenceRouter::Agent::Fluency(std::string_view language) const {
  for (const AgentLanguage& l : profile.languages) {
    if (l.language == language) return l.fluency;
  }
  return 0;
}

ReferenceRouter::ReferenceRouter(const Clock* clock, Options options)
    : clock_(clock), options_(std::move(options)) {}

int64_t ReferenceRouter::Tick() {
  now_ns_ = std::max(now_ns_, absl::ToUnixNanos(clock_->Now()));
  return now_ns_;
}

ReferenceRouter::Agent* ReferenceRouter::FindPresent(std::string_view id) {
  auto it = agents_.find(id);
  if (it == agents_.end() || !it->second.present) return nullptr;
  return &it->second;
}

// --- Agents ------------------------------------------------------------------

absl::Status ReferenceRouter::CheckProfile(const AgentProfile& p,
                                           const Options& options) {
  if (p.skills.size() > kMaxAgentSkills ||
      p.languages.size() > kMaxListEntries) {
    return Invalid("too many skills or languages");
  }
  std::set<std::string_view> seen;
  for (const AgentSkill& s : p.skills) {
    if (BadName(s.skill)) return Invalid("bad skill name");
    if (s.level < 1 || s.level > options.max_skill_level) {
      return Invalid("skill level out of range");
    }
    if (!seen.insert(s.skill).second) return Invalid("skill listed twice");
  }
  seen.clear();
  for (const AgentLanguage& l : p.languages) {
    if (BadName(l.language)) return Invalid("bad language");
    if (l.fluency < 1 || l.fluency > options.max_fluency) {
      return Invalid("fluency out of range");
    }
    if (!seen.insert(l.language).second) return Invalid("language twice");
  }
  int total = 0;
  for (int c : p.capacity) {
    if (c < 0 || c > kMaxCapacity) return Invalid("capacity out of range");
    total += c;
  }
  if (total == 0) return Invalid("no capacity on any channel");
  if (p.max_total_contacts < 0 || p.max_total_contacts > total) {
    return Invalid("max_total_contacts out of range");
  }
  return CheckAttributes(p.attributes);
}

void ReferenceRouter::Intern(const AgentProfile& profile) {
  for (const AgentSkill& s : profile.skills) known_skills_.insert(s.skill);
  for (const AgentLanguage& l : profile.languages) {
    known_languages_.insert(l.language);
  }
}

absl::Status ReferenceRouter::AddAgent(const AgentProfile& profile) {
  const int64_t now = Tick();
  // Malformed input is refused whatever the roster holds.
  if (BadName(profile.id)) return Invalid("bad agent id");
  if (absl::Status s = CheckProfile(profile, options_); !s.ok()) return s;
  if (FindPresent(profile.id) != nullptr) {
    return absl::AlreadyExistsError(profile.id);
  }
  Agent& agent = agents_[profile.id];
  if (agent.index < 0) agent.index = next_index_++;
  const int index = agent.index;
  agent = Agent();
  agent.index = index;
  agent.present = true;
  agent.profile = profile;
  agent.idle_since_ns = now;
  Intern(profile);
  return absl::OkStatus();
}

absl::Status ReferenceRouter::UpdateAgent(const AgentProfile& profile) {
  const int64_t now = Tick();
  if (BadName(profile.id)) return Invalid("bad agent id");
  if (absl::Status s = CheckProfile(profile, options_); !s.ok()) return s;
  Agent* agent = FindPresent(profile.id);
  if (agent == nullptr) return absl::NotFoundError(profile.id);
  agent->profile = profile;
  Intern(profile);
  Drain(agent, now);
  return absl::OkStatus();
}

absl::Status ReferenceRouter::RemoveAgent(std::string_view agent_id) {
  Tick();
  if (BadName(agent_id)) return Invalid("bad agent id");
  Agent* agent = FindPresent(agent_id);
  if (agent == nullptr) return absl::NotFoundError(std::string(agent_id));
  if (agent->TotalLoad() > 0) {
    return absl::FailedPreconditionError("agent holds contacts");
  }
  agent->present = false;
  return absl::OkStatus();
}

absl::Status ReferenceRouter::SetAgentState(std::string_view agent_id,
                                            AgentState state) {
  const int64_t now = Tick();
  if (BadName(agent_id)) return Invalid("bad agent id");
  const int number = static_cast<int>(state);
  if (number < 0 || number >= kAgentStateCount) return Invalid("bad state");
  Agent* agent = FindPresent(agent_id);
  if (agent == nullptr) return absl::NotFoundError(std::string(agent_id));
  // Model's choice: setting the state an agent already has changes nothing
  // (no new session, no idle time, no drain: its capacity did not change).
  if (agent->state == state) return absl::OkStatus();
  if (agent->state == AgentState::kLoggedOut) {
    agent->login_ns = now;  // A new session: occupancy is measured over it.
    agent->handled_ns = 0;
  }
  agent->state = state;
  if (state == AgentState::kAvailable && agent->TotalLoad() == 0) {
    agent->idle_since_ns = std::max(agent->idle_since_ns, now);
  }
  if (state == AgentState::kAvailable) Drain(agent, now);
  return absl::OkStatus();
}

// --- Contacts ----------------------------------------------------------------

// The contact as given, whatever a rules step later makes of it: a level out
// of range is malformed even if the step in force replaces that skill.
absl::Status ReferenceRouter::CheckContact(const Contact& c,
                                           int64_t enqueue_ns) const {
  if (BadName(c.id)) return Invalid("bad contact id");
  const int channel = static_cast<int>(c.channel);
  if (channel < 0 || channel >= kChannelCount) return Invalid("bad channel");
  if (c.priority < 0 || c.priority > kMaxPriority) return Invalid("priority");
  if (c.required_skills.size() > kMaxListEntries ||
      c.desired_skills.size() > kMaxListEntries ||
      c.languages.size() > kMaxListEntries ||
      c.preferred_agents.size() > kMaxListEntries ||
      c.excluded_agents.size() > kMaxListEntries) {
    return Invalid("list too long");
  }
  if (c.customer_id.size() > kMaxIdBytes) return Invalid("customer id");
  if (absl::Status s = CheckAttributes(c.attributes); !s.ok()) return s;
  if (enqueue_ns > now_ns_ + absl::ToInt64Nanoseconds(kMaxEnqueueClockSkew)) {
    return Invalid("enqueue time too far in the future");
  }
  if (absl::Nanoseconds(now_ns_ - enqueue_ns) > kMaxClaimedWait) {
    return Invalid("claims to have waited too long");
  }
  if (absl::Status s =
          CheckSkillList(c.required_skills, options_.max_skill_level);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          CheckSkillList(c.desired_skills, options_.max_skill_level);
      !s.ok()) {
    return s;
  }
  for (const std::string& l : c.languages) {
    if (BadName(l)) return Invalid("bad language");
  }
  for (const std::string& a : c.preferred_agents) {
    if (BadName(a)) return Invalid("bad preferred agent id");
  }
  for (const std::string& a : c.excluded_agents) {
    if (BadName(a)) return Invalid("bad excluded agent id");
  }
  if (BadName(QueueOf(c))) return Invalid("bad queue name");
  return absl::OkStatus();
}

absl::Status ReferenceRouter::Plan(Held* h, int64_t now) const {
  const Contact& c = h->contact;
  const double waited = WaitedSeconds(now, h->enqueue_ns);
  std::vector<SkillRequirement> required = c.required_skills;
  bool drop_languages = false;
  h->priority = c.priority;
  h->priority_step_ns = absl::ToInt64Nanoseconds(options_.policy.priority_step);
  h->rules_step = 0;
  h->has_next_step = false;
  h->next_step_ns = 0;
  if (rules_ != nullptr) {
    const std::vector<ReferenceRulesStep>& steps = rules_->steps;
    // A step applies from `after` seconds of waiting on.
    size_t reached = 0;
    while (reached < steps.size() && steps[reached].after_seconds <= waited) {
      ++reached;
    }
    h->rules_step = static_cast<int>(reached);
    if (reached < steps.size()) {
      h->has_next_step = true;
      h->next_step_ns =
          h->enqueue_ns + static_cast<int64_t>(std::llround(
                              steps[reached].after_seconds * kNanosPerSecond));
    }
    if (reached > 0) {
      const ReferenceRulesStep& step = steps[reached - 1];
      if (step.replace_skills) required = step.skills;
      if (step.min_level > 0) {
        for (SkillRequirement& r : required) {
          r.min_level = std::min(r.min_level, step.min_level);
        }
      }
      drop_languages = step.drop_languages;
    }
    if (rules_->priority) {
      const double p = rules_->priority(c.priority, waited);
      h->priority = static_cast<int>(
          std::floor(std::min<double>(kMaxPriority, std::max(0.0, p))));
    }
    if (rules_->priority_step_seconds > 0) {
      h->priority_step_ns = static_cast<int64_t>(
          std::llround(rules_->priority_step_seconds * kNanosPerSecond));
    }
  }
  for (const SkillRequirement& r : required) {
    if (!known_skills_.contains(r.skill)) {
      return absl::NotFoundError(absl::StrCat("no agent has skill ", r.skill));
    }
  }
  h->required = std::move(required);
  h->languages.clear();
  if (!drop_languages) {
    // Matched by name whenever a decision is made: a language nobody speaks
    // is ignored because nobody matches it. Refused only if no agent has ever
    // spoken any of them.
    h->languages = c.languages;
    if (std::none_of(c.languages.begin(), c.languages.end(),
                     [&](const std::string& l) {
                       return known_languages_.contains(l);
                     }) &&
        !c.languages.empty()) {
      return absl::NotFoundError("no agent speaks the contact's languages");
    }
  }
  return absl::OkStatus();
}

void ReferenceRouter::Place(Held* h) {
  h->state = HeldState::kQueued;
  h->agent.clear();
  h->seq = ++next_seq_;
  h->aged_ms =
      FloorMillis(static_cast<__int128>(h->enqueue_ns) -
                  static_cast<__int128>(h->priority) * h->priority_step_ns);
}

bool ReferenceRouter::Qualified(const Agent& a, const Held& h) const {
  if (!a.present) return false;
  if (a.profile.CapacityOf(h.contact.channel) == 0) return false;
  for (const SkillRequirement& r : h.required) {
    if (a.Level(r.skill) < r.min_level) return false;
  }
  if (!h.languages.empty() &&
      std::none_of(h.languages.begin(), h.languages.end(),
                   [&](const std::string& l) { return a.Fluency(l) > 0; })) {
    return false;
  }
  return !h.excluded.contains(a.profile.id);
}

bool ReferenceRouter::BuiltInEligible(const Agent& a, const Held& h) const {
  if (!Qualified(a, h) || a.state != AgentState::kAvailable) return false;
  if (a.load[ChannelIndex(h.contact.channel)] >=
      a.profile.CapacityOf(h.contact.channel)) {
    return false;
  }
  if (options_.mutation == Mutation::kIgnoreMaxTotal) return true;
  return a.profile.max_total_contacts == 0 ||
         a.TotalLoad() < a.profile.max_total_contacts;
}

bool ReferenceRouter::Eligible(const Agent& a, const Held& h,
                               int64_t now) const {
  if (!BuiltInEligible(a, h)) return false;
  if (rules_ != nullptr && rules_->eligible) {
    return rules_->eligible(WaitedSeconds(now, h.enqueue_ns), a.profile);
  }
  return true;
}

double ReferenceRouter::Score(const Agent& a, const Held& h, int64_t now,
                              Components* components,
                              std::string* explain) const {
  const RoutingPolicy& policy = options_.policy;
  const ScoringWeights& w = policy.weights;
  const double max_level = options_.max_skill_level;
  const double max_fluency = options_.max_fluency;

  double skill = 1.0;
  const std::vector<SkillRequirement>& desired = h.contact.desired_skills;
  const size_t terms = h.required.size() + desired.size();
  if (terms > 0) {
    double sum = 0;
    for (const SkillRequirement& r : h.required) {
      sum += a.Level(r.skill) / max_level;
    }
    for (const SkillRequirement& r : desired) {
      const int level = a.Level(r.skill);
      if (level >= r.min_level) sum += level / max_level;
    }
    skill = Clamp01(sum / terms);
  }

  double affinity = 0;
  if (Lists(h.contact.preferred_agents, a.profile.id)) {
    affinity = policy.preferred_agent_affinity;
  } else if (auto it = history_.find(h.contact.customer_id);
             !h.contact.customer_id.empty() && it != history_.end()) {
    for (const Interaction& i : it->second) {  // Newest first.
      if (i.agent_index != a.index) continue;
      double base = i.outcome == ContactOutcome::kResolved
                        ? policy.resolved_affinity
                        : policy.served_affinity;
      if (i.outcome == ContactOutcome::kTransferred) base = 0;
      const double age_ns = std::max<double>(
          0, static_cast<double>(now - i.seconds * kNanosPerSecond));
      affinity = base * std::exp2(-age_ns / absl::ToDoubleNanoseconds(
                                                policy.affinity_half_life));
      break;
    }
  }

  double language = 1.0;
  if (!h.languages.empty()) {
    double best = 0;
    for (size_t rank = 0; rank < h.languages.size(); ++rank) {
      const int fluency = a.Fluency(h.languages[rank]);
      if (fluency == 0) continue;
      // The customer's first choice counts fully, each later one 0.2 less.
      const int r = options_.mutation == Mutation::kNoLanguageRank
                        ? 0
                        : static_cast<int>(rank);
      best =
          std::max(best, (fluency / max_fluency) *
                             std::max(0.0, 1.0 - kLanguagePreferenceStep * r));
    }
    language = Clamp01(best);
  }

  int channels_total = 0;
  for (int c : a.profile.capacity) channels_total += c;
  const int total_capacity = a.profile.max_total_contacts > 0
                                 ? a.profile.max_total_contacts
                                 : channels_total;
  const double load =
      options_.mutation == Mutation::kNoLoadScore ? 0
      : total_capacity > 0
          ? Clamp01(1.0 - static_cast<double>(a.TotalLoad()) / total_capacity)
          : 0;

  double occupied = 0;
  if (a.login_ns != 0 && now - a.login_ns > 0) {
    occupied = Clamp01(static_cast<double>(a.handled_ns) / (now - a.login_ns));
  }
  const double occupancy = 1.0 - occupied;

  double idle = 0;
  if (a.TotalLoad() == 0) {
    idle = Clamp01(static_cast<double>(now - a.idle_since_ns) /
                   absl::ToDoubleNanoseconds(policy.idle_saturation));
  }

  const double total = w.skill * skill + w.affinity * affinity +
                       w.language * language + w.load * load +
                       w.occupancy * occupancy + w.idle * idle;
  if (components != nullptr) {
    *components = {skill, affinity, language, load, occupancy, idle};
  }
  if (explain != nullptr) {
    *explain = absl::StrFormat(
        "%s=%.17g (skill %.6g affinity %.6g language %.6g load %.6g "
        "occupancy %.6g idle %.6g; idle since %s, index %d)",
        a.profile.id, total, skill, affinity, language, load, occupancy, idle,
        absl::FormatTime(absl::FromUnixNanos(a.idle_since_ns)), a.index);
  }
  return total;
}

ReferenceRouter::Agent* ReferenceRouter::PickAgent(
    const Held& h, int64_t now, const std::optional<std::string>& hint) {
  struct Candidate {
    Agent* agent;
    Components components;
    double score;
    int64_t idle_since;  // Busy agents: now (no idle seniority).
  };
  std::vector<Candidate> candidates;
  last_choice_ = absl::StrCat("candidates for ", h.contact.id, ":");
  for (auto& [id, agent] : agents_) {
    if (!Eligible(agent, h, now)) continue;
    std::string explain;
    Components components;
    const double score = Score(agent, h, now, &components, &explain);
    candidates.push_back({&agent, components, score,
                          agent.TotalLoad() == 0 ? agent.idle_since_ns : now});
    absl::StrAppend(&last_choice_, "\n        ", explain);
  }
  if (candidates.empty()) return nullptr;
  const bool newest = options_.mutation == Mutation::kHighestIndexWinsTies;
  auto better = [&](const Candidate& x, const Candidate& y) {
    if (x.score != y.score) return x.score > y.score;
    if (x.idle_since != y.idle_since) return x.idle_since < y.idle_since;
    return (x.agent->index < y.agent->index) != newest;
  };
  const Candidate* best = &candidates.front();
  for (const Candidate& c : candidates) {
    if (better(c, *best)) best = &c;
  }
  if (hint.has_value() && *hint != best->agent->profile.id) {
    for (const Candidate& c : candidates) {
      // Equal components make equal scores in any order of summation: then
      // the tie-break decides, and the router must have applied it too.
      if (c.agent->profile.id == *hint && c.components != best->components &&
          std::abs(best->score - c.score) <= kScoreTolerance) {
        ++near_ties_followed_;
        return c.agent;
      }
    }
  }
  return best->agent;
}

std::optional<std::string> ReferenceRouter::ObservedAgentFor(
    const std::string& contact) {
  const size_t next = assignments_.size();
  if (next < observed_.assignments.size() &&
      observed_.assignments[next].first == contact) {
    return observed_.assignments[next].second;
  }
  return std::nullopt;
}

void ReferenceRouter::Assign(Held* h, Agent* agent, int64_t now, bool report) {
  ++agent->load[ChannelIndex(h->contact.channel)];
  h->state = HeldState::kAssigned;
  h->agent = agent->profile.id;
  h->assigned_ns = now;
  if (report) assignments_.emplace_back(h->contact.id, agent->profile.id);
}

void ReferenceRouter::EndAssignment(const Held& h, int64_t now) {
  Agent& agent = agents_.find(h.agent)->second;
  if (now > h.assigned_ns) agent.handled_ns += now - h.assigned_ns;
  --agent.load[ChannelIndex(h.contact.channel)];
  if (agent.TotalLoad() == 0) {
    agent.idle_since_ns = std::max(agent.idle_since_ns, now);
  }
}

void ReferenceRouter::Drain(Agent* agent, int64_t now) {
  const bool newest = options_.mutation == Mutation::kDrainNewestFirst;
  while (agent->present && agent->state == AgentState::kAvailable) {
    Held* next = nullptr;
    for (auto& [id, h] : held_) {
      if (h.state != HeldState::kQueued || !Eligible(*agent, h, now)) continue;
      if (next == nullptr) {
        next = &h;
        continue;
      }
      const bool earlier =
          std::tie(h.aged_ms, h.seq) < std::tie(next->aged_ms, next->seq);
      if (earlier != newest) next = &h;
    }
    if (next == nullptr) return;
    Assign(next, agent, now, /*report=*/true);
  }
}

std::vector<ReferenceRouter::Held*> ReferenceRouter::QueuedInServiceOrder() {
  std::vector<Held*> queued;
  for (auto& [id, h] : held_) {
    if (h.state == HeldState::kQueued) queued.push_back(&h);
  }
  std::sort(queued.begin(), queued.end(), [](const Held* x, const Held* y) {
    return std::tie(x->aged_ms, x->seq) < std::tie(y->aged_ms, y->seq);
  });
  return queued;
}

void ReferenceRouter::AssignWaiting(int64_t now) {
  for (Held* h : QueuedInServiceOrder()) {
    Agent* agent = PickAgent(*h, now, ObservedAgentFor(h->contact.id));
    if (agent != nullptr) Assign(h, agent, now, /*report=*/true);
  }
}

int ReferenceRouter::QueuePosition(const Held& h) const {
  int ahead = 0;
  for (const auto& [id, other] : held_) {
    if (other.state == HeldState::kQueued &&
        other.contact.queue == h.contact.queue &&
        std::tie(other.aged_ms, other.seq) < std::tie(h.aged_ms, h.seq)) {
      ++ahead;
    }
  }
  return ahead + 1;
}

RoutingDecision ReferenceRouter::Assigned(const Held& h) const {
  RoutingDecision d;
  d.contact_id = h.contact.id;
  d.outcome = DecisionOutcome::kAssigned;
  d.queue = h.contact.queue;
  d.channel = h.contact.channel;
  d.agent_id = h.agent;
  d.rules_step = h.rules_step;
  return d;
}

RoutingDecision ReferenceRouter::Queued(const Held& h) const {
  RoutingDecision d;
  d.contact_id = h.contact.id;
  d.outcome = DecisionOutcome::kQueued;
  d.queue = h.contact.queue;
  d.channel = h.contact.channel;
  d.queue_position = QueuePosition(h);
  d.rules_step = h.rules_step;
  return d;
}

absl::StatusOr<RoutingDecision> ReferenceRouter::Route(const Contact& contact) {
  const int64_t now = Tick();
  int64_t enqueue_ns = contact.enqueue_time == absl::InfinitePast()
                           ? now
                           : absl::ToUnixNanos(contact.enqueue_time);
  // Precedence as router.h states it: malformed input, what the roster does
  // not know, then a held id.
  if (absl::Status s = CheckContact(contact, enqueue_ns); !s.ok()) return s;
  // A host clock slightly ahead: the contact starts waiting now.
  enqueue_ns = std::min(enqueue_ns, now);
  Held h;
  h.contact = contact;
  h.contact.queue = QueueOf(contact);
  h.contact.enqueue_time = absl::FromUnixNanos(enqueue_ns);
  h.enqueue_ns = enqueue_ns;
  h.excluded.insert(contact.excluded_agents.begin(),
                    contact.excluded_agents.end());
  if (absl::Status s = Plan(&h, now); !s.ok()) return s;
  if (held_.contains(contact.id)) return absl::AlreadyExistsError(contact.id);

  if (Agent* agent = PickAgent(h, now, observed_.decision_agent)) {
    Held& held = held_[contact.id] = std::move(h);
    Assign(&held, agent, now, /*report=*/false);
    return Assigned(held);
  }
  // Refused only if it would wait forever: nobody on the roster could ever
  // take it, and no later rules step may relax what it asks.
  const bool anyone =
      std::any_of(agents_.begin(), agents_.end(),
                  [&](const auto& a) { return Qualified(a.second, h); });
  if (!anyone && !h.has_next_step) {
    return absl::FailedPreconditionError("no agent can serve the contact");
  }
  Held& held = held_[contact.id] = std::move(h);
  Place(&held);
  return Queued(held);
}

absl::Status ReferenceRouter::Cancel(std::string_view contact_id) {
  const int64_t now = Tick();
  // An id no contact can have is malformed, not merely unknown.
  if (BadName(contact_id)) return Invalid("bad contact id");
  auto it = held_.find(contact_id);
  if (it == held_.end()) return absl::NotFoundError(std::string(contact_id));
  const Held h = std::move(it->second);
  held_.erase(it);
  if (h.state == HeldState::kAssigned) {
    EndAssignment(h, now);
    Drain(&agents_.find(h.agent)->second, now);
  }
  return absl::OkStatus();
}

absl::Status ReferenceRouter::Release(std::string_view contact_id,
                                      ContactOutcome outcome) {
  const int64_t now = Tick();
  const int number = static_cast<int>(outcome);
  if (number < 0 || number >= kContactOutcomeCount) return Invalid("outcome");
  if (BadName(contact_id)) return Invalid("bad contact id");
  auto it = held_.find(contact_id);
  if (it == held_.end()) return absl::NotFoundError(std::string(contact_id));
  if (it->second.state != HeldState::kAssigned) {
    return absl::FailedPreconditionError("contact still queued");
  }
  const Held h = std::move(it->second);
  held_.erase(it);
  Agent& agent = agents_.find(h.agent)->second;
  ++agent.handled_count;
  if (!h.contact.customer_id.empty()) {
    std::vector<Interaction>& past = history_[h.contact.customer_id];
    past.insert(past.begin(), {agent.index, outcome, now / kNanosPerSecond});
    if (static_cast<int>(past.size()) > options_.history_depth) {
      past.resize(options_.history_depth);
    }
  }
  EndAssignment(h, now);
  Drain(&agent, now);
  return absl::OkStatus();
}

absl::StatusOr<RoutingDecision> ReferenceRouter::Requeue(
    const Contact& contact) {
  const int64_t now = Tick();
  if (BadName(contact.id)) return Invalid("bad contact id");
  auto it = held_.find(contact.id);
  if (it == held_.end()) return absl::NotFoundError(contact.id);
  const Held& current = it->second;
  Contact next = contact;
  next.enqueue_time = current.contact.enqueue_time;
  if (next.customer_id.empty()) next.customer_id = current.contact.customer_id;
  if (next.attributes.empty()) next.attributes = current.contact.attributes;
  if (absl::Status s = CheckContact(next, current.enqueue_ns); !s.ok()) {
    return s;
  }
  const bool from_agent = current.state == HeldState::kAssigned;
  Held h;
  h.contact = next;
  h.contact.queue = QueueOf(next);
  // Taken from an agent it starts waiting now; moved between queues it keeps
  // its enqueue time. Either way it is planned afresh at that wait.
  h.enqueue_ns = from_agent ? now : current.enqueue_ns;
  h.contact.enqueue_time = absl::FromUnixNanos(h.enqueue_ns);
  h.excluded.insert(next.excluded_agents.begin(), next.excluded_agents.end());
  if (from_agent) h.excluded.insert(current.agent);
  if (absl::Status s = Plan(&h, now); !s.ok()) return s;
  const bool anyone =
      std::any_of(agents_.begin(), agents_.end(),
                  [&](const auto& a) { return Qualified(a.second, h); });
  if (!anyone && !h.has_next_step) {
    return absl::FailedPreconditionError("no agent can serve the contact");
  }

  // Committed: take it from where it was.
  const Held previous = std::move(it->second);
  held_.erase(it);
  if (from_agent) {
    Agent& agent = agents_.find(previous.agent)->second;
    if (!previous.contact.customer_id.empty()) {
      std::vector<Interaction>& past = history_[previous.contact.customer_id];
      past.insert(past.begin(), {agent.index, ContactOutcome::kTransferred,
                                 now / kNanosPerSecond});
      if (static_cast<int>(past.size()) > options_.history_depth) {
        past.resize(options_.history_depth);
      }
    }
    EndAssignment(previous, now);
    Drain(&agent, now);
  }
  if (Agent* agent = PickAgent(h, now, observed_.decision_agent)) {
    Held& held = held_[contact.id] = std::move(h);
    Assign(&held, agent, now, /*report=*/false);
    return Assigned(held);
  }
  Held& held = held_[contact.id] = std::move(h);
  Place(&held);
  return Queued(held);
}

uint64_t ReferenceRouter::SetRules(
    std::shared_ptr<const ReferenceRules> rules) {
  const int64_t now = Tick();
  rules_ = std::move(rules);
  ++rules_versions_;
  AssignWaiting(now);
  return rules_versions_;
}

int ReferenceRouter::AdvanceQueues() {
  const int64_t now = Tick();
  std::vector<Held*> due;
  for (Held* h : QueuedInServiceOrder()) {
    if (h->has_next_step && h->next_step_ns <= now) due.push_back(h);
  }
  int moved = 0;
  for (Held* h : due) {
    // Re-planned at its wait by now, with the rules in force; its exclusions
    // (including an agent who transferred it away) stay.
    Held planned = *h;
    if (!Plan(&planned, now).ok()) continue;  // Stays as it was.
    *h = std::move(planned);
    Place(h);
    ++moved;
    if (Agent* agent = PickAgent(*h, now, ObservedAgentFor(h->contact.id))) {
      Assign(h, agent, now, /*report=*/true);
    }
  }
  AssignWaiting(now);
  return moved;
}

// --- Queries -----------------------------------------------------------------

std::vector<std::pair<std::string, std::string>>
ReferenceRouter::TakeAssignments() {
  observed_ = Observed();
  return std::exchange(assignments_, {});
}

std::vector<std::string> ReferenceRouter::AgentIds() const {
  std::vector<const Agent*> present;
  for (const auto& [id, agent] : agents_) {
    if (agent.present) present.push_back(&agent);
  }
  std::sort(present.begin(), present.end(),
            [](const Agent* x, const Agent* y) { return x->index < y->index; });
  std::vector<std::string> ids;
  for (const Agent* a : present) ids.push_back(a->profile.id);
  return ids;
}

std::optional<ReferenceRouter::AgentView> ReferenceRouter::GetAgent(
    std::string_view agent_id) const {
  auto it = agents_.find(agent_id);
  if (it == agents_.end() || !it->second.present) return std::nullopt;
  AgentView view;
  view.state = it->second.state;
  view.load = it->second.load;
  view.idle_since = absl::FromUnixNanos(it->second.idle_since_ns);
  view.contacts_handled = it->second.handled_count;
  return view;
}

std::optional<ReferenceRouter::ContactView> ReferenceRouter::GetContact(
    std::string_view contact_id) const {
  auto it = held_.find(contact_id);
  if (it == held_.end()) return std::nullopt;
  ContactView view;
  view.state = it->second.state;
  view.agent_id = it->second.agent;
  view.queue = it->second.contact.queue;
  view.rules_step = it->second.rules_step;
  return view;
}

std::vector<std::string> ReferenceRouter::HeldContacts(HeldState state) const {
  std::vector<std::string> ids;
  for (const auto& [id, h] : held_) {
    if (h.state == state) ids.push_back(id);
  }
  return ids;
}

}  // namespace routing::testing
