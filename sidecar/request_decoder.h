// File: sidecar/request_decoder.h
//
// Turns untrusted bytes from the network into a verified wire::Request, and
// wire tables into the engine's domain types. This is the only code that reads
// a request buffer before it is known to be sound; the daemon and the fuzz
// target (sidecar/fuzz/) both call exactly these functions.
//
//   RequestDecoderOptions options;              // size limit, nesting limits
//   DecodedRequest decoded = DecodeRequest(bytes, size, options);
//   if (!decoded.ok()) reply_error(decoded.request_id, decoded.error,
//                                  decoded.message);
//   else switch (decoded.request->body_type()) { ... }
//   absl::StatusOr<routing::Contact> contact =
//       ContactFromWire(*decoded.request->body_as_RouteContact()->contact(),
//                       absl::Now());
//
// Errors: DecodeRequest never crashes and never reads outside [data, data +
// size); its message names the problem (size, identifier, version, body type,
// or "failed verification"). The *FromWire functions return InvalidArgument
// naming the field for strings, lists and numbers out of the documented
// ranges in routing.fbs.
// Thread-safety: stateless; call from any thread. `data` must stay alive and
// unchanged while the returned pointer is used, and must be 8-byte aligned
// (AlignedCopy below makes it so).
#ifndef SIDECAR_REQUEST_DECODER_H_
#define SIDECAR_REQUEST_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "routing/agent.h"
#include "routing/contact.h"
#include "routing/contact_kpis.h"
#include "routing/interaction.h"
#include "sidecar/routing_generated.h"

namespace routing::sidecar {

inline constexpr uint16_t kProtocolVersion = 1;
// The file identifier of every buffer of the protocol (routing.fbs).
inline constexpr char kFileIdentifier[] = "RTSC";

// Field limits from routing.fbs. They bound the memory one request can make the
// daemon allocate, whatever the message size limit.
inline constexpr size_t kMaxIdBytes = 128;
inline constexpr size_t kMaxNameBytes = 64;
inline constexpr size_t kMaxValueBytes = 4096;
inline constexpr size_t kMaxAttributes = 64;
inline constexpr size_t kMaxAgentSkills = 64;
inline constexpr size_t kMaxAgentLanguages = 16;
inline constexpr size_t kMaxContactSkills = 16;
inline constexpr size_t kMaxContactLanguages = 8;
inline constexpr size_t kMaxAgentLists = 16;  // Preferred / excluded agents.
inline constexpr size_t kMaxRulesSourceBytes = 256 * 1024;
inline constexpr int kMaxStatsWindowSeconds = 3600;
// ListContacts: at most this many contacts per queue, and in one reply (about
// 150 bytes each on the wire: a reply stays under 2 MB, and a supervisor's
// screen shows far fewer).
inline constexpr int kMaxListContactsPerQueue = 1000;
inline constexpr int kMaxListedContacts = 10'000;
// An enqueue time older than this is taken for a client clock bug.
inline constexpr absl::Duration kMaxWaitingSince = absl::Hours(24);

// The five attribute keys a HandoffContext's named fields are stored under.
inline constexpr const char* kHandoffKeys[] = {
    "intent", "language", "sentiment", "summary", "customer_id"};

struct RequestDecoderOptions {
  size_t max_message_bytes = 1 << 20;
  // FlatBuffers Verifier limits: nesting depth and table count of one buffer.
  // The deepest legal request nests 5 tables; the largest holds a few hundred.
  uint32_t max_depth = 16;
  uint32_t max_tables = 4096;
};

struct DecodedRequest {
  bool ok() const { return request != nullptr; }
  // Set when the buffer verified; points into the caller's bytes.
  const wire::Request* request = nullptr;
  // The request's id when it could be read (even if the request was then
  // refused), else 0.
  uint64_t request_id = 0;
  wire::ErrorCode error = wire::ErrorCode::None;
  std::string message;
};

DecodedRequest DecodeRequest(const uint8_t* data, size_t size,
                             const RequestDecoderOptions& options);

// Contact and agent profile from their wire form. `now` bounds
// waiting_since_unix_ms. The handoff context is merged into the attributes.
absl::StatusOr<Contact> ContactFromWire(const wire::Contact& contact,
                                        absl::Time now);
absl::StatusOr<AgentProfile> AgentProfileFromWire(
    const wire::AgentProfile& profile);

// Checks a ReloadRules request: exactly one of path and source, within limits.
absl::Status CheckReloadRules(const wire::ReloadRules& reload);

// A ReleaseContact request: the contact, an outcome within the enum, and the
// survey's answers as given. The answers' ranges are the router's to check
// (ValidateSurvey, contact_kpis.h), so the rule has one home.
struct ContactRelease {
  std::string contact_id;
  ContactOutcome outcome = ContactOutcome::kUnknown;
  ContactSurvey survey;
};
absl::StatusOr<ContactRelease> ContactReleaseFromWire(
    const wire::ReleaseContact& release);

// GetContact's contact id, within kMaxIdBytes.
absl::StatusOr<std::string> ContactIdFromWire(const wire::GetContact& request);

// A ListContacts request: the queue (empty: every queue) and a per-queue
// limit within 1..kMaxListContactsPerQueue.
struct ContactListQuery {
  std::string queue;
  int limit_per_queue = kMaxListContactsPerQueue;
};
absl::StatusOr<ContactListQuery> ContactListQueryFromWire(
    const wire::ListContacts& request);

// Buffers from ZeroMQ carry no alignment guarantee; FlatBuffers needs its
// scalars aligned. Returns `data` itself when aligned, else a copy in
// `scratch`.
const uint8_t* AlignedCopy(const uint8_t* data, size_t size,
                           std::vector<uint64_t>* scratch);

}  // namespace routing::sidecar

#endif  // SIDECAR_REQUEST_DECODER_H_
