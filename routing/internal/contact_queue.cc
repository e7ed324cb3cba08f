#include "routing/internal/contact_queue.h"

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

void ContactQueue::TrimHead(int level) {
  Lane& lane = lanes_[level];
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
    if (lane.head.compare_exchange_strong(head, next,
                                          std::memory_order_acq_rel)) {
      // `next` is the new dummy: its contact reference is ours to drop. The
      // old dummy is unreachable for new traversals; pinned ones finish first.
      UnrefContact(next->contact, epoch_);
      epoch_->Retire(head);
    }
  }
}

}  // namespace routing::internal
