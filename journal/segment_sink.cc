#include "journal/segment_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "journal/direct_segment_writes.h"
#include "journal/record_framing.h"
#include "journal/segment_file_writes.h"
#include "journal/segment_names.h"
#include "journal/segment_spare.h"

namespace journal {
namespace {

absl::Status IoError(int error, absl::string_view what, const std::string& path,
                     int64_t offset) {
  std::string message =
      offset >= 0 ? absl::StrCat("journal: ", what, " ", path, " at offset ",
                                 offset, ": ", std::strerror(error))
                  : absl::StrCat("journal: ", what, " ", path, ": ",
                                 std::strerror(error));
  if (error == ENOSPC || error == EDQUOT) {
    return absl::ResourceExhaustedError(message);
  }
  return absl::UnavailableError(message);
}

absl::Status SyncDirectory(const std::string& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError(errno, "cannot open directory", directory, -1);
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) return IoError(error, "cannot sync directory", directory, -1);
  return absl::OkStatus();
}

}  // namespace

struct SegmentSink::Segment {
  std::string path;
  int fd = -1;
  // Bytes of whole records (and the header) written; read by Sync's errors.
  std::atomic<int64_t> size{0};
  // A spare's zeros follow the records: cut off when the segment closes.
  bool zero_filled = false;
  // A spare taken with a direct descriptor: appends go through this
  // (direct_segment_writes.h). Null otherwise, or after a failed direct
  // write (the segment then goes on through the page cache).
  std::unique_ptr<DirectSegmentWrites> direct;
  ~Segment() {
    if (fd < 0) return;
    // Should the cut fail, the zeros stay: readers stop at them.
    if (zero_filled && ::ftruncate(fd, size.load()) != 0) {
    }
    ::close(fd);
  }
};

absl::Status RemoveSegmentsBefore(const std::string& directory,
                                  uint64_t sequence, int keep_for_reuse) {
  auto segments = ListSegments(directory);
  if (!segments.ok()) return segments.status();
  int kept = 0;
  // Bytes the kept files hold; they never hold more than the file system
  // has free besides, so that on a nearly full disk retired segments are
  // deleted (their space is what lets a full disk's journal and snapshots
  // go on), as before.
  int64_t kept_bytes = 0;
  auto file_bytes = [](const std::string& path) -> int64_t {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size)
                                          : 0;
  };
  int64_t free_bytes = 0;
  if (keep_for_reuse > 0) {
    auto reusable = ListReusableSegments(directory);
    if (!reusable.ok()) return reusable.status();
    kept = static_cast<int>(reusable->size());
    for (const std::string& path : *reusable) kept_bytes += file_bytes(path);
    struct statvfs fs;
    if (::statvfs(directory.c_str(), &fs) == 0) {
      free_bytes =
          static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
    }
  }
  bool changed = false;
  // Segment i holds [first_i, first_{i+1}); it can go when first_{i+1} <=
  // sequence. The last segment always stays.
  for (size_t i = 0; i + 1 < segments->size(); ++i) {
    if ((*segments)[i + 1].first_sequence > sequence) break;
    const SegmentFileName& segment = (*segments)[i];
    const int64_t bytes = kept < keep_for_reuse ? file_bytes(segment.path) : 0;
    if (kept < keep_for_reuse && kept_bytes + bytes <= free_bytes) {
      const std::string reuse =
          ReusableSegmentPath(directory, segment.first_sequence);
      if (::rename(segment.path.c_str(), reuse.c_str()) == 0) {
        ++kept;
        kept_bytes += bytes;
        changed = true;
        continue;
      }
      // Deleted instead, below.
    }
    if (::unlink(segment.path.c_str()) != 0 && errno != ENOENT) {
      return IoError(errno, "cannot remove", segment.path, -1);
    }
    changed = true;
  }
  return changed ? SyncDirectory(directory) : absl::OkStatus();
}

SegmentSink::SegmentSink(std::string directory, int64_t segment_bytes,
                         SegmentSpace space, SegmentWrites writes)
    : directory_(std::move(directory)), segment_bytes_(segment_bytes) {
  if (space == SegmentSpace::kZeroFilledAhead) {
    spare_ = std::make_unique<SegmentSpare>(
        directory_, segment_bytes_,
        writes == SegmentWrites::kDirectWhereSupported);
  }
}

SegmentSink::~SegmentSink() = default;

int64_t SegmentSink::spares_made() const {
  return spare_ != nullptr ? spare_->spares_made() : 0;
}

int64_t SegmentSink::spares_reused() const {
  return spare_ != nullptr ? spare_->spares_reused() : 0;
}

absl::StatusOr<std::unique_ptr<SegmentSink>> SegmentSink::Open(
    const std::string& directory, int64_t segment_bytes, SegmentSpace space,
    SegmentWrites writes) {
  if (directory.empty()) {
    return absl::InvalidArgumentError("journal: no directory given");
  }
  if (segment_bytes < 4096) {
    return absl::InvalidArgumentError(absl::StrCat(
        "journal: segment size ", segment_bytes, " is below 4096 bytes"));
  }
  if (::mkdir(directory.c_str(), 0750) != 0 && errno != EEXIST) {
    return IoError(errno, "cannot create directory", directory, -1);
  }
  struct stat st;
  if (::stat(directory.c_str(), &st) != 0) {
    return IoError(errno, "cannot read directory", directory, -1);
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("journal: ", directory, " is not a directory"));
  }
  return std::unique_ptr<SegmentSink>(
      new SegmentSink(directory, segment_bytes, space, writes));
}

