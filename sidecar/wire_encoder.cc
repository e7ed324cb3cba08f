#include "sidecar/wire_encoder.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "sidecar/request_decoder.h"

namespace routing::sidecar {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

int64_t ToMillis(absl::Duration d) { return absl::ToInt64Milliseconds(d); }

Offset<flatbuffers::Vector<Offset<wire::KeyValue>>> BuildKeyValues(
    FlatBufferBuilder& fbb,
    const absl::flat_hash_map<std::string, std::string>& map) {
  std::vector<Offset<wire::KeyValue>> entries;
  entries.reserve(map.size());
  for (const auto& [key, value] : map) {
    entries.push_back(wire::CreateKeyValue(fbb, fbb.CreateString(key),
                                           fbb.CreateString(value)));
  }
  return fbb.CreateVector(entries);
}

Offset<flatbuffers::Vector<Offset<wire::Skill>>> BuildSkills(
    FlatBufferBuilder& fbb, const std::vector<SkillRequirement>& skills) {
  std::vector<Offset<wire::Skill>> out;
  for (const SkillRequirement& s : skills) {
    out.push_back(
        wire::CreateSkill(fbb, fbb.CreateString(s.skill), s.min_level));
  }
  return fbb.CreateVector(out);
}

Offset<wire::HandoffContext> BuildHandoff(FlatBufferBuilder& fbb,
                                          const HandoffContext& handoff) {
  auto attributes = BuildKeyValues(fbb, handoff.attributes);
  return wire::CreateHandoffContext(
      fbb, fbb.CreateString(handoff.intent), fbb.CreateString(handoff.language),
      fbb.CreateString(handoff.sentiment), fbb.CreateString(handoff.summary),
      fbb.CreateString(handoff.customer_id), attributes);
}

}  // namespace

HandoffContext HandoffFromAttributes(
    const absl::flat_hash_map<std::string, std::string>& attributes) {
  HandoffContext handoff;
  std::string* named[] = {&handoff.intent, &handoff.language,
                          &handoff.sentiment, &handoff.summary,
                          &handoff.customer_id};
  for (const auto& [key, value] : attributes) {
    bool reserved = false;
    for (size_t i = 0; i < std::size(kHandoffKeys); ++i) {
      if (key == kHandoffKeys[i]) {
        *named[i] = value;
        reserved = true;
      }
    }
    if (!reserved) handoff.attributes[key] = value;
  }
  return handoff;
}

Offset<wire::Contact> BuildContact(FlatBufferBuilder& fbb,
                                   const Contact& contact,
                                   const HandoffContext* handoff) {
  auto id = fbb.CreateString(contact.id);
  auto queue = fbb.CreateString(contact.queue);
  auto required = BuildSkills(fbb, contact.required_skills);
  auto desired = BuildSkills(fbb, contact.desired_skills);
  auto languages = fbb.CreateVectorOfStrings(contact.languages);
  auto customer = fbb.CreateString(contact.customer_id);
  auto preferred = fbb.CreateVectorOfStrings(contact.preferred_agents);
  auto excluded = fbb.CreateVectorOfStrings(contact.excluded_agents);
  auto attributes = BuildKeyValues(fbb, contact.attributes);
  Offset<wire::HandoffContext> handoff_offset;
  if (handoff != nullptr) handoff_offset = BuildHandoff(fbb, *handoff);
  const int64_t since = contact.enqueue_time == absl::InfinitePast()
                            ? 0
                            : absl::ToUnixMillis(contact.enqueue_time);
  return wire::CreateContact(
      fbb, id, static_cast<wire::ChannelKind>(contact.channel), queue, required,
      desired, languages, contact.priority, customer, preferred, excluded,
      since, attributes, handoff_offset);
}

Offset<wire::AgentProfile> BuildAgentProfile(FlatBufferBuilder& fbb,
                                             const AgentProfile& profile) {
  auto id = fbb.CreateString(profile.id);
  std::vector<Offset<wire::Skill>> skills;
  for (const AgentSkill& s : profile.skills) {
    skills.push_back(
        wire::CreateSkill(fbb, fbb.CreateString(s.skill), s.level));
  }
  auto skills_vector = fbb.CreateVector(skills);
  std::vector<Offset<wire::Language>> languages;
  for (const AgentLanguage& l : profile.languages) {
    languages.push_back(
        wire::CreateLanguage(fbb, fbb.CreateString(l.language), l.fluency));
  }
  auto languages_vector = fbb.CreateVector(languages);
  std::vector<Offset<wire::ChannelCapacity>> capacity;
  for (Channel channel : kAllChannels) {
    if (profile.CapacityOf(channel) == 0) continue;
    capacity.push_back(wire::CreateChannelCapacity(
        fbb, static_cast<wire::ChannelKind>(channel),
        profile.CapacityOf(channel)));
  }
  auto capacity_vector = fbb.CreateVector(capacity);
  auto team = fbb.CreateString(profile.team);
  auto site = fbb.CreateString(profile.site);
  auto attributes = BuildKeyValues(fbb, profile.attributes);
  return wire::CreateAgentProfile(fbb, id, skills_vector, languages_vector,
                                  capacity_vector, profile.max_total_contacts,
                                  team, site, attributes);
}

