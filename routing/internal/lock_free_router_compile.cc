// Construction, validation of what callers hand in, and the compiled forms the
// decision path reads.
#include <algorithm>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "routing/internal/lock_free_router.h"
#include "routing/internal/string_view_compat.h"

namespace routing::internal {

namespace {

// Ids and names longer than this are refused: they are keys, not documents.
constexpr size_t kMaxIdBytes = 256;
// Attribute values carry chatbot context such as a conversation summary.
constexpr size_t kMaxAttributeValueBytes = 64 * 1024;
constexpr size_t kMaxAttributes = 256;
// A contact lists a handful of requirements; more means a bug upstream.
constexpr size_t kMaxListEntries = kMaxRequirements;
// Contacts that claim to have waited longer than this are a clock error.
constexpr absl::Duration kMaxClaimedWait = absl::Hours(24 * 30);

absl::Status CheckName(std::string_view what, std::string_view name) {
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(what), " is empty"));
  }
  if (name.size() > kMaxIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(AsAbsl(what), " '", AsAbsl(name.substr(0, 32)),
                     "...' is longer than ", kMaxIdBytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status CheckAttributes(
    std::string_view owner,
    const absl::flat_hash_map<std::string, std::string>& attributes) {
  if (attributes.size() > kMaxAttributes) {
    return absl::InvalidArgumentError(
        absl::StrCat(AsAbsl(owner), " has ", attributes.size(),
                     " attributes; at most ", kMaxAttributes, " are allowed"));
  }
  for (const auto& [key, value] : attributes) {
    ROUTING_RETURN_IF_ERROR(
        CheckName(absl::StrCat(AsAbsl(owner), " attribute name"), key));
    if (value.size() > kMaxAttributeValueBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          AsAbsl(owner), " attribute '", key, "' is ", value.size(),
          " bytes; at most ", kMaxAttributeValueBytes));
    }
  }
  return absl::OkStatus();
}

// A skill a contact asks for: a well-formed name, a level in range.
absl::Status CheckSkillRequirement(std::string_view contact_id,
                                   const SkillRequirement& r,
                                   int max_skill_level) {
  ROUTING_RETURN_IF_ERROR(CheckName(
      absl::StrCat("contact '", AsAbsl(contact_id), "' skill name"), r.skill));
  if (r.min_level < 1 || r.min_level > max_skill_level) {
    return absl::InvalidArgumentError(absl::StrCat(
        "contact '", AsAbsl(contact_id), "' asks for skill '", r.skill,
        "' at level ", r.min_level, "; levels run 1..", max_skill_level));
  }
  return absl::OkStatus();
}

// enqueue - priority x step, saturated: a long step (a valid policy may say
// a level is worth years) must not overflow.
int64_t AgedArrival(int64_t enqueue_ns, int priority, int64_t step_ns) {
  int64_t lead;
  if (__builtin_mul_overflow(static_cast<int64_t>(priority), step_ns, &lead)) {
    lead = INT64_MAX;
  }
  int64_t aged;
  if (__builtin_sub_overflow(enqueue_ns, lead, &aged)) aged = INT64_MIN;
  return aged;
}

}  // namespace

absl::Status LockFreeRouter::CheckAgentId(std::string_view agent_id) {
  return CheckName("agent id", agent_id);
}

LockFreeRouter::LockFreeRouter(const RouterOptions& options)
    : options_(options),
      clock_(options.clock != nullptr ? options.clock : SystemClock::Default()),
      listener_(options.listener),
      agents_(options.max_agents, options.max_skills, options.max_languages,
              &epoch_),
      skills_(options.max_skills),
      languages_(options.max_languages),
      queues_(options.max_queues),
      teams_(options.max_agents),
      queue_objects_(new std::atomic<ContactQueue*>[options.max_queues]),
      contacts_(&epoch_, static_cast<size_t>(options.max_contacts)),
      history_(static_cast<size_t>(options.history_customers),
               options.history_depth),
      policy_(new PolicyRecord{options.policy, 1}) {
  for (int i = 0; i < options.max_queues; ++i) queue_objects_[i] = nullptr;
}

