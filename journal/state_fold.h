// File: journal/state_fold.h
//
// Restart's arithmetic: a snapshot's state, then the changes of every
// journal record after it, applied in order to plain maps, give the state
// to import into a new router (Router::ImportState) in one pass. Nothing is
// decided again, so the result is what the records say, whatever the rules.
//
//   StateFold fold(std::move(snapshot.state));
//   for each record after the snapshot: RETURN_IF_ERROR(fold.Apply(record));
//   routing::RouterState state = std::move(fold).Finish();
//
// Order of queued contacts: a contact keeps its place while its placement
// number stays the same; one placed again (by a record that changes its
// placement) goes behind every contact placed before it in the same aged-
// arrival millisecond, as the router orders them.
#ifndef JOURNAL_STATE_FOLD_H_
#define JOURNAL_STATE_FOLD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "journal/journal_record.h"
#include "routing/router_state.h"

namespace journal {

class StateFold {
 public:
  // `depth`: interactions remembered per customer (the router's
  // RouterOptions::history_depth; the newest are kept).
  explicit StateFold(routing::RouterState base = {}, int depth = 8);

  // DataLoss naming the agent, applying nothing, for a record whose agent
  // change keeps a profile (AgentChange::profile_unchanged) of an agent
  // neither the base nor an earlier record holds.
  absl::Status Apply(const JournalRecord& record);

  // The rules the records last put in force (empty file and version 0:
  // none seen).
  const std::string& rules_file() const { return rules_file_; }
  const std::string& rules_source() const { return rules_source_; }
  uint64_t rules_version() const { return rules_version_; }
  uint64_t records_applied() const { return records_; }

  // Held contacts first, then queued ones in service order.
  routing::RouterState Finish() &&;

 private:
  struct HeldContact {
    routing::ContactSnapshot contact;
    uint64_t order = 0;  // when it was last placed (queued ones)
  };
  void SetRules(const JournalRecord& record);
  // Moves the base into the maps below, at the first Apply.
  void Index();

  const int depth_;
  routing::RouterState base_;  // until Index
  bool indexed_ = false;
  uint64_t next_order_ = 0;
  uint64_t records_ = 0;
  // Agents in the order they joined; a removed one leaves a gap.
  std::vector<std::optional<routing::AgentSnapshot>> agents_;
  absl::flat_hash_map<std::string, size_t> agent_slot_;
  absl::flat_hash_map<std::string, HeldContact> contacts_;
  // The base's customers as they were, and the interactions records added
  // (newest last), kept apart: a million customers are copied once, and
  // only those the records name are looked up.
  std::vector<routing::CustomerSnapshot> base_customers_;
  absl::flat_hash_map<uint64_t, std::vector<routing::CustomerInteraction>>
      added_;
  std::vector<uint64_t> added_order_;  // customers in the order first added
  std::string rules_file_;
  std::string rules_source_;
  uint64_t rules_version_ = 0;
};

}  // namespace journal

#endif  // JOURNAL_STATE_FOLD_H_
