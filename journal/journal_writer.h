// File: journal/journal_writer.h
//
// Appends records to the journal, numbers them, and tells when each is
// durable. Group commit: with FsyncMode::kBatch one sync covers every record
// appended within a short interval (batch_interval, or sooner once
// batch_max_records are waiting); a caller replies to its client only after
// WaitDurable says the record is covered.
//
// What each mode promises once WaitDurable(seq) returned OK:
//   kAlways  the record was synced before Append returned: it survives a
//            crash of the process and a power loss.
//   kBatch   the same, for the sync that covered it; Append returns at once
//            and WaitDurable blocks for at most about batch_interval plus
//            one sync.
//   kNone    the record is in the operating system's page cache: it
//            survives a crash of the process, not of the machine (a power
//            loss may take the last seconds).
//
// A failed Append (disk full: ResourceExhausted; other I/O: Unavailable)
// numbers nothing and writes nothing. A failed sync fails WaitDurable for
// every record it would have covered; those records may or may not be found
// after a restart, so a client told of the failure must treat the outcome
// as unknown. Later appends go on (to a new segment) once the disk serves
// again.
//
// Thread-safety: every method may be called from any thread.
#ifndef JOURNAL_JOURNAL_WRITER_H_
#define JOURNAL_JOURNAL_WRITER_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "journal/journal_sink.h"

namespace journal {

enum class FsyncMode { kAlways, kBatch, kNone };

// "always", "batch" or "none"; InvalidArgument naming the value otherwise.
absl::StatusOr<FsyncMode> ParseFsyncMode(std::string_view text);
const char* FsyncModeName(FsyncMode mode);

struct JournalWriterOptions {
  FsyncMode fsync = FsyncMode::kBatch;
  // kBatch: the longest a record waits for its sync, and how many records
  // make a sync start before that.
  absl::Duration batch_interval = absl::Milliseconds(2);
  int batch_max_records = 512;
};

struct JournalWriterStats {
  uint64_t appended = 0;        // records numbered
  uint64_t append_failures = 0;
  uint64_t syncs = 0;
  uint64_t sync_failures = 0;
  uint64_t durable_through = 0;  // the highest durable sequence (0: none)
};

class JournalWriter {
 public:
  // The first record appended gets `next_sequence` (>= 1): one past the
  // last record a restart found. InvalidArgument for bad options.
  static absl::StatusOr<std::unique_ptr<JournalWriter>> Create(
      std::unique_ptr<JournalSink> sink, uint64_t next_sequence,
      const JournalWriterOptions& options);
  // Syncs what was appended (kBatch, kNone) and stops the batch thread.
  ~JournalWriter();

  // Appends one record body (at most kMaxRecordBytes) and returns its
  // sequence number.
  absl::StatusOr<uint64_t> Append(std::string_view body);
  // Blocks until record `sequence` is durable as the mode promises (OK), or
  // the sync that would have covered it failed (that error).
  absl::Status WaitDurable(uint64_t sequence);
  // Syncs now whatever is appended (every mode), and waits for it.
  absl::Status Flush();

  JournalWriterStats Stats() const;
  FsyncMode fsync() const { return options_.fsync; }

 private:
  struct FailedRange {
    uint64_t first = 0;
    uint64_t last = 0;
    absl::Status status;
  };
  JournalWriter(std::unique_ptr<JournalSink> sink, uint64_t next_sequence,
                const JournalWriterOptions& options);
  void SyncLoop();
  // Syncs records up to written_through_ (`lock` holds mu_ on entry and
  // exit; released for the sync itself).
  absl::Status SyncLocked(std::unique_lock<std::mutex>& lock);
  // mu_ held.
  absl::Status FailureOf(uint64_t sequence) const;

  const std::unique_ptr<JournalSink> sink_;
  const JournalWriterOptions options_;

  // std::mutex rather than absl::Mutex: ThreadSanitizer sees its ordering
  // (Debian's Abseil is not instrumented). Every field below is guarded.
  mutable std::mutex mu_;
  uint64_t next_sequence_;
  uint64_t written_through_;
  uint64_t durable_through_;
  // The highest record a finished sync covered, successful or not.
  uint64_t synced_through_;
  bool syncing_ = false;
  std::condition_variable changed_;  // appended, synced, or stopping
  absl::Time oldest_unsynced_at_;
  bool stopping_ = false;
  // The most recent failed syncs (records in them never become durable).
  std::vector<FailedRange> failed_;
  JournalWriterStats stats_;
  std::thread sync_thread_;
};

}  // namespace journal

#endif  // JOURNAL_JOURNAL_WRITER_H_