LockFreeRouter::~LockFreeRouter() {
  {
    auto guard = epoch_.Pin();
    std::vector<ContactRecord*> held;
    contacts_.ForEach([&](ContactRecord* c) { held.push_back(c); });
    for (ContactRecord* c : held) {
      contacts_.Remove(c);
      UnrefContact(c, &epoch_);
    }
  }
  for (int i = 0; i < options_.max_queues; ++i) {
    delete queue_objects_[i].load(std::memory_order_acquire);
  }
  delete policy_.load(std::memory_order_acquire);
  delete rules_.load(std::memory_order_acquire);
  epoch_.Reclaim();
}

int64_t LockFreeRouter::NowNs() const {
  const int64_t now = absl::ToUnixNanos(clock_->Now());
  int64_t seen = last_now_ns_.load(std::memory_order_relaxed);
  while (true) {
    if (now <= seen) return seen;
    if (last_now_ns_.compare_exchange_weak(seen, now,
                                           std::memory_order_relaxed)) {
      return now;
    }
  }
}

ContactQueue* LockFreeRouter::Queue(int id) const {
  return queue_objects_[id].load(std::memory_order_acquire);
}

ContactQueue* LockFreeRouter::EnsureQueue(int id) {
  ContactQueue* queue = Queue(id);
  if (queue != nullptr) return queue;
  auto fresh =
      std::make_unique<ContactQueue>(std::string(queues_.Name(id)), &epoch_);
  if (queue_objects_[id].compare_exchange_strong(queue, fresh.get(),
                                                 std::memory_order_acq_rel)) {
    return fresh.release();
  }
  return queue;
}

