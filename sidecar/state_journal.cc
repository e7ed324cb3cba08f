#include "sidecar/state_journal.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "journal/segment_sink.h"
#include "journal/segment_spare.h"
#include "journal/snapshot_codec.h"
#include "journal/snapshot_files.h"
#include "journal/state_fold.h"

namespace routing::sidecar {

namespace {

// The contacts and agents the listener heard of during the call under way
// on this thread (Record sets it for the call's length).
struct HeardChanges {
  std::vector<std::string> contacts;
  std::vector<std::string> agents;
  std::vector<journal::RecordedAssignment> assignments;
};
thread_local HeardChanges* heard_changes = nullptr;
thread_local uint64_t thread_sequence = 0;
// The time of the journaled call under way on this thread (CallClock).
thread_local absl::Time call_time = absl::InfinitePast();

// Ids in first-seen order, each once. A call touches a few: they are
// compared one by one, and only a long list (a rules step moving many
// contacts) is indexed.
class UniqueIds {
 public:
  void Add(std::string_view id) {
    if (id.empty()) return;
    if (ids_.size() < kScanned) {
      for (const std::string& seen : ids_) {
        if (seen == id) return;
      }
      ids_.emplace_back(id);
      if (ids_.size() == kScanned) seen_.insert(ids_.begin(), ids_.end());
      return;
    }
    if (seen_.insert(std::string(id)).second) ids_.emplace_back(id);
  }
  const std::vector<std::string>& ids() const { return ids_; }

