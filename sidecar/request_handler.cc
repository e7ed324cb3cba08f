#include "sidecar/request_handler.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "routing/contact_kpis.h"
#include "sidecar/idempotent_requests.h"
#include "sidecar/rules_reload.h"
#include "sidecar/run_id.h"
#include "sidecar/wire_encoder.h"

namespace routing::sidecar {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

void Refuse(FlatBufferBuilder& fbb, uint64_t id, const absl::Status& status) {
  FinishErrorReply(fbb, id, ErrorCodeFor(status),
                   std::string(status.message()));
}

uint64_t RunIdOr(uint64_t run_id) {
  return run_id != 0 ? run_id : ProcessRunId();
}

// Milliseconds from `since` (InfinitePast: unknown, 0) to `until`.
int64_t WaitedMs(absl::Time since, absl::Time until) {
  if (since == absl::InfinitePast()) return 0;
  return std::max<int64_t>(0, absl::ToInt64Milliseconds(until - since));
}

}  // namespace

AssignmentPublisher::AssignmentPublisher(SidecarMetrics* metrics,
                                         absl::Duration service_level_threshold,
                                         const Clock* clock, uint64_t run_id)
    : metrics_(metrics),
      service_level_threshold_(service_level_threshold),
      clock_(clock != nullptr ? clock : SystemClock::Default()),
      events_(metrics, RunIdOr(run_id), clock_) {}

void AssignmentPublisher::OnAssigned(const Assignment& assignment) {
  const absl::Time now = clock_->Now();
  // An offer is answered when accepted (RequestHandler::AcceptOffer).
  if (!assignment.decision.offered) {
    metrics_->RecordAnswered(now,
                             assignment.waited <= service_level_threshold_);
  }
  metrics_->RecordQueuedAssignment(assignment);
  events_.ContactAssigned(assignment, /*immediate=*/false,
                          assignment.placement);
}

void AssignmentPublisher::OnOfferExpired(const ExpiredOffer& offer) {
  ContactChangeFacts lapsed;
  lapsed.change = wire::ContactChange::OfferExpired;
  lapsed.contact_id = offer.contact_id;
  lapsed.customer_id = offer.customer_id;
  lapsed.queue = offer.queue;
  lapsed.channel = offer.channel;
  lapsed.agent_id = offer.agent_id;
  lapsed.placement = offer.placement;
  events_.ContactChanged(lapsed);
  if (offer.agent_state != AgentState::kAvailable) {
    events_.AgentStateChanged(offer.agent_id, offer.agent_state,
                              wire::AgentStateReason::MissedOffer);
  }
}

RequestHandler::RequestHandler(Router* router, SidecarMetrics* metrics,
                               RequestHandlerOptions options)
    : router_(router),
      metrics_(metrics),
      options_(options),
      clock_(options.clock != nullptr ? options.clock : SystemClock::Default()),
      own_rules_(options.rules != nullptr ? nullptr
                                          : std::make_unique<RulesInForce>(
                                                router, rules::RulesOptions())),
      rules_(options.rules != nullptr ? options.rules : own_rules_.get()),
      events_(metrics, RunIdOr(options.run_id), clock_),
      queue_watch_(router, options.queue_watch) {}

void RequestHandler::Handle(const uint8_t* data, size_t size,
                            FlatBufferBuilder& fbb, RoleSet roles) {
  HandleRequest(data, size, /*defer_reloads=*/false, roles, fbb);
}

bool RequestHandler::HandleUnlessReload(const uint8_t* data, size_t size,
                                        FlatBufferBuilder& fbb, RoleSet roles) {
  return HandleRequest(data, size, /*defer_reloads=*/true, roles, fbb);
}

