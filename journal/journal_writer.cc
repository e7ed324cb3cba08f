#include "journal/journal_writer.h"

#include <errno.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "journal/record_framing.h"

namespace journal {
namespace {

// Failed syncs remembered one by one; beyond this the oldest two merge (the
// records between them are then reported failed too: unknown, never lost
// silently).
constexpr size_t kMaxFailedRanges = 256;

}  // namespace

absl::StatusOr<FsyncMode> ParseFsyncMode(std::string_view text) {
  if (text == "always") return FsyncMode::kAlways;
  if (text == "batch") return FsyncMode::kBatch;
  if (text == "none") return FsyncMode::kNone;
  return absl::InvalidArgumentError(absl::StrCat(
      "fsync mode '", std::string(text), "': expected always, batch or none"));
}

const char* FsyncModeName(FsyncMode mode) {
  switch (mode) {
    case FsyncMode::kAlways:
      return "always";
    case FsyncMode::kBatch:
      return "batch";
    case FsyncMode::kNone:
      return "none";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<JournalWriter>> JournalWriter::Create(
    std::unique_ptr<JournalSink> sink, uint64_t next_sequence,
    const JournalWriterOptions& options) {
  if (sink == nullptr) {
    return absl::InvalidArgumentError("journal writer: no sink");
  }
  if (next_sequence == 0) {
    return absl::InvalidArgumentError(
        "journal writer: sequence numbers start at 1");
  }
  if (options.batch_interval <= absl::ZeroDuration() ||
      options.batch_interval > absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("journal writer: batch interval ",
                     absl::FormatDuration(options.batch_interval),
                     " outside (0, 1s]"));
  }
  if (options.batch_max_records < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("journal writer: batch of ", options.batch_max_records,
                     " records; at least 1"));
  }
  std::unique_ptr<JournalWriter> writer(
      new JournalWriter(std::move(sink), next_sequence, options));
  if (writer->settled_fd_ < 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("journal writer: cannot create an eventfd: ",
                     std::strerror(errno)));
  }
  return writer;
}

JournalWriter::JournalWriter(std::unique_ptr<JournalSink> sink,
                             uint64_t next_sequence,
                             const JournalWriterOptions& options)
    : sink_(std::move(sink)),
      options_(options),
      first_sequence_(next_sequence),
      numbered_through_(next_sequence - 1),
      taken_through_(next_sequence - 1),
      buffered_from_(next_sequence),
      written_through_(next_sequence - 1),
      durable_through_(next_sequence - 1),
      synced_through_(next_sequence - 1),
      group_started_at_(absl::InfiniteFuture()) {
  stats_.durable_through = durable_through_;
  durable_through_published_.store(durable_through_);
  settled_through_published_.store(synced_through_);
  settled_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (settled_fd_ < 0) return;  // Create refuses it; no thread started.
  if (options_.fsync != FsyncMode::kAlways) {
    write_thread_ = std::thread([this] {
      // As top and perf name it (routingd's threads are all "rd-...").
      pthread_setname_np(pthread_self(), "rd-journal");
      WriteLoop();
    });
  }
}

JournalWriter::~JournalWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    appended_.notify_all();
    written_.notify_all();
  }
  // After stopping_ (the writer's thread reads both under mu_ before it
  // sleeps on wakeups_).
  wakeups_.Bump();
  if (write_thread_.joinable()) write_thread_.join();
  // Best effort: nobody is left to tell.
  std::unique_lock<std::mutex> lock(mu_);
  WriteLocked(lock, /*sync=*/true).IgnoreError();
  for (QueuedRecord* record : later_) delete record;
  later_.clear();
  FreeList(queued_.exchange(nullptr));
  FreeList(spent_.exchange(nullptr));
  FreeList(recycled_);
  if (settled_fd_ >= 0) ::close(settled_fd_);
}

void JournalWriter::FreeList(QueuedRecord* record) {
  while (record != nullptr) {
    QueuedRecord* next = record->next;
    delete record;
    record = next;
  }
}

