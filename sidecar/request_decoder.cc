#include "sidecar/request_decoder.h"

#include <cstring>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "flatbuffers/flatbuffers.h"
#include "routing/channel.h"
#include "routing/status_macros.h"
#include "sidecar/required_fields.h"

namespace routing::sidecar {
namespace {

DecodedRequest Refuse(const RequestHeader& header, wire::ErrorCode code,
                      std::string message) {
  DecodedRequest decoded;
  decoded.request_id = header.readable ? header.request_id : 0;
  decoded.request_id_unread = !header.readable;
  decoded.error = code;
  decoded.message = std::move(message);
  return decoded;
}

// A value quoted in an error message: escaped (no control character reaches
// a log line) and cut to a readable length.
std::string Quoted(std::string_view value) {
  constexpr size_t kShown = 64;
  std::string shown = absl::CHexEscape(
      absl::string_view(value.data(), std::min(value.size(), kShown)));
  return absl::StrCat("\"", shown, "\"", value.size() > kShown ? "..." : "");
}

// Strings from the wire are length-checked and copied; flatbuffers::String
// allows embedded NULs, which we pass through untouched.
absl::StatusOr<std::string> Text(const flatbuffers::String* s,
                                 std::string_view field, size_t max_bytes,
                                 bool required) {
  if (s == nullptr || s->size() == 0) {
    if (required) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(field), " is empty"));
    }
    return std::string();
  }
  if (s->size() > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), " is ", s->size(),
                     " bytes, more than the ", max_bytes, " allowed"));
  }
  return s->str();
}

// An id, name or key: Text, and no control character (CheckIdCharacters).
absl::StatusOr<std::string> Id(const flatbuffers::String* s,
                               std::string_view field, size_t max_bytes,
                               bool required) {
  ROUTING_ASSIGN_OR_RETURN(std::string text,
                           Text(s, field, max_bytes, required));
  ROUTING_RETURN_IF_ERROR(CheckIdCharacters(text, field));
  return text;
}

// The attributes of one contact or agent, gathered from several places of
// the request (attribute lists, handoff fields). A key may come more than
// once only with the same value: otherwise one of the two would be dropped
// without the client knowing which.
class AttributeMerge {
 public:
  explicit AttributeMerge(absl::flat_hash_map<std::string, std::string>* out)
      : out_(out) {}

  absl::Status Add(std::string key, std::string value, std::string source) {
    auto [it, inserted] = out_->try_emplace(key, value);
    if (inserted) {
      source_of_.try_emplace(std::move(key), std::move(source));
      return absl::OkStatus();
    }
    if (it->second == value) return absl::OkStatus();
    auto first = source_of_.find(key);
    return absl::InvalidArgumentError(absl::StrCat(
        "attribute ", Quoted(key), " is ", Quoted(it->second), " in ",
        first != source_of_.end() ? first->second : std::string("an earlier entry"),
        " but ", Quoted(value), " in ", source,
        "; give it once, or the same value in both"));
  }

 private:
  absl::flat_hash_map<std::string, std::string>* out_;
  absl::flat_hash_map<std::string, std::string> source_of_;
};

template <typename T>
absl::Status CheckCount(const flatbuffers::Vector<T>* v, std::string_view field,
                        size_t max_count) {
  if (v != nullptr && v->size() > max_count) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), " has ", v->size(),
                     " entries, more than the ", max_count, " allowed"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Channel> ChannelFromWire(wire::ChannelKind kind,
                                        std::string_view field) {
  const int value = static_cast<int>(kind);
  if (value < 0 || value >= kChannelCount) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), " ", value, " is not a channel (0..",
                     kChannelCount - 1, ")"));
  }
  return static_cast<Channel>(value);
}

absl::StatusOr<std::vector<SkillRequirement>> SkillRequirementsFromWire(
    const flatbuffers::Vector<flatbuffers::Offset<wire::Skill>>* skills,
    std::string_view field) {
  std::vector<SkillRequirement> out;
  if (skills == nullptr) return out;
  ROUTING_RETURN_IF_ERROR(CheckCount(skills, field, kMaxContactSkills));
  out.reserve(skills->size());
  for (const wire::Skill* skill : *skills) {
    SkillRequirement requirement;
    ROUTING_ASSIGN_OR_RETURN(
        requirement.skill,
        Id(skill->name(), absl::StrCat(std::string(field), ".name"),
           kMaxNameBytes, /*required=*/true));
    // The router checks the level against its own maximum; here we only keep
    // absurd values from reaching it.
    if (skill->level() < 1 || skill->level() > 100) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(field), " ", requirement.skill, ": level ",
                       skill->level(), " is out of range"));
    }
    requirement.min_level = skill->level();
    out.push_back(std::move(requirement));
  }
  return out;
}

