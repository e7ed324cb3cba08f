// RequestHandler's requests through routingd's journal (state_journal.h):
// each request that changes the router runs under the journal's order lock
// and leaves one record; its reply waits for that record to be durable
// (the daemon's part).
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "sidecar/idempotent_requests.h"
#include "sidecar/request_affinity.h"
#include "sidecar/request_handler.h"
#include "sidecar/wire_encoder.h"

namespace routing::sidecar {

namespace {

std::string_view ReplyBytes(const flatbuffers::FlatBufferBuilder& fbb) {
  return std::string_view(reinterpret_cast<const char*>(fbb.GetBufferPointer()),
                          fbb.GetSize());
}

// A reply of this handler's own making (trusted): whether the request took
// effect now (not refused, not answered from an idempotency key's memory).
bool TookEffect(const flatbuffers::FlatBufferBuilder& fbb) {
  const wire::Reply* reply = flatbuffers::GetRoot<wire::Reply>(fbb.GetBufferPointer());
  if (reply->body_type() == wire::ReplyBody::Error || reply->replayed()) {
    return false;
  }
  if (reply->body_type() == wire::ReplyBody::RulesReloaded) {
    return reply->body_as_RulesReloaded()->accepted();
  }
  return true;
}

// Requests that cannot change an agent's profile (skills, languages,
// capacity, team, site, attributes): their records carry only the agents'
// state fields (JournaledCall::profiles_unchanged). AddAgent and
// UpdateAgent are not among them, nor any request type added later until
// it is listed here.
bool LeavesProfiles(wire::RequestBody type) {
  switch (type) {
    case wire::RequestBody::RemoveAgent:
    case wire::RequestBody::SetAgentState:
    case wire::RequestBody::RouteContact:
    case wire::RequestBody::CancelContact:
    case wire::RequestBody::RequeueContact:
    case wire::RequestBody::ReleaseContact:
    case wire::RequestBody::AcceptOffer:
    case wire::RequestBody::RejectOffer:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool ChangesRouterState(wire::RequestBody type) {
  switch (type) {
    case wire::RequestBody::AddAgent:
    case wire::RequestBody::UpdateAgent:
    case wire::RequestBody::RemoveAgent:
    case wire::RequestBody::SetAgentState:
    case wire::RequestBody::RouteContact:
    case wire::RequestBody::CancelContact:
    case wire::RequestBody::RequeueContact:
    case wire::RequestBody::ReleaseContact:
    case wire::RequestBody::AcceptOffer:
    case wire::RequestBody::RejectOffer:
    case wire::RequestBody::ReloadRules:
      return true;
    default:
      return false;
  }
}

void RequestHandler::ExecuteJournaled(const wire::Request& request,
                                      const uint8_t* aligned, size_t size,
                                      flatbuffers::FlatBufferBuilder& fbb) {
  StateJournal* journal = options_.journal;
  const uint64_t id = request.request_id();
  const std::string_view bytes(reinterpret_cast<const char*>(aligned), size);
  absl::StatusOr<uint64_t> recorded;
  if (request.body_type() == wire::RequestBody::ReloadRules) {
    // Compiled outside the order lock (seconds, for a large file), then
    // recorded with the text now in force.
    if (absl::Status s = journal->Available(); !s.ok()) {
      metrics_->journal_refusals.fetch_add(1, std::memory_order_relaxed);
      return FinishErrorReply(fbb, id, wire::ErrorCode::JournalUnavailable,
                              std::string(s.message()));
    }
    AnswerOnce(request, *clock_, fbb, [&] { Execute(request, fbb); });
    if (!TookEffect(fbb)) return;
    const RulesText text = rules_->Text();
    JournaledCall call;
    call.kind = journal::RecordKind::kRulesReload;
    call.request = bytes;
    // In force already: recorded even if a record failed meanwhile.
    call.in_force = true;
    recorded = journal->Record(call, [&] {
      CallEffect effect;
      effect.changed = true;
      effect.reply = ReplyBytes(fbb);
      effect.rules = &text;
      return effect;
    });
    if (recorded.ok()) return;
    // The rules are in force already: whatever kept the record from the
    // disk, the outcome is not durable.
    metrics_->journal_not_durable.fetch_add(1, std::memory_order_relaxed);
    fbb.Clear();
    return FinishErrorReply(
        fbb, id, wire::ErrorCode::NotDurable,
        absl::StrCat("the rules were put in force; ",
                     recorded.status().message()));
  }
  const AffinityKey key = AffinityKeyOf(aligned, size);
  JournaledCall call;
  call.request = bytes;
  call.profiles_unchanged = LeavesProfiles(request.body_type());
  if (key.kind == AffinityKey::Kind::kContact) call.contact_id = key.id;
  if (key.kind == AffinityKey::Kind::kAgent) call.agent_id = key.id;
  recorded = journal->Record(call, [&] {
    // A retry of a keyed request gets the original reply
    // (idempotent_requests.h): nothing changes, nothing is recorded.
    AnswerOnce(request, *clock_, fbb, [&] { Execute(request, fbb); });
    CallEffect effect;
    effect.changed = TookEffect(fbb);
    effect.reply = ReplyBytes(fbb);
    return effect;
  });
  if (recorded.ok()) return;
  fbb.Clear();
  if (absl::IsUnavailable(recorded.status())) {
    metrics_->journal_refusals.fetch_add(1, std::memory_order_relaxed);
    return FinishErrorReply(fbb, id, wire::ErrorCode::JournalUnavailable,
                            std::string(recorded.status().message()));
  }
  metrics_->journal_not_durable.fetch_add(1, std::memory_order_relaxed);
  FinishErrorReply(fbb, id, wire::ErrorCode::NotDurable,
                   std::string(recorded.status().message()));
}

}  // namespace routing::sidecar
