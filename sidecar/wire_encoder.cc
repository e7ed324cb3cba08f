#include "sidecar/wire_encoder.h"

#include <algorithm>
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
  Offset<flatbuffers::Vector<Offset<wire::RunnerUp>>> runners_up;
  if (!d.runners_up.empty()) {
    std::vector<Offset<wire::RunnerUp>> runners;
    runners.reserve(d.runners_up.size());
    for (const RoutingDecision::RunnerUp& r : d.runners_up) {
      runners.push_back(
          wire::CreateRunnerUp(fbb, fbb.CreateString(r.agent_id), r.score));
    }
    runners_up = fbb.CreateVector(runners);
  }
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
      d.rules_version, d.rules_step, d.rules_fallback, d.rules_suspended,
      d.offered, d.offered ? absl::ToUnixMillis(d.offer_expires_at) : 0,
      d.placement, runners_up);
}

Offset<wire::ContactKpis> BuildContactKpis(FlatBufferBuilder& fbb,
                                           const ContactKpis& k) {
  return wire::CreateContactKpis(
      fbb, k.released, k.resolved, k.first_contact_resolved,
      k.FirstContactResolution(), ToMillis(k.total_handle_time),
      ToMillis(k.AverageHandleTime()), k.csat_responses, k.csat_sum,
      k.AverageCsat(), k.nps_responses, k.promoters, k.detractors,
      k.NetPromoterScore());
}

Offset<wire::QueueSnapshot> BuildQueueSnapshot(FlatBufferBuilder& fbb,
                                               const QueueStats& q) {
  auto name = fbb.CreateString(q.queue);
  auto kpis = BuildContactKpis(fbb, q.kpis);
  std::vector<int64_t> by_state(q.agents_by_state.begin(),
                                q.agents_by_state.end());
  auto agents_by_state = fbb.CreateVector(by_state);
  std::vector<Offset<wire::QueueWindow>> windows;
  for (int i = 0; i < kQueueWindowCount; ++i) {
    const QueueWindowStats& w = q.recent[i];
    windows.push_back(wire::CreateQueueWindow(
        fbb, kQueueWindowMinutes[i], w.answered, w.answered_in_service_level,
        w.abandoned, w.service_level, ToMillis(w.average_speed_of_answer),
        w.abandonment_rate));
  }
  auto recent = fbb.CreateVector(windows);
  return wire::CreateQueueSnapshot(
      fbb, name, q.waiting, ToMillis(q.longest_wait), q.answered,
      q.answered_in_service_level, q.abandoned, q.service_level,
      ToMillis(q.average_speed_of_answer), ToMillis(q.average_handle_time),
      kpis, agents_by_state, q.occupancy, recent);
}

