// File: sidecar/request_affinity.h
//
// Which worker thread executes a request. routingd's frontend reads every
// request before any worker does, and sends all requests about one contact
// (or one agent) to the same worker. Each worker executes its requests one at
// a time, in the order it received them, so requests about the same contact
// or agent take effect in the order one connection sent them, whatever
// --workers is (routing.fbs, "Order"). Requests about different contacts
// still run in parallel on different workers.
//
//   std::optional<size_t> worker = WorkerFor(AffinityKeyOf(data, size),
//                                            workers);
//   if (!worker) worker = next_round_robin();   // stats, health, lists...
//
// The key: the contact id of RouteContact and RequeueContact (contact.id),
// CancelContact, ReleaseContact, GetContact, AcceptOffer and RejectOffer; the
// agent id of AddAgent and UpdateAgent (agent.id), RemoveAgent and
// SetAgentState. Every other request type has none and may go to any worker.
//
// Guarantee, relied on by per-worker state (such as the idempotency store):
// for a given number of workers, the same key (the same contact id, or the
// same agent id) maps to the same worker for the life of the daemon process.
// The mapping is a hash of the id's bytes (absl::Hash, whose seed is fixed
// for a process); it may differ between processes, so nothing may be stored
// across a restart on the strength of it.
//
// Safety: `data` is untrusted and unverified. Only the path to the key is
// read (root table, body, the contact or agent table, the id string), each
// step checked with a flatbuffers::Verifier (bounds, alignment, at most
// three tables) first: O(1) in the request's size. Bytes that do not lead to
// a key safely give no key; such a request goes anywhere, and is refused by
// the worker's full verification anyway.
// Thread-safety: stateless; call from any thread. `data` must be 8-byte
// aligned (AlignedCopy in request_decoder.h); a misaligned buffer has no key.
#ifndef SIDECAR_REQUEST_AFFINITY_H_
#define SIDECAR_REQUEST_AFFINITY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace routing::sidecar {

struct AffinityKey {
  enum class Kind { kNone, kContact, kAgent };
  Kind kind = Kind::kNone;
  // Points into the request's bytes; empty when kind is kNone.
  std::string_view id;
};

// The contact or agent a request is about, read safely from untrusted bytes.
AffinityKey AffinityKeyOf(const uint8_t* data, size_t size);

// The worker (0..workers-1) for `key`; nullopt when the key is kNone or
// there are no workers.
std::optional<size_t> WorkerFor(const AffinityKey& key, size_t workers);

}  // namespace routing::sidecar

#endif  // SIDECAR_REQUEST_AFFINITY_H_