bool RequestHandler::HandleRequest(const uint8_t* data, size_t size,
                                   bool defer_reloads, RoleSet roles,
                                   FlatBufferBuilder& fbb) {
  const auto started = std::chrono::steady_clock::now();
  fbb.Clear();
  std::vector<uint64_t> scratch;
  const uint8_t* aligned = size <= options_.decoder.max_message_bytes
                               ? AlignedCopy(data, size, &scratch)
                               : data;
  DecodedRequest decoded = DecodeRequest(aligned, size, options_.decoder);
  // Checked before anything runs: a refused request changes nothing.
  const bool permitted =
      !decoded.ok() || Permits(roles, decoded.request->body_type());
  const bool reload =
      permitted && decoded.ok() &&
      decoded.request->body_type() == wire::RequestBody::ReloadRules;
  if (reload && defer_reloads) return false;
  metrics_->requests.fetch_add(1, std::memory_order_relaxed);
  if (!decoded.ok()) {
    metrics_->malformed_requests.fetch_add(1, std::memory_order_relaxed);
    FinishErrorReply(fbb, decoded);  // request_id_unread when unreadable.
  } else if (!permitted) {
    metrics_->permission_denied.fetch_add(1, std::memory_order_relaxed);
    FinishErrorReply(
        fbb, decoded.request_id, wire::ErrorCode::PermissionDenied,
        PermissionDeniedMessage(decoded.request->body_type(), roles));
  } else if (options_.journal != nullptr &&
             ChangesRouterState(decoded.request->body_type())) {
    ExecuteJournaled(*decoded.request, aligned, size, fbb);
  } else {
    // A retry of a keyed request gets the original reply (idempotent_requests.h).
    AnswerOnce(*decoded.request, *clock_, fbb,
               [&] { Execute(*decoded.request, fbb); });
  }
  // A reload (compiling and testing a file: milliseconds to seconds, off the
  // request path) would swamp the request service times.
  if (!reload) {
    metrics_->RecordLatency(
        absl::FromChrono(std::chrono::steady_clock::now() - started));
  }
  return true;
}

void RequestHandler::RefuseReload(const uint8_t* data, size_t size,
                                  const std::string& why,
                                  FlatBufferBuilder& fbb) {
  fbb.Clear();
  metrics_->requests.fetch_add(1, std::memory_order_relaxed);
  std::vector<uint64_t> scratch;
  const uint8_t* aligned = size <= options_.decoder.max_message_bytes
                               ? AlignedCopy(data, size, &scratch)
                               : data;
  const DecodedRequest decoded = DecodeRequest(aligned, size, options_.decoder);
  FinishErrorReply(fbb, decoded.request_id, wire::ErrorCode::Busy, why);
}

