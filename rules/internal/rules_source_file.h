// File: rules/internal/rules_source_file.h
//
// Reads a rules file the way a daemon that takes paths from clients must:
// only a regular file, opened without blocking (a FIFO or a device never
// hangs the caller), at most `max_bytes` (a huge or endless file is never
// read into memory), and, when `rules_dir` is not empty, only under that
// directory once symbolic links and ".." are resolved.
#ifndef RULES_INTERNAL_RULES_SOURCE_FILE_H_
#define RULES_INTERNAL_RULES_SOURCE_FILE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace rules::internal {

// The file's text. Errors name the problem (not the path: callers put it in
// front, as "PATH: message"): NotFound (cannot be opened),
// FailedPrecondition (not a regular file), OutOfRange (too large),
// PermissionDenied (outside the rules directory).
absl::StatusOr<std::string> ReadRulesSource(const std::string& path,
                                            const std::string& rules_dir,
                                            size_t max_bytes);

}  // namespace rules::internal

#endif  // RULES_INTERNAL_RULES_SOURCE_FILE_H_
