// The engine handle of routing.h and every call made on it.
//
// Handle scheme. A routing_engine_t is a small record allocated once per
// routing_engine_create and never freed: routing_engine_destroy frees the
// router and everything it holds, and marks the record destroyed, so a later
// call through the same pointer reads valid memory and fails with
// ROUTING_DESTROYED instead of touching freed memory. Records are not reused
// (a reused record would let a stale pointer reach a new engine). Each costs
// sizeof(routing_engine_t) (16 bytes; under 64 with the allocator's overhead
// and its slot in the list) for the life of the process; they are kept in a
// process-wide list so leak checkers see them as reachable.
//
// Calls racing destroy. `calls` packs the number of calls in flight (counted
// in steps of 2) and a destroyed bit (bit 0) in one atomic word. A call adds 2
// and looks at the bit in the same read-modify-write: if the bit was clear the
// call is in flight and destroy will wait for it; if set, it takes its 2 back
// and fails. Destroy sets the bit (a second destroy sees it already set), then
// waits until the word is exactly the bit: no call in flight, and none can
// start. The acquire load that sees the count reach zero pairs with the
// release decrement of the last call, so everything that call did happens
// before the router is freed. The call path is two atomic read-modify-writes,
// no lock; a mutex is taken only by create (for the list of records).
//
// A call also pushes a frame on a thread-local list, so destroy from inside a
// call on the same engine (e.g. from its assignment callback) is refused
// instead of waiting for itself forever.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bindings/c/c_boundary.h"
#include "bindings/c/c_objects.h"
#include "bindings/c/routing.h"
#include "bindings/c/routing_1_compat.h"
#include "routing/clock.h"
#include "routing/router.h"
#include "routing/status_macros.h"
#include "rules/lua_rules.h"

using routing::c_api::Boundary;
using routing::c_api::RecordFailure;
using routing::c_api::RequireEnum;
using routing::c_api::RequireNonNull;
using routing::c_api::TextArgument;

namespace {

// Bit 0 of routing_engine_t::calls; each call in flight adds kCallStep.
constexpr uint64_t kDestroyedBit = 1;
constexpr uint64_t kCallStep = 2;
constexpr int kOutcomeCount = routing::kContactOutcomeCount;
// Destroy polls for calls in flight: they take microseconds, so it yields
// this many times before sleeping between polls.
constexpr int kYieldsBeforeSleeping = 1000;
constexpr auto kDestroyPollInterval = std::chrono::microseconds(100);

// Delivers the router's assignments and lapsed offers to the C callbacks
// (either may be null). Both are told on the router's notice path, so they
// share its contract: the calling thread, after the call's work, outside
// every internal critical section, never nested.
class CallbackListener final : public routing::AssignmentListener {
 public:
  CallbackListener(routing_assignment_fn callback, void* user_data,
                   routing_offer_expired_fn offer_expired,
                   void* offer_expired_user_data)
      : callback_(callback),
        user_data_(user_data),
        offer_expired_(offer_expired),
        offer_expired_user_data_(offer_expired_user_data) {}

  void OnAssigned(const routing::Assignment& assignment) noexcept override {
    if (callback_ == nullptr) return;
    // The router is mid-call: nothing may propagate out of here. An
    // assignment that cannot be described (no memory for the attribute
    // index) is still delivered, with no attributes.
    routing_assignment_t view{
        &assignment, routing_decision_t(&assignment.decision), {}};
    try {
      view.attributes.reserve(assignment.attributes.size());
      for (const auto& [key, value] : assignment.attributes) {
        view.attributes.emplace_back(&key, &value);
      }
    } catch (...) {
      view.attributes.clear();
    }
    try {
      callback_(user_data_, &view);
    } catch (...) {
      // A C++ callback threw: it must not unwind through the router.
    }
  }

  void OnOfferExpired(const routing::ExpiredOffer& offer) noexcept override {
    if (offer_expired_ == nullptr) return;
    const routing_expired_offer_t view{&offer};
    try {
      offer_expired_(offer_expired_user_data_, &view);
    } catch (...) {
      // As in OnAssigned: nothing unwinds through the router.
    }
  }