Offset<wire::ContactInfo> BuildContactInfo(FlatBufferBuilder& fbb,
                                           const HeldContact& held,
                                           absl::Time now) {
  const Contact& c = *held.contact;
  auto id = fbb.CreateString(c.id);
  auto queue = fbb.CreateString(c.queue);
  auto customer = fbb.CreateString(c.customer_id);
  auto agent = held.assigned ? fbb.CreateString(held.agent_id)
                             : Offset<flatbuffers::String>();
  const bool known_arrival = c.enqueue_time != absl::InfinitePast();
  const absl::Time waited_until = held.assigned ? held.assigned_at : now;
  const int64_t waited_ms =
      known_arrival
          ? std::max<int64_t>(0, ToMillis(waited_until - c.enqueue_time))
          : 0;
  wire::ContactInfoBuilder b(fbb);
  b.add_id(id);
  b.add_queue(queue);
  b.add_channel(static_cast<wire::ChannelKind>(c.channel));
  b.add_state(held.offered    ? wire::ContactStateKind::Offered
              : held.assigned ? wire::ContactStateKind::Assigned
                              : wire::ContactStateKind::Queued);
  b.add_placement(held.placement);
  b.add_priority(c.priority);
  b.add_customer_id(customer);
  b.add_enqueued_at_unix_ms(known_arrival ? absl::ToUnixMillis(c.enqueue_time)
                                          : 0);
  b.add_waited_ms(waited_ms);
  if (held.assigned) {
    b.add_agent_id(agent);
    b.add_assigned_at_unix_ms(absl::ToUnixMillis(held.assigned_at));
    if (held.offered) {
      b.add_offer_expires_at_unix_ms(
          absl::ToUnixMillis(held.offer_expires_at));
    }
  } else {
    b.add_queue_position(held.queue_position);
    b.add_rules_step(held.rules_step);
  }
  return b.Finish();
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

void FinishErrorReply(FlatBufferBuilder& fbb, const DecodedRequest& refused) {
  auto error = wire::CreateError(fbb, refused.error,
                                 fbb.CreateString(refused.message));
  wire::ReplyBuilder reply(fbb);
  reply.add_protocol_version(kProtocolVersion);
  reply.add_request_id(refused.request_id_unread ? 0 : refused.request_id);
  reply.add_body_type(wire::ReplyBody::Error);
  reply.add_body(error.Union());
  reply.add_request_id_unread(refused.request_id_unread);
  fbb.Finish(reply.Finish(), kFileIdentifier);
}

void FinishAckReply(FlatBufferBuilder& fbb, uint64_t request_id) {
  FinishReply(fbb, request_id, wire::ReplyBody::Ack,
              wire::CreateAck(fbb).Union());
}

namespace {

// Finishes `fbb` with an Event around `body`. The two per-topic sequences are
// forced into the buffer (as 0) so that the publisher can patch them in
// place; a scalar at its default is otherwise left out.
void FinishEvent(FlatBufferBuilder& fbb, const EventHeader& header,
                 wire::EventBody type, Offset<void> body) {
  wire::EventBuilder b(fbb);
  b.add_protocol_version(kProtocolVersion);
  b.add_sequence(header.sequence);
  b.add_at_unix_ms(header.at_unix_ms);
  b.add_body_type(type);
  b.add_body(body);
  b.add_run_id(header.run_id);
  fbb.ForceDefaults(true);
  b.add_topic_sequence(0);
  b.add_family_sequence(0);
  fbb.ForceDefaults(false);
  fbb.Finish(b.Finish(), kFileIdentifier);
}

}  // namespace

void FinishAssignmentEvent(FlatBufferBuilder& fbb, const EventHeader& header,
                           const Assignment& a, bool immediate,
                           uint64_t placement) {
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
      attributes, decision, immediate, a.decision.offered,
      a.decision.offered ? absl::ToUnixMillis(a.decision.offer_expires_at) : 0,
      placement);
  FinishEvent(fbb, header, wire::EventBody::ContactAssigned, body.Union());
}

void FinishAgentStateEvent(FlatBufferBuilder& fbb, const EventHeader& header,
                           std::string_view agent_id, AgentState state,
                           wire::AgentStateReason reason) {
  auto body = wire::CreateAgentStateChanged(
      fbb, fbb.CreateString(agent_id), static_cast<wire::AgentStateKind>(state),
      reason);
  FinishEvent(fbb, header, wire::EventBody::AgentStateChanged, body.Union());
}

void FinishContactChangedEvent(FlatBufferBuilder& fbb,
                               const EventHeader& header,
                               const ContactChangeFacts& f) {
  auto contact_id = fbb.CreateString(f.contact_id);
  auto customer_id = fbb.CreateString(f.customer_id);
  auto queue = fbb.CreateString(f.queue);
  auto agent_id = f.agent_id.empty() ? Offset<flatbuffers::String>()
                                     : fbb.CreateString(f.agent_id);
  auto body = wire::CreateContactChanged(
      fbb, f.change, contact_id, customer_id, queue,
      static_cast<wire::ChannelKind>(f.channel), agent_id, f.placement,
      f.queue_position, f.rules_step, f.waited_ms,
      static_cast<wire::Outcome>(f.outcome));
  FinishEvent(fbb, header, wire::EventBody::ContactChanged, body.Union());
}

void FinishRulesReloadEvent(FlatBufferBuilder& fbb, const EventHeader& header,
                            bool accepted, uint64_t version,
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
  FinishEvent(fbb, header, wire::EventBody::RulesReloadFinished, body.Union());
}

void FinishRulesSuspendedEvent(FlatBufferBuilder& fbb,
                               const EventHeader& header,
                               const RulesSuspension& suspension) {
  auto name = fbb.CreateString(suspension.name);
  auto last_error = fbb.CreateString(suspension.last_error);
  auto body = wire::CreateRulesSuspended(
      fbb, suspension.version, name, last_error,
      suspension.suspended_at_unix_ms, suspension.errors, suspension.overruns);
  FinishEvent(fbb, header, wire::EventBody::RulesSuspended, body.Union());
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
    case wire::ErrorCode::JournalUnavailable:
      return absl::UnavailableError(
          absl::StrCat("journal unavailable: ", text));
    case wire::ErrorCode::NotDurable:
      return absl::DataLossError(absl::StrCat("not durable: ", text));
    default:
      return absl::InternalError(text);
  }
}

}  // namespace routing::sidecar
