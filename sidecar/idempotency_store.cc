#include "sidecar/idempotency_store.h"

#include <utility>

#include "absl/strings/string_view.h"

namespace routing::sidecar {
namespace {

thread_local IdempotencyStore* current_store = nullptr;

// Debian's Abseil has its own string_view class; its hash maps look keys up
// by that one.
absl::string_view AsAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

}  // namespace

const IdempotencyStore::Remembered* IdempotencyStore::Find(
    std::string_view key, absl::Time now) {
  Evict(now);
  auto it = entries_.find(AsAbsl(key));
  return it == entries_.end() ? nullptr : &it->second.remembered;
}

void IdempotencyStore::Remember(std::string_view key, uint64_t fingerprint,
                                absl::Time now, const uint8_t* reply,
                                size_t size) {
  if (size > limits_.max_reply_bytes || limits_.max_keys == 0) return;
  auto it = entries_.find(AsAbsl(key));
  if (it == entries_.end()) it = entries_.try_emplace(std::string(key)).first;
  Entry& entry = it->second;
  reply_bytes_ -= entry.remembered.reply.size();
  entry.remembered.fingerprint = fingerprint;
  entry.remembered.reply.assign(reinterpret_cast<const char*>(reply), size);
  reply_bytes_ += size;
  entry.serial = next_serial_++;
  order_.push_back({it->first, now, entry.serial});
  Evict(now);
}

void IdempotencyStore::Evict(absl::Time now) {
  const absl::Time oldest_kept = now - limits_.retention;
  while (!order_.empty()) {
    const Arrival& front = order_.front();
    auto it = entries_.find(AsAbsl(front.key));
    if (it == entries_.end() || it->second.serial != front.serial) {
      order_.pop_front();  // Stale: the key was remembered again since.
      continue;
    }
    if (front.at >= oldest_kept && entries_.size() <= limits_.max_keys &&
        reply_bytes_ <= limits_.max_reply_bytes) {
      break;
    }
    EraseOldest();
  }
}

void IdempotencyStore::EraseOldest() {
  auto it = entries_.find(AsAbsl(order_.front().key));
  reply_bytes_ -= it->second.remembered.reply.size();
  order_.pop_front();  // Before the erase: the arrival views the entry's key.
  entries_.erase(it);
}

ScopedIdempotencyStore::ScopedIdempotencyStore()
    : previous_(current_store) {
  current_store = &owned_;
}

ScopedIdempotencyStore::ScopedIdempotencyStore(IdempotencyStore* store)
    : previous_(current_store) {
  current_store = store;
}

ScopedIdempotencyStore::~ScopedIdempotencyStore() {
  current_store = previous_;
}

IdempotencyStore* ScopedIdempotencyStore::Current() { return current_store; }

}  // namespace routing::sidecar
