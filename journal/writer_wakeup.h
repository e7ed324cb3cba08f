// File: journal/writer_wakeup.h
//
// A word the journal writer's thread sleeps on until an appending thread
// bumps it: the idle writer's wakeup.
//
//   const uint32_t seen = wakeup.Current();
//   ... look once more for work ...
//   wakeup.Wait(seen);   // returns once Bump() has run since Current()
//
//   wakeup.Bump();       // another thread: wakes every waiter
//
// Why not std::atomic<uint32_t>::wait: libstdc++ 12 spins before sleeping,
// calling sched_yield. On a busy CPU a yield hands the CPU to the threads
// executing calls for a whole time slice (up to several ms), and the
// records that arrived meanwhile wait for it: a journaled reply's tail
// latency. Wait goes straight to the kernel (a private futex).
//
// Wait may return early (a signal, a spurious wakeup): the caller looks for
// work again, as after any wakeup. Both calls are safe from any thread.
#ifndef JOURNAL_WRITER_WAKEUP_H_
#define JOURNAL_WRITER_WAKEUP_H_

#include <atomic>
#include <cstdint>

namespace journal {

class WriterWakeup {
 public:
  // The count of bumps so far, to pass to Wait.
  uint32_t Current() const { return word_.load(std::memory_order_acquire); }
  // Sleeps while no Bump has come since Current() returned `seen`.
  void Wait(uint32_t seen);
  // Counts a bump and wakes every thread in Wait.
  void Bump();

 private:
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
  std::atomic<uint32_t> word_{0};
};

}  // namespace journal

#endif  // JOURNAL_WRITER_WAKEUP_H_
