#include "sidecar/held_replies.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace routing::sidecar {
namespace {

// A reply as the frontend holds it: [envelope, payload naming the record].
std::unique_ptr<Frames> ReplyFor(uint64_t sequence) {
  auto reply = std::make_unique<Frames>();
  reply->Add("client-identity");
  reply->Add(absl::StrCat("reply of record ", sequence));
  return reply;
}

// Records settle in order: every record through `durable` is durable, and
// `failed_from`..`failed_through` failed.
struct Journal {
  uint64_t settled = 0;
  uint64_t failed_from = 0;
  uint64_t failed_through = 0;
  std::optional<absl::Status> Outcome(uint64_t sequence) const {
    if (sequence > settled) return std::nullopt;
    if (sequence >= failed_from && sequence <= failed_through) {
      return absl::UnavailableError(
          absl::StrCat("record ", sequence, " is not durable"));
    }
    return absl::OkStatus();
  }
};

struct Released {
  std::string payload;
  bool durable = false;
};

TEST(HeldRepliesTest, ReleasesSettledRecordsOldestFirstAndKeepsOpenOnes) {
  HeldReplies held;
  // From several workers: nearly in order.
  for (uint64_t sequence : {3, 1, 2, 5, 4, 7}) {
    held.Hold(sequence, ReplyFor(sequence));
  }
  Journal journal;
  std::vector<Released> released;
  auto release = [&](const absl::Status& fate, Frames& reply) {
    ASSERT_EQ(reply.size(), 2u);
    EXPECT_EQ(reply.text(0), "client-identity");
    released.push_back({std::string(reply.text(1)), fate.ok()});
  };
  auto outcome = [&](uint64_t sequence) { return journal.Outcome(sequence); };

  EXPECT_EQ(held.ReleaseSettled(outcome, release), 0u);  // None settled.
  EXPECT_EQ(held.size(), 6u);

  journal.settled = 4;  // One sync covered 1..4.
  EXPECT_EQ(held.ReleaseSettled(outcome, release), 4u);
  ASSERT_EQ(released.size(), 4u);
  for (uint64_t i = 1; i <= 4; ++i) {
    EXPECT_EQ(released[i - 1].payload, absl::StrCat("reply of record ", i));
    EXPECT_TRUE(released[i - 1].durable);
  }
  EXPECT_EQ(held.size(), 2u);  // 5 and 7 wait.

  journal.settled = 6;  // 5 settles; 7 is still open.
  EXPECT_EQ(held.ReleaseSettled(outcome, release), 1u);
  EXPECT_EQ(released.back().payload, "reply of record 5");
  EXPECT_EQ(held.size(), 1u);
}

TEST(HeldRepliesTest, AFailedSyncReleasesItsRepliesAsNotDurable) {
  HeldReplies held;
  for (uint64_t sequence = 1; sequence <= 4; ++sequence) {
    held.Hold(sequence, ReplyFor(sequence));
  }
  Journal journal{.settled = 4, .failed_from = 2, .failed_through = 3};
  std::vector<Released> released;
  held.ReleaseSettled(
      [&](uint64_t sequence) { return journal.Outcome(sequence); },
      [&](const absl::Status& fate, Frames& reply) {
        released.push_back({std::string(reply.text(1)), fate.ok()});
      });
  ASSERT_EQ(released.size(), 4u);
  EXPECT_TRUE(released[0].durable);
  EXPECT_FALSE(released[1].durable);
  EXPECT_FALSE(released[2].durable);
  EXPECT_TRUE(released[3].durable);
  EXPECT_TRUE(held.empty());
}

TEST(HeldRepliesTest, ReleaseAllWaitsForEveryRecordInOrder) {
  HeldReplies held;
  for (uint64_t sequence : {2, 1, 3}) held.Hold(sequence, ReplyFor(sequence));
  std::vector<uint64_t> waited;
  std::vector<std::string> released;
  EXPECT_EQ(held.ReleaseAll(
                [&](uint64_t sequence) {
                  waited.push_back(sequence);
                  return absl::OkStatus();
                },
                [&](const absl::Status& fate, Frames& reply) {
                  EXPECT_TRUE(fate.ok());
                  released.emplace_back(reply.text(1));
                }),
            3u);
  EXPECT_EQ(waited, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(released.back(), "reply of record 3");
  EXPECT_TRUE(held.empty());
}

}  // namespace
}  // namespace routing::sidecar
