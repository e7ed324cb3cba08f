// File: journal/journal_reader.h
//
// Reads a journal directory's records in sequence order, for a restart, a
// replay or an audit.
//
// Damage: a record cut short at the very end of the last segment is what a
// crash in the middle of a write leaves; it is cut off with a warning (the
// file truncated when `repair` is set), never an error. So is a last
// segment whose header is cut short or all zeros (created, or renamed from
// a spare, just before the crash: none of its records was synced). Anything
// else (a checksum that does not match with records after it, a segment
// that does not continue its predecessor, a header that is neither: a
// segment of a later format version, another file) is refused as DataLoss
// naming the segment file and the byte offset, unless recovery is
// kTruncate: then the journal ends there (with `repair`, the segment is cut
// there, or moved whole to DIR/damaged/ when its header is bad, and the
// later segments are moved there too), with a warning.
#ifndef JOURNAL_JOURNAL_READER_H_
#define JOURNAL_JOURNAL_READER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace journal {

enum class DamageRecovery { kRefuse, kTruncate };

struct JournalReadOptions {
  DamageRecovery recovery = DamageRecovery::kRefuse;
  // Truncate a torn tail (and, with kTruncate, damage) in the files, so the
  // next writer starts clean. Off for read-only uses (dump, why, replay).
  bool repair = false;
  // Records before this one are skipped (those a snapshot already holds).
  uint64_t from_sequence = 0;
};

struct JournalReadReport {
  uint64_t records = 0;        // records handed to on_record
  uint64_t next_sequence = 1;  // one past the last whole record
  std::vector<std::string> warnings;  // torn tails, truncated damage
};

// Calls on_record(sequence, body) for each whole record from
// options.from_sequence on (a group frame's records one by one; `body` is
// valid during the call only); an error it returns stops the read and is
// returned. NotFound when the directory does not exist.
absl::StatusOr<JournalReadReport> ReadJournal(
    const std::string& directory, const JournalReadOptions& options,
    const std::function<absl::Status(uint64_t, std::string_view)>& on_record);

}  // namespace journal

#endif  // JOURNAL_JOURNAL_READER_H_