Offset<wire::Decision> BuildDecision(FlatBufferBuilder& fbb,
                                     const RoutingDecision& d,
                                     bool with_explanation) {
  auto contact_id = fbb.CreateString(d.contact_id);
  auto queue = fbb.CreateString(d.queue);
  auto agent_id = fbb.CreateString(d.agent_id);
  std::vector<Offset<wire::ScoreComponent>> components;
  components.reserve(d.components.size());
  for (const ScoreComponent& c : d.components) {
    components.push_back(wire::CreateScoreComponent(
        fbb, fbb.CreateString(c.name), c.value, c.weight, c.contribution,
        fbb.CreateString(c.detail)));
  }
  auto components_vector = fbb.CreateVector(components);
  auto policy_name = fbb.CreateString(d.policy_name);
  const Offset<flatbuffers::String> explanation =
      with_explanation ? fbb.CreateString(d.Explain())
                       : Offset<flatbuffers::String>();
  return wire::CreateDecision(
      fbb, contact_id,
      d.outcome == DecisionOutcome::kAssigned ? wire::DecisionOutcome::Assigned
                                              : wire::DecisionOutcome::Queued,
      queue, static_cast<wire::ChannelKind>(d.channel), agent_id, d.score,
      components_vector, d.eligible_agents, d.queue_position,
      ToMillis(d.estimated_wait), d.qualified.total, d.qualified.at_capacity,
      d.qualified.unavailable, d.qualified.logged_out, d.policy_version,
      policy_name, explanation, absl::ToUnixMillis(d.decided_at),
      d.rules_version, d.rules_step, d.rules_fallback, d.rules_suspended);
}

void FinishRequest(FlatBufferBuilder& fbb, uint64_t request_id,
                   wire::RequestBody type, Offset<void> body) {
  fbb.Finish(wire::CreateRequest(fbb, kProtocolVersion, request_id, type, body),
             kFileIdentifier);
}

void FinishReply(FlatBufferBuilder& fbb, uint64_t request_id,
                 wire::ReplyBody type, Offset<void> body) {
  fbb.Finish(wire::CreateReply(fbb, kProtocolVersion, request_id, type, body),
             kFileIdentifier);
}

void FinishErrorReply(FlatBufferBuilder& fbb, uint64_t request_id,
                      wire::ErrorCode code, std::string_view message) {
  auto error = wire::CreateError(fbb, code, fbb.CreateString(message));
  FinishReply(fbb, request_id, wire::ReplyBody::Error, error.Union());
}

void FinishAckReply(FlatBufferBuilder& fbb, uint64_t request_id) {
  FinishReply(fbb, request_id, wire::ReplyBody::Ack,
              wire::CreateAck(fbb).Union());
}

void FinishAssignmentEvent(FlatBufferBuilder& fbb, uint64_t sequence,
                           int64_t at_unix_ms, const Assignment& a) {
  auto contact_id = fbb.CreateString(a.contact_id);
  auto customer_id = fbb.CreateString(a.customer_id);
  auto agent_id = fbb.CreateString(a.agent_id);
  auto queue = fbb.CreateString(a.queue);
  auto context = BuildHandoff(fbb, HandoffFromAttributes(a.attributes));
  auto attributes = BuildKeyValues(fbb, a.attributes);
  auto decision = BuildDecision(fbb, a.decision, /*with_explanation=*/true);
  auto body = wire::CreateContactAssigned(
      fbb, contact_id, customer_id, agent_id, queue,
      static_cast<wire::ChannelKind>(a.channel), ToMillis(a.waited), context,
      attributes, decision);
  fbb.Finish(wire::CreateEvent(fbb, kProtocolVersion, sequence, at_unix_ms,
                               wire::EventBody::ContactAssigned, body.Union()),
             kFileIdentifier);
}