 private:
  const routing_assignment_fn callback_;
  void* const user_data_;
  const routing_offer_expired_fn offer_expired_;
  void* const offer_expired_user_data_;
};

// Everything routing_engine_destroy frees.
struct EngineState {
  std::unique_ptr<routing::ManualClock> manual_clock;  // Null: wall clock.
  std::unique_ptr<CallbackListener> listener;          // Null: no callback.
  std::unique_ptr<routing::Router> router;
  // The rules last put in force, for their error counters. Reloads and those
  // queries take the mutex; decisions never do (the router holds its own
  // reference, swapped atomically).
  std::mutex rules_mu;
  std::shared_ptr<const rules::LuaRules> rules;
  // Budget and breaker of every compile (routing_options_set_rules_limits).
  rules::RulesOptions rules_options;
};

// "FILE:LINE: message" lines.
std::string JoinProblems(const std::vector<rules::RulesProblem>& problems) {
  std::string out;
  for (const rules::RulesProblem& p : problems) {
    absl::StrAppend(&out, out.empty() ? "" : "\n", p.ToString());
  }
  return out;
}

// Puts compiled rules (or their refusal) into effect on `state`.
absl::Status InstallRules(
    EngineState& state,
    absl::StatusOr<std::shared_ptr<const rules::LuaRules>> compiled,
    const std::vector<rules::RulesProblem>& problems, uint64_t* version_out,
    char** problems_out) {
  if (!compiled.ok()) {
    if (problems_out != nullptr && !problems.empty()) {
      *problems_out = routing::c_api::CopyForCaller(JoinProblems(problems));
    }
    return problems.empty()
               ? compiled.status()
               : absl::Status(compiled.status().code(),
                              absl::StrCat("rules refused:\n",
                                           JoinProblems(problems)));
  }
  std::lock_guard<std::mutex> lock(state.rules_mu);
  state.rules = *compiled;
  const uint64_t version = state.router->SetRules(state.rules);
  if (version_out != nullptr) *version_out = version;
  return absl::OkStatus();
}

// One frame per routing_engine_* call in progress on this thread.
struct CallFrame {
  const routing_engine_t* engine;
  const CallFrame* outer;
};
thread_local const CallFrame* calls_on_this_thread = nullptr;

// Guards the list of engine records (taken by create only).
std::mutex& EngineRecordsMutex() {
  static auto* mutex = new std::mutex();
  return *mutex;
}
std::vector<routing_engine_t*>& EngineRecords() {
  static auto* records = new std::vector<routing_engine_t*>();
  return *records;
}

}  // namespace

struct routing_engine_t {
  std::atomic<uint64_t> calls{0};
  // Written by create before the handle is published; freed by destroy only
  // once no call is in flight.
  EngineState* state = nullptr;
};

namespace {

// Admits one call on `engine` for its lifetime, or says why not. Allocates
// nothing, so it is safe outside Boundary's try block.
class EngineCall {
 public:
  enum class Entry { kAdmitted, kNullEngine, kDestroyed };

  explicit EngineCall(routing_engine_t* engine) : engine_(engine) {
    if (engine_ == nullptr) {
      entry_ = Entry::kNullEngine;
      return;
    }
    uint64_t before =
        engine_->calls.fetch_add(kCallStep, std::memory_order_acquire);
    if (before & kDestroyedBit) {
      engine_->calls.fetch_sub(kCallStep, std::memory_order_release);
      entry_ = Entry::kDestroyed;
      return;
    }
    entry_ = Entry::kAdmitted;
    frame_ = {engine_, calls_on_this_thread};
    calls_on_this_thread = &frame_;
  }

  ~EngineCall() {
    if (entry_ != Entry::kAdmitted) return;
    calls_on_this_thread = frame_.outer;
    engine_->calls.fetch_sub(kCallStep, std::memory_order_release);
  }

  EngineCall(const EngineCall&) = delete;
  EngineCall& operator=(const EngineCall&) = delete;

  Entry entry() const { return entry_; }
  routing::Router& router() const { return *engine_->state->router; }
  EngineState& state() const { return *engine_->state; }

