// File: routing/internal/contact_table.h
//
// Lock-free map from a contact's string id to its record: Michael's hash table
// ("High performance dynamic lock-free hash tables and list-based sets", 2002).
// A fixed array of buckets, each a Harris-Michael lock-free linked list kept
// sorted by (hash, id), with logical deletion by marking a node's next
// pointer. Whoever physically unlinks a node retires it through the epoch
// domain, so threads still walking over it (pinned) can finish safely.
//
//   EpochDomain epoch;
//   ContactTable<ContactRecord> table(&epoch, /*min_buckets=*/4096);
//   auto guard = epoch.Pin();
//   if (!table.Insert(record)) { /* an equal id is present */ }
//   ContactRecord* found = table.Find("c-17");   // Valid while `guard` lives.
//   if (table.Remove(found)) epoch.Retire(found);
//
// Record requirements: `const std::string& id() const`, constant while the
// record is in the table. The table does not own records, but lookups compare
// ids of nodes they pass, including ones just removed: a record must stay
// readable until every thread pinned when it was removed has unpinned, i.e.
// free it through the same EpochDomain (as Retire does), never directly.
//
// Thread safety: every member except the destructor may be called
// concurrently. Insert, Remove, Find and ForEach are lock-free (Find and
// ForEach wait-free apart from the length of a chain), and the caller must
// hold an EpochDomain::Guard of the table's domain for the duration of the call
// and for as long as it uses a returned Record*.
#ifndef ROUTING_INTERNAL_CONTACT_TABLE_H_
#define ROUTING_INTERNAL_CONTACT_TABLE_H_

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/hash/hash.h"
#include "routing/internal/epoch.h"

namespace routing::internal {

template <typename Record>
class ContactTable {
 public:
  // `epoch` must outlive the table. The bucket count is min_buckets rounded up
  // to a power of two (at least 1); the table never resizes, so size it for
  // the expected number of contacts (chains grow linearly beyond that).
  ContactTable(EpochDomain* epoch, size_t min_buckets)
      : epoch_(epoch),
        mask_(std::bit_ceil(min_buckets < 1 ? size_t{1} : min_buckets) - 1),
        buckets_(new std::atomic<uintptr_t>[mask_ + 1]) {
    for (size_t i = 0; i <= mask_; ++i) {
      buckets_[i].store(0, std::memory_order_relaxed);
    }
  }
  // Frees the nodes still linked (nodes already unlinked belong to the epoch
  // domain), not the records. Precondition: no concurrent use.
  ~ContactTable() {
    for (size_t i = 0; i <= mask_; ++i) {
      Node* node = NodeOf(buckets_[i].load(std::memory_order_acquire));
      while (node != nullptr) {
        Node* next = NodeOf(node->next.load(std::memory_order_acquire));
        delete node;
        node = next;
      }
    }
  }
  ContactTable(const ContactTable&) = delete;
  ContactTable& operator=(const ContactTable&) = delete;

  // Adds `record`; false (and nothing changes) if a record with the same id
  // is present. Of concurrent inserts of one id, exactly one succeeds.
  // Everything written to *record before the call is visible to threads that
  // later find it.
  bool Insert(Record* record) {
    const std::string_view id = record->id();
    const uint64_t hash = HashOf(id);
    std::atomic<uintptr_t>* head = &buckets_[hash & mask_];
    Node* node = new Node{hash, record, {0}};
    for (;;) {
      Position pos;
      if (Search(head, hash, id, &pos)) {
        delete node;  // Never published.
        return false;
      }
      // Relaxed: the node is private until the CAS below publishes it.
      node->next.store(pos.cur, std::memory_order_relaxed);
      uintptr_t expected = pos.cur;
      // Release: a thread that loads this link (acquire) sees the node and the
      // record fully built. Fails if prev changed since Search, including
      // prev's node getting marked (its link then carries the mark bit): the
      // node would be lost behind a deleted node, so search again.
      if (pos.prev->compare_exchange_strong(
              expected, reinterpret_cast<uintptr_t>(node),
              std::memory_order_release, std::memory_order_relaxed)) {
        size_.fetch_add(1, std::memory_order_relaxed);
        return true;
      }
    }
  }

  // The record with this id, or nullptr. Linearizable; does not help unlink,
  // so it never writes shared memory.
  Record* Find(std::string_view id) const {
    const uint64_t hash = HashOf(id);
    // Acquire on every link: the node (and its record) a link points to was
    // published by a release CAS.
    Node* node = NodeOf(buckets_[hash & mask_].load(std::memory_order_acquire));
    while (node != nullptr) {
      // A removed node's next is frozen (marked links are never changed), and
      // leads back into the list through nodes removed no earlier than it,
      // which our pin keeps allocated: a walk that strays onto removed nodes
      // is still safe and still meets every node that stayed present.
      const uintptr_t next = node->next.load(std::memory_order_acquire);
      const int order = Compare(node, hash, id);
      if (order >= 0) {
        return (order == 0 && !IsMarked(next)) ? node->record : nullptr;
      }
      node = NodeOf(next);
    }
    return nullptr;
  }

