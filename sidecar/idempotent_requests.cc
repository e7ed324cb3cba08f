#include "sidecar/idempotent_requests.h"

#include <string>
#include <string_view>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "sidecar/idempotency_store.h"
#include "sidecar/request_decoder.h"
#include "sidecar/wire_encoder.h"

namespace routing::sidecar {
namespace {

using flatbuffers::FlatBufferBuilder;

// The body of a request as a byte string that depends on its values only:
// each scalar as 8 bytes, each string and list as its length then its items.
// Absent strings and lists read as empty, absent scalars as their defaults.
class CanonicalBody {
 public:
  void Number(int64_t value) {
    char bytes[sizeof(value)];
    for (size_t i = 0; i < sizeof(value); ++i) {
      bytes[i] = static_cast<char>((static_cast<uint64_t>(value) >> (8 * i)));
    }
    text_.append(bytes, sizeof(bytes));
  }
  void String(const flatbuffers::String* s) {
    const std::string_view view =
        s == nullptr ? std::string_view() : std::string_view(s->c_str(),
                                                             s->size());
    Number(static_cast<int64_t>(view.size()));
    text_.append(view);
  }
  template <typename T, typename AddItem>
  void List(const flatbuffers::Vector<flatbuffers::Offset<T>>* list,
            AddItem add_item) {
    Number(list == nullptr ? 0 : static_cast<int64_t>(list->size()));
    if (list == nullptr) return;
    for (const T* item : *list) add_item(item);
  }
  void Strings(const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>*
                   list) {
    List(list, [this](const flatbuffers::String* s) { String(s); });
  }
  void Skills(const flatbuffers::Vector<flatbuffers::Offset<wire::Skill>>* list) {
    List(list, [this](const wire::Skill* s) {
      String(s->name());
      Number(s->level());
    });
  }
  void Attributes(
      const flatbuffers::Vector<flatbuffers::Offset<wire::KeyValue>>* list) {
    List(list, [this](const wire::KeyValue* kv) {
      String(kv->key());
      String(kv->value());
    });
  }
  void Agent(const wire::AgentProfile* agent) {
    if (agent == nullptr) return Number(-1);
    String(agent->id());
    Skills(agent->skills());
    List(agent->languages(), [this](const wire::Language* l) {
      String(l->tag());
      Number(l->fluency());
    });
    List(agent->capacity(), [this](const wire::ChannelCapacity* c) {
      Number(static_cast<int64_t>(c->channel()));
      Number(c->contacts());
    });
    Number(agent->max_total_contacts());
    String(agent->team());
    String(agent->site());
    Attributes(agent->attributes());
  }
  void Contact(const wire::Contact* contact) {
    if (contact == nullptr) return Number(-1);
    String(contact->id());
    Number(static_cast<int64_t>(contact->channel()));
    String(contact->queue());
    Skills(contact->required_skills());
    Skills(contact->desired_skills());
    Strings(contact->languages());
    Number(contact->priority());
    String(contact->customer_id());
    Strings(contact->preferred_agents());
    Strings(contact->excluded_agents());
    Number(contact->waiting_since_unix_ms());
    Attributes(contact->attributes());
    const wire::HandoffContext* handoff = contact->handoff();
    Number(handoff == nullptr ? 0 : 1);
    if (handoff != nullptr) {
      String(handoff->intent());
      String(handoff->language());
      String(handoff->sentiment());
      String(handoff->summary());
      String(handoff->customer_id());
      Attributes(handoff->attributes());
    }
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// A field added to one of these tables must be added to CanonicalBody (or
// the same key with a different value of it would be replayed instead of
// refused): flatc's Create<Table> takes the builder and one argument per
// field, so these fail to compile when a table grows.
template <typename R, typename... Args>
constexpr size_t FieldCount(R (*)(Args...)) {
  return sizeof...(Args) - 1;
}
static_assert(FieldCount(&wire::CreateAgentProfile) == 8);
static_assert(FieldCount(&wire::CreateSkill) == 2);
static_assert(FieldCount(&wire::CreateLanguage) == 2);
static_assert(FieldCount(&wire::CreateChannelCapacity) == 2);
static_assert(FieldCount(&wire::CreateKeyValue) == 2);
static_assert(FieldCount(&wire::CreateContact) == 13);
static_assert(FieldCount(&wire::CreateHandoffContext) == 6);
static_assert(FieldCount(&wire::CreateAddAgent) == 1);
static_assert(FieldCount(&wire::CreateUpdateAgent) == 1);
static_assert(FieldCount(&wire::CreateRemoveAgent) == 1);
static_assert(FieldCount(&wire::CreateSetAgentState) == 2);
static_assert(FieldCount(&wire::CreateRouteContact) == 2);
static_assert(FieldCount(&wire::CreateRequeueContact) == 2);
static_assert(FieldCount(&wire::CreateAcceptOffer) == 2);
static_assert(FieldCount(&wire::CreateRejectOffer) == 2);

bool Transient(wire::ErrorCode code) {
  switch (code) {
    case wire::ErrorCode::Busy:
    case wire::ErrorCode::ShuttingDown:
    case wire::ErrorCode::ResourceExhausted:
    case wire::ErrorCode::Internal:
      return true;
    default:
      return false;
  }
}

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

void Refuse(FlatBufferBuilder& fbb, uint64_t id, const absl::Status& status) {
  FinishErrorReply(fbb, id, ErrorCodeFor(status),
                   std::string(status.message()));
}

}  // namespace

bool TakesIdempotencyKey(wire::RequestBody type) {
  switch (type) {
    case wire::RequestBody::RouteContact:
    case wire::RequestBody::RequeueContact:
    case wire::RequestBody::AddAgent:
    case wire::RequestBody::UpdateAgent:
    case wire::RequestBody::RemoveAgent:
    case wire::RequestBody::SetAgentState:
    case wire::RequestBody::AcceptOffer:
    case wire::RequestBody::RejectOffer:
      return true;
    default:
      return false;
  }
}

absl::Status CheckIdempotencyKey(const wire::Request& request) {
  const flatbuffers::String* key = request.idempotency_key();
  if (key == nullptr) return absl::OkStatus();
  if (!TakesIdempotencyKey(request.body_type())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "idempotency_key is not taken by ",
        wire::EnumNameRequestBody(request.body_type()),
        " requests (only by RouteContact, RequeueContact, AddAgent, "
        "UpdateAgent, RemoveAgent, SetAgentState, AcceptOffer, RejectOffer)"));
  }
  if (key->size() == 0 || key->size() > kMaxIdempotencyKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("idempotency_key is ", key->size(), " bytes; 1..",
                     kMaxIdempotencyKeyBytes, " allowed"));
  }
  for (size_t i = 0; i < key->size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(key->Get(i));
    if (IsControl(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("idempotency_key has a control character (byte ",
                       static_cast<int>(c), ") at offset ", i));
    }
  }
  return absl::OkStatus();
}

