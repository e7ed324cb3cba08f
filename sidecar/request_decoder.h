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
// size); its message names the problem (size, identifier, version, an
// unknown body type, the first required field missing, an id with a control
// character). It echoes the request id whenever the root table's id can be
// read, even from a buffer it refuses. The *FromWire functions return
// InvalidArgument naming the field for strings, lists and numbers out of the
// documented ranges in routing.fbs, ids with control characters, and an
// attribute given twice with different values.
// Thread-safety: stateless; call from any thread. `data` must stay alive and
// unchanged while the returned pointer is used, and must be 8-byte aligned
// (AlignedCopy below makes it so).
#ifndef SIDECAR_REQUEST_DECODER_H_
#define SIDECAR_REQUEST_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
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
  // Set when the buffer verified and the request passed every check; points
  // into the caller's bytes.
  const wire::Request* request = nullptr;
  // The request's id whenever the root table's request_id could be read, even
  // if the request was then refused (too large, wrong identifier, failed
  // verification, another version, unknown type). When it could not be read,
  // request_id is 0 and request_id_unread is true: 0 is also a valid id.
  uint64_t request_id = 0;
  bool request_id_unread = false;
  wire::ErrorCode error = wire::ErrorCode::None;
  std::string message;
};

// Refusal codes:
//   TOO_LARGE            size > options.max_message_bytes (id echoed if the
//                        root table is readable: nothing else is read);
//   MALFORMED_REQUEST    too short, wrong file identifier, failed
//                        verification (naming the first required field
//                        missing, e.g. "AddAgent.agent.skills[2].name", when
//                        that is why), no body;
//   UNSUPPORTED_VERSION  protocol_version is not kProtocolVersion (checked
//                        before the body is verified: another version's body
//                        may be laid out otherwise);
//   UNIMPLEMENTED        a body type this daemon does not know, naming it;
//   INVALID_ARGUMENT     an id that the handler reads directly
//                        (RemoveAgent.agent_id, SetAgentState.agent_id,
//                        CancelContact.contact_id, AcceptOffer/RejectOffer)
//                        is too long or holds a control character;
//   INTERNAL             `data` is not 8-byte aligned (a caller's bug).
DecodedRequest DecodeRequest(const uint8_t* data, size_t size,
                             const RequestDecoderOptions& options);

// The envelope fields of a Request, read without verifying the rest of the
// buffer: a flatbuffers::Verifier checks the root offset, the root table's
// vtable and these three scalars only. O(1), never reads outside [data, data
// + size), whatever the bytes; `readable` is false (and the rest zero) when
// they cannot be read safely, or `data` is not 8-byte aligned. Does not look
// at the file identifier. For refusals that must still echo the id, and for
// routing a request to a worker before it is verified.
struct RequestHeader {
  bool readable = false;
  uint64_t request_id = 0;
  uint16_t protocol_version = 0;
  // A wire::RequestBody value, possibly one this daemon does not know.
  uint8_t body_type = 0;
};
RequestHeader PeekRequestHeader(const uint8_t* data, size_t size);

// Ids, names and keys (agent, contact and customer ids, queue names, skill
// names, language tags, attribute keys) end event topics, which end with a
// NUL byte (routing.fbs): none may hold a control character (bytes 0x00-0x1F
// and 0x7F). InvalidArgument naming `field`, the character and its position;
// OK otherwise. The one home of the rule: every *FromWire function and
// DecodeRequest call it.
absl::Status CheckIdCharacters(std::string_view id, std::string_view field);

// Contact and agent profile from their wire form. `now` bounds
// waiting_since_unix_ms. The handoff context is merged into the attributes:
// a key given more than once (a contact attribute, a handoff field, a
// handoff attribute, or twice in one list) must carry the same value each
// time, else InvalidArgument naming the key, both values and both places.
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

// An AcceptOffer or RejectOffer: the contact, and the agent the offer must
// be to (empty: whoever it is to), each within kMaxIdBytes.
struct OfferAnswer {
  std::string contact_id;
  std::string agent_id;
};
absl::StatusOr<OfferAnswer> OfferAnswerFromWire(const wire::AcceptOffer& accept);
absl::StatusOr<OfferAnswer> OfferAnswerFromWire(const wire::RejectOffer& reject);

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
