#include "journal/writer_wakeup.h"

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "gtest/gtest.h"

namespace journal {
namespace {

using std::chrono::milliseconds;

// Long enough that only a lost wakeup misses it.
constexpr milliseconds kNoLongerThan(10000);

TEST(WriterWakeupTest, ABumpSinceCurrentMakesWaitReturnAtOnce) {
  WriterWakeup wakeup;
  const uint32_t seen = wakeup.Current();
  wakeup.Bump();
  EXPECT_NE(wakeup.Current(), seen);
  auto waited = std::async(std::launch::async, [&] { wakeup.Wait(seen); });
  EXPECT_EQ(waited.wait_for(kNoLongerThan), std::future_status::ready);
}

TEST(WriterWakeupTest, AWaiterSleepsUntilTheBump) {
  WriterWakeup wakeup;
  std::atomic<bool> woken{false};
  const uint32_t seen = wakeup.Current();
  auto waited = std::async(std::launch::async, [&] {
    // Wait may return early (a spurious wakeup): the caller looks again.
    while (wakeup.Current() == seen) wakeup.Wait(seen);
    woken.store(true);
  });
  EXPECT_EQ(waited.wait_for(milliseconds(100)), std::future_status::timeout);
  EXPECT_FALSE(woken.load());
  wakeup.Bump();
  EXPECT_EQ(waited.wait_for(kNoLongerThan), std::future_status::ready);
  EXPECT_TRUE(woken.load());
}

TEST(WriterWakeupTest, EveryWaiterWakes) {
  WriterWakeup wakeup;
  const uint32_t seen = wakeup.Current();
  std::atomic<int> sleeping{0};
  std::vector<std::future<void>> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.push_back(std::async(std::launch::async, [&] {
      sleeping.fetch_add(1);
      while (wakeup.Current() == seen) wakeup.Wait(seen);
    }));
  }
  while (sleeping.load() < 4) std::this_thread::yield();
  wakeup.Bump();
  for (auto& waiter : waiters) {
    EXPECT_EQ(waiter.wait_for(kNoLongerThan), std::future_status::ready);
  }
}

// The writer's protocol (journal_writer.cc): the sleeper reads Current(),
// then looks for work, then waits; the other side publishes work, then
// bumps. Ping-pong through two wakeups: a lost wakeup leaves both asleep
// with work published, which the watchdog sees (the count stops moving).
TEST(WriterWakeupTest, NoWakeupIsLostUnderPingPong) {
  constexpr int kRounds = 20000;
  WriterWakeup to_pong, to_ping;
  std::atomic<int> pinged{0}, ponged{0};
  std::thread pong([&] {
    for (int round = 1; round <= kRounds; ++round) {
      while (true) {
        const uint32_t seen = to_pong.Current();
        if (pinged.load() >= round) break;
        to_pong.Wait(seen);
      }
      ponged.store(round);
      to_ping.Bump();
    }
  });
  bool stalled = false;
  for (int round = 1; round <= kRounds && !stalled; ++round) {
    pinged.store(round);
    to_pong.Bump();
    const auto deadline = std::chrono::steady_clock::now() + kNoLongerThan;
    while (true) {
      const uint32_t seen = to_ping.Current();
      if (ponged.load() >= round) break;
      if (std::chrono::steady_clock::now() > deadline) {
        stalled = true;
        break;
      }
      to_ping.Wait(seen);
    }
  }
  ASSERT_FALSE(stalled) << "a wakeup was lost at round " << pinged.load();
  pong.join();
  EXPECT_EQ(ponged.load(), kRounds);
}

}  // namespace
}  // namespace journal