// A list of ids (languages, agent ids).
absl::StatusOr<std::vector<std::string>> StringsFromWire(
    const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* list,
    std::string_view field, size_t max_count, size_t max_bytes) {
  std::vector<std::string> out;
  if (list == nullptr) return out;
  ROUTING_RETURN_IF_ERROR(CheckCount(list, field, max_count));
  out.reserve(list->size());
  for (const flatbuffers::String* s : *list) {
    ROUTING_ASSIGN_OR_RETURN(std::string text,
                             Id(s, field, max_bytes, /*required=*/true));
    out.push_back(std::move(text));
  }
  return out;
}

absl::Status AttributesFromWire(
    const flatbuffers::Vector<flatbuffers::Offset<wire::KeyValue>>* list,
    std::string_view field, bool forbid_handoff_keys, AttributeMerge* out) {
  if (list == nullptr) return absl::OkStatus();
  ROUTING_RETURN_IF_ERROR(CheckCount(list, field, kMaxAttributes));
  for (flatbuffers::uoffset_t i = 0; i < list->size(); ++i) {
    const wire::KeyValue* kv = list->Get(i);
    ROUTING_ASSIGN_OR_RETURN(
        std::string key,
        Id(kv->key(), absl::StrCat(std::string(field), ".key"), kMaxNameBytes,
           /*required=*/true));
    if (forbid_handoff_keys) {
      for (const char* reserved : kHandoffKeys) {
        if (key == reserved) {
          return absl::InvalidArgumentError(absl::StrCat(
              std::string(field), " key \"", key,
              "\" is reserved for the handoff field of that name"));
        }
      }
    }
    ROUTING_ASSIGN_OR_RETURN(
        std::string value,
        Text(kv->value(), absl::StrCat(std::string(field), ".", key),
             kMaxValueBytes, /*required=*/false));
    ROUTING_RETURN_IF_ERROR(out->Add(std::move(key), std::move(value),
                                     absl::StrCat(std::string(field), "[", i,
                                                  "]")));
  }
  return absl::OkStatus();
}

// The ids of the requests the handler reads without a *FromWire function.
absl::Status CheckDirectIds(const wire::Request& request) {
  const flatbuffers::String* id = nullptr;
  const flatbuffers::String* agent = nullptr;
  std::string_view id_field;
  std::string_view agent_field;
  switch (request.body_type()) {
    case wire::RequestBody::RemoveAgent:
      id = request.body_as_RemoveAgent()->agent_id();
      id_field = "remove_agent.agent_id";
      break;
    case wire::RequestBody::SetAgentState:
      id = request.body_as_SetAgentState()->agent_id();
      id_field = "set_agent_state.agent_id";
      break;
    case wire::RequestBody::CancelContact:
      id = request.body_as_CancelContact()->contact_id();
      id_field = "cancel_contact.contact_id";
      break;
    case wire::RequestBody::AcceptOffer:
      id = request.body_as_AcceptOffer()->contact_id();
      id_field = "accept_offer.contact_id";
      agent = request.body_as_AcceptOffer()->agent_id();
      agent_field = "accept_offer.agent_id";
      break;
    case wire::RequestBody::RejectOffer:
      id = request.body_as_RejectOffer()->contact_id();
      id_field = "reject_offer.contact_id";
      agent = request.body_as_RejectOffer()->agent_id();
      agent_field = "reject_offer.agent_id";
      break;
    default:
      return absl::OkStatus();
  }
  ROUTING_RETURN_IF_ERROR(
      Id(id, id_field, kMaxIdBytes, /*required=*/true).status());
  return Id(agent, agent_field, kMaxIdBytes, /*required=*/false).status();
}

}  // namespace

