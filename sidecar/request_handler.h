// File: sidecar/request_handler.h
//
// Executes one protocol request against the Router and builds its reply: the
// transport-free heart of routingd. Workers call Handle with the bytes of one
// request frame; it verifies them (request_decoder.h), calls the Router, and
// finishes the builder with exactly one Reply, an Error reply for anything
// refused. Events (agent state changes, and assignments of queued contacts
// heard by AssignmentPublisher) go to the EventSink of the calling thread.
// ReloadRules replaces the rules in force (RulesInForce, rules_reload.h) and
// publishes rules/reload; a daemon runs reloads on a thread of their own
// (HandleUnlessReload), and calls WatchRules periodically for
// rules/suspended.
//
//   SidecarMetrics metrics;
//   AssignmentPublisher publisher(&metrics, options.policy);
//   router_options.listener = &publisher;
//   auto router = Router::Create(router_options).value();
//   RequestHandler handler(router.get(), &metrics, {});
//   ScopedEventSink sink(&my_sink);          // per worker thread
//   flatbuffers::FlatBufferBuilder fbb;
//   handler.Handle(bytes, size, fbb);        // reply in fbb
//
// Thread-safety: Handle may run on many threads at once (the Router is
// lock-free); each thread uses its own builder and its own EventSink.
#ifndef SIDECAR_REQUEST_HANDLER_H_
#define SIDECAR_REQUEST_HANDLER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "flatbuffers/flatbuffers.h"
#include "routing/clock.h"
#include "routing/router.h"
#include "sidecar/client_roles.h"
#include "sidecar/request_decoder.h"
#include "sidecar/rules_reload.h"
#include "sidecar/sidecar_metrics.h"

namespace routing::sidecar {

// Event topics of the rules in force (routing.fbs).
inline constexpr std::string_view kRulesReloadTopic = "rules/reload";
inline constexpr std::string_view kRulesSuspendedTopic = "rules/suspended";

// Where a thread's events go (a worker's socket to the publisher thread).
class EventSink {
 public:
  virtual ~EventSink() = default;
  // Publishes one finished Event buffer under each topic, in order.
  virtual void Publish(const std::vector<std::string>& topics,
                       const uint8_t* data, size_t size) = 0;
};

// Makes `sink` the calling thread's EventSink for the scope's lifetime.
class ScopedEventSink {
 public:
  explicit ScopedEventSink(EventSink* sink);
  ~ScopedEventSink();
  ScopedEventSink(const ScopedEventSink&) = delete;
  ScopedEventSink& operator=(const ScopedEventSink&) = delete;
  static EventSink* Current();

 private:
  EventSink* previous_;
};

// Hears queued contacts being assigned (on whichever thread freed the agent)
// and publishes ContactAssigned on contact/<id>, queue/<queue>, agent/<id>
// through that thread's EventSink. A thread without one only counts the event
// in metrics.events_without_channel.
class AssignmentPublisher : public AssignmentListener {
 public:
  AssignmentPublisher(SidecarMetrics* metrics,
                      absl::Duration service_level_threshold,
                      const Clock* clock = nullptr);
  void OnAssigned(const Assignment& assignment) override;

 private:
  SidecarMetrics* metrics_;
  absl::Duration service_level_threshold_;
  const Clock* clock_;
};

struct RequestHandlerOptions {
  RequestDecoderOptions decoder;
  absl::Duration service_level_threshold = absl::Seconds(20);
  int workers = 1;               // Reported by Health.
  const Clock* clock = nullptr;  // Null: SystemClock.
  // The rules in force, replaced by ReloadRules and read by GetStats. Null:
  // the handler keeps its own, compiled with default rules::RulesOptions.
  RulesInForce* rules = nullptr;
};

class RequestHandler {
 public:
  RequestHandler(Router* router, SidecarMetrics* metrics,
                 RequestHandlerOptions options);

  // Handles one request frame; `fbb` is cleared and holds the reply after.
  // `roles` are the sending client's (client_roles.h; every role without
  // CURVE): a request type they do not permit is answered PermissionDenied,
  // counted in metrics.permission_denied, and not executed.
  void Handle(const uint8_t* data, size_t size,
              flatbuffers::FlatBufferBuilder& fbb,
              RoleSet roles = RoleSet::All());
  // As Handle, except that a valid ReloadRules request is left for the
  // caller to run elsewhere (with Handle, on the thread that runs reloads):
  // returns false with `fbb` empty and nothing counted. Returns true when
  // the request was answered. Only a reload `roles` permit is left; one
  // they do not is answered PermissionDenied here (no default: the caller
  // must pass the client's roles, or every deferred reload would run).
  bool HandleUnlessReload(const uint8_t* data, size_t size,
                          flatbuffers::FlatBufferBuilder& fbb, RoleSet roles);
  // Answers a ReloadRules request that will not run (another reload is
  // running) with Busy and `why`.
  void RefuseReload(const uint8_t* data, size_t size, const std::string& why,
                    flatbuffers::FlatBufferBuilder& fbb);
  // Publishes RulesSuspended on rules/suspended, through the calling
  // thread's event sink, once for each rules version whose circuit breaker
  // has tripped. Called periodically (the daemon's step timer); returns
  // whether it published.
  bool WatchRules();
  // Moves queued contacts on to rules steps that fell due; assignments go
  // to the calling thread's event sink. Returns how many moved.
  int AdvanceQueues() { return router_->AdvanceQueues(); }

 private:
  absl::Time Now() const { return clock_->Now(); }
  void Execute(const wire::Request& request,
               flatbuffers::FlatBufferBuilder& fbb);
  void Decide(uint64_t id, const wire::Contact* contact, bool requeue,
              bool with_explanation, flatbuffers::FlatBufferBuilder& fbb);
  void ListAgents(uint64_t id, flatbuffers::FlatBufferBuilder& fbb);
  void Release(uint64_t id, const wire::ReleaseContact& request,
               flatbuffers::FlatBufferBuilder& fbb);
  void GetContact(uint64_t id, const wire::GetContact& request,
                  flatbuffers::FlatBufferBuilder& fbb);
  void ListContacts(uint64_t id, const wire::ListContacts& request,
                    flatbuffers::FlatBufferBuilder& fbb);
  void Stats(uint64_t id, const wire::GetStats& request,
             flatbuffers::FlatBufferBuilder& fbb);
  void Health(uint64_t id, flatbuffers::FlatBufferBuilder& fbb);

  bool HandleRequest(const uint8_t* data, size_t size, bool defer_reloads,
                     RoleSet roles, flatbuffers::FlatBufferBuilder& fbb);
  void Reload(uint64_t id, const wire::ReloadRules& request,
              flatbuffers::FlatBufferBuilder& fbb);

  Router* router_;
  SidecarMetrics* metrics_;
  RequestHandlerOptions options_;
  const Clock* clock_;
  std::unique_ptr<RulesInForce> own_rules_;  // When options.rules is null.
  RulesInForce* rules_;
};

}  // namespace routing::sidecar

#endif  // SIDECAR_REQUEST_HANDLER_H_
