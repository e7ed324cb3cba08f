#include "journal/segment_sink.h"

#include <linux/magic.h>
#include <sys/statfs.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "journal/direct_segment_writes.h"
#include "journal/record_framing.h"
#include "tests/journal/journal_test_support.h"

namespace journal {
namespace {

constexpr int64_t kSegmentBytes = 64 << 10;

std::string Frame(uint64_t sequence) {
  std::string frame;
  AppendFrame(absl::StrFormat("record %06d ", sequence) + std::string(200, '.'),
              &frame);
  return frame;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Waits until `counter` (one of the sink's spare counts) reaches `count`.
void AwaitCount(const SegmentSink& sink,
                int64_t (SegmentSink::*counter)() const, int64_t count,
                const char* what) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((sink.*counter)() < count &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_GE((sink.*counter)(), count) << what << " in 20 s";
}

// Waits until the sink has made `count` spares in all.
void AwaitSpares(const SegmentSink& sink, int64_t count) {
  AwaitCount(sink, &SegmentSink::spares_made, count, "no spare made");
}

// Waits until the sink has reused `count` kept segments in all.
void AwaitReused(const SegmentSink& sink, int64_t count) {
  AwaitCount(sink, &SegmentSink::spares_reused, count,
             "no kept segment reused");
}

bool OnTmpfs(const std::string& dir) {
  struct statfs fs;
  return ::statfs(dir.c_str(), &fs) == 0 &&
         static_cast<uint64_t>(fs.f_type) == TMPFS_MAGIC;
}

TEST(SegmentSinkTest, RecordsAreWrittenOverZerosFilledAhead) {
  const std::string dir = ScratchDirectory("zero-filled");
  auto sink = *SegmentSink::Open(dir, kSegmentBytes);
  if (OnTmpfs(dir)) GTEST_SKIP() << dir << " is on tmpfs: no spares there";
  const std::string spare = dir + "/journal-spare.tmp";

  // Each segment starts from a spare made while the last one was written.
  uint64_t sequence = 1;
  for (int segment = 1; segment <= 3; ++segment) {
    AwaitSpares(*sink, segment);
    const uint64_t first = sequence;
    int64_t written = kSegmentHeaderBytes;
    while (written < kSegmentBytes) {
      const std::string frame = Frame(sequence);
      ASSERT_TRUE(sink->Append(sequence, 1, frame).ok());
      written += static_cast<int64_t>(frame.size());
      ++sequence;
      const std::string path = SegmentPath(dir, first);
      // Never grown: the spare's size from the first record on, until a
      // record passes it (with direct writes, to the end of its page).
      const auto exact =
          static_cast<uintmax_t>(std::max(written, kSegmentBytes));
      const uintmax_t size = std::filesystem::file_size(path);
      EXPECT_TRUE(size == exact || size == WholePages(exact))
          << path << " is " << size << " bytes, " << exact << " written";
    }
    ASSERT_TRUE(sink->Sync().ok());
  }
  // One record in a fourth segment: the rest of its file is zeros.
  AwaitSpares(*sink, 4);
  const std::string last = SegmentPath(dir, sequence);
  const std::string tail = Frame(sequence);
  ASSERT_TRUE(sink->Append(sequence, 1, tail).ok());
  ASSERT_TRUE(sink->Sync().ok());
  EXPECT_EQ(std::filesystem::file_size(last),
            static_cast<uintmax_t>(kSegmentBytes));

  // What is on disk while the sink is open (as a crash would leave it)
  // reads back whole, without a warning: the zeros end the segment.
  ReadBack open = ReadAll(dir);
  ASSERT_TRUE(open.status.ok()) << open.status;
  EXPECT_TRUE(open.report.warnings.empty()) << open.report.warnings[0];
  ASSERT_EQ(open.records.size(), sequence);
  EXPECT_EQ(open.records.back().first, sequence);
  EXPECT_EQ(std::string(open.records.back().second),
            tail.substr(kFrameHeaderBytes));
  const std::string crashed = ScratchDirectory("zero-filled-crashed");
  std::filesystem::copy(dir, crashed);

  // Closed: the current segment is cut to its records, no spare is left.
  sink.reset();
  EXPECT_EQ(std::filesystem::file_size(last),
            kSegmentHeaderBytes + tail.size());
  EXPECT_FALSE(std::filesystem::exists(spare));
  ReadBack closed = ReadAll(dir);
  ASSERT_TRUE(closed.status.ok()) << closed.status;
  EXPECT_TRUE(closed.report.warnings.empty()) << closed.report.warnings[0];
  EXPECT_EQ(closed.records.size(), sequence);

  // Restarted after the crash: the writer starts a new segment, and the
  // zeros stay in the one before it, which is no longer the last.
  auto restarted = *SegmentSink::Open(crashed, kSegmentBytes);
  AwaitSpares(*restarted, 1);
  ASSERT_TRUE(restarted->Append(sequence + 1, 1, Frame(sequence + 1)).ok());
  ASSERT_TRUE(restarted->Sync().ok());
  ReadBack after = ReadAll(crashed);
  ASSERT_TRUE(after.status.ok()) << after.status;
  EXPECT_TRUE(after.report.warnings.empty()) << after.report.warnings[0];
  EXPECT_EQ(after.records.size(), sequence + 1);
  EXPECT_EQ(std::filesystem::file_size(SegmentPath(crashed, sequence)),
            static_cast<uintmax_t>(kSegmentBytes));
}

// Through the page cache (--fsync=none), records go over the spare's zeros
// byte for byte: the file keeps the spare's size, then exactly the size of
// what was written once a record passes it.
TEST(SegmentSinkTest, PageCacheWritesOverZerosKeepTheWrittenSize) {
  const std::string dir = ScratchDirectory("zero-filled-page-cache");
  auto sink =
      *SegmentSink::Open(dir, kSegmentBytes, SegmentSpace::kZeroFilledAhead,
                         SegmentWrites::kPageCache);
  if (OnTmpfs(dir)) GTEST_SKIP() << dir << " is on tmpfs: no spares there";
  AwaitSpares(*sink, 1);
  const std::string path = SegmentPath(dir, 1);
  uint64_t sequence = 1;
  int64_t written = kSegmentHeaderBytes;
  while (written < kSegmentBytes + 1000) {
    const std::string frame = Frame(sequence);
    ASSERT_TRUE(sink->Append(sequence, 1, frame).ok());
    written += static_cast<int64_t>(frame.size());
    ++sequence;
    // Cut to the written size by a clean close, never padded to a page.
    if (written > kSegmentBytes) break;
    EXPECT_EQ(std::filesystem::file_size(path),
              static_cast<uintmax_t>(kSegmentBytes));
  }
  ASSERT_TRUE(sink->Sync().ok());
  EXPECT_EQ(std::filesystem::file_size(path), static_cast<uintmax_t>(written));
  ReadBack back = ReadAll(dir);
  ASSERT_TRUE(back.status.ok()) << back.status;
  EXPECT_EQ(back.records.size(), sequence - 1);
}

TEST(SegmentSinkTest, ALeftoverSpareIsReplacedAndNeverReadAsASegment) {
  const std::string dir = ScratchDirectory("leftover-spare");
  std::filesystem::create_directories(dir);
  // A crash in the middle of zero-filling leaves a spare of any content.
  const std::string spare = dir + "/journal-spare.tmp";
  std::ofstream(spare, std::ios::binary) << std::string(5000, 'x');
  ReadBack before = ReadAll(dir);
  ASSERT_TRUE(before.status.ok()) << before.status;
  EXPECT_TRUE(before.records.empty());

  auto sink = *SegmentSink::Open(dir, kSegmentBytes);
  if (OnTmpfs(dir)) GTEST_SKIP() << dir << " is on tmpfs: no spares there";
  AwaitSpares(*sink, 1);
  EXPECT_EQ(Slurp(spare), std::string(kSegmentBytes, '\0'));
  ASSERT_TRUE(sink->Append(1, 1, Frame(1)).ok());
  ASSERT_TRUE(sink->Sync().ok());
  ReadBack after = ReadAll(dir);
  ASSERT_TRUE(after.status.ok()) << after.status;
  EXPECT_EQ(after.records.size(), 1u);
}

// Appends one record at a time until the journal holds `segments` segments;
// returns the next sequence.
uint64_t AppendUntilSegments(SegmentSink& sink, const std::string& dir,
                             uint64_t sequence, size_t segments) {
  while (ListSegments(dir)->size() < segments) {
    EXPECT_TRUE(sink.Append(sequence, 1, Frame(sequence)).ok());
    ++sequence;
  }
  EXPECT_TRUE(sink.Sync().ok());
  return sequence;
}

// Every record read back is the one its sequence names, from `first` on,
// and there are `count` of them: no stale record of a reused file.
void ExpectRecords(const std::string& dir, uint64_t first, uint64_t count) {
  JournalReadOptions options;
  options.from_sequence = first;
  ReadBack back = ReadAll(dir, options);
  ASSERT_TRUE(back.status.ok()) << back.status;
  EXPECT_TRUE(back.report.warnings.empty()) << back.report.warnings[0];
  ASSERT_EQ(back.records.size(), count);
  for (uint64_t i = 0; i < count; ++i) {
    ASSERT_EQ(back.records[i].first, first + i);
    ASSERT_EQ(
        back.records[i].second,
        absl::StrFormat("record %06d ", first + i) + std::string(200, '.'))
        << "record " << first + i;
  }
}

// Retired segments are kept up to the limit (the oldest first) and deleted
// beyond it; readers never see them; the spare's thread zero-fills one for a
// next segment, over which records are written and read back with nothing
// of what the file held before.
TEST(SegmentSinkTest, RetiredSegmentsAreKeptAndReusedWithNothingOfTheirPast) {
  const std::string dir = ScratchDirectory("reused-segments");
  auto sink = *SegmentSink::Open(dir, kSegmentBytes);
  if (OnTmpfs(dir)) GTEST_SKIP() << dir << " is on tmpfs: no spares there";
  uint64_t next = AppendUntilSegments(*sink, dir, 1, 5);
  const std::vector<SegmentFileName> before = *ListSegments(dir);
  const uint64_t cut = before[3].first_sequence;

  ASSERT_TRUE(RemoveSegmentsBefore(dir, cut, /*keep_for_reuse=*/2).ok());
  EXPECT_THAT(
      *ListReusableSegments(dir),
      testing::ElementsAre(ReusableSegmentPath(dir, before[0].first_sequence),
                           ReusableSegmentPath(dir, before[1].first_sequence)));
  EXPECT_FALSE(std::filesystem::exists(before[2].path));
  ASSERT_EQ(ListSegments(dir)->front().first_sequence, cut);
  ExpectRecords(dir, cut, next - cut);

  // Two more segments: the spare ready before the removal is taken, and the
  // next one is a kept file, zero-filled over its old records.
  const int64_t reused_before = sink->spares_reused();
  next = AppendUntilSegments(*sink, dir, next, ListSegments(dir)->size() + 1);
  AwaitReused(*sink, reused_before + 1);
  EXPECT_EQ(ListReusableSegments(dir)->size(), 1u);
  EXPECT_EQ(Slurp(dir + "/journal-spare.tmp"),
            std::string(kSegmentBytes, '\0'));
  next = AppendUntilSegments(*sink, dir, next, ListSegments(dir)->size() + 2);
  ExpectRecords(dir, cut, next - cut);

  // The limit counts the files kept already: one more is kept, the rest go.
  const std::vector<SegmentFileName> now = *ListSegments(dir);
  ASSERT_TRUE(RemoveSegmentsBefore(dir, now.back().first_sequence, 2).ok());
  EXPECT_LE(ListReusableSegments(dir)->size(), 2u);
  EXPECT_EQ(ListSegments(dir)->size(), 1u);
  ExpectRecords(dir, now.back().first_sequence,
                next - now.back().first_sequence);
}

// A kept file of any length and content becomes a spare of exactly a
// segment's zeros.
TEST(SegmentSinkTest, AKeptFileOfAnyLengthBecomesASegmentOfZeros) {
  for (const int64_t length : {kSegmentBytes + 5000, kSegmentBytes / 3}) {
    const std::string dir = ScratchDirectory("kept-file");
    std::filesystem::create_directories(dir);
    const std::string kept = ReusableSegmentPath(dir, 7);
    std::ofstream(kept, std::ios::binary)
        << std::string(static_cast<size_t>(length), 'x');
    auto sink = *SegmentSink::Open(dir, kSegmentBytes);
    if (OnTmpfs(dir)) GTEST_SKIP() << dir << " is on tmpfs: no spares there";
    AwaitSpares(*sink, 1);
    EXPECT_EQ(sink->spares_reused(), 1) << length;
    EXPECT_FALSE(std::filesystem::exists(kept)) << length;
    EXPECT_EQ(Slurp(dir + "/journal-spare.tmp"),
              std::string(kSegmentBytes, '\0'))
        << length;
    ASSERT_TRUE(sink->Append(1, 1, Frame(1)).ok());
    ASSERT_TRUE(sink->Sync().ok());
    ExpectRecords(dir, 1, 1);
  }
}

TEST(SegmentSinkTest, GrowOnWriteSegmentsHoldTheirRecordsOnly) {
  const std::string dir = ScratchDirectory("grow-on-write");
  auto sink =
      *SegmentSink::Open(dir, kSegmentBytes, SegmentSpace::kGrowOnWrite);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const std::string frame = Frame(1);
  ASSERT_TRUE(sink->Append(1, 1, frame).ok());
  ASSERT_TRUE(sink->Sync().ok());
  EXPECT_EQ(std::filesystem::file_size(SegmentPath(dir, 1)),
            kSegmentHeaderBytes + frame.size());
  EXPECT_EQ(sink->spares_made(), 0);
  EXPECT_FALSE(std::filesystem::exists(dir + "/journal-spare.tmp"));
}

TEST(SegmentSinkTest, NoSpareOnTmpfs) {
  // Zero-filling memory flushes nothing and costs a segment of memory.
  const std::string dir = absl::StrCat("/dev/shm/segment-sink-test-", getpid());
  std::filesystem::remove_all(dir);
  if (!OnTmpfs("/dev/shm")) GTEST_SKIP() << "/dev/shm is not tmpfs here";
  {
    absl::StatusOr<std::unique_ptr<SegmentSink>> sink =
        SegmentSink::Open(dir, kSegmentBytes);
    if (!sink.ok()) GTEST_SKIP() << sink.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_EQ((*sink)->spares_made(), 0);
    EXPECT_FALSE(std::filesystem::exists(dir + "/journal-spare.tmp"));
    ASSERT_TRUE((*sink)->Append(1, 1, Frame(1)).ok());
    EXPECT_EQ(std::filesystem::file_size(SegmentPath(dir, 1)),
              kSegmentHeaderBytes + Frame(1).size());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace journal
