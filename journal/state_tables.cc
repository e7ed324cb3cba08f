#include "journal/state_tables.h"

#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"

namespace journal {
namespace {

namespace fb = routing::journal::fb;
using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

// The offsets of a vector's elements, made before the vector: on the stack
// for the few a profile or a contact holds (encoding a record allocates
// nothing but the builder's buffer, kept between records).
template <typename T>
using Offsets = absl::InlinedVector<Offset<T>, 8>;

template <typename T>
Offset<flatbuffers::Vector<Offset<T>>> VectorOf(FlatBufferBuilder& b,
                                               const Offsets<T>& offsets) {
  return b.CreateVector(offsets.data(), offsets.size());
}

Offset<flatbuffers::Vector<Offset<flatbuffers::String>>> Strings(
    FlatBufferBuilder& b, const std::vector<std::string>& strings) {
  Offsets<flatbuffers::String> out;
  for (const std::string& s : strings) out.push_back(b.CreateString(s));
  return VectorOf(b, out);
}

template <typename Map>
Offset<flatbuffers::Vector<Offset<fb::Attribute>>> Attributes(
    FlatBufferBuilder& b, const Map& attributes) {
  Offsets<fb::Attribute> out;
  for (const auto& [key, value] : attributes) {
    out.push_back(fb::CreateAttribute(b, b.CreateString(key),
                                      b.CreateString(value)));
  }
  return VectorOf(b, out);
}

int LevelOf(const routing::AgentSkill& s) { return s.level; }
int LevelOf(const routing::SkillRequirement& s) { return s.min_level; }
void SetLevel(routing::AgentSkill& s, int level) { s.level = level; }
void SetLevel(routing::SkillRequirement& s, int level) { s.min_level = level; }

template <typename Requirements>
Offset<flatbuffers::Vector<Offset<fb::Skill>>> Skills(
    FlatBufferBuilder& b, const Requirements& skills) {
  Offsets<fb::Skill> out;
  for (const auto& s : skills) {
    out.push_back(fb::CreateSkill(b, b.CreateString(s.skill), LevelOf(s)));
  }
  return VectorOf(b, out);
}

// The state fields of an Agent table (the rest of it is the profile).
void AddAgentState(fb::AgentBuilder& agent, const routing::AgentView& a) {
  agent.add_state(static_cast<uint8_t>(a.state));
  agent.add_state_since_ns(TimeToNanos(a.state_since));
  agent.add_idle_since_ns(TimeToNanos(a.idle_since));
  agent.add_logged_in_ns(TimeToNanos(a.logged_in_at));
  agent.add_handled_ns(absl::ToInt64Nanoseconds(a.handled));
  agent.add_contacts_handled(a.contacts_handled);
}

}  // namespace

Offset<fb::Agent> EncodeAgent(FlatBufferBuilder& b,
                              const routing::AgentView& a) {
  const routing::AgentProfile& p = *a.profile;
  auto id = b.CreateString(p.id);
  auto skills = Skills(b, p.skills);
  Offsets<fb::Language> languages;
  for (const auto& l : p.languages) {
    languages.push_back(
        fb::CreateLanguage(b, b.CreateString(l.language), l.fluency));
  }
  auto language_vector = VectorOf(b, languages);
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
  AddAgentState(agent, a);
  return agent.Finish();
}

Offset<fb::Agent> EncodeAgentState(FlatBufferBuilder& b,
                                   const routing::AgentView& a) {
  fb::AgentBuilder agent(b);
  AddAgentState(agent, a);
  return agent.Finish();
}

Offset<fb::Contact> EncodeContact(FlatBufferBuilder& b,
                                  const routing::ContactView& s) {
  const routing::Contact& c = *s.contact;
  auto id = b.CreateString(c.id);
  auto queue = b.CreateString(c.queue);
  auto required = Skills(b, c.required_skills);
  auto desired = Skills(b, c.desired_skills);
  auto languages = Strings(b, c.languages);
  auto customer = b.CreateString(c.customer_id);
  auto preferred = Strings(b, c.preferred_agents);
  auto excluded = Strings(b, c.excluded_agents);
  auto attributes = Attributes(b, c.attributes);
  auto agent_id = b.CreateString(s.agent_id.data(), s.agent_id.size());
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
  contact.add_enqueue_ns(TimeToNanos(c.enqueue_time));
  contact.add_attributes(attributes);
  contact.add_state(static_cast<uint8_t>(s.state));
  contact.add_planned_ns(TimeToNanos(s.planned_at));
  contact.add_placement(s.placement);
  contact.add_agent_id(agent_id);
  contact.add_assigned_ns(TimeToNanos(s.assigned_at));
  contact.add_offer_expires_ns(TimeToNanos(s.offer_expires_at));
  contact.add_aged_arrival_ns(TimeToNanos(s.aged_arrival));
  return contact.Finish();
}

namespace {


template <typename Out>
void ReadAttributes(const flatbuffers::Vector<Offset<fb::Attribute>>* v,
                    Out* out) {
  if (v == nullptr) return;
  for (const fb::Attribute* a : *v) {
    (*out)[FlatText(a->key())] = FlatText(a->value());
  }
}

template <typename Requirement>
std::vector<Requirement> ReadSkills(
    const flatbuffers::Vector<Offset<fb::Skill>>* v) {
  std::vector<Requirement> out;
  if (v == nullptr) return out;
  for (const fb::Skill* s : *v) {
    Requirement r;
    r.skill = FlatText(s->name());
    SetLevel(r, s->level());
    out.push_back(std::move(r));
  }
  return out;
}


}  // namespace

std::vector<std::string> FlatStrings(
    const flatbuffers::Vector<Offset<flatbuffers::String>>* v) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  out.reserve(v->size());
  for (const auto* s : *v) out.push_back(FlatText(s));
  return out;
}

