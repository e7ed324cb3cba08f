#include "journal/writer_wakeup.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>

namespace journal {
namespace {

long Futex(std::atomic<uint32_t>* word, int op, uint32_t value) {
  return ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op, value,
                   nullptr, nullptr, 0);
}

}  // namespace

void WriterWakeup::Wait(uint32_t seen) {
  // The kernel compares the word with `seen` under its own lock: a Bump
  // between Current() and here makes this return at once (EAGAIN).
  if (word_.load(std::memory_order_acquire) != seen) return;
  Futex(&word_, FUTEX_WAIT_PRIVATE, seen);
}

void WriterWakeup::Bump() {
  word_.fetch_add(1, std::memory_order_release);
  Futex(&word_, FUTEX_WAKE_PRIVATE, INT_MAX);
}

}  // namespace journal
