// File: sidecar/state_journal.h
//
// routingd's journal (--journal_dir): every call that changes the router is
// executed under one order lock and appended, with what it changed, as one
// journal record (journal/journal_record.h); snapshots of the whole state
// are taken periodically and at shutdown; a restart folds the newest
// snapshot and the records after it back into a new router.
//
//   StateJournalOptions options;            // directory, fsync, snapshots
//   auto recovered = RecoverState(options);  // before the router exists
//   ... router with recovered->rules_version, rules from recovered ...
//   auto journal = StateJournal::Open(router, &rules, options,
//                                     recovered->next_sequence);
//   (*journal)->Restore(std::move(recovered->state));
//   // per state-changing call (RequestHandler):
//   absl::StatusOr<uint64_t> seq = journal->Record(call, [&] { ...execute...
//                                                        return effect; });
//   // seq: wait for journal->WaitDurable(*seq) before replying.
//
// What a record holds: the request and reply bytes, then each contact and
// agent the call touched, exported after it (the request's own, the agent
// a contact held before, and whatever the router's listener heard of on the
// calling thread: queued contacts assigned, offers lapsed), and the
// interactions it added to the customer's history.
//
// Refusals and durability:
//   - a call the journal cannot take (an earlier record could not be
//     written: a full or failing disk) is refused with Unavailable before
//     it runs, so it changes nothing; that record is tried again before
//     every call, and serving resumes once it is written;
//   - a reload compiles and puts its rules in force outside the order lock
//     (refused, if at all, before it compiles: Available()); its record is
//     made however the disk fares meanwhile, behind any kept one
//     (JournaledCall::in_force);
//   - a call that ran but whose record could not be written returns
//     DataLoss: its effect holds in memory (and is written once the disk
//     takes it), but a crash before then loses it; the client is told its
//     outcome is unknown (wire NotDurable);
//   - a call whose reply succeeded waits (WaitDurable) for the sync that
//     covers its record, as --fsync promises (journal_writer.h).
//
// Cost: calls that change the router run one at a time (the order lock),
// whatever --workers is; reads (GetContact, stats, lists) do not take it.
//
// Thread-safety: every method may be called from any thread.
#ifndef SIDECAR_STATE_JOURNAL_H_
#define SIDECAR_STATE_JOURNAL_H_

#include <condition_variable>
#include <functional>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "journal/journal_reader.h"
#include "journal/journal_sink.h"
#include "journal/journal_record.h"
#include "journal/journal_writer.h"
#include "journal/record_encoder.h"
#include "journal/segment_sink.h"
#include "journal/snapshot_codec.h"
#include "routing/clock.h"
#include "routing/router.h"
#include "routing/router_state.h"
#include "sidecar/rules_reload.h"

namespace routing::sidecar {

// The router's clock under a journal. While a journaled call runs on a
// thread, that thread reads the time the call's record carries (read once,
// as the call starts), so a replay that sets its clock to the record's time
// decides as the router did; other threads, and other moments, read `base`.
// routingd gives it to the router (RouterOptions::clock) and to the journal.
class CallClock final : public Clock {
 public:
  explicit CallClock(const Clock* base) : base_(base) {}
  absl::Time Now() const override;

