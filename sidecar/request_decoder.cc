#include "sidecar/request_decoder.h"

#include <cstring>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "flatbuffers/flatbuffers.h"
#include "routing/channel.h"
#include "routing/status_macros.h"

namespace routing::sidecar {
namespace {

DecodedRequest Refuse(uint64_t request_id, wire::ErrorCode code,
                      std::string message) {
  DecodedRequest decoded;
  decoded.request_id = request_id;
  decoded.error = code;
  decoded.message = std::move(message);
  return decoded;
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
        Text(skill->name(), absl::StrCat(std::string(field), ".name"),
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

absl::StatusOr<std::vector<std::string>> StringsFromWire(
    const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* list,
    std::string_view field, size_t max_count, size_t max_bytes) {
  std::vector<std::string> out;
  if (list == nullptr) return out;
  ROUTING_RETURN_IF_ERROR(CheckCount(list, field, max_count));
  out.reserve(list->size());
  for (const flatbuffers::String* s : *list) {
    ROUTING_ASSIGN_OR_RETURN(std::string text,
                             Text(s, field, max_bytes, /*required=*/true));
    out.push_back(std::move(text));
  }
  return out;
}

absl::Status AttributesFromWire(
    const flatbuffers::Vector<flatbuffers::Offset<wire::KeyValue>>* list,
    std::string_view field, bool forbid_handoff_keys,
    absl::flat_hash_map<std::string, std::string>* out) {
  if (list == nullptr) return absl::OkStatus();
  ROUTING_RETURN_IF_ERROR(CheckCount(list, field, kMaxAttributes));
  for (const wire::KeyValue* kv : *list) {
    ROUTING_ASSIGN_OR_RETURN(
        std::string key,
        Text(kv->key(), absl::StrCat(std::string(field), ".key"), kMaxNameBytes,
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
    (*out)[std::move(key)] = std::move(value);
  }
  return absl::OkStatus();
}

}  // namespace

DecodedRequest DecodeRequest(const uint8_t* data, size_t size,
                             const RequestDecoderOptions& options) {
  if (size > options.max_message_bytes) {
    return Refuse(0, wire::ErrorCode::TooLarge,
                  absl::StrCat("request of ", size, " bytes exceeds the ",
                               options.max_message_bytes, "-byte limit"));
  }
  // Root offset plus identifier, and a root table's offset to its vtable.
  constexpr size_t kMinimumBuffer = 2 * sizeof(flatbuffers::uoffset_t) + 4;
  if (data == nullptr || size < kMinimumBuffer) {
    return Refuse(0, wire::ErrorCode::MalformedRequest,
                  absl::StrCat("request of ", size,
                               " bytes is too short to be a Request buffer"));
  }
  if (reinterpret_cast<uintptr_t>(data) % alignof(uint64_t) != 0) {
    return Refuse(0, wire::ErrorCode::Internal,
                  "request buffer is not 8-byte aligned");
  }
  if (!flatbuffers::BufferHasIdentifier(data, kFileIdentifier)) {
    std::string found(
        reinterpret_cast<const char*>(data) + sizeof(flatbuffers::uoffset_t),
        flatbuffers::kFileIdentifierLength);
    for (char& c : found) {
      if (c < 0x20 || c > 0x7e) c = '?';
    }
    return Refuse(0, wire::ErrorCode::MalformedRequest,
                  absl::StrCat("wrong file identifier \"", found,
                               "\" (expected \"", kFileIdentifier, "\")"));
  }
  flatbuffers::Verifier::Options verifier_options;
  verifier_options.max_depth = options.max_depth;
  verifier_options.max_tables = options.max_tables;
  flatbuffers::Verifier verifier(data, size, verifier_options);
  if (!verifier.VerifyBuffer<wire::Request>(kFileIdentifier)) {
    return Refuse(0, wire::ErrorCode::MalformedRequest,
                  absl::StrCat("request of ", size,
                               " bytes failed FlatBuffers verification "
                               "(truncated, corrupt, missing a required "
                               "field, or nested too deep)"));
  }
  const wire::Request* request = flatbuffers::GetRoot<wire::Request>(data);
  const uint64_t id = request->request_id();
  if (request->protocol_version() != kProtocolVersion) {
    return Refuse(id, wire::ErrorCode::UnsupportedVersion,
                  absl::StrCat("protocol_version ", request->protocol_version(),
                               " is not supported (this daemon speaks ",
                               kProtocolVersion, ")"));
  }
  const auto type = request->body_type();
  if (type == wire::RequestBody::NONE || request->body() == nullptr) {
    return Refuse(id, wire::ErrorCode::MalformedRequest, "request has no body");
  }
  if (static_cast<int>(type) > static_cast<int>(wire::RequestBody::MAX)) {
    return Refuse(id, wire::ErrorCode::MalformedRequest,
                  absl::StrCat("unknown request type ", static_cast<int>(type),
                               " (known: 1..",
                               static_cast<int>(wire::RequestBody::MAX), ")"));
  }
  DecodedRequest decoded;
  decoded.request = request;
  decoded.request_id = id;
  return decoded;
}

absl::StatusOr<Contact> ContactFromWire(const wire::Contact& in,
                                        absl::Time now) {
  Contact contact;
  ROUTING_ASSIGN_OR_RETURN(contact.id, Text(in.id(), "contact.id", kMaxIdBytes,
                                            /*required=*/true));
  ROUTING_ASSIGN_OR_RETURN(contact.channel,
                           ChannelFromWire(in.channel(), "contact.channel"));
  ROUTING_ASSIGN_OR_RETURN(
      contact.queue, Text(in.queue(), "contact.queue", kMaxNameBytes, false));
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
      Text(in.customer_id(), "contact.customer_id", kMaxIdBytes, false));
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
  ROUTING_RETURN_IF_ERROR(AttributesFromWire(
      in.attributes(), "contact.attributes", false, &contact.attributes));
  if (const wire::HandoffContext* handoff = in.handoff(); handoff != nullptr) {
    const flatbuffers::String* fields[] = {
        handoff->intent(), handoff->language(), handoff->sentiment(),
        handoff->summary(), handoff->customer_id()};
    for (size_t i = 0; i < std::size(kHandoffKeys); ++i) {
      const size_t limit =
          i == 3 ? kMaxValueBytes : (i == 4 ? kMaxIdBytes : kMaxNameBytes);
      ROUTING_ASSIGN_OR_RETURN(
          std::string value,
          Text(fields[i], absl::StrCat("handoff.", kHandoffKeys[i]), limit,
               false));
      if (!value.empty())
        contact.attributes[kHandoffKeys[i]] = std::move(value);
    }
    ROUTING_RETURN_IF_ERROR(AttributesFromWire(handoff->attributes(),
                                               "handoff.attributes", true,
                                               &contact.attributes));
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
                           Text(in.id(), "agent.id", kMaxIdBytes, true));
  if (in.skills() != nullptr) {
    ROUTING_RETURN_IF_ERROR(
        CheckCount(in.skills(), "agent.skills", kMaxAgentSkills));
    for (const wire::Skill* skill : *in.skills()) {
      AgentSkill out;
      ROUTING_ASSIGN_OR_RETURN(
          out.skill,
          Text(skill->name(), "agent.skills.name", kMaxNameBytes, true));
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
          Text(language->tag(), "agent.languages.tag", kMaxNameBytes, true));
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
  ROUTING_RETURN_IF_ERROR(AttributesFromWire(
      in.attributes(), "agent.attributes", false, &profile.attributes));
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
                           Text(release.contact_id(), "release.contact_id",
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
  return Text(request.contact_id(), "get_contact.contact_id", kMaxIdBytes,
              /*required=*/true);
}

absl::StatusOr<ContactListQuery> ContactListQueryFromWire(
    const wire::ListContacts& request) {
  ContactListQuery query;
  ROUTING_ASSIGN_OR_RETURN(
      query.queue, Text(request.queue(), "list_contacts.queue", kMaxNameBytes,
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
