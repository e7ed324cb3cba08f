#include "journal/record_group.h"

#include <cstdint>
#include <random>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "journal/little_endian.h"
#include "journal/record_framing.h"

namespace journal {
namespace {

// Frames of `count` records alike as a group's are: the same fields and
// names, different ids and numbers.
std::string SimilarFrames(int count) {
  std::string frames;
  for (int i = 0; i < count; ++i) {
    AppendFrame(absl::StrFormat(
                    "contact load-%d queue sales agent agent-%d skill sales "
                    "4/5 (needs 1) language en fluency 5/5 holds %d of 10 "
                    "contacts score 0.%d",
                    i, i % 7, i % 10, i),
                &frames);
  }
  return frames;
}

// A group body deflating `frames` but claiming `count` records of
// `claimed_size` bytes.
std::string BodyClaiming(const std::string& frames, int real_count,
                         uint32_t count, uint32_t claimed_size) {
  RecordGroupDeflater deflater;
  std::string body;
  EXPECT_TRUE(deflater.Deflate(frames, real_count, &body));
  StoreLittle32(body.data(), count);
  StoreLittle32(body.data() + 4, claimed_size);
  return body;
}

TEST(RecordGroupTest, AGroupInflatesToTheSameFramesInAFractionOfTheBytes) {
  const std::string frames = SimilarFrames(50);
  RecordGroupDeflater deflater;
  std::string body;
  ASSERT_TRUE(deflater.Deflate(frames, 50, &body));
  EXPECT_LT(body.size() * 3, frames.size())
      << body.size() << " of " << frames.size();
  std::string back;
  absl::StatusOr<int> count = InflateRecordGroup(body, &back);
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 50);
  EXPECT_EQ(back, frames);
  // The deflater's buffers serve the next group as well.
  const std::string next = SimilarFrames(3);
  ASSERT_TRUE(deflater.Deflate(next, 3, &body));
  ASSERT_TRUE(InflateRecordGroup(body, &back).ok());
  EXPECT_EQ(back, next);
}

TEST(RecordGroupTest, WhatWouldNotShrinkOrIsNoGroupIsLeftPlain) {
  std::mt19937 random(7);
  std::string noise(4000, '\0');
  for (char& c : noise) c = static_cast<char>(random());
  std::string frames;
  AppendFrame(noise.substr(0, 2000), &frames);
  AppendFrame(noise.substr(2000), &frames);
  RecordGroupDeflater deflater;
  std::string body;
  EXPECT_FALSE(deflater.Deflate(frames, 2, &body));
  EXPECT_FALSE(deflater.Deflate(SimilarFrames(1), 1, &body));
  EXPECT_FALSE(
      deflater.Deflate(std::string(kMaxRecordGroupBytes + 1, 'x'), 2, &body));
}

TEST(RecordGroupTest, ADamagedGroupIsRefusedNamingWhatIsWrong) {
  const std::string frames = SimilarFrames(4);
  const uint32_t size = static_cast<uint32_t>(frames.size());
  struct Case {
    std::string body;
    std::string names;
  };
  std::string extra = frames;
  AppendFrame("one more", &extra);
  std::string damaged_inner = frames;
  damaged_inner[kFrameHeaderBytes + 3] ^= 0x20;  // the first record's body
  std::string nested = frames;
  AppendGroupFrame("a group inside a group", &nested);
  const Case cases[] = {
      {"short", "shorter than its header"},
      {BodyClaiming(frames, 4, 1, size), "claims 1 records"},
      {BodyClaiming(frames, 4, 4, kMaxRecordGroupBytes + 1), "over the"},
      {BodyClaiming(frames, 4, size, size), "records in"},
      {BodyClaiming(frames, 4, 4, size + 1), "inflates to"},
      {BodyClaiming(frames, 4, 4, size - 1), "does not inflate"},
      {BodyClaiming(frames, 4, 4, size).substr(0, 8) + "not deflate data",
       "does not inflate"},
      {BodyClaiming(damaged_inner, 4, 4, size),
       "record 1 of 4 is not an intact plain frame"},
      {BodyClaiming(extra, 5, 4, static_cast<uint32_t>(extra.size())),
       "bytes after its 4 records"},
      {BodyClaiming(nested, 5, 5, static_cast<uint32_t>(nested.size())),
       "record 5 of 5 is not an intact plain frame"},
  };
  for (const Case& c : cases) {
    std::string back;
    absl::StatusOr<int> count = InflateRecordGroup(c.body, &back);
    ASSERT_FALSE(count.ok()) << c.names;
    EXPECT_EQ(count.status().code(), absl::StatusCode::kDataLoss) << c.names;
    EXPECT_NE(count.status().message().find(c.names), std::string::npos)
        << count.status().message();
  }
}

TEST(RecordGroupTest, NoCutOrFlippedBitInflatesToOtherRecords) {
  const std::string frames = SimilarFrames(6);
  RecordGroupDeflater deflater;
  std::string body;
  ASSERT_TRUE(deflater.Deflate(frames, 6, &body));
  std::string back;
  for (size_t size = 0; size < body.size(); ++size) {
    EXPECT_FALSE(InflateRecordGroup(body.substr(0, size), &back).ok()) << size;
  }
  for (size_t byte = 0; byte < body.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = body;
      damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
      absl::StatusOr<int> count = InflateRecordGroup(damaged, &back);
      // Refused, or (a bit deflate never reads) the very same records.
      if (count.ok()) {
        EXPECT_EQ(back, frames) << byte << ":" << bit;
        EXPECT_EQ(*count, 6) << byte << ":" << bit;
      }
    }
  }
}

}  // namespace
}  // namespace journal
