#include "journal/journal_writer.h"

#include <algorithm>
#include <utility>

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
  return std::unique_ptr<JournalWriter>(
      new JournalWriter(std::move(sink), next_sequence, options));
}

JournalWriter::JournalWriter(std::unique_ptr<JournalSink> sink,
                             uint64_t next_sequence,
                             const JournalWriterOptions& options)
    : sink_(std::move(sink)),
      options_(options),
      next_sequence_(next_sequence),
      written_through_(next_sequence - 1),
      durable_through_(next_sequence - 1),
      synced_through_(next_sequence - 1),
      oldest_unsynced_at_(absl::InfiniteFuture()) {
  stats_.durable_through = durable_through_;
  if (options_.fsync == FsyncMode::kBatch) {
    sync_thread_ = std::thread([this] { SyncLoop(); });
  }
}

JournalWriter::~JournalWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    changed_.notify_all();
  }
  if (sync_thread_.joinable()) sync_thread_.join();
  std::unique_lock<std::mutex> lock(mu_);
  if (synced_through_ < written_through_ ||
      options_.fsync == FsyncMode::kNone) {
    SyncLocked(lock).IgnoreError();  // Best effort: nobody is left to tell.
  }
}

absl::StatusOr<uint64_t> JournalWriter::Append(std::string_view body) {
  if (body.size() > kMaxRecordBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("journal: a record of ", body.size(),
                     " bytes is over the limit of ", kMaxRecordBytes));
  }
  std::string frame;
  frame.reserve(kFrameHeaderBytes + body.size());
  AppendFrame(body, &frame);

  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t sequence = next_sequence_;
  if (absl::Status written = sink_->Append(sequence, 1, frame);
      !written.ok()) {
    ++stats_.append_failures;
    return written;
  }
  ++next_sequence_;
  written_through_ = sequence;
  ++stats_.appended;
  switch (options_.fsync) {
    case FsyncMode::kNone:
      // In the page cache: as durable as this mode promises.
      durable_through_ = synced_through_ = sequence;
      stats_.durable_through = durable_through_;
      break;
    case FsyncMode::kAlways:
      // Its outcome is what WaitDurable reports.
      SyncLocked(lock).IgnoreError();
      break;
    case FsyncMode::kBatch:
      if (oldest_unsynced_at_ == absl::InfiniteFuture()) {
        oldest_unsynced_at_ = absl::Now();
        changed_.notify_all();
      } else if (written_through_ - synced_through_ >=
                 static_cast<uint64_t>(options_.batch_max_records)) {
        changed_.notify_all();
      }
      break;
  }
  return sequence;
}

absl::Status JournalWriter::SyncLocked(std::unique_lock<std::mutex>& lock) {
  changed_.wait(lock, [this] { return !syncing_; });
  if (synced_through_ >= written_through_ &&
      options_.fsync != FsyncMode::kNone) {
    return absl::OkStatus();
  }
  syncing_ = true;
  const uint64_t target = written_through_;
  lock.unlock();
  absl::Status synced = sink_->Sync();
  lock.lock();
  syncing_ = false;
  ++stats_.syncs;
  if (synced.ok()) {
    durable_through_ = std::max(durable_through_, target);
    synced_through_ = std::max(synced_through_, target);
  } else {
    ++stats_.sync_failures;
    // Records appended while the sync ran went to the segment that failed
    // (the sink starts a new one only for later appends): they fail too.
    if (written_through_ > synced_through_) {
      failed_.push_back({synced_through_ + 1, written_through_, synced});
      if (failed_.size() > kMaxFailedRanges) {
        failed_[1].first = failed_[0].first;
        failed_.erase(failed_.begin());
      }
    }
    synced_through_ = written_through_;
  }
  stats_.durable_through = durable_through_;
  oldest_unsynced_at_ = written_through_ > synced_through_
                            ? absl::Now()
                            : absl::InfiniteFuture();
  changed_.notify_all();
  return synced;
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

absl::Status JournalWriter::WaitDurable(uint64_t sequence) {
  std::unique_lock<std::mutex> lock(mu_);
  if (sequence == 0 || sequence >= next_sequence_) {
    return absl::InvalidArgumentError(
        absl::StrCat("journal: record ", sequence, " was never appended"));
  }
  // kBatch: the sync thread covers it (it drains before it stops); the
  // other modes have synced by the time Append returned.
  changed_.wait(lock, [&] { return synced_through_ >= sequence; });
  return FailureOf(sequence);
}

absl::Status JournalWriter::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t through = written_through_;
  absl::Status status = absl::OkStatus();
  if (options_.fsync == FsyncMode::kNone || synced_through_ < through) {
    status = SyncLocked(lock);
  }
  // A concurrent sync may have covered part of it; report any failure in
  // the range this call flushed.
  changed_.wait(lock, [&] { return synced_through_ >= through; });
  if (status.ok() && through > 0) status = FailureOf(through);
  return status;
}

JournalWriterStats JournalWriter::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void JournalWriter::SyncLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    changed_.wait(lock, [this] {
      return stopping_ || synced_through_ < written_through_;
    });
    if (synced_through_ >= written_through_) break;  // stopping, all synced
    // Gather: until the interval since the oldest unsynced record passes,
    // enough records wait, or the writer stops.
    while (!stopping_ &&
           written_through_ - synced_through_ <
               static_cast<uint64_t>(options_.batch_max_records)) {
      const absl::Time due = oldest_unsynced_at_ + options_.batch_interval;
      const absl::Duration left = due - absl::Now();
      if (left <= absl::ZeroDuration()) break;
      changed_.wait_for(lock, absl::ToChronoNanoseconds(left));
    }
    SyncLocked(lock).IgnoreError();  // Waiters read the outcome.
  }
}

}  // namespace journal