 private:
  const Clock* const base_;
};

struct StateJournalOptions {
  std::string directory;
  journal::JournalWriterOptions writer;
  // --journal_recover: refuse to start on damage before the tail (kRefuse),
  // or cut the journal there (kTruncate).
  journal::DamageRecovery recovery = journal::DamageRecovery::kRefuse;
  int64_t segment_bytes = int64_t{64} << 20;
  // --journal_zero_fill: segments written over zeros filled ahead
  // (journal/segment_spare.h), or grown by each write.
  journal::SegmentSpace segment_space = journal::SegmentSpace::kZeroFilledAhead;
  // --journal_reuse_segments: segments a snapshot made unnecessary are
  // kept, up to this many, for the next segments to be written over
  // (journal::RemoveSegmentsBefore); the rest are deleted. Only with
  // kZeroFilledAhead, and never on tmpfs (nothing would reuse them). The
  // journal's footprint does not grow for it: the segments of the next
  // interval consume the kept files; the limit bounds what a burst leaves.
  int reuse_segments = 64;
  // A snapshot is taken this often (0: never while serving) or after this
  // many records since the last one (0: no record limit), and at Close.
  absl::Duration snapshot_interval = absl::Minutes(5);
  uint64_t snapshot_records = 1'000'000;
  int history_depth = 4;  // RouterOptions::history_depth.
  // Stamps records and snapshots; null: SystemClock (the router's clock).
  const Clock* clock = nullptr;
  // Where records go. Null: segment files in `directory`
  // (journal::SegmentSink). A replicated log a standby follows would be
  // another sink (docs/ARCHITECTURE.md, "Beyond one machine"); snapshots
  // stay in `directory`.
  std::function<absl::StatusOr<std::unique_ptr<journal::JournalSink>>()>
      open_sink;
};

// What a restart found in the directory.
struct RecoveredState {
  routing::RouterState state;
  journal::SnapshotInfo snapshot;  // sequence 0: no snapshot
  // The rules the snapshot and records put in force (file empty: none).
  RulesText rules;
  uint64_t records = 0;        // records folded after the snapshot
  uint64_t next_sequence = 1;  // the next record's number
  std::vector<std::string> warnings;  // torn tail cut, damage truncated
};

// Reads the newest snapshot and the records after it, repairing a torn tail
// (and, with kTruncate, damage), and folds them. An empty or missing
// directory recovers an empty state. DataLoss naming the file and offset for
// damage the options do not allow to cut.
absl::StatusOr<RecoveredState> RecoverState(const StateJournalOptions& options);

// One call about to change the router.
struct JournaledCall {
  journal::RecordKind kind = journal::RecordKind::kRequest;
  std::string_view request;     // Its bytes as received (may be empty).
  std::string_view contact_id;  // The contact it is about, if any.
  std::string_view agent_id;    // The agent it is about, if any.
  // It cannot change an agent's profile (routes, requeues, releases,
  // offers, state changes, queue steps): the record carries the agents'
  // state fields only (journal.fbs AgentChange.profile_unchanged). False
  // (every other call, and any new kind until it is known not to): each
  // agent's profile whole.
  bool profiles_unchanged = false;
  // Its effect took hold before Record (a reload compiles and puts its
  // rules in force outside the order lock): `execute` only reports it, so
  // it is recorded even while the journal cannot take records, kept behind
  // the records waiting (DataLoss) rather than refused.
  bool in_force = false;
};

// What the call did, as its executor reports it.
struct CallEffect {
  // False: refused or answered from memory (an idempotent retry), nothing
  // changed; no record unless the listener heard of a change meanwhile.
  bool changed = false;
  std::string_view reply;  // Its reply bytes.
  // AdvanceQueues: the contacts moved on to a rules step.
  std::vector<std::string> moved_contacts;
  // kRulesReload: the rules now in force.
  const RulesText* rules = nullptr;
};

// Forwards every assignment and lapsed offer to `inner`, and notes the
// contact and agent in the journal record of the call under way on the
// calling thread, if any. routingd makes it the router's listener.
class JournalListener : public AssignmentListener {
 public:
  explicit JournalListener(AssignmentListener* inner) : inner_(inner) {}
  void OnAssigned(const Assignment& assignment) override;
  void OnOfferExpired(const ExpiredOffer& offer) override;

 private:
  AssignmentListener* const inner_;
};

struct StateJournalStats {
  journal::JournalWriterStats writer;
  // Executed, not yet written (the disk failing): kept by the journal or
  // by its writer.
  uint64_t records_pending = 0;
  uint64_t snapshots = 0;
  uint64_t snapshot_failures = 0;
  uint64_t last_snapshot_sequence = 0;
  absl::Duration last_snapshot_took;
};

class StateJournal {
 public:
  // Opens the writer on options.directory; records are numbered from
  // `next_sequence` (RecoveredState::next_sequence). `rules`: the rules in
  // force, read by snapshots. Starts the snapshot thread.
  static absl::StatusOr<std::unique_ptr<StateJournal>> Open(
      Router* router, const RulesInForce* rules,
      const StateJournalOptions& options, uint64_t next_sequence);
  // Close()s if needed.
  ~StateJournal();

