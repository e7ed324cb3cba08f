// File: routing/internal/contact_queue.h
//
// One named queue of waiting contacts, kept in service order (aged arrival in
// whole milliseconds, then placement sequence), lock-free, with arrival,
// departure and position costs independent of the number waiting.
//
// Structure: a counting radix trie over the aged-arrival millisecond (46 bits,
// 4 bits a level, 12 levels). Every inner node holds, for each of its 16
// children, the number of contacts counted below it; the leaf of one
// millisecond is a lock-free FIFO (Michael & Scott) of queue nodes in the
// order they were linked. So:
//   - Arrive: count +1 on each level top-down (creating missing nodes with a
//     CAS), then link the node at the leaf's tail: O(levels).
//   - Depart: count -1 on each level bottom-up: O(levels). A count that drops
//     to zero is frozen (a CAS sets the frozen bit), its subtree unlinked and
//     retired through the epoch domain, and the slot reopened in the next
//     generation; a thread that meets a frozen slot finishes that work before
//     it counts, so no one waits on anyone.
//   - The hot path: the path of the latest arrival's millisecond is kept when
//     it empties (a queue that empties and fills again within a millisecond,
//     the common case with free agents, allocates nothing). An arrival that
//     moves the hot path to another millisecond reaps the previous one: it
//     counts down that path and uncounts it, so what is empty there freezes
//     as above. A retired subtree may hold such kept, empty children; it is
//     freed whole.
//   - Position: the counts of the children left of the path, summed on the
//     way down, plus the live nodes ahead in the leaf: O(levels x 16 + the
//     contacts that share the millisecond).
//   - Walk in service order: a depth-first walk of non-zero counts.
// Counts are raised top-down and lowered bottom-up, so a parent's count is
// never below the sum of its children's: a zero count means an empty subtree,
// and a subtree is never retired with a counted contact in it.
//
// The queue does not decide who is waiting: a node is live while its contact
// is kQueued at the node's placement (contact_record.h); whoever moves the
// contact out of that state calls Depart() for the node, exactly once. Dead
// nodes are unlinked from their leaf by one trimmer at a time (a try-flag
// nobody waits on): at the head after every departure, and all over the leaf
// once its departures outnumber the contacts counted in it (a contact waiting
// long at the head must not leave every later departure's node behind it);
// a leaf whose millisecond empties is retired whole.
//
// Threading: every method may be called concurrently; the caller must be
// pinned in the queue's epoch domain, and stays pinned while it uses a node or
// record it was handed.
#ifndef ROUTING_INTERNAL_CONTACT_QUEUE_H_
#define ROUTING_INTERNAL_CONTACT_QUEUE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "routing/internal/contact_record.h"
#include "routing/internal/epoch.h"
#include "routing/internal/kpi_counters.h"
#include "routing/internal/queue_minute_window.h"
#include "routing/router_stats.h"

namespace routing::internal {

// One placement of a contact in a queue. Immutable apart from `next`.
class QueueNode {
 public:
  QueueNode(ContactRecord* contact, uint64_t placement, int64_t aged_ms,
            int64_t sequence, QueueNode* step = nullptr)
      : contact(contact),
        placement(placement),
        aged_ms(aged_ms),
        sequence(sequence),
        step(step) {}

  ContactRecord* const contact;  // Null in a leaf's dummy only.
  const uint64_t placement;
  const int64_t aged_ms;   // The trie key (in the step schedule: due time).
  const int64_t sequence;  // Router-wide placement sequence.
  // The same placement's node in the router's schedule of rules steps, or
  // null: it departs with this one.
  QueueNode* const step;
  std::atomic<QueueNode*> next{nullptr};

  bool Live() const {
    return contact != nullptr && contact->IsQueuedAt(placement);
  }
  // Service order between two nodes (of any queues).
  bool ServedBefore(const QueueNode& other) const {
    if (aged_ms != other.aged_ms) return aged_ms < other.aged_ms;
    return sequence < other.sequence;
  }
};

// The whole millisecond a nanosecond time falls in (the queues' unit).
inline int64_t FloorMilliseconds(int64_t ns) {
  int64_t ms = ns / 1'000'000;
  if (ns % 1'000'000 < 0) --ms;
  return ms;
}

// A leaf is swept once its departures reach max(this, contacts counted in it).
inline constexpr int64_t kMinSweepDepartures = 64;

class ContactQueue {
 public:
  ContactQueue(std::string name, EpochDomain* epoch);
  ~ContactQueue();  // Frees the trie and drops its nodes' contact references.
  ContactQueue(const ContactQueue&) = delete;
  ContactQueue& operator=(const ContactQueue&) = delete;

