// File: sidecar/idempotency_store.h
//
// The replies routingd remembers by idempotency key (routing.fbs,
// Request.idempotency_key): a client that retries a request whose reply it
// lost is answered from here instead of having the request executed twice.
// What is remembered, and when, is decided by idempotent_requests.h; this is
// the memory itself: key -> (fingerprint of the request, reply bytes).
//
//   ScopedIdempotencyStore keys;            // per request-handling thread
//   IdempotencyStore* store = ScopedIdempotencyStore::Current();
//   if (const auto* seen = store->Find(key, now)) { ... seen->reply ... }
//   else store->Remember(key, fingerprint, now, reply_bytes, reply_size);
//
// Bounds: at most Limits.max_keys keys and Limits.max_reply_bytes of replies;
// a key is forgotten Limits.retention after it was remembered (by the `now`
// the caller passes: the request handler's Clock), or earlier when the store
// is full, oldest first. Cost: Find and Remember are one hash lookup plus the
// evictions they trigger (amortized O(1): each key is evicted once).
//
// Thread-safety: none, on purpose. routingd gives every thread that executes
// requests its own store (ScopedIdempotencyStore), and sends every request
// about one contact or agent to the same thread for the daemon's life, so a
// retry always meets the store that saw the original (sidecar/README.md).
#ifndef SIDECAR_IDEMPOTENCY_STORE_H_
#define SIDECAR_IDEMPOTENCY_STORE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "absl/container/node_hash_map.h"
#include "absl/time/time.h"

namespace routing::sidecar {

class IdempotencyStore {
 public:
  struct Limits {
    // 100,000 keys of typically 300-700 bytes of Decision reply each stay
    // well within max_reply_bytes; the byte cap bounds the worst case
    // (explanations, many score components) at 64 MiB per thread.
    size_t max_keys = 100'000;
    size_t max_reply_bytes = size_t{64} << 20;
    // Longer than any sensible client retry loop (seconds to a minute).
    absl::Duration retention = absl::Minutes(10);
  };

  struct Remembered {
    uint64_t fingerprint = 0;  // Of the request that was executed.
    std::string reply;         // The finished Reply buffer sent for it.
  };

  IdempotencyStore() : IdempotencyStore(Limits()) {}
  explicit IdempotencyStore(Limits limits) : limits_(limits) {}
  IdempotencyStore(const IdempotencyStore&) = delete;
  IdempotencyStore& operator=(const IdempotencyStore&) = delete;

  // What was remembered for `key`, or null if nothing younger than the
  // retention at `now`. The pointer is valid until the next Remember.
  const Remembered* Find(std::string_view key, absl::Time now);
  // Remembers `reply` (a finished Reply buffer, copied) for `key`, replacing
  // what was remembered for it, then evicts the oldest keys beyond the
  // limits. A reply larger than max_reply_bytes is not remembered.
  void Remember(std::string_view key, uint64_t fingerprint, absl::Time now,
                const uint8_t* reply, size_t size);

  size_t size() const { return entries_.size(); }
  size_t reply_bytes() const { return reply_bytes_; }

 private:
  struct Entry {
    Remembered remembered;
    uint64_t serial = 0;  // Which arrival in `order_` this entry is.
  };
  struct Arrival {
    std::string_view key;  // Into entries_ (node_hash_map: stable).
    absl::Time at;
    uint64_t serial = 0;
  };

  void Evict(absl::Time now);
  void EraseOldest();

  Limits limits_;
  absl::node_hash_map<std::string, Entry> entries_;
  // Arrivals, oldest first. An arrival whose serial no longer matches its
  // entry's (the key was remembered again) is stale and skipped.
  std::deque<Arrival> order_;
  uint64_t next_serial_ = 1;
  size_t reply_bytes_ = 0;
};

// Makes a store the calling thread's for the scope's lifetime, as
// ScopedEventSink does for events: either one it owns (default limits) or
// one the caller owns (tests).
class ScopedIdempotencyStore {
 public:
  ScopedIdempotencyStore();
  explicit ScopedIdempotencyStore(IdempotencyStore* store);
  ~ScopedIdempotencyStore();
  ScopedIdempotencyStore(const ScopedIdempotencyStore&) = delete;
  ScopedIdempotencyStore& operator=(const ScopedIdempotencyStore&) = delete;
  // The calling thread's store; null if none is installed.
  static IdempotencyStore* Current();

 private:
  IdempotencyStore owned_;
  IdempotencyStore* previous_;
};

}  // namespace routing::sidecar

#endif  // SIDECAR_IDEMPOTENCY_STORE_H_