void RequestHandler::Execute(const wire::Request& request,
                             FlatBufferBuilder& fbb) {
  const uint64_t id = request.request_id();
  switch (request.body_type()) {
    case wire::RequestBody::AddAgent:
    case wire::RequestBody::UpdateAgent: {
      const bool add = request.body_type() == wire::RequestBody::AddAgent;
      const wire::AgentProfile* wire_profile =
          add ? request.body_as_AddAgent()->agent()
              : request.body_as_UpdateAgent()->agent();
      absl::StatusOr<AgentProfile> profile =
          AgentProfileFromWire(*wire_profile);
      if (!profile.ok()) return Refuse(fbb, id, profile.status());
      absl::Status status =
          add ? router_->AddAgent(*profile) : router_->UpdateAgent(*profile);
      if (!status.ok()) return Refuse(fbb, id, status);
      // A new agent is on the roster logged out: its desktop hears so.
      if (add) {
        events_.AgentStateChanged(profile->id, AgentState::kLoggedOut,
                                  wire::AgentStateReason::Requested);
      }
      return FinishAckReply(fbb, id);
    }
    case wire::RequestBody::RemoveAgent: {
      const std::string agent_id =
          request.body_as_RemoveAgent()->agent_id()->str();
      absl::Status status = router_->RemoveAgent(agent_id);
      if (!status.ok()) return Refuse(fbb, id, status);
      // Off the roster, the agent can take no work: for its desktop, as
      // logged out.
      events_.AgentStateChanged(agent_id, AgentState::kLoggedOut,
                                wire::AgentStateReason::Requested);
      return FinishAckReply(fbb, id);
    }
    case wire::RequestBody::SetAgentState: {
      const wire::SetAgentState* set = request.body_as_SetAgentState();
      const int state = static_cast<int>(set->state());
      if (state < 0 || state >= kAgentStateCount) {
        return Refuse(fbb, id,
                      absl::InvalidArgumentError(absl::StrCat(
                          "state ", state, " is not an agent state (0..",
                          kAgentStateCount - 1, ")")));
      }
      const std::string agent_id = set->agent_id()->str();
      absl::Status status =
          router_->SetAgentState(agent_id, static_cast<AgentState>(state));
      if (!status.ok()) return Refuse(fbb, id, status);
      events_.AgentStateChanged(agent_id, static_cast<AgentState>(state),
                                wire::AgentStateReason::Requested);
      return FinishAckReply(fbb, id);
    }
    case wire::RequestBody::ListAgents:
      return ListAgents(id, fbb);
    case wire::RequestBody::RouteContact:
      return Decide(id, request.body_as_RouteContact()->contact(),
                    /*requeue=*/false,
                    request.body_as_RouteContact()->with_explanation(), fbb);
    case wire::RequestBody::RequeueContact:
      return Decide(id, request.body_as_RequeueContact()->contact(),
                    /*requeue=*/true,
                    request.body_as_RequeueContact()->with_explanation(), fbb);
    case wire::RequestBody::CancelContact: {
      const std::string contact_id =
          request.body_as_CancelContact()->contact_id()->str();
      // To count abandons (a contact cancelled while queued is one) and for
      // the Cancelled event's queue and agent. Read before the call, so a
      // contact assigned in between is counted and announced as queued
      // (and its agent's topic misses the Cancelled event).
      absl::StatusOr<ContactStatus> before = router_->GetContact(contact_id);
      absl::Status status = router_->Cancel(contact_id);
      if (!status.ok()) return Refuse(fbb, id, status);
      if (before.ok() && before->state == ContactStatus::State::kQueued) {
        metrics_->RecordAbandoned(Now());
      }
      PublishEnded(wire::ContactChange::Cancelled, contact_id,
                   before.ok() ? &*before : nullptr, ContactOutcome::kUnknown);
      return FinishAckReply(fbb, id);
    }
    case wire::RequestBody::ReleaseContact:
      return Release(id, *request.body_as_ReleaseContact(), fbb);
    case wire::RequestBody::GetContact:
      return GetContact(id, *request.body_as_GetContact(), fbb);
    case wire::RequestBody::ListContacts:
      return ListContacts(id, *request.body_as_ListContacts(), fbb);
    case wire::RequestBody::ReloadRules:
      return Reload(id, *request.body_as_ReloadRules(), fbb);
    case wire::RequestBody::GetStats:
      return Stats(id, *request.body_as_GetStats(), fbb);
    case wire::RequestBody::Health:
      return Health(id, fbb);
    case wire::RequestBody::AcceptOffer:
      return AcceptOffer(id, *request.body_as_AcceptOffer(), fbb);
    case wire::RequestBody::RejectOffer:
      return RejectOffer(id, *request.body_as_RejectOffer(), fbb);
    default:
      // DecodeRequest refuses unknown types; kept for new union members.
      return Refuse(fbb, id,
                    absl::UnimplementedError(absl::StrCat(
                        "request type ", static_cast<int>(request.body_type()),
                        " is not served")));
  }
}

void RequestHandler::Reload(uint64_t id, const wire::ReloadRules& request,
                            FlatBufferBuilder& fbb) {
  if (absl::Status s = CheckReloadRules(request); !s.ok()) {
    return Refuse(fbb, id, s);
  }
  ReloadOutcome outcome = rules_->Reload(request);
  if (!outcome.status.ok()) return Refuse(fbb, id, outcome.status);
  events_.RulesReloadFinished(outcome.accepted, outcome.version, outcome.name,
                              outcome.source, outcome.problems);
  auto problems = fbb.CreateVectorOfStrings(outcome.problems);
  auto body = wire::CreateRulesReloaded(fbb, outcome.accepted, outcome.version,
                                        problems);
  FinishReply(fbb, id, wire::ReplyBody::RulesReloaded, body.Union());
}

