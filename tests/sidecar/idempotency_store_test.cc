#include "sidecar/idempotency_store.h"

#include <string>
#include <thread>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace routing::sidecar {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

void Remember(IdempotencyStore& store, const std::string& key,
              uint64_t fingerprint, absl::Time now,
              const std::string& reply = "reply") {
  store.Remember(key, fingerprint, now,
                 reinterpret_cast<const uint8_t*>(reply.data()), reply.size());
}

TEST(IdempotencyStoreTest, FindsWhatWasRememberedUnderItsKeyOnly) {
  IdempotencyStore store;
  Remember(store, "k-1", 42, kStart, "first reply");
  const IdempotencyStore::Remembered* seen = store.Find("k-1", kStart);
  ASSERT_NE(seen, nullptr);
  EXPECT_EQ(seen->fingerprint, 42u);
  EXPECT_EQ(seen->reply, "first reply");
  EXPECT_EQ(store.Find("k-2", kStart), nullptr);
  EXPECT_EQ(store.Find("k-", kStart), nullptr);
  EXPECT_EQ(store.reply_bytes(), std::string("first reply").size());
}

TEST(IdempotencyStoreTest, ForgetsAKeyOnceItsRetentionHasPassed) {
  IdempotencyStore::Limits limits;
  limits.retention = absl::Minutes(10);
  IdempotencyStore store(limits);
  Remember(store, "old", 1, kStart);
  Remember(store, "young", 2, kStart + absl::Minutes(5));
  EXPECT_NE(store.Find("old", kStart + absl::Minutes(10)), nullptr);
  EXPECT_EQ(store.Find("old", kStart + absl::Minutes(10) + absl::Seconds(1)),
            nullptr);
  EXPECT_NE(store.Find("young", kStart + absl::Minutes(10) + absl::Seconds(1)),
            nullptr);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.Find("young", kStart + absl::Minutes(16)), nullptr);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.reply_bytes(), 0u);
}

TEST(IdempotencyStoreTest, EvictsTheOldestKeysBeyondMaxKeys) {
  IdempotencyStore::Limits limits;
  limits.max_keys = 3;
  IdempotencyStore store(limits);
  for (int i = 0; i < 5; ++i) {
    Remember(store, "k" + std::to_string(i), i, kStart + absl::Seconds(i));
  }
  EXPECT_EQ(store.size(), 3u);
  EXPECT_EQ(store.Find("k0", kStart + absl::Seconds(5)), nullptr);
  EXPECT_EQ(store.Find("k1", kStart + absl::Seconds(5)), nullptr);
  for (int i = 2; i < 5; ++i) {
    EXPECT_NE(store.Find("k" + std::to_string(i), kStart + absl::Seconds(5)),
              nullptr)
        << i;
  }
}

TEST(IdempotencyStoreTest, EvictsTheOldestRepliesBeyondMaxReplyBytes) {
  IdempotencyStore::Limits limits;
  limits.max_reply_bytes = 25;
  IdempotencyStore store(limits);
  Remember(store, "a", 1, kStart, std::string(10, 'a'));
  Remember(store, "b", 2, kStart, std::string(10, 'b'));
  Remember(store, "c", 3, kStart, std::string(10, 'c'));
  EXPECT_EQ(store.Find("a", kStart), nullptr);
  EXPECT_NE(store.Find("b", kStart), nullptr);
  EXPECT_NE(store.Find("c", kStart), nullptr);
  EXPECT_EQ(store.reply_bytes(), 20u);
  // Larger than the whole budget: not remembered, nothing else evicted.
  Remember(store, "huge", 4, kStart, std::string(26, 'h'));
  EXPECT_EQ(store.Find("huge", kStart), nullptr);
  EXPECT_EQ(store.size(), 2u);
}

TEST(IdempotencyStoreTest, RememberingAKeyAgainReplacesItAndRenewsItsAge) {
  IdempotencyStore::Limits limits;
  limits.max_keys = 2;
  IdempotencyStore store(limits);
  Remember(store, "a", 1, kStart, "one");
  Remember(store, "b", 2, kStart + absl::Seconds(1));
  Remember(store, "a", 3, kStart + absl::Seconds(2), "three");
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.reply_bytes(), std::string("reply").size() + 5);
  // "b" is now the oldest: a third key evicts it, not "a".
  Remember(store, "c", 4, kStart + absl::Seconds(3));
  EXPECT_EQ(store.Find("b", kStart + absl::Seconds(3)), nullptr);
  const IdempotencyStore::Remembered* a =
      store.Find("a", kStart + absl::Seconds(3));
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->fingerprint, 3u);
  EXPECT_EQ(a->reply, "three");
}

TEST(ScopedIdempotencyStoreTest, InstallsAStorePerThreadAndRestoresThePrevious) {
  EXPECT_EQ(ScopedIdempotencyStore::Current(), nullptr);
  IdempotencyStore mine;
  {
    ScopedIdempotencyStore outer(&mine);
    EXPECT_EQ(ScopedIdempotencyStore::Current(), &mine);
    {
      ScopedIdempotencyStore inner;
      EXPECT_NE(ScopedIdempotencyStore::Current(), nullptr);
      EXPECT_NE(ScopedIdempotencyStore::Current(), &mine);
    }
    EXPECT_EQ(ScopedIdempotencyStore::Current(), &mine);
    IdempotencyStore* other_thread = &mine;
    std::thread([&] { other_thread = ScopedIdempotencyStore::Current(); })
        .join();
    EXPECT_EQ(other_thread, nullptr);
  }
  EXPECT_EQ(ScopedIdempotencyStore::Current(), nullptr);
}

}  // namespace
}  // namespace routing::sidecar
