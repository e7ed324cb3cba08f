#include "journal/journal_record.h"

#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "flatbuffers/flatbuffers.h"
#include "journal/journal_generated.h"
#include "journal/record_encoder.h"
#include "journal/state_tables.h"

namespace journal {
namespace {

namespace fb = routing::journal::fb;

absl::Status Damaged(const std::string& what) {
  return absl::DataLossError(absl::StrCat("journal record: ", what));
}

}  // namespace

std::string EncodeRecord(const JournalRecord& record) {
  thread_local RecordEncoder encoder;
  encoder.Start(record.kind, record.time);
  for (const ContactChange& change : record.contacts) {
    if (change.contact.has_value()) {
      const routing::ContactView view = routing::ViewOf(*change.contact);
      encoder.AddContact(change.id, &view);
    } else {
      encoder.AddContact(change.id, nullptr);
    }
  }
  for (const AgentChange& change : record.agents) {
    if (change.agent.has_value()) {
      const routing::AgentView view = routing::ViewOf(*change.agent);
      encoder.AddAgent(change.id, &view, !change.profile_unchanged);
    } else {
      encoder.AddAgent(change.id, nullptr);
    }
  }
  for (const HistoryAddition& h : record.history) {
    encoder.AddHistory(h.customer_key, h.interaction);
  }
  for (const RecordedAssignment& a : record.assignments) {
    encoder.AddAssignment(a);
  }
  if (record.kind == RecordKind::kRulesReload || !record.rules_file.empty() ||
      !record.rules_source.empty() || record.rules_version != 0) {
    encoder.SetRules(record.rules_file, record.rules_source,
                     record.rules_version);
  }
  return encoder.Finish(record.request, record.reply);
}

absl::StatusOr<JournalRecord> DecodeRecord(std::string_view body) {
  const auto* data = reinterpret_cast<const uint8_t*>(body.data());
  // FlatBuffers reads its scalars in place, aligned. A body lies wherever
  // its frame put it (after a group frame of any length, or as another
  // writer made it): read from an aligned copy when it is not aligned.
  std::vector<uint64_t> aligned;
  if (reinterpret_cast<uintptr_t>(data) % alignof(uint64_t) != 0) {
    aligned.resize((body.size() + sizeof(uint64_t) - 1) / sizeof(uint64_t));
    std::memcpy(aligned.data(), body.data(), body.size());
    data = reinterpret_cast<const uint8_t*>(aligned.data());
  }
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
  if (root->schema_version() < 1 ||
      root->schema_version() > kRecordSchemaVersion) {
    return Damaged(absl::StrCat("schema version ", root->schema_version(),
                                "; this routingd reads versions 1 to ",
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
        change.profile_unchanged = a->profile_unchanged();
      } else if (a->profile_unchanged()) {
        return Damaged(absl::StrCat("agent '", change.id,
                                    "' has an unchanged profile but no state"));
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
