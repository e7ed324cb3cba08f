// File: journal/segment_file_writes.h
//
// Writing bytes into a segment file (or a spare one) at an offset, whole:
// pwrite may write less than asked, or be interrupted.
//
//   if (!WriteAllAt(fd, frames.data(), frames.size(), offset)) { errno... }
#ifndef JOURNAL_SEGMENT_FILE_WRITES_H_
#define JOURNAL_SEGMENT_FILE_WRITES_H_

#include <errno.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

namespace journal {

// Writes all of `data` at `offset`; false with errno set.
inline bool WriteAllAt(int fd, const char* data, size_t size, int64_t offset) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, data, size, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
    offset += n;
  }
  return true;
}

}  // namespace journal

#endif  // JOURNAL_SEGMENT_FILE_WRITES_H_
