// File: journal/snapshot_codec.h
//
// A router's state (routing/router_state.h) and what a restart needs beside
// it, as the FlatBuffers body of a snapshot file (journal/snapshot.fbs), and
// back. Decoding verifies the buffer and refuses what it cannot trust (a
// bad buffer, an unknown schema version, a number out of range) with
// DataLoss naming the problem, never a crash.
#ifndef JOURNAL_SNAPSHOT_CODEC_H_
#define JOURNAL_SNAPSHOT_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "routing/router_state.h"

namespace journal {

inline constexpr uint32_t kSnapshotSchemaVersion = 1;

struct SnapshotInfo {
  // The last journal record the state includes.
  uint64_t sequence = 0;
  absl::Time taken_at = absl::InfinitePast();
  // The rules file in force (empty: the built-in policy), its text, and
  // the router's rules version.
  std::string rules_file;
  std::string rules_source;
  uint64_t rules_version = 0;
};

struct Snapshot {
  SnapshotInfo info;
  routing::RouterState state;
};

std::string EncodeSnapshot(const SnapshotInfo& info,
                           const routing::RouterState& state);
absl::StatusOr<Snapshot> DecodeSnapshot(std::string_view body);

}  // namespace journal

#endif  // JOURNAL_SNAPSHOT_CODEC_H_