void JournalWriter::RecycleSpent() {
  if (spent_.load(std::memory_order_relaxed) == nullptr) return;
  QueuedRecord* record = spent_.exchange(nullptr, std::memory_order_acquire);
  while (record != nullptr) {
    QueuedRecord* next = record->next;
    const size_t bytes = record->made.capacity();
    if (recycled_count_ < kRecycledRecords && bytes <= kRecycledBodyBytes &&
        recycled_bytes_ + bytes <= kRecycledBytes) {
      record->body = nullptr;  // its captures freed here, where made
      record->made.clear();
      record->next = recycled_;
      recycled_ = record;
      ++recycled_count_;
      recycled_bytes_ += bytes;
    } else {
      delete record;
    }
    record = next;
  }
}

absl::Status JournalWriter::WritableLocked(
    std::unique_lock<std::mutex>& lock) {
  if (!holding_.load(std::memory_order_relaxed)) return absl::OkStatus();
  if (!writing_) {
    WriteLocked(lock, options_.fsync != FsyncMode::kNone).IgnoreError();
  }
  return held_;
}

absl::Status JournalWriter::Writable() {
  if (!holding_.load(std::memory_order_acquire)) return absl::OkStatus();
  std::unique_lock<std::mutex> lock(mu_);
  return WritableLocked(lock);
}

absl::StatusOr<uint64_t> JournalWriter::Append(std::string_view body) {
  if (body.size() > kMaxRecordBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("journal: a record of ", body.size(),
                     " bytes is over the limit of ", kMaxRecordBytes));
  }
  if (options_.fsync != FsyncMode::kAlways) {
    std::string copy(body);
    return AppendMade(copy);
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (absl::Status writable = WritableLocked(lock); !writable.ok()) {
    ++stats_.append_refusals;
    return writable;
  }
  const uint64_t sequence = taken_through_ + 1;
  AppendFrame(body, &buffer_);
  taken_through_ = sequence;
  numbered_through_.store(sequence, std::memory_order_release);
  // Its outcome is what WaitDurable reports.
  WriteLocked(lock, /*sync=*/true).IgnoreError();
  return sequence;
}

absl::StatusOr<uint64_t> JournalWriter::AppendLater(LaterBody& body) {
  if (options_.fsync == FsyncMode::kAlways) return Append(body());
  return Queue(&body, nullptr);
}

absl::StatusOr<uint64_t> JournalWriter::AppendMade(std::string& body) {
  if (options_.fsync == FsyncMode::kAlways) {
    absl::StatusOr<uint64_t> sequence = Append(body);
    if (sequence.ok()) body.clear();
    return sequence;
  }
  return Queue(nullptr, &body);
}

absl::StatusOr<uint64_t> JournalWriter::Queue(LaterBody* later,
                                              std::string* made) {
  std::lock_guard<std::mutex> append(append_mu_);
  RecycleSpent();
  if (holding_.load(std::memory_order_acquire)) {
    // A failed write's records are kept: only now is mu_ taken, to try
    // them (or refuse).
    std::unique_lock<std::mutex> lock(mu_);
    if (absl::Status writable = WritableLocked(lock); !writable.ok()) {
      ++stats_.append_refusals;
      return writable;
    }
  }
  return QueueRecord(later != nullptr ? std::move(*later) : nullptr, made);
}

uint64_t JournalWriter::QueueRecord(LaterBody body, std::string* made) {
  const uint64_t sequence =
      numbered_through_.load(std::memory_order_relaxed) + 1;
  QueuedRecord* record = recycled_;
  if (record != nullptr) {
    recycled_ = record->next;
    --recycled_count_;
    recycled_bytes_ -= record->made.capacity();
  } else {
    record = new QueuedRecord;
  }
  record->sequence = sequence;
  record->body = std::move(body);
  if (made != nullptr) record->made.swap(*made);  // *made: empty, reusable
  QueuedRecord* newest = queued_.load(std::memory_order_relaxed);
  do {
    // The first record of a group starts its clock (a group gathered while
    // the previous one was syncing may be due at once).
    if (newest == nullptr) {
      group_opened_ns_.store(absl::GetCurrentTimeNanos(),
                             std::memory_order_relaxed);
    }
    record->next = newest;
  } while (!queued_.compare_exchange_weak(newest, record,
                                          std::memory_order_seq_cst,
                                          std::memory_order_relaxed));
  // `record` is the writer's thread's now (made and freed at any moment).
  numbered_through_.store(sequence, std::memory_order_seq_cst);
  // The writer's thread sets writer_idle_ (or gathering_) and then looks at
  // queued_; this thread wrote queued_ and now looks at the flag: one of
  // the two sees the other (both sequentially consistent).
  if (newest == nullptr && writer_idle_.load(std::memory_order_seq_cst)) {
    wakeups_.Bump();
  } else if (gathering_.load(std::memory_order_seq_cst) &&
             sequence + 1 - group_from_.load(std::memory_order_relaxed) ==
                 static_cast<uint64_t>(options_.batch_max_records)) {
    // This record fills the group: mu_ only here, once per full group.
    std::lock_guard<std::mutex> lock(mu_);
    appended_.notify_all();
  }
  return sequence;
}

