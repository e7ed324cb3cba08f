#include "journal/snapshot_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "journal/record_framing.h"

namespace journal {
namespace {

constexpr char kMagic[8] = {'R', 'T', 'S', 'N', 'A', 'P', '0', '1'};
constexpr size_t kHeaderBytes = 32;
constexpr char kPrefix[] = "snapshot-";
constexpr char kSuffix[] = ".rsnap";

void Store(char* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
uint64_t Load(const char* in, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

absl::Status IoError(int error, absl::string_view what,
                     const std::string& path) {
  const std::string message =
      absl::StrCat("snapshot: ", what, " ", path, ": ", std::strerror(error));
  return error == ENOSPC || error == EDQUOT
             ? absl::ResourceExhaustedError(message)
             : absl::UnavailableError(message);
}

std::string SnapshotPath(const std::string& directory, uint64_t sequence) {
  return absl::StrFormat("%s/%s%020u%s", directory, kPrefix, sequence,
                         kSuffix);
}

// Snapshot files of the directory, by sequence, oldest first.
absl::StatusOr<std::vector<std::pair<uint64_t, std::string>>> List(
    const std::string& directory) {
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) return IoError(errno, "cannot read directory", directory);
  std::vector<std::pair<uint64_t, std::string>> out;
  while (const dirent* entry = ::readdir(dir)) {
    const absl::string_view name(entry->d_name);
    const size_t prefix = sizeof kPrefix - 1, suffix = sizeof kSuffix - 1;
    uint64_t sequence = 0;
    if (name.size() != prefix + 20 + suffix ||
        name.substr(0, prefix) != kPrefix ||
        name.substr(name.size() - suffix) != kSuffix ||
        !absl::SimpleAtoi(name.substr(prefix, 20), &sequence)) {
      continue;
    }
    out.emplace_back(sequence, absl::StrCat(directory, "/", name));
  }
  ::closedir(dir);
  std::sort(out.begin(), out.end());
  return out;
}

// Temporary snapshot files a crash left behind (a snapshot being written
// when the process died): as large as a snapshot, never read.
std::vector<std::string> LeftoverTemporaries(const std::string& directory) {
  std::vector<std::string> out;
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) return out;
  const std::string suffix = absl::StrCat(kSuffix, ".tmp");
  while (const dirent* entry = ::readdir(dir)) {
    const absl::string_view name(entry->d_name);
    if (absl::StartsWith(name, kPrefix) && absl::EndsWith(name, suffix)) {
      out.push_back(absl::StrCat(directory, "/", name));
    }
  }
  ::closedir(dir);
  return out;
}

absl::Status SyncDirectory(const std::string& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError(errno, "cannot open directory", directory);
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  return rc == 0 ? absl::OkStatus()
                 : IoError(error, "cannot sync directory", directory);
}

}  // namespace

absl::Status WriteSnapshotFile(const std::string& directory, uint64_t sequence,
                               std::string_view body) {
  const std::string path = SnapshotPath(directory, sequence);
  const std::string temporary = path + ".tmp";
  char header[kHeaderBytes] = {};
  std::memcpy(header, kMagic, sizeof kMagic);
  Store(header + 8, sequence, 8);
  Store(header + 16, body.size(), 8);
  Store(header + 24, Crc32c(body), 4);

  const int fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return IoError(errno, "cannot create", temporary);
  auto fail = [&](absl::string_view what) {
    const int error = errno;
    ::close(fd);
    ::unlink(temporary.c_str());
    return IoError(error, what, temporary);
  };
  for (std::string_view part :
       {std::string_view(header, sizeof header), body}) {
    while (!part.empty()) {
      const ssize_t n = ::write(fd, part.data(), part.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail("cannot write");
      }
      part.remove_prefix(static_cast<size_t>(n));
    }
  }
  if (::fsync(fd) != 0) return fail("cannot sync");
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    return IoError(error, "cannot close", temporary);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    return IoError(error, "cannot rename to", path);
  }
  if (absl::Status synced = SyncDirectory(directory); !synced.ok()) {
    return synced;
  }
  // The new one is durable: older ones, and temporaries an earlier crash
  // left (one snapshot is written at a time), can go.
  for (const std::string& leftover : LeftoverTemporaries(directory)) {
    ::unlink(leftover.c_str());
  }
  auto listed = List(directory);
  if (!listed.ok()) return absl::OkStatus();  // Cleanup only.
  for (const auto& [older, older_path] : *listed) {
    if (older < sequence) ::unlink(older_path.c_str());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<SnapshotFile>> ReadLatestSnapshotFile(
    const std::string& directory) {
  auto listed = List(directory);
  if (!listed.ok()) return listed.status();
  if (listed->empty()) return std::optional<SnapshotFile>();
  const auto& [sequence, path] = listed->back();
  // One read into a buffer of the file's size: snapshots run to hundreds
  // of megabytes.
  std::string all;
  {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return IoError(errno, "cannot open", path);
    const off_t size = ::lseek(fd, 0, SEEK_END);
    if (size < 0 || ::lseek(fd, 0, SEEK_SET) != 0) {
      const int error = errno;
      ::close(fd);
      return IoError(error, "cannot read", path);
    }
    all.resize(static_cast<size_t>(size));
    size_t done = 0;
    while (done < all.size()) {
      const ssize_t n = ::read(fd, all.data() + done, all.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int error = n < 0 ? errno : EIO;
        ::close(fd);
        return IoError(error, "cannot read", path);
      }
      done += static_cast<size_t>(n);
    }
    ::close(fd);
  }
  auto damaged = [&](const std::string& what) {
    return absl::DataLossError(absl::StrCat(
        "snapshot ", path, ": ", what,
        "; move it aside to start from the journal alone, if the journal "
        "still holds every record"));
  };
  if (all.size() < kHeaderBytes ||
      std::memcmp(all.data(), kMagic, sizeof kMagic) != 0) {
    return damaged("not a snapshot file header");
  }
  if (Load(all.data() + 8, 8) != sequence) {
    return damaged(absl::StrCat("header names record ",
                                Load(all.data() + 8, 8)));
  }
  const uint64_t length = Load(all.data() + 16, 8);
  if (length != all.size() - kHeaderBytes) {
    return damaged(absl::StrCat("body of ", all.size() - kHeaderBytes,
                                " bytes, header says ", length));
  }
  if (Crc32c(std::string_view(all).substr(kHeaderBytes)) !=
      Load(all.data() + 24, 4)) {
    return damaged("checksum mismatch");
  }
  SnapshotFile file;
  file.path = path;
  file.sequence = sequence;
  all.erase(0, kHeaderBytes);
  file.body = std::move(all);
  return std::optional<SnapshotFile>(std::move(file));
}

}  // namespace journal
