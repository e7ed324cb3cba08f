// File: routing/internal/epoch.h
//
// Epoch-based memory reclamation (Fraser, "Practical lock-freedom", 2004; the
// scheme crossbeam-epoch uses). Lock-free structures unlink a node and hand it
// to Retire() instead of deleting it; the node is freed only once every thread
// that could still be reading it has left its read-side critical section
// ("unpinned"). Readers pay two atomic operations per critical section and
// never wait for anyone.
//
//   EpochDomain epoch;                      // One per router.
//
//   // Reader:
//   auto guard = epoch.Pin();
//   const Policy* p = current.load(std::memory_order_acquire);
//   Use(*p);                                // Safe until `guard` dies.
//
//   // Writer:
//   auto guard = epoch.Pin();
//   const Policy* old = current.exchange(fresh, std::memory_order_acq_rel);
//   epoch.Retire(const_cast<Policy*>(old)); // Freed once readers moved on.
//
// Thread safety: every member function may be called concurrently from any
// number of threads, except the destructor. Pin(), unpinning and Retire() take
// no lock; a mutex is taken only when a thread exits or a domain is destroyed.
//
// Cost: Pin() is a thread-local lookup, a relaxed load and one seq_cst
// exchange (a single locked instruction on x86-64); unpinning is a release
// store; nested pins only count.
#ifndef ROUTING_INTERNAL_EPOCH_H_
#define ROUTING_INTERNAL_EPOCH_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace routing::internal {

namespace epoch_internal {
struct DomainState;
struct ThreadRecord;
}  // namespace epoch_internal

class EpochDomain {
 public:
  EpochDomain();
  // Frees everything still retired. Precondition: no thread is pinned and no
  // other thread calls into this domain any more (threads that used it may
  // still be running, or may exit concurrently with this destructor).
  ~EpochDomain();
  EpochDomain(const EpochDomain&) = delete;
  EpochDomain& operator=(const EpochDomain&) = delete;

  // Keeps everything reachable at the time of Pin() from being freed while it
  // lives. Movable, not copyable; must be destroyed on the thread that created
  // it and before the domain. Pins nest: an inner Guard on a thread that is
  // already pinned only counts.
  class Guard {
   public:
    ~Guard();
    Guard(Guard&& other) noexcept : record_(other.record_) {
      other.record_ = nullptr;
    }
    Guard& operator=(Guard&& other) noexcept;
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    friend class EpochDomain;
    explicit Guard(epoch_internal::ThreadRecord* record) : record_(record) {}
    epoch_internal::ThreadRecord* record_;  // Null once moved from.
  };

  Guard Pin();

  // Schedules deleter(p) to run once every thread that was pinned at the time
  // of this call has unpinned. `p` must already be unreachable for threads
  // that pin from now on (unlinked). Callable pinned (the usual case) or not.
  // Deleters run on whichever thread reclaims (usually one calling Retire or
  // Reclaim, or the destructor); they may call Retire on this domain, but not
  // Pin a Guard that outlives them.
  void Retire(void* p, void (*deleter)(void*));
  template <typename T>
  void Retire(T* p) {
    Retire(static_cast<void*>(p), [](void* q) { delete static_cast<T*>(q); });
  }

  // Frees what is safe to free now: this thread's retired objects and those
  // left behind by exited threads. Objects another live thread retired are
  // freed by that thread's own Retire/Reclaim calls (or the destructor).
  // Retire() does this every kRetiresPerCollect calls.
  void Reclaim();

  // Objects retired and not yet freed, over all threads. Approximate while
  // other threads are retiring or reclaiming.
  size_t retired_count_for_testing() const;

 private:
  static void Unpin(epoch_internal::ThreadRecord* record);

  // Shared with the thread-local caches of every thread that used this
  // domain, so that a thread exiting after the domain is gone still finds its
  // record (and learns that there is nothing left to hand over).
  const std::shared_ptr<epoch_internal::DomainState> state_;
};

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_EPOCH_H_