void JournalWriter::TakeQueuedLocked() {
  QueuedRecord* newest = queued_.exchange(nullptr, std::memory_order_acquire);
  if (newest == nullptr) return;
  const size_t from = later_.size();
  for (QueuedRecord* record = newest; record != nullptr;
       record = record->next) {
    later_.push_back(record);
  }
  // Queued newest first, numbered in order: oldest first from here.
  std::reverse(later_.begin() + from, later_.end());
  taken_through_ = later_.back()->sequence;
}

absl::Status JournalWriter::WriteLocked(std::unique_lock<std::mutex>& lock,
                                        bool sync) {
  written_.wait(lock, [this] { return !writing_; });
  TakeQueuedLocked();
  const uint64_t first = buffered_from_;
  const uint64_t count = TakenLocked();
  // --fsync=none counts written records as synced: a sync asked of it
  // (Flush, shutdown) always reaches the disk.
  const bool sync_needed =
      sync && (count > 0 || synced_through_ < written_through_ ||
               options_.fsync == FsyncMode::kNone);
  if (count == 0 && !sync_needed) return absl::OkStatus();
  writing_ = true;
  spare_.clear();
  std::swap(buffer_, spare_);
  std::vector<QueuedRecord*> later;
  later.swap(later_);
  buffered_from_ = taken_through_ + 1;
  group_started_at_ = absl::InfiniteFuture();
  lock.unlock();
  absl::Status written = absl::OkStatus();
  // The queued bodies (kBatch, kNone) are made and framed here, after the frames
  // a failed write left, on this thread rather than the caller's.
  size_t made = 0;
  QueuedRecord* spent = nullptr;
  // With group frames, the records' plain frames gather in group_frames_
  // and go to spare_ a group at a time (a group ends before a record would
  // take it past kMaxRecordGroupBytes).
  const bool grouped = options_.group_frames && later.size() >= 2;
  int grouped_records = 0;
  auto end_group = [&] {
    if (grouped_records >= 2 &&
        deflater_.Deflate(group_frames_, grouped_records, &group_body_)) {
      AppendGroupFrame(group_body_, &spare_);
    } else {
      spare_.append(group_frames_);
    }
    group_frames_.clear();
    grouped_records = 0;
  };
  for (; made < later.size(); ++made) {
    QueuedRecord& record = *later[made];
    std::string later_body;
    if (record.body) later_body = record.body();
    const std::string& body = record.body ? later_body : record.made;
    if (body.size() > kMaxRecordBytes) {
      written = absl::InvalidArgumentError(absl::StrCat(
          "journal: record ", later[made]->sequence, " is ", body.size(),
          " bytes, over the limit of ", kMaxRecordBytes));
      break;
    }
    if (grouped) {
      if (grouped_records > 0 &&
          group_frames_.size() + kFrameHeaderBytes + body.size() >
              kMaxRecordGroupBytes) {
        end_group();
      }
      AppendFrame(body, &group_frames_);
      ++grouped_records;
    } else {
      AppendFrame(body, &spare_);
    }
    later[made]->next = spent;
    spent = later[made];
  }
  if (grouped) end_group();
  if (spent != nullptr) {
    // Back to the appending threads, whose allocations they hold.
    QueuedRecord* oldest_spent = later.front();
    QueuedRecord* head = spent_.load(std::memory_order_relaxed);
    do {
      oldest_spent->next = head;
    } while (!spent_.compare_exchange_weak(head, spent,
                                           std::memory_order_release,
                                           std::memory_order_relaxed));
  }
  JournalGroupWritten group;
  group.records = static_cast<int>(count);
  group.bytes = static_cast<int64_t>(spare_.size());
  if (written.ok() && count > 0) {
    written = sink_->Append(first, static_cast<int>(count), spare_);
  }
  absl::Status synced = absl::OkStatus();
  if (written.ok() && sync_needed) {
    const absl::Time sync_started = absl::Now();
    synced = sink_->Sync();
    group.synced = true;
    group.sync_time = absl::Now() - sync_started;
  }
  group.ok = written.ok() && synced.ok();
  if (options_.on_group_written) options_.on_group_written(group);
  lock.lock();
  writing_ = false;
  if (count > 0) ++stats_.writes;
  if (!written.ok()) {
    // Kept, ahead of whatever was appended meanwhile, and written before
    // any record after them.
    ++stats_.write_failures;
    spare_.append(buffer_);
    std::swap(buffer_, spare_);
    // Bodies not made yet stay, ahead of those taken meanwhile.
    later_.insert(later_.begin(), later.begin() + made, later.end());
    buffered_from_ = first;
    held_ = written;
    holding_.store(true, std::memory_order_release);
    // Every record numbered so far whose fate was open: its client is told
    // the outcome is unknown (a kept record is written later).
    const uint64_t numbered = numbered_through_.load(std::memory_order_acquire);
    if (numbered > synced_through_) {
      failed_.push_back({synced_through_ + 1, numbered, written});
      synced_through_ = numbered;
    }
  } else {
    if (count > 0) written_through_ = first + count - 1;
    if (!held_.ok()) {
      held_ = absl::OkStatus();
      holding_.store(false, std::memory_order_release);
    }
    if (!sync_needed) {
      // --fsync=none: in the page cache, as durable as it promises.
      durable_through_ = std::max(durable_through_, written_through_);
      synced_through_ = std::max(synced_through_, written_through_);
    } else {
      ++stats_.syncs;
      const uint64_t target = written_through_;
      if (synced.ok()) {
        durable_through_ = std::max(durable_through_, target);
      } else {
        ++stats_.sync_failures;
        if (target > synced_through_) {
          failed_.push_back({synced_through_ + 1, target, synced});
        }
      }
      synced_through_ = std::max(synced_through_, target);
    }
  }
  if (failed_.size() > kMaxFailedRanges) {
    failed_[1].first = failed_[0].first;
    failed_.erase(failed_.begin());
  }
  stats_.durable_through = durable_through_;
  if (!failed_.empty()) {
    failed_through_.store(failed_.back().last, std::memory_order_release);
  }
  durable_through_published_.store(durable_through_,
                                    std::memory_order_release);
  if (settled_through_published_.load(std::memory_order_relaxed) <
      synced_through_) {
    // Sequentially consistent: a thread that queues a reply and then asks
    // IsSettled either sees this or is seen by the reader this wakes.
    settled_through_published_.store(synced_through_,
                                     std::memory_order_seq_cst);
    // After the marks it announces: a reader that drained the eventfd and
    // then missed them is woken again.
    SignalSettled();
  }
  stats_.records_kept = held_.ok() ? 0 : TakenLocked();
  written_.notify_all();
  appended_.notify_all();  // The writer's thread watches held_ too.
  return written.ok() ? synced : written;
}