void FinishAgentStateEvent(FlatBufferBuilder& fbb, uint64_t sequence,
                           int64_t at_unix_ms, std::string_view agent_id,
                           AgentState state) {
  auto body =
      wire::CreateAgentStateChanged(fbb, fbb.CreateString(agent_id),
                                    static_cast<wire::AgentStateKind>(state));
  fbb.Finish(
      wire::CreateEvent(fbb, kProtocolVersion, sequence, at_unix_ms,
                        wire::EventBody::AgentStateChanged, body.Union()),
      kFileIdentifier);
}

void FinishRulesReloadEvent(FlatBufferBuilder& fbb, uint64_t sequence,
                            int64_t at_unix_ms, bool accepted, uint64_t version,
                            std::string_view name, std::string_view source,
                            const std::vector<std::string>& problems) {
  auto name_offset = fbb.CreateString(name);
  auto source_offset = fbb.CreateString(source);
  std::vector<Offset<flatbuffers::String>> first;
  for (size_t i = 0; i < problems.size() && i < kMaxEventProblems; ++i) {
    first.push_back(fbb.CreateString(problems[i]));
  }
  auto problems_offset = fbb.CreateVector(first);
  auto body = wire::CreateRulesReloadFinished(
      fbb, accepted, version, name_offset, source_offset, problems_offset);
  fbb.Finish(
      wire::CreateEvent(fbb, kProtocolVersion, sequence, at_unix_ms,
                        wire::EventBody::RulesReloadFinished, body.Union()),
      kFileIdentifier);
}

void FinishRulesSuspendedEvent(FlatBufferBuilder& fbb, uint64_t sequence,
                               int64_t at_unix_ms,
                               const RulesSuspension& suspension) {
  auto name = fbb.CreateString(suspension.name);
  auto last_error = fbb.CreateString(suspension.last_error);
  auto body = wire::CreateRulesSuspended(
      fbb, suspension.version, name, last_error,
      suspension.suspended_at_unix_ms, suspension.errors, suspension.overruns);
  fbb.Finish(wire::CreateEvent(fbb, kProtocolVersion, sequence, at_unix_ms,
                               wire::EventBody::RulesSuspended, body.Union()),
             kFileIdentifier);
}

wire::ErrorCode ErrorCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return wire::ErrorCode::None;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return wire::ErrorCode::InvalidArgument;
    case absl::StatusCode::kNotFound:
      return wire::ErrorCode::NotFound;
    case absl::StatusCode::kAlreadyExists:
      return wire::ErrorCode::AlreadyExists;
    case absl::StatusCode::kFailedPrecondition:
      return wire::ErrorCode::FailedPrecondition;
    case absl::StatusCode::kResourceExhausted:
      return wire::ErrorCode::ResourceExhausted;
    case absl::StatusCode::kUnimplemented:
      return wire::ErrorCode::Unimplemented;
    case absl::StatusCode::kPermissionDenied:
      return wire::ErrorCode::PermissionDenied;
    default:
      return wire::ErrorCode::Internal;
  }
}

absl::Status StatusFromError(wire::ErrorCode code, std::string_view message) {
  const std::string text(message);
  switch (code) {
    case wire::ErrorCode::None:
      return absl::OkStatus();
    case wire::ErrorCode::InvalidArgument:
      return absl::InvalidArgumentError(text);
    case wire::ErrorCode::NotFound:
      return absl::NotFoundError(text);
    case wire::ErrorCode::AlreadyExists:
      return absl::AlreadyExistsError(text);
    case wire::ErrorCode::FailedPrecondition:
      return absl::FailedPreconditionError(text);
    case wire::ErrorCode::ResourceExhausted:
      return absl::ResourceExhaustedError(text);
    case wire::ErrorCode::Unimplemented:
      return absl::UnimplementedError(text);
    case wire::ErrorCode::Busy:
      return absl::UnavailableError(absl::StrCat("busy: ", text));
    case wire::ErrorCode::MalformedRequest:
      return absl::DataLossError(absl::StrCat("malformed request: ", text));
    case wire::ErrorCode::UnsupportedVersion:
      return absl::FailedPreconditionError(
          absl::StrCat("unsupported version: ", text));
    case wire::ErrorCode::TooLarge:
      return absl::OutOfRangeError(absl::StrCat("too large: ", text));
    case wire::ErrorCode::ShuttingDown:
      return absl::UnavailableError(absl::StrCat("shutting down: ", text));
    case wire::ErrorCode::PermissionDenied:
      return absl::PermissionDeniedError(text);
    default:
      return absl::InternalError(text);
  }
}

}  // namespace routing::sidecar
