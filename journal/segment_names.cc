#include "journal/segment_names.h"

#include <dirent.h>
#include <errno.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace journal {
namespace {

constexpr char kPrefix[] = "journal-";
constexpr char kSuffix[] = ".seg";
constexpr char kReusePrefix[] = "journal-reuse-";
constexpr char kReuseSuffix[] = ".tmp";

// The names of `directory`'s files that are `prefix`, 20 digits, `suffix`,
// with the number, in number order.
absl::StatusOr<std::vector<SegmentFileName>> ListNumberedFiles(
    const std::string& directory, absl::string_view prefix,
    absl::string_view suffix) {
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("journal: cannot read directory ", directory, ": ",
                     std::strerror(errno)));
  }
  std::vector<SegmentFileName> files;
  while (const dirent* entry = ::readdir(dir)) {
    const absl::string_view name(entry->d_name);
    if (name.size() != prefix.size() + 20 + suffix.size() ||
        name.substr(0, prefix.size()) != prefix ||
        name.substr(name.size() - suffix.size()) != suffix) {
      continue;
    }
    uint64_t first = 0;
    if (!absl::SimpleAtoi(name.substr(prefix.size(), 20), &first)) continue;
    files.push_back({absl::StrCat(directory, "/", name), first});
  }
  ::closedir(dir);
  std::sort(files.begin(), files.end(),
            [](const SegmentFileName& a, const SegmentFileName& b) {
              return a.first_sequence < b.first_sequence;
            });
  return files;
}

}  // namespace

absl::StatusOr<std::vector<SegmentFileName>> ListSegments(
    const std::string& directory) {
  return ListNumberedFiles(directory, kPrefix, kSuffix);
}

absl::StatusOr<std::vector<std::string>> ListReusableSegments(
    const std::string& directory) {
  auto files = ListNumberedFiles(directory, kReusePrefix, kReuseSuffix);
  if (!files.ok()) return files.status();
  std::vector<std::string> paths;
  for (SegmentFileName& file : *files) paths.push_back(std::move(file.path));
  return paths;
}

std::string SegmentPath(const std::string& directory, uint64_t first_sequence) {
  return absl::StrFormat("%s/%s%020u%s", directory, kPrefix, first_sequence,
                         kSuffix);
}

std::string ReusableSegmentPath(const std::string& directory,
                                uint64_t first_sequence) {
  return absl::StrFormat("%s/%s%020u%s", directory, kReusePrefix,
                         first_sequence, kReuseSuffix);
}

std::string SparePath(const std::string& directory) {
  return absl::StrCat(directory, "/journal-spare.tmp");
}

}  // namespace journal