  // Loads a recovered state into the router (Router::ImportState), as one
  // record (kRestored) of the assignments loading made at once.
  absl::Status Restore(const routing::RouterState& state);

  // Runs `execute` under the order lock and appends its record. Returns the
  // record's sequence (wait for WaitDurable before replying), 0 when
  // nothing was recorded, Unavailable without running `execute` when the
  // journal cannot take records (unless call.in_force), DataLoss when
  // `execute` ran but its record could not be written (it is kept).
  absl::StatusOr<uint64_t> Record(const JournaledCall& call,
                                  absl::FunctionRef<CallEffect()> execute);
  // OK when the journal takes records now (tries a pending one first);
  // Unavailable naming the disk's error otherwise.
  absl::Status Available();

  absl::Status WaitDurable(uint64_t sequence) {
    return writer_->WaitDurable(sequence);
  }
  // Whether record `sequence` is durable already (without waiting):
  // always with --fsync=none and =always, once its group synced with batch.
  bool IsDurable(uint64_t sequence) { return writer_->IsDurable(sequence); }
  // What WaitDurable(sequence) would return, or nullopt while the record's
  // fate is open; settled_fd() becomes readable as fates settle
  // (journal::JournalWriter::Outcome, settled_fd).
  std::optional<absl::Status> Outcome(uint64_t sequence) {
    return writer_->Outcome(sequence);
  }
  int settled_fd() const { return writer_->settled_fd(); }
  bool IsSettled(uint64_t sequence) const {
    return writer_->IsSettled(sequence);
  }
  void SignalSettled() { writer_->SignalSettled(); }

  // Takes a snapshot now: the state under the order lock, written once the
  // records it includes are durable; then older segments are deleted.
  absl::Status Snapshot();
  // Stops the snapshot thread, takes a final snapshot (the caller has
  // stopped traffic) and syncs. Idempotent; returns the snapshot's status.
  absl::Status Close();

  StateJournalStats Stats();

  // The sequence of the record the calling thread's last Record appended,
  // and clears it (0: none since the last take). The daemon reads it after
  // a request to hold the reply until the record is durable.
  static uint64_t TakeThreadSequence();

 private:
  StateJournal(Router* router, const RulesInForce* rules,
               const StateJournalOptions& options,
               std::unique_ptr<journal::JournalWriter> writer,
               uint64_t next_sequence);
  // order_mu_ held: appends the records executed but not yet written.
  absl::Status AppendPendingLocked();
  void SnapshotLoop();

  Router* const router_;
  const RulesInForce* const rules_;
  const StateJournalOptions options_;
  const std::unique_ptr<journal::JournalWriter> writer_;
  const Clock* const clock_;

  // Orders every state-changing call and its record. std::mutex: visible to
  // ThreadSanitizer.
  std::mutex order_mu_;
  std::vector<std::string> pending_;  // guarded by order_mu_
  // Encodes each call's record as the call leaves the router.
  journal::RecordEncoder encoder_;    // guarded by order_mu_
  // The body under way: the writer hands back an earlier record's buffer
  // for it (JournalWriter::AppendMade), so encoding allocates nothing.
  std::string body_;                  // guarded by order_mu_
  uint64_t last_sequence_;            // guarded by order_mu_
  absl::Status append_error_;         // guarded by order_mu_

  // One snapshot at a time (the loop, Close, callers).
  std::mutex snapshot_mu_;
  mutable std::mutex stats_mu_;
  StateJournalStats stats_;  // guarded by stats_mu_ (writer: read live)
  uint64_t snapshot_through_ = 0;  // guarded by stats_mu_

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stopping_ = false;  // guarded by loop_mu_
  bool closed_ = false;    // guarded by loop_mu_
  std::thread snapshot_thread_;
};

}  // namespace routing::sidecar

#endif  // SIDECAR_STATE_JOURNAL_H_
