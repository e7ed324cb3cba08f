// Router::ExportState and Router::ImportState: the router's state for a
// snapshot, and back into a new router on restart (router_state.h).
#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "routing/internal/lock_free_router.h"
#include "routing/internal/string_view_compat.h"
#include "routing/status_macros.h"

namespace routing {

uint64_t HistoryKey(std::string_view customer_id) {
  return internal::HistoryStore::KeyOf(customer_id);
}

}  // namespace routing

namespace routing::internal {
namespace {

int64_t NanosOrZero(absl::Time t) {
  return t == absl::InfinitePast() ? 0 : absl::ToUnixNanos(t);
}

absl::Time TimeOrPast(int64_t ns) {
  return ns > 0 ? absl::FromUnixNanos(ns) : absl::InfinitePast();
}

const char* StateName(ContactSnapshot::State state) {
  switch (state) {
    case ContactSnapshot::State::kQueued:
      return "queued";
    case ContactSnapshot::State::kAssigned:
      return "assigned";
    case ContactSnapshot::State::kOffered:
      return "offered";
  }
  return "?";
}

}  // namespace

bool LockFreeRouter::ViewAgent(int index, AgentView* out) const {
  const AgentSlot& slot = agents_.Slot(index);
  const uint64_t word = slot.word.load(std::memory_order_acquire);
  const AgentRecord* record = slot.record.load(std::memory_order_acquire);
  if (!OnRoster(AgentWord::Presence(word)) || record == nullptr) return false;
  out->profile = &record->profile;
  out->state = static_cast<AgentState>(AgentWord::Presence(word));
  out->state_since =
      TimeOrPast(slot.state_since_ns.load(std::memory_order_relaxed));
  out->idle_since =
      TimeOrPast(slot.idle_since_ns.load(std::memory_order_relaxed));
  out->logged_in_at = TimeOrPast(slot.login_ns.load(std::memory_order_relaxed));
  out->handled =
      absl::Nanoseconds(slot.handled_ns.load(std::memory_order_relaxed));
  out->contacts_handled = slot.handled_count.load(std::memory_order_relaxed);
  return true;
}

bool LockFreeRouter::ViewContact(const ContactRecord& record,
                                 ContactView* out, int64_t* aged_ms,
                                 int64_t* sequence) const {
  const uint64_t word = record.Word();
  const ContactRoute* route = record.route.load(std::memory_order_acquire);
  if (route == nullptr) return false;
  out->contact = &route->contact;
  out->planned_at = absl::FromUnixNanos(route->planned_ns);
  out->placement = ContactRecord::PlacementOf(word);
  const int agent = ContactRecord::AgentOf(word);
  switch (ContactRecord::StateOf(word)) {
    case ContactState::kQueued: {
      const QueueNode* node = record.queued_node.load(std::memory_order_acquire);
      if (node == nullptr || node->placement != out->placement) return false;
      out->state = ContactSnapshot::State::kQueued;
      out->aged_arrival = absl::FromUnixMillis(node->aged_ms);
      *aged_ms = node->aged_ms;
      *sequence = node->sequence;
      return true;
    }
    case ContactState::kAssigned:
      out->state = ContactSnapshot::State::kAssigned;
      out->agent_id = agents_.ids().Name(agent);
      out->assigned_at =
          TimeOrPast(record.assigned_ns.load(std::memory_order_acquire));
      return true;
    case ContactState::kOffered:
      out->state = ContactSnapshot::State::kOffered;
      out->agent_id = agents_.ids().Name(agent);
      out->assigned_at =
          TimeOrPast(record.offered_ns.load(std::memory_order_acquire));
      out->offer_expires_at =
          TimeOrPast(record.offer_deadline_ns.load(std::memory_order_acquire));
      return true;
    case ContactState::kRouting:
    case ContactState::kDone:
      return false;  // In the middle of a decision, or ending.
  }
  return false;
}

absl::Status LockFreeRouter::VisitAgent(
    std::string_view agent_id,
    absl::FunctionRef<void(const AgentView&)> visit) const {
  ROUTING_ASSIGN_OR_RETURN(const int index, RosterIndex(agent_id));
  auto guard = epoch_.Pin();
  AgentView agent;
  if (!ViewAgent(index, &agent)) return RemovedMeanwhile(agent_id);
  visit(agent);
  return absl::OkStatus();
}

absl::Status LockFreeRouter::VisitContact(
    std::string_view contact_id,
    absl::FunctionRef<void(const ContactView&)> visit) const {
  auto guard = epoch_.Pin();
  const ContactRecord* record = contacts_.Find(contact_id);
  if (record == nullptr) return NotHeld(contact_id);
  ContactView contact;
  int64_t aged_ms = 0, sequence = 0;
  if (!ViewContact(*record, &contact, &aged_ms, &sequence)) {
    return absl::NotFoundError(absl::StrCat(
        "contact '", AsAbsl(contact_id),
        "' is being decided or has just ended"));
  }
  visit(contact);
  return absl::OkStatus();
}

absl::StatusOr<AgentSnapshot> LockFreeRouter::ExportAgent(
    std::string_view agent_id) const {
  AgentSnapshot agent;
  ROUTING_RETURN_IF_ERROR(VisitAgent(
      agent_id, [&](const AgentView& view) { agent = SnapshotOf(view); }));
  return agent;
}

absl::StatusOr<ContactSnapshot> LockFreeRouter::ExportContact(
    std::string_view contact_id) const {
  ContactSnapshot contact;
  ROUTING_RETURN_IF_ERROR(VisitContact(
      contact_id,
      [&](const ContactView& view) { contact = SnapshotOf(view); }));
  return contact;
}

RouterState LockFreeRouter::ExportState() const {
  RouterState state;
  auto guard = epoch_.Pin();
  for (int i = 0; i < agents_.ids().size(); ++i) {
    AgentView agent;
    if (ViewAgent(i, &agent)) state.agents.push_back(SnapshotOf(agent));
  }

  struct Queued {
    int64_t aged_ms;
    int64_t sequence;
    ContactSnapshot contact;
  };
  std::vector<Queued> queued;
  contacts_.ForEach([&](const ContactRecord* record) {
    ContactView view;
    int64_t aged_ms = 0, sequence = 0;
    if (!ViewContact(*record, &view, &aged_ms, &sequence)) return;
    ContactSnapshot contact = SnapshotOf(view);
    if (contact.state == ContactSnapshot::State::kQueued) {
      queued.push_back({aged_ms, sequence, std::move(contact)});
    } else {
      state.contacts.push_back(std::move(contact));
    }
  });
  // Service order across queues: each queue's order is the same order
  // restricted to it.
  std::sort(queued.begin(), queued.end(), [](const Queued& a, const Queued& b) {
    return a.aged_ms != b.aged_ms ? a.aged_ms < b.aged_ms
                                  : a.sequence < b.sequence;
  });
  for (Queued& q : queued) state.contacts.push_back(std::move(q.contact));

  history_.ForEachCustomer(
      [&](uint64_t key, const InteractionRecord* held, int n) {
        CustomerSnapshot customer;
        customer.customer_key = key;
        for (int i = 0; i < n; ++i) {
          const int agent = static_cast<int>(held[i].agent_index);
          if (agent >= agents_.ids().size()) continue;
          customer.interactions.push_back(
              {std::string(agents_.ids().Name(agent)), held[i].channel,
               held[i].outcome, held[i].time});
        }
        if (!customer.interactions.empty()) {
          state.customers.push_back(std::move(customer));
        }
      });
  return state;
}

absl::Status LockFreeRouter::ImportState(const RouterState& state) {
  const int64_t held = counters_.contacts_held.load(std::memory_order_relaxed);
  const size_t roster = AgentIds().size();
  if (held != 0 || roster != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ImportState needs a router that holds nothing yet; this one has ",
        roster, " agents and ", held, " contacts"));
  }

  // --- Everything that can be checked before anything changes. ---
  if (state.agents.size() > static_cast<size_t>(options_.max_agents)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the state has ", state.agents.size(), " agents; the router takes ",
        options_.max_agents, " (RouterOptions::max_agents)"));
  }
  if (state.contacts.size() > static_cast<size_t>(options_.max_contacts)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the state has ", state.contacts.size(),
        " contacts; the router holds ", options_.max_contacts,
        " (RouterOptions::max_contacts)"));
  }
  struct Tally {
    const AgentProfile* profile;
    std::array<int, kChannelCount> load = {};
    int total = 0;
  };
  absl::flat_hash_map<std::string, Tally> agents;
  for (size_t i = 0; i < state.agents.size(); ++i) {
    const AgentSnapshot& agent = state.agents[i];
    const int presence = static_cast<int>(agent.state);
    if (presence < 0 || presence >= kAgentStateCount) {
      return absl::InvalidArgumentError(
          absl::StrCat("agent '", agent.profile.id,
                       "' has unknown state number ", presence));
    }
    if (absl::Status valid = agent_compiler_.Validate(agent.profile);
        !valid.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("agent ", i + 1, " of the state: ", valid.message()));
    }
    if (!agents.emplace(agent.profile.id, Tally{&agent.profile}).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("agent '", agent.profile.id, "' is listed twice"));
    }
  }
  absl::flat_hash_set<std::string> contact_ids;
  for (const ContactSnapshot& contact : state.contacts) {
    const std::string& id = contact.contact.id;
    if (!contact_ids.insert(id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("contact '", id, "' is listed twice"));
    }
    const int kind = static_cast<int>(contact.state);
    if (kind < 0 || kind > static_cast<int>(ContactSnapshot::State::kOffered)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "contact '", id, "' has unknown state number ", kind));
    }
    const int channel = static_cast<int>(contact.contact.channel);
    if (channel < 0 || channel >= kChannelCount) {
      return absl::InvalidArgumentError(absl::StrCat(
          "contact '", id, "' has unknown channel number ", channel));
    }
    if (contact.state == ContactSnapshot::State::kQueued) continue;
    auto it = agents.find(contact.agent_id);
    if (it == agents.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("contact '", id, "' is ", StateName(contact.state),
                       " to agent '", contact.agent_id,
                       "', who is not in the state's roster"));
    }
    Tally& tally = it->second;
    ++tally.load[channel];
    ++tally.total;
    const int capacity = tally.profile->capacity[channel];
    const int max_total = tally.profile->max_total_contacts;
    if (tally.load[channel] > capacity ||
        (max_total > 0 && tally.total > max_total)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "contact '", id, "' would put agent '", contact.agent_id,
          "' over its capacity (", tally.load[channel], " on ",
          AsAbsl(ChannelName(contact.contact.channel)), ", capacity ",
          capacity,
          max_total > 0 ? absl::StrCat(", at most ", max_total, " in all")
                        : std::string(),
          ")"));
    }
  }

  // --- The roster, logged out for now (so no contact is assigned while
  // the others are still being loaded). ---
  std::vector<int> indexes;
  indexes.reserve(state.agents.size());
  auto roll_back = [&](absl::Status error) {
    // Nothing was told to anyone and no contact is held yet: removing the
    // agents again leaves the router as it was (names it interned aside).
    for (const AgentSnapshot& agent : state.agents) {
      (void)RemoveAgent(agent.profile.id);
    }
    return error;
  };
  // Agent id to index, for the held contacts and the history below (a
  // million interactions: cheaper than the roster's own lookup).
  absl::flat_hash_map<std::string_view, int> index_of;
  index_of.reserve(state.agents.size());
  for (const AgentSnapshot& agent : state.agents) {
    if (absl::Status added = AddAgent(agent.profile); !added.ok()) {
      return roll_back(added);
    }
    indexes.push_back(agents_.Find(agent.profile.id));
    index_of.emplace(agent.profile.id, indexes.back());
  }
  // A queued contact may ask for a skill or language no agent has now (its
  // agents were removed or changed after it queued), itself or through its
  // rules step: the names are known again, as they were.
  const DecisionBasis basis = LoadBasis();
  const RoutingRules* rules =
      basis.rules != nullptr ? basis.rules->rules.get() : nullptr;
  for (const ContactSnapshot& contact : state.contacts) {
    const std::vector<SkillRequirement> step_skills =
        rules != nullptr
            ? ContactCompiler::StepSkills(*rules, contact.contact,
                                          NanosOrZero(contact.planned_at))
            : std::vector<SkillRequirement>();
    for (const auto* list : {&contact.contact.required_skills, &step_skills}) {
      for (const SkillRequirement& skill : *list) {
        const int id = skills_.FindOrInsert(skill.skill);
        if (id < 0) {
          return roll_back(absl::ResourceExhaustedError(absl::StrCat(
              "contact '", contact.contact.id, "': skill '", skill.skill,
              "' would exceed RouterOptions::max_skills")));
        }
        agents_.EnsureSkillBitmap(id);
      }
    }
    for (const std::string& language : contact.contact.languages) {
      const int id = languages_.FindOrInsert(language);
      if (id < 0) {
        return roll_back(absl::ResourceExhaustedError(absl::StrCat(
            "contact '", contact.contact.id, "': language '", language,
            "' would exceed RouterOptions::max_languages")));
      }
      agents_.EnsureLanguageBitmap(id);
    }
  }

  // --- Contacts compiled as of when they were planned. Interns nothing
  // but their queues. ---
  std::vector<std::unique_ptr<ContactRecord>> records;
  records.reserve(state.contacts.size());
  for (const ContactSnapshot& contact : state.contacts) {
    auto record = std::make_unique<ContactRecord>(contact.contact.id);
    ContactRoute* route = &record->first_route;
    const int64_t planned_ns = NanosOrZero(contact.planned_at);
    absl::Status compiled = contact_compiler_.CompileInto(
        contact.contact, basis.policy->policy,
        basis.rules != nullptr ? basis.rules->rules.get() : nullptr,
        planned_ns, route);
    if (compiled.ok()) compiled = AcceptQueue(route).status();
    if (!compiled.ok()) {
      return roll_back(absl::Status(
          compiled.code(), absl::StrCat("contact '", contact.contact.id,
                                        "' of the state: ",
                                        compiled.message())));
    }
    route->token = NextToken();
    route->placement = contact.placement;
    record->route.store(route, std::memory_order_release);
    records.push_back(std::move(record));
  }

  // --- From here nothing fails. Held contacts take their agents' load;
  // queued ones join their queues in the order listed. ---
  for (size_t i = 0; i < records.size(); ++i) {
    const ContactSnapshot& contact = state.contacts[i];
    ContactRecord* record = records[i].get();
    ContactRoute* route = &record->first_route;
    const uint64_t placement = contact.placement;
    record->refs.store(1, std::memory_order_relaxed);  // The table's.
    counters_.contacts_held.fetch_add(1, std::memory_order_relaxed);
    if (contact.state == ContactSnapshot::State::kQueued) {
      LinkQueued(record, *route, placement);
      record->state.store(
          ContactRecord::Pack(ContactState::kQueued, -1, placement),
          std::memory_order_release);
    } else {
      const int agent = index_of.at(contact.agent_id);
      AgentSlot& slot = agents_.Slot(agent);
      // The agent is logged out and nothing else runs: its load is set
      // directly (a claim needs an available agent; a held contact may
      // belong to one on break).
      slot.word.store(
          AgentWord::WithLoadDelta(slot.word.load(std::memory_order_relaxed),
                                   route->channel, +1),
          std::memory_order_seq_cst);
      const bool offered =
          contact.state == ContactSnapshot::State::kOffered;
      if (offered) {
        record->offered_ns.store(NanosOrZero(contact.assigned_at),
                                 std::memory_order_relaxed);
        record->offer_deadline_ns.store(NanosOrZero(contact.offer_expires_at),
                                        std::memory_order_relaxed);
      } else {
        record->assigned_ns.store(NanosOrZero(contact.assigned_at),
                                  std::memory_order_relaxed);
      }
      record->state.store(
          ContactRecord::Pack(
              offered ? ContactState::kOffered : ContactState::kAssigned,
              agent, placement),
          std::memory_order_release);
      if (offered) {
        record->refs.fetch_add(1, std::memory_order_relaxed);  // Schedule's.
        offers_.Add(new ScheduledOffer{
            record, placement,
            record->offer_deadline_ns.load(std::memory_order_relaxed),
            nullptr});
      }
    }
    contacts_.Insert(records[i].release());
  }

  // --- Customer history, oldest first so the newest ends up newest. ---
  for (const CustomerSnapshot& customer : state.customers) {
    for (auto it = customer.interactions.rbegin();
         it != customer.interactions.rend(); ++it) {
      const auto found = index_of.find(it->agent_id);
      int agent = found != index_of.end() ? found->second : -1;
      if (agent < 0) {
        // An agent removed since: the id keeps its number, as it did in
        // the router that exported it (the roster's names outlive agents).
        agent = agents_.ids().FindOrInsert(it->agent_id);
        if (agent < 0) continue;  // Every number is taken.
        index_of.emplace(it->agent_id, agent);
      }
      history_.RecordKey(customer.customer_key,
                         {static_cast<uint32_t>(agent), it->channel,
                          it->outcome, it->time});
    }
  }

  // --- Presence and times, then the drains an available agent with room
  // owes the waiting contacts. ---
  Notices notices;
  {
    auto guard = epoch_.Pin();
    for (size_t i = 0; i < state.agents.size(); ++i) {
      const AgentSnapshot& agent = state.agents[i];
      const int index = indexes[i];
      uint64_t previous, next;
      agents_.SetPresence(index, static_cast<uint8_t>(agent.state), &previous,
                          &next);
      AgentSlot& slot = agents_.Slot(index);
      slot.state_since_ns.store(NanosOrZero(agent.state_since),
                                std::memory_order_relaxed);
      slot.idle_since_ns.store(NanosOrZero(agent.idle_since),
                               std::memory_order_relaxed);
      slot.login_ns.store(NanosOrZero(agent.logged_in_at),
                          std::memory_order_relaxed);
      slot.handled_ns.store(absl::ToInt64Nanoseconds(agent.handled),
                            std::memory_order_relaxed);
      slot.handled_count.store(agent.contacts_handled,
                               std::memory_order_relaxed);
    }
    for (int index : indexes) OnCapacityFreed(index, &notices);
  }
  Deliver(notices);
  return absl::OkStatus();
}

}  // namespace routing::internal