  // Removes `record` itself (compared by address); false if it is not in the
  // table, including when a different record with its id is, or when it was
  // already removed. Of concurrent removals of one record, exactly one
  // succeeds. The caller may retire the record once this returns true.
  bool Remove(Record* record) {
    const std::string_view id = record->id();
    const uint64_t hash = HashOf(id);
    std::atomic<uintptr_t>* head = &buckets_[hash & mask_];
    for (;;) {
      Position pos;
      if (!Search(head, hash, id, &pos)) return false;
      Node* node = NodeOf(pos.cur);
      if (node->record != record) return false;
      uintptr_t next = node->next.load(std::memory_order_acquire);
      if (IsMarked(next))
        continue;  // Being removed by someone else; Search helps.
      // The linearization point: setting the mark removes the record
      // logically and freezes node->next, so no insert can slip in behind
      // it. Release so that a reader who sees the mark also sees what the
      // remover wrote before Remove (the successor itself needs nothing: this
      // RMW continues the release sequence of the link, and `next` was
      // acquired above).
      if (!node->next.compare_exchange_strong(next, next | kMarkBit,
                                              std::memory_order_release,
                                              std::memory_order_relaxed)) {
        continue;  // A new successor or a competing mark; look again.
      }
      size_.fetch_sub(1, std::memory_order_relaxed);
      // Try to unlink it ourselves; if prev changed, a Search over the
      // bucket unlinks it (or someone else already did).
      uintptr_t expected = pos.cur;
      if (pos.prev->compare_exchange_strong(expected, next,
                                            std::memory_order_release,
                                            std::memory_order_relaxed)) {
        epoch_->Retire(node);
      } else {
        Search(head, hash, id, &pos);
      }
      return true;
    }
  }

  // Records present. Approximate while inserts and removes run, exact when
  // quiescent.
  size_t size() const {
    const int64_t n = size_.load(std::memory_order_relaxed);
    return n < 0 ? 0 : static_cast<size_t>(n);
  }

  // Calls f(Record*) for every record present throughout the walk; records
  // inserted or removed during it may or may not be visited, none twice.
  // `f` may call Insert and Remove on this table.
  template <typename F>
  void ForEach(F&& f) const {
    for (size_t i = 0; i <= mask_; ++i) {
      Node* node = NodeOf(buckets_[i].load(std::memory_order_acquire));
      while (node != nullptr) {
        const uintptr_t next = node->next.load(std::memory_order_acquire);
        if (!IsMarked(next)) f(node->record);
        node = NodeOf(next);
      }
    }
  }

 private:
  // A link: a Node* whose low bit, on a node's own `next`, marks that node
  // (not the one pointed to) as logically deleted. Bucket heads are never
  // marked. Nodes are at least 8-aligned, so the bit is free.
  static constexpr uintptr_t kMarkBit = 1;

  struct Node {
    const uint64_t hash;
    Record* const record;
    std::atomic<uintptr_t> next;
  };

  // Where Search stopped: *prev (a bucket head or an unmarked node's next)
  // held `cur` (unmarked), the first present node not ordered before the key.
  struct Position {
    std::atomic<uintptr_t>* prev;
    uintptr_t cur;
  };

  static uint64_t HashOf(std::string_view id) {
    return absl::Hash<std::string_view>{}(id);
  }
  static bool IsMarked(uintptr_t link) { return (link & kMarkBit) != 0; }
  static Node* NodeOf(uintptr_t link) {
    return reinterpret_cast<Node*>(link & ~kMarkBit);
  }
  // <0, 0, >0 as the node sorts before, equal to, or after (hash, id).
  static int Compare(const Node* node, uint64_t hash, std::string_view id) {
    if (node->hash != hash) return node->hash < hash ? -1 : 1;
    return std::string_view(node->record->id()).compare(id);
  }

  // Michael's Find: positions `pos` at the key, unlinking (and retiring) every
  // marked node it meets on the way. True if an unmarked node with the key is
  // at pos->cur.
  bool Search(std::atomic<uintptr_t>* head, uint64_t hash, std::string_view id,
              Position* pos) {
  retry:
    std::atomic<uintptr_t>* prev = head;
    uintptr_t cur = prev->load(std::memory_order_acquire);
    for (;;) {
      Node* node = NodeOf(cur);
      if (node == nullptr) {
        *pos = Position{prev, cur};
        return false;
      }
      const uintptr_t next = node->next.load(std::memory_order_acquire);
      // Michael re-reads *prev here to validate his hazard pointers. Under
      // epoch protection every node we reach stays allocated, and each CAS on
      // *prev fails if prev changed or prev's node got marked since (its link
      // then carries the mark bit), so a stale walk costs a retry, never a
      // wrong answer: the re-read is dropped, as in Harris's original.
      if (!IsMarked(next)) {
        const int order = Compare(node, hash, id);
        if (order >= 0) {
          *pos = Position{prev, cur};
          return order == 0;
        }
        prev = &node->next;
        cur = next;
      } else {
        // Help: unlink the logically deleted node. Release publishes the
        // successor (loaded with acquire) to threads that follow prev. Only
        // one CAS can swing prev away from cur, so the node is retired once.
        uintptr_t expected = cur;
        const uintptr_t successor = next & ~kMarkBit;
        if (!prev->compare_exchange_strong(expected, successor,
                                           std::memory_order_release,
                                           std::memory_order_relaxed)) {
          goto retry;
        }
        epoch_->Retire(node);
        cur = successor;
      }
    }
  }

  EpochDomain* const epoch_;
  const size_t mask_;  // Bucket count - 1.
  // Heads of the bucket lists, as links (never marked).
  const std::unique_ptr<std::atomic<uintptr_t>[]> buckets_;
  std::atomic<int64_t> size_{0};
};

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_CONTACT_TABLE_H_
