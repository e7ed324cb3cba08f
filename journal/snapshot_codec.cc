#include "journal/snapshot_codec.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "flatbuffers/flatbuffers.h"
#include "journal/snapshot_generated.h"

namespace journal {
namespace {

namespace fb = routing::journal::fb;
using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

int64_t Nanos(absl::Time t) {
  return t == absl::InfinitePast() ? 0 : absl::ToUnixNanos(t);
}
absl::Time FromNanos(int64_t ns) {
  return ns == 0 ? absl::InfinitePast() : absl::FromUnixNanos(ns);
}

std::string Text(const flatbuffers::String* s) {
  return s == nullptr ? std::string() : s->str();
}

template <typename Map>
Offset<flatbuffers::Vector<Offset<fb::Attribute>>> Attributes(
    FlatBufferBuilder& b, const Map& attributes) {
  std::vector<Offset<fb::Attribute>> out;
  out.reserve(attributes.size());
  for (const auto& [key, value] : attributes) {
    out.push_back(fb::CreateAttribute(b, b.CreateString(key),
                                      b.CreateString(value)));
  }
  return b.CreateVector(out);
}

int LevelOf(const routing::AgentSkill& s) { return s.level; }
int LevelOf(const routing::SkillRequirement& s) { return s.min_level; }
void SetLevel(routing::AgentSkill& s, int level) { s.level = level; }
void SetLevel(routing::SkillRequirement& s, int level) { s.min_level = level; }

template <typename Requirements>
Offset<flatbuffers::Vector<Offset<fb::Skill>>> Skills(
    FlatBufferBuilder& b, const Requirements& skills) {
  std::vector<Offset<fb::Skill>> out;
  out.reserve(skills.size());
  for (const auto& s : skills) {
    out.push_back(fb::CreateSkill(b, b.CreateString(s.skill), LevelOf(s)));
  }
  return b.CreateVector(out);
}

Offset<fb::Agent> EncodeAgent(FlatBufferBuilder& b,
                              const routing::AgentSnapshot& a) {
  const routing::AgentProfile& p = a.profile;
  auto id = b.CreateString(p.id);
  auto skills = Skills(b, p.skills);
  std::vector<Offset<fb::Language>> languages;
  for (const auto& l : p.languages) {
    languages.push_back(
        fb::CreateLanguage(b, b.CreateString(l.language), l.fluency));
  }
  auto language_vector = b.CreateVector(languages);
  auto capacity = b.CreateVector(p.capacity.data(), p.capacity.size());
  auto team = b.CreateString(p.team);
  auto site = b.CreateString(p.site);
  auto attributes = Attributes(b, p.attributes);
  fb::AgentBuilder agent(b);
  agent.add_id(id);
  agent.add_skills(skills);
  agent.add_languages(language_vector);
  agent.add_capacity(capacity);
  agent.add_max_total_contacts(p.max_total_contacts);
  agent.add_team(team);
  agent.add_site(site);
  agent.add_attributes(attributes);
  agent.add_state(static_cast<uint8_t>(a.state));
  agent.add_state_since_ns(Nanos(a.state_since));
  agent.add_idle_since_ns(Nanos(a.idle_since));
  agent.add_logged_in_ns(Nanos(a.logged_in_at));
  agent.add_handled_ns(absl::ToInt64Nanoseconds(a.handled));
  agent.add_contacts_handled(a.contacts_handled);
  return agent.Finish();
}

Offset<fb::Contact> EncodeContact(FlatBufferBuilder& b,
                                  const routing::ContactSnapshot& s) {
  const routing::Contact& c = s.contact;
  auto id = b.CreateString(c.id);
  auto queue = b.CreateString(c.queue);
  auto required = Skills(b, c.required_skills);
  auto desired = Skills(b, c.desired_skills);
  auto languages = b.CreateVectorOfStrings(c.languages);
  auto customer = b.CreateString(c.customer_id);
  auto preferred = b.CreateVectorOfStrings(c.preferred_agents);
  auto excluded = b.CreateVectorOfStrings(c.excluded_agents);
  auto attributes = Attributes(b, c.attributes);
  auto agent_id = b.CreateString(s.agent_id);
  fb::ContactBuilder contact(b);
  contact.add_id(id);
  contact.add_channel(static_cast<uint8_t>(c.channel));
  contact.add_queue(queue);
  contact.add_required_skills(required);
  contact.add_desired_skills(desired);
  contact.add_languages(languages);
  contact.add_priority(c.priority);
  contact.add_customer_id(customer);
  contact.add_preferred_agents(preferred);
  contact.add_excluded_agents(excluded);
  contact.add_enqueue_ns(Nanos(c.enqueue_time));
  contact.add_attributes(attributes);
  contact.add_state(static_cast<uint8_t>(s.state));
  contact.add_planned_ns(Nanos(s.planned_at));
  contact.add_placement(s.placement);
  contact.add_agent_id(agent_id);
  contact.add_assigned_ns(Nanos(s.assigned_at));
  contact.add_offer_expires_ns(Nanos(s.offer_expires_at));
  contact.add_aged_arrival_ns(Nanos(s.aged_arrival));
  return contact.Finish();
}

absl::Status Damaged(const std::string& what) {
  return absl::DataLossError(absl::StrCat("snapshot: ", what));
}

std::vector<std::string> Strings(
    const flatbuffers::Vector<Offset<flatbuffers::String>>* v) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  out.reserve(v->size());
  for (const auto* s : *v) out.push_back(Text(s));
  return out;
}

template <typename Out>
void ReadAttributes(const flatbuffers::Vector<Offset<fb::Attribute>>* v,
                    Out* out) {
  if (v == nullptr) return;
  for (const fb::Attribute* a : *v) {
    (*out)[Text(a->key())] = Text(a->value());
  }
}

template <typename Requirement>
std::vector<Requirement> ReadSkills(
    const flatbuffers::Vector<Offset<fb::Skill>>* v) {
  std::vector<Requirement> out;
  if (v == nullptr) return out;
  for (const fb::Skill* s : *v) {
    Requirement r;
    r.skill = Text(s->name());
    SetLevel(r, s->level());
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

std::string EncodeSnapshot(const SnapshotInfo& info,
                           const routing::RouterState& state) {
  FlatBufferBuilder b(1 << 20);
  std::vector<Offset<fb::Agent>> agents;
  agents.reserve(state.agents.size());
  for (const auto& a : state.agents) agents.push_back(EncodeAgent(b, a));
  auto agent_vector = b.CreateVector(agents);
  std::vector<Offset<fb::Contact>> contacts;
  contacts.reserve(state.contacts.size());
  for (const auto& c : state.contacts) contacts.push_back(EncodeContact(b, c));
  auto contact_vector = b.CreateVector(contacts);

  // History: agent ids once, interactions by index.
  std::vector<std::string> history_agents;
  absl::flat_hash_map<std::string, uint32_t> agent_numbers;
  std::vector<uint64_t> keys;
  std::vector<uint8_t> counts;
  std::vector<fb::Interaction> interactions;
  keys.reserve(state.customers.size());
  counts.reserve(state.customers.size());
  for (const routing::CustomerSnapshot& customer : state.customers) {
    const size_t n = std::min<size_t>(customer.interactions.size(), 255);
    keys.push_back(customer.customer_key);
    counts.push_back(static_cast<uint8_t>(n));
    for (size_t i = 0; i < n; ++i) {
      const routing::CustomerInteraction& x = customer.interactions[i];
      auto [it, added] = agent_numbers.try_emplace(
          x.agent_id, static_cast<uint32_t>(history_agents.size()));
      if (added) history_agents.push_back(x.agent_id);
      interactions.emplace_back(absl::ToUnixSeconds(x.time), it->second,
                                static_cast<uint8_t>(x.channel),
                                static_cast<uint8_t>(x.outcome));
    }
  }
  auto history_agent_vector = b.CreateVectorOfStrings(history_agents);
  auto key_vector = b.CreateVector(keys);
  auto count_vector = b.CreateVector(counts);
  auto interaction_vector = b.CreateVectorOfStructs(interactions);
  auto rules_file = b.CreateString(info.rules_file);
  auto rules_source = b.CreateString(info.rules_source);

  fb::SnapshotBuilder snapshot(b);
  snapshot.add_schema_version(kSnapshotSchemaVersion);
  snapshot.add_sequence(info.sequence);
  snapshot.add_taken_ns(Nanos(info.taken_at));
  snapshot.add_rules_file(rules_file);
  snapshot.add_rules_source(rules_source);
  snapshot.add_rules_version(info.rules_version);
  snapshot.add_agents(agent_vector);
  snapshot.add_contacts(contact_vector);
  snapshot.add_history_agents(history_agent_vector);
  snapshot.add_customer_keys(key_vector);
  snapshot.add_interaction_counts(count_vector);
  snapshot.add_interactions(interaction_vector);
  b.Finish(snapshot.Finish(), fb::SnapshotIdentifier());
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()),
                     b.GetSize());
}

absl::StatusOr<Snapshot> DecodeSnapshot(std::string_view body) {
  const auto* data = reinterpret_cast<const uint8_t*>(body.data());
  if (!flatbuffers::BufferHasIdentifier(data, fb::SnapshotIdentifier())) {
    return Damaged("not a snapshot (file identifier is not RSN1)");
  }
  // Snapshots hold millions of tables: the verifier's default limit of a
  // million is raised with the size.
  flatbuffers::Verifier verifier(data, body.size(), /*max_depth=*/64,
                                 /*max_tables=*/body.size());
  if (!fb::VerifySnapshotBuffer(verifier)) {
    return Damaged(absl::StrCat("the ", body.size(),
                                "-byte body fails FlatBuffers verification"));
  }
  const fb::Snapshot* root = fb::GetSnapshot(data);
  if (root->schema_version() != kSnapshotSchemaVersion) {
    return Damaged(absl::StrCat("schema version ", root->schema_version(),
                                "; this routingd reads version ",
                                kSnapshotSchemaVersion));
  }
  Snapshot out;
  out.info.sequence = root->sequence();
  out.info.taken_at = FromNanos(root->taken_ns());
  out.info.rules_file = Text(root->rules_file());
  out.info.rules_source = Text(root->rules_source());
  out.info.rules_version = root->rules_version();

  routing::RouterState& state = out.state;
  if (const auto* agents = root->agents()) {
    state.agents.reserve(agents->size());
    for (const fb::Agent* a : *agents) {
      routing::AgentSnapshot agent;
      routing::AgentProfile& p = agent.profile;
      p.id = Text(a->id());
      p.skills = ReadSkills<routing::AgentSkill>(a->skills());
      if (a->languages() != nullptr) {
        for (const fb::Language* l : *a->languages()) {
          p.languages.push_back({Text(l->tag()), l->fluency()});
        }
      }
      if (a->capacity() != nullptr) {
        if (a->capacity()->size() > p.capacity.size()) {
          return Damaged(absl::StrCat("agent '", p.id, "' has capacity for ",
                                      a->capacity()->size(), " channels"));
        }
        for (size_t c = 0; c < a->capacity()->size(); ++c) {
          p.capacity[c] = a->capacity()->Get(c);
        }
      }
      p.max_total_contacts = a->max_total_contacts();
      p.team = Text(a->team());
      p.site = Text(a->site());
      ReadAttributes(a->attributes(), &p.attributes);
      agent.state = static_cast<routing::AgentState>(a->state());
      agent.state_since = FromNanos(a->state_since_ns());
      agent.idle_since = FromNanos(a->idle_since_ns());
      agent.logged_in_at = FromNanos(a->logged_in_ns());
      agent.handled = absl::Nanoseconds(a->handled_ns());
      agent.contacts_handled = a->contacts_handled();
      state.agents.push_back(std::move(agent));
    }
  }
  if (const auto* contacts = root->contacts()) {
    state.contacts.reserve(contacts->size());
    for (const fb::Contact* c : *contacts) {
      routing::ContactSnapshot contact;
      routing::Contact& x = contact.contact;
      x.id = Text(c->id());
      x.channel = static_cast<routing::Channel>(c->channel());
      x.queue = Text(c->queue());
      x.required_skills =
          ReadSkills<routing::SkillRequirement>(c->required_skills());
      x.desired_skills =
          ReadSkills<routing::SkillRequirement>(c->desired_skills());
      x.languages = Strings(c->languages());
      x.priority = c->priority();
      x.customer_id = Text(c->customer_id());
      x.preferred_agents = Strings(c->preferred_agents());
      x.excluded_agents = Strings(c->excluded_agents());
      x.enqueue_time = FromNanos(c->enqueue_ns());
      ReadAttributes(c->attributes(), &x.attributes);
      contact.state = static_cast<routing::ContactSnapshot::State>(c->state());
      contact.planned_at = FromNanos(c->planned_ns());
      contact.placement = c->placement();
      contact.agent_id = Text(c->agent_id());
      contact.assigned_at = FromNanos(c->assigned_ns());
      contact.offer_expires_at = FromNanos(c->offer_expires_ns());
      contact.aged_arrival = FromNanos(c->aged_arrival_ns());
      state.contacts.push_back(std::move(contact));
    }
  }
  const auto* keys = root->customer_keys();
  const auto* counts = root->interaction_counts();
  const auto* interactions = root->interactions();
  const size_t customers = keys != nullptr ? keys->size() : 0;
  if ((counts != nullptr ? counts->size() : 0) != customers) {
    return Damaged(absl::StrCat(customers, " customer keys but ",
                                counts != nullptr ? counts->size() : 0,
                                " interaction counts"));
  }
  const std::vector<std::string> history_agents =
      Strings(root->history_agents());
  const size_t available = interactions != nullptr ? interactions->size() : 0;
  size_t next = 0;
  state.customers.reserve(customers);
  for (size_t i = 0; i < customers; ++i) {
    routing::CustomerSnapshot customer;
    customer.customer_key = keys->Get(i);
    const size_t n = counts->Get(i);
    if (next + n > available) {
      return Damaged(absl::StrCat("customer ", i + 1, " of ", customers,
                                  " runs past the ", available,
                                  " interactions"));
    }
    customer.interactions.reserve(n);
    for (size_t k = 0; k < n; ++k, ++next) {
      const fb::Interaction* x = interactions->Get(next);
      if (x->agent() >= history_agents.size()) {
        return Damaged(absl::StrCat("an interaction names agent number ",
                                    x->agent(), " of ",
                                    history_agents.size()));
      }
      customer.interactions.push_back(
          {history_agents[x->agent()],
           static_cast<routing::Channel>(x->channel()),
           static_cast<routing::ContactOutcome>(x->outcome()),
           absl::FromUnixSeconds(x->time_s())});
    }
    state.customers.push_back(std::move(customer));
  }
  return out;
}

}  // namespace journal
