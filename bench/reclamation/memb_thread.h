// File: bench/reclamation/memb_thread.h
//
// Registers the calling thread with liburcu's urcu-memb flavour on first use
// and unregisters it when the thread exits. urcu-memb requires every thread
// that enters a read-side critical section or calls call_rcu() to be
// registered first, and the router is called from threads it does not own
// (the C ABI's callers, Python, the sidecar's workers), so a router built on
// urcu-memb would need this check before every pin: one thread-local
// initialisation test (BM_ReadSide_MembGuard measures it).
//
//   EnsureMembThread();
//   urcu_memb_read_lock();
//   const Policy* p = rcu_dereference(current);
//   urcu_memb_read_unlock();
//
// Limit: a read-side section entered from a thread_local destructor that runs
// after this registration's is undefined (thread_locals die in reverse order
// of construction). EpochDomain covers that case with a transient record;
// this does not.
//
// Only liburcu's out-of-line functions are called here, so this header means
// the same with or without _LGPL_SOURCE.
#ifndef BENCH_RECLAMATION_MEMB_THREAD_H_
#define BENCH_RECLAMATION_MEMB_THREAD_H_

#include <urcu/urcu-memb.h>

namespace bench::reclamation {

inline void EnsureMembThread() {
  struct Registration {
    Registration() { urcu_memb_register_thread(); }
    ~Registration() { urcu_memb_unregister_thread(); }
  };
  thread_local Registration registration;
  (void)registration;
}

}  // namespace bench::reclamation

#endif  // BENCH_RECLAMATION_MEMB_THREAD_H_
