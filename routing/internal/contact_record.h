// File: routing/internal/contact_record.h
//
// A contact as the router holds it: the caller's Contact, its requirements
// compiled to ids, and a small atomic state machine that decides every race
// over the contact with one compare-and-swap:
//
//   kRouting --(claimed by Route)--------------------> kAssigned
//   kRouting --(no free agent)---> kQueued --(claimed by an agent)--> kAssigned
//   kRouting | kQueued | kAssigned --(Cancel, Release, Requeue)---> kDone
//
// Whoever wins the CAS owns the transition's side effects (agent load, queue
// counters, statistics), so each happens exactly once.
//
// Lifetime: reference counted. The contact table holds one reference and a
// queue node another; the last Unref retires the record through the epoch
// domain, so a thread that found it (pinned) can still read it safely.
#ifndef ROUTING_INTERNAL_CONTACT_RECORD_H_
#define ROUTING_INTERNAL_CONTACT_RECORD_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "routing/contact.h"

namespace routing::internal {

// Most entries a contact may list per requirement (skills, languages,
// preferred or excluded agents); the decision path keeps them on the stack.
inline constexpr int kMaxRequirements = 64;

enum class ContactState : uint8_t { kRouting, kQueued, kAssigned, kDone };

struct ContactRecord {
  Contact contact;  // enqueue_time resolved; queue name resolved.
  const std::string& id() const { return contact.id; }

  int channel = 0;
  int queue = -1;
  int priority = 0;
  int64_t enqueue_ns = 0;
  // Aged arrival: enqueue time minus priority x priority_step. Smaller goes
  // first. Fixed when queued, so queue order never needs re-sorting as time
  // passes (linear aging preserves order).
  int64_t aged_arrival_ns = 0;
  std::vector<std::pair<int, int>> required;  // (skill id, min level)
  std::vector<std::pair<int, int>>
      desired;                 // (skill id, min level); -1 id: unknown skill
  std::vector<int> languages;  // Known language ids in preference order.
  std::vector<int> language_rank;  // Preference position of each languages[i].
  std::vector<int> preferred_agents;  // Agent indexes (unknown ids dropped).
  std::vector<int> excluded_agents;   // Agent indexes (unknown ids dropped).
  // Rules step reached when compiled, and when the next one falls due
  // (INT64_MAX: none). With preferred_only, only the agents in only_agents
  // (the preferred ones and those in the customer's history) may take it.
  int rules_step = 0;
  int64_t next_step_ns = INT64_MAX;
  bool preferred_only = false;
  std::vector<int> only_agents;

  // The state and, once assigned, the agent, in one word so that whoever
  // wins the CAS into kAssigned publishes the agent in the same step, and
  // whoever takes the contact out of kAssigned learns the agent from the very
  // word it replaced.
  static uint64_t Pack(ContactState state, int agent) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(agent)) << 8) |
           static_cast<uint8_t>(state);
  }
  static ContactState StateOf(uint64_t word) {
    return static_cast<ContactState>(word & 0xff);
  }
  static int AgentOf(uint64_t word) {
    return static_cast<int>(static_cast<uint32_t>(word >> 8));
  }
  ContactState State() const {
    return StateOf(state.load(std::memory_order_acquire));
  }
  // kRouting or kQueued -> kAssigned to `agent`. False if someone else moved
  // the contact first.
  bool AssignTo(ContactState from, int agent_index) {
    uint64_t expected = Pack(from, -1);
    return state.compare_exchange_strong(
        expected, Pack(ContactState::kAssigned, agent_index),
        std::memory_order_acq_rel);
  }

  std::atomic<uint64_t> state{Pack(ContactState::kRouting, -1)};
  // Written just after the assignment CAS; a Release racing with it may read
  // 0 and then counts no handling time.
  std::atomic<int64_t> assigned_ns{0};
  std::atomic<int> refs{1};

  bool Excludes(int agent_index) const {
    for (int a : excluded_agents) {
      if (a == agent_index) return true;
    }
    return false;
  }
  bool Admits(int agent_index) const {
    if (!preferred_only) return true;
    for (int a : only_agents) {
      if (a == agent_index) return true;
    }
    return false;
  }
  bool Prefers(int agent_index) const {
    for (int a : preferred_agents) {
      if (a == agent_index) return true;
    }
    return false;
  }
};

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_CONTACT_RECORD_H_
