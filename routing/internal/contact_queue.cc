#include "routing/internal/contact_queue.h"

#include <algorithm>
#include <utility>

namespace routing::internal {

void UnrefContact(ContactRecord* contact, EpochDomain* epoch) {
  // acq_rel: the last owner must see every write other owners made before
  // dropping theirs, and the deleter runs after a grace period on top.
  if (contact->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    epoch->Retire(contact);
  }
}

ContactQueue::Inner::Inner() {
  for (int d = 0; d < kFanout; ++d) {
    count[d].store(0, std::memory_order_relaxed);
    child[d].store(nullptr, std::memory_order_relaxed);
  }
}

ContactQueue::Leaf::Leaf() {
  QueueNode* dummy = new QueueNode(nullptr, 0, 0, 0);
  head.store(dummy, std::memory_order_relaxed);
  tail.store(dummy, std::memory_order_relaxed);
}

ContactQueue::Leaf::~Leaf() {
  QueueNode* node = head.load(std::memory_order_relaxed);
  // The head is the dummy: its contact reference was dropped when it became
  // the dummy (or it never had one).
  QueueNode* next = node->next.load(std::memory_order_relaxed);
  delete node;
  for (node = next; node != nullptr; node = next) {
    next = node->next.load(std::memory_order_relaxed);
    UnrefContact(node->contact, epoch);
    delete node;
  }
}

ContactQueue::ContactQueue(std::string name, EpochDomain* epoch)
    : name_(std::move(name)), epoch_(epoch), root_(new Inner) {
  root_->level = -1;
}

ContactQueue::~ContactQueue() {
  DeleteSubtree(root_, -1);
  delete requirement.load(std::memory_order_relaxed);
}

void ContactQueue::DeleteSubtree(void* child, int level) {
  // `level` is the level of the slot that pointed at `child` (-1: the root).
  if (level + 1 >= kLevels) {
    delete static_cast<Leaf*>(child);
    return;
  }
  Inner* inner = static_cast<Inner*>(child);
  for (int d = 0; d < kFanout; ++d) {
    void* grandchild = inner->child[d].load(std::memory_order_relaxed);
    if (grandchild != nullptr) DeleteSubtree(grandchild, level + 1);
  }
  delete inner;
}

uint64_t ContactQueue::KeyOf(int64_t aged_ms) {
  constexpr int64_t kHalf = int64_t{1} << (kKeyBits - 1);
  if (aged_ms < -kHalf) aged_ms = -kHalf;
  if (aged_ms > kHalf - 1) aged_ms = kHalf - 1;
  return static_cast<uint64_t>(aged_ms + kHalf);
}

int64_t ContactQueue::CountSubtree(const void* child, int level) {
  if (level + 1 >= kLevels) return 1;
  const Inner* inner = static_cast<const Inner*>(child);
  int64_t nodes = 1;
  for (int d = 0; d < kFanout; ++d) {
    const void* grandchild = inner->child[d].load(std::memory_order_relaxed);
    if (grandchild != nullptr) nodes += CountSubtree(grandchild, level + 1);
  }
  return nodes;
}

void ContactQueue::RetireChild(void* child, int level) {
  // The slot that held `child` counted zero, so every count below is zero
  // and no thread works inside the subtree (a thread counts every level
  // above a slot before it touches it): it is unlinked and still, and may
  // hold empty children kept on a former hot path. It is freed whole: leaves
  // with their nodes, whose contact references go with them.
  allocated_.fetch_sub(CountSubtree(child, level), std::memory_order_relaxed);
  if (level + 1 >= kLevels) {
    epoch_->Retire(static_cast<Leaf*>(child));
  } else {
    epoch_->Retire(child, [](void* p) {
      Inner* inner = static_cast<Inner*>(p);
      DeleteSubtree(inner, inner->level);
    });
  }
}

uint32_t ContactQueue::GenerationOf(const void* child, int level) {
  return level + 1 >= kLevels ? static_cast<const Leaf*>(child)->generation
                              : static_cast<const Inner*>(child)->generation;
}

void ContactQueue::FinishFreeze(Inner* inner, int d, int level,
                                uint64_t frozen) {
  // Only the child of the frozen generation goes: a thread that read the
  // freeze long ago must not unlink a child created after it was finished.
  const uint32_t generation = GenerationOf(frozen);
  void* child = inner->child[d].load(std::memory_order_acquire);
  if (child != nullptr && GenerationOf(child, level) == generation &&
      inner->child[d].compare_exchange_strong(child, nullptr,
                                              std::memory_order_acq_rel)) {
    RetireChild(child, level);
  }
  inner->count[d].compare_exchange_strong(
      frozen, static_cast<uint64_t>(generation + 1) << kGenerationShift,
      std::memory_order_seq_cst);
}

uint32_t ContactQueue::CountIn(Inner* inner, int d, int level) {
  uint64_t slot = inner->count[d].load(std::memory_order_seq_cst);
  while (true) {
    if ((slot & kFrozenBit) != 0) {
      FinishFreeze(inner, d, level, slot);
      slot = inner->count[d].load(std::memory_order_seq_cst);
      continue;
    }
    if (inner->count[d].compare_exchange_weak(slot, slot + 1,
                                              std::memory_order_seq_cst)) {
      return GenerationOf(slot);
    }
  }
}

void ContactQueue::UncountIn(Inner* inner, int level, uint64_t key) {
  const int d = Digit(key, level);
  uint64_t slot = inner->count[d].fetch_sub(1, std::memory_order_seq_cst) - 1;
  if (CountOf(slot) != 0) return;
  // seq_cst, after the decrement: either this read sees an arrival's move of
  // the hot path, or that arrival's Reap sees this zero and freezes it.
  if (OnHotPath(key, level)) return;
  if (inner->count[d].compare_exchange_strong(slot, slot | kFrozenBit,
                                              std::memory_order_seq_cst)) {
    FinishFreeze(inner, d, level, slot | kFrozenBit);
  }
}

void* ContactQueue::EnsureChild(Inner* inner, int d, int level,
                                uint32_t generation) {
  void* child = inner->child[d].load(std::memory_order_acquire);
  if (child != nullptr) return child;
  void* fresh;
  if (level + 1 >= kLevels) {
    Leaf* leaf = new Leaf;
    leaf->epoch = epoch_;
    leaf->generation = generation;
    fresh = leaf;
  } else {
    Inner* node = new Inner;
    node->generation = generation;
    node->level = level;
    fresh = node;
  }
  if (inner->child[d].compare_exchange_strong(child, fresh,
                                              std::memory_order_acq_rel)) {
    allocated_.fetch_add(1, std::memory_order_relaxed);
    return fresh;
  }
  // Another arrival installed one first; ours was never seen.
  if (level + 1 >= kLevels) {
    delete static_cast<Leaf*>(fresh);
  } else {
    delete static_cast<Inner*>(fresh);
  }
  return child;
}

QueueNode* ContactQueue::Arrive(ContactRecord* contact, uint64_t placement,
                                int64_t aged_ms, int64_t sequence,
                                QueueNode* step) {
  // The node's reference is taken while the caller's (the table's) is held.
  contact->refs.fetch_add(1, std::memory_order_relaxed);
  QueueNode* node =
      new QueueNode(contact, placement, aged_ms, sequence, step);
  waiting.fetch_add(1, std::memory_order_seq_cst);
  const uint64_t key = KeyOf(aged_ms);
  if (hot_key_.load(std::memory_order_relaxed) != key) {
    const uint64_t previous =
        hot_key_.exchange(key, std::memory_order_seq_cst);
    if (previous != key && previous != kNoKey) Reap(previous);
  }
  Inner* inner = root_;
  for (int level = 0;; ++level) {
    const int d = Digit(key, level);
    // Our count keeps the slot from freezing, so the child we then find (or
    // create) stays linked until we uncount.
    const uint32_t generation = CountIn(inner, d, level);
    void* child = EnsureChild(inner, d, level, generation);
    if (level + 1 >= kLevels) {
      Append(static_cast<Leaf*>(child), node);
      return node;
    }
    inner = static_cast<Inner*>(child);
  }
}

void ContactQueue::Append(Leaf* leaf, QueueNode* node) {
  while (true) {
    QueueNode* tail = leaf->tail.load(std::memory_order_acquire);
    QueueNode* next = tail->next.load(std::memory_order_acquire);
    if (tail != leaf->tail.load(std::memory_order_acquire)) continue;
    if (next != nullptr) {
      // Tail is lagging: help it forward, then retry.
      leaf->tail.compare_exchange_weak(tail, next, std::memory_order_acq_rel);
      continue;
    }
    QueueNode* expected = nullptr;
    // seq_cst: "the contact is in the queue", ordered before the router's
    // state CAS and re-check of the free-agent bitmaps.
    if (tail->next.compare_exchange_strong(expected, node,
                                           std::memory_order_seq_cst)) {
      leaf->tail.compare_exchange_strong(tail, node, std::memory_order_acq_rel);
      return;
    }
  }
}

void ContactQueue::Depart(QueueNode* node) {
  const uint64_t key = KeyOf(node->aged_ms);
  Inner* path[kLevels];
  Inner* inner = root_;
  void* child = nullptr;
  for (int level = 0; level < kLevels; ++level) {
    path[level] = inner;
    // Present: this node is still counted on every level.
    child = inner->child[Digit(key, level)].load(std::memory_order_acquire);
    if (level + 1 < kLevels) inner = static_cast<Inner*>(child);
  }
  Trim(static_cast<Leaf*>(child),
       CountOf(path[kLevels - 1]->count[Digit(key, kLevels - 1)].load(
           std::memory_order_relaxed)));
  for (int level = kLevels - 1; level >= 0; --level) {
    UncountIn(path[level], level, key);
  }
  waiting.fetch_sub(1, std::memory_order_seq_cst);
}

void ContactQueue::Reap(uint64_t key) {
  // Our counts hold each slot of the path open while we stand below it, as
  // an arrival's do; creating nothing, we stop where the path ends.
  Inner* path[kLevels];
  int depth = 0;
  Inner* inner = root_;
  for (int level = 0; level < kLevels; ++level) {
    CountIn(inner, Digit(key, level), level);
    path[depth++] = inner;
    void* child =
        inner->child[Digit(key, level)].load(std::memory_order_acquire);
    if (child == nullptr || level + 1 >= kLevels) break;
    inner = static_cast<Inner*>(child);
  }
  for (int level = depth - 1; level >= 0; --level) {
    UncountIn(path[level], level, key);
  }
}

bool ContactQueue::Removable(const QueueNode& node) {
  // One read of the contact's word decides: a node is kept while its
  // placement is queued, or about to be (its placer links it before the
  // state CAS into kQueued and still owns it). From any other word the
  // placement can never become queued again.
  const uint64_t word = node.contact->Word();
  return ContactRecord::PlacementOf(word) != node.placement ||
         (ContactRecord::StateOf(word) != ContactState::kQueued &&
          ContactRecord::StateOf(word) != ContactState::kRouting);
}

void ContactQueue::Trim(Leaf* leaf, int64_t counted) {
  leaf->departures.fetch_add(1, std::memory_order_relaxed);
  // seq_cst on the request and on the flag, both sides (a store-load pair):
  // either the holder's re-read after letting go sees this request, or this
  // thread's exchange sees the flag free and trims itself. Two rounds at
  // most; what a busy leaf keeps, the next departure trims or the leaf's
  // retirement frees.
  leaf->trim_requests.fetch_add(1, std::memory_order_seq_cst);
  for (int round = 0; round < 2; ++round) {
    if (leaf->trimming.exchange(true, std::memory_order_seq_cst)) return;
    const uint64_t seen = leaf->trim_requests.load(std::memory_order_seq_cst);
    UnlinkDeadHead(leaf);
    // A contact that waits long at the head (nobody can serve it yet) keeps
    // every later departure's node behind it: sweep the whole leaf once
    // departures since the last sweep outnumber the contacts counted in it,
    // so dead nodes stay fewer than live ones (plus kMinSweepDepartures) and
    // a sweep costs under one node per departure on average.
    const int64_t pending = leaf->departures.load(std::memory_order_relaxed);
    if (pending >= std::max(kMinSweepDepartures, counted)) {
      leaf->departures.fetch_sub(pending, std::memory_order_relaxed);
      SweepDead(leaf);
    }
    leaf->trimming.store(false, std::memory_order_seq_cst);
    if (leaf->trim_requests.load(std::memory_order_seq_cst) == seen) return;
  }
}

void ContactQueue::UnlinkDeadHead(Leaf* leaf) {
  while (true) {
    QueueNode* head = leaf->head.load(std::memory_order_acquire);
    QueueNode* next = head->next.load(std::memory_order_acquire);
    if (next == nullptr || !Removable(*next)) return;
    QueueNode* tail = leaf->tail.load(std::memory_order_acquire);
    if (head == tail) {
      // Never let head pass tail.
      leaf->tail.compare_exchange_weak(tail, next, std::memory_order_acq_rel);
      continue;
    }
    // Only the trimmer moves head; release publishes the new dummy to walks
    // that start from head.
    leaf->head.store(next, std::memory_order_release);
    // `next` is the new dummy: its contact reference is ours to drop. The
    // old dummy is unreachable for new walks; pinned ones finish first.
    UnrefContact(next->contact, epoch_);
    epoch_->Retire(head);
  }
}

void ContactQueue::SweepDead(Leaf* leaf) {
  QueueNode* prev = leaf->head.load(std::memory_order_acquire);
  QueueNode* node = prev->next.load(std::memory_order_acquire);
  while (node != nullptr) {
    QueueNode* next = node->next.load(std::memory_order_acquire);
    // A node with a successor is not the last one, and never will be again;
    // the tail is the last node or the one before it (Michael & Scott), so a
    // node that is not the tail now lies before it and the tail, which only
    // moves forward, never comes back to it. Appenders touch only the tail
    // and the last node's null `next`: neither is this node or prev->next.
    if (next != nullptr && Removable(*node) &&
        node != leaf->tail.load(std::memory_order_acquire)) {
      // Only the trimmer overwrites a non-null `next`. Release: a walk that
      // reads the new link sees `next` fully built. Walks standing on
      // `node` (pinned) still follow its own `next` into the leaf.
      prev->next.store(next, std::memory_order_release);
      UnrefContact(node->contact, epoch_);
      epoch_->Retire(node);
    } else {
      prev = node;
    }
    node = next;
  }
}

int64_t ContactQueue::LinkedForTesting(int64_t aged_ms) const {
  const uint64_t key = KeyOf(aged_ms);
  const void* child = root_;
  for (int level = 0; level < kLevels && child != nullptr; ++level) {
    child = static_cast<const Inner*>(child)->child[Digit(key, level)].load(
        std::memory_order_acquire);
  }
  if (child == nullptr) return 0;
  int64_t linked = 0;
  const QueueNode* node =
      static_cast<const Leaf*>(child)->head.load(std::memory_order_acquire);
  for (node = node->next.load(std::memory_order_acquire); node != nullptr;
       node = node->next.load(std::memory_order_acquire)) {
    ++linked;
  }
  return linked;
}

int64_t ContactQueue::Position(const QueueNode& node) const {
  const uint64_t key = KeyOf(node.aged_ms);
  int64_t ahead = 0;
  const Inner* inner = root_;
  const void* child = nullptr;
  for (int level = 0; level < kLevels; ++level) {
    const int digit = Digit(key, level);
    for (int d = 0; d < digit; ++d) {
      ahead += CountOf(inner->count[d].load(std::memory_order_acquire));
    }
    child = inner->child[digit].load(std::memory_order_acquire);
    if (child == nullptr) return ahead + 1;  // Departed meanwhile.
    if (level + 1 < kLevels) inner = static_cast<const Inner*>(child);
  }
  const Leaf* leaf = static_cast<const Leaf*>(child);
  const QueueNode* walk = leaf->head.load(std::memory_order_acquire);
  for (walk = walk->next.load(std::memory_order_acquire);
       walk != nullptr && walk != &node;
       walk = walk->next.load(std::memory_order_acquire)) {
    if (walk->Live()) ++ahead;
  }
  return ahead + 1;
}

}  // namespace routing::internal
