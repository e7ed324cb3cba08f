// The journal on a disk that fills up: a small tmpfs this test mounts (and
// unmounts). The record whose write fails is kept and reported not durable
// (ResourceExhausted naming the file), later appends are refused, nothing
// partial is left behind, and appends go on once space is freed, after the
// kept record.
// Without the right to mount (not root), the test is skipped: the same
// paths are covered by journal_writer_test's injected failures.
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "journal/journal_writer.h"
#include "journal/record_framing.h"
#include "journal/segment_sink.h"
#include "tests/journal/journal_test_support.h"

namespace journal {
namespace {

using ::testing::HasSubstr;

class JournalDiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mount_point_ = ScratchDirectory("small-disk");
    std::filesystem::create_directories(mount_point_);
    if (::mount("tmpfs", mount_point_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                "size=256k") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs at " << mount_point_ << ": "
                   << std::strerror(errno);
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount2(mount_point_.c_str(), MNT_DETACH);
  }
  std::string mount_point_;
  bool mounted_ = false;
};

TEST_F(JournalDiskFullTest, RefusesWhenFullAndResumesWhenSpaceIsFreed) {
  // Room to free later.
  const std::string filler = mount_point_ + "/filler";
  std::ofstream(filler, std::ios::binary) << std::string(64 << 10, 'f');
  const std::string dir = mount_point_ + "/journal";
  auto writer = *JournalWriter::Create(*SegmentSink::Open(dir, 1 << 20), 1,
                                       {});
  const std::string body(1000, 'r');
  uint64_t accepted = 0;
  uint64_t kept = 0;
  absl::Status failed;
  for (int i = 0; i < 1000; ++i) {
    auto seq = writer->Append(body);
    ASSERT_TRUE(seq.ok()) << "refused before any write failed: "
                          << seq.status();
    failed = writer->WaitDurable(*seq);
    if (!failed.ok()) {
      kept = *seq;
      break;
    }
    accepted = *seq;
  }
  ASSERT_FALSE(failed.ok()) << "256 KiB never filled up";
  // The record whose write failed: its outcome is unknown to its caller.
  EXPECT_EQ(failed.code(), absl::StatusCode::kResourceExhausted) << failed;
  EXPECT_THAT(failed.message(), HasSubstr(dir + "/journal-"));
  EXPECT_THAT(failed.message(), HasSubstr("No space left on device"));
  EXPECT_GT(accepted, 100u);
  // Still full: refused, numbering nothing.
  auto refused = writer->Append(body);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(), HasSubstr("No space left on device"));
  EXPECT_EQ(writer->Stats().appended, kept);
  EXPECT_EQ(writer->Stats().records_kept, 1u);

  std::filesystem::remove(filler);
  // The kept record is written first, then the next one.
  auto resumed = writer->Append("after the disk came back");
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(*resumed, kept + 1);
  EXPECT_TRUE(writer->WaitDurable(*resumed).ok());
  writer.reset();

  const ReadBack back = ReadAll(dir);
  ASSERT_TRUE(back.status.ok()) << back.status;
  EXPECT_TRUE(back.report.warnings.empty()) << back.report.warnings[0];
  ASSERT_EQ(back.records.size(), kept + 1);
  EXPECT_EQ(back.records[kept - 1].second, body);
  EXPECT_EQ(back.records.back().second, "after the disk came back");
}

// Retired segments are kept for reuse only while the kept files hold no
// more than the file system has free besides: on a nearly full disk they
// are deleted, and their space is free again.
TEST_F(JournalDiskFullTest, RetiredSegmentsAreDeletedNotKeptOnANearlyFullDisk) {
  const std::string dir = mount_point_ + "/journal";
  constexpr int64_t kSegment = 32 << 10;
  {
    auto sink = *SegmentSink::Open(dir, kSegment, SegmentSpace::kGrowOnWrite);
    std::string frame;
    AppendFrame(std::string(4000, 'r'), &frame);
    uint64_t sequence = 1;
    while (ListSegments(dir)->size() < 5) {
      ASSERT_TRUE(sink->Append(sequence, 1, frame).ok()) << sequence;
      ++sequence;
    }
    ASSERT_TRUE(sink->Sync().ok());
  }
  const std::vector<SegmentFileName> segments = *ListSegments(dir);
  // Of 256 KiB, about 170 KiB hold segments; fill all but about 40 KiB.
  const std::filesystem::space_info before =
      std::filesystem::space(mount_point_);
  ASSERT_GT(before.available, uintmax_t{40 << 10});
  std::ofstream(mount_point_ + "/filler", std::ios::binary)
      << std::string(before.available - (40 << 10), 'f');
  // Four retired: one (32 KiB and change, under 40 KiB free) is kept, the
  // three others deleted although the limit would keep them all.
  ASSERT_TRUE(RemoveSegmentsBefore(dir, segments[4].first_sequence,
                                   /*keep_for_reuse=*/8)
                  .ok());
  EXPECT_THAT(*ListReusableSegments(dir),
              testing::ElementsAre(
                  ReusableSegmentPath(dir, segments[0].first_sequence)));
  EXPECT_EQ(ListSegments(dir)->size(), 1u);
  EXPECT_GT(std::filesystem::space(mount_point_).available,
            uintmax_t{100 << 10});
}

}  // namespace
}  // namespace journal
