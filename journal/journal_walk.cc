#include "journal/journal_walk.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "journal/journal_reader.h"
#include "journal/segment_sink.h"
#include "journal/snapshot_files.h"

namespace journal {

absl::StatusOr<WalkReport> WalkJournal(
    const std::string& directory,
    const std::function<void(const Snapshot&)>& on_snapshot,
    const std::function<absl::Status(uint64_t, const JournalRecord&)>&
        on_record) {
  absl::StatusOr<std::vector<SegmentFileName>> segments =
      ListSegments(directory);
  if (!segments.ok()) return segments.status();
  WalkReport walk;
  JournalReadOptions options;  // kRefuse, no repair: read only.
  if (!segments->empty()) {
    options.from_sequence = segments->front().first_sequence;
  }
  // Records before the oldest segment are only in a snapshot: start there.
  if (segments->empty() || options.from_sequence > 1) {
    absl::StatusOr<std::optional<SnapshotFile>> file =
        ReadLatestSnapshotFile(directory);
    if (!file.ok()) return file.status();
    if (file->has_value()) {
      absl::StatusOr<Snapshot> snapshot = DecodeSnapshot((*file)->body);
      if (!snapshot.ok()) {
        return absl::DataLossError(
            absl::StrCat((*file)->path, ": ", snapshot.status().message()));
      }
      snapshot->info.sequence = (*file)->sequence;
      on_snapshot(*snapshot);
      walk.from_snapshot = true;
      options.from_sequence = (*file)->sequence + 1;
    } else if (segments->empty()) {
      // Nothing of a journal at all: most likely the wrong directory, and
      // an audit that printed nothing would pass for an empty history.
      return absl::NotFoundError(absl::StrCat(
          directory, " holds no journal: no segment (journal-*.seg) and no "
          "snapshot (snapshot-*.rsnap)"));
    }
  }
  walk.first_sequence = std::max<uint64_t>(options.from_sequence, 1);
  absl::StatusOr<JournalReadReport> report = ReadJournal(
      directory, options,
      [&](uint64_t sequence, std::string_view body) -> absl::Status {
        absl::StatusOr<JournalRecord> record = DecodeRecord(body);
        if (!record.ok()) {
          return absl::DataLossError(absl::StrCat(
              directory, ": record ", sequence, ": ",
              record.status().message()));
        }
        return on_record(sequence, *record);
      });
  if (!report.ok()) return report.status();
  walk.records = report->records;
  walk.warnings = report->warnings;
  return walk;
}

}  // namespace journal
