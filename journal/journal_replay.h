// File: journal/journal_replay.h
//
// Re-runs a journal's recorded inputs through a fresh router, for
// `routing_journal replay`:
//   - exact (no other rules): every request, step tick and reload, in the
//     journal's order, with the clock set to each record's time, and the
//     rules the journal recorded. Every decision must come out as recorded:
//     the reply's outcome, agent and place in line, and the assignments the
//     call made from the queues. The first difference stops the replay and
//     is reported.
//   - what-if (other rules): the same traffic under other rules from the
//     first record on, reporting what would have changed: contacts that
//     would have gone to other agents, answered in one run and not the
//     other, and the waits.
//
//   ReplayOptions options;                      // router options, rules
//   absl::StatusOr<ReplayReport> r = ReplayJournal(dir, options);
//   print r->summary, r->first_difference or r->changed...
//
// What the replay must be given that the journal does not hold: the router
// options routingd ran with that shape decisions (offer timeouts, the
// missed-offer state, history depth, the fcr window) and the rules options
// (budget, limits).
//
// Exactness: routingd's router reads the record's time during a journaled
// call (CallClock), and state-changing calls take effect one at a time in
// journal order, whatever --workers was. Replay from a snapshot (older
// segments deleted) loads the snapshot's state first; agents are then
// interned in roster order, which may break exact ties between equal scores
// differently.
#ifndef JOURNAL_JOURNAL_REPLAY_H_
#define JOURNAL_JOURNAL_REPLAY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "routing/router.h"
#include "rules/lua_rules.h"

namespace journal {

struct ReplayOptions {
  routing::RouterOptions router;  // clock and listener are the replay's own
  rules::RulesOptions rules;
  // What-if: replay under this rules file instead of the recorded rules
  // (empty: exact replay).
  std::string other_rules_file;
};

// One contact as each run served it.
struct ContactOutcomes {
  std::string contact_id;
  std::string recorded_agent;  // empty: never answered in the recording
  absl::Duration recorded_wait;
  std::string replayed_agent;  // empty: never answered in the replay
  absl::Duration replayed_wait;
};

struct ReplayReport {
  uint64_t records = 0;           // records re-run
  uint64_t decisions_compared = 0;
  // Exact mode: the first difference, empty when every decision matched.
  std::string first_difference;
  // What-if mode: every contact routed, and the readable summary.
  std::vector<ContactOutcomes> contacts;
  std::vector<std::string> summary;
};

absl::StatusOr<ReplayReport> ReplayJournal(const std::string& directory,
                                           const ReplayOptions& options);

}  // namespace journal

#endif  // JOURNAL_JOURNAL_REPLAY_H_
