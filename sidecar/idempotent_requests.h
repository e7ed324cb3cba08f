// File: sidecar/idempotent_requests.h
//
// Retry safety for state-changing requests (routing.fbs,
// Request.idempotency_key): a request carrying a key already answered on this
// thread is not executed again; its reply is the remembered one, with the new
// request's request_id and Reply.replayed set. The request handler wraps its
// execution in AnswerOnce:
//
//   AnswerOnce(request, *clock, fbb, [&] { Execute(request, fbb); });
//
// The rules (sidecar/README.md, "Idempotency keys"):
//   - keys are taken by RouteContact, RequeueContact, AddAgent, UpdateAgent,
//     RemoveAgent, SetAgentState, AcceptOffer and RejectOffer; a key on any
//     other request type is INVALID_ARGUMENT (nothing executed), so that a
//     client never believes a Cancel or a Release retry-safe when it is not;
//   - a key is 1..128 bytes without control characters (INVALID_ARGUMENT);
//   - the same key with another request type or body (RequestFingerprint) is
//     INVALID_ARGUMENT naming the key, nothing executed;
//   - every reply is remembered, refusals included, except the transient
//     ones a retry may change: Busy, ShuttingDown, ResourceExhausted and
//     Internal (which also carries the router's "try again" Aborted);
//   - keys live in the calling thread's IdempotencyStore (idempotency_store.h)
//     with its bounds; a thread without one answers a keyed request Internal
//     rather than execute it unprotected.
// A request without a key pays one field test.
//
// Thread-safety: as the calling thread's store: call from one thread per
// store (any number of threads, each with its own).
#ifndef SIDECAR_IDEMPOTENT_REQUESTS_H_
#define SIDECAR_IDEMPOTENT_REQUESTS_H_

#include <cstddef>
#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "flatbuffers/flatbuffers.h"
#include "routing/clock.h"
#include "sidecar/routing_generated.h"

namespace routing::sidecar {

inline constexpr size_t kMaxIdempotencyKeyBytes = 128;

// Whether requests of `type` take an idempotency key.
bool TakesIdempotencyKey(wire::RequestBody type);

// OK if the request carries no key, or a well-formed key on a request type
// that takes one; else InvalidArgument naming the problem.
absl::Status CheckIdempotencyKey(const wire::Request& request);

// A 64-bit fingerprint of the request's type and body, as the client meant
// it: every field of the body's tables by value (an absent field and one
// holding its default are the same), independent of the buffer's layout;
// request_id and idempotency_key are left out. A new field of a keyed
// request's tables must be added to it (idempotent_requests.cc).
uint64_t RequestFingerprint(const wire::Request& request);

// Whether a reply is remembered for its key: all but transient refusals.
bool IsRememberedReply(const wire::Reply& reply);

// Finishes `fbb` (cleared first) with the reply `stored` (a finished, verified
// Reply buffer) under `request_id` and with replayed set. The stored body's
// bytes are carried over unchanged.
void FinishReplayedReply(flatbuffers::FlatBufferBuilder& fbb,
                         const uint8_t* stored, size_t size,
                         uint64_t request_id);

// Answers `request` (verified) once per idempotency key: calls `execute`,
// which must finish `fbb` with the reply, unless the key was seen, and
// remembers that reply. Keyless requests go straight to `execute`.
void AnswerOnce(const wire::Request& request, const Clock& clock,
                flatbuffers::FlatBufferBuilder& fbb,
                absl::FunctionRef<void()> execute);

}  // namespace routing::sidecar

#endif  // SIDECAR_IDEMPOTENT_REQUESTS_H_
