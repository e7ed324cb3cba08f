// File: bench/reclamation/memb_rcu.h
//
// The read-side guard and the retire call a router built on liburcu's
// urcu-memb flavour would use where it now uses EpochDomain::Pin() and
// EpochDomain::Retire().
//
//   struct PolicyRecord : RcuRetirable { ... };
//
//   {
//     MembReadGuard guard;                  // Registers the thread if new.
//     const PolicyRecord* p = current.load(std::memory_order_acquire);
//     Use(*p);                              // Safe until `guard` dies.
//   }
//   const PolicyRecord* old = current.exchange(fresh);
//   RetireMemb(const_cast<PolicyRecord*>(old));  // Freed after a grace period.
//
// Differences from EpochDomain that a router would inherit:
//  * One grace-period domain per process and flavour, not one per router:
//    destroying a router means urcu_memb_barrier(), which waits for every
//    call_rcu callback in the process, not just the router's.
//  * call_rcu needs its callback head inside the object (RcuRetirable), so
//    every retired type gains 16 bytes or a wrapper allocation per retire.
//  * Callbacks run on liburcu's call_rcu worker thread, not on the retiring
//    thread; a deleter must be safe there.
//  * A thread must never wait for a grace period (urcu_memb_synchronize_rcu,
//    urcu_memb_barrier) inside a guard: it would wait for itself.
//
// Compile users with _LGPL_SOURCE for the inline read-side fast path (the
// read lock is a function call otherwise); both work.
#ifndef BENCH_RECLAMATION_MEMB_RCU_H_
#define BENCH_RECLAMATION_MEMB_RCU_H_

#include <urcu/urcu-memb.h>

#include <type_traits>

#include "bench/reclamation/memb_thread.h"

namespace bench::reclamation {

// A read-side critical section. Nests (liburcu counts the depth per thread);
// must end on the thread that began it. Cost: a registration check, a load of
// the global grace-period counter and a thread-local store; no fence while the
// kernel offers membarrier(2), which the updater then pays for instead.
class MembReadGuard {
 public:
  MembReadGuard() {
    EnsureMembThread();
    urcu_memb_read_lock();
  }
  ~MembReadGuard() { urcu_memb_read_unlock(); }
  MembReadGuard(const MembReadGuard&) = delete;
  MembReadGuard& operator=(const MembReadGuard&) = delete;
};

// Base of every type retired with RetireMemb: call_rcu() queues the object
// through this head.
struct RcuRetirable {
  rcu_head rcu;
};

// Deletes `p` (already unlinked) on liburcu's call_rcu thread once every
// read-side section that might still see it has ended. Callable inside or
// outside a guard.
template <typename T>
void RetireMemb(T* p) {
  static_assert(std::is_base_of_v<RcuRetirable, T>,
                "RetireMemb needs the callback head of RcuRetirable");
  EnsureMembThread();
  urcu_memb_call_rcu(&static_cast<RcuRetirable*>(p)->rcu, [](rcu_head* head) {
    delete static_cast<T*>(caa_container_of(head, RcuRetirable, rcu));
  });
}

}  // namespace bench::reclamation

#endif  // BENCH_RECLAMATION_MEMB_RCU_H_