absl::StatusOr<routing::AgentSnapshot> DecodeAgent(const fb::Agent& a) {
  routing::AgentSnapshot agent;
  routing::AgentProfile& p = agent.profile;
  p.id = FlatText(a.id());
  p.skills = ReadSkills<routing::AgentSkill>(a.skills());
  if (a.languages() != nullptr) {
    for (const fb::Language* l : *a.languages()) {
      p.languages.push_back({FlatText(l->tag()), l->fluency()});
    }
  }
  if (a.capacity() != nullptr) {
    if (a.capacity()->size() > p.capacity.size()) {
      return absl::DataLossError(absl::StrCat("snapshot: ", absl::StrCat("agent '", p.id, "' has capacity for ",
                                  a.capacity()->size(), " channels")));
    }
    for (size_t c = 0; c < a.capacity()->size(); ++c) {
      p.capacity[c] = a.capacity()->Get(c);
    }
  }
  p.max_total_contacts = a.max_total_contacts();
  p.team = FlatText(a.team());
  p.site = FlatText(a.site());
  ReadAttributes(a.attributes(), &p.attributes);
  agent.state = static_cast<routing::AgentState>(a.state());
  agent.state_since = NanosToTime(a.state_since_ns());
  agent.idle_since = NanosToTime(a.idle_since_ns());
  agent.logged_in_at = NanosToTime(a.logged_in_ns());
  agent.handled = absl::Nanoseconds(a.handled_ns());
  agent.contacts_handled = a.contacts_handled();
  return agent;
}

routing::ContactSnapshot DecodeContact(const fb::Contact& c) {
  routing::ContactSnapshot contact;
  routing::Contact& x = contact.contact;
  x.id = FlatText(c.id());
  x.channel = static_cast<routing::Channel>(c.channel());
  x.queue = FlatText(c.queue());
  x.required_skills =
      ReadSkills<routing::SkillRequirement>(c.required_skills());
  x.desired_skills =
      ReadSkills<routing::SkillRequirement>(c.desired_skills());
  x.languages = FlatStrings(c.languages());
  x.priority = c.priority();
  x.customer_id = FlatText(c.customer_id());
  x.preferred_agents = FlatStrings(c.preferred_agents());
  x.excluded_agents = FlatStrings(c.excluded_agents());
  x.enqueue_time = NanosToTime(c.enqueue_ns());
  ReadAttributes(c.attributes(), &x.attributes);
  contact.state = static_cast<routing::ContactSnapshot::State>(c.state());
  contact.planned_at = NanosToTime(c.planned_ns());
  contact.placement = c.placement();
  contact.agent_id = FlatText(c.agent_id());
  contact.assigned_at = NanosToTime(c.assigned_ns());
  contact.offer_expires_at = NanosToTime(c.offer_expires_ns());
  contact.aged_arrival = NanosToTime(c.aged_arrival_ns());
  return contact;
}

}  // namespace journal
