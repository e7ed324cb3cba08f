#include "journal/record_encoder.h"

#include <vector>

#include "absl/container/inlined_vector.h"
#include "flatbuffers/flatbuffers.h"
#include "journal/journal_generated.h"
#include "journal/state_tables.h"

namespace journal {
namespace {

namespace fb = routing::journal::fb;
using flatbuffers::Offset;

flatbuffers::Offset<flatbuffers::String> Text(flatbuffers::FlatBufferBuilder& b,
                                              std::string_view s) {
  return b.CreateString(s.data(), s.size());
}

}  // namespace

struct RecordEncoder::Under {
  template <typename T>
  using Offsets = std::vector<Offset<T>>;

  // A record (request, reply, the contacts and agents it changed) is a few
  // KiB: a buffer that starts there is not grown and copied for each one.
  flatbuffers::FlatBufferBuilder b{16 * 1024};
  RecordKind kind = RecordKind::kRequest;
  absl::Time time = absl::InfinitePast();
  Offsets<fb::ContactChange> contacts;
  Offsets<fb::AgentChange> agents;
  Offsets<fb::HistoryAddition> history;
  Offsets<fb::Assignment> assignments;
  Offset<flatbuffers::String> rules_file;
  Offset<flatbuffers::String> rules_source;
  uint64_t rules_version = 0;
};

RecordEncoder::RecordEncoder() : under_(std::make_unique<Under>()) {}
RecordEncoder::~RecordEncoder() = default;

void RecordEncoder::Start(RecordKind kind, absl::Time time) {
  Under& u = *under_;
  u.b.Clear();
  u.kind = kind;
  u.time = time;
  u.contacts.clear();
  u.agents.clear();
  u.history.clear();
  u.assignments.clear();
  u.rules_file = u.rules_source = 0;
  u.rules_version = 0;
}

void RecordEncoder::AddContact(std::string_view id,
                               const routing::ContactView* contact) {
  Under& u = *under_;
  auto id_offset = Text(u.b, id);
  Offset<fb::Contact> table;
  if (contact != nullptr) table = EncodeContact(u.b, *contact);
  u.contacts.push_back(fb::CreateContactChange(u.b, id_offset, table));
}

void RecordEncoder::AddAgent(std::string_view id,
                             const routing::AgentView* agent,
                             bool with_profile) {
  Under& u = *under_;
  auto id_offset = Text(u.b, id);
  Offset<fb::Agent> table;
  if (agent != nullptr) {
    table = with_profile ? EncodeAgent(u.b, *agent)
                         : EncodeAgentState(u.b, *agent);
  }
  u.agents.push_back(fb::CreateAgentChange(
      u.b, id_offset, table, agent != nullptr && !with_profile));
}

void RecordEncoder::AddHistory(uint64_t customer_key,
                               const routing::CustomerInteraction& x) {
  Under& u = *under_;
  u.history.push_back(fb::CreateHistoryAddition(
      u.b, customer_key, Text(u.b, x.agent_id), static_cast<uint8_t>(x.channel),
      static_cast<uint8_t>(x.outcome), absl::ToUnixSeconds(x.time)));
}

void RecordEncoder::AddAssignment(const RecordedAssignment& a) {
  Under& u = *under_;
  const routing::RoutingDecision& d = a.decision;
  absl::InlinedVector<Offset<fb::ScoreTerm>, 8> terms;
  for (const routing::ScoreComponent& c : d.components) {
    terms.push_back(fb::CreateScoreTerm(u.b, Text(u.b, c.name), c.value,
                                        c.weight, c.contribution,
                                        Text(u.b, c.detail)));
  }
  auto term_vector = u.b.CreateVector(terms.data(), terms.size());
  absl::InlinedVector<Offset<fb::RunnerUp>, 8> runners;
  for (const routing::RoutingDecision::RunnerUp& r : d.runners_up) {
    runners.push_back(fb::CreateRunnerUp(u.b, Text(u.b, r.agent_id), r.score));
  }
  auto runner_vector = u.b.CreateVector(runners.data(), runners.size());
  auto contact_id = Text(u.b, a.contact_id);
  auto agent_id = Text(u.b, d.agent_id);
  auto queue = Text(u.b, a.queue);
  u.assignments.push_back(fb::CreateAssignment(
      u.b, contact_id, agent_id, queue, absl::ToInt64Milliseconds(a.waited),
      d.score, d.eligible_agents, d.offered, d.policy_version, d.rules_version,
      d.rules_step, term_vector, runner_vector));
}

void RecordEncoder::SetRules(std::string_view file, std::string_view source,
                             uint64_t version) {
  Under& u = *under_;
  u.rules_file = Text(u.b, file);
  u.rules_source = Text(u.b, source);
  u.rules_version = version;
}

std::string RecordEncoder::Finish(std::string_view request,
                                  std::string_view reply) {
  std::string body;
  FinishInto(request, reply, &body);
  return body;
}

void RecordEncoder::FinishInto(std::string_view request,
                               std::string_view reply, std::string* body) {
  Under& u = *under_;
  auto request_vector = u.b.CreateVector(
      reinterpret_cast<const uint8_t*>(request.data()), request.size());
  auto reply_vector = u.b.CreateVector(
      reinterpret_cast<const uint8_t*>(reply.data()), reply.size());
  auto contact_vector = u.b.CreateVector(u.contacts);
  auto agent_vector = u.b.CreateVector(u.agents);
  auto history_vector = u.b.CreateVector(u.history);
  Offset<flatbuffers::Vector<Offset<fb::Assignment>>> assignment_vector;
  if (!u.assignments.empty())
    assignment_vector = u.b.CreateVector(u.assignments);
  fb::RecordBuilder out(u.b);
  out.add_schema_version(kRecordSchemaVersion);
  out.add_kind(static_cast<fb::RecordKind>(u.kind));
  out.add_time_ns(TimeToNanos(u.time));
  out.add_request(request_vector);
  out.add_reply(reply_vector);
  out.add_contacts(contact_vector);
  out.add_agents(agent_vector);
  out.add_history(history_vector);
  // Null offsets (no SetRules) are left out: read as empty.
  out.add_rules_file(u.rules_file);
  out.add_rules_source(u.rules_source);
  out.add_rules_version(u.rules_version);
  if (!u.assignments.empty()) out.add_assignments(assignment_vector);
  u.b.Finish(out.Finish(), fb::RecordIdentifier());
  body->assign(reinterpret_cast<const char*>(u.b.GetBufferPointer()),
               u.b.GetSize());
}

}  // namespace journal
