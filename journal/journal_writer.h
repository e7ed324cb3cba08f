// File: journal/journal_writer.h
//
// Appends records to the journal, numbers them, and tells when each is
// durable. With kBatch and kNone, Append only queues the record (no system
// call, no lock the writer's thread holds, and with AppendLater no
// encoding, on the caller's thread); the writer's own thread frames what
// was queued and writes it with one write. kBatch then syncs it (group
// commit: a group closes batch_interval
// after its first record was appended, or sooner once batch_max_records
// wait; records appended during a sync are written right after it if they
// have waited that long already). A caller replies to its client only after
// WaitDurable says the record is covered.
//
// What each mode promises once WaitDurable(seq) returned OK:
//   kAlways  the record was written and synced before Append returned: it
//            survives a crash of the process and a power loss.
//   kBatch   the same, for the group that covered it; WaitDurable blocks
//            for at most about batch_interval plus one write and one sync.
//   kNone    the record was written to the operating system's page cache
//            (by the writer's thread, with whatever was queued with it;
//            never synced): it survives a crash of the process, not of the
//            machine (a power loss may take the last seconds).
//
// A full or failing disk:
//   - a write that fails (disk full: ResourceExhausted; other I/O:
//     Unavailable) leaves nothing partial in the sink, and the writer keeps
//     the records it could not write, in order. WaitDurable fails for every
//     record numbered so far that was not durable yet: its outcome is
//     unknown to the client (the record will be written once the disk
//     takes it). Append is then refused with the write's error, numbering
//     nothing, until the kept records are written: Writable() and Append
//     try that at once, and the writer's thread every kHeldRetryInterval.
//   - a sync that fails fails WaitDurable for the records it would have
//     covered; those may or may not be found after a restart. Later records
//     go on (the sink moves to a new segment).
//
// A thread that serves many clients need not block in WaitDurable: it
// polls settled_fd(), which becomes readable after every write or sync that
// settled records' fates, and asks Outcome(seq) of each reply it holds.
//
// Thread-safety: every method may be called from any thread.
#ifndef JOURNAL_JOURNAL_WRITER_H_
#define JOURNAL_JOURNAL_WRITER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "journal/journal_sink.h"
#include "journal/record_group.h"
#include "journal/writer_wakeup.h"

namespace journal {

enum class FsyncMode { kAlways, kBatch, kNone };

// "always", "batch" or "none"; InvalidArgument naming the value otherwise.
absl::StatusOr<FsyncMode> ParseFsyncMode(std::string_view text);
const char* FsyncModeName(FsyncMode mode);

// One group handed to the sink (JournalWriterOptions::on_group_written).
struct JournalGroupWritten {
  int records = 0;        // in the write (0: a sync alone)
  int64_t bytes = 0;      // the frames written (group frames deflated)
  bool synced = false;    // a sync was made after it
  bool ok = false;        // the write and the sync (if any) succeeded
  absl::Duration sync_time;  // the sink's Sync (zero: none)
};

struct JournalWriterOptions {
  FsyncMode fsync = FsyncMode::kBatch;
  // kBatch: how long a group gathers from its first record before its
  // write and sync start, and how many records start them sooner.
  absl::Duration batch_interval = absl::Microseconds(500);
  int batch_max_records = 512;
  // kBatch, kNone: each write's records go out as group frames (deflated
  // together, record_group.h) rather than one plain frame each, where that
  // makes them smaller. kAlways writes every record plain.
  bool group_frames = true;
  // Told of every write and sync, on the thread that made them (the
  // writer's in kBatch), without the writer's lock held: for metrics. It
  // must not call back into the writer.
  std::function<void(const JournalGroupWritten&)> on_group_written;
};

// How often the writer's thread tries again to write the records a failed
// write left (Append and Writable also try, when called).
inline constexpr absl::Duration kHeldRetryInterval = absl::Milliseconds(50);

struct JournalWriterStats {
  uint64_t appended = 0;         // records numbered
  uint64_t append_refusals = 0;  // Appends refused while records were kept
  uint64_t writes = 0;           // writes to the sink (one per group)
  uint64_t write_failures = 0;
  uint64_t records_kept = 0;     // left by a failed write, not yet written
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
  // Writes and syncs what was appended, and stops the writer's thread.
  ~JournalWriter();