RequestHeader PeekRequestHeader(const uint8_t* data, size_t size) {
  RequestHeader header;
  if (data == nullptr || size < sizeof(flatbuffers::uoffset_t) ||
      reinterpret_cast<uintptr_t>(data) % alignof(uint64_t) != 0) {
    return header;
  }
  // One table at depth one: the root. Nothing below it is looked at.
  flatbuffers::Verifier::Options options;
  options.max_depth = 1;
  options.max_tables = 1;
  flatbuffers::Verifier verifier(data, size, options);
  const flatbuffers::uoffset_t root = verifier.VerifyOffset(0);
  if (root == 0) return header;
  const auto* table = reinterpret_cast<const flatbuffers::Table*>(data + root);
  if (!table->VerifyTableStart(verifier) ||
      !table->VerifyField<uint16_t>(verifier,
                                    wire::Request::VT_PROTOCOL_VERSION, 2) ||
      !table->VerifyField<uint64_t>(verifier, wire::Request::VT_REQUEST_ID,
                                    8) ||
      !table->VerifyField<uint8_t>(verifier, wire::Request::VT_BODY_TYPE, 1)) {
    return header;
  }
  header.readable = true;
  header.protocol_version =
      table->GetField<uint16_t>(wire::Request::VT_PROTOCOL_VERSION, 0);
  header.request_id = table->GetField<uint64_t>(wire::Request::VT_REQUEST_ID, 0);
  header.body_type = table->GetField<uint8_t>(wire::Request::VT_BODY_TYPE, 0);
  return header;
}

absl::Status CheckIdCharacters(std::string_view id, std::string_view field) {
  for (size_t i = 0; i < id.size(); ++i) {
    const auto byte = static_cast<unsigned char>(id[i]);
    if (byte < 0x20 || byte == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          std::string(field), " ", Quoted(id), " holds control character ",
          absl::StrFormat("0x%02X", byte), " at byte ", i,
          "; ids, names and keys may not contain bytes 0x00-0x1F or 0x7F "
          "(event topics end with a NUL byte)"));
    }
  }
  return absl::OkStatus();
}

DecodedRequest DecodeRequest(const uint8_t* data, size_t size,
                             const RequestDecoderOptions& options) {
  // O(1) and safe on any bytes: every refusal below echoes the id if it is
  // readable (an oversize buffer is not read beyond it).
  const RequestHeader header = PeekRequestHeader(data, size);
  if (size > options.max_message_bytes) {
    return Refuse(header, wire::ErrorCode::TooLarge,
                  absl::StrCat("request of ", size, " bytes exceeds the ",
                               options.max_message_bytes, "-byte limit"));
  }
  // Root offset plus identifier, and a root table's offset to its vtable.
  constexpr size_t kMinimumBuffer = 2 * sizeof(flatbuffers::uoffset_t) + 4;
  if (data == nullptr || size < kMinimumBuffer) {
    return Refuse(header, wire::ErrorCode::MalformedRequest,
                  absl::StrCat("request of ", size,
                               " bytes is too short to be a Request buffer"));
  }
  if (reinterpret_cast<uintptr_t>(data) % alignof(uint64_t) != 0) {
    return Refuse(header, wire::ErrorCode::Internal,
                  "request buffer is not 8-byte aligned");
  }
  if (!flatbuffers::BufferHasIdentifier(data, kFileIdentifier)) {
    std::string found(
        reinterpret_cast<const char*>(data) + sizeof(flatbuffers::uoffset_t),
        flatbuffers::kFileIdentifierLength);
    for (char& c : found) {
      if (c < 0x20 || c > 0x7e) c = '?';
    }
    return Refuse(header, wire::ErrorCode::MalformedRequest,
                  absl::StrCat("wrong file identifier \"", found,
                               "\" (expected \"", kFileIdentifier, "\")"));
  }
  // Before the body is verified: another version may lay it out otherwise,
  // and its client must learn the version is the problem.
  if (header.readable && header.protocol_version != kProtocolVersion) {
    return Refuse(header, wire::ErrorCode::UnsupportedVersion,
                  absl::StrCat("protocol_version ", header.protocol_version,
                               " is not supported (this daemon speaks ",
                               kProtocolVersion, ")"));
  }
  flatbuffers::Verifier::Options verifier_options;
  verifier_options.max_depth = options.max_depth;
  verifier_options.max_tables = options.max_tables;
  flatbuffers::Verifier verifier(data, size, verifier_options);
  if (!verifier.VerifyBuffer<wire::Request>(kFileIdentifier)) {
    // Error path only: find out whether a required field is the reason.
    if (std::optional<std::string> missing =
            FirstMissingRequiredField(data, size, verifier_options);
        missing.has_value()) {
      return Refuse(header, wire::ErrorCode::MalformedRequest,
                    absl::StrCat(*missing, " is required but missing"));
    }
    return Refuse(header, wire::ErrorCode::MalformedRequest,
                  absl::StrCat("request of ", size,
                               " bytes failed FlatBuffers verification "
                               "(truncated, corrupt, or nested too deep)"));
  }
  const wire::Request* request = flatbuffers::GetRoot<wire::Request>(data);
  const uint64_t id = request->request_id();
  const RequestHeader verified = {.readable = true,
                                  .request_id = id,
                                  .protocol_version = request->protocol_version(),
                                  .body_type = static_cast<uint8_t>(
                                      request->body_type())};
  const auto type = request->body_type();
  if (type == wire::RequestBody::NONE) {
    return Refuse(verified, wire::ErrorCode::MalformedRequest,
                  "request has no body");
  }
  // The generated verifier accepts union members it does not know: a newer
  // client's request type, which must not look like a broken buffer.
  if (static_cast<int>(type) > static_cast<int>(wire::RequestBody::MAX)) {
    return Refuse(verified, wire::ErrorCode::Unimplemented,
                  absl::StrCat("request type ", static_cast<int>(type),
                               " is not known to this daemon (it serves 1..",
                               static_cast<int>(wire::RequestBody::MAX),
                               "); nothing was executed"));
  }
  if (request->body() == nullptr) {
    return Refuse(verified, wire::ErrorCode::MalformedRequest,
                  "request has no body");
  }
  if (absl::Status ids = CheckDirectIds(*request); !ids.ok()) {
    return Refuse(verified, wire::ErrorCode::InvalidArgument,
                  std::string(ids.message()));
  }
  DecodedRequest decoded;
  decoded.request = request;
  decoded.request_id = id;
  return decoded;
}

