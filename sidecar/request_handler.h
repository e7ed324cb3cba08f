// File: sidecar/request_handler.h
//
// Executes one protocol request against the Router and builds its reply: the
// transport-free heart of routingd. Workers call Handle with the bytes of one
// request frame; it verifies them (request_decoder.h), calls the Router, and
// finishes the builder with exactly one Reply, an Error reply for anything
// refused. Events go to the EventSink of the calling thread
// (event_publisher.h): what a request did to a contact (assigned at once,
// queued, requeued, cancelled, released) and to an agent (its state), and
// the assignments of queued contacts heard by AssignmentPublisher; the step
// timer's AdvanceQueues adds the rules steps and places in line that moved.
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

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "flatbuffers/flatbuffers.h"
#include "routing/clock.h"
#include "routing/router.h"
#include "sidecar/client_roles.h"
#include "sidecar/event_publisher.h"
#include "sidecar/event_topics.h"
#include "sidecar/queue_watch.h"
#include "sidecar/request_decoder.h"
#include "sidecar/rules_reload.h"
#include "sidecar/sidecar_metrics.h"
#include "sidecar/state_journal.h"

namespace routing::sidecar {

// Hears queued contacts being assigned (on whichever thread freed the agent)
// and publishes ContactAssigned (immediate false) on contact/<id>\0,
// queue/<queue>\0, agent/<id>\0 through that thread's EventSink. A thread
// without one only counts the event in metrics.events_without_channel.
// `run_id` 0: this process's (run_id.h).
class AssignmentPublisher : public AssignmentListener {
 public:
  AssignmentPublisher(SidecarMetrics* metrics,
                      absl::Duration service_level_threshold,
                      const Clock* clock = nullptr, uint64_t run_id = 0);
  void OnAssigned(const Assignment& assignment) override;
  // A lapsed offer (routingd --offer_timeout): ContactChanged OfferExpired,
  // and the agent's AgentStateChanged (MissedOffer) if it was moved.
  void OnOfferExpired(const ExpiredOffer& offer) override;

 private:
  SidecarMetrics* metrics_;
  absl::Duration service_level_threshold_;
  const Clock* clock_;
  EventPublisher events_;
};

// Whether a request of this type may change the router (and so is
// journaled): agent and contact updates, routes, offers' answers, reloads.
bool ChangesRouterState(wire::RequestBody type);

struct RequestHandlerOptions {
  RequestDecoderOptions decoder;
  absl::Duration service_level_threshold = absl::Seconds(20);
  int workers = 1;               // Reported by Health.
  const Clock* clock = nullptr;  // Null: SystemClock.
  // The rules in force, replaced by ReloadRules and read by GetStats. Null:
  // the handler keeps its own, compiled with default rules::RulesOptions.
  RulesInForce* rules = nullptr;
  // HealthStatus.run_id and every Event.run_id; 0: this process's
  // (run_id.h), as the AssignmentPublisher's default.
  uint64_t run_id = 0;
  // StepMoved and PositionChanged (AdvanceQueues): how often and how far.
  QueueWatchOptions queue_watch;
  // routingd --journal_dir: every request that changes the router, every
  // AdvanceQueues that moves something and every accepted reload runs
  // through it (state_journal.h). The caller then holds the reply until
  // StateJournal::TakeThreadSequence()'s record is durable. Null: none.
  StateJournal* journal = nullptr;
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
  // to the calling thread's event sink, and so do StepMoved and, at most
  // once per queue_watch.position_interval, PositionChanged (queue_watch.h:
  // a walk of the queued contacts, capped). Returns how many moved. Called
  // periodically by one thread (the daemon's step timer); calls from
  // several threads are serialised.
  int AdvanceQueues();
  uint64_t run_id() const { return events_.run_id(); }

 private:
  absl::Time Now() const { return clock_->Now(); }
  // The events of a RouteContact or RequeueContact that succeeded: Requeued
  // (from `before`, the contact as it was, when requeued), then Queued or
  // ContactAssigned (immediate).
  void PublishRouted(const Contact& contact, const RoutingDecision& decision,
                     const ContactStatus* before);
  // Cancelled or Released, from the contact as it was before (`before` null:
  // a race left it unknown; the contact's own topic still hears it).
  void PublishEnded(wire::ContactChange change, std::string_view contact_id,
                    const ContactStatus* before, ContactOutcome outcome);
  void Execute(const wire::Request& request,
               flatbuffers::FlatBufferBuilder& fbb);
  // Execute (with AnswerOnce) through the journal (request_handler_journal.cc):
  // a JournalUnavailable reply when it cannot take records, NotDurable when
  // the request ran but its record could not be written.
  void ExecuteJournaled(const wire::Request& request, const uint8_t* aligned,
                        size_t size, flatbuffers::FlatBufferBuilder& fbb);
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
  // Reservations: the agent's platform answers an offer
  // (RouterOptions::offer_timeout).
  void AcceptOffer(uint64_t id, const wire::AcceptOffer& request,
                   flatbuffers::FlatBufferBuilder& fbb);
  void RejectOffer(uint64_t id, const wire::RejectOffer& request,
                   flatbuffers::FlatBufferBuilder& fbb);

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
  EventPublisher events_;
  absl::Mutex queue_watch_mutex_;
  QueueWatch queue_watch_ ABSL_GUARDED_BY(queue_watch_mutex_);
};

}  // namespace routing::sidecar

#endif  // SIDECAR_REQUEST_HANDLER_H_
