#include "rules/internal/rules_source_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace rules::internal {

namespace {

// The canonical absolute path (symbolic links and ".." resolved), or "".
std::string Canonical(const std::string& path) {
  char* resolved = realpath(path.c_str(), nullptr);
  if (resolved == nullptr) return "";
  std::string out(resolved);
  std::free(resolved);
  return out;
}

std::string KindOf(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a plain file";
}

}  // namespace

absl::StatusOr<std::string> ReadRulesSource(const std::string& path,
                                            const std::string& rules_dir,
                                            size_t max_bytes) {
  if (path.empty()) return absl::InvalidArgumentError("empty rules file path");
  std::string target = path;
  if (!rules_dir.empty()) {
    const std::string dir = Canonical(rules_dir);
    if (dir.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the rules directory '", rules_dir, "' cannot be resolved: ",
          std::strerror(errno)));
    }
    target = Canonical(path);
    if (target.empty()) {
      return absl::NotFoundError(
          absl::StrCat("cannot read rules file: ", std::strerror(errno)));
    }
    if (target == dir) {
      return absl::FailedPreconditionError(
          "rules file is not a regular file (it is the rules directory)");
    }
    if (!absl::StartsWith(target, dir == "/" ? dir : dir + "/")) {
      return absl::PermissionDeniedError(absl::StrCat(
          "rules file is outside the rules directory '", rules_dir, "'"));
    }
  }
  // O_NONBLOCK: opening a FIFO with no writer returns at once instead of
  // waiting for one. The type is checked on the open descriptor, so the file
  // cannot be swapped between the check and the read.
  const int fd =
      open(target.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot read rules file: ", std::strerror(errno)));
  }
  absl::Cleanup close_fd = [fd] { close(fd); };
  struct stat info;
  if (fstat(fd, &info) != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot read rules file: ", std::strerror(errno)));
  }
  if (!S_ISREG(info.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "rules file is not a regular file (it is ", KindOf(info.st_mode), ")"));
  }
  auto too_large = [&](size_t size) {
    return absl::OutOfRangeError(absl::StrCat("rules file is too large (", size,
                                              " bytes; at most ", max_bytes,
                                              ")"));
  };
  if (static_cast<uint64_t>(info.st_size) > max_bytes) {
    return too_large(static_cast<size_t>(info.st_size));
  }
  // Read at most one byte past the cap: a file that grows while read is
  // still refused, never read without end.
  std::string text(max_bytes + 1, '\0');
  size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = read(fd, text.data() + got, text.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::NotFoundError(
          absl::StrCat("cannot read rules file: ", std::strerror(errno)));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > max_bytes) return too_large(got);
  text.resize(got);
  return text;
}

}  // namespace rules::internal