uint64_t RequestFingerprint(const wire::Request& request) {
  CanonicalBody canonical;
  canonical.Number(static_cast<int64_t>(request.body_type()));
  switch (request.body_type()) {
    case wire::RequestBody::AddAgent:
      canonical.Agent(request.body_as_AddAgent()->agent());
      break;
    case wire::RequestBody::UpdateAgent:
      canonical.Agent(request.body_as_UpdateAgent()->agent());
      break;
    case wire::RequestBody::RemoveAgent:
      canonical.String(request.body_as_RemoveAgent()->agent_id());
      break;
    case wire::RequestBody::SetAgentState:
      canonical.String(request.body_as_SetAgentState()->agent_id());
      canonical.Number(
          static_cast<int64_t>(request.body_as_SetAgentState()->state()));
      break;
    case wire::RequestBody::RouteContact:
      canonical.Contact(request.body_as_RouteContact()->contact());
      canonical.Number(request.body_as_RouteContact()->with_explanation());
      break;
    case wire::RequestBody::RequeueContact:
      canonical.Contact(request.body_as_RequeueContact()->contact());
      canonical.Number(request.body_as_RequeueContact()->with_explanation());
      break;
    case wire::RequestBody::AcceptOffer:
      canonical.String(request.body_as_AcceptOffer()->contact_id());
      canonical.String(request.body_as_AcceptOffer()->agent_id());
      break;
    case wire::RequestBody::RejectOffer:
      canonical.String(request.body_as_RejectOffer()->contact_id());
      canonical.String(request.body_as_RejectOffer()->agent_id());
      break;
    default:
      break;  // Not keyed: the type alone.
  }
  return absl::Hash<std::string>()(canonical.text());
}

