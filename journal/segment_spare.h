// File: journal/segment_spare.h
//
// The journal's next segment, zero-filled and synced ahead of time by a
// background thread, so that records are written over zeros the file
// already holds.
//
// Why: a write that grows a file changes its size, and fdatasync must then
// commit the size through the file system's own journal as well as flush
// the data (on ext4 a second device flush, done by its commit thread, which
// a busy CPU wakes late). Written over zeros, a record changes data blocks
// only, and a sync flushes just those: on this project's test machine the
// sync's latency halved (docs/PERFORMANCE.md, "The journal's cost").
//
// A segment a snapshot made unnecessary and RemoveSegmentsBefore kept
// (DIR/journal-reuse-*.tmp, segment_names.h) is reused before any new file
// is made: renamed to the spare's name and zero-filled over its own blocks,
// which changes no allocation (no extent conversion for the file system to
// commit while the journal syncs, no free space needed).
//
// One spare at a time, at DIR/journal-spare.tmp (never a segment name, so
// readers ignore it; a crash may leave it behind, and the next spare
// replaces it). The thread ("rd-jspare") zero-fills it in steps of
// kZeroStepBytes, paced (kPauseTimesStep), each on the disk before the
// next so that it never holds much unwritten data the journal's own syncs
// would have to flush: with
// direct writes (O_DIRECT, direct_segment_writes.h) where the file system
// takes them, which copy nothing into the page cache, else written back
// step by step. The descriptor Take returns is direct then too. Then the
// thread waits until the spare is taken. It makes no spare where zero-filling
// cannot help or could hurt: on tmpfs (no device), or when the file system
// has less than two segments and kFreeMarginBytes free (a spare must never
// be what fills the disk); it looks again after kRetryInterval.
//
//   SegmentSpare spare(directory, segment_bytes);
//   int fd = spare.Take(SegmentPath(directory, 42), SegmentHeader(42));
//   if (fd < 0) { /* none ready: create and grow the file instead */ }
#ifndef JOURNAL_SEGMENT_SPARE_H_
#define JOURNAL_SEGMENT_SPARE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/time/time.h"

namespace journal {

class SegmentSpare {
 public:
  // Zero-filled in steps this large (128 KiB: a few tenths of a
  // millisecond of this disk's bandwidth, which a journal sync issued
  // meanwhile waits for at most)...
  static constexpr int64_t kZeroStepBytes = int64_t{128} << 10;
  // ...with a pause as long as the step's own time after each: the zeros
  // take half the disk's time at most, not all of it for the length of a
  // segment, and a 64 MiB spare is still ready well before the journal
  // fills a segment at its peak.
  static constexpr int kPauseTimesStep = 1;
  // Free space a spare leaves, beyond a second segment, at the least.
  static constexpr int64_t kFreeMarginBytes = int64_t{64} << 20;
  // How long the thread waits after a spare it could not make.
  static constexpr absl::Duration kRetryInterval = absl::Seconds(1);

  // Whether a spare is ever made in `directory` (not on tmpfs): where none
  // is, nothing reuses a kept segment either.
  static bool MakesSpares(const std::string& directory);

  // Starts the thread; the first spare is made at once.
  // With `direct`, zero-filled with direct I/O where the file system takes
  // it (and Take's descriptor is direct then); otherwise through the page
  // cache, which leaves the zeros' pages cached for writes through it (a
  // write of part of a page that is not cached reads the page first).
  SegmentSpare(std::string directory, int64_t segment_bytes, bool direct);
  // Stops the thread (an unfinished spare is abandoned within one step) and
  // removes the spare file.
  ~SegmentSpare();
  SegmentSpare(const SegmentSpare&) = delete;
  SegmentSpare& operator=(const SegmentSpare&) = delete;

  // When a spare is ready: writes `header` at its start (a direct
  // descriptor's whole first page: `header` and zeros), renames it to
  // `path` (replacing a file of that name), and returns its descriptor,
  // which the caller now owns. The rename is not synced: the caller syncs
  // the directory before it reports a record of the segment durable.
  // Otherwise, or when the header or the rename fails, -1 (the spare is
  // dropped). Either way a new spare is started. Called by one thread at a
  // time.
  int Take(const std::string& path, std::string_view header);

  // Spares made since the start (taken or not), and how many of them were
  // kept segments reused; for tests and metrics.
  int64_t spares_made() const { return spares_made_.load(); }
  int64_t spares_reused() const { return spares_reused_.load(); }

 private:
  void Run();
  // Makes the spare file; its descriptor, or -1 (nothing left behind).
  int Make();
  // Opens path_ for the zero-fill (direct where asked and taken).
  int Open(int extra_flags);
  // Renames a kept segment (journal-reuse-*.tmp) to path_ and opens it,
  // at most segment_bytes_ long; -1 when there is none.
  int OpenReusable();

  const std::string directory_;
  const std::string path_;
  const int64_t segment_bytes_;
  const bool direct_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> spares_made_{0};
  std::atomic<int64_t> spares_reused_{0};
  std::mutex mu_;
  std::condition_variable changed_;
  int ready_fd_ = -1;   // guarded by mu_: a spare waiting to be taken
  bool wanted_ = true;  // guarded by mu_: the thread should make one
  std::thread thread_;
};

}  // namespace journal

#endif  // JOURNAL_SEGMENT_SPARE_H_
