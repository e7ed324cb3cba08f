// File: journal/journal_walk.h
//
// Reads a journal directory from where its history starts, for the audit
// and replay tools: the records from the oldest one kept, and, when the
// segments before it were deleted after a snapshot, that snapshot's state
// first. Read only (repair off): the directory is never changed.
//
//   absl::StatusOr<WalkReport> r = WalkJournal(dir,
//       [&](const Snapshot& s) { ... state before the first record ... },
//       [&](uint64_t seq, const JournalRecord& r) { ...; return OkStatus(); });
//
// Errors: NotFound for a missing directory, or one with neither a segment
// nor a snapshot (not a journal, or not one yet); DataLoss naming the
// segment and offset for damage, or the record that does not decode; a
// callback's error stops the walk and is returned.
#ifndef JOURNAL_JOURNAL_WALK_H_
#define JOURNAL_JOURNAL_WALK_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "journal/journal_record.h"
#include "journal/snapshot_codec.h"

namespace journal {

struct WalkReport {
  bool from_snapshot = false;  // the walk started from a snapshot's state
  uint64_t first_sequence = 1;
  uint64_t records = 0;
  std::vector<std::string> warnings;  // a torn tail
};

absl::StatusOr<WalkReport> WalkJournal(
    const std::string& directory,
    const std::function<void(const Snapshot&)>& on_snapshot,
    const std::function<absl::Status(uint64_t, const JournalRecord&)>&
        on_record);

}  // namespace journal

#endif  // JOURNAL_JOURNAL_WALK_H_
