// File: routing/internal/offer_schedule.h
//
// The offers outstanding (RouterOptions::offer_timeout), for
// Router::AdvanceQueues to end the ones whose deadline has passed. Lock-free:
// a Treiber stack that producers push onto with a CAS, and that a sweeper
// takes whole with one exchange, so no entry is ever popped while another
// thread reads it (no ABA) and concurrent sweeps get disjoint entries.
//
// An entry names one offer: a contact record and the placement it was
// offered in, with its deadline. It holds a reference on the record (taken by
// the caller before Add), dropped by whoever sweeps it out for good. The
// schedule does not decide whether the offer still stands: the contact's
// state word does (kOffered at that placement); an accepted, cancelled or
// rejected offer's entry is simply dropped at the next sweep.
//
// Cost: Add is one allocation and one CAS, on the decision path of offered
// channels only; a sweep is a walk of the entries taken, i.e. of the offers
// made since the previous sweep plus those still pending.
#ifndef ROUTING_INTERNAL_OFFER_SCHEDULE_H_
#define ROUTING_INTERNAL_OFFER_SCHEDULE_H_

#include <atomic>
#include <cstdint>

#include "routing/internal/contact_record.h"

namespace routing::internal {

struct ScheduledOffer {
  ContactRecord* record = nullptr;  // One reference held by the entry.
  uint64_t placement = 0;
  int64_t deadline_ns = 0;
  ScheduledOffer* next = nullptr;
};

class OfferSchedule {
 public:
  OfferSchedule() = default;
  // Frees the entries left; their record references must have been dropped
  // by the owner (the router drops them as it frees its contacts).
  ~OfferSchedule() { Free(TakeAll()); }
  OfferSchedule(const OfferSchedule&) = delete;
  OfferSchedule& operator=(const OfferSchedule&) = delete;

  // Takes ownership of `entry` (allocated with new).
  void Add(ScheduledOffer* entry) {
    ScheduledOffer* head = head_.load(std::memory_order_relaxed);
    do {
      entry->next = head;
    } while (!head_.compare_exchange_weak(head, entry,
                                          std::memory_order_release,
                                          std::memory_order_relaxed));
  }
  // Every entry added so far and not taken, newest first; the caller owns
  // them (Add back the ones that still stand, delete the others).
  ScheduledOffer* TakeAll() {
    if (head_.load(std::memory_order_relaxed) == nullptr) return nullptr;
    return head_.exchange(nullptr, std::memory_order_acquire);
  }
  bool Empty() const { return head_.load(std::memory_order_relaxed) == nullptr; }

  // Deletes a taken list (the references must be dealt with first).
  static void Free(ScheduledOffer* list) {
    while (list != nullptr) {
      ScheduledOffer* next = list->next;
      delete list;
      list = next;
    }
  }

 private:
  std::atomic<ScheduledOffer*> head_{nullptr};
};

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_OFFER_SCHEDULE_H_
