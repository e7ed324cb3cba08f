// File: sidecar/wire_encoder.h
//
// Builds the protocol's buffers (routing.fbs) from the engine's domain types:
// requests for clients, replies and events for the daemon. Every Finish*
// function finishes the builder with the protocol's file identifier; the
// bytes are then builder.GetBufferPointer() / GetSize().
//
//   flatbuffers::FlatBufferBuilder fbb;
//   auto contact = BuildContact(fbb, contact, &handoff);
//   FinishRequest(fbb, /*request_id=*/7, wire::RequestBody::RouteContact,
//                 wire::CreateRouteContact(fbb, contact).Union());
//
// Thread-safety: stateless; a builder belongs to one thread at a time.
#ifndef SIDECAR_WIRE_ENCODER_H_
#define SIDECAR_WIRE_ENCODER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "flatbuffers/flatbuffers.h"
#include "routing/agent.h"
#include "routing/contact.h"
#include "routing/contact_kpis.h"
#include "routing/interaction.h"
#include "routing/router_stats.h"
#include "routing/routing_decision.h"
#include "sidecar/request_decoder.h"
#include "sidecar/routing_generated.h"

namespace routing::sidecar {

// What a chatbot hands over with a contact; see HandoffContext in routing.fbs.
struct HandoffContext {
  std::string intent;
  std::string language;
  std::string sentiment;
  std::string summary;
  std::string customer_id;
  absl::flat_hash_map<std::string, std::string> attributes;
};

// Splits a contact's attributes back into the handoff fields (reserved keys)
// and the rest, as delivered with an assignment.
HandoffContext HandoffFromAttributes(
    const absl::flat_hash_map<std::string, std::string>& attributes);

flatbuffers::Offset<wire::Contact> BuildContact(
    flatbuffers::FlatBufferBuilder& fbb, const Contact& contact,
    const HandoffContext* handoff);
flatbuffers::Offset<wire::AgentProfile> BuildAgentProfile(
    flatbuffers::FlatBufferBuilder& fbb, const AgentProfile& profile);
// with_explanation: also the readable text (RoutingDecision::Explain).
flatbuffers::Offset<wire::Decision> BuildDecision(
    flatbuffers::FlatBufferBuilder& fbb, const RoutingDecision& decision,
    bool with_explanation);

// Outcome KPIs (per queue or per agent), their rates computed.
flatbuffers::Offset<wire::ContactKpis> BuildContactKpis(
    flatbuffers::FlatBufferBuilder& fbb, const ContactKpis& kpis);
// One queue of RouterStats: counters, KPIs, its agents by state and the 5,
// 15 and 60-minute windows.
flatbuffers::Offset<wire::QueueSnapshot> BuildQueueSnapshot(
    flatbuffers::FlatBufferBuilder& fbb, const QueueStats& queue);

// A contact the router holds, and where it is now (GetContact, ListContacts).
struct HeldContact {
  const Contact* contact = nullptr;  // Not owned; enqueue_time resolved.
  bool assigned = false;
  int64_t queue_position = 0;  // Queued only.
  int rules_step = 0;          // Queued only.
  std::string_view agent_id;   // Assigned (or offered) only.
  absl::Time assigned_at;      // Assigned (or offered) only.
  // An offer not accepted yet (assigned is then true as well).
  bool offered = false;
  absl::Time offer_expires_at;  // Offered only.
  uint64_t placement = 0;
};
// waited_ms is measured to `now` while queued, to assigned_at once assigned.
flatbuffers::Offset<wire::ContactInfo> BuildContactInfo(
    flatbuffers::FlatBufferBuilder& fbb, const HeldContact& held,
    absl::Time now);

void FinishRequest(flatbuffers::FlatBufferBuilder& fbb, uint64_t request_id,
                   wire::RequestBody type, flatbuffers::Offset<void> body);
void FinishReply(flatbuffers::FlatBufferBuilder& fbb, uint64_t request_id,
                 wire::ReplyBody type, flatbuffers::Offset<void> body);
// An Error reply to the request with id `request_id` (read from it).
void FinishErrorReply(flatbuffers::FlatBufferBuilder& fbb, uint64_t request_id,
                      wire::ErrorCode code, std::string_view message);
// The Error reply to a request DecodeRequest refused: its error and message,
// and its id, or request_id 0 with Reply.request_id_unread set when the id
// could not be read.
void FinishErrorReply(flatbuffers::FlatBufferBuilder& fbb,
                      const DecodedRequest& refused);
void FinishAckReply(flatbuffers::FlatBufferBuilder& fbb, uint64_t request_id);

// What every Event carries besides its body. topic_sequence and
// family_sequence are always written, as 0, for the publisher thread to fill
// in place as it forwards the event (event_sequencer.h): a field left out at
// its default could not be patched.
struct EventHeader {
  uint64_t sequence = 0;  // Event.sequence: global, from 1.
  int64_t at_unix_ms = 0;
  uint64_t run_id = 0;  // HealthStatus.run_id.
};

// A contact assigned, at once (immediate: by the RouteContact or
// RequeueContact that routed it) or from its queue. `placement`:
// ContactAssigned.placement.
void FinishAssignmentEvent(flatbuffers::FlatBufferBuilder& fbb,
                           const EventHeader& header,
                           const Assignment& assignment, bool immediate,
                           uint64_t placement);
void FinishAgentStateEvent(flatbuffers::FlatBufferBuilder& fbb,
                           const EventHeader& header, std::string_view agent_id,
                           AgentState state, wire::AgentStateReason reason);
// Everything else that happens to a contact (ContactChanged).
struct ContactChangeFacts {
  wire::ContactChange change = wire::ContactChange::Queued;
  std::string_view contact_id;
  std::string_view customer_id;
  std::string_view queue;
  Channel channel = Channel::kVoice;
  std::string_view agent_id;  // The agent concerned; empty: none.
  uint64_t placement = 0;
  int64_t queue_position = 0;  // While queued.
  int rules_step = 0;
  int64_t waited_ms = 0;
  ContactOutcome outcome = ContactOutcome::kUnknown;  // Released only.
};
void FinishContactChangedEvent(flatbuffers::FlatBufferBuilder& fbb,
                               const EventHeader& header,
                               const ContactChangeFacts& facts);
// A ReloadRules request decided (topic rules/reload): the version and name in
// force after it, the path or label offered, and the first
// kMaxEventProblems problems if refused.
inline constexpr size_t kMaxEventProblems = 10;
void FinishRulesReloadEvent(flatbuffers::FlatBufferBuilder& fbb,
                            const EventHeader& header, bool accepted,
                            uint64_t version, std::string_view name,
                            std::string_view source,
                            const std::vector<std::string>& problems);
// The rules in force suspended by their circuit breaker (rules/suspended).
struct RulesSuspension {
  uint64_t version = 0;
  std::string_view name;
  std::string_view last_error;
  int64_t suspended_at_unix_ms = 0;
  int64_t errors = 0;
  int64_t overruns = 0;
};
void FinishRulesSuspendedEvent(flatbuffers::FlatBufferBuilder& fbb,
                               const EventHeader& header,
                               const RulesSuspension& suspension);

// The error code for an engine status (OK maps to None).
wire::ErrorCode ErrorCodeFor(const absl::Status& status);
// The inverse, for clients: a reply's error as a Status.
absl::Status StatusFromError(wire::ErrorCode code, std::string_view message);

}  // namespace routing::sidecar

#endif  // SIDECAR_WIRE_ENCODER_H_