 private:
  static constexpr size_t kScanned = 16;
  std::vector<std::string> ids_;
  absl::flat_hash_set<std::string> seen_;
};

bool SameInteraction(const CustomerInteraction& a,
                     const CustomerInteraction& b) {
  return a.agent_id == b.agent_id && a.channel == b.channel &&
         a.outcome == b.outcome && a.time == b.time;
}

// The interactions `after` (most recent first) has that `before` had not,
// oldest first (the order the fold adds them in). The store is a ring:
// after is k new interactions followed by the first ones of before. The
// smallest k that fits is taken; interactions may be equal (the same agent
// in the same second), and where two k fit, both give the same history.
std::vector<CustomerInteraction> AddedInteractions(
    const std::vector<CustomerInteraction>& before,
    const std::vector<CustomerInteraction>& after) {
  size_t added = after.size();
  for (size_t k = 0; k < after.size(); ++k) {
    const size_t kept = after.size() - k;
    if (kept > before.size()) continue;
    bool fits = true;
    for (size_t i = 0; i < kept && fits; ++i) {
      fits = SameInteraction(after[k + i], before[i]);
    }
    if (fits) {
      added = k;
      break;
    }
  }
  std::vector<CustomerInteraction> out;
  for (size_t i = added; i > 0; --i) out.push_back(after[i - 1]);
  return out;
}

absl::Status JournalUnavailable(const absl::Status& cause) {
  return absl::UnavailableError(absl::StrCat(
      "the journal cannot take records (", cause.message(),
      "); nothing was executed; serving resumes once the disk takes them"));
}

}  // namespace

absl::Time CallClock::Now() const {
  return call_time != absl::InfinitePast() ? call_time : base_->Now();
}

void JournalListener::OnAssigned(const Assignment& assignment) {
  if (HeardChanges* heard = heard_changes; heard != nullptr) {
    heard->contacts.push_back(assignment.contact_id);
    heard->agents.push_back(assignment.agent_id);
    heard->assignments.push_back({assignment.contact_id, assignment.queue,
                                  assignment.waited, assignment.decision});
  }
  if (inner_ != nullptr) inner_->OnAssigned(assignment);
}

void JournalListener::OnOfferExpired(const ExpiredOffer& offer) {
  if (HeardChanges* heard = heard_changes; heard != nullptr) {
    heard->contacts.push_back(offer.contact_id);
    heard->agents.push_back(offer.agent_id);
  }
  if (inner_ != nullptr) inner_->OnOfferExpired(offer);
}

absl::StatusOr<RecoveredState> RecoverState(
    const StateJournalOptions& options) {
  RecoveredState recovered;
  // A new journal starts in a new directory.
  std::error_code error;
  std::filesystem::create_directories(options.directory, error);
  if (error) {
    return absl::UnavailableError(absl::StrCat(
        "cannot create ", options.directory, ": ", error.message()));
  }
  absl::StatusOr<std::optional<journal::SnapshotFile>> file =
      journal::ReadLatestSnapshotFile(options.directory);
  if (!file.ok() && !absl::IsNotFound(file.status())) return file.status();
  routing::RouterState base;
  if (file.ok() && file->has_value()) {
    absl::StatusOr<journal::Snapshot> snapshot =
        journal::DecodeSnapshot((*file)->body);
    if (!snapshot.ok()) {
      return absl::DataLossError(
          absl::StrCat((*file)->path, ": ", snapshot.status().message()));
    }
    recovered.snapshot = snapshot->info;
    recovered.snapshot.sequence = (*file)->sequence;
    base = std::move(snapshot->state);
  }
  journal::StateFold fold(std::move(base), options.history_depth);
  journal::JournalReadOptions read;
  read.recovery = options.recovery;
  read.repair = true;
  read.from_sequence = recovered.snapshot.sequence + 1;
  absl::StatusOr<journal::JournalReadReport> report = journal::ReadJournal(
      options.directory, read,
      [&](uint64_t sequence, std::string_view body) -> absl::Status {
        absl::StatusOr<journal::JournalRecord> record =
            journal::DecodeRecord(body);
        if (!record.ok()) {
          return absl::DataLossError(absl::StrCat(
              options.directory, ": record ", sequence, ": ",
              record.status().message()));
        }
        if (absl::Status applied = fold.Apply(*record); !applied.ok()) {
          return absl::DataLossError(absl::StrCat(
              options.directory, ": record ", sequence, ": ",
              applied.message()));
        }
        return absl::OkStatus();
      });
  if (!report.ok() && !absl::IsNotFound(report.status())) {
    return report.status();
  }
  if (report.ok()) {
    recovered.records = report->records;
    recovered.warnings = report->warnings;
    recovered.next_sequence = report->next_sequence;
  }
  // A snapshot is written only once the records it includes are durable,
  // so the journal reaches at least that far; a journal whose segments a
  // snapshot made unnecessary may hold nothing after it.
  recovered.next_sequence =
      std::max(recovered.next_sequence, recovered.snapshot.sequence + 1);
  if (fold.rules_version() != 0) {
    recovered.rules = {fold.rules_file(), fold.rules_source(),
                       fold.rules_version()};
  } else {
    recovered.rules = {recovered.snapshot.rules_file,
                       recovered.snapshot.rules_source,
                       recovered.snapshot.rules_version};
  }
  recovered.state = std::move(fold).Finish();
  return recovered;
}

StateJournal::StateJournal(Router* router, const RulesInForce* rules,
                           const StateJournalOptions& options,
                           std::unique_ptr<journal::JournalWriter> writer,
                           uint64_t next_sequence)
    : router_(router),
      rules_(rules),
      options_(options),
      writer_(std::move(writer)),
      clock_(options.clock != nullptr ? options.clock
                                      : SystemClock::Default()),
      last_sequence_(next_sequence - 1) {
  snapshot_through_ = last_sequence_;
  stats_.last_snapshot_sequence = last_sequence_;
}

absl::StatusOr<std::unique_ptr<StateJournal>> StateJournal::Open(
    Router* router, const RulesInForce* rules,
    const StateJournalOptions& options, uint64_t next_sequence) {
  if (options.directory.empty()) {
    return absl::InvalidArgumentError("the journal needs a directory");
  }
  if (options.snapshot_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("snapshot interval is negative");
  }
  // --fsync=none: a reply waits for the write only, so the write must not
  // wait for the disk.
  const journal::SegmentWrites writes =
      options.writer.fsync == journal::FsyncMode::kNone
          ? journal::SegmentWrites::kPageCache
          : journal::SegmentWrites::kDirectWhereSupported;
  absl::StatusOr<std::unique_ptr<journal::JournalSink>> sink =
      options.open_sink != nullptr
          ? options.open_sink()
          : journal::SegmentSink::Open(options.directory,
                                       options.segment_bytes,
                                       options.segment_space, writes);
  if (!sink.ok()) return sink.status();
  absl::StatusOr<std::unique_ptr<journal::JournalWriter>> writer =
      journal::JournalWriter::Create(*std::move(sink), next_sequence,
                                     options.writer);
  if (!writer.ok()) return writer.status();
  std::unique_ptr<StateJournal> journal(new StateJournal(
      router, rules, options, *std::move(writer), next_sequence));
  journal->snapshot_thread_ =
      std::thread([raw = journal.get()] {
        pthread_setname_np(pthread_self(), "rd-snapshot");
        raw->SnapshotLoop();
      });
  return journal;
}

StateJournal::~StateJournal() { (void)Close(); }

absl::Status StateJournal::AppendPendingLocked() {
  // Records a failed write left in the writer come first (it writes them
  // before it takes more).
  if (absl::Status writable = writer_->Writable(); !writable.ok()) {
    append_error_ = writable;
    return writable;
  }
  while (!pending_.empty()) {
    absl::StatusOr<uint64_t> sequence = writer_->Append(pending_.front());
    if (!sequence.ok()) {
      append_error_ = sequence.status();
      return sequence.status();
    }
    last_sequence_ = *sequence;
    pending_.erase(pending_.begin());
  }
  append_error_ = absl::OkStatus();
  return absl::OkStatus();
}

absl::Status StateJournal::Available() {
  std::lock_guard<std::mutex> order(order_mu_);
  absl::Status status = AppendPendingLocked();
  return status.ok() ? status : JournalUnavailable(status);
}

absl::Status StateJournal::Restore(const routing::RouterState& state) {
  absl::Status imported;
  JournaledCall call;
  call.kind = journal::RecordKind::kRestored;
  absl::StatusOr<uint64_t> sequence = Record(call, [&] {
    imported = router_->ImportState(state);
    return CallEffect{};
  });
  if (!imported.ok()) return imported;
  if (!sequence.ok()) return sequence.status();
  thread_sequence = 0;
  return *sequence == 0 ? absl::OkStatus() : writer_->WaitDurable(*sequence);
}

absl::StatusOr<uint64_t> StateJournal::Record(
    const JournaledCall& call, absl::FunctionRef<CallEffect()> execute) {
  std::lock_guard<std::mutex> order(order_mu_);
  // A call that has not run is refused while a record waits; an effect
  // already in force is recorded behind it.
  if (absl::Status s = AppendPendingLocked(); !s.ok() && !call.in_force) {
    return JournalUnavailable(s);
  }
  UniqueIds contacts;
  UniqueIds agents;
  contacts.Add(call.contact_id);
  agents.Add(call.agent_id);
  // What the contact held before the call: the agent it frees, the
  // customer whose history it may add to (only a held contact's release or
  // transfer adds to it).
  std::string customer_id;
  std::vector<CustomerInteraction> history_before;
  if (!call.contact_id.empty()) {
    std::string held_by;
    if (router_
            ->VisitContact(call.contact_id,
                           [&](const ContactView& before) {
                             held_by = std::string(before.agent_id);
                             customer_id = before.contact->customer_id;
                           })
            .ok()) {
      agents.Add(held_by);
      if (!customer_id.empty()) {
        history_before = router_->CustomerHistory(customer_id);
      }
    }
  }

  // The call's time, pinned for the router while it runs (CallClock), is
  // the time its record carries.
  const absl::Time started = clock_->Now();
  HeardChanges heard;
  heard_changes = &heard;
  call_time = started;
  CallEffect effect = execute();
  call_time = absl::InfinitePast();
  heard_changes = nullptr;
  if (!effect.changed && heard.contacts.empty() && heard.agents.empty()) {
    return 0;
  }

  // Encoded here, from the router as the call left it (no copy of the
  // contacts and agents in between), under the order lock: the next call
  // has not changed them yet.
  encoder_.Start(call.kind, started);
  for (const std::string& id : effect.moved_contacts) contacts.Add(id);
  for (const std::string& id : heard.contacts) contacts.Add(id);
  for (const std::string& id : heard.agents) agents.Add(id);
  for (const std::string& id : contacts.ids()) {
    bool held = false;
    (void)router_->VisitContact(id, [&](const ContactView& now) {
      encoder_.AddContact(id, &now);
      held = true;
    });
    if (!held) encoder_.AddContact(id, nullptr);
  }
  for (const std::string& id : agents.ids()) {
    bool on_roster = false;
    (void)router_->VisitAgent(id, [&](const AgentView& now) {
      encoder_.AddAgent(id, &now, /*with_profile=*/!call.profiles_unchanged);
      on_roster = true;
    });
    if (!on_roster) encoder_.AddAgent(id, nullptr);
  }
  if (!customer_id.empty()) {
    const uint64_t key = HistoryKey(customer_id);
    for (const CustomerInteraction& added : AddedInteractions(
             history_before, router_->CustomerHistory(customer_id))) {
      encoder_.AddHistory(key, added);
    }
  }
  for (const journal::RecordedAssignment& a : heard.assignments) {
    encoder_.AddAssignment(a);
  }
  if (effect.rules != nullptr) {
    encoder_.SetRules(effect.rules->file, effect.rules->source,
                      effect.rules->version);
  }
  encoder_.FinishInto(call.request, effect.reply, &body_);
  // Never ahead of a record still waiting (append_error_ says why it
  // waits). The writer's thread frames and writes it with its group.
  absl::StatusOr<uint64_t> sequence =
      pending_.empty() ? writer_->AppendMade(body_)
                       : absl::StatusOr<uint64_t>(append_error_);
  if (!sequence.ok()) {
    // Executed: the record is kept and written before any later one, and
    // no call runs until it is.
    append_error_ = sequence.status();
    pending_.push_back(std::move(body_));
    body_ = std::string();
    return absl::DataLossError(absl::StrCat(
        "executed, but its journal record could not be written (",
        sequence.status().message(),
        "); it is kept and written once the disk takes it"));
  }
  last_sequence_ = *sequence;
  thread_sequence = *sequence;
  return *sequence;
}

uint64_t StateJournal::TakeThreadSequence() {
  const uint64_t sequence = thread_sequence;
  thread_sequence = 0;
  return sequence;
}

absl::Status StateJournal::Snapshot() {
  std::lock_guard<std::mutex> one_at_a_time(snapshot_mu_);
  const auto started = std::chrono::steady_clock::now();
  journal::SnapshotInfo info;
  routing::RouterState state;
  {
    std::lock_guard<std::mutex> order(order_mu_);
    if (!pending_.empty()) {
      return absl::UnavailableError(
          "no snapshot while a record waits to be written");
    }
    state = router_->ExportState();
    info.sequence = last_sequence_;
  }
  info.taken_at = clock_->Now();
  if (rules_ != nullptr) {
    const RulesText text = rules_->Text();
    info.rules_file = text.file;
    info.rules_source = text.source;
    info.rules_version = text.version;
  }
  absl::Status status = absl::OkStatus();
  // Never ahead of the journal: a restart finds every record up to here.
  if (info.sequence > 0) status = writer_->WaitDurable(info.sequence);
  if (status.ok()) {
    status = journal::WriteSnapshotFile(
        options_.directory, info.sequence,
        journal::EncodeSnapshot(info, state));
  }
  if (status.ok()) {
    const bool reused =
        options_.open_sink == nullptr &&
        options_.segment_space == journal::SegmentSpace::kZeroFilledAhead &&
        journal::SegmentSpare::MakesSpares(options_.directory);
    status = journal::RemoveSegmentsBefore(
        options_.directory, info.sequence + 1,
        reused ? options_.reuse_segments : 0);
  }
  std::lock_guard<std::mutex> lock(stats_mu_);
  if (!status.ok()) {
    ++stats_.snapshot_failures;
    return status;
  }
  ++stats_.snapshots;
  stats_.last_snapshot_sequence = info.sequence;
  stats_.last_snapshot_took =
      absl::FromChrono(std::chrono::steady_clock::now() - started);
  snapshot_through_ = info.sequence;
  return status;
}

void StateJournal::SnapshotLoop() {
  const absl::Duration poll = absl::Seconds(1);
  absl::Time next = options_.snapshot_interval > absl::ZeroDuration()
                        ? absl::Now() + options_.snapshot_interval
                        : absl::InfiniteFuture();
  std::unique_lock<std::mutex> lock(loop_mu_);
  while (!stopping_) {
    loop_cv_.wait_for(lock, absl::ToChronoSeconds(poll));
    if (stopping_) break;
    uint64_t through;
    {
      std::lock_guard<std::mutex> stats(stats_mu_);
      through = snapshot_through_;
    }
    uint64_t last;
    {
      std::lock_guard<std::mutex> order(order_mu_);
      last = last_sequence_;
    }
    const bool by_records = options_.snapshot_records > 0 &&
                            last - through >= options_.snapshot_records;
    const bool by_time = absl::Now() >= next && last != through;
    if (!by_records && !by_time) continue;
    lock.unlock();
    (void)Snapshot();  // A failure is counted; the journal still holds all.
    lock.lock();
    if (options_.snapshot_interval > absl::ZeroDuration()) {
      next = absl::Now() + options_.snapshot_interval;
    }
  }
}

absl::Status StateJournal::Close() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    if (closed_) return absl::OkStatus();
    closed_ = true;
    stopping_ = true;
  }
  loop_cv_.notify_all();
  if (snapshot_thread_.joinable()) snapshot_thread_.join();
  absl::Status status = Snapshot();
  absl::Status flushed = writer_->Flush();
  return status.ok() ? flushed : status;
}

StateJournalStats StateJournal::Stats() {
  StateJournalStats stats;
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    stats = stats_;
  }
  stats.writer = writer_->Stats();
  std::lock_guard<std::mutex> order(order_mu_);
  stats.records_pending = pending_.size() + stats.writer.records_kept;
  return stats;
}

}  // namespace routing::sidecar
