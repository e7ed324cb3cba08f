// File: journal/segment_names.h
//
// The names of the journal's files in its directory:
//
//   journal-<first sequence, 20 digits>.seg        a segment (segment_sink.h)
//   journal-reuse-<first sequence, 20 digits>.tmp  a segment a snapshot made
//       unnecessary, kept for the spare's thread to zero-fill and reuse
//       (RemoveSegmentsBefore, segment_spare.h); no reader looks at it
//   journal-spare.tmp                              the spare (segment_spare.h)
//
//   for (const SegmentFileName& s : *ListSegments(dir)) Read(s.path);
#ifndef JOURNAL_SEGMENT_NAMES_H_
#define JOURNAL_SEGMENT_NAMES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace journal {

struct SegmentFileName {
  std::string path;
  uint64_t first_sequence = 0;
};

// The segments of `directory`, in sequence order. Other files are ignored.
absl::StatusOr<std::vector<SegmentFileName>> ListSegments(
    const std::string& directory);

// The file name of the segment whose first record is `first_sequence`.
std::string SegmentPath(const std::string& directory, uint64_t first_sequence);

// The files kept for reuse in `directory`, oldest first.
absl::StatusOr<std::vector<std::string>> ListReusableSegments(
    const std::string& directory);

// The name a segment whose first record was `first_sequence` is kept under
// for reuse.
std::string ReusableSegmentPath(const std::string& directory,
                                uint64_t first_sequence);

// The spare's name.
std::string SparePath(const std::string& directory);

}  // namespace journal

#endif  // JOURNAL_SEGMENT_NAMES_H_
