// File: routing/internal/history_store.h
//
// A bounded, lock-free store of each customer's most recent interactions (who
// handled them, on which channel, how it ended, when), used for last-agent
// affinity. Memory is fixed at construction: millions of customers cost a few
// tens of bytes each, and when the store is full the customer whose last
// interaction is oldest in its set is forgotten first (approximate LRU).
//
//   HistoryStore history(/*max_customers=*/1 <<20, /*depth=*/4);
//   history.Record("cust-9", {agent, Channel::kVoice,
//   ContactOutcome::kResolved,
//                             absl::Now()});
//   InteractionRecord recent[kMaxHistoryDepth];
//   int n = history.Lookup("cust-9", recent, kMaxHistoryDepth);  // Newest
//   first.
//
// Layout: a set-associative table (kWays ways per set, like a CPU cache). A
// customer id hashes to one set; each way holds a 64-bit key fingerprint, a
// write cursor, the time of the last interaction (for the LRU victim choice)
// and `depth` interaction words used as a ring. Each interaction is packed
// into one 64-bit word so it is published with a single atomic store.
//
// Thread safety: Record() and Lookup() may run concurrently from any number of
// threads; neither takes a lock. Guarantees under races:
//   * Lookup() never returns an interaction recorded for another customer:
//     every word carries a tag of its owner's fingerprint and the way's key is
//     re-checked after the words are read.
//   * Two threads recording the first interaction of the same new customer at
//     the same instant may each claim a way; the customer's history is then
//     split until the LRU evicts the younger way. History is a best-effort
//     cache by design (eviction already forgets), so this is accepted rather
//     than paid for with a lock.
//   * Times are kept to the second, from 1970 to 2106; earlier times are
//     stored as 1970 and later ones as 2106.
#ifndef ROUTING_INTERNAL_HISTORY_STORE_H_
#define ROUTING_INTERNAL_HISTORY_STORE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/time/time.h"
#include "routing/channel.h"
#include "routing/interaction.h"

namespace routing::internal {

// Agent indexes are packed into 20 bits of an interaction word.
inline constexpr uint32_t kMaxAgentIndex = 1u << 20;
// At most this many interactions are remembered per customer.
inline constexpr int kMaxHistoryDepth = 8;

struct InteractionRecord {
  uint32_t agent_index = 0;  // Below kMaxAgentIndex.
  Channel channel = Channel::kVoice;
  ContactOutcome outcome = ContactOutcome::kUnknown;
  absl::Time time;
};

class HistoryStore {
 public:
  // Remembers up to `max_customers` customers (rounded up to a whole number of
  // sets) and `depth` interactions each; depth is clamped to
  // [1, kMaxHistoryDepth]. Memory is reserved up front and zero pages are
  // mapped lazily, so an idle store costs address space, not RAM.
  HistoryStore(size_t max_customers, int depth);
  ~HistoryStore();

  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;

  // Remembers `interaction` as `customer`'s most recent one; the oldest of
  // that customer's interactions is forgotten once `depth` are held. An empty
  // customer id or an agent index at or above kMaxAgentIndex is ignored.
  void Record(std::string_view customer, const InteractionRecord& interaction);
  // The same, for the customer whose key (KeyOf) is `key`.
  void RecordKey(uint64_t key, const InteractionRecord& interaction);

  // Copies up to `max` of `customer`'s interactions into `out`, most recent
  // first, and returns how many were copied (0 for an unknown customer).
  int Lookup(std::string_view customer, InteractionRecord* out, int max) const;
  int LookupKey(uint64_t key, InteractionRecord* out, int max) const;

  // The key a customer id is kept under: the same in every process, so a
  // snapshot can hold keys (the store never holds ids). Never 0 or 1.
  static uint64_t KeyOf(std::string_view customer);

  // Calls f(key, interactions most recent first, count) for every customer
  // held. Under concurrent Record calls a customer being claimed or evicted
  // may or may not be visited.
  template <typename F>
  void ForEachCustomer(F&& f) const {
    InteractionRecord held[kMaxHistoryDepth];
    for (size_t way = 0; way < sets_ * kWays; ++way) {
      const uint64_t key = Word(way, kKeyWord).load(std::memory_order_acquire);
      if (key <= kLastReservedKey) continue;
      const int n = LookupKey(key, held, kMaxHistoryDepth);
      if (n > 0) f(key, static_cast<const InteractionRecord*>(held), n);
    }
  }

  size_t capacity_customers() const { return sets_ * kWays; }
  int depth() const { return depth_; }
  size_t memory_bytes() const { return words_ * sizeof(uint64_t); }
  // Customers forgotten to make room for others since construction.
  uint64_t evictions() const {
    return evictions_.load(std::memory_order_relaxed);
  }

 private:
  static constexpr size_t kWays = 8;  // One set spans a few cache lines.
  // Key words 0 (free way) and 1 (a way being claimed) are never keys.
  static constexpr uint64_t kLastReservedKey = 1;

  // Per-way layout, in 64-bit words: key fingerprint, write cursor, seconds of
  // the last interaction, writers under way, then `depth_` interaction
  // words. A writer raises the writers word before it checks the key, and a
  // claim checks it after taking the key (both seq_cst): a way is never
  // handed to another customer while a word of its old owner is being
  // written, so no reader of the new owner can meet one (a 6-bit tag alone
  // let one in 64 such words through).
  static constexpr size_t kKeyWord = 0;
  static constexpr size_t kCursorWord = 1;
  static constexpr size_t kLastSecondsWord = 2;
  static constexpr size_t kWritersWord = 3;
  static constexpr size_t kFirstInteractionWord = 4;

  std::atomic_ref<uint64_t> Word(size_t way, size_t index) const {
    return std::atomic_ref<uint64_t>(table_[way * stride_ + index]);
  }
  // The way holding `key` in `set`, or -1.
  int64_t FindWay(size_t set, uint64_t key) const;
  // Claims a way of `set` for `key`, evicting the least recently used one if
  // the set is full; -1 if every way is being claimed by another thread.
  int64_t ClaimWay(size_t set, uint64_t key);

  const int depth_;
  const size_t stride_;
  const size_t sets_;
  const size_t words_;
  uint64_t* const table_;  // calloc'd; accessed only through atomic_ref.
  std::atomic<uint64_t> evictions_{0};
};

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_HISTORY_STORE_H_
