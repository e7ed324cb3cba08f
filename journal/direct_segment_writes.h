// File: journal/direct_segment_writes.h
//
// Appending records to a zero-filled segment with direct I/O (O_DIRECT):
// the bytes go from the writer's buffer to the disk without a copy into the
// page cache, and the spare's zeros are written the same way, so neither
// costs the CPU a copy per byte (at 50,000 records a second, about 90 MB/s
// each). A sync after a direct write flushes the disk's cache only: the
// blocks were allocated and written by the zero-fill.
//
// Direct I/O writes whole pages from page-aligned memory at page-aligned
// offsets. Records are not page-sized, so each append writes the last
// partial page again, its old bytes followed by the new ones, and pads the
// last page with zeros (the file holds zeros there already). Rewriting a
// durable sector with the same bytes leaves it old or new, the same either
// way; the records after it were not synced and may tear as before.
//
//   DirectSegmentWrites writes(fd, header.size(), header);
//   if (!writes.Append(frames)) { /* errno; cut back to writes.end() */ }
#ifndef JOURNAL_DIRECT_SEGMENT_WRITES_H_
#define JOURNAL_DIRECT_SEGMENT_WRITES_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

namespace journal {

// The unit of direct I/O here: the page size, a multiple of every
// device's logical block.
inline constexpr size_t kDirectPageBytes = 4096;

// `bytes` rounded up to whole pages.
inline constexpr size_t WholePages(size_t bytes) {
  return (bytes + kDirectPageBytes - 1) / kDirectPageBytes * kDirectPageBytes;
}

// Opens `path` for direct writes (O_RDWR | O_DIRECT, plus `extra_flags`):
// the descriptor, or -1 with errno set (EINVAL: the file system does not
// support it).
int OpenForDirectWrites(const std::string& path, int extra_flags);
// Whether `fd` was opened with O_DIRECT.
bool IsDirect(int fd);
// Turns O_DIRECT off on `fd` (later writes go through the page cache).
bool StopDirectWrites(int fd);

// Page-aligned memory for direct writes, zeroed, reused across writes.
class DirectBuffer {
 public:
  // At least `bytes`, rounded up to whole pages; false if out of memory.
  bool Reserve(size_t bytes);
  char* data() { return data_.get(); }
  size_t capacity() const { return capacity_; }

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> data_;
  size_t capacity_ = 0;
};

// Writes `first` then `second` at `offset` (page-aligned) on a direct
// descriptor, through `buffer`, padded with zeros to whole pages. False
// with errno set.
bool WriteDirectPages(int fd, std::string_view first, std::string_view second,
                      int64_t offset, DirectBuffer& buffer);

class DirectSegmentWrites {
 public:
  // `fd` is direct; the file's first `end` bytes are written, and `tail`
  // is what its last partial page holds (the bytes from the page's start
  // to `end`).
  DirectSegmentWrites(int fd, int64_t end, std::string_view tail);

  // Writes `bytes` at end(). False with errno set: what lies past end()
  // may then be partly written, and end() is unchanged.
  bool Append(std::string_view bytes);
  int64_t end() const { return end_; }

 private:
  const int fd_;
  int64_t end_;
  std::string tail_;  // the bytes of end_'s page before end_
  DirectBuffer buffer_;
};

}  // namespace journal

#endif  // JOURNAL_DIRECT_SEGMENT_WRITES_H_