  const std::string& name() const { return name_; }

  // Counts and links a node for placement `placement` of `contact` (which must
  // not be kQueued at that placement yet) and takes a reference on the
  // contact; raises `waiting`. The link is a seq_cst CAS, ordered before the
  // caller's state CAS into kQueued and its re-check of free agents (no lost
  // wakeup).
  QueueNode* Arrive(ContactRecord* contact, uint64_t placement,
                    int64_t aged_ms, int64_t sequence,
                    QueueNode* step = nullptr);

  // The node's contact has left (its state moved away from kQueued at the
  // node's placement, or never reached it): lowers `waiting` and the counts,
  // retires what emptied, trims the leaf's dead head. Exactly once per node.
  void Depart(QueueNode* node);

  // 1 + the contacts counted before `node` in service order.
  int64_t Position(const QueueNode& node) const;

  // Calls f(QueueNode*) for each live node in service order until f returns
  // false. Returns false if f stopped the walk.
  template <typename F>
  bool ForEachLive(F&& f) const {
    return Walk(root_, 0, f);
  }

  // Contacts counted now: +1 in Arrive, -1 in Depart. seq_cst: part of the
  // no-lost-wakeup order.
  std::atomic<int64_t> waiting{0};

  // Statistics, relaxed: counters only.
  std::atomic<int64_t> answered{0};
  std::atomic<int64_t> answered_in_service_level{0};
  std::atomic<int64_t> abandoned{0};
  std::atomic<int64_t> total_answer_wait_ms{0};  // Whole ms: never wraps.
  std::atomic<int64_t> average_handle_ns{0};  // Moving average; 0 until known.
  // Waits of answered contacts by kAnswerWaitBoundsSeconds (not cumulative).
  std::array<std::atomic<int64_t>, kAnswerWaitBoundCount + 1>
      answer_wait_buckets{};
  QueueMinuteWindow recent;  // Answers and abandons, minute by minute.
  KpiCounters kpis;          // Outcomes of the contacts released from it.
  // The required skills (skill id, min level) of the latest contact accepted
  // into the queue: who counts as the queue's agents in its statistics.
  // Replaced whole (CAS) only when a contact requires something else, the
  // previous one retired through the epoch domain; null until the first.
  using Requirement = std::vector<std::pair<int, int>>;
  std::atomic<const Requirement*> requirement{nullptr};

  // Nodes linked, live or dead, in the leaf of millisecond `aged_ms` (0 if
  // it has none). Exact only when no other thread uses the queue.
  int64_t LinkedForTesting(int64_t aged_ms) const;

  // Trie nodes and leaves allocated now (tests: emptied subtrees are freed).
  int64_t AllocatedForTesting() const {
    return allocated_.load(std::memory_order_relaxed);
  }

  static constexpr int kBitsPerLevel = 4;
  static constexpr int kFanout = 1 << kBitsPerLevel;
  static constexpr int kKeyBits = 48;
  static constexpr int kLevels = kKeyBits / kBitsPerLevel;

  // The trie key of an aged-arrival millisecond: order-preserving, saturated
  // to the 48 bits the trie covers (about +-4,400 years around 1970).
  static uint64_t KeyOf(int64_t aged_ms);

 private:
  // A slot word: generation (bits 32..63) | frozen (bit 31) | count. A
  // frozen slot's count is zero; reopening it starts the next generation,
  // and every child remembers the generation it was created in.
  static constexpr uint64_t kFrozenBit = uint64_t{1} << 31;
  static constexpr uint64_t kCountMask = kFrozenBit - 1;
  static constexpr int kGenerationShift = 32;
  static int64_t CountOf(uint64_t slot) {
    return (slot & kFrozenBit) != 0 ? 0
                                    : static_cast<int64_t>(slot & kCountMask);
  }
  static uint32_t GenerationOf(uint64_t slot) {
    return static_cast<uint32_t>(slot >> kGenerationShift);
  }
  static uint32_t GenerationOf(const void* child, int level);

