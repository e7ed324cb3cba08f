#include "routing/internal/history_store.h"

#include <algorithm>
#include <cstdlib>
#include <new>

#include "absl/strings/string_view.h"

namespace routing::internal {
namespace {

// Key words that are not fingerprints: a free way, and a way another thread is
// clearing for a new customer.
constexpr uint64_t kEmptyKey = 0;
constexpr uint64_t kClaimingKey = 1;

// One interaction in one word, so it is published by a single atomic store:
//   bit  63      valid (a zero word is an empty slot)
//   bits 57..62  owner tag: the top bits of the customer's fingerprint
//   bits 55..56  outcome
//   bits 52..54  channel
//   bits 32..51  agent index
//   bits  0..31  seconds since 1970 (unsigned: good until 2106)
constexpr int kAgentShift = 32;
constexpr int kChannelShift = 52;
constexpr int kOutcomeShift = 55;
constexpr int kTagShift = 57;
constexpr uint64_t kValidBit = uint64_t{1} << 63;
constexpr uint64_t kTagMask = 0x3f;
constexpr uint64_t kSecondsMask = 0xffffffffu;
static_assert(kMaxAgentIndex == 1u << (kChannelShift - kAgentShift));
static_assert(kChannelCount <= 1 << (kOutcomeShift - kChannelShift));
static_assert(kContactOutcomeCount <= 1 << (kTagShift - kOutcomeShift));

// FNV-1a over the id's bytes, then MurmurHash3's 64-bit finalizer (FNV
// alone leaves the high bits, which pick the set and the tag, weakly
// mixed). Not absl::Hash: that one is seeded per process, and a snapshot
// carries keys from one process to the next.
uint64_t Fingerprint(std::string_view customer) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char c : customer) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h <= kClaimingKey ? h + 2 : h;
}

uint64_t TagOf(uint64_t key) { return key >> (64 - 6); }

uint64_t SecondsOf(absl::Time time) {
  const int64_t s = absl::ToUnixSeconds(time);
  return static_cast<uint64_t>(std::clamp<int64_t>(s, 0, kSecondsMask));
}

uint64_t Pack(uint64_t key, const InteractionRecord& r) {
  return kValidBit | (TagOf(key) << kTagShift) |
         (uint64_t{static_cast<uint8_t>(r.outcome)} << kOutcomeShift) |
         (uint64_t{static_cast<uint8_t>(r.channel)} << kChannelShift) |
         (uint64_t{r.agent_index} << kAgentShift) | SecondsOf(r.time);
}

InteractionRecord Unpack(uint64_t word) {
  InteractionRecord r;
  r.agent_index =
      static_cast<uint32_t>((word >> kAgentShift) & (kMaxAgentIndex - 1));
  r.channel = static_cast<Channel>((word >> kChannelShift) & 0x7);
  r.outcome = static_cast<ContactOutcome>((word >> kOutcomeShift) & 0x3);
  r.time = absl::FromUnixSeconds(static_cast<int64_t>(word & kSecondsMask));
  return r;
}

size_t SetsFor(size_t max_customers, size_t ways) {
  size_t sets = 1;
  while (sets * ways < max_customers) sets <<= 1;
  return sets;
}

uint64_t* AllocateZeroed(size_t words) {
  // calloc hands back lazily mapped zero pages for large blocks, so a store
  // sized for millions of customers costs RAM only as customers arrive.
  void* p = std::calloc(words, sizeof(uint64_t));
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<uint64_t*>(p);
}

}  // namespace

HistoryStore::HistoryStore(size_t max_customers, int depth)
    : depth_(std::clamp(depth, 1, kMaxHistoryDepth)),
      stride_(kFirstInteractionWord + static_cast<size_t>(depth_)),
      sets_(SetsFor(std::max<size_t>(max_customers, 1), kWays)),
      words_(sets_ * kWays * stride_),
      table_(AllocateZeroed(words_)) {}

HistoryStore::~HistoryStore() { std::free(table_); }

int64_t HistoryStore::FindWay(size_t set, uint64_t key) const {
  const size_t first = set * kWays;
  for (size_t way = first; way < first + kWays; ++way) {
    if (Word(way, kKeyWord).load(std::memory_order_acquire) == key) {
      return static_cast<int64_t>(way);
    }
  }
  return -1;
}

int64_t HistoryStore::ClaimWay(size_t set, uint64_t key) {
  const size_t first = set * kWays;
  // A few attempts: each failure means another thread claimed a way of this
  // set in the meantime, so the choice has to be made again.
  for (size_t attempt = 0; attempt < kWays; ++attempt) {
    int64_t victim = -1;
    uint64_t victim_key = 0;
    uint64_t oldest = UINT64_MAX;
    for (size_t way = first; way < first + kWays; ++way) {
      const uint64_t k = Word(way, kKeyWord).load(std::memory_order_acquire);
      if (k == key) return static_cast<int64_t>(way);  // Claimed meanwhile.
      if (k == kClaimingKey) continue;
      const uint64_t last =
          k == kEmptyKey
              ? 0
              : Word(way, kLastSecondsWord).load(std::memory_order_relaxed);
      if (victim < 0 || k == kEmptyKey || last < oldest) {
        victim = static_cast<int64_t>(way);
        victim_key = k;
        oldest = last;
        if (k == kEmptyKey) break;
      }
    }
    if (victim < 0) return -1;
    const size_t way = static_cast<size_t>(victim);
    // seq_cst pairs with the writer's store-then-recheck in Record(): a writer
    // of the evicted customer either sees the key change and retracts its
    // word, or its word landed before the claim and is cleared below.
    if (!Word(way, kKeyWord)
             .compare_exchange_strong(victim_key, kClaimingKey,
                                      std::memory_order_seq_cst)) {
      continue;
    }
    // A writer of the old owner is between its key check and its word:
    // give the way back and choose again (its word must not reach the new
    // owner).
    if (Word(way, kWritersWord).load(std::memory_order_seq_cst) != 0) {
      Word(way, kKeyWord).store(victim_key, std::memory_order_seq_cst);
      continue;
    }
    if (victim_key != kEmptyKey) {
      evictions_.fetch_add(1, std::memory_order_relaxed);
    }
    for (size_t i = 0; i < static_cast<size_t>(depth_); ++i) {
      Word(way, kFirstInteractionWord + i).store(0, std::memory_order_relaxed);
    }
    Word(way, kCursorWord).store(0, std::memory_order_relaxed);
    Word(way, kLastSecondsWord).store(0, std::memory_order_relaxed);
    // Release: a reader that sees the new key sees the cleared words.
    Word(way, kKeyWord).store(key, std::memory_order_seq_cst);
    return victim;
  }
  return -1;
}