 private:
  routing_engine_t* const engine_;
  Entry entry_ = Entry::kNullEngine;
  CallFrame frame_{nullptr, nullptr};
};

// Runs `body(call)` as one admitted call on `engine`.
template <typename Body>
routing_status_t OnEngine(const char* function, routing_engine_t* engine,
                          Body&& body) noexcept {
  EngineCall call(engine);
  if (call.entry() == EngineCall::Entry::kDestroyed) {
    return RecordFailure(function, ROUTING_DESTROYED,
                         "the engine was destroyed");
  }
  return Boundary(function, [&]() -> absl::Status {
    if (call.entry() == EngineCall::Entry::kNullEngine) {
      return absl::InvalidArgumentError("engine is NULL");
    }
    return body(call);
  });
}

bool InCallOnThisThread(const routing_engine_t* engine) {
  for (const CallFrame* f = calls_on_this_thread; f != nullptr; f = f->outer) {
    if (f->engine == engine) return true;
  }
  return false;
}

absl::Status ValidAgentId(const char* agent_id, std::string* out) {
  ROUTING_ASSIGN_OR_RETURN(*out, TextArgument(agent_id, "agent id"));
  return absl::OkStatus();
}

routing_contact_state_t ContactState(routing::ContactStatus::State state) {
  switch (state) {
    case routing::ContactStatus::State::kAssigned:
      return ROUTING_CONTACT_ASSIGNED;
    case routing::ContactStatus::State::kOffered:
      return ROUTING_CONTACT_OFFERED;
    case routing::ContactStatus::State::kQueued:
      break;
  }
  return ROUTING_CONTACT_QUEUED;
}

// The ids of an offer's accept or reject: the contact's, and the agent's
// (NULL or "": whichever agent it is offered to). Both bounded, so that a
// refusal echoes them whole: no agent or contact id is longer.
struct OfferIds {
  std::string contact_id;
  std::string agent_id;
};
absl::StatusOr<OfferIds> OfferArguments(const char* contact_id,
                                        const char* agent_id) {
  OfferIds ids;
  ROUTING_ASSIGN_OR_RETURN(
      ids.contact_id, TextArgument(contact_id, "contact id",
                                   routing::c_api::kMaxIdBytes));
  if (agent_id != nullptr) {
    ROUTING_ASSIGN_OR_RETURN(
        ids.agent_id,
        TextArgument(agent_id, "agent id", routing::c_api::kMaxIdBytes));
  }
  return ids;
}

}  // namespace

