#include "sidecar/request_affinity.h"

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "flatbuffers/flatbuffers.h"
#include "sidecar/routing_generated.h"

namespace routing::sidecar {
namespace {

using flatbuffers::Table;
using flatbuffers::Verifier;
using flatbuffers::voffset_t;

// The root, the body and the contact or agent table: nothing deeper.
constexpr uint32_t kTablesOnKeyPath = 3;

// The table at `field` of `table`, verified; null if absent or unsound.
const Table* ChildTable(Verifier& verifier, const Table& table,
                        voffset_t field) {
  if (!table.CheckField(field) || !table.VerifyOffset(verifier, field)) {
    return nullptr;
  }
  const auto* child = table.GetPointer<const Table*>(field);
  return child->VerifyTableStart(verifier) ? child : nullptr;
}

AffinityKey StringKey(Verifier& verifier, const Table* table, voffset_t field,
                      AffinityKey::Kind kind) {
  if (table == nullptr || !table->CheckField(field) ||
      !table->VerifyOffset(verifier, field)) {
    return {};
  }
  const auto* id = table->GetPointer<const flatbuffers::String*>(field);
  if (!verifier.VerifyString(id)) return {};
  return {.kind = kind, .id = std::string_view(id->c_str(), id->size())};
}

}  // namespace

AffinityKey AffinityKeyOf(const uint8_t* data, size_t size) {
  if (data == nullptr || size < 2 * sizeof(flatbuffers::uoffset_t) ||
      reinterpret_cast<uintptr_t>(data) % alignof(uint64_t) != 0) {
    return {};
  }
  Verifier::Options options;
  options.max_depth = kTablesOnKeyPath;
  options.max_tables = kTablesOnKeyPath;
  Verifier verifier(data, size, options);
  const flatbuffers::uoffset_t root = verifier.VerifyOffset(0);
  if (root == 0) return {};
  const auto* request = reinterpret_cast<const Table*>(data + root);
  if (!request->VerifyTableStart(verifier) ||
      !request->VerifyField<uint8_t>(verifier, wire::Request::VT_BODY_TYPE,
                                     1)) {
    return {};
  }
  const auto type = static_cast<wire::RequestBody>(
      request->GetField<uint8_t>(wire::Request::VT_BODY_TYPE, 0));
  const Table* body = ChildTable(verifier, *request, wire::Request::VT_BODY);
  if (body == nullptr) return {};
  constexpr auto kContact = AffinityKey::Kind::kContact;
  constexpr auto kAgent = AffinityKey::Kind::kAgent;
  switch (type) {
    case wire::RequestBody::RouteContact:
      return StringKey(
          verifier, ChildTable(verifier, *body, wire::RouteContact::VT_CONTACT),
          wire::Contact::VT_ID, kContact);
    case wire::RequestBody::RequeueContact:
      return StringKey(
          verifier,
          ChildTable(verifier, *body, wire::RequeueContact::VT_CONTACT),
          wire::Contact::VT_ID, kContact);
    case wire::RequestBody::CancelContact:
      return StringKey(verifier, body, wire::CancelContact::VT_CONTACT_ID,
                       kContact);
    case wire::RequestBody::ReleaseContact:
      return StringKey(verifier, body, wire::ReleaseContact::VT_CONTACT_ID,
                       kContact);
    case wire::RequestBody::GetContact:
      return StringKey(verifier, body, wire::GetContact::VT_CONTACT_ID,
                       kContact);
    case wire::RequestBody::AcceptOffer:
      return StringKey(verifier, body, wire::AcceptOffer::VT_CONTACT_ID,
                       kContact);
    case wire::RequestBody::RejectOffer:
      return StringKey(verifier, body, wire::RejectOffer::VT_CONTACT_ID,
                       kContact);
    case wire::RequestBody::AddAgent:
      return StringKey(
          verifier, ChildTable(verifier, *body, wire::AddAgent::VT_AGENT),
          wire::AgentProfile::VT_ID, kAgent);
    case wire::RequestBody::UpdateAgent:
      return StringKey(
          verifier, ChildTable(verifier, *body, wire::UpdateAgent::VT_AGENT),
          wire::AgentProfile::VT_ID, kAgent);
    case wire::RequestBody::RemoveAgent:
      return StringKey(verifier, body, wire::RemoveAgent::VT_AGENT_ID, kAgent);
    case wire::RequestBody::SetAgentState:
      return StringKey(verifier, body, wire::SetAgentState::VT_AGENT_ID,
                       kAgent);
    default:
      return {};
  }
}

std::optional<size_t> WorkerFor(const AffinityKey& key, size_t workers) {
  if (key.kind == AffinityKey::Kind::kNone || workers == 0) {
    return std::nullopt;
  }
  // absl::Hash is seeded once per process: stable for the daemon's life.
  return absl::Hash<absl::string_view>{}(
             absl::string_view(key.id.data(), key.id.size())) %
         workers;
}

}  // namespace routing::sidecar
