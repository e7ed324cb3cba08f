#include "journal/journal_record.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "flatbuffers/flatbuffers.h"
#include "journal/journal_generated.h"
#include "journal/state_tables.h"

namespace journal {
namespace {

namespace fb = routing::journal::fb;

absl::Status Damaged(const std::string& what) {
  return absl::DataLossError(absl::StrCat("journal record: ", what));
}

}  // namespace

std::string EncodeRecord(const JournalRecord& record) {
  // One builder per thread, its buffer kept between records: a record
  // (request, reply, the contacts and agents it changed) is a few KiB, and
  // growing a fresh 1 KiB buffer to that size copied it several times.
  thread_local flatbuffers::FlatBufferBuilder b(16 * 1024);
  b.Clear();
  auto request = b.CreateVector(
      reinterpret_cast<const uint8_t*>(record.request.data()),
      record.request.size());
  auto reply = b.CreateVector(
      reinterpret_cast<const uint8_t*>(record.reply.data()),
      record.reply.size());
  std::vector<flatbuffers::Offset<fb::ContactChange>> contacts;
  contacts.reserve(record.contacts.size());
  for (const ContactChange& change : record.contacts) {
    auto id = b.CreateString(change.id);
    flatbuffers::Offset<fb::Contact> contact;
    if (change.contact.has_value()) contact = EncodeContact(b, *change.contact);
    contacts.push_back(fb::CreateContactChange(b, id, contact));
  }
  auto contact_vector = b.CreateVector(contacts);
  std::vector<flatbuffers::Offset<fb::AgentChange>> agents;
  agents.reserve(record.agents.size());
  for (const AgentChange& change : record.agents) {
    auto id = b.CreateString(change.id);
    flatbuffers::Offset<fb::Agent> agent;
    if (change.agent.has_value()) agent = EncodeAgent(b, *change.agent);
    agents.push_back(fb::CreateAgentChange(b, id, agent));
  }
  auto agent_vector = b.CreateVector(agents);
  std::vector<flatbuffers::Offset<fb::HistoryAddition>> history;
  history.reserve(record.history.size());
  for (const HistoryAddition& h : record.history) {
    history.push_back(fb::CreateHistoryAddition(
        b, h.customer_key, b.CreateString(h.interaction.agent_id),
        static_cast<uint8_t>(h.interaction.channel),
        static_cast<uint8_t>(h.interaction.outcome),
        absl::ToUnixSeconds(h.interaction.time)));
  }
  auto history_vector = b.CreateVector(history);
  auto rules_file = b.CreateString(record.rules_file);
  auto rules_source = b.CreateString(record.rules_source);
  std::vector<flatbuffers::Offset<fb::Assignment>> assignments;
  for (const RecordedAssignment& a : record.assignments) {
    const routing::RoutingDecision& d = a.decision;
    std::vector<flatbuffers::Offset<fb::ScoreTerm>> terms;
    for (const routing::ScoreComponent& c : d.components) {
      terms.push_back(fb::CreateScoreTerm(b, b.CreateString(c.name), c.value,
                                          c.weight, c.contribution,
                                          b.CreateString(c.detail)));
    }
    std::vector<flatbuffers::Offset<fb::RunnerUp>> runners;
    for (const routing::RoutingDecision::RunnerUp& r : d.runners_up) {
      runners.push_back(
          fb::CreateRunnerUp(b, b.CreateString(r.agent_id), r.score));
    }
    assignments.push_back(fb::CreateAssignment(
        b, b.CreateString(a.contact_id), b.CreateString(d.agent_id),
        b.CreateString(a.queue), absl::ToInt64Milliseconds(a.waited), d.score,
        d.eligible_agents, d.offered, d.policy_version, d.rules_version,
        d.rules_step, b.CreateVector(terms), b.CreateVector(runners)));
  }
  auto assignment_vector =
      assignments.empty() ? flatbuffers::Offset<flatbuffers::Vector<
                                flatbuffers::Offset<fb::Assignment>>>()
                          : b.CreateVector(assignments);
  fb::RecordBuilder out(b);
  out.add_schema_version(kRecordSchemaVersion);
  out.add_kind(static_cast<fb::RecordKind>(record.kind));
  out.add_time_ns(TimeToNanos(record.time));
  out.add_request(request);
  out.add_reply(reply);
  out.add_contacts(contact_vector);
  out.add_agents(agent_vector);
  out.add_history(history_vector);
  out.add_rules_file(rules_file);
  out.add_rules_source(rules_source);
  out.add_rules_version(record.rules_version);
  if (!assignments.empty()) out.add_assignments(assignment_vector);
  b.Finish(out.Finish(), fb::RecordIdentifier());
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()),
                     b.GetSize());
}

