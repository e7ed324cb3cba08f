// File: bindings/c/c_objects.h
//
// What the opaque handles of routing.h are (internal to //bindings/c). Builder
// and result objects are plain C++ values wrapped in the struct C sees; the
// engine handle is described in routing_engine.cc.
#ifndef ROUTING_BINDINGS_C_C_OBJECTS_H_
#define ROUTING_BINDINGS_C_C_OBJECTS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bindings/c/routing.h"
#include "routing/router.h"
#include "rules/lua_rules.h"

struct routing_options_t {
  routing::RouterOptions router;  // clock and listener stay null here.
  bool manual_clock = false;
  int64_t manual_clock_start_ms = 0;
  routing_assignment_fn callback = nullptr;
  void* callback_user_data = nullptr;
  routing_offer_expired_fn offer_expired_callback = nullptr;
  void* offer_expired_user_data = nullptr;
  std::string rules_file;  // Empty: none.
  // Budget and breaker of every rules compile (the rest: defaults).
  absl::Duration rules_budget = rules::RulesOptions().evaluation_budget;
  int rules_breaker_failures = rules::RulesOptions().breaker_failures;
  absl::Duration rules_breaker_window = rules::RulesOptions().breaker_window;
};

struct routing_policy_t {
  routing::RoutingPolicy policy;
};

struct routing_agent_t {
  routing::AgentProfile profile;
};

struct routing_contact_t {
  routing::Contact contact;
};

// A decision the caller owns (`owned`), or one borrowed from an assignment
// for the duration of a callback (`view` points into the assignment).
struct routing_decision_t {
  routing::RoutingDecision owned;
  const routing::RoutingDecision* view = &owned;

  routing_decision_t() = default;
  explicit routing_decision_t(routing::RoutingDecision d)
      : owned(std::move(d)) {}
  explicit routing_decision_t(const routing::RoutingDecision* borrowed)
      : view(borrowed) {}
  routing_decision_t(const routing_decision_t&) = delete;
  routing_decision_t& operator=(const routing_decision_t&) = delete;
};

// Lives on the stack of the listener for one callback.
struct routing_assignment_t {
  const routing::Assignment* assignment;
  routing_decision_t decision;
  // The attributes in a stable order for index access.
  std::vector<std::pair<const std::string*, const std::string*>> attributes;
};

// Lives on the stack of the listener for one offer expired callback.
struct routing_expired_offer_t {
  const routing::ExpiredOffer* offer;
};

struct routing_agent_status_t {
  routing::AgentStatus status;
};

struct routing_string_list_t {
  std::vector<std::string> strings;
};

struct routing_history_t {
  std::vector<routing::CustomerInteraction> interactions;
};

struct routing_stats_t {
  routing::RouterStats stats;
};

#endif  // ROUTING_BINDINGS_C_C_OBJECTS_H_