absl::Status LockFreeRouter::ValidateAgentProfile(
    const AgentProfile& profile) const {
  ROUTING_RETURN_IF_ERROR(CheckName("agent id", profile.id));
  if (profile.skills.size() > kMaxListEntries * 4 ||
      profile.languages.size() > kMaxListEntries) {
    return absl::InvalidArgumentError(absl::StrCat(
        "agent '", profile.id, "' lists too many skills or languages"));
  }
  absl::flat_hash_set<std::string_view> seen;
  for (const AgentSkill& s : profile.skills) {
    ROUTING_RETURN_IF_ERROR(CheckName(
        absl::StrCat("agent '", profile.id, "' skill name"), s.skill));
    if (s.level < 1 || s.level > options_.max_skill_level) {
      return absl::InvalidArgumentError(absl::StrCat(
          "agent '", profile.id, "' skill '", s.skill, "' has level ", s.level,
          "; levels run 1..", options_.max_skill_level));
    }
    if (!seen.insert(s.skill).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "agent '", profile.id, "' lists skill '", s.skill, "' twice"));
    }
  }
  seen.clear();
  for (const AgentLanguage& l : profile.languages) {
    ROUTING_RETURN_IF_ERROR(CheckName(
        absl::StrCat("agent '", profile.id, "' language"), l.language));
    if (l.fluency < 1 || l.fluency > options_.max_fluency) {
      return absl::InvalidArgumentError(absl::StrCat(
          "agent '", profile.id, "' language '", l.language, "' has fluency ",
          l.fluency, "; fluency runs 1..", options_.max_fluency));
    }
    if (!seen.insert(l.language).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "agent '", profile.id, "' lists language '", l.language, "' twice"));
    }
  }
  int total = 0;
  for (Channel channel : kAllChannels) {
    const int capacity = profile.CapacityOf(channel);
    if (capacity < 0 || capacity > kMaxChannelCapacity) {
      return absl::InvalidArgumentError(
          absl::StrCat("agent '", profile.id, "' capacity ", capacity, " on ",
                       AsAbsl(ChannelName(channel)), " is outside 0..",
                       kMaxChannelCapacity));
    }
    total += capacity;
  }
  if (total == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("agent '", profile.id,
                     "' has a capacity of zero on every channel and could "
                     "never take a contact"));
  }
  if (profile.max_total_contacts < 0 || profile.max_total_contacts > total) {
    return absl::InvalidArgumentError(
        absl::StrCat("agent '", profile.id, "' max_total_contacts ",
                     profile.max_total_contacts, " is outside 0..", total,
                     " (the sum of its channel capacities)"));
  }
  ROUTING_RETURN_IF_ERROR(CheckAttributes(
      absl::StrCat("agent '", profile.id, "'"), profile.attributes));
  // Room for the names this profile would add, checked before any is
  // interned: a refused profile leaves no name behind. (Concurrent calls
  // adding other names can still fill the table first; interning then
  // refuses the later one.)
  int new_skills = 0, new_languages = 0;
  for (const AgentSkill& s : profile.skills) {
    if (skills_.Find(s.skill) < 0) ++new_skills;
  }
  for (const AgentLanguage& l : profile.languages) {
    if (languages_.Find(l.language) < 0) ++new_languages;
  }
  if (skills_.size() + new_skills > skills_.capacity()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "agent '", profile.id, "' brings ", new_skills,
        " new skills; the router already knows ", skills_.size(), " of at most ",
        options_.max_skills, " (RouterOptions::max_skills)"));
  }
  if (languages_.size() + new_languages > languages_.capacity()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "agent '", profile.id, "' brings ", new_languages,
        " new languages; the router already knows ", languages_.size(),
        " of at most ", options_.max_languages,
        " (RouterOptions::max_languages)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<AgentRecord>> LockFreeRouter::CompileAgent(
    const AgentProfile& profile, int index) {
  ROUTING_RETURN_IF_ERROR(ValidateAgentProfile(profile));
  auto record = std::make_unique<AgentRecord>();
  record->profile = profile;
  record->index = index;
  int total = 0;
  for (Channel channel : kAllChannels) {
    const int capacity = profile.CapacityOf(channel);
    record->capacity[ChannelIndex(channel)] = capacity;
    total += capacity;
  }
  record->max_total = profile.max_total_contacts;
  record->total_capacity =
      profile.max_total_contacts > 0 ? profile.max_total_contacts : total;

  // Interning can only fail when a registry is full; do it after every
  // validation so a refused agent leaves nothing behind but interned names.
  for (const AgentSkill& s : profile.skills) {
    const int id = skills_.FindOrInsert(s.skill);
    if (id < 0) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "cannot add skill '", s.skill, "': the router already knows ",
          options_.max_skills, " skills (RouterOptions::max_skills)"));
    }
    agents_.EnsureSkillBitmap(id);
    record->skills.emplace_back(id, s.level);
  }
  for (const AgentLanguage& l : profile.languages) {
    const int id = languages_.FindOrInsert(l.language);
    if (id < 0) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "cannot add language '", l.language, "': the router already knows ",
          options_.max_languages, " languages (RouterOptions::max_languages)"));
    }
    agents_.EnsureLanguageBitmap(id);
    record->languages.emplace_back(id, l.fluency);
  }
  std::sort(record->skills.begin(), record->skills.end());
  std::sort(record->languages.begin(), record->languages.end());
  if (!profile.team.empty()) record->team = teams_.FindOrInsert(profile.team);
  return record;
}

ContactPlan LockFreeRouter::PlanFor(const RulesRecord& rules,
                                    const Contact& contact, int64_t enqueue_ns,
                                    int64_t now_ns) {
  ContactPlan plan;
  rules.rules->Plan(contact, absl::Nanoseconds(now_ns - enqueue_ns), &plan);
  if (plan.priority > kMaxPriority) plan.priority = kMaxPriority;
  if (plan.next_step_after <= absl::ZeroDuration()) {
    plan.next_step_after = absl::InfiniteDuration();  // Already passed.
  }
  return plan;
}