absl::StatusOr<JournalRecord> DecodeRecord(std::string_view body) {
  const auto* data = reinterpret_cast<const uint8_t*>(body.data());
  if (body.size() < 8 ||
      !flatbuffers::BufferHasIdentifier(data, fb::RecordIdentifier())) {
    return Damaged("not a journal record (file identifier is not RJR1)");
  }
  flatbuffers::Verifier verifier(data, body.size());
  if (!fb::VerifyRecordBuffer(verifier)) {
    return Damaged(absl::StrCat("the ", body.size(),
                                "-byte body fails FlatBuffers verification"));
  }
  const fb::Record* root = fb::GetRecord(data);
  if (root->schema_version() != kRecordSchemaVersion) {
    return Damaged(absl::StrCat("schema version ", root->schema_version(),
                                "; this routingd reads version ",
                                kRecordSchemaVersion));
  }
  if (root->kind() > fb::RecordKind::MAX) {
    return Damaged(absl::StrCat("unknown record kind ",
                                static_cast<int>(root->kind())));
  }
  JournalRecord record;
  record.kind = static_cast<RecordKind>(root->kind());
  record.time = NanosToTime(root->time_ns());
  if (root->request() != nullptr) {
    record.request.assign(
        reinterpret_cast<const char*>(root->request()->data()),
        root->request()->size());
  }
  if (root->reply() != nullptr) {
    record.reply.assign(reinterpret_cast<const char*>(root->reply()->data()),
                        root->reply()->size());
  }
  if (root->contacts() != nullptr) {
    for (const fb::ContactChange* c : *root->contacts()) {
      ContactChange change;
      change.id = FlatText(c->id());
      if (c->contact() != nullptr) change.contact = DecodeContact(*c->contact());
      record.contacts.push_back(std::move(change));
    }
  }
  if (root->agents() != nullptr) {
    for (const fb::AgentChange* a : *root->agents()) {
      AgentChange change;
      change.id = FlatText(a->id());
      if (a->agent() != nullptr) {
        auto agent = DecodeAgent(*a->agent());
        if (!agent.ok()) return agent.status();
        change.agent = *std::move(agent);
      }
      record.agents.push_back(std::move(change));
    }
  }
  if (root->history() != nullptr) {
    for (const fb::HistoryAddition* h : *root->history()) {
      record.history.push_back(
          {h->customer_key(),
           {FlatText(h->agent_id()), static_cast<routing::Channel>(h->channel()),
            static_cast<routing::ContactOutcome>(h->outcome()),
            absl::FromUnixSeconds(h->time_s())}});
    }
  }
  record.rules_file = FlatText(root->rules_file());
  record.rules_source = FlatText(root->rules_source());
  record.rules_version = root->rules_version();
  if (root->assignments() != nullptr) {
    for (const fb::Assignment* a : *root->assignments()) {
      RecordedAssignment assignment;
      assignment.contact_id = FlatText(a->contact_id());
      assignment.queue = FlatText(a->queue());
      assignment.waited = absl::Milliseconds(a->waited_ms());
      routing::RoutingDecision& d = assignment.decision;
      d.contact_id = assignment.contact_id;
      d.outcome = routing::DecisionOutcome::kAssigned;
      d.queue = assignment.queue;
      d.agent_id = FlatText(a->agent_id());
      d.score = a->score();
      d.eligible_agents = a->eligible_agents();
      d.offered = a->offered();
      d.policy_version = a->policy_version();
      d.rules_version = a->rules_version();
      d.rules_step = a->rules_step();
      if (a->components() != nullptr) {
        for (const fb::ScoreTerm* c : *a->components()) {
          d.components.push_back({FlatText(c->name()), c->value(), c->weight(),
                                  c->contribution(), FlatText(c->detail())});
        }
      }
      if (a->runners_up() != nullptr) {
        for (const fb::RunnerUp* r : *a->runners_up()) {
          d.runners_up.push_back({FlatText(r->agent_id()), r->score()});
        }
      }
      record.assignments.push_back(std::move(assignment));
    }
  }
  return record;
}

}  // namespace journal