absl::StatusOr<Contact> ContactFromWire(const wire::Contact& in,
                                        absl::Time now) {
  Contact contact;
  ROUTING_ASSIGN_OR_RETURN(contact.id, Id(in.id(), "contact.id", kMaxIdBytes,
                                          /*required=*/true));
  ROUTING_ASSIGN_OR_RETURN(contact.channel,
                           ChannelFromWire(in.channel(), "contact.channel"));
  ROUTING_ASSIGN_OR_RETURN(
      contact.queue, Id(in.queue(), "contact.queue", kMaxNameBytes, false));
  ROUTING_ASSIGN_OR_RETURN(
      contact.required_skills,
      SkillRequirementsFromWire(in.required_skills(),
                                "contact.required_skills"));
  ROUTING_ASSIGN_OR_RETURN(
      contact.desired_skills,
      SkillRequirementsFromWire(in.desired_skills(), "contact.desired_skills"));
  ROUTING_ASSIGN_OR_RETURN(
      contact.languages, StringsFromWire(in.languages(), "contact.languages",
                                         kMaxContactLanguages, kMaxNameBytes));
  if (in.priority() < 0 || in.priority() > kMaxPriority) {
    return absl::InvalidArgumentError(absl::StrCat(
        "contact.priority ", in.priority(), " is outside 0..", kMaxPriority));
  }
  contact.priority = in.priority();
  ROUTING_ASSIGN_OR_RETURN(
      contact.customer_id,
      Id(in.customer_id(), "contact.customer_id", kMaxIdBytes, false));
  ROUTING_ASSIGN_OR_RETURN(
      contact.preferred_agents,
      StringsFromWire(in.preferred_agents(), "contact.preferred_agents",
                      kMaxAgentLists, kMaxIdBytes));
  ROUTING_ASSIGN_OR_RETURN(
      contact.excluded_agents,
      StringsFromWire(in.excluded_agents(), "contact.excluded_agents",
                      kMaxAgentLists, kMaxIdBytes));
  const int64_t since_ms = in.waiting_since_unix_ms();
  if (since_ms != 0) {
    const int64_t now_ms = absl::ToUnixMillis(now);
    const int64_t oldest_ms =
        now_ms - absl::ToInt64Milliseconds(kMaxWaitingSince);
    // A little slack for clocks of client and daemon hosts that disagree.
    constexpr int64_t kClockSkewMs = 5'000;
    if (since_ms < oldest_ms || since_ms > now_ms + kClockSkewMs) {
      return absl::InvalidArgumentError(absl::StrCat(
          "contact.waiting_since_unix_ms ", since_ms,
          " is not within the last 24 hours of the daemon's clock (", now_ms,
          ")"));
    }
    contact.enqueue_time = absl::FromUnixMillis(std::min(since_ms, now_ms));
  }
  AttributeMerge attributes(&contact.attributes);
  ROUTING_RETURN_IF_ERROR(AttributesFromWire(
      in.attributes(), "contact.attributes", false, &attributes));
  if (const wire::HandoffContext* handoff = in.handoff(); handoff != nullptr) {
    const flatbuffers::String* fields[] = {
        handoff->intent(), handoff->language(), handoff->sentiment(),
        handoff->summary(), handoff->customer_id()};
    for (size_t i = 0; i < std::size(kHandoffKeys); ++i) {
      const size_t limit =
          i == 3 ? kMaxValueBytes : (i == 4 ? kMaxIdBytes : kMaxNameBytes);
      const std::string field = absl::StrCat("handoff.", kHandoffKeys[i]);
      // customer_id may become the contact's customer id: an id.
      ROUTING_ASSIGN_OR_RETURN(std::string value,
                               i == 4 ? Id(fields[i], field, limit, false)
                                      : Text(fields[i], field, limit, false));
      if (!value.empty()) {
        ROUTING_RETURN_IF_ERROR(
            attributes.Add(kHandoffKeys[i], std::move(value), field));
      }
    }
    ROUTING_RETURN_IF_ERROR(AttributesFromWire(
        handoff->attributes(), "handoff.attributes", true, &attributes));
    if (contact.customer_id.empty()) {
      auto it = contact.attributes.find("customer_id");
      if (it != contact.attributes.end()) contact.customer_id = it->second;
    }
  }
  if (contact.attributes.size() > 2 * kMaxAttributes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "contact has ", contact.attributes.size(),
        " attributes, more than the ", 2 * kMaxAttributes, " allowed"));
  }
  return contact;
}