absl::StatusOr<std::unique_ptr<ContactRoute>> LockFreeRouter::CompileRoute(
    const Contact& contact, const DecisionBasis& basis, int64_t now_ns) const {
  const PolicyRecord& policy = *basis.policy;
  ROUTING_RETURN_IF_ERROR(CheckName("contact id", contact.id));
  const int channel = static_cast<int>(contact.channel);
  if (channel < 0 || channel >= kChannelCount) {
    return absl::InvalidArgumentError(absl::StrCat(
        "contact '", contact.id, "' has unknown channel number ", channel));
  }
  if (contact.priority < 0 || contact.priority > kMaxPriority) {
    return absl::InvalidArgumentError(
        absl::StrCat("contact '", contact.id, "' priority ", contact.priority,
                     " is outside 0..", kMaxPriority));
  }
  if (contact.required_skills.size() > kMaxListEntries ||
      contact.desired_skills.size() > kMaxListEntries ||
      contact.languages.size() > kMaxListEntries ||
      contact.preferred_agents.size() > kMaxListEntries ||
      contact.excluded_agents.size() > kMaxListEntries) {
    return absl::InvalidArgumentError(
        absl::StrCat("contact '", contact.id, "' lists more than ",
                     kMaxListEntries, " skills, languages or agents"));
  }
  if (contact.customer_id.size() > kMaxIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("contact '", contact.id, "' customer id is longer than ",
                     kMaxIdBytes, " bytes"));
  }
  ROUTING_RETURN_IF_ERROR(CheckAttributes(
      absl::StrCat("contact '", contact.id, "'"), contact.attributes));

  auto record = std::make_unique<ContactRoute>();
  record->contact = contact;
  record->channel = channel;
  record->priority = contact.priority;

  const absl::Time now = absl::FromUnixNanos(now_ns);
  absl::Time enqueue = contact.enqueue_time;
  if (enqueue == absl::InfinitePast()) enqueue = now;
  if (enqueue > now) {
    return absl::InvalidArgumentError(absl::StrCat(
        "contact '", contact.id, "' enqueue time ", absl::FormatTime(enqueue),
        " is after the router's clock (", absl::FormatTime(now), ")"));
  }
  if (now - enqueue > kMaxClaimedWait) {
    return absl::InvalidArgumentError(absl::StrCat(
        "contact '", contact.id, "' claims to have waited ",
        absl::FormatDuration(now - enqueue), "; more than ",
        absl::FormatDuration(kMaxClaimedWait), " means a clock error"));
  }
  record->contact.enqueue_time = enqueue;
  record->enqueue_ns = absl::ToUnixNanos(enqueue);

  // The contact's own lists are checked as given, even where a rules step
  // replaces them: malformed input is refused whatever the rules say.
  for (const auto* list : {&contact.required_skills, &contact.desired_skills}) {
    for (size_t i = 0; i < list->size(); ++i) {
      const SkillRequirement& r = (*list)[i];
      ROUTING_RETURN_IF_ERROR(
          CheckSkillRequirement(contact.id, r, options_.max_skill_level));
      // Lists are short (a handful, at most kMaxRequirements): a scan of
      // the ones before beats allocating a set on every decision.
      for (size_t j = 0; j < i; ++j) {
        if ((*list)[j].skill == r.skill) {
          return absl::InvalidArgumentError(absl::StrCat(
              "contact '", contact.id, "' lists skill '", r.skill, "' twice"));
        }
      }
    }
  }
  for (const std::string& language : contact.languages) {
    ROUTING_RETURN_IF_ERROR(CheckName(
        absl::StrCat("contact '", contact.id, "' language"), language));
  }
  for (const auto* list : {&contact.preferred_agents, &contact.excluded_agents}) {
    for (const std::string& agent : *list) {
      ROUTING_RETURN_IF_ERROR(CheckName(
          absl::StrCat("contact '", contact.id, "' agent id"), agent));
    }
  }
  std::string queue_name = contact.queue;
  if (queue_name.empty()) {
    queue_name = contact.required_skills.empty()
                     ? "default"
                     : contact.required_skills.front().skill;
  }
  ROUTING_RETURN_IF_ERROR(CheckName(
      absl::StrCat("contact '", contact.id, "' queue name"), queue_name));

  // The rules' step: its priority and requirements replace the contact's own
  // for routing; the record keeps the contact as given, to plan again later.
  const std::vector<SkillRequirement>* required_skills =
      &contact.required_skills;
  const std::vector<std::string>* languages = &contact.languages;
  const std::vector<std::string> no_languages;
  ContactPlan plan;
  if (basis.rules != nullptr) {
    plan = PlanFor(*basis.rules, record->contact, record->enqueue_ns, now_ns);
    if (plan.priority >= 0) record->priority = plan.priority;
    if (plan.replace_required_skills) required_skills = &plan.required_skills;
    if (plan.drop_languages) languages = &no_languages;
    record->rules_step = plan.step;
    if (plan.next_step_after != absl::InfiniteDuration()) {
      record->next_step_ns =
          record->enqueue_ns + absl::ToInt64Nanoseconds(plan.next_step_after);
    }
    record->preferred_only = plan.preferred_only;
  }
  const absl::Duration priority_step = plan.priority_step > absl::ZeroDuration()
                                           ? plan.priority_step
                                           : policy.policy.priority_step;
  record->aged_arrival_ns = AgedArrival(
      record->enqueue_ns, record->priority,
      absl::ToInt64Nanoseconds(priority_step));
  record->aged_ms = FloorMilliseconds(record->aged_arrival_ns);

  auto compile_skills =
      [&](const std::vector<SkillRequirement>& list, bool required,
          std::vector<std::pair<int, int>>* out) -> absl::Status {
    out->reserve(list.size());
    for (const SkillRequirement& r : list) {
      ROUTING_RETURN_IF_ERROR(
          CheckSkillRequirement(contact.id, r, options_.max_skill_level));
      const int id = skills_.Find(r.skill);
      if (id < 0 && required) {
        return absl::NotFoundError(absl::StrCat(
            "contact '", contact.id, "' requires skill '", r.skill,
            "' which no agent on the roster has",
            required_skills != &contact.required_skills
                ? absl::StrCat(" (rules step ", record->rules_step, ")")
                : ""));
      }
      if (id >= 0 &&
          std::any_of(out->begin(), out->end(),
                      [id](const std::pair<int, int>& e) { return e.first == id; })) {
        return absl::InvalidArgumentError(absl::StrCat(
            "contact '", contact.id, "' lists skill '", r.skill, "' twice"));
      }
      out->emplace_back(id, r.min_level);
    }
    return absl::OkStatus();
  };
  ROUTING_RETURN_IF_ERROR(
      compile_skills(*required_skills, true, &record->required));
  ROUTING_RETURN_IF_ERROR(
      compile_skills(contact.desired_skills, false, &record->desired));

  for (size_t i = 0; i < languages->size(); ++i) {
    ROUTING_RETURN_IF_ERROR(CheckName(
        absl::StrCat("contact '", contact.id, "' language"), (*languages)[i]));
    const int id = languages_.Find((*languages)[i]);
    if (id < 0) continue;  // Nobody speaks it; a later choice may still match.
    record->languages.push_back(id);
    record->language_rank.push_back(static_cast<int>(i));
  }
  if (!languages->empty() && record->languages.empty()) {
    return absl::NotFoundError(
        absl::StrCat("contact '", contact.id, "' speaks ",
                     absl::StrJoin(contact.languages, ", "),
                     " and no agent on the roster speaks any of them"));
  }

  for (const std::string& agent : contact.preferred_agents) {
    ROUTING_RETURN_IF_ERROR(CheckName(
        absl::StrCat("contact '", contact.id, "' preferred agent id"), agent));
    const int index = agents_.ids().Find(agent);
    if (index >= 0) record->preferred_agents.push_back(index);
  }
  if (record->preferred_only) {
    // The preferred agents and whoever served the customer before (except
    // those who transferred them away).
    record->only_agents = record->preferred_agents;
    if (!contact.customer_id.empty()) {
      InteractionRecord past[kMaxHistoryDepth];
      const int n =
          history_.Lookup(contact.customer_id, past, kMaxHistoryDepth);
      for (int i = 0; i < n; ++i) {
        if (past[i].outcome != ContactOutcome::kTransferred) {
          record->only_agents.push_back(static_cast<int>(past[i].agent_index));
        }
      }
    }
    // Nobody to prefer (a first-time customer, no CRM names): the step
    // restricts nothing, rather than leaving the contact unservable.
    if (record->only_agents.empty()) record->preferred_only = false;
  }
  for (const std::string& agent : contact.excluded_agents) {
    ROUTING_RETURN_IF_ERROR(CheckName(
        absl::StrCat("contact '", contact.id, "' excluded agent id"), agent));
    // An id the router has not seen yet is kept by name, so the exclusion
    // still holds if that agent is added while the contact waits; nothing
    // is interned for it.
    const int index = agents_.ids().Find(agent);
    if (index >= 0) {
      record->excluded_agents.push_back(index);
    } else {
      record->excluded_unknown.push_back(agent);
    }
  }

  record->contact.queue = std::move(queue_name);
  return record;
}

