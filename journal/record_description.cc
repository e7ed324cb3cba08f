#include "journal/record_description.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "sidecar/request_affinity.h"
#include "sidecar/request_decoder.h"
#include "sidecar/routing_generated.h"

namespace journal {
namespace {

namespace wire = routing::sidecar::wire;
using nlohmann::json;

const char* KindName(RecordKind kind) {
  switch (kind) {
    case RecordKind::kRequest:
      return "request";
    case RecordKind::kQueueAdvance:
      return "queue_advance";
    case RecordKind::kRulesReload:
      return "rules_reload";
    case RecordKind::kRestored:
      return "restored";
  }
  return "?";
}

const char* StateName(routing::ContactSnapshot::State state) {
  switch (state) {
    case routing::ContactSnapshot::State::kQueued:
      return "queued";
    case routing::ContactSnapshot::State::kAssigned:
      return "assigned";
    case routing::ContactSnapshot::State::kOffered:
      return "offered";
  }
  return "?";
}

const char* PresenceName(routing::AgentState state) {
  switch (state) {
    case routing::AgentState::kLoggedOut:
      return "logged_out";
    case routing::AgentState::kAvailable:
      return "available";
    case routing::AgentState::kBusy:
      return "busy";
    case routing::AgentState::kAfterCallWork:
      return "after_call_work";
    case routing::AgentState::kBreak:
      return "break";
  }
  return "?";
}

std::string Text(const flatbuffers::String* s) {
  return s == nullptr ? std::string() : s->str();
}

json DescribeRequest(const std::string& bytes) {
  if (bytes.empty()) return nullptr;
  std::vector<uint64_t> scratch;
  const uint8_t* data = routing::sidecar::AlignedCopy(
      reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &scratch);
  routing::sidecar::RequestDecoderOptions options;
  options.max_message_bytes = bytes.size();
  const routing::sidecar::DecodedRequest decoded =
      routing::sidecar::DecodeRequest(data, bytes.size(), options);
  if (!decoded.ok()) {
    return {{"type", "unreadable"}, {"bytes", bytes.size()},
            {"problem", decoded.message}};
  }
  json out = {{"type", wire::EnumNameRequestBody(decoded.request->body_type())},
              {"request_id", decoded.request_id}};
  const routing::sidecar::AffinityKey key =
      routing::sidecar::AffinityKeyOf(data, bytes.size());
  if (key.kind == routing::sidecar::AffinityKey::Kind::kContact) {
    out["contact"] = std::string(key.id);
  } else if (key.kind == routing::sidecar::AffinityKey::Kind::kAgent) {
    out["agent"] = std::string(key.id);
  }
  return out;
}

json DescribeReply(const std::string& bytes) {
  if (bytes.empty()) return nullptr;
  std::vector<uint64_t> scratch;
  const uint8_t* data = routing::sidecar::AlignedCopy(
      reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &scratch);
  flatbuffers::Verifier verifier(data, bytes.size());
  if (!verifier.VerifyBuffer<wire::Reply>(routing::sidecar::kFileIdentifier)) {
    return {{"type", "unreadable"}, {"bytes", bytes.size()}};
  }
  const wire::Reply* reply = flatbuffers::GetRoot<wire::Reply>(data);
  json out = {{"type", wire::EnumNameReplyBody(reply->body_type())}};
  if (const wire::Error* error = reply->body_as_Error()) {
    out["code"] = wire::EnumNameErrorCode(error->code());
    out["message"] = Text(error->message());
  } else if (const wire::Decision* d = reply->body_as_Decision()) {
    out["outcome"] = wire::EnumNameDecisionOutcome(d->outcome());
    out["contact"] = Text(d->contact_id());
    out["queue"] = Text(d->queue());
    if (d->outcome() == wire::DecisionOutcome::Assigned) {
      out["agent"] = Text(d->agent_id());
      out["score"] = d->score();
      out["eligible_agents"] = d->eligible_agents();
      if (d->offered()) out["offered"] = true;
    } else {
      out["queue_position"] = d->queue_position();
      out["estimated_wait_ms"] = d->estimated_wait_ms();
    }
    json components = json::array();
    if (d->components() != nullptr) {
      for (const wire::ScoreComponent* c : *d->components()) {
        components.push_back({{"name", Text(c->name())},
                              {"value", c->value()},
                              {"weight", c->weight()},
                              {"contribution", c->contribution()},
                              {"detail", Text(c->detail())}});
      }
    }
    out["components"] = std::move(components);
    json runners_up = json::array();
    if (d->runners_up() != nullptr) {
      for (const wire::RunnerUp* r : *d->runners_up()) {
        runners_up.push_back(
            {{"agent", Text(r->agent_id())}, {"score", r->score()}});
      }
    }
    if (!runners_up.empty()) out["runners_up"] = std::move(runners_up);
    out["rules_version"] = d->rules_version();
    out["rules_step"] = d->rules_step();
    if (d->rules_fallback()) out["rules_fallback"] = true;
    if (d->explanation() != nullptr) out["explanation"] = Text(d->explanation());
  }
  return out;
}

}  // namespace

json DescribeRecord(uint64_t sequence, const JournalRecord& record) {
  json out = {{"seq", sequence},
              {"time", absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", record.time,
                                        absl::UTCTimeZone())},
              {"kind", KindName(record.kind)}};
  if (json request = DescribeRequest(record.request); !request.is_null()) {
    out["request"] = std::move(request);
  }
  if (json reply = DescribeReply(record.reply); !reply.is_null()) {
    out["reply"] = std::move(reply);
  }
  json contacts = json::array();
  for (const ContactChange& change : record.contacts) {
    if (!change.contact.has_value()) {
      contacts.push_back({{"id", change.id}, {"left", true}});
      continue;
    }
    const routing::ContactSnapshot& c = *change.contact;
    json item = {{"id", change.id},
                 {"state", StateName(c.state)},
                 {"queue", c.contact.queue},
                 {"placement", c.placement}};
    if (!c.agent_id.empty()) item["agent"] = c.agent_id;
    contacts.push_back(std::move(item));
  }
  out["contacts"] = std::move(contacts);
  json agents = json::array();
  for (const AgentChange& change : record.agents) {
    if (!change.agent.has_value()) {
      agents.push_back({{"id", change.id}, {"removed", true}});
      continue;
    }
    agents.push_back(
        {{"id", change.id}, {"state", PresenceName(change.agent->state)}});
  }
  out["agents"] = std::move(agents);
  json history = json::array();
  for (const HistoryAddition& h : record.history) {
    history.push_back({{"customer_key", h.customer_key},
                       {"agent", h.interaction.agent_id},
                       {"time_s", absl::ToUnixSeconds(h.interaction.time)}});
  }
  out["history"] = std::move(history);
  if (!record.assignments.empty()) {
    json assignments = json::array();
    for (const RecordedAssignment& a : record.assignments) {
      const routing::RoutingDecision& d = a.decision;
      json components = json::array();
      for (const routing::ScoreComponent& c : d.components) {
        components.push_back({{"name", c.name},
                              {"value", c.value},
                              {"weight", c.weight},
                              {"contribution", c.contribution},
                              {"detail", c.detail}});
      }
      json runners_up = json::array();
      for (const auto& r : d.runners_up) {
        runners_up.push_back({{"agent", r.agent_id}, {"score", r.score}});
      }
      json item = {{"contact", a.contact_id},
                   {"agent", d.agent_id},
                   {"queue", a.queue},
                   {"waited_ms", absl::ToInt64Milliseconds(a.waited)},
                   {"score", d.score},
                   {"eligible_agents", d.eligible_agents},
                   {"rules_version", d.rules_version},
                   {"rules_step", d.rules_step},
                   {"components", std::move(components)}};
      if (!runners_up.empty()) item["runners_up"] = std::move(runners_up);
      if (d.offered) item["offered"] = true;
      assignments.push_back(std::move(item));
    }
    out["assignments"] = std::move(assignments);
  }
  if (record.kind == RecordKind::kRulesReload) {
    out["rules"] = {{"file", record.rules_file},
                    {"version", record.rules_version},
                    {"bytes", record.rules_source.size()}};
  }
  return out;
}

