#include "routing/internal/input_checks.h"

#include "absl/strings/str_cat.h"
#include "routing/internal/string_view_compat.h"
#include "routing/status_macros.h"

namespace routing::internal {

absl::string_view EchoPrefix(std::string_view value, size_t max_bytes) {
  if (value.size() <= max_bytes) return AsAbsl(value);
  size_t end = max_bytes;
  // Back up to the start of a UTF-8 sequence: never cut a character in two.
  while (end > 0 && (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80) {
    --end;
  }
  return AsAbsl(value.substr(0, end));
}

absl::Status CheckName(std::string_view what, std::string_view name) {
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(what), " is empty"));
  }
  if (name.size() > kMaxIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(AsAbsl(what), " '", EchoPrefix(name, 32),
                     "...' is longer than ", kMaxIdBytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status CheckAttributes(
    std::string_view owner,
    const absl::flat_hash_map<std::string, std::string>& attributes) {
  if (attributes.size() > kMaxAttributes) {
    return absl::InvalidArgumentError(
        absl::StrCat(AsAbsl(owner), " has ", attributes.size(),
                     " attributes; at most ", kMaxAttributes, " are allowed"));
  }
  for (const auto& [key, value] : attributes) {
    ROUTING_RETURN_IF_ERROR(
        CheckName(absl::StrCat(AsAbsl(owner), " attribute name"), key));
    if (value.size() > kMaxAttributeValueBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          AsAbsl(owner), " attribute '", key, "' is ", value.size(),
          " bytes; at most ", kMaxAttributeValueBytes));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSkillRequirement(std::string_view contact_id,
                                   const SkillRequirement& requirement,
                                   int max_skill_level) {
  ROUTING_RETURN_IF_ERROR(
      CheckName(absl::StrCat("contact '", AsAbsl(contact_id), "' skill name"),
                requirement.skill));
  if (requirement.min_level < 1 || requirement.min_level > max_skill_level) {
    return absl::InvalidArgumentError(absl::StrCat(
        "contact '", AsAbsl(contact_id), "' asks for skill '",
        requirement.skill, "' at level ", requirement.min_level,
        "; levels run 1..", max_skill_level));
  }
  return absl::OkStatus();
}

}  // namespace routing::internal