  // Appends one record body (at most kMaxRecordBytes) and returns its
  // sequence number. Refused (numbering nothing) with the failed write's
  // error while records it left cannot be written yet.
  absl::StatusOr<uint64_t> Append(std::string_view body);
  // A record body made when it is written.
  using LaterBody = absl::AnyInvocable<std::string()>;
  // Like Append, for a body `body()` makes: with kBatch and kNone, called
  // once on the writer's thread when its group is written (the caller's
  // thread only numbers and queues it); with kAlways, at once. Moved
  // from only when a sequence is returned: a refused call leaves `body`
  // for the caller. A body over kMaxRecordBytes then fails the write
  // (InvalidArgument), and the record is kept like a failed write's.
  absl::StatusOr<uint64_t> AppendLater(LaterBody& body);
  // Like Append, for a body made already, taken without a copy: with kBatch
  // and kNone only numbered and queued. When a sequence is returned, `body`
  // is left empty, holding (when there is one) the buffer of a record
  // written earlier, with its capacity: a caller that makes its next body
  // in it allocates nothing, and the buffers stay with the thread that
  // made them. A refused call leaves `body` as it was.
  absl::StatusOr<uint64_t> AppendMade(std::string& body);
  // OK when Append would take a record now. While a failed write's records
  // are kept, tries to write them first (unless a write is under way) and
  // returns the error if they still cannot be. Cheap when nothing is kept.
  absl::Status Writable();
  // Whether record `sequence` is durable already, without waiting or
  // locking: true once WaitDurable(sequence) would return OK at once.
  bool IsDurable(uint64_t sequence) const;
  // Blocks until record `sequence` is durable as the mode promises (OK), or
  // the sync that would have covered it failed (that error).
  absl::Status WaitDurable(uint64_t sequence);
  // What WaitDurable(sequence) would return, without waiting: nullopt while
  // the record's fate is open. Takes no lock unless a write or sync has
  // failed. Fates settle in sequence order: once Outcome(n) has one, so has
  // every record before n.
  std::optional<absl::Status> Outcome(uint64_t sequence) const;
  // An eventfd that becomes readable after every write or sync that settled
  // records' fates (made durable, or failed them). One reader drains it
  // (read() of 8 bytes) and then asks Outcome: a fate settled after the
  // drain makes it readable again, so none is missed. Owned by the writer.
  int settled_fd() const { return settled_fd_; }
  // Whether record `sequence`'s fate is known (Outcome has one), without
  // waiting or locking.
  bool IsSettled(uint64_t sequence) const {
    return sequence != 0 &&
           sequence <= settled_through_published_.load(std::memory_order_seq_cst);
  }
  // Makes settled_fd() readable, as a settling write or sync does: for a
  // thread that handed the reader a record's reply after the record had
  // settled (the reader may have drained the signal before the reply came).
  void SignalSettled();
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
  // kBatch, kNone: a record numbered by an appending thread, its body not made
  // yet. Allocated by the appending thread and, once the writer's thread
  // has made and framed its body, handed back to the appending threads
  // (the body and its captures were allocated there: freeing them on the
  // writer's thread would make the two threads take each other's allocator
  // locks), which reuse it and its `made` buffer for a later record.
  struct QueuedRecord {
    uint64_t sequence = 0;
    LaterBody body;     // null for a body made already,
    std::string made;   // which is this
    QueuedRecord* next = nullptr;
  };
  JournalWriter(std::unique_ptr<JournalSink> sink, uint64_t next_sequence,
                const JournalWriterOptions& options);
  // The writer's thread (kBatch, kNone): gathers a group, writes it, and
  // with kBatch syncs it.
  void WriteLoop();
  // Writes the buffered records to the sink and, with `sync`, syncs it
  // (`lock` holds mu_ on entry and exit; released for the I/O). One at a
  // time: waits for a write under way first.
  absl::Status WriteLocked(std::unique_lock<std::mutex>& lock, bool sync);
  // Not kAlways, append_mu_ held, Append refused nothing: numbers the body
  // (`body` to make, or `*made`, swapped for a recycled record's empty
  // buffer) and queues it for the writer's thread without taking mu_.
  uint64_t QueueRecord(LaterBody body, std::string* made);
  // Not kAlways: AppendLater's (`later`) and AppendMade's (`made`) queuing,
  // refused while a failed write's records cannot be written yet.
  absl::StatusOr<uint64_t> Queue(LaterBody* later, std::string* made);
  // mu_ held: moves the queued records, oldest first, to later_.
  void TakeQueuedLocked();
  // append_mu_ held: takes back the records whose bodies the writer's
  // thread has framed, for reuse (within the kRecycled* bounds; the rest
  // are freed).
  void RecycleSpent();
  static void FreeList(QueuedRecord* record);
  // mu_ held: records numbered and not yet handed to the sink (queued or
  // not); of those, the ones this side holds (framed in buffer_, or in
  // later_).
  uint64_t BufferedLocked() const {
    return numbered_through_.load(std::memory_order_seq_cst) + 1 -
           buffered_from_;
  }
  uint64_t TakenLocked() const { return taken_through_ + 1 - buffered_from_; }
  // mu_ held: refuses while a failed write's records are kept (trying to
  // write them first when no write is under way).
  absl::Status WritableLocked(std::unique_lock<std::mutex>& lock);
  // mu_ held.
  absl::Status FailureOf(uint64_t sequence) const;