absl::StatusOr<AgentProfile> AgentProfileFromWire(
    const wire::AgentProfile& in) {
  AgentProfile profile;
  ROUTING_ASSIGN_OR_RETURN(profile.id,
                           Id(in.id(), "agent.id", kMaxIdBytes, true));
  if (in.skills() != nullptr) {
    ROUTING_RETURN_IF_ERROR(
        CheckCount(in.skills(), "agent.skills", kMaxAgentSkills));
    for (const wire::Skill* skill : *in.skills()) {
      AgentSkill out;
      ROUTING_ASSIGN_OR_RETURN(
          out.skill,
          Id(skill->name(), "agent.skills.name", kMaxNameBytes, true));
      out.level = skill->level();  // The router range-checks levels.
      profile.skills.push_back(std::move(out));
    }
  }
  if (in.languages() != nullptr) {
    ROUTING_RETURN_IF_ERROR(
        CheckCount(in.languages(), "agent.languages", kMaxAgentLanguages));
    for (const wire::Language* language : *in.languages()) {
      AgentLanguage out;
      ROUTING_ASSIGN_OR_RETURN(
          out.language,
          Id(language->tag(), "agent.languages.tag", kMaxNameBytes, true));
      out.fluency = language->fluency();
      profile.languages.push_back(std::move(out));
    }
  }
  if (in.capacity() != nullptr) {
    ROUTING_RETURN_IF_ERROR(
        CheckCount(in.capacity(), "agent.capacity", kChannelCount));
    for (const wire::ChannelCapacity* capacity : *in.capacity()) {
      ROUTING_ASSIGN_OR_RETURN(
          Channel channel,
          ChannelFromWire(capacity->channel(), "agent.capacity.channel"));
      if (capacity->contacts() < 0 ||
          capacity->contacts() > kMaxChannelCapacity) {
        return absl::InvalidArgumentError(absl::StrCat(
            "agent.capacity ", std::string(ChannelName(channel)), " ",
            capacity->contacts(), " is outside 0..", kMaxChannelCapacity));
      }
      profile.SetCapacity(channel, capacity->contacts());
    }
  }
  if (in.max_total_contacts() < 0 ||
      in.max_total_contacts() > kMaxChannelCapacity * kChannelCount) {
    return absl::InvalidArgumentError(absl::StrCat("agent.max_total_contacts ",
                                                   in.max_total_contacts(),
                                                   " is out of range"));
  }
  profile.max_total_contacts = in.max_total_contacts();
  ROUTING_ASSIGN_OR_RETURN(profile.team,
                           Text(in.team(), "agent.team", kMaxNameBytes, false));
  ROUTING_ASSIGN_OR_RETURN(profile.site,
                           Text(in.site(), "agent.site", kMaxNameBytes, false));
  AttributeMerge attributes(&profile.attributes);
  ROUTING_RETURN_IF_ERROR(AttributesFromWire(in.attributes(),
                                             "agent.attributes", false,
                                             &attributes));
  return profile;
}

