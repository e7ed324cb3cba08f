#include "routing/internal/name_table.h"

#include <algorithm>

#include "absl/hash/hash.h"

namespace routing::internal {

namespace {
// The probe table is kept at most half full so linear probes stay short.
constexpr uint64_t kSlotsPerName = 2;

uint64_t RoundUpToPowerOfTwo(uint64_t n) {
  uint64_t p = 1;
  while (p < n) p <<= 1;
  return p;
}
}  // namespace

NameTable::NameTable(int capacity)
    : capacity_(capacity),
      slot_mask_(RoundUpToPowerOfTwo(std::max<uint64_t>(
                     kSlotsPerName * static_cast<uint64_t>(capacity), 2)) -
                 1),
      slots_(new std::atomic<Entry*>[slot_mask_ + 1]),
      by_id_(new std::atomic<Entry*>[std::max(capacity, 1)]) {
  for (uint64_t i = 0; i <= slot_mask_; ++i) {
    slots_[i].store(nullptr, std::memory_order_relaxed);
  }
  for (int i = 0; i < std::max(capacity, 1); ++i) {
    by_id_[i].store(nullptr, std::memory_order_relaxed);
  }
}

NameTable::~NameTable() {
  for (uint64_t i = 0; i <= slot_mask_; ++i) {
    delete slots_[i].load(std::memory_order_relaxed);
  }
}

uint64_t NameTable::HashOf(std::string_view name) {
  return absl::Hash<std::string_view>()(name);
}

int NameTable::Find(std::string_view name) const {
  const uint64_t hash = HashOf(name);
  for (uint64_t i = hash & slot_mask_;; i = (i + 1) & slot_mask_) {
    const Entry* entry = slots_[i].load(std::memory_order_acquire);
    if (entry == nullptr) return -1;
    if (entry->hash == hash && entry->name == name) return Published(entry);
  }
}

int NameTable::Published(const Entry* entry) const {
  // The inserting thread stores by_id_ just after its slot CAS; a thread
  // that found the entry in between must not hand out an id whose Name() is
  // still empty. Storing the same pointer again is harmless.
  if (by_id_[entry->id].load(std::memory_order_acquire) == nullptr) {
    by_id_[entry->id].store(const_cast<Entry*>(entry),
                            std::memory_order_release);
  }
  return entry->id;
}

int NameTable::FindOrInsert(std::string_view name) {
  const uint64_t hash = HashOf(name);
  Entry* mine = nullptr;
  for (uint64_t i = hash & slot_mask_;; i = (i + 1) & slot_mask_) {
    Entry* entry = slots_[i].load(std::memory_order_acquire);
    if (entry == nullptr) {
      if (mine == nullptr) {
        const int id = next_id_.fetch_add(1, std::memory_order_relaxed);
        if (id >= capacity_) {
          // Keep next_id_ from creeping further past capacity on every attempt.
          next_id_.store(capacity_, std::memory_order_relaxed);
          return -1;
        }
        mine = new Entry{hash, std::string(name), id};
      }
      // Release: a reader that sees the pointer sees the entry's fields.
      if (slots_[i].compare_exchange_strong(entry, mine,
                                            std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
        by_id_[mine->id].store(mine, std::memory_order_release);
        return mine->id;
      }
      // Lost the slot: `entry` now holds the winner; fall through to compare.
    }
    if (entry->hash == hash && entry->name == name) {
      // Someone inserted the same name first; our drawn id stays unused.
      delete mine;
      return Published(entry);
    }
  }
}

std::string_view NameTable::Name(int id) const {
  if (id < 0 || id >= capacity_) return {};
  const Entry* entry = by_id_[id].load(std::memory_order_acquire);
  return entry == nullptr ? std::string_view() : std::string_view(entry->name);
}

int NameTable::size() const {
  return std::min(next_id_.load(std::memory_order_acquire), capacity_);
}

}  // namespace routing::internal
