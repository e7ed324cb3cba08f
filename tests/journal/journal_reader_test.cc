#include "journal/journal_reader.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "journal/journal_writer.h"
#include "journal/record_framing.h"
#include "journal/record_group.h"
#include "journal/segment_sink.h"
#include "tests/journal/journal_test_support.h"

namespace journal {
namespace {

using ::testing::HasSubstr;

// Every record body is this long, so offsets are easy to compute.
constexpr size_t kBodyBytes = 73;
constexpr size_t kRecordBytes = kFrameHeaderBytes + kBodyBytes;

std::string Body(uint64_t n) {
  return absl::StrFormat("record %06d", n) + std::string(60, '-');
}

// Writes `count` records (Body(first)..) to `dir`, in segments of
// segment_bytes. One write per record (a segment turns over between
// writes, never inside a group), without syncing.
void WriteRecords(const std::string& dir, int count,
                  int64_t segment_bytes = 64 << 20, uint64_t first = 1) {
  JournalWriterOptions options;
  options.fsync = FsyncMode::kNone;
  // Files just as long as their records: tests add zeros where they mean
  // them (segment_sink_test covers the zero-filled segments).
  auto writer = *JournalWriter::Create(
      *SegmentSink::Open(dir, segment_bytes, SegmentSpace::kGrowOnWrite),
      first, options);
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<uint64_t> sequence = writer->Append(Body(first + i));
    ASSERT_TRUE(sequence.ok()) << sequence.status();
    ASSERT_TRUE(writer->WaitDurable(*sequence).ok());
  }
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TEST(JournalReaderTest, ATornTailIsCutAtEveryPossibleByte) {
  const std::string dir = ScratchDirectory("torn-source");
  WriteRecords(dir, 3);
  const std::string path = ListSegments(dir)->back().path;
  const std::string whole = Slurp(path);
  const size_t last_record = whole.size() - kRecordBytes;
  for (size_t cut = last_record + 1; cut < whole.size(); ++cut) {
    const std::string torn = ScratchDirectory("torn");
    std::filesystem::create_directories(torn);
    const std::string torn_path =
        absl::StrCat(torn, path.substr(path.rfind('/')));
    Spit(torn_path, whole.substr(0, cut));
    JournalReadOptions options;
    options.repair = true;
    const ReadBack back = ReadAll(torn, options);
    ASSERT_TRUE(back.status.ok()) << cut << ": " << back.status;
    EXPECT_EQ(back.records.size(), 2u) << cut;
    EXPECT_EQ(back.report.next_sequence, 3u);
    ASSERT_EQ(back.report.warnings.size(), 1u) << cut;
    EXPECT_THAT(back.report.warnings[0],
                HasSubstr(absl::StrCat("at offset ", last_record)));
    // Repaired: the file ends at the last whole record, and a writer can
    // go on from there.
    EXPECT_EQ(std::filesystem::file_size(torn_path), last_record);
    WriteRecords(torn, 1, 64 << 20, back.report.next_sequence);
    const ReadBack again = ReadAll(torn);
    EXPECT_TRUE(again.report.warnings.empty());
    EXPECT_EQ(again.records.size(), 3u);
  }
}

TEST(JournalReaderTest, ATornTailInZeroFilledSpaceIsCutAtEveryPossibleByte) {
  // A zero-filled segment (segment_spare.h): the bytes of the record being
  // written when the writer died, then zeros.
  const std::string dir = ScratchDirectory("torn-zeros-source");
  WriteRecords(dir, 3);
  const std::string path = ListSegments(dir)->back().path;
  const std::string whole = Slurp(path);
  const size_t last_record = whole.size() - kRecordBytes;
  for (size_t cut = last_record + 1; cut < whole.size(); ++cut) {
    const std::string torn = ScratchDirectory("torn-zeros");
    std::filesystem::create_directories(torn);
    const std::string torn_path =
        absl::StrCat(torn, path.substr(path.rfind('/')));
    Spit(torn_path, whole.substr(0, cut) + std::string(4096, '\0'));
    JournalReadOptions options;
    options.repair = true;
    const ReadBack back = ReadAll(torn, options);
    ASSERT_TRUE(back.status.ok()) << cut << ": " << back.status;
    EXPECT_EQ(back.records.size(), 2u) << cut;
    ASSERT_EQ(back.report.warnings.size(), 1u) << cut;
    EXPECT_THAT(back.report.warnings[0],
                HasSubstr(absl::StrCat("torn record at the end of the "
                                       "journal cut off: ",
                                       torn_path, " at offset ",
                                       last_record)));
    EXPECT_EQ(std::filesystem::file_size(torn_path), last_record);
  }
}

TEST(JournalReaderTest, ZerosAfterTheLastRecordAreUnwrittenSpace) {
  // A zero-filled segment still being written, or left so by a crash:
  // every segment, not only the last, may end so, without a warning.
  const std::string dir = ScratchDirectory("zeros");
  WriteRecords(dir, 5, /*segment_bytes=*/4096);
  WriteRecords(dir, 3, 4096, /*first=*/6);  // a restart: a new segment
  auto segments = *ListSegments(dir);
  ASSERT_EQ(segments.size(), 2u);
  // Zeros of every length, including fewer than a frame header.
  for (size_t zeros : {1, 7, 8, 9, 512, 40000}) {
    for (const SegmentFileName& segment : segments) {
      const std::string bytes = Slurp(segment.path);
      Spit(segment.path, bytes + std::string(zeros, '\0'));
      const ReadBack back = ReadAll(dir);
      ASSERT_TRUE(back.status.ok()) << zeros << ": " << back.status;
      EXPECT_EQ(back.records.size(), 8u) << zeros;
      EXPECT_EQ(back.report.next_sequence, 9u);
      EXPECT_TRUE(back.report.warnings.empty())
          << zeros << ": " << back.report.warnings[0];
      Spit(segment.path, bytes);
    }
  }
}

// Records 1..count of one segment in `bytes` (kRecordBytes each, after the
// header): the offset of record n.
size_t OffsetOfRecord(uint64_t n) {
  return kSegmentHeaderBytes + (n - 1) * kRecordBytes;
}

TEST(JournalReaderTest, AnUnwrittenSectorInTheLastSegmentIsATornTail) {
  // A power loss while a zero-filled segment was being written back: a
  // later page reached the disk, an earlier sector did not. None of the
  // records from the torn one on had been synced.
  const std::string dir = ScratchDirectory("hole");
  WriteRecords(dir, 40);
  const std::string path = ListSegments(dir)->back().path;
  std::string bytes = Slurp(path) + std::string(4096, '\0');
  // Sector [1024, 1536) lost: record 13 (offset 988) is the first it hits.
  const uint64_t torn = (1024 - kSegmentHeaderBytes) / kRecordBytes + 1;
  ASSERT_EQ(torn, 13u);
  std::fill(bytes.begin() + 1024, bytes.begin() + 1536, '\0');
  Spit(path, bytes);

  JournalReadOptions options;
  options.repair = true;
  const ReadBack back = ReadAll(dir, options);
  ASSERT_TRUE(back.status.ok()) << back.status;
  EXPECT_EQ(back.records.size(), torn - 1);
  EXPECT_EQ(back.report.next_sequence, torn);
  ASSERT_EQ(back.report.warnings.size(), 1u);
  EXPECT_THAT(back.report.warnings[0],
              HasSubstr(absl::StrCat("torn record at the end of the journal "
                                     "cut off: ",
                                     path, " at offset ",
                                     OffsetOfRecord(torn))));
  EXPECT_EQ(std::filesystem::file_size(path), OffsetOfRecord(torn));
}

TEST(JournalReaderTest, GarbageOrZerosBeforeLaterRecordsAreRefusedEvenLast) {
  // Not what a torn write leaves: a flipped bit, or a frame header zeroed
  // in a sector that still holds data, with whole records after it.
  const std::string dir = ScratchDirectory("garbage");
  WriteRecords(dir, 40);
  const std::string path = ListSegments(dir)->back().path;
  const std::string good = Slurp(path);
  const size_t offset = OffsetOfRecord(20);
  std::string flipped = good;
  flipped[offset + kFrameHeaderBytes + 3] ^= 0x01;
  std::string zeroed = good;
  std::fill(zeroed.begin() + offset,
            zeroed.begin() + offset + kFrameHeaderBytes, '\0');
  for (const auto& [bytes, what] :
       {std::pair{flipped, "checksum mismatch"},
        std::pair{zeroed, "zeros where a record should start"}}) {
    Spit(path, bytes + std::string(4096, '\0'));
    const ReadBack refused = ReadAll(dir);
    EXPECT_EQ(refused.status.code(), absl::StatusCode::kDataLoss) << what;
    EXPECT_THAT(refused.status.message(),
                HasSubstr(absl::StrCat(path, " at offset ", offset, ": ",
                                       what)));
  }
}

TEST(JournalReaderTest, DamageInTheMiddleIsRefusedNamingSegmentAndOffset) {
  const std::string dir = ScratchDirectory("damage");
  WriteRecords(dir, 200, /*segment_bytes=*/4096);
  auto segments = *ListSegments(dir);
  ASSERT_GE(segments.size(), 3u);
  // One flipped bit in the body of the second segment's third record.
  const std::string path = segments[1].path;
  std::string bytes = Slurp(path);
  const size_t offset = kSegmentHeaderBytes + 2 * kRecordBytes;
  bytes[offset + kFrameHeaderBytes + 5] ^= 0x10;
  Spit(path, bytes);

  const ReadBack refused = ReadAll(dir);
  EXPECT_EQ(refused.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(refused.status.message(),
              HasSubstr(absl::StrCat(path, " at offset ", offset)));
  EXPECT_THAT(refused.status.message(), HasSubstr("checksum mismatch"));
  EXPECT_THAT(refused.status.message(), HasSubstr("--journal_recover=truncate"));
  // Refusing changed nothing.
  EXPECT_EQ(Slurp(path), bytes);
  EXPECT_EQ(ListSegments(dir)->size(), segments.size());

  JournalReadOptions truncate;
  truncate.recovery = DamageRecovery::kTruncate;
  truncate.repair = true;
  const ReadBack cut = ReadAll(dir, truncate);
  ASSERT_TRUE(cut.status.ok()) << cut.status;
  EXPECT_EQ(cut.records.size(), segments[1].first_sequence - 1 + 2);
  ASSERT_EQ(cut.report.warnings.size(), 1u);
  EXPECT_THAT(cut.report.warnings[0], HasSubstr("moved to damaged/"));
  EXPECT_EQ(ListSegments(dir)->size(), 2u);
  EXPECT_TRUE(std::filesystem::exists(
      absl::StrCat(dir, "/damaged", segments[2].path.substr(
                                         segments[2].path.rfind('/')))));
  // What is left reads cleanly.
  const ReadBack after = ReadAll(dir);
  ASSERT_TRUE(after.status.ok()) << after.status;
  EXPECT_TRUE(after.report.warnings.empty());
  EXPECT_EQ(after.records.size(), cut.records.size());
}

// A segment holding record 1 plain, records 2..11 in one group frame and
// record 12 plain; *group_at is the group frame's offset.
std::string SegmentWithAGroup(size_t* group_at) {
  std::string bytes = SegmentHeader(1);
  AppendFrame(Body(1), &bytes);
  *group_at = bytes.size();
  std::string frames;
  for (uint64_t n = 2; n <= 11; ++n) AppendFrame(Body(n), &frames);
  RecordGroupDeflater deflater;
  std::string group;
  EXPECT_TRUE(deflater.Deflate(frames, 10, &group));
  AppendGroupFrame(group, &bytes);
  AppendFrame(Body(12), &bytes);
  return bytes;
}

std::string FirstSegmentPath(const std::string& dir) {
  std::filesystem::create_directories(dir);
  return absl::StrCat(dir, "/journal-00000000000000000001.seg");
}

TEST(JournalReaderTest, AGroupFramesRecordsReadOneByOneInOrder) {
  const std::string dir = ScratchDirectory("group");
  size_t group_at = 0;
  Spit(FirstSegmentPath(dir), SegmentWithAGroup(&group_at));
  const ReadBack back = ReadAll(dir);
  ASSERT_TRUE(back.status.ok()) << back.status;
  ASSERT_EQ(back.records.size(), 12u);
  for (uint64_t n = 1; n <= 12; ++n) {
    EXPECT_EQ(back.records[n - 1].first, n);
    EXPECT_EQ(back.records[n - 1].second, Body(n));
  }
  EXPECT_EQ(back.report.next_sequence, 13u);
  // From a record inside the group (as after a snapshot).
  JournalReadOptions from;
  from.from_sequence = 7;
  const ReadBack later = ReadAll(dir, from);
  ASSERT_TRUE(later.status.ok()) << later.status;
  ASSERT_EQ(later.records.size(), 6u);
  EXPECT_EQ(later.records.front().first, 7u);
  EXPECT_EQ(later.records.front().second, Body(7));
}

TEST(JournalReaderTest, AGroupCutShortAtTheTailGoesWhole) {
  const std::string dir = ScratchDirectory("group-torn");
  size_t group_at = 0;
  std::string bytes = SegmentWithAGroup(&group_at);
  bytes.resize(bytes.size() - kRecordBytes - 5);  // inside the group
  const std::string path = FirstSegmentPath(dir);
  Spit(path, bytes + std::string(4096, '\0'));
  JournalReadOptions options;
  options.repair = true;
  const ReadBack back = ReadAll(dir, options);
  ASSERT_TRUE(back.status.ok()) << back.status;
  EXPECT_EQ(back.records.size(), 1u);
  EXPECT_EQ(back.report.next_sequence, 2u);
  ASSERT_EQ(back.report.warnings.size(), 1u);
  EXPECT_THAT(back.report.warnings[0],
              HasSubstr(absl::StrCat("at offset ", group_at)));
  EXPECT_EQ(std::filesystem::file_size(path), group_at);
}

TEST(JournalReaderTest, AGroupThatDoesNotInflateIsDamageNamingItsOffset) {
  // Its checksum holds (as if written so by a bug, or a collision), yet
  // its records cannot be had: refused like a failed checksum.
  const std::string dir = ScratchDirectory("group-damaged");
  size_t group_at = 0;
  const std::string whole = SegmentWithAGroup(&group_at);
  const FrameAt group = ReadFrame(whole, group_at);
  ASSERT_EQ(group.kind, FrameAt::Kind::kGroup);
  std::string body(group.body);
  body[body.size() / 2] ^= 0x55;
  std::string bytes = whole.substr(0, group_at);
  AppendGroupFrame(body, &bytes);
  bytes += whole.substr(group_at + group.size);
  const std::string path = FirstSegmentPath(dir);
  Spit(path, bytes);

  const ReadBack refused = ReadAll(dir);
  EXPECT_EQ(refused.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(refused.status.message(),
              HasSubstr(absl::StrCat(path, " at offset ", group_at)));
  EXPECT_THAT(refused.status.message(), HasSubstr("group of records"));
  EXPECT_THAT(refused.status.message(), HasSubstr("(record 2)"));
  EXPECT_EQ(Slurp(path), bytes);

  JournalReadOptions truncate;
  truncate.recovery = DamageRecovery::kTruncate;
  truncate.repair = true;
  const ReadBack cut = ReadAll(dir, truncate);
  ASSERT_TRUE(cut.status.ok()) << cut.status;
  EXPECT_EQ(cut.records.size(), 1u);
  EXPECT_EQ(std::filesystem::file_size(path), group_at);
}

TEST(JournalReaderTest, SegmentsWrittenBeforeGroupFramesStillRead) {
  const std::string dir = ScratchDirectory("plain-segment");
  std::string bytes = SegmentHeader(1);
  bytes.replace(0, 8, "RTJRNL01");
  for (uint64_t n = 1; n <= 3; ++n) AppendFrame(Body(n), &bytes);
  Spit(FirstSegmentPath(dir), bytes);
  const ReadBack back = ReadAll(dir);
  ASSERT_TRUE(back.status.ok()) << back.status;
  ASSERT_EQ(back.records.size(), 3u);
  EXPECT_EQ(back.records[2].second, Body(3));
}

// Appends `count` records in one group (a long batch window), waits for
// the last, and returns the segment's size.
int64_t WriteOneGroup(const std::string& dir, int count, bool group_frames) {
  JournalWriterOptions options;
  options.fsync = FsyncMode::kBatch;
  options.batch_interval = absl::Seconds(1);
  options.batch_max_records = count;
  options.group_frames = group_frames;
  auto writer = *JournalWriter::Create(
      *SegmentSink::Open(dir, 64 << 20, SegmentSpace::kGrowOnWrite), 1,
      options);
  uint64_t last = 0;
  for (int i = 1; i <= count; ++i) last = *writer->Append(Body(i));
  EXPECT_TRUE(writer->WaitDurable(last).ok());
  EXPECT_EQ(writer->Stats().writes, 1u);
  writer.reset();
  return static_cast<int64_t>(
      std::filesystem::file_size(ListSegments(dir)->front().path));
}

TEST(JournalReaderTest, AWritersGroupGoesOutAsOneGroupFrameAndReadsBack) {
  const std::string grouped = ScratchDirectory("writer-group");
  const std::string plain = ScratchDirectory("writer-plain");
  const int64_t grouped_bytes = WriteOneGroup(grouped, 40, true);
  const int64_t plain_bytes = WriteOneGroup(plain, 40, false);
  EXPECT_EQ(plain_bytes,
            static_cast<int64_t>(kSegmentHeaderBytes + 40 * kRecordBytes));
  EXPECT_LT(grouped_bytes * 4, plain_bytes);
  for (const std::string& dir : {grouped, plain}) {
    const ReadBack back = ReadAll(dir);
    ASSERT_TRUE(back.status.ok()) << back.status;
    ASSERT_EQ(back.records.size(), 40u) << dir;
    for (uint64_t n = 1; n <= 40; ++n) {
      EXPECT_EQ(back.records[n - 1].first, n);
      EXPECT_EQ(back.records[n - 1].second, Body(n));
    }
  }
}

TEST(JournalReaderTest, ALastSegmentsBadHeaderIsRefusedNotCutToNothing) {
  // A segment of a later format version, another file, a flipped bit in
  // the header: not what a crash leaves. Refused naming the file; with
  // truncate, the segment moves whole to damaged/ and the journal ends
  // before it. Never a "torn tail" that deletes its bytes.
  const std::string dir = ScratchDirectory("bad-header");
  WriteRecords(dir, 200, /*segment_bytes=*/4096);
  const auto segments = *ListSegments(dir);
  ASSERT_GE(segments.size(), 3u);
  const SegmentFileName last = segments.back();
  const std::string good = Slurp(last.path);
  std::string later_version = good;
  later_version[7] = '3';  // RTJRNL03
  std::string flipped = good;
  flipped[kSegmentHeaderBytes - 1] ^= 0x04;
  std::string other_file(good.size(), 'x');
  for (const auto& [bytes, what] :
       {std::pair{later_version, "not a journal segment header"},
        std::pair{flipped, "header names record"},
        std::pair{other_file, "not a journal segment header"}}) {
    Spit(last.path, bytes);
    const ReadBack refused = ReadAll(dir);
    EXPECT_EQ(refused.status.code(), absl::StatusCode::kDataLoss) << what;
    EXPECT_THAT(refused.status.message(),
                HasSubstr(absl::StrCat(last.path, " at offset 0: ", what)));
    EXPECT_EQ(Slurp(last.path), bytes) << "refused, and left as it was";
  }

  JournalReadOptions truncate;
  truncate.recovery = DamageRecovery::kTruncate;
  truncate.repair = true;
  const ReadBack cut = ReadAll(dir, truncate);
  ASSERT_TRUE(cut.status.ok()) << cut.status;
  EXPECT_EQ(cut.report.next_sequence, last.first_sequence);
  ASSERT_EQ(cut.records.size(), last.first_sequence - 1);
  ASSERT_EQ(cut.report.warnings.size(), 1u);
  EXPECT_THAT(cut.report.warnings[0], HasSubstr("moved to damaged/"));
  EXPECT_FALSE(std::filesystem::exists(last.path));
  const std::string aside =
      dir + "/damaged" + last.path.substr(last.path.rfind('/'));
  EXPECT_EQ(Slurp(aside), other_file) << "kept whole for a post-mortem";
  EXPECT_TRUE(ReadAll(dir).status.ok());
}

TEST(JournalReaderTest, ALastSegmentWhoseHeaderNeverReachedTheDiskGoes) {
  // A spare renamed into place just before a power loss, its header not on
  // the disk yet: zeros there, and whatever unsynced records reached it.
  const std::string dir = ScratchDirectory("zero-header");
  WriteRecords(dir, 200, /*segment_bytes=*/4096);
  const auto segments = *ListSegments(dir);
  const SegmentFileName last = segments.back();
  std::string bytes = Slurp(last.path);
  std::fill(bytes.begin(), bytes.begin() + kSegmentHeaderBytes, '\0');
  Spit(last.path, bytes);
  JournalReadOptions options;
  options.repair = true;
  const ReadBack back = ReadAll(dir, options);
  ASSERT_TRUE(back.status.ok()) << back.status;
  EXPECT_EQ(back.report.next_sequence, last.first_sequence);
  ASSERT_EQ(back.report.warnings.size(), 1u);
  EXPECT_THAT(back.report.warnings[0],
              HasSubstr("header never reached the disk"));
  EXPECT_FALSE(std::filesystem::exists(last.path));

  // The same header of zeros in an earlier segment is damage.
  const ReadBack middle = [&] {
    std::string earlier = Slurp(segments[0].path);
    std::fill(earlier.begin(), earlier.begin() + kSegmentHeaderBytes, '\0');
    Spit(segments[0].path, earlier);
    return ReadAll(dir);
  }();
  EXPECT_EQ(middle.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(middle.status.message(),
              HasSubstr(absl::StrCat(segments[0].path, " at offset 0")));
}

TEST(JournalReaderTest, AMissingSegmentIsAGap) {
  const std::string dir = ScratchDirectory("gap");
  WriteRecords(dir, 200, /*segment_bytes=*/4096);
  auto segments = *ListSegments(dir);
  ASSERT_GE(segments.size(), 3u);
  std::filesystem::remove(segments[1].path);
  const ReadBack back = ReadAll(dir);
  EXPECT_EQ(back.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(back.status.message(),
              HasSubstr(absl::StrCat("segment starts at record ",
                                     segments[2].first_sequence)));
}

TEST(JournalReaderTest, SnapshotsLetOldSegmentsGo) {
  const std::string dir = ScratchDirectory("snapshot");
  WriteRecords(dir, 200, /*segment_bytes=*/4096);
  auto segments = *ListSegments(dir);
  const uint64_t keep_from = segments[2].first_sequence + 1;
  ASSERT_TRUE(RemoveSegmentsBefore(dir, keep_from).ok());
  auto left = *ListSegments(dir);
  ASSERT_EQ(left.size(), segments.size() - 2);
  EXPECT_EQ(left.front().first_sequence, segments[2].first_sequence);

  JournalReadOptions options;
  options.from_sequence = keep_from;
  const ReadBack back = ReadAll(dir, options);
  ASSERT_TRUE(back.status.ok()) << back.status;
  EXPECT_EQ(back.records.front().first, keep_from);
  EXPECT_EQ(back.records.back().first, 200u);
  // Without the snapshot, the records before are missing: refused.
  EXPECT_EQ(ReadAll(dir).status.code(), absl::StatusCode::kDataLoss);
}

TEST(JournalReaderTest, ANewDirectoryIsEmptyAndAMissingOneNotFound) {
  const std::string dir = ScratchDirectory("empty");
  std::filesystem::create_directories(dir);
  const ReadBack back = ReadAll(dir);
  ASSERT_TRUE(back.status.ok());
  EXPECT_EQ(back.report.next_sequence, 1u);
  EXPECT_EQ(ReadAll(dir + "/nope").status.code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace journal
