// File: routing/internal/queue_minute_window.h
//
// A queue's answers and abandons over the last hour, one slot per minute, for
// QueueStats::recent (service level, speed of answer and abandonment over 5,
// 15 and 60 minutes). Record runs on the answer and cancel paths: relaxed
// atomics, no lock. A slot last used for an older minute is reset by the
// first writer to claim it for the new one (a CAS on its minute); an
// increment racing that reset may be lost, at most a handful at a minute
// boundary: a monitoring window, not an accounting ledger (the cumulative
// counters in ContactQueue are exact).
#ifndef ROUTING_INTERNAL_QUEUE_MINUTE_WINDOW_H_
#define ROUTING_INTERNAL_QUEUE_MINUTE_WINDOW_H_

#include <array>
#include <atomic>
#include <cstdint>

namespace routing::internal {

class QueueMinuteWindow {
 public:
  static constexpr int kSlots = 60;

  struct Totals {
    int64_t answered = 0;
    int64_t answered_in_service_level = 0;
    int64_t abandoned = 0;
    int64_t answer_wait_ms = 0;
  };

  void RecordAnswered(int64_t now_ns, int64_t waited_ns,
                      bool in_service_level) {
    Slot& slot = SlotFor(MinuteOf(now_ns));
    slot.answered.fetch_add(1, std::memory_order_relaxed);
    if (in_service_level) {
      slot.answered_in_service_level.fetch_add(1, std::memory_order_relaxed);
    }
    slot.answer_wait_ms.fetch_add(waited_ns / 1'000'000,
                                  std::memory_order_relaxed);
  }
  void RecordAbandoned(int64_t now_ns) {
    SlotFor(MinuteOf(now_ns)).abandoned.fetch_add(1,
                                                   std::memory_order_relaxed);
  }

  // The current minute of `now_ns` and the minutes-1 whole minutes before
  // it (1 <= minutes <= kSlots).
  Totals Read(int64_t now_ns, int minutes) const {
    const int64_t current = MinuteOf(now_ns);
    Totals t;
    for (const Slot& slot : slots_) {
      const int64_t minute = slot.minute.load(std::memory_order_acquire);
      if (minute > current || minute <= current - minutes) continue;
      t.answered += slot.answered.load(std::memory_order_relaxed);
      t.answered_in_service_level +=
          slot.answered_in_service_level.load(std::memory_order_relaxed);
      t.abandoned += slot.abandoned.load(std::memory_order_relaxed);
      t.answer_wait_ms += slot.answer_wait_ms.load(std::memory_order_relaxed);
    }
    return t;
  }

 private:
  struct Slot {
    std::atomic<int64_t> minute{INT64_MIN};
    std::atomic<int64_t> answered{0};
    std::atomic<int64_t> answered_in_service_level{0};
    std::atomic<int64_t> abandoned{0};
    std::atomic<int64_t> answer_wait_ms{0};
  };

  static int64_t MinuteOf(int64_t ns) {
    int64_t m = ns / 60'000'000'000;
    if (ns % 60'000'000'000 < 0) --m;
    return m;
  }
  Slot& SlotFor(int64_t minute) {
    Slot& slot = slots_[static_cast<uint64_t>(minute) % kSlots];
    int64_t seen = slot.minute.load(std::memory_order_acquire);
    // Only a later minute claims a slot: a writer with a stale clock reading
    // adds to the newer minute rather than wiping it.
    if (seen < minute &&
        slot.minute.compare_exchange_strong(seen, minute,
                                            std::memory_order_acq_rel)) {
      slot.answered.store(0, std::memory_order_relaxed);
      slot.answered_in_service_level.store(0, std::memory_order_relaxed);
      slot.abandoned.store(0, std::memory_order_relaxed);
      slot.answer_wait_ms.store(0, std::memory_order_relaxed);
    }
    return slot;
  }

  std::array<Slot, kSlots> slots_;
};

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_QUEUE_MINUTE_WINDOW_H_
