// File: routing/internal/contact_queue.h
//
// One named queue of waiting contacts: a lock-free FIFO per priority level
// (Michael & Scott, 1996), nodes reclaimed through the epoch domain.
//
// Contacts leave a queue logically, by their own state CAS (see
// contact_record.h), from anywhere in the FIFO. Physically, their nodes are
// unlinked by one trimmer per lane at a time, chosen by a try-flag that
// nobody waits on: whoever finds the flag taken leaves a request the holder
// honours before it lets go. The trimmer unlinks dead nodes at the head after
// every departure, and sweeps the whole lane once the departures since its
// last sweep outnumber the contacts waiting, so a contact that waits long at
// the head (nobody can serve it yet) does not leave every later departure's
// node behind it for every walk to skip. Traversals need nothing but an epoch
// guard; enqueuers only ever touch the last node, which is never unlinked
// from the middle.
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

// A lane is swept once its departures reach max(this, contacts waiting):
// short queues are not walked on every departure, and the sweep's cost stays
// below one node per departure on average.
inline constexpr int64_t kMinSweepDepartures = 64;

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
  // The caller must be pinned. If another thread is trimming the lane, this
  // returns at once: that thread trims again before it stops, unless it has
  // already trimmed twice, in which case the next departure's trim does.
  void TrimHead(int level);

  // A contact of `level` left the queue (its state CAS out of kQueued is
  // done, and `waiting` lowered): trims the head, and sweeps the lane when
  // departures since the last sweep reach max(kMinSweepDepartures, waiting),
  // so the dead nodes in a lane stay fewer than the contacts waiting plus
  // kMinSweepDepartures (and one dead last node, never unlinked). A sweep
  // walks the lane once; triggered that way, it costs at most about one node
  // per departure on average. The caller must be pinned.
  void ContactLeft(int level);

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
    // Trimming: held by one thread at a time (never waited on). Requests
    // count every attempt, so the holder sees that someone came while it
    // held the flag. Departures since the last sweep.
    alignas(64) std::atomic<bool> trimming{false};
    std::atomic<uint64_t> trim_requests{0};
    std::atomic<int64_t> departures{0};
  };

  // Takes the lane's trimming flag (or leaves a request for its holder) and
  // unlinks dead nodes: at the head, and all over the lane if a sweep is due.
  void Trim(int level);
  static bool HeadIsDead(const Lane& lane);
  bool SweepDue(const Lane& lane, int64_t departed) const;
  // The holder of `lane.trimming` only.
  void UnlinkDeadHead(Lane& lane);
  void SweepDead(Lane& lane);

  const std::string name_;
  EpochDomain* const epoch_;
  std::array<Lane, kPriorityLevels> lanes_;
};

// Drops one reference; the last retires the record through the epoch domain.
void UnrefContact(ContactRecord* contact, EpochDomain* epoch);

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_CONTACT_QUEUE_H_