bool RequestHandler::WatchRules() {
  std::optional<RulesHealth> suspended = rules_->NewSuspension();
  if (!suspended.has_value()) return false;
  if (ScopedEventSink::Current() == nullptr) {
    metrics_->events_without_channel.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  RulesSuspension suspension;
  suspension.version = suspended->version;
  suspension.name = suspended->name;
  suspension.last_error = suspended->last_error;
  suspension.suspended_at_unix_ms =
      suspended->suspended_at == absl::InfinitePast()
          ? 0
          : absl::ToUnixMillis(suspended->suspended_at);
  suspension.errors = suspended->errors;
  suspension.overruns = suspended->overruns;
  events_.RulesSuspended(suspension);
  return true;
}

int RequestHandler::AdvanceQueues() {
  absl::MutexLock lock(&queue_watch_mutex_);
  int moved = 0;
  if (options_.journal == nullptr) {
    moved = router_->AdvanceQueues();
  } else {
    // Recorded with the contacts it moved and those the listener heard of
    // (lapsed offers, assignments). Refused while the journal cannot take
    // records: nothing moves, and the next tick tries again.
    JournaledCall call;
    call.kind = journal::RecordKind::kQueueAdvance;
    call.profiles_unchanged = true;
    absl::StatusOr<uint64_t> recorded =
        options_.journal->Record(call, [&] {
          CallEffect effect;
          moved = router_->AdvanceQueues(&effect.moved_contacts);
          effect.changed = !effect.moved_contacts.empty();
          return effect;
        });
    (void)StateJournal::TakeThreadSequence();  // Nobody waits for a reply.
    if (!recorded.ok()) return 0;
  }
  if (!EventPublisher::CanPublish()) return moved;
  for (const QueueChange& c : queue_watch_.Look(Now(), moved > 0)) {
    ContactChangeFacts facts;
    facts.change = c.change;
    facts.contact_id = c.contact.contact.id;
    facts.customer_id = c.contact.contact.customer_id;
    facts.queue = c.contact.contact.queue;
    facts.channel = c.contact.contact.channel;
    facts.placement = 0;  // c.contact's placement, once the core lists it.
    facts.queue_position = c.contact.queue_position;
    facts.rules_step = c.contact.rules_step;
    facts.waited_ms = absl::ToInt64Milliseconds(c.contact.waited);
    events_.ContactChanged(facts);
  }
  return moved;
}

void RequestHandler::Decide(uint64_t id, const wire::Contact* wire_contact,
                            bool requeue, bool with_explanation,
                            FlatBufferBuilder& fbb) {
  const absl::Time now = Now();
  absl::StatusOr<Contact> contact = ContactFromWire(*wire_contact, now);
  if (!contact.ok()) return Refuse(fbb, id, contact.status());
  // A requeue's events name where the contact was (Requeued: its agent or
  // queue) and keep its customer and attributes when the request gives
  // none, as the router does. Read before the call: a contact assigned from
  // its queue in between is announced as requeued from the queue.
  std::optional<ContactStatus> before;
  if (requeue && EventPublisher::CanPublish()) {
    absl::StatusOr<ContactStatus> held = router_->GetContact(contact->id);
    if (held.ok()) before = *std::move(held);
  }
  const auto deciding = std::chrono::steady_clock::now();
  absl::StatusOr<RoutingDecision> decision =
      requeue ? router_->Requeue(*contact) : router_->Route(*contact);
  if (!decision.ok()) return Refuse(fbb, id, decision.status());
  metrics_->RecordRoutingDecision(
      *decision, requeue,
      absl::FromChrono(std::chrono::steady_clock::now() - deciding));
  metrics_->RecordDecision(now);
  if (decision->outcome == DecisionOutcome::kAssigned && !decision->offered) {
    const absl::Duration waited =
        contact->enqueue_time == absl::InfinitePast()
            ? absl::ZeroDuration()
            : decision->decided_at - contact->enqueue_time;
    metrics_->RecordAnswered(now, waited <= options_.service_level_threshold);
  }
  PublishRouted(*contact, *decision, before ? &*before : nullptr);
  auto body = BuildDecision(fbb, *decision, with_explanation);
  FinishReply(fbb, id, wire::ReplyBody::Decision, body.Union());
}

void RequestHandler::AcceptOffer(uint64_t id, const wire::AcceptOffer& request,
                                 FlatBufferBuilder& fbb) {
  absl::StatusOr<OfferAnswer> answer = OfferAnswerFromWire(request);
  if (!answer.ok()) return Refuse(fbb, id, answer.status());
  // For the Accepted event's agent, queue and customer.
  absl::StatusOr<ContactStatus> before =
      EventPublisher::CanPublish()
          ? router_->GetContact(answer->contact_id)
          : absl::StatusOr<ContactStatus>(absl::UnavailableError("no events"));
  absl::Status status =
      router_->AcceptOffer(answer->contact_id, answer->agent_id);
  if (!status.ok()) return Refuse(fbb, id, status);
  if (before.ok()) {
    const absl::Duration waited = Now() - before->contact.enqueue_time;
    metrics_->RecordAnswered(Now(),
                             waited <= options_.service_level_threshold);
  }
  PublishEnded(wire::ContactChange::Accepted, answer->contact_id,
               before.ok() ? &*before : nullptr, ContactOutcome::kUnknown);
  FinishAckReply(fbb, id);
}

void RequestHandler::RejectOffer(uint64_t id, const wire::RejectOffer& request,
                                 FlatBufferBuilder& fbb) {
  absl::StatusOr<OfferAnswer> answer = OfferAnswerFromWire(request);
  if (!answer.ok()) return Refuse(fbb, id, answer.status());
  absl::StatusOr<ContactStatus> before =
      EventPublisher::CanPublish()
          ? router_->GetContact(answer->contact_id)
          : absl::StatusOr<ContactStatus>(absl::UnavailableError("no events"));
  absl::StatusOr<RoutingDecision> decision =
      router_->RejectOffer(answer->contact_id, answer->agent_id);
  if (!decision.ok()) return Refuse(fbb, id, decision.status());
  if (before.ok()) {
    PublishEnded(wire::ContactChange::Rejected, answer->contact_id, &*before,
                 ContactOutcome::kUnknown);
    // Where the contact went: back in its queue, or offered to another.
    PublishRouted(before->contact, *decision, nullptr);
    // The agent who turned it down, if the router moved it.
    absl::StatusOr<AgentStatus> agent = router_->GetAgent(before->agent_id);
    if (agent.ok() && agent->state != AgentState::kAvailable) {
      events_.AgentStateChanged(before->agent_id, agent->state,
                                wire::AgentStateReason::MissedOffer);
    }
  }
  auto body = BuildDecision(fbb, *decision, /*with_explanation=*/false);
  FinishReply(fbb, id, wire::ReplyBody::Decision, body.Union());
}

void RequestHandler::Release(uint64_t id, const wire::ReleaseContact& request,
                             FlatBufferBuilder& fbb) {
  absl::StatusOr<ContactRelease> release = ContactReleaseFromWire(request);
  if (!release.ok()) return Refuse(fbb, id, release.status());
  // Checked before the router is asked, whatever the contact's state: a
  // survey out of range is refused the same way every time.
  if (absl::Status s = ValidateSurvey(release->survey); !s.ok()) {
    return Refuse(fbb, id, s);
  }
  // For the Released event's agent, queue and customer.
  absl::StatusOr<ContactStatus> before =
      EventPublisher::CanPublish()
          ? router_->GetContact(release->contact_id)
          : absl::StatusOr<ContactStatus>(absl::UnavailableError("no events"));
  absl::Status status =
      router_->Release(release->contact_id, release->outcome, release->survey);
  if (!status.ok()) return Refuse(fbb, id, status);
  metrics_->RecordRelease(release->outcome);
  PublishEnded(wire::ContactChange::Released, release->contact_id,
               before.ok() ? &*before : nullptr, release->outcome);
  FinishAckReply(fbb, id);
}

void RequestHandler::PublishRouted(const Contact& contact,
                                   const RoutingDecision& decision,
                                   const ContactStatus* before) {
  if (!EventPublisher::CanPublish()) return;
  // The router keeps a requeued contact's customer and attributes when the
  // request names none; so do its events.
  const bool keep = before != nullptr;
  const std::string& customer_id = keep && contact.customer_id.empty()
                                       ? before->contact.customer_id
                                       : contact.customer_id;
  const absl::flat_hash_map<std::string, std::string>& attributes =
      keep && contact.attributes.empty() ? before->contact.attributes
                                         : contact.attributes;
  if (before != nullptr) {
    ContactChangeFacts requeued;
    requeued.change = wire::ContactChange::Requeued;
    requeued.contact_id = decision.contact_id;
    requeued.customer_id = customer_id;
    requeued.queue = before->contact.queue;
    requeued.channel = before->contact.channel;
    const bool was_assigned = before->state != ContactStatus::State::kQueued;
    if (was_assigned) requeued.agent_id = before->agent_id;
    requeued.placement = before->placement;
    requeued.queue_position = was_assigned ? 0 : before->queue_position;
    requeued.rules_step = before->rules_step;
    requeued.waited_ms =
        WaitedMs(before->contact.enqueue_time,
                 was_assigned ? before->assigned_at : decision.decided_at);
    events_.ContactChanged(requeued);
  }
  const absl::Time arrived =
      keep && contact.enqueue_time == absl::InfinitePast()
          ? before->contact.enqueue_time
          : contact.enqueue_time;
  if (decision.outcome == DecisionOutcome::kAssigned) {
    Assignment assignment;
    assignment.contact_id = decision.contact_id;
    assignment.customer_id = customer_id;
    assignment.agent_id = decision.agent_id;
    assignment.queue = decision.queue;
    assignment.channel = decision.channel;
    assignment.waited =
        absl::Milliseconds(WaitedMs(arrived, decision.decided_at));
    assignment.attributes = attributes;
    assignment.decision = decision;
    assignment.token = decision.token;
    events_.ContactAssigned(assignment, /*immediate=*/true,
                            decision.placement);
    return;
  }
  ContactChangeFacts queued;
  queued.change = wire::ContactChange::Queued;
  queued.contact_id = decision.contact_id;
  queued.customer_id = customer_id;
  queued.queue = decision.queue;
  queued.channel = decision.channel;
  queued.placement = decision.placement;
  queued.queue_position = decision.queue_position;
  queued.rules_step = decision.rules_step;
  queued.waited_ms = WaitedMs(arrived, decision.decided_at);
  events_.ContactChanged(queued);
}

void RequestHandler::PublishEnded(wire::ContactChange change,
                                  std::string_view contact_id,
                                  const ContactStatus* before,
                                  ContactOutcome outcome) {
  if (!EventPublisher::CanPublish()) return;
  ContactChangeFacts ended;
  ended.change = change;
  ended.contact_id = contact_id;
  ended.outcome = outcome;
  if (before != nullptr) {
    const bool was_assigned = before->state != ContactStatus::State::kQueued;
    ended.customer_id = before->contact.customer_id;
    ended.queue = before->contact.queue;
    ended.channel = before->contact.channel;
    if (was_assigned) ended.agent_id = before->agent_id;
    ended.placement = before->placement;
    ended.queue_position = was_assigned ? 0 : before->queue_position;
    ended.rules_step = before->rules_step;
    ended.waited_ms = WaitedMs(before->contact.enqueue_time,
                               was_assigned ? before->assigned_at : Now());
  }
  events_.ContactChanged(ended);
}

void RequestHandler::GetContact(uint64_t id, const wire::GetContact& request,
                                FlatBufferBuilder& fbb) {
  absl::StatusOr<std::string> contact_id = ContactIdFromWire(request);
  if (!contact_id.ok()) return Refuse(fbb, id, contact_id.status());
  absl::StatusOr<ContactStatus> status = router_->GetContact(*contact_id);
  if (!status.ok()) {
    if (absl::IsNotFound(status.status())) {
      return Refuse(
          fbb, id,
          absl::NotFoundError(absl::StrCat("contact ", *contact_id,
                                           " is not held (never routed, "
                                           "or cancelled or released since)")));
    }
    return Refuse(fbb, id, status.status());
  }
  HeldContact held;
  held.contact = &status->contact;
  held.offered = status->state == ContactStatus::State::kOffered;
  held.assigned =
      held.offered || status->state == ContactStatus::State::kAssigned;
  held.offer_expires_at = status->offer_expires_at;
  held.placement = status->placement;
  held.queue_position = status->queue_position;
  held.rules_step = status->rules_step;
  held.agent_id = status->agent_id;
  held.assigned_at = status->assigned_at;
  auto body = BuildContactInfo(fbb, held, Now());
  FinishReply(fbb, id, wire::ReplyBody::ContactInfo, body.Union());
}

void RequestHandler::ListContacts(uint64_t id,
                                  const wire::ListContacts& request,
                                  FlatBufferBuilder& fbb) {
  absl::StatusOr<ContactListQuery> query = ContactListQueryFromWire(request);
  if (!query.ok()) return Refuse(fbb, id, query.status());
  const absl::Time now = Now();
  // One more than the limit tells whether a queue had more to show.
  const std::vector<QueuedContact> queued =
      router_->QueuedContacts(query->queue, query->limit_per_queue + 1);
  absl::flat_hash_map<std::string_view, int> listed_per_queue;
  std::vector<Offset<wire::ContactInfo>> contacts;
  bool truncated = false;
  for (const QueuedContact& q : queued) {
    int& listed = listed_per_queue[q.contact.queue];
    if (listed == query->limit_per_queue ||
        static_cast<int>(contacts.size()) == kMaxListedContacts) {
      truncated = true;
      continue;
    }
    ++listed;
    HeldContact held;
    held.contact = &q.contact;
    held.queue_position = q.queue_position;
    held.rules_step = q.rules_step;
    contacts.push_back(BuildContactInfo(fbb, held, now));
  }
  auto list =
      wire::CreateContactList(fbb, fbb.CreateVector(contacts), truncated);
  FinishReply(fbb, id, wire::ReplyBody::ContactList, list.Union());
}

void RequestHandler::ListAgents(uint64_t id, FlatBufferBuilder& fbb) {
  const absl::Time now = Now();
  std::vector<Offset<wire::AgentInfo>> agents;
  for (const std::string& agent_id : router_->AgentIds()) {
    absl::StatusOr<AgentStatus> agent = router_->GetAgent(agent_id);
    if (!agent.ok()) continue;  // Removed since AgentIds; not an error.
    std::vector<Offset<wire::ChannelCapacity>> load;
    for (Channel channel : kAllChannels) {
      if (agent->LoadOf(channel) == 0) continue;
      load.push_back(wire::CreateChannelCapacity(
          fbb, static_cast<wire::ChannelKind>(channel),
          agent->LoadOf(channel)));
    }
    std::vector<Offset<wire::Skill>> skills;
    for (const AgentSkill& s : agent->profile.skills) {
      skills.push_back(
          wire::CreateSkill(fbb, fbb.CreateString(s.skill), s.level));
    }
    auto id_offset = fbb.CreateString(agent_id);
    auto load_offset = fbb.CreateVector(load);
    auto skills_offset = fbb.CreateVector(skills);
    auto kpis_offset = BuildContactKpis(fbb, agent->kpis);
    const bool known_since = agent->state_since != absl::InfinitePast();
    agents.push_back(wire::CreateAgentInfo(
        fbb, id_offset, static_cast<wire::AgentStateKind>(agent->state),
        load_offset, agent->occupancy, agent->contacts_handled, skills_offset,
        kpis_offset, known_since ? absl::ToUnixMillis(agent->state_since) : 0,
        known_since ? std::max<int64_t>(0, absl::ToInt64Milliseconds(
                                               now - agent->state_since))
                    : 0));
  }
  auto list = wire::CreateAgentList(fbb, fbb.CreateVector(agents));
  FinishReply(fbb, id, wire::ReplyBody::AgentList, list.Union());
}

void RequestHandler::Stats(uint64_t id, const wire::GetStats& request,
                           FlatBufferBuilder& fbb) {
  const int window_seconds = request.window_seconds();
  if (window_seconds < 1 || window_seconds > kMaxStatsWindowSeconds) {
    return Refuse(fbb, id,
                  absl::InvalidArgumentError(
                      absl::StrCat("window_seconds ", window_seconds,
                                   " is outside 1..", kMaxStatsWindowSeconds)));
  }
  const absl::Time now = Now();
  const RouterStats stats = router_->Stats();
  std::vector<Offset<wire::QueueSnapshot>> queues;
  for (const QueueStats& q : stats.queues) {
    queues.push_back(BuildQueueSnapshot(fbb, q));
  }
  // Agents by state per skill: one pass over the roster.
  std::map<std::string, std::array<int, kAgentStateCount>> by_skill;
  for (const std::string& agent_id : router_->AgentIds()) {
    absl::StatusOr<AgentStatus> agent = router_->GetAgent(agent_id);
    if (!agent.ok()) continue;
    for (const AgentSkill& s : agent->profile.skills) {
      auto [it, inserted] = by_skill.try_emplace(s.skill);
      if (inserted) it->second.fill(0);
      ++it->second[static_cast<int>(agent->state)];
    }
  }
  std::vector<Offset<wire::SkillAgents>> skills;
  for (const auto& [skill, counts] : by_skill) {
    skills.push_back(wire::CreateSkillAgents(fbb, fbb.CreateString(skill),
                                             counts[0], counts[1], counts[2],
                                             counts[3], counts[4]));
  }
  const SidecarMetrics::Window window =
      metrics_->WindowAt(now, absl::Seconds(window_seconds));
  const int64_t offered = window.answered + window.abandoned;
  const double service_level =
      offered == 0 ? 1.0
                   : static_cast<double>(window.answered_in_service_level) /
                         static_cast<double>(offered);
  const double decisions_per_second = static_cast<double>(window.decisions) /
                                      absl::ToDoubleSeconds(window.span);
  const LatencyHistogram& latency = metrics_->latency();
  std::vector<int64_t> agents_by_state(stats.agents_by_state.begin(),
                                       stats.agents_by_state.end());
  auto queues_offset = fbb.CreateVector(queues);
  auto skills_offset = fbb.CreateVector(skills);
  auto states_offset = fbb.CreateVector(agents_by_state);
  const RulesHealth rules = rules_->Health();
  auto rules_last_error = fbb.CreateString(rules.last_error);
  auto rules_name = fbb.CreateString(rules.name);
  wire::StatsBuilder b(fbb);
  b.add_policy_version(stats.policy_version);
  b.add_rules_version(stats.rules_version);
  b.add_rules_fallbacks(stats.rules_fallbacks);
  b.add_decisions(stats.decisions);
  b.add_assigned_immediately(stats.assigned_immediately);
  b.add_queued(stats.queued);
  b.add_assigned_from_queue(stats.assigned_from_queue);
  b.add_cancelled(stats.cancelled);
  b.add_released(stats.released);
  b.add_contacts_held(stats.contacts_held);
  b.add_agents(stats.agents);
  b.add_agents_by_state(states_offset);
  b.add_queues(queues_offset);
  b.add_agents_by_skill(skills_offset);
  b.add_window_seconds(static_cast<int>(absl::ToInt64Seconds(window.span)));
  b.add_service_level_in_window(service_level);
  b.add_answered_in_window(window.answered);
  b.add_abandoned_in_window(window.abandoned);
  b.add_decisions_per_second(decisions_per_second);
  b.add_latency_p50_us(latency.Quantile(0.5) / 1e3);
  b.add_latency_p99_us(latency.Quantile(0.99) / 1e3);
  b.add_latency_p999_us(latency.Quantile(0.999) / 1e3);
  b.add_latency_max_us(static_cast<double>(latency.Max()) / 1e3);
  b.add_requests(metrics_->requests.load(std::memory_order_relaxed));
  b.add_busy_rejections(
      metrics_->busy_rejections.load(std::memory_order_relaxed));
  b.add_malformed_requests(
      metrics_->malformed_requests.load(std::memory_order_relaxed));
  b.add_unroutable_replies(
      metrics_->unroutable_replies.load(std::memory_order_relaxed));
  b.add_events_published(
      metrics_->events_published.load(std::memory_order_relaxed));
  b.add_rules_errors(rules.errors);
  b.add_rules_overruns(rules.overruns);
  b.add_rules_last_error(rules_last_error);
  b.add_rules_suspended(rules.suspended);
  b.add_rules_suspended_decisions(stats.rules_suspended_decisions);
  b.add_rules_name(rules_name);
  b.add_permission_denied(
      metrics_->permission_denied.load(std::memory_order_relaxed));
  b.add_offers(stats.offers);
  b.add_offers_accepted(stats.offers_accepted);
  b.add_offers_rejected(stats.offers_rejected);
  b.add_offers_expired(stats.offers_expired);
  auto body = b.Finish();
  FinishReply(fbb, id, wire::ReplyBody::Stats, body.Union());
}

void RequestHandler::Health(uint64_t id, FlatBufferBuilder& fbb) {
  auto body = wire::CreateHealthStatus(
      fbb, /*serving=*/true, kProtocolVersion,
      absl::ToInt64Milliseconds(absl::Now() - metrics_->start()),
      router_->PolicyVersion(),
      metrics_->in_flight.load(std::memory_order_relaxed), options_.workers,
      events_.run_id());
  FinishReply(fbb, id, wire::ReplyBody::HealthStatus, body.Union());
}

}  // namespace routing::sidecar