uint64_t HistoryStore::KeyOf(std::string_view customer) {
  return Fingerprint(customer);
}

void HistoryStore::Record(std::string_view customer,
                          const InteractionRecord& interaction) {
  if (customer.empty()) return;
  RecordKey(Fingerprint(customer), interaction);
}

void HistoryStore::RecordKey(uint64_t key,
                             const InteractionRecord& interaction) {
  if (key <= kClaimingKey || interaction.agent_index >= kMaxAgentIndex) return;
  const size_t set = (key >> 7) & (sets_ - 1);
  // Twice at most: the way found may be claimed for another customer
  // before this writer is registered on it.
  for (int attempt = 0; attempt < 2; ++attempt) {
    int64_t found = FindWay(set, key);
    if (found < 0) found = ClaimWay(set, key);
    if (found < 0) return;  // Every way of the set is mid-claim: drop, not wait.
    const size_t way = static_cast<size_t>(found);
    Word(way, kWritersWord).fetch_add(1, std::memory_order_seq_cst);
    if (Word(way, kKeyWord).load(std::memory_order_seq_cst) != key) {
      Word(way, kWritersWord).fetch_sub(1, std::memory_order_seq_cst);
      continue;  // Handed to another customer meanwhile.
    }
    // Registered: the way stays this customer's until the writers word
    // drops back.
    const uint64_t position =
        Word(way, kCursorWord).fetch_add(1, std::memory_order_relaxed) %
        static_cast<uint64_t>(depth_);
    const size_t index = kFirstInteractionWord + static_cast<size_t>(position);
    Word(way, index).store(Pack(key, interaction), std::memory_order_seq_cst);
    Word(way, kLastSecondsWord)
        .store(SecondsOf(interaction.time), std::memory_order_relaxed);
    Word(way, kWritersWord).fetch_sub(1, std::memory_order_seq_cst);
    return;
  }
}

int HistoryStore::Lookup(std::string_view customer, InteractionRecord* out,
                         int max) const {
  if (customer.empty()) return 0;
  return LookupKey(Fingerprint(customer), out, max);
}

int HistoryStore::LookupKey(uint64_t key, InteractionRecord* out,
                            int max) const {
  if (key <= kClaimingKey || out == nullptr || max <= 0) return 0;
  const size_t set = (key >> 7) & (sets_ - 1);
  const uint64_t tag = TagOf(key) & kTagMask;

  struct Held {
    uint64_t word;
    uint64_t age;  // Slots since this one was written: 0 is the newest.
  };
  Held held[kMaxHistoryDepth];
  int n = 0;
  // Retried a few times if the way changes hands while it is read; after that
  // the customer has just been evicted, which is a miss.
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int64_t found = FindWay(set, key);
    if (found < 0) return 0;
    const size_t way = static_cast<size_t>(found);
    const uint64_t cursor =
        Word(way, kCursorWord).load(std::memory_order_acquire);
    const uint64_t depth = static_cast<uint64_t>(depth_);
    n = 0;
    for (uint64_t i = 0; i < depth; ++i) {
      const uint64_t w =
          Word(way, kFirstInteractionWord + i).load(std::memory_order_acquire);
      if ((w & kValidBit) == 0 || ((w >> kTagShift) & kTagMask) != tag) {
        continue;
      }
      held[n++] = {w, (cursor + depth - 1 - i) % depth};
    }
    // Seqlock-style re-check: the words read above belong to `key` only if
    // the way still does.
    std::atomic_thread_fence(std::memory_order_acquire);
    if (Word(way, kKeyWord).load(std::memory_order_relaxed) == key) break;
    n = 0;
  }
  // Most recent first; within one second, the slot written last first. An
  // insertion sort: at most kMaxHistoryDepth entries.
  auto newer = [](const Held& a, const Held& b) {
    const uint64_t sa = a.word & kSecondsMask, sb = b.word & kSecondsMask;
    return sa != sb ? sa > sb : a.age < b.age;
  };
  for (int i = 1; i < n; ++i) {
    const Held h = held[i];
    int j = i;
    for (; j > 0 && newer(h, held[j - 1]); --j) held[j] = held[j - 1];
    held[j] = h;
  }
  const int copied = std::min(n, max);
  for (int i = 0; i < copied; ++i) out[i] = Unpack(held[i].word);
  return copied;
}

}  // namespace routing::internal
