// File: journal/segment_sink.h
//
// The journal's local storage: segment files in one directory, named by the
// sequence number of their first record (journal-00000000000000000001.seg),
// each starting with the segment header of record_framing.h. A segment is
// never appended to after a restart: the writer starts a new one.
//
// Errors name the file and the offset. A full disk (ENOSPC, EDQUOT) is
// ResourceExhausted, any other I/O failure Unavailable; both leave the
// segment as it was before the failed Append (cut back to its last whole
// record), or, when even that fails, closed, so the next Append starts a
// new segment.
//
// Space: by default each new segment is a spare file zero-filled ahead of
// time (segment_spare.h), and records are written over its zeros, so a sync
// flushes data only; the bytes after the last record are zeros (readers
// stop at them, docs/JOURNAL.md), with direct I/O where the file system
// takes it (direct_segment_writes.h). When no spare is ready (or with
// kGrowOnWrite), a segment is created empty and grows with each write. On
// destruction the current segment is cut to its records.
#ifndef JOURNAL_SEGMENT_SINK_H_
#define JOURNAL_SEGMENT_SINK_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "journal/journal_sink.h"
#include "journal/segment_names.h"

namespace journal {

// Retires the segments all of whose records come before `sequence` (the
// ones a snapshot taken at sequence - 1 makes unnecessary). The last segment
// is never retired. Up to `keep_for_reuse` files (those kept already
// included) are renamed to DIR/journal-reuse-<first sequence>.tmp, for the
// spare's thread to zero-fill and take as a next segment
// (segment_spare.h), as long as the kept files hold no more than the file
// system has free besides; the others are deleted.
//
// Why keep any: a deleted file's blocks are freed, and a file system
// mounted with online discard (`-o discard`, as this project's test
// machine is) discards them at its next commit, which every fdatasync then
// waits behind: deleting 1 GiB of segments stalled a 8 KiB write-and-sync
// loop for 80-115 ms (docs/PERFORMANCE.md). Written over, a kept file's
// blocks stay allocated: no discard, and no allocation either.
absl::Status RemoveSegmentsBefore(const std::string& directory,
                                  uint64_t sequence, int keep_for_reuse = 0);

class SegmentSpare;  // segment_spare.h

// How a new segment gets its space.
enum class SegmentSpace {
  kZeroFilledAhead,  // a spare, zero-filled and synced in the background
  kGrowOnWrite,      // an empty file, grown by each write
};

// How a zero-filled segment is written: its spare's zeros, then records.
enum class SegmentWrites {
  // Direct I/O where the file system takes it: no copy into the page
  // cache, but each write waits for the disk (for --fsync=batch and
  // always, whose replies wait for the disk anyway).
  kDirectWhereSupported,
  // Through the page cache: a write returns once copied (--fsync=none,
  // whose replies wait for the write only). The zeros too, so that the
  // pages the records go to are cached (a write to part of a page not
  // cached would read it from the disk first).
  kPageCache,
};

class SegmentSink : public JournalSink {
 public:
  // Creates `directory` if needed. An Append starts a new segment when the
  // current one has reached segment_bytes; the records of one Append (a
  // group) stay together, so a segment may pass segment_bytes by a group.
  static absl::StatusOr<std::unique_ptr<SegmentSink>> Open(
      const std::string& directory, int64_t segment_bytes = 64 << 20,
      SegmentSpace space = SegmentSpace::kZeroFilledAhead,
      SegmentWrites writes = SegmentWrites::kDirectWhereSupported);
  ~SegmentSink() override;

  absl::Status Append(uint64_t first_sequence, int count,
                      std::string_view frames) override;
  absl::Status Sync() override;

  const std::string& directory() const { return directory_; }
  // Spares zero-filled so far (0 with kGrowOnWrite or on tmpfs); tests
  // wait on it to know the next segment will be zero-filled.
  int64_t spares_made() const;
  // Of those, the kept segments reused (RemoveSegmentsBefore).
  int64_t spares_reused() const;

 private:
  struct Segment;
  SegmentSink(std::string directory, int64_t segment_bytes, SegmentSpace space,
              SegmentWrites writes);
  absl::Status StartSegment(uint64_t first_sequence);

  const std::string directory_;
  const int64_t segment_bytes_;
  // Null with kGrowOnWrite. Taken from by Append's thread only.
  std::unique_ptr<SegmentSpare> spare_;
  // The segment Append writes (guarded by mu_); Sync takes a reference
  // under mu_ and syncs outside it. std::mutex: ThreadSanitizer sees it.
  std::mutex mu_;
  std::shared_ptr<Segment> current_;
  // Left behind by Append since the last Sync (guarded by mu_): segments
  // replaced whose tails are not synced yet, and whether a new segment's
  // name is not yet durable in the directory. Sync makes both durable
  // before the current segment, so a rotation costs Append no fsync.
  std::vector<std::shared_ptr<Segment>> unsynced_previous_;
  bool directory_unsynced_ = false;
};

}  // namespace journal

#endif  // JOURNAL_SEGMENT_SINK_H_