extern "C" {

int routing_abi_version(void) { return ROUTING_ABI_VERSION; }

const char* routing_status_name(routing_status_t status) {
  switch (status) {
    case ROUTING_OK:
      return "OK";
    case ROUTING_INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case ROUTING_NOT_FOUND:
      return "NOT_FOUND";
    case ROUTING_ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case ROUTING_RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case ROUTING_FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case ROUTING_OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case ROUTING_INTERNAL:
      return "INTERNAL";
    case ROUTING_CANCELLED:
      return "CANCELLED";
    case ROUTING_UNKNOWN:
      return "UNKNOWN";
    case ROUTING_DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case ROUTING_PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case ROUTING_ABORTED:
      return "ABORTED";
    case ROUTING_UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case ROUTING_UNAVAILABLE:
      return "UNAVAILABLE";
    case ROUTING_DATA_LOSS:
      return "DATA_LOSS";
    case ROUTING_UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case ROUTING_DESTROYED:
      return "DESTROYED";
  }
  return "UNKNOWN";
}

const char* routing_last_error(void) { return routing::c_api::LastError(); }

// --- Lifecycle ---------------------------------------------------------------

routing_status_t routing_engine_create(const routing_options_t* options,
                                       routing_engine_t** engine_out) {
  return Boundary("routing_engine_create", [&]() -> absl::Status {
    ROUTING_RETURN_IF_ERROR(RequireNonNull(engine_out, "engine_out"));
    const routing_options_t defaults;
    const routing_options_t& o = options != nullptr ? *options : defaults;
    auto state = std::make_unique<EngineState>();
    state->rules_options.evaluation_budget = o.rules_budget;
    state->rules_options.breaker_failures = o.rules_breaker_failures;
    state->rules_options.breaker_window = o.rules_breaker_window;
    routing::RouterOptions router_options = o.router;
    if (o.manual_clock) {
      state->manual_clock = std::make_unique<routing::ManualClock>(
          absl::FromUnixMillis(o.manual_clock_start_ms));
      router_options.clock = state->manual_clock.get();
    }
    if (o.callback != nullptr || o.offer_expired_callback != nullptr) {
      state->listener = std::make_unique<CallbackListener>(
          o.callback, o.callback_user_data, o.offer_expired_callback,
          o.offer_expired_user_data);
      router_options.listener = state->listener.get();
    }
    ROUTING_ASSIGN_OR_RETURN(state->router,
                             routing::Router::Create(router_options));
    if (!o.rules_file.empty()) {
      std::vector<rules::RulesProblem> problems;
      auto compiled =
          rules::LoadRulesFile(o.rules_file, state->rules_options, &problems);
      ROUTING_RETURN_IF_ERROR(InstallRules(*state, std::move(compiled),
                                           problems, nullptr, nullptr));
    }
    auto record = std::make_unique<routing_engine_t>();
    {
      std::lock_guard<std::mutex> lock(EngineRecordsMutex());
      EngineRecords().push_back(record.get());
    }
    record->state = state.release();
    *engine_out = record.release();
    return absl::OkStatus();
  });
}

routing_status_t routing_engine_destroy(routing_engine_t* engine) {
  bool already_destroyed = false;
  routing_status_t status =
      Boundary("routing_engine_destroy", [&]() -> absl::Status {
        ROUTING_RETURN_IF_ERROR(RequireNonNull(engine, "engine"));
        if (InCallOnThisThread(engine)) {
          return absl::FailedPreconditionError(
              "called from inside a call on the same engine (e.g. its "
              "assignment callback); destroy it after that call returns");
        }
        // Only the destroy that sets the bit goes on, so no lock is needed
        // (and none is held while waiting, so a callback still running on
        // another thread may create or destroy other engines).
        uint64_t before =
            engine->calls.fetch_or(kDestroyedBit, std::memory_order_acq_rel);
        if (before & kDestroyedBit) {
          already_destroyed = true;
          return absl::OkStatus();
        }
        // Wait for the calls in flight; they take microseconds, so yield
        // first and sleep only if one is held up (e.g. in a slow callback).
        int yields = 0;
        while (engine->calls.load(std::memory_order_acquire) != kDestroyedBit) {
          if (yields < kYieldsBeforeSleeping) {
            ++yields;
            std::this_thread::yield();
          } else {
            std::this_thread::sleep_for(kDestroyPollInterval);
          }
        }
        delete engine->state;
        engine->state = nullptr;
        return absl::OkStatus();
      });
  if (already_destroyed) {
    return RecordFailure("routing_engine_destroy", ROUTING_DESTROYED,
                         "the engine was already destroyed");
  }
  return status;
}

// --- Agents ------------------------------------------------------------------

routing_status_t routing_engine_add_agent(routing_engine_t* engine,
                                          const routing_agent_t* agent) {
  return OnEngine("routing_engine_add_agent", engine,
                  [&](const EngineCall& call) -> absl::Status {
                    ROUTING_RETURN_IF_ERROR(RequireNonNull(agent, "agent"));
                    return call.router().AddAgent(agent->profile);
                  });
}

routing_status_t routing_engine_update_agent(routing_engine_t* engine,
                                             const routing_agent_t* agent) {
  return OnEngine("routing_engine_update_agent", engine,
                  [&](const EngineCall& call) -> absl::Status {
                    ROUTING_RETURN_IF_ERROR(RequireNonNull(agent, "agent"));
                    return call.router().UpdateAgent(agent->profile);
                  });
}

routing_status_t routing_engine_remove_agent(routing_engine_t* engine,
                                             const char* agent_id) {
  return OnEngine("routing_engine_remove_agent", engine,
                  [&](const EngineCall& call) -> absl::Status {
                    std::string id;
                    ROUTING_RETURN_IF_ERROR(ValidAgentId(agent_id, &id));
                    return call.router().RemoveAgent(id);
                  });
}

routing_status_t routing_engine_set_agent_state(routing_engine_t* engine,
                                                const char* agent_id,
                                                routing_agent_state_t state) {
  return OnEngine("routing_engine_set_agent_state", engine,
                  [&](const EngineCall& call) -> absl::Status {
                    std::string id;
                    ROUTING_RETURN_IF_ERROR(ValidAgentId(agent_id, &id));
                    ROUTING_RETURN_IF_ERROR(RequireEnum(
                        state, routing::kAgentStateCount, "agent state"));
                    return call.router().SetAgentState(
                        id, static_cast<routing::AgentState>(state));
                  });
}

routing_status_t routing_engine_get_agent(routing_engine_t* engine,
                                          const char* agent_id,
                                          routing_agent_status_t** status_out) {
  return OnEngine(
      "routing_engine_get_agent", engine,
      [&](const EngineCall& call) -> absl::Status {
        std::string id;
        ROUTING_RETURN_IF_ERROR(ValidAgentId(agent_id, &id));
        ROUTING_RETURN_IF_ERROR(RequireNonNull(status_out, "status_out"));
        ROUTING_ASSIGN_OR_RETURN(routing::AgentStatus status,
                                 call.router().GetAgent(id));
        *status_out = new routing_agent_status_t{std::move(status)};
        return absl::OkStatus();
      });
}

routing_status_t routing_engine_agent_ids(routing_engine_t* engine,
                                          routing_string_list_t** ids_out) {
  return OnEngine("routing_engine_agent_ids", engine,
                  [&](const EngineCall& call) -> absl::Status {
                    ROUTING_RETURN_IF_ERROR(RequireNonNull(ids_out, "ids_out"));
                    *ids_out =
                        new routing_string_list_t{call.router().AgentIds()};
                    return absl::OkStatus();
                  });
}

// --- Contacts ----------------------------------------------------------------

routing_status_t routing_engine_route(routing_engine_t* engine,
                                      const routing_contact_t* contact,
                                      routing_decision_t** decision_out) {
  return OnEngine(
      "routing_engine_route", engine,
      [&](const EngineCall& call) -> absl::Status {
        ROUTING_RETURN_IF_ERROR(RequireNonNull(contact, "contact"));
        ROUTING_RETURN_IF_ERROR(RequireNonNull(decision_out, "decision_out"));
        // Allocated first: once Route succeeds the contact is held, and a
        // failure to allocate afterwards would report an error for a call
        // that did something.
        auto decision = std::make_unique<routing_decision_t>();
        ROUTING_ASSIGN_OR_RETURN(decision->owned,
                                 call.router().Route(contact->contact));
        *decision_out = decision.release();
        return absl::OkStatus();
      });
}

routing_status_t routing_engine_requeue(routing_engine_t* engine,
                                        const routing_contact_t* contact,
                                        routing_decision_t** decision_out) {
  return OnEngine(
      "routing_engine_requeue", engine,
      [&](const EngineCall& call) -> absl::Status {
        ROUTING_RETURN_IF_ERROR(RequireNonNull(contact, "contact"));
        ROUTING_RETURN_IF_ERROR(RequireNonNull(decision_out, "decision_out"));
        auto decision = std::make_unique<routing_decision_t>();
        ROUTING_ASSIGN_OR_RETURN(decision->owned,
                                 call.router().Requeue(contact->contact));
        *decision_out = decision.release();
        return absl::OkStatus();
      });
}

routing_status_t routing_engine_cancel(routing_engine_t* engine,
                                       const char* contact_id) {
  return OnEngine("routing_engine_cancel", engine,
                  [&](const EngineCall& call) -> absl::Status {
                    ROUTING_ASSIGN_OR_RETURN(
                        std::string id, TextArgument(contact_id, "contact id"));
                    return call.router().Cancel(id);
                  });
}

routing_status_t routing_engine_release(routing_engine_t* engine,
                                        const char* contact_id,
                                        routing_outcome_t outcome) {
  return OnEngine(
      "routing_engine_release", engine,
      [&](const EngineCall& call) -> absl::Status {
        ROUTING_ASSIGN_OR_RETURN(std::string id,
                                 TextArgument(contact_id, "contact id"));
        ROUTING_RETURN_IF_ERROR(RequireEnum(outcome, kOutcomeCount, "outcome"));
        return call.router().Release(
            id, static_cast<routing::ContactOutcome>(outcome));
      });
}

routing_status_t routing_engine_release_with_survey(routing_engine_t* engine,
                                                    const char* contact_id,
                                                    routing_outcome_t outcome,
                                                    int csat, int nps) {
  return OnEngine(
      "routing_engine_release_with_survey", engine,
      [&](const EngineCall& call) -> absl::Status {
        ROUTING_ASSIGN_OR_RETURN(std::string id,
                                 TextArgument(contact_id, "contact id"));
        ROUTING_RETURN_IF_ERROR(RequireEnum(outcome, kOutcomeCount, "outcome"));
        routing::ContactSurvey survey;
        if (csat != ROUTING_SURVEY_NOT_ANSWERED) survey.csat = csat;
        if (nps != ROUTING_SURVEY_NOT_ANSWERED) survey.nps = nps;
        return call.router().Release(
            id, static_cast<routing::ContactOutcome>(outcome), survey);
      });
}

routing_status_t routing_engine_get_contact(routing_engine_t* engine,
                                            const char* contact_id,
                                            routing_contact_state_t* state_out,
                                            char** agent_id_out) {
  return OnEngine(
      "routing_engine_get_contact", engine,
      [&](const EngineCall& call) -> absl::Status {
        ROUTING_ASSIGN_OR_RETURN(std::string id,
                                 TextArgument(contact_id, "contact id"));
        ROUTING_RETURN_IF_ERROR(RequireNonNull(state_out, "state_out"));
        ROUTING_ASSIGN_OR_RETURN(routing::ContactStatus status,
                                 call.router().GetContact(id));
        char* agent_id = nullptr;
        if (agent_id_out != nullptr) {
          agent_id = routing::c_api::CopyForCaller(status.agent_id);
          *agent_id_out = agent_id;
        }
        *state_out = ContactState(status.state);
        return absl::OkStatus();
      });
}

routing_status_t routing_engine_get_contact_details(
    routing_engine_t* engine, const char* contact_id,
    routing_contact_state_t* state_out, char** agent_id_out,
    int64_t* offer_expires_at_ms_out, uint64_t* placement_out) {
  return OnEngine(
      "routing_engine_get_contact_details", engine,
      [&](const EngineCall& call) -> absl::Status {
        ROUTING_ASSIGN_OR_RETURN(std::string id,
                                 TextArgument(contact_id, "contact id"));
        ROUTING_ASSIGN_OR_RETURN(routing::ContactStatus status,
                                 call.router().GetContact(id));
        // The only allocation first: nothing is written if it fails.
        if (agent_id_out != nullptr) {
          *agent_id_out = routing::c_api::CopyForCaller(status.agent_id);
        }
        if (state_out != nullptr) *state_out = ContactState(status.state);
        if (offer_expires_at_ms_out != nullptr) {
          *offer_expires_at_ms_out =
              status.state == routing::ContactStatus::State::kOffered
                  ? absl::ToUnixMillis(status.offer_expires_at)
                  : 0;
        }
        if (placement_out != nullptr) *placement_out = status.placement;
        return absl::OkStatus();
      });
}

routing_status_t routing_engine_accept_offer(routing_engine_t* engine,
                                             const char* contact_id,
                                             const char* agent_id) {
  return OnEngine("routing_engine_accept_offer", engine,
                  [&](const EngineCall& call) -> absl::Status {
                    ROUTING_ASSIGN_OR_RETURN(
                        OfferIds ids, OfferArguments(contact_id, agent_id));
                    return call.router().AcceptOffer(ids.contact_id,
                                                     ids.agent_id);
                  });
}

routing_status_t routing_engine_reject_offer(routing_engine_t* engine,
                                             const char* contact_id,
                                             const char* agent_id,
                                             routing_decision_t** decision_out) {
  return OnEngine(
      "routing_engine_reject_offer", engine,
      [&](const EngineCall& call) -> absl::Status {
        ROUTING_ASSIGN_OR_RETURN(OfferIds ids,
                                 OfferArguments(contact_id, agent_id));
        // Allocated first, as in route: once the reject succeeds the offer
        // has ended, and a failure afterwards would report an error for a
        // call that did something.
        std::unique_ptr<routing_decision_t> decision;
        if (decision_out != nullptr) {
          decision = std::make_unique<routing_decision_t>();
        }
        ROUTING_ASSIGN_OR_RETURN(
            routing::RoutingDecision placed,
            call.router().RejectOffer(ids.contact_id, ids.agent_id));
        if (decision_out != nullptr) {
          decision->owned = std::move(placed);
          *decision_out = decision.release();
        }
        return absl::OkStatus();
      });
}

// --- Policy, history, statistics, time --------------------------------------

routing_status_t routing_engine_set_policy(routing_engine_t* engine,
                                           const routing_policy_t* policy,
                                           uint64_t* version_out) {
  return OnEngine("routing_engine_set_policy", engine,
                  [&](const EngineCall& call) -> absl::Status {
                    ROUTING_RETURN_IF_ERROR(RequireNonNull(policy, "policy"));
                    ROUTING_ASSIGN_OR_RETURN(
                        uint64_t version,
                        call.router().SetPolicy(policy->policy));
                    if (version_out != nullptr) *version_out = version;
                    return absl::OkStatus();
                  });
}

routing_status_t routing_engine_policy_version(routing_engine_t* engine,
                                               uint64_t* version_out) {
  return OnEngine(
      "routing_engine_policy_version", engine,
      [&](const EngineCall& call) -> absl::Status {
        ROUTING_RETURN_IF_ERROR(RequireNonNull(version_out, "version_out"));
        *version_out = call.router().PolicyVersion();
        return absl::OkStatus();
      });
}

routing_status_t routing_engine_reload_rules(routing_engine_t* engine,
                                             const char* path,
                                             uint64_t* version_out,
                                             char** problems_out) {
  if (problems_out != nullptr) *problems_out = nullptr;
  return OnEngine(
      "routing_engine_reload_rules", engine,
      [&](const EngineCall& call) -> absl::Status {
        ROUTING_ASSIGN_OR_RETURN(
            std::string file,
            TextArgument(path, "rules file path",
                         routing::c_api::kMaxPathBytes));
        std::vector<rules::RulesProblem> problems;
        auto compiled =
            rules::LoadRulesFile(file, call.state().rules_options, &problems);
        return InstallRules(call.state(), std::move(compiled), problems,
                            version_out, problems_out);
      });
}

routing_status_t routing_engine_reload_rules_text(routing_engine_t* engine,
                                                  const char* name,
                                                  const char* source,
                                                  uint64_t* version_out,
                                                  char** problems_out) {
  if (problems_out != nullptr) *problems_out = nullptr;
  return OnEngine(
      "routing_engine_reload_rules_text", engine,
      [&](const EngineCall& call) -> absl::Status {
        ROUTING_ASSIGN_OR_RETURN(
            std::string label,
            TextArgument(name, "rules name",
                         routing::c_api::kMaxRulesNameBytes));
        ROUTING_ASSIGN_OR_RETURN(std::string text,
                                 TextArgument(source, "rules source"));
        std::vector<rules::RulesProblem> problems;
        auto compiled = rules::CompileRules(label, text, call.state().rules_options,
                                            &problems);
        return InstallRules(call.state(), std::move(compiled), problems,
                            version_out, problems_out);
      });
}

routing_status_t routing_engine_clear_rules(routing_engine_t* engine,
                                            uint64_t* version_out) {
  return OnEngine("routing_engine_clear_rules", engine,
                  [&](const EngineCall& call) -> absl::Status {
                    EngineState& state = call.state();
                    std::lock_guard<std::mutex> lock(state.rules_mu);
                    state.rules = nullptr;
                    const uint64_t version = state.router->SetRules(nullptr);
                    if (version_out != nullptr) *version_out = version;
                    return absl::OkStatus();
                  });
}

routing_status_t routing_engine_rules_version(routing_engine_t* engine,
                                              uint64_t* version_out) {
  return OnEngine(
      "routing_engine_rules_version", engine,
      [&](const EngineCall& call) -> absl::Status {
        ROUTING_RETURN_IF_ERROR(RequireNonNull(version_out, "version_out"));
        *version_out = call.router().RulesVersion();
        return absl::OkStatus();
      });
}

routing_status_t routing_engine_rules_errors(routing_engine_t* engine,
                                             int64_t* count_out,
                                             char** last_error_out) {
  return OnEngine(
      "routing_engine_rules_errors", engine,
      [&](const EngineCall& call) -> absl::Status {
        ROUTING_RETURN_IF_ERROR(RequireNonNull(count_out, "count_out"));
        EngineState& state = call.state();
        std::shared_ptr<const rules::LuaRules> current;
        {
          std::lock_guard<std::mutex> lock(state.rules_mu);
          current = state.rules;
        }
        *count_out = current == nullptr ? 0 : current->errors();
        if (last_error_out != nullptr) {
          *last_error_out = routing::c_api::CopyForCaller(
              current == nullptr ? std::string() : current->last_error());
        }
        return absl::OkStatus();
      });
}

routing_status_t routing_engine_rules_health(routing_engine_t* engine,
                                             int64_t* errors_out,
                                             int64_t* overruns_out,
                                             int* suspended_out,
                                             char** last_error_out) {
  return OnEngine(
      "routing_engine_rules_health", engine,
      [&](const EngineCall& call) -> absl::Status {
        EngineState& state = call.state();
        std::shared_ptr<const rules::LuaRules> current;
        {
          std::lock_guard<std::mutex> lock(state.rules_mu);
          current = state.rules;
        }
        const rules::LuaRules::Health health =
            current == nullptr ? rules::LuaRules::Health() : current->health();
        if (errors_out != nullptr) *errors_out = health.errors;
        if (overruns_out != nullptr) *overruns_out = health.overruns;
        if (suspended_out != nullptr) *suspended_out = health.suspended ? 1 : 0;
        if (last_error_out != nullptr) {
          *last_error_out = routing::c_api::CopyForCaller(health.last_error);
        }
        return absl::OkStatus();
      });
}

routing_status_t routing_engine_advance_queues(routing_engine_t* engine,
                                               int* moved_out) {
  return OnEngine("routing_engine_advance_queues", engine,
                  [&](const EngineCall& call) -> absl::Status {
                    const int moved = call.router().AdvanceQueues();
                    if (moved_out != nullptr) *moved_out = moved;
                    return absl::OkStatus();
                  });
}

routing_status_t routing_engine_customer_history(
    routing_engine_t* engine, const char* customer_id,
    routing_history_t** history_out) {
  return OnEngine(
      "routing_engine_customer_history", engine,
      [&](const EngineCall& call) -> absl::Status {
        ROUTING_ASSIGN_OR_RETURN(std::string id,
                                 TextArgument(customer_id, "customer id"));
        ROUTING_RETURN_IF_ERROR(RequireNonNull(history_out, "history_out"));
        *history_out = new routing_history_t{call.router().CustomerHistory(id)};
        return absl::OkStatus();
      });
}

routing_status_t routing_engine_stats(routing_engine_t* engine,
                                      routing_stats_t** stats_out) {
  return OnEngine(
      "routing_engine_stats", engine,
      [&](const EngineCall& call) -> absl::Status {
        ROUTING_RETURN_IF_ERROR(RequireNonNull(stats_out, "stats_out"));
        *stats_out = new routing_stats_t{call.router().Stats()};
        return absl::OkStatus();
      });
}

routing_status_t routing_engine_set_time(routing_engine_t* engine,
                                         int64_t unix_ms) {
  return OnEngine(
      "routing_engine_set_time", engine,
      [&](const EngineCall& call) -> absl::Status {
        routing::ManualClock* clock = call.state().manual_clock.get();
        if (clock == nullptr) {
          return absl::FailedPreconditionError(
              "the engine uses the wall clock; ask for a manual clock with "
              "routing_options_set_manual_clock");
        }
        clock->Set(absl::FromUnixMillis(unix_ms));
        return absl::OkStatus();
      });
}

}  // extern "C"

