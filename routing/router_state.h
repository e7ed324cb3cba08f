// File: routing/router_state.h
//
// A router's state as a snapshot holds it and a restart puts it back:
// Router::ExportState() reads it, Router::ImportState() loads it into a new
// router. routingd's journal (journal/, docs/ARCHITECTURE.md "The journal")
// writes it to disk; a host of the library may do the same.
//
// What is kept: the roster (profiles, presence, the times occupancy and idle
// scoring read), every held contact (queued ones in service order, with the
// time their route was planned, so their rules step and priority come out
// the same; assigned and offered ones with their agent and times), and the
// customer history. Not kept: statistics and KPI counters, which start again
// from zero, and the first-contact-resolution memory of each queue.
#ifndef ROUTING_ROUTER_STATE_H_
#define ROUTING_ROUTER_STATE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "routing/agent.h"
#include "routing/contact.h"
#include "routing/interaction.h"

namespace routing {

struct AgentSnapshot {
  AgentProfile profile;
  AgentState state = AgentState::kLoggedOut;
  // Times are absl::InfinitePast() when there is none.
  absl::Time state_since = absl::InfinitePast();  // When the state was set.
  // When it last became free of all contacts.
  absl::Time idle_since = absl::InfinitePast();
  // Occupancy: handling time since the session began (logged_in_at).
  absl::Time logged_in_at = absl::InfinitePast();
  absl::Duration handled;
  int64_t contacts_handled = 0;
};

struct ContactSnapshot {
  enum class State : uint8_t { kQueued, kAssigned, kOffered };
  // As routed (or requeued): enqueue_time and queue resolved, the agents a
  // requeue or a rejected offer excluded listed in excluded_agents.
  Contact contact;
  State state = State::kQueued;
  // When its route was planned (Route, Requeue, a rules step move, a
  // returned offer): the rules' plan for its wait at that time is its rules
  // step and priority.
  absl::Time planned_at = absl::InfinitePast();
  uint64_t placement = 0;  // RoutingDecision::placement.
  std::string agent_id;    // kAssigned and kOffered.
  // kAssigned: accepted at; kOffered: offered at. InfinitePast otherwise.
  absl::Time assigned_at = absl::InfinitePast();
  absl::Time offer_expires_at = absl::InfinitePast();  // kOffered.
  // kQueued: its aged arrival (enqueue time minus priority x priority
  // step), in whole milliseconds the first key of service order. Exported
  // for readers of a snapshot or journal; ImportState recomputes it.
  absl::Time aged_arrival = absl::InfinitePast();
};

// One customer's remembered interactions, most recent first. Customers are
// kept by key (HistoryKey of their id), not by id: the router never stores
// customer ids.
struct CustomerSnapshot {
  uint64_t customer_key = 0;
  std::vector<CustomerInteraction> interactions;
};

struct RouterState {
  std::vector<AgentSnapshot> agents;
  // Assigned and offered contacts first, then the queued ones in service
  // order (across queues: aged arrival, then placement order).
  std::vector<ContactSnapshot> contacts;
  std::vector<CustomerSnapshot> customers;
};

// An agent or a contact as AgentSnapshot and ContactSnapshot give it, read
// in place instead of copied: what Router::VisitAgent and VisitContact hand
// their callback. The pointers and the string_view point into the router's
// state (or into the snapshot ViewOf was given) and are valid only as long
// as it: during the callback, for a visit. Fields as in the snapshots.
struct AgentView {
  const AgentProfile* profile = nullptr;
  AgentState state = AgentState::kLoggedOut;
  absl::Time state_since = absl::InfinitePast();
  absl::Time idle_since = absl::InfinitePast();
  absl::Time logged_in_at = absl::InfinitePast();
  absl::Duration handled;
  int64_t contacts_handled = 0;
};

struct ContactView {
  // Its user_data is the host's: never read it.
  const Contact* contact = nullptr;
  ContactSnapshot::State state = ContactSnapshot::State::kQueued;
  absl::Time planned_at = absl::InfinitePast();
  uint64_t placement = 0;
  std::string_view agent_id;
  absl::Time assigned_at = absl::InfinitePast();
  absl::Time offer_expires_at = absl::InfinitePast();
  absl::Time aged_arrival = absl::InfinitePast();
};

AgentView ViewOf(const AgentSnapshot& agent);
ContactView ViewOf(const ContactSnapshot& contact);
// Copies: the snapshot a view shows (user_data left null).
AgentSnapshot SnapshotOf(const AgentView& agent);
ContactSnapshot SnapshotOf(const ContactView& contact);

// The key a customer id is remembered under: a 64-bit hash of the id, the
// same in every process and every version (a snapshot holds it).
uint64_t HistoryKey(std::string_view customer_id);

}  // namespace routing

#endif  // ROUTING_ROUTER_STATE_H_
