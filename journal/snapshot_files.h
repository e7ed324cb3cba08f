// File: journal/snapshot_files.h
//
// Snapshot files in the journal directory, named by the last journal record
// they include: DIR/snapshot-00000000000000001234.rsnap. One file is
//   "RTSNAP01" | sequence (u64 LE) | body length (u64 LE) |
//   CRC32C of the body (u32 LE) | 4 zero bytes | body (snapshot_codec.h)
// Written to DIR/snapshot-....tmp, fsynced, renamed, and the directory
// fsynced: a crash leaves the old snapshot or the new one, never half of
// one. Older snapshots are deleted once the new one is durable.
#ifndef JOURNAL_SNAPSHOT_FILES_H_
#define JOURNAL_SNAPSHOT_FILES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace journal {

struct SnapshotFile {
  std::string path;
  uint64_t sequence = 0;
  std::string body;
};

// Writes the snapshot of the state through journal record `sequence`.
// Errors name the file (ResourceExhausted for a full disk, Unavailable for
// other I/O); the previous snapshot is then untouched.
absl::Status WriteSnapshotFile(const std::string& directory, uint64_t sequence,
                               std::string_view body);

// The newest snapshot of `directory`, checked (header, length, checksum),
// or nullopt when there is none. A damaged newest snapshot is DataLoss
// naming the file: restart never silently falls back to older state.
// Leftover .tmp files (a crash while writing) are ignored.
absl::StatusOr<std::optional<SnapshotFile>> ReadLatestSnapshotFile(
    const std::string& directory);

}  // namespace journal

#endif  // JOURNAL_SNAPSHOT_FILES_H_
