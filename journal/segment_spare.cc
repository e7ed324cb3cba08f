#include "journal/segment_spare.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "journal/direct_segment_writes.h"
#include "journal/segment_file_writes.h"
#include "journal/segment_names.h"

namespace journal {
namespace {

// tmpfs has no device to flush: a zero-filled file there only costs memory.
bool OnTmpfs(const std::string& directory) {
  struct statfs fs;
  return ::statfs(directory.c_str(), &fs) == 0 &&
         static_cast<uint64_t>(fs.f_type) == TMPFS_MAGIC;
}

// The header over the spare's first zeros: on a direct descriptor, as
// its whole first page.
bool WriteHeader(int fd, std::string_view header) {
  if (!IsDirect(fd)) return WriteAllAt(fd, header.data(), header.size(), 0);
  DirectBuffer page;
  return WriteDirectPages(fd, header, {}, 0, page);
}

}  // namespace

bool SegmentSpare::MakesSpares(const std::string& directory) {
  return !OnTmpfs(directory);
}

SegmentSpare::SegmentSpare(std::string directory, int64_t segment_bytes,
                           bool direct)
    : directory_(std::move(directory)),
      path_(SparePath(directory_)),
      segment_bytes_(segment_bytes),
      direct_(direct) {
  if (!MakesSpares(directory_)) return;  // Take always answers -1.
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "rd-jspare");
    Run();
  });
}

SegmentSpare::~SegmentSpare() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_.store(true);
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (ready_fd_ >= 0) {
    ::close(ready_fd_);
    ::unlink(path_.c_str());
  }
}

int SegmentSpare::Take(const std::string& path, std::string_view header) {
  int fd;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fd = std::exchange(ready_fd_, -1);
  }
  // The thread makes no new spare (which would truncate path_) until
  // wanted_ is set again below, after the rename.
  if (fd >= 0 && (!WriteHeader(fd, header) ||
                  ::rename(path_.c_str(), path.c_str()) != 0)) {
    ::close(fd);
    ::unlink(path_.c_str());
    fd = -1;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    wanted_ = true;
  }
  changed_.notify_all();
  return fd;
}

void SegmentSpare::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    changed_.wait(
        lock, [&] { return stopping_.load() || (wanted_ && ready_fd_ < 0); });
    if (stopping_.load()) return;
    lock.unlock();
    const int fd = Make();
    lock.lock();
    if (fd >= 0) {
      ready_fd_ = fd;
      wanted_ = false;
      spares_made_.fetch_add(1);
    } else {
      changed_.wait_for(lock, absl::ToChronoNanoseconds(kRetryInterval),
                        [&] { return stopping_.load(); });
    }
  }
}

int SegmentSpare::Open(int extra_flags) {
  // Direct writes where the file system takes them: the zeros then cost
  // no copy into the page cache (direct_segment_writes.h).
  int fd = direct_ ? OpenForDirectWrites(path_, extra_flags) : -1;
  if (fd < 0) {
    fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC | extra_flags, 0640);
  }
  return fd;
}

int SegmentSpare::OpenReusable() {
  absl::StatusOr<std::vector<std::string>> kept =
      ListReusableSegments(directory_);
  if (!kept.ok()) return -1;
  for (const std::string& path : *kept) {
    // Renamed first: RemoveSegmentsBefore, on the snapshot's thread, counts
    // the kept files, and this one is no longer among them.
    if (::rename(path.c_str(), path_.c_str()) != 0) continue;
    const int fd = Open(0);
    if (fd < 0) {
      ::unlink(path_.c_str());
      continue;
    }
    // A segment may have passed segment_bytes by a group: the excess goes
    // (a few blocks freed); a shorter one grows in Make.
    struct stat st;
    if (::fstat(fd, &st) == 0 && (st.st_size <= segment_bytes_ ||
                                  ::ftruncate(fd, segment_bytes_) == 0)) {
      return fd;
    }
    ::close(fd);
    ::unlink(path_.c_str());
  }
  return -1;
}

int SegmentSpare::Make() {
  // A kept segment first: its blocks are allocated already, and written
  // over they stay so (segment_sink.h, RemoveSegmentsBefore).
  int fd = OpenReusable();
  const bool reused = fd >= 0;
  if (!reused) {
    struct statvfs fs;
    if (::statvfs(directory_.c_str(), &fs) != 0 ||
        static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize) <
            2 * segment_bytes_ + kFreeMarginBytes) {
      return -1;
    }
    fd = Open(O_CREAT | O_TRUNC);
  }
  if (fd < 0) return -1;
  auto fail = [&] {
    ::close(fd);
    ::unlink(path_.c_str());
    return -1;
  };
  // Reserve the space first: a full disk fails here at once, before any
  // zero is written (a file system without fallocate just gets the zeros).
  // A reused file's blocks are allocated already: nothing to reserve,
  // unless it was shorter than a segment.
  const int reserved = ::posix_fallocate(fd, 0, segment_bytes_);
  if (reserved == ENOSPC || reserved == EDQUOT) return fail();
  DirectBuffer zeros;
  if (!zeros.Reserve(static_cast<size_t>(kZeroStepBytes))) return fail();
  const bool direct = IsDirect(fd);
  for (int64_t offset = 0; offset < segment_bytes_; offset += kZeroStepBytes) {
    if (stopping_.load()) return fail();
    const int64_t step = std::min(kZeroStepBytes, segment_bytes_ - offset);
    // A direct write's last step is padded to a whole page (of zeros).
    const size_t length = direct ? WholePages(static_cast<size_t>(step))
                                 : static_cast<size_t>(step);
    const absl::Time step_started = absl::Now();
    if (!WriteAllAt(fd, zeros.data(), length, offset)) return fail();
    // Written back now, step by step, not all at once by the final sync
    // (a direct write is on the disk already).
    if (!direct) {
      ::sync_file_range(fd, offset, step,
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                            SYNC_FILE_RANGE_WAIT_AFTER);
    }
    const absl::Duration pause = kPauseTimesStep * (absl::Now() - step_started);
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait_for(lock, absl::ToChronoNanoseconds(pause),
                      [&] { return stopping_.load(); });
  }
  // The blocks' allocation, and the file's size, committed here: the
  // journal's syncs of this file then flush data only.
  if (::fdatasync(fd) != 0) return fail();
  if (reused) spares_reused_.fetch_add(1);
  return fd;
}

}  // namespace journal