absl::Status CheckReloadRules(const wire::ReloadRules& reload) {
  const bool has_path = reload.path() != nullptr && reload.path()->size() > 0;
  const bool has_source =
      reload.source() != nullptr && reload.source()->size() > 0;
  if (has_path == has_source) {
    return absl::InvalidArgumentError(
        "reload_rules needs exactly one of path and source");
  }
  if (has_path && reload.path()->size() > 4096) {
    return absl::InvalidArgumentError("reload_rules.path is longer than 4096");
  }
  if (has_source && reload.source()->size() > kMaxRulesSourceBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "reload_rules.source is ", reload.source()->size(),
        " bytes, more than the ", kMaxRulesSourceBytes, " allowed"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ContactRelease> ContactReleaseFromWire(
    const wire::ReleaseContact& release) {
  ContactRelease out;
  ROUTING_ASSIGN_OR_RETURN(out.contact_id,
                           Id(release.contact_id(), "release.contact_id",
                              kMaxIdBytes, /*required=*/true));
  const int outcome = static_cast<int>(release.outcome());
  if (outcome < 0 || outcome >= kContactOutcomeCount) {
    return absl::InvalidArgumentError(absl::StrCat(
        "release.outcome ", outcome, " is not a contact outcome (0..",
        kContactOutcomeCount - 1, ")"));
  }
  out.outcome = static_cast<ContactOutcome>(outcome);
  if (release.csat().has_value()) out.survey.csat = *release.csat();
  if (release.nps().has_value()) out.survey.nps = *release.nps();
  return out;
}

absl::StatusOr<std::string> ContactIdFromWire(const wire::GetContact& request) {
  return Id(request.contact_id(), "get_contact.contact_id", kMaxIdBytes,
            /*required=*/true);
}

absl::StatusOr<OfferAnswer> OfferAnswerFromWire(
    const wire::AcceptOffer& accept) {
  OfferAnswer answer;
  ROUTING_ASSIGN_OR_RETURN(
      answer.contact_id, Id(accept.contact_id(), "accept_offer.contact_id",
                            kMaxIdBytes, /*required=*/true));
  ROUTING_ASSIGN_OR_RETURN(
      answer.agent_id, Id(accept.agent_id(), "accept_offer.agent_id",
                          kMaxIdBytes, /*required=*/false));
  return answer;
}

absl::StatusOr<OfferAnswer> OfferAnswerFromWire(
    const wire::RejectOffer& reject) {
  OfferAnswer answer;
  ROUTING_ASSIGN_OR_RETURN(
      answer.contact_id, Id(reject.contact_id(), "reject_offer.contact_id",
                            kMaxIdBytes, /*required=*/true));
  ROUTING_ASSIGN_OR_RETURN(
      answer.agent_id, Id(reject.agent_id(), "reject_offer.agent_id",
                          kMaxIdBytes, /*required=*/false));
  return answer;
}

absl::StatusOr<ContactListQuery> ContactListQueryFromWire(
    const wire::ListContacts& request) {
  ContactListQuery query;
  ROUTING_ASSIGN_OR_RETURN(
      query.queue, Id(request.queue(), "list_contacts.queue", kMaxNameBytes,
                      /*required=*/false));
  if (request.limit() < 1 || request.limit() > kMaxListContactsPerQueue) {
    return absl::InvalidArgumentError(
        absl::StrCat("list_contacts.limit ", request.limit(), " is outside 1..",
                     kMaxListContactsPerQueue));
  }
  query.limit_per_queue = request.limit();
  return query;
}

const uint8_t* AlignedCopy(const uint8_t* data, size_t size,
                           std::vector<uint64_t>* scratch) {
  if (reinterpret_cast<uintptr_t>(data) % alignof(uint64_t) == 0) return data;
  scratch->resize((size + sizeof(uint64_t) - 1) / sizeof(uint64_t));
  std::memcpy(scratch->data(), data, size);
  return reinterpret_cast<const uint8_t*>(scratch->data());
}

}  // namespace routing::sidecar