absl::StatusOr<int> LockFreeRouter::AcceptQueue(ContactRoute* route) {
  const int known = route->QueueId();
  if (known >= 0) return known;
  const int id = queues_.FindOrInsert(route->contact.queue);
  if (id < 0) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot open queue '", route->contact.queue,
        "': the router already has ", options_.max_queues,
        " queues (RouterOptions::max_queues)"));
  }
  EnsureQueue(id);
  route->queue.store(id, std::memory_order_release);
  return id;
}

// --- Policy, history, statistics --------------------------------------------

absl::StatusOr<uint64_t> LockFreeRouter::SetPolicy(
    const RoutingPolicy& policy) {
  ROUTING_RETURN_IF_ERROR(ValidatePolicy(policy));
  auto guard = epoch_.Pin();
  auto fresh = std::make_unique<PolicyRecord>(PolicyRecord{policy, 0});
  const PolicyRecord* current = policy_.load(std::memory_order_acquire);
  do {
    fresh->version = current->version + 1;
  } while (!policy_.compare_exchange_weak(current, fresh.get(),
                                          std::memory_order_acq_rel,
                                          std::memory_order_acquire));
  // Decisions that loaded the old policy are pinned; it is freed after them.
  epoch_.Retire(const_cast<PolicyRecord*>(current));
  return fresh.release()->version;
}