std::string RecordLine(uint64_t sequence, const JournalRecord& record) {
  const json d = DescribeRecord(sequence, record);
  std::string line = absl::StrCat(sequence, " ", d["time"].get<std::string>(),
                                  " ", d["kind"].get<std::string>());
  if (d.contains("request")) {
    const json& r = d["request"];
    absl::StrAppend(&line, " ", r["type"].get<std::string>());
    if (r.contains("contact")) {
      absl::StrAppend(&line, " ", r["contact"].get<std::string>());
    }
    if (r.contains("agent")) {
      absl::StrAppend(&line, " ", r["agent"].get<std::string>());
    }
  }
  if (d.contains("reply")) {
    const json& r = d["reply"];
    if (r.contains("code")) {
      absl::StrAppend(&line, " -> ", r["code"].get<std::string>());
    } else if (r.contains("outcome")) {
      absl::StrAppend(&line, " -> ", r["outcome"].get<std::string>());
      if (r.contains("agent")) {
        absl::StrAppend(&line, " ", r["agent"].get<std::string>());
      }
      if (r.contains("queue_position")) {
        absl::StrAppend(&line, " at ", r["queue_position"].get<int>());
      }
    }
  }
  std::vector<std::string> changes;
  for (const json& c : d["contacts"]) {
    changes.push_back(
        c.contains("left")
            ? absl::StrCat(c["id"].get<std::string>(), " left")
            : absl::StrCat(c["id"].get<std::string>(), " ",
                           c["state"].get<std::string>(),
                           c.contains("agent")
                               ? " " + c["agent"].get<std::string>()
                               : std::string()));
  }
  for (const json& a : d["agents"]) {
    changes.push_back(
        a.contains("removed")
            ? absl::StrCat(a["id"].get<std::string>(), " removed")
            : absl::StrCat(a["id"].get<std::string>(), " ",
                           a["state"].get<std::string>()));
  }
  if (!changes.empty()) {
    absl::StrAppend(&line, "; ", absl::StrJoin(changes, ", "));
  }
  return line;
}

}  // namespace journal
