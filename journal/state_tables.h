// File: journal/state_tables.h
//
// The Agent and Contact tables of journal/snapshot.fbs, from and to the
// router's snapshots (routing/router_state.h): shared by snapshot bodies and
// journal records. Times are Unix nanoseconds, 0 for none
// (absl::InfinitePast()).
#ifndef JOURNAL_STATE_TABLES_H_
#define JOURNAL_STATE_TABLES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flatbuffers/flatbuffers.h"
#include "journal/snapshot_generated.h"
#include "routing/router_state.h"

namespace journal {

inline int64_t TimeToNanos(absl::Time t) {
  return t == absl::InfinitePast() ? 0 : absl::ToUnixNanos(t);
}
inline absl::Time NanosToTime(int64_t ns) {
  return ns == 0 ? absl::InfinitePast() : absl::FromUnixNanos(ns);
}
inline std::string FlatText(const flatbuffers::String* s) {
  return s == nullptr ? std::string() : s->str();
}

// The strings of a vector (empty for an absent one).
std::vector<std::string> FlatStrings(
    const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* v);

// Encoded from a view (routing/router_state.h): straight from the router's
// state (Router::VisitAgent, VisitContact) or from a snapshot (ViewOf).
flatbuffers::Offset<routing::journal::fb::Agent> EncodeAgent(
    flatbuffers::FlatBufferBuilder& b, const routing::AgentView& agent);
flatbuffers::Offset<routing::journal::fb::Contact> EncodeContact(
    flatbuffers::FlatBufferBuilder& b, const routing::ContactView& contact);
// An Agent table of the agent's state fields only (state, the times,
// contacts_handled), without its profile: journal.fbs
// AgentChange.profile_unchanged.
flatbuffers::Offset<routing::journal::fb::Agent> EncodeAgentState(
    flatbuffers::FlatBufferBuilder& b, const routing::AgentView& agent);

// DataLoss naming the agent for a table no router could hold (capacity for
// more channels than there are).
absl::StatusOr<routing::AgentSnapshot> DecodeAgent(
    const routing::journal::fb::Agent& agent);
routing::ContactSnapshot DecodeContact(
    const routing::journal::fb::Contact& contact);

}  // namespace journal

#endif  // JOURNAL_STATE_TABLES_H_