bool IsRememberedReply(const wire::Reply& reply) {
  const wire::Error* error = reply.body_as_Error();
  return error == nullptr || !Transient(error->code());
}

void FinishReplayedReply(FlatBufferBuilder& fbb, const uint8_t* stored,
                         size_t size, uint64_t request_id) {
  fbb.Clear();
  const wire::Reply* old = flatbuffers::GetRoot<wire::Reply>(stored);
  const uint8_t* old_body = reinterpret_cast<const uint8_t*>(old->body());
  // The whole stored buffer is carried as the bytes of an unreferenced
  // [ubyte], placed so that its first byte keeps the alignment the stored
  // buffer had (FlatBuffers aligns to at most 8 bytes): every offset inside
  // it is relative, so its tables, vectors and strings stay valid as they
  // are, and the new root points at the old body table.
  constexpr size_t kLargestAlignment = 8;
  fbb.ForceVectorAlignment(size, sizeof(uint8_t), kLargestAlignment);
  const flatbuffers::uoffset_t blob = fbb.CreateVector(stored, size).o;
  // Offsets count from the buffer's end; the vector's data follows its
  // 4-byte length.
  const flatbuffers::uoffset_t body_offset = static_cast<flatbuffers::uoffset_t>(
      blob - sizeof(flatbuffers::uoffset_t) - (old_body - stored));
  wire::ReplyBuilder reply(fbb);
  reply.add_request_id(request_id);
  reply.add_body(flatbuffers::Offset<void>(body_offset));
  reply.add_protocol_version(old->protocol_version());
  reply.add_body_type(old->body_type());
  reply.add_replayed(true);
  fbb.Finish(reply.Finish(), kFileIdentifier);
}

void AnswerOnce(const wire::Request& request, const Clock& clock,
                FlatBufferBuilder& fbb, absl::FunctionRef<void()> execute) {
  const flatbuffers::String* key = request.idempotency_key();
  if (key == nullptr) return execute();
  const uint64_t id = request.request_id();
  if (absl::Status s = CheckIdempotencyKey(request); !s.ok()) {
    return Refuse(fbb, id, s);
  }
  IdempotencyStore* store = ScopedIdempotencyStore::Current();
  const absl::string_view key_text(key->c_str(), key->size());
  if (store == nullptr) {
    return Refuse(fbb, id,
                  absl::InternalError(absl::StrCat(
                      "idempotency key ", key_text,
                      " cannot be honoured: this thread has no idempotency "
                      "store; not executed")));
  }
  const absl::Time now = clock.Now();
  const uint64_t fingerprint = RequestFingerprint(request);
  if (const IdempotencyStore::Remembered* seen = store->Find(std::string_view(key->c_str(), key->size()), now)) {
    if (seen->fingerprint != fingerprint) {
      return Refuse(fbb, id,
                    absl::InvalidArgumentError(absl::StrCat(
                        "idempotency key ", key_text,
                        " was used for a different request; not executed")));
    }
    return FinishReplayedReply(
        fbb, reinterpret_cast<const uint8_t*>(seen->reply.data()),
        seen->reply.size(), id);
  }
  execute();
  const wire::Reply* reply =
      flatbuffers::GetRoot<wire::Reply>(fbb.GetBufferPointer());
  if (IsRememberedReply(*reply)) {
    store->Remember(std::string_view(key->c_str(), key->size()), fingerprint, now, fbb.GetBufferPointer(),
                    fbb.GetSize());
  }
}

}  // namespace routing::sidecar
