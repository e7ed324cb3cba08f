// File: journal/journal_record.h
//
// One journal record (journal/journal.fbs) as C++: what one state-changing
// event did. routingd appends one per request that changed the router,
// per AdvanceQueues that moved something, and per rules reload.
#ifndef JOURNAL_JOURNAL_RECORD_H_
#define JOURNAL_JOURNAL_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "routing/interaction.h"
#include "routing/router_state.h"
#include "routing/routing_decision.h"

namespace journal {

// Written; DecodeRecord reads this version and every one before it.
inline constexpr uint32_t kRecordSchemaVersion = 2;

enum class RecordKind : uint8_t {
  kRequest,
  kQueueAdvance,
  kRulesReload,
  kRestored,  // journal.fbs Restored
};

struct ContactChange {
  std::string id;
  // The contact after the event; nullopt: it left the router.
  std::optional<routing::ContactSnapshot> contact;
};

struct AgentChange {
  std::string id;
  std::optional<routing::AgentSnapshot> agent;  // nullopt: removed
  // agent->profile is empty: the agent keeps the profile it had before the
  // record (journal.fbs AgentChange.profile_unchanged); only its state
  // fields changed.
  bool profile_unchanged = false;
};

struct HistoryAddition {
  uint64_t customer_key = 0;  // routing::HistoryKey
  routing::CustomerInteraction interaction;
};

// journal.fbs Assignment: the decision carries the agent, score,
// components, runners-up, offered, versions and rules step.
struct RecordedAssignment {
  std::string contact_id;
  std::string queue;
  absl::Duration waited;
  routing::RoutingDecision decision;
};

struct JournalRecord {
  RecordKind kind = RecordKind::kRequest;
  absl::Time time = absl::InfinitePast();
  std::string request;  // as received (sidecar/routing.fbs Request)
  std::string reply;    // as sent
  // In the order they took effect (queued contacts: their placement order).
  std::vector<ContactChange> contacts;
  std::vector<AgentChange> agents;
  std::vector<HistoryAddition> history;
  // kRulesReload: the rules now in force.
  std::string rules_file;
  std::string rules_source;
  uint64_t rules_version = 0;
  std::vector<RecordedAssignment> assignments;
};

std::string EncodeRecord(const JournalRecord& record);
// DataLoss naming the problem for a body that is not a record this reader
// can trust (verification, unknown schema version, a bad table).
absl::StatusOr<JournalRecord> DecodeRecord(std::string_view body);

}  // namespace journal

#endif  // JOURNAL_JOURNAL_RECORD_H_