  const std::unique_ptr<JournalSink> sink_;
  const JournalWriterOptions options_;
  const uint64_t first_sequence_;

  // kBatch, kNone: appending threads take only append_mu_ (numbering and
  // queueing in order), never mu_, which the writer's thread and the
  // threads waiting for syncs hold: a thread executing calls is never put
  // to sleep behind one of them that its CPU's scheduler has preempted.
  // queued_ is the records numbered and not taken yet, newest first;
  // spent_ those whose bodies were made, for RecycleSpent.
  std::mutex append_mu_;
  std::atomic<QueuedRecord*> queued_{nullptr};
  std::atomic<QueuedRecord*> spent_{nullptr};
  // Spent records kept for QueueRecord (guarded by append_mu_): at most
  // kRecycledRecords, holding at most kRecycledBytes of body buffers, none
  // over kRecycledBodyBytes.
  static constexpr size_t kRecycledRecords = 1024;
  static constexpr size_t kRecycledBytes = 4 << 20;
  static constexpr size_t kRecycledBodyBytes = 64 << 10;
  QueuedRecord* recycled_ = nullptr;
  size_t recycled_count_ = 0;
  size_t recycled_bytes_ = 0;
  // The highest sequence numbered (appending threads write it: under
  // append_mu_, or under mu_ with kAlways).
  std::atomic<uint64_t> numbered_through_;
  // The writer's thread sleeps on wakeups_ while nothing is
  // buffered, with writer_idle_ set; an Append that queues onto an empty
  // queue then bumps wakeups_. While a group gathers (gathering_, from
  // record group_from_), the Append that fills it notifies appended_.
  std::atomic<bool> writer_idle_{false};
  std::atomic<bool> gathering_{false};
  std::atomic<uint64_t> group_from_{0};
  // When an Append last queued onto the empty queue (Unix nanoseconds):
  // the clock of the group that record opens.
  std::atomic<int64_t> group_opened_ns_{0};
  WriterWakeup wakeups_;

  // std::mutex rather than absl::Mutex: ThreadSanitizer sees its ordering
  // (Debian's Abseil is not instrumented). Every field below is guarded.
  mutable std::mutex mu_;
  // The highest sequence taken from queued_ (or framed, with kAlways).
  uint64_t taken_through_;
  // Frames of the records buffered_from_ .. taken_through_ that were made,
  // not yet written; spare_ is the buffer a write hands to the sink (kept,
  // with its capacity, for the next swap).
  std::string buffer_;
  std::string spare_;
  // The writer's thread's (one write at a time): the plain frames of the
  // group under way, and its deflater.
  std::string group_frames_;
  std::string group_body_;
  RecordGroupDeflater deflater_;
  // The records after those framed in buffer_, taken from queued_
  // with their bodies not made yet (the last later_.size() through
  // taken_through_). Owned.
  std::vector<QueuedRecord*> later_;
  uint64_t buffered_from_;
  // Not OK while buffer_ starts with records a failed write left (its
  // error); holding_ mirrors it for Writable's lock-free check.
  absl::Status held_;
  std::atomic<bool> holding_{false};
  uint64_t written_through_;
  uint64_t durable_through_;
  // The highest record whose fate is known (durable, or failed).
  uint64_t synced_through_;
  bool writing_ = false;  // a write or sync is under way (mu_ released)
  // Two conditions, so that a sync's waiters and the writer's thread wake
  // apart: appended_ (a group filled, held_ changed, or stopping) is the
  // writer's thread's; written_ (a write or sync done, or stopping) is
  // WaitDurable's, Flush's and WriteLocked's.
  std::condition_variable appended_;
  std::condition_variable written_;
  // When the group being gathered started (InfiniteFuture: none).
  absl::Time group_started_at_;
  bool stopping_ = false;
  // The most recent failed syncs (records in them never become durable).
  std::vector<FailedRange> failed_;
  JournalWriterStats stats_;
  // durable_through_ and the last record of the newest failed range (0:
  // none), published for IsDurable (written under mu_, read without it).
  std::atomic<uint64_t> durable_through_published_{0};
  std::atomic<uint64_t> failed_through_{0};
  // synced_through_, published likewise (after the two above).
  std::atomic<uint64_t> settled_through_published_{0};
  // settled_fd(); -1 when the kernel gave none (Create refuses that).
  int settled_fd_ = -1;
  std::thread write_thread_;
};

}  // namespace journal

#endif  // JOURNAL_JOURNAL_WRITER_H_