// Functions of the first release: also exported as f@ROUTING_1
// (routing_1_compat.h).
ROUTING_FIRST_RELEASE(routing_abi_version);
ROUTING_FIRST_RELEASE(routing_engine_add_agent);
ROUTING_FIRST_RELEASE(routing_engine_advance_queues);
ROUTING_FIRST_RELEASE(routing_engine_agent_ids);
ROUTING_FIRST_RELEASE(routing_engine_cancel);
ROUTING_FIRST_RELEASE(routing_engine_clear_rules);
ROUTING_FIRST_RELEASE(routing_engine_create);
ROUTING_FIRST_RELEASE(routing_engine_customer_history);
ROUTING_FIRST_RELEASE(routing_engine_destroy);
ROUTING_FIRST_RELEASE(routing_engine_get_agent);
ROUTING_FIRST_RELEASE(routing_engine_get_contact);
ROUTING_FIRST_RELEASE(routing_engine_policy_version);
ROUTING_FIRST_RELEASE(routing_engine_release);
ROUTING_FIRST_RELEASE(routing_engine_reload_rules);
ROUTING_FIRST_RELEASE(routing_engine_reload_rules_text);
ROUTING_FIRST_RELEASE(routing_engine_remove_agent);
ROUTING_FIRST_RELEASE(routing_engine_requeue);
ROUTING_FIRST_RELEASE(routing_engine_route);
ROUTING_FIRST_RELEASE(routing_engine_rules_errors);
ROUTING_FIRST_RELEASE(routing_engine_rules_version);
ROUTING_FIRST_RELEASE(routing_engine_set_agent_state);
ROUTING_FIRST_RELEASE(routing_engine_set_policy);
ROUTING_FIRST_RELEASE(routing_engine_set_time);
ROUTING_FIRST_RELEASE(routing_engine_stats);
ROUTING_FIRST_RELEASE(routing_engine_update_agent);
ROUTING_FIRST_RELEASE(routing_last_error);
ROUTING_FIRST_RELEASE(routing_status_name);
