#include "journal/direct_segment_writes.h"

#include <errno.h>
#include <fcntl.h>

#include <algorithm>
#include <cstring>

#include "journal/segment_file_writes.h"

namespace journal {

int OpenForDirectWrites(const std::string& path, int extra_flags) {
  return ::open(path.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC | extra_flags,
                0640);
}

bool IsDirect(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && (flags & O_DIRECT) != 0;
}

bool StopDirectWrites(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags & ~O_DIRECT) == 0;
}

bool DirectBuffer::Reserve(size_t bytes) {
  const size_t wanted = std::max(WholePages(bytes), kDirectPageBytes);
  if (wanted <= capacity_) return true;
  // Grown to twice what is asked: a group's size varies from one to the
  // next.
  const size_t grown = std::max(wanted, 2 * capacity_);
  void* memory = nullptr;
  if (::posix_memalign(&memory, kDirectPageBytes, grown) != 0) return false;
  std::memset(memory, 0, grown);
  data_.reset(static_cast<char*>(memory));
  capacity_ = grown;
  return true;
}

bool WriteDirectPages(int fd, std::string_view first, std::string_view second,
                      int64_t offset, DirectBuffer& buffer) {
  const size_t used = first.size() + second.size();
  const size_t padded = WholePages(used);
  if (!buffer.Reserve(padded)) {
    errno = ENOMEM;
    return false;
  }
  char* out = buffer.data();
  if (!first.empty()) std::memcpy(out, first.data(), first.size());
  if (!second.empty()) {
    std::memcpy(out + first.size(), second.data(), second.size());
  }
  std::memset(out + used, 0, padded - used);
  return WriteAllAt(fd, out, padded, offset);
}

DirectSegmentWrites::DirectSegmentWrites(int fd, int64_t end,
                                         std::string_view tail)
    : fd_(fd), end_(end), tail_(tail) {}

bool DirectSegmentWrites::Append(std::string_view bytes) {
  const int64_t page_start =
      end_ - static_cast<int64_t>(end_ % kDirectPageBytes);
  if (!WriteDirectPages(fd_, tail_, bytes, page_start, buffer_)) return false;
  const size_t used = tail_.size() + bytes.size();
  end_ += static_cast<int64_t>(bytes.size());
  const size_t kept = static_cast<size_t>(end_ % kDirectPageBytes);
  tail_.assign(buffer_.data() + used - kept, kept);
  return true;
}

}  // namespace journal