absl::Status JournalWriter::FailureOf(uint64_t sequence) const {
  for (const FailedRange& range : failed_) {
    if (sequence >= range.first && sequence <= range.last) {
      return absl::Status(
          range.status.code(),
          absl::StrCat("record ", sequence,
                       " is not durable: ", range.status.message()));
    }
  }
  return absl::OkStatus();
}

bool JournalWriter::IsDurable(uint64_t sequence) const {
  // A failed range is published before the durable mark that may pass it.
  const uint64_t durable =
      durable_through_published_.load(std::memory_order_acquire);
  return sequence != 0 && sequence <= durable &&
         sequence > failed_through_.load(std::memory_order_acquire);
}

void JournalWriter::SignalSettled() {
  const uint64_t one = 1;
  (void)!::write(settled_fd_, &one, sizeof(one));
}

std::optional<absl::Status> JournalWriter::Outcome(uint64_t sequence) const {
  if (IsDurable(sequence)) return absl::OkStatus();
  if (sequence == 0 ||
      sequence > numbered_through_.load(std::memory_order_acquire)) {
    return absl::InvalidArgumentError(
        absl::StrCat("journal: record ", sequence, " was never appended"));
  }
  if (sequence > settled_through_published_.load(std::memory_order_acquire)) {
    return std::nullopt;
  }
  // Settled and not durable, or durable before a failure published since:
  // the failed ranges tell (only after a failed write or sync).
  std::lock_guard<std::mutex> lock(mu_);
  return FailureOf(sequence);
}

