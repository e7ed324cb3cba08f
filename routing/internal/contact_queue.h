// File: routing/internal/contact_queue.h
//
// One named queue of waiting contacts: a lock-free FIFO per priority level
// (Michael & Scott, 1996), nodes reclaimed through the epoch domain.
//
// Contacts leave a queue logically, by their own state CAS (see
// contact_record.h), from anywhere in the FIFO; physically, dead nodes are
// unlinked only at the head (TrimHead), so the list is never edited in the
// middle and traversals need nothing but an epoch guard. A contact no agent can
// serve yet keeps the nodes behind it until it leaves; they are skipped at a
// load each.
//
// Within a priority level contacts are served in the order they were queued;
// across levels and queues the router compares aged arrival times.
#ifndef ROUTING_INTERNAL_CONTACT_QUEUE_H_
#define ROUTING_INTERNAL_CONTACT_QUEUE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "routing/contact.h"
#include "routing/internal/contact_record.h"
#include "routing/internal/epoch.h"

namespace routing::internal {

inline constexpr int kPriorityLevels = kMaxPriority + 1;

class ContactQueue {
 public:
  struct Node {
    ContactRecord* contact;  // Null in the initial dummy only.
    std::atomic<Node*> next{nullptr};
  };

  ContactQueue(std::string name, EpochDomain* epoch);
  ~ContactQueue();  // Frees nodes and drops their contact references.
  ContactQueue(const ContactQueue&) = delete;
  ContactQueue& operator=(const ContactQueue&) = delete;

  const std::string& name() const { return name_; }

  // Appends the contact to its priority level and takes a reference on it.
  // The caller must be pinned. The append is a seq_cst CAS, ordered before the
  // caller's later re-check of free agents (no lost wakeup).
  void Enqueue(ContactRecord* contact);

  // Calls f(ContactRecord*) for each node of `level` whose contact is still
  // kQueued, oldest first, until f returns false. The caller must be pinned.
  template <typename F>
  void ForEachQueued(int level, F&& f) const {
    const Node* node = lanes_[level].head.load(std::memory_order_acquire);
    for (node = node->next.load(std::memory_order_acquire); node != nullptr;
         node = node->next.load(std::memory_order_acquire)) {
      if (node->contact->State() != ContactState::kQueued) {
        continue;
      }
      if (!f(node->contact)) return;
    }
  }

  // Unlinks nodes at the head of `level` whose contacts are no longer queued.
  // The caller must be pinned. The router calls it whenever a contact leaves
  // the queue, so dead nodes outlive their contacts only behind a live one.
  void TrimHead(int level);

  // Nodes linked in `level`, live or dead, dummy excluded. The caller must be
  // pinned; exact only when no other thread is using the queue.
  int LinkedCountForTesting(int level) const {
    int n = 0;
    const Node* node = lanes_[level].head.load(std::memory_order_acquire);
    for (node = node->next.load(std::memory_order_acquire); node != nullptr;
         node = node->next.load(std::memory_order_acquire)) {
      ++n;
    }
    return n;
  }

  // Contacts queued now (the router's count: +1 before it publishes a contact,
  // -1 by whoever takes one out). seq_cst: part of the no-lost-wakeup order.
  std::atomic<int64_t> waiting{0};

  // Statistics, relaxed: counters only.
  std::atomic<int64_t> answered{0};
  std::atomic<int64_t> answered_in_service_level{0};
  std::atomic<int64_t> abandoned{0};
  std::atomic<int64_t> total_answer_wait_ns{0};
  std::atomic<int64_t> average_handle_ns{0};  // Moving average; 0 until known.

 private:
  struct alignas(64) Lane {
    std::atomic<Node*> head;
    alignas(64) std::atomic<Node*> tail;
  };

  const std::string name_;
  EpochDomain* const epoch_;
  std::array<Lane, kPriorityLevels> lanes_;
};

// Drops one reference; the last retires the record through the epoch domain.
void UnrefContact(ContactRecord* contact, EpochDomain* epoch);

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_CONTACT_QUEUE_H_
