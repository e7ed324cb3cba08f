// journal/direct_segment_writes.h: appends of any size through direct I/O
// read back as the bytes given, in order; the partial page rewritten by
// each append keeps what the appends before it wrote; past the end the file
// holds zeros; a failed write leaves end() where it was.
#include "journal/direct_segment_writes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/journal/journal_test_support.h"

namespace journal {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A direct descriptor on a fresh file, or -1 where the file system refuses
// direct I/O (tmpfs): such a test is skipped.
int OpenDirect(const std::string& path) {
  return OpenForDirectWrites(path, O_CREAT | O_TRUNC);
}

TEST(DirectSegmentWritesTest, AppendsOfAnySizeReadBackInOrder) {
  const std::string dir = ScratchDirectory("direct-appends");
  ASSERT_EQ(::mkdir(dir.c_str(), 0750), 0);
  const std::string path = dir + "/segment";
  const int fd = OpenDirect(path);
  if (fd < 0) GTEST_SKIP() << dir << " takes no direct I/O";
  EXPECT_TRUE(IsDirect(fd));
  const std::string header = "HEADER..........";  // 16 bytes, as a segment's
  DirectBuffer first_page;
  ASSERT_TRUE(WriteDirectPages(fd, header, {}, 0, first_page));
  DirectSegmentWrites writes(fd, static_cast<int64_t>(header.size()), header);

  std::string expected = header;
  std::mt19937 random(7);
  // Sizes across page boundaries: within a page, exactly to its end, over
  // several pages.
  for (size_t size : {1ul, 100ul, 4079ul, 1ul, 4096ul, 10000ul, 3ul, 8192ul}) {
    std::string bytes(size, '\0');
    for (char& c : bytes) c = static_cast<char>('a' + random() % 26);
    ASSERT_TRUE(writes.Append(bytes)) << size;
    expected += bytes;
    EXPECT_EQ(writes.end(), static_cast<int64_t>(expected.size()));
  }
  ::close(fd);
  const std::string file = ReadFile(path);
  ASSERT_GE(file.size(), expected.size());
  EXPECT_EQ(file.size() % kDirectPageBytes, 0u);
  EXPECT_EQ(file.substr(0, expected.size()), expected);
  EXPECT_EQ(file.substr(expected.size()),
            std::string(file.size() - expected.size(), '\0'));
}

TEST(DirectSegmentWritesTest, AFailedWriteLeavesTheEndWhereItWas) {
  const std::string dir = ScratchDirectory("direct-failed");
  ASSERT_EQ(::mkdir(dir.c_str(), 0750), 0);
  const std::string path = dir + "/segment";
  const int fd = OpenDirect(path);
  if (fd < 0) GTEST_SKIP() << dir << " takes no direct I/O";
  DirectSegmentWrites writes(fd, 0, "");
  ASSERT_TRUE(writes.Append("first"));
  ::close(fd);  // Every later write fails (EBADF).
  EXPECT_FALSE(writes.Append("second"));
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(writes.end(), 5);
}

TEST(DirectSegmentWritesTest, DirectWritesCanBeTurnedOff) {
  const std::string dir = ScratchDirectory("direct-off");
  ASSERT_EQ(::mkdir(dir.c_str(), 0750), 0);
  const int fd = OpenDirect(dir + "/segment");
  if (fd < 0) GTEST_SKIP() << dir << " takes no direct I/O";
  ASSERT_TRUE(StopDirectWrites(fd));
  EXPECT_FALSE(IsDirect(fd));
  // Unaligned writes work through the page cache.
  EXPECT_EQ(::pwrite(fd, "abc", 3, 1), 3);
  ::close(fd);
  EXPECT_EQ(ReadFile(dir + "/segment"), std::string("\0abc", 4));
}

}  // namespace
}  // namespace journal