uint64_t LockFreeRouter::SetRules(std::shared_ptr<const RoutingRules> rules) {
  Notices notices;
  uint64_t version;
  {
    auto guard = epoch_.Pin();
    version = rules_versions_.fetch_add(1, std::memory_order_acq_rel) + 1;
    auto fresh = std::make_unique<RulesRecord>(
        RulesRecord{std::move(rules), version});
    // Calls are ordered by the version they drew: a call installs its rules
    // only over an older version. One that finds a newer one in force was
    // overtaken by a later call and is superseded at once; so concurrent
    // calls can never leave an older call's rules in force.
    const RulesRecord* current = rules_.load(std::memory_order_acquire);
    while (current == nullptr || current->version < version) {
      if (rules_.compare_exchange_weak(current, fresh.get(),
                                       std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
        fresh.release();
        // Decisions that loaded the old rules are pinned; freed after.
        if (current != nullptr) {
          epoch_.Retire(const_cast<RulesRecord*>(current));
        }
        break;
      }
    }
    // A contact some rule kept from a free agent may be admitted now.
    ReconsiderVetoed(NowNs(), &notices);
  }
  Deliver(notices);
  return version;
}

uint64_t LockFreeRouter::RulesVersion() const {
  auto guard = epoch_.Pin();
  const RulesRecord* rules = rules_.load(std::memory_order_acquire);
  return rules == nullptr ? 0 : rules->version;
}

uint64_t LockFreeRouter::PolicyVersion() const {
  auto guard = epoch_.Pin();
  return policy_.load(std::memory_order_acquire)->version;
}

std::vector<CustomerInteraction> LockFreeRouter::CustomerHistory(
    std::string_view customer_id) const {
  std::vector<CustomerInteraction> out;
  if (customer_id.empty()) return out;
  InteractionRecord records[kMaxHistoryDepth];
  const int n = history_.Lookup(customer_id, records, kMaxHistoryDepth);
  for (int i = 0; i < n; ++i) {
    CustomerInteraction interaction;
    interaction.agent_id = std::string(agents_.ids().Name(records[i].agent_index));
    interaction.channel = records[i].channel;
    interaction.outcome = records[i].outcome;
    interaction.time = records[i].time;
    out.push_back(std::move(interaction));
  }
  return out;
}

RouterStats LockFreeRouter::Stats() const {
  auto guard = epoch_.Pin();
  RouterStats stats;
  stats.policy_version = policy_.load(std::memory_order_acquire)->version;
  const RulesRecord* rules = rules_.load(std::memory_order_acquire);
  stats.rules_version = rules == nullptr ? 0 : rules->version;
  stats.rules_fallbacks = RouterCounters::Read(counters_.rules_fallbacks);
  stats.decisions = RouterCounters::Read(counters_.decisions);
  stats.assigned_immediately =
      RouterCounters::Read(counters_.assigned_immediately);
  stats.queued = RouterCounters::Read(counters_.queued);
  stats.assigned_from_queue =
      RouterCounters::Read(counters_.assigned_from_queue);
  stats.cancelled = RouterCounters::Read(counters_.cancelled);
  stats.released = RouterCounters::Read(counters_.released);
  stats.contacts_held = RouterCounters::Read(counters_.contacts_held);
  for (int i = 0; i < agents_.ids().size(); ++i) {
    const uint8_t presence =
        AgentWord::Presence(agents_.Slot(i).word.load(std::memory_order_acquire));
    if (presence == kPresenceRemoved) continue;
    ++stats.agents;
    ++stats.agents_by_state[presence];
  }
  const int64_t now_ns = NowNs();
  const RoutingPolicy& policy = policy_.load(std::memory_order_acquire)->policy;
  for (int q = 0; q < queues_.size(); ++q) {
    const ContactQueue* queue = Queue(q);
    if (queue == nullptr) continue;
    QueueStats qs;
    qs.queue = queue->name();
    qs.waiting =
        std::max<int64_t>(0, queue->waiting.load(std::memory_order_acquire));
    int64_t oldest = now_ns;
    // Service order is aged order; the longest wait is the earliest enqueue
    // time, which priorities can put anywhere: look at every contact.
    queue->ForEachLive([&](QueueNode* node) {
      const ContactRoute* route =
          node->contact->route.load(std::memory_order_acquire);
      if (route != nullptr && route->placement == node->placement) {
        oldest = std::min(oldest, route->enqueue_ns);
      }
      return true;
    });
    qs.longest_wait = absl::Nanoseconds(now_ns - oldest);
    qs.answered = queue->answered.load(std::memory_order_relaxed);
    qs.answered_in_service_level =
        queue->answered_in_service_level.load(std::memory_order_relaxed);
    qs.abandoned = queue->abandoned.load(std::memory_order_relaxed);
    const int64_t offered = qs.answered + qs.abandoned;
    qs.service_level =
        offered == 0
            ? 1.0
            : static_cast<double>(qs.answered_in_service_level) / offered;
    qs.average_speed_of_answer =
        qs.answered == 0 ? absl::ZeroDuration()
                         : absl::Milliseconds(queue->total_answer_wait_ms.load(
                                                  std::memory_order_relaxed)) /
                                             qs.answered;
    const int64_t aht =
        queue->average_handle_ns.load(std::memory_order_relaxed);
    qs.average_handle_time =
        aht > 0 ? absl::Nanoseconds(aht) : policy.default_handle_time;
    stats.queues.push_back(std::move(qs));
  }
  return stats;
}

}  // namespace routing::internal