absl::Status SegmentSink::StartSegment(uint64_t first_sequence) {
  auto segment = std::make_shared<Segment>();
  segment->path = SegmentPath(directory_, first_sequence);
  const std::string header = SegmentHeader(first_sequence);
  // A leftover file of that name (a segment whose every record failed to
  // be written) is replaced: it holds no record anyone was told of.
  if (spare_ != nullptr) segment->fd = spare_->Take(segment->path, header);
  segment->zero_filled = segment->fd >= 0;
  if (!segment->zero_filled) {
    segment->fd = ::open(segment->path.c_str(),
                         O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (segment->fd < 0) {
      return IoError(errno, "cannot create", segment->path, -1);
    }
    if (!WriteAllAt(segment->fd, header.data(), header.size(), 0)) {
      const int error = errno;
      ::unlink(segment->path.c_str());
      return IoError(error, "cannot write", segment->path, 0);
    }
  }
  segment->size.store(static_cast<int64_t>(header.size()));
  // A direct descriptor (the spare's, with kDirectWhereSupported) takes
  // only page-aligned writes: they go through the tail page.
  if (segment->zero_filled && IsDirect(segment->fd)) {
    segment->direct = std::make_unique<DirectSegmentWrites>(
        segment->fd, static_cast<int64_t>(header.size()), header);
  }
  // The new name, and the tail of the segment it replaces, are made durable
  // by the next Sync, before the records of the new one are reported
  // durable: no fsync here, on the path of the record that filled a
  // segment (a 64 MiB segment written with --fsync=none took 50 ms).
  std::lock_guard<std::mutex> lock(mu_);
  if (current_ != nullptr) unsynced_previous_.push_back(std::move(current_));
  current_ = std::move(segment);
  directory_unsynced_ = true;
  return absl::OkStatus();
}

absl::Status SegmentSink::Append(uint64_t first_sequence, int count,
                                 std::string_view frames) {
  std::shared_ptr<Segment> segment;
  {
    std::lock_guard<std::mutex> lock(mu_);
    segment = current_;
  }
  if (segment == nullptr || segment->size.load() >= segment_bytes_) {
    if (absl::Status started = StartSegment(first_sequence); !started.ok()) {
      return started;
    }
    std::lock_guard<std::mutex> lock(mu_);
    segment = current_;
  }
  (void)count;
  const int64_t before = segment->size.load();
  const bool written =
      segment->direct != nullptr
          ? segment->direct->Append(frames)
          : WriteAllAt(segment->fd, frames.data(), frames.size(), before);
  if (written) {
    segment->size.store(before + static_cast<int64_t>(frames.size()));
    return absl::OkStatus();
  }
  const int error = errno;
  if (segment->direct != nullptr) {
    // From here on through the page cache (the cut below ends the zeros).
    segment->direct.reset();
    (void)StopDirectWrites(segment->fd);
  }
  // Cut the partial frames off, so the next record follows a whole one
  // (and a zero-filled segment grows from there on); if that fails too,
  // leave the segment: the next Append starts another.
  if (::ftruncate(segment->fd, before) != 0) {
    // Its whole records before this one still need their sync.
    std::lock_guard<std::mutex> lock(mu_);
    if (current_ == segment) {
      unsynced_previous_.push_back(std::move(current_));
      current_ = nullptr;
    }
  }
  return IoError(error, "cannot write", segment->path, before);
}

absl::Status SegmentSink::Sync() {
  std::shared_ptr<Segment> segment;
  std::vector<std::shared_ptr<Segment>> previous;
  bool directory = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    segment = current_;
    previous = std::move(unsynced_previous_);
    unsynced_previous_.clear();
    directory = std::exchange(directory_unsynced_, false);
  }
  // Older segments first: a record is durable only once every record
  // before it is.
  for (const std::shared_ptr<Segment>& older : previous) {
    if (::fdatasync(older->fd) != 0) {
      const int error = errno;
      std::lock_guard<std::mutex> lock(mu_);
      if (current_ == segment) current_ = nullptr;
      return IoError(error, "cannot sync", older->path, older->size.load());
    }
  }
  if (directory) {
    if (absl::Status synced = SyncDirectory(directory_); !synced.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      directory_unsynced_ = true;
      if (current_ == segment) current_ = nullptr;
      return synced;
    }
  }
  if (segment == nullptr) return absl::OkStatus();
  if (::fdatasync(segment->fd) == 0) return absl::OkStatus();
  const int error = errno;
  // After a failed fsync the kernel may have dropped the dirty pages: never
  // append to this segment again.
  std::lock_guard<std::mutex> lock(mu_);
  if (current_ == segment) current_ = nullptr;
  return IoError(error, "cannot sync", segment->path, segment->size.load());
}

}  // namespace journal
