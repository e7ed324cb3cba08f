// File: routing/internal/input_checks.h
//
// The limits on what callers hand the router (ids, names, attribute maps,
// list lengths, claimed waits) and the checks that refuse the rest with an
// error naming the field. Shared by the agent and contact compilers.
#ifndef ROUTING_INTERNAL_INPUT_CHECKS_H_
#define ROUTING_INTERNAL_INPUT_CHECKS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "routing/contact.h"
#include "routing/internal/contact_record.h"

namespace routing::internal {

// Ids and names longer than this are refused: they are keys, not documents.
inline constexpr size_t kMaxIdBytes = 256;
// Attribute values carry chatbot context such as a conversation summary.
inline constexpr size_t kMaxAttributeValueBytes = 64 * 1024;
inline constexpr size_t kMaxAttributes = 256;
// A contact lists a handful of requirements; more means a bug upstream.
inline constexpr size_t kMaxListEntries = kMaxRequirements;
// Contacts that claim to have waited longer than this are a clock error.
inline constexpr absl::Duration kMaxClaimedWait = absl::Hours(24 * 30);
// How far a contact's enqueue time may be ahead of the router's clock: a
// host (an IVR, a PBX) whose clock runs slightly ahead is not refused; its
// contact starts waiting at the router's "now". Further ahead is a clock
// error.
inline constexpr absl::Duration kMaxEnqueueClockSkew = absl::Seconds(5);

// `name` (described as `what` in the error) is non-empty and short enough.
absl::Status CheckName(std::string_view what, std::string_view name);
// The first `max_bytes` of `value` or fewer, cut between UTF-8 characters:
// what an error message may echo of a value too long to echo whole.
absl::string_view EchoPrefix(std::string_view value, size_t max_bytes);
// At most kMaxAttributes, each name checked, each value within bounds.
absl::Status CheckAttributes(
    std::string_view owner,
    const absl::flat_hash_map<std::string, std::string>& attributes);
// A skill a contact asks for: a well-formed name, a level in 1..max.
absl::Status CheckSkillRequirement(std::string_view contact_id,
                                   const SkillRequirement& requirement,
                                   int max_skill_level);

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_INPUT_CHECKS_H_
