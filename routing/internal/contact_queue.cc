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

ContactQueue::ContactQueue(std::string name, EpochDomain* epoch)
    : name_(std::move(name)), epoch_(epoch) {
  for (Lane& lane : lanes_) {
    Node* dummy = new Node{nullptr};
    lane.head.store(dummy, std::memory_order_relaxed);
    lane.tail.store(dummy, std::memory_order_relaxed);
  }
}

ContactQueue::~ContactQueue() {
  for (Lane& lane : lanes_) {
    Node* node = lane.head.load(std::memory_order_relaxed);
    // The head is the dummy: its contact reference was dropped when it
    // became the dummy (or it never had one).
    Node* next = node->next.load(std::memory_order_relaxed);
    delete node;
    for (node = next; node != nullptr; node = next) {
      next = node->next.load(std::memory_order_relaxed);
      UnrefContact(node->contact, epoch_);
      delete node;
    }
  }
}

void ContactQueue::Enqueue(ContactRecord* contact) {
  contact->refs.fetch_add(1, std::memory_order_relaxed);
  Node* node = new Node{contact};
  Lane& lane = lanes_[contact->priority];
  while (true) {
    Node* tail = lane.tail.load(std::memory_order_acquire);
    Node* next = tail->next.load(std::memory_order_acquire);
    if (tail != lane.tail.load(std::memory_order_acquire)) continue;
    if (next != nullptr) {
      // Tail is lagging: help it forward, then retry.
      lane.tail.compare_exchange_weak(tail, next, std::memory_order_acq_rel);
      continue;
    }
    Node* expected = nullptr;
    // seq_cst: the linearization point of "contact is in the queue", which
    // the router orders before its re-check of the free-agent bitmaps.
    if (tail->next.compare_exchange_strong(expected, node,
                                           std::memory_order_seq_cst)) {
      lane.tail.compare_exchange_strong(tail, node, std::memory_order_acq_rel);
      return;
    }
  }
}

bool ContactQueue::HeadIsDead(const Lane& lane) {
  const Node* head = lane.head.load(std::memory_order_acquire);
  const Node* next = head->next.load(std::memory_order_acquire);
  return next != nullptr && next->contact->State() != ContactState::kQueued;
}

bool ContactQueue::SweepDue(const Lane& lane, int64_t departed) const {
  return departed >=
         std::max(kMinSweepDepartures, waiting.load(std::memory_order_relaxed));
}

void ContactQueue::TrimHead(int level) {
  // Agents freeing up call this for every level they look at: a live head
  // (the usual case) costs two loads, not the flag.
  if (HeadIsDead(lanes_[level])) Trim(level);
}

void ContactQueue::ContactLeft(int level) {
  Lane& lane = lanes_[level];
  const int64_t departed =
      lane.departures.fetch_add(1, std::memory_order_relaxed) + 1;
  // A contact that left from behind a live head, with no sweep due, leaves
  // nothing to do yet. If another thread kills the head meanwhile, its own
  // ContactLeft trims.
  if (HeadIsDead(lane) || SweepDue(lane, departed)) Trim(level);
}

void ContactQueue::Trim(int level) {
  Lane& lane = lanes_[level];
  // seq_cst on the request and on the flag, both sides (a store-load pair):
  // either the holder's re-read after letting go sees this request, or this
  // thread's exchange sees the flag free and trims itself. The request's RMW
  // also carries the departed contact's state (written before) to the holder.
  lane.trim_requests.fetch_add(1, std::memory_order_seq_cst);
  // Two rounds at most: a thread does not trim forever for others under
  // heavy churn; what it leaves, the next departure's trim takes.
  for (int round = 0; round < 2; ++round) {
    if (lane.trimming.exchange(true, std::memory_order_seq_cst)) return;
    const uint64_t seen = lane.trim_requests.load(std::memory_order_seq_cst);
    UnlinkDeadHead(lane);
    const int64_t departed = lane.departures.load(std::memory_order_relaxed);
    if (SweepDue(lane, departed)) {
      lane.departures.fetch_sub(departed, std::memory_order_relaxed);
      SweepDead(lane);
    }
    lane.trimming.store(false, std::memory_order_seq_cst);
    if (lane.trim_requests.load(std::memory_order_seq_cst) == seen) return;
  }
}

void ContactQueue::UnlinkDeadHead(Lane& lane) {
  while (true) {
    Node* head = lane.head.load(std::memory_order_acquire);
    Node* next = head->next.load(std::memory_order_acquire);
    if (next == nullptr) return;
    if (next->contact->State() == ContactState::kQueued) {
      return;  // The oldest node is live: nothing to trim.
    }
    Node* tail = lane.tail.load(std::memory_order_acquire);
    if (head == tail) {
      // Never let head pass tail.
      lane.tail.compare_exchange_weak(tail, next, std::memory_order_acq_rel);
      continue;
    }
    // Only the trimmer moves head, so this succeeds; release publishes the
    // new dummy to traversals that start from head.
    lane.head.store(next, std::memory_order_release);
    // `next` is the new dummy: its contact reference is ours to drop. The
    // old dummy is unreachable for new traversals; pinned ones finish first.
    UnrefContact(next->contact, epoch_);
    epoch_->Retire(head);
  }
}

void ContactQueue::SweepDead(Lane& lane) {
  Node* prev = lane.head.load(std::memory_order_acquire);
  Node* node = prev->next.load(std::memory_order_acquire);
  while (node != nullptr) {
    Node* next = node->next.load(std::memory_order_acquire);
    // A node with a successor is not the last one, and never will be again;
    // the tail is the last node or the one before it (Michael & Scott), so a
    // node that is not the tail now lies before it and the tail, which only
    // moves forward, never comes back to it. Enqueuers touch only the tail
    // and the last node's null `next`: neither is this node or `prev->next`.
    if (next != nullptr && node->contact->State() != ContactState::kQueued &&
        node != lane.tail.load(std::memory_order_acquire)) {
      // Only the trimmer overwrites a non-null `next`. Release: a traversal
      // that reads the new link sees `next` fully built. Traversals standing
      // on `node` (pinned) still follow its own `next` into the lane.
      prev->next.store(next, std::memory_order_release);
      UnrefContact(node->contact, epoch_);
      epoch_->Retire(node);
    } else {
      prev = node;
    }
    node = next;
  }
}

}  // namespace routing::internal