absl::Status JournalWriter::WaitDurable(uint64_t sequence) {
  if (IsDurable(sequence)) return absl::OkStatus();
  if (sequence == 0 ||
      sequence > numbered_through_.load(std::memory_order_acquire)) {
    return absl::InvalidArgumentError(
        absl::StrCat("journal: record ", sequence, " was never appended"));
  }
  std::unique_lock<std::mutex> lock(mu_);
  // The writer's thread covers it (it drains before it stops); kAlways
  // wrote it before Append returned.
  written_.wait(lock, [&] { return synced_through_ >= sequence; });
  return FailureOf(sequence);
}

absl::Status JournalWriter::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t through = numbered_through_.load(std::memory_order_acquire);
  absl::Status status = WriteLocked(lock, /*sync=*/true);
  // A write under way may have covered part of it; report any failure in
  // the range this call flushed.
  written_.wait(lock, [&] { return synced_through_ >= through; });
  if (status.ok() && through > 0) status = FailureOf(through);
  return status;
}

JournalWriterStats JournalWriter::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  JournalWriterStats stats = stats_;
  stats.appended =
      numbered_through_.load(std::memory_order_acquire) + 1 - first_sequence_;
  return stats;
}

void JournalWriter::WriteLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (!held_.ok()) {
      // A failed write's records are kept: try again now and then.
      if (!stopping_) {
        appended_.wait_for(lock,
                           absl::ToChronoNanoseconds(kHeldRetryInterval),
                           [this] { return stopping_ || held_.ok(); });
      }
      if (!held_.ok()) WriteLocked(lock, /*sync=*/true).IgnoreError();
      if (stopping_ && !held_.ok()) break;  // The destructor tries last.
      continue;
    }
    if (BufferedLocked() == 0) {
      if (stopping_) break;  // All written.
      // Idle until an Append queues onto the empty queue (QueueRecord) or
      // the writer stops (the destructor bumps wakeups_ after stopping_).
      const uint32_t seen = wakeups_.Current();
      writer_idle_.store(true, std::memory_order_seq_cst);
      if (queued_.load(std::memory_order_seq_cst) == nullptr) {
        lock.unlock();
        wakeups_.Wait(seen);
        lock.lock();
      }
      writer_idle_.store(false, std::memory_order_relaxed);
      continue;
    }
    if (options_.fsync == FsyncMode::kNone) {
      // Nothing to gather for: no sync to share. What came meanwhile is
      // one write.
      WriteLocked(lock, /*sync=*/false).IgnoreError();
      continue;
    }
    // A group gathers until the interval since its first record was
    // appended passes, enough records wait, or the writer stops.
    if (group_started_at_ == absl::InfiniteFuture()) {
      // When its first record was queued (read after BufferedLocked saw
      // it numbered; a time older than that only makes the group due).
      group_started_at_ = std::min(
          absl::Now(), absl::FromUnixNanos(group_opened_ns_.load(
                           std::memory_order_relaxed)));
    }
    group_from_.store(buffered_from_, std::memory_order_relaxed);
    gathering_.store(true, std::memory_order_seq_cst);
    while (!stopping_ &&
           BufferedLocked() <
               static_cast<uint64_t>(options_.batch_max_records)) {
      const absl::Duration left =
          group_started_at_ + options_.batch_interval - absl::Now();
      if (left <= absl::ZeroDuration()) break;
      appended_.wait_for(lock, absl::ToChronoNanoseconds(left));
    }
    gathering_.store(false, std::memory_order_relaxed);
    WriteLocked(lock, /*sync=*/true).IgnoreError();  // Waiters read it.
  }
}

}  // namespace journal