  struct Leaf;
  struct Inner {
    uint32_t generation = 0;
    int level = 0;  // Of the slot that points at it.
    std::atomic<uint64_t> count[kFanout];
    std::atomic<void*> child[kFanout];  // Inner* above the last level, Leaf*.
    Inner();
  };
  struct Leaf {
    uint32_t generation = 0;
    std::atomic<QueueNode*> head;
    std::atomic<QueueNode*> tail;
    std::atomic<bool> trimming{false};
    std::atomic<uint64_t> trim_requests{0};
    std::atomic<int64_t> departures{0};  // Since the last sweep.
    Leaf();
    ~Leaf();  // Frees its nodes, dropping their contact references.
    EpochDomain* epoch = nullptr;
  };

  static int Digit(uint64_t key, int level) {
    return static_cast<int>(
        (key >> (kKeyBits - kBitsPerLevel * (level + 1))) & (kFanout - 1));
  }
  // +1 on slot d of `inner` (at `level`) unless it is frozen, in which case
  // the freeze is finished first and the count retried. Returns the slot's
  // generation.
  uint32_t CountIn(Inner* inner, int d, int level);
  // -1 on slot d of the path of `key`; a slot that reaches zero is frozen and
  // its child retired, unless that child holds the hot path.
  void UncountIn(Inner* inner, int level, uint64_t key);
  // Whether the child at `level` on the path of `key` holds the hot path.
  bool OnHotPath(uint64_t key, int level) const {
    const int shift = kKeyBits - kBitsPerLevel * (level + 1);
    return (hot_key_.load(std::memory_order_seq_cst) >> shift) ==
           (key >> shift);
  }
  // Counts down the path of `key` as far as it exists, then uncounts it, so
  // that its empty slots off the hot path freeze.
  void Reap(uint64_t key);
  // Unlinks and retires the child of the frozen generation and reopens the
  // slot; any thread that meets the freeze may finish it.
  void FinishFreeze(Inner* inner, int d, int level, uint64_t frozen);
  void* EnsureChild(Inner* inner, int d, int level, uint32_t generation);
  void RetireChild(void* child, int level);
  static void DeleteSubtree(void* child, int level);
  static int64_t CountSubtree(const void* child, int level);

  static void Append(Leaf* leaf, QueueNode* node);
  // Whether a node's contact can never be queued at its placement again.
  static bool Removable(const QueueNode& node);
  // A contact of `leaf` departed (`counted` contacts are counted in it):
  // takes the leaf's trimming flag, or leaves a request for its holder, and
  // unlinks dead nodes at the head, and all over the leaf when a sweep is
  // due. The holder of the flag only: UnlinkDeadHead, SweepDead.
  void Trim(Leaf* leaf, int64_t counted);
  void UnlinkDeadHead(Leaf* leaf);
  void SweepDead(Leaf* leaf);

  template <typename F>
  bool Walk(const Inner* inner, int level, F& f) const {
    for (int d = 0; d < kFanout; ++d) {
      if (CountOf(inner->count[d].load(std::memory_order_seq_cst)) == 0) {
        continue;
      }
      const void* child = inner->child[d].load(std::memory_order_acquire);
      if (child == nullptr) continue;  // Being created.
      if (level + 1 < kLevels) {
        if (!Walk(static_cast<const Inner*>(child), level + 1, f)) {
          return false;
        }
        continue;
      }
      const Leaf* leaf = static_cast<const Leaf*>(child);
      const QueueNode* node = leaf->head.load(std::memory_order_acquire);
      for (node = node->next.load(std::memory_order_acquire); node != nullptr;
           node = node->next.load(std::memory_order_acquire)) {
        if (!node->Live()) continue;
        if (!f(const_cast<QueueNode*>(node))) return false;
      }
    }
    return true;
  }

  const std::string name_;
  EpochDomain* const epoch_;
  Inner* const root_;
  // The key of the latest arrival's millisecond; kNoKey before the first.
  static constexpr uint64_t kNoKey = ~uint64_t{0};
  std::atomic<uint64_t> hot_key_{kNoKey};
  std::atomic<int64_t> allocated_{0};
};

// Drops one reference; the last retires the record through the epoch domain.
void UnrefContact(ContactRecord* contact, EpochDomain* epoch);

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_CONTACT_QUEUE_H_
