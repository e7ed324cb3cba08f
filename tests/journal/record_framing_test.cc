#include "journal/record_framing.h"

#include <string>

#include "gtest/gtest.h"

namespace journal {
namespace {

TEST(RecordFramingTest, Crc32cIsTheCastagnoliChecksum) {
  // The standard check value of CRC-32C (iSCSI, RFC 3720).
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(RecordFramingTest, FramesReadBackInOrder) {
  std::string bytes;
  AppendFrame("first", &bytes);
  AppendFrame("", &bytes);
  AppendFrame(std::string(1000, 'x'), &bytes);
  size_t offset = 0;
  for (const std::string& expected : {std::string("first"), std::string(),
                                     std::string(1000, 'x')}) {
    const FrameAt at = ReadFrame(bytes, offset);
    ASSERT_EQ(at.kind, FrameAt::Kind::kRecord) << offset;
    EXPECT_EQ(at.body, expected);
    offset += at.size;
  }
  EXPECT_EQ(ReadFrame(bytes, offset).kind, FrameAt::Kind::kEnd);
}

TEST(RecordFramingTest, EveryCutIsTruncatedAndEveryFlippedBitDamaged) {
  std::string bytes;
  AppendFrame("a record body", &bytes);
  for (size_t size = 1; size < bytes.size(); ++size) {
    EXPECT_EQ(ReadFrame(bytes.substr(0, size), 0).kind,
              FrameAt::Kind::kTruncated)
        << size;
  }
  for (size_t byte = 0; byte < bytes.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = bytes;
      damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
      const FrameAt at = ReadFrame(damaged, 0);
      // A flipped length bit makes the frame longer than the bytes
      // (truncated) or shorter (damaged): never a record.
      EXPECT_NE(at.kind, FrameAt::Kind::kRecord) << byte << ":" << bit;
    }
  }
}

TEST(RecordFramingTest, ZerosAreUnwrittenSpaceNeverAFrame) {
  // Even an empty body's frame header is not zero: its checksum covers the
  // length.
  std::string empty;
  AppendFrame("", &empty);
  ASSERT_EQ(empty.size(), kFrameHeaderBytes);
  EXPECT_NE(empty, std::string(kFrameHeaderBytes, '\0'));
  for (size_t zeros : {1, 7, 8, 100}) {
    const std::string bytes = "x" + std::string(zeros, '\0');
    EXPECT_EQ(ReadFrame(bytes, 1).kind, FrameAt::Kind::kUnwritten) << zeros;
  }
  // Not zeros throughout the header: a frame, whole or not.
  std::string almost(kFrameHeaderBytes, '\0');
  almost[7] = 1;
  EXPECT_EQ(ReadFrame(almost, 0).kind, FrameAt::Kind::kDamaged);
  EXPECT_EQ(ReadFrame(std::string(3, '\0') + "\x01", 0).kind,
            FrameAt::Kind::kTruncated);
}

TEST(RecordFramingTest, AnAbsurdLengthIsDamageNotAnAllocation) {
  std::string bytes(8, '\xff');
  bytes += "whatever follows";
  const FrameAt at = ReadFrame(bytes, 0);
  EXPECT_EQ(at.kind, FrameAt::Kind::kDamaged);
  EXPECT_EQ(at.size, bytes.size());
}

TEST(RecordFramingTest, AGroupFrameIsToldApartAndCheckedLikeAnyOther) {
  std::string bytes;
  AppendFrame("plain", &bytes);
  AppendGroupFrame("a group's body", &bytes);
  FrameAt at = ReadFrame(bytes, 0);
  ASSERT_EQ(at.kind, FrameAt::Kind::kRecord);
  at = ReadFrame(bytes, at.size);
  ASSERT_EQ(at.kind, FrameAt::Kind::kGroup);
  EXPECT_EQ(at.body, "a group's body");
  // The flag is in the length the checksum covers: clearing it is damage,
  // not a plain record.
  const size_t group_at = kFrameHeaderBytes + 5;
  std::string cleared = bytes;
  cleared[group_at + 3] = static_cast<char>(cleared[group_at + 3] & 0x7f);
  EXPECT_EQ(ReadFrame(cleared, group_at).kind, FrameAt::Kind::kDamaged);
  std::string flipped = bytes;
  flipped[bytes.size() - 1] ^= 0x01;
  EXPECT_EQ(ReadFrame(flipped, group_at).kind, FrameAt::Kind::kDamaged);
  EXPECT_EQ(ReadFrame(bytes.substr(0, bytes.size() - 1), group_at).kind,
            FrameAt::Kind::kTruncated);
}

TEST(RecordFramingTest, SegmentHeaderRoundTrips) {
  const std::string header = SegmentHeader(1234567890123ull);
  ASSERT_EQ(header.size(), kSegmentHeaderBytes);
  EXPECT_EQ(ParseSegmentHeader(header), 1234567890123ull);
  EXPECT_FALSE(ParseSegmentHeader(header.substr(0, 15)).has_value());
  std::string wrong = header;
  wrong[0] = 'X';
  EXPECT_FALSE(ParseSegmentHeader(wrong).has_value());
  // Segments written before group frames existed still read.
  EXPECT_EQ(header.substr(0, 8), "RTJRNL02");
  std::string plain = header;
  plain.replace(0, 8, "RTJRNL01");
  EXPECT_EQ(ParseSegmentHeader(plain), 1234567890123ull);
  std::string unknown = header;
  unknown.replace(0, 8, "RTJRNL03");
  EXPECT_FALSE(ParseSegmentHeader(unknown).has_value());
}

}  // namespace
}  // namespace journal
