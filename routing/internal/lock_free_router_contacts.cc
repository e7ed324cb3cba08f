// The contact's transitions (contact_record.h has the state machine): Route
// places a new contact, Cancel and Release end it, Requeue moves it. Each
// transition is won by one CAS on the contact's state word; a refused call
// returns before its CAS and so changes nothing.
#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "routing/internal/input_checks.h"
#include "routing/internal/lock_free_router.h"
#include "routing/internal/string_view_compat.h"

namespace routing::internal {

namespace {

// Moving average of handle times: each release moves the estimate 1/8 of the
// way, so a queue's estimate follows a shift in handle time within a few
// dozen contacts without jumping on one outlier.
constexpr int64_t kHandleTimeSmoothing = 8;

void UpdateMovingAverage(std::atomic<int64_t>& average, int64_t sample) {
  int64_t current = average.load(std::memory_order_relaxed);
  int64_t next;
  do {
    next = current == 0 ? sample
                        : current + (sample - current) / kHandleTimeSmoothing;
  } while (
      !average.compare_exchange_weak(current, next, std::memory_order_relaxed));
}

absl::Status CancelledWhileRouting(std::string_view id) {
  return absl::AbortedError(absl::StrCat(
      "contact '", AsAbsl(id), "' was cancelled while it was being routed"));
}

std::string UnservableReason(const ContactRoute& route) {
  std::string reason =
      absl::StrCat("no agent on the roster can serve contact '",
                   route.contact.id, "' (",
                   AsAbsl(ChannelName(route.contact.channel)));
  for (const SkillRequirement& r : route.contact.required_skills) {
    absl::StrAppend(&reason, ", ", r.skill, " >= ", r.min_level);
  }
  if (!route.contact.languages.empty()) {
    absl::StrAppend(&reason, ", speaking one of the customer's languages");
  }
  absl::StrAppend(&reason, ")");
  return reason;
}

}  // namespace

void LockFreeRouter::CountAnswered(const ContactRoute& route, int64_t now_ns) {
  const int queue_id = route.QueueId();
  if (queue_id < 0) return;  // No queue could be opened: nothing to count in.
  ContactQueue* queue = Queue(queue_id);
  const int64_t waited = std::max<int64_t>(0, now_ns - route.enqueue_ns);
  const RoutingPolicy& policy = policy_.load(std::memory_order_acquire)->policy;
  queue->answered.fetch_add(1, std::memory_order_relaxed);
  queue->total_answer_wait_ms.fetch_add(waited / 1'000'000,
                                        std::memory_order_relaxed);
  const bool in_service_level =
      waited <= absl::ToInt64Nanoseconds(policy.service_level_threshold);
  if (in_service_level) {
    queue->answered_in_service_level.fetch_add(1, std::memory_order_relaxed);
  }
  int bucket = 0;
  while (bucket < kAnswerWaitBoundCount &&
         static_cast<double>(waited) >
             kAnswerWaitBoundsSeconds[bucket] * 1e9) {
    ++bucket;
  }
  queue->answer_wait_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  queue->recent.RecordAnswered(now_ns, waited, in_service_level);
}

void LockFreeRouter::CountAbandoned(ContactQueue* queue, int64_t now_ns) {
  queue->abandoned.fetch_add(1, std::memory_order_relaxed);
  queue->recent.RecordAbandoned(now_ns);
}

void LockFreeRouter::CountReleased(const ContactRoute& route, int agent,
                                   ContactOutcome outcome, int64_t handled_ns,
                                   const ContactSurvey& survey) {
  const int queue_id = route.QueueId();
  bool first_contact = true;
  const std::string& customer = route.contact.customer_id;
  if (queue_id >= 0 && !customer.empty()) {
    // Keyed by queue id and customer: the arrival of the customer's latest
    // released contact in this queue. Built on the stack (customer ids are
    // at most kMaxIdBytes): no allocation on the release path.
    char key_bytes[sizeof(int) + kMaxIdBytes];
    std::memcpy(key_bytes, &queue_id, sizeof(int));
    const size_t customer_bytes = std::min(customer.size(), kMaxIdBytes);
    std::memcpy(key_bytes + sizeof(int), customer.data(), customer_bytes);
    const std::string_view key(key_bytes, sizeof(int) + customer_bytes);
    const absl::Time arrival = absl::FromUnixNanos(route.enqueue_ns);
    InteractionRecord earlier;
    bool record = true;
    if (queue_contacts_.Lookup(key, &earlier, 1) == 1) {
      // Seconds, as the store keeps them: an earlier contact in the same
      // second as this one's arrival counts as earlier.
      const absl::Time arrival_second =
          absl::FromUnixSeconds(absl::ToUnixSeconds(arrival));
      if (earlier.time <= arrival_second) {
        first_contact = arrival_second - earlier.time > options_.fcr_window;
      } else {
        record = false;  // A later contact was released first: keep it.
      }
    }
    if (record) {
      queue_contacts_.Record(
          key, InteractionRecord{static_cast<uint32_t>(agent),
                                 route.contact.channel, outcome, arrival});
    }
  }
  agent_kpis_[agent].Count(outcome, first_contact, handled_ns, survey);
  if (queue_id >= 0) {
    Queue(queue_id)->kpis.Count(outcome, first_contact, handled_ns, survey);
  }
}

void LockFreeRouter::Announce(ContactRecord* record, uint64_t placement,
                              const ContactRoute& route,
                              RoutingDecision decision, int64_t now_ns,
                              Notices* notices) {
  // Ending meanwhile (the reference count reached zero): nothing to tell.
  if (!TryRef(record)) {
    counters_.Add(counters_.assignments_untold);
    return;
  }
  AssignmentNotice notice;
  notice.record = record;
  notice.placement = placement;
  Assignment& assignment = notice.assignment;
  assignment.contact_id = route.contact.id;
  assignment.customer_id = route.contact.customer_id;
  assignment.agent_id = decision.agent_id;
  assignment.queue = route.contact.queue;
  assignment.channel = route.contact.channel;
  assignment.waited = absl::Nanoseconds(now_ns - route.enqueue_ns);
  assignment.attributes = route.contact.attributes;
  assignment.token = route.token;
  assignment.user_data = route.contact.user_data;
  assignment.placement = placement;
  assignment.decision = std::move(decision);
  notices->push_back(std::move(notice));
}

LockFreeRouter::AssignResult LockFreeRouter::TryAssign(
    ContactRecord* record, const ContactRoute& route,
    const DecisionBasis& basis, int64_t now_ns, uint64_t from,
    RoutingDecision* decision, Notices* notices,
    const HistoryAffinity* history) {
  const PolicyRecord& policy = *basis.policy;
  HistoryAffinity looked_up;
  if (history == nullptr) {
    looked_up = LookupAffinity(route, policy.policy, now_ns);
    history = &looked_up;
  }
  const ScoringContext ctx{&policy.policy,           &route,
                           history,                  now_ns,
                           options_.max_skill_level, options_.max_fluency};
  const uint64_t placement = ContactRecord::PlacementOf(from);
  while (true) {
    CandidateList candidates;
    const bool rules_ok = FindCandidates(route, ctx, basis.rules, &candidates);
    if (candidates.count == 0) return AssignResult::kNoAgent;
    bool judge_again = false;
    for (int i = 0; i < candidates.count && !judge_again; ++i) {
      const AgentScore& best = candidates.best[i];
      if (!ClaimAgent(best.agent, route.channel, best.record, notices)) {
        continue;  // Taken or changed meanwhile.
      }
      uint64_t expected = from;
      const uint64_t assigned = AssignmentWord(record, route.channel,
                                               best.agent, placement, now_ns);
      if (!record->Transition(expected, assigned)) {
        // The contact was cancelled, moved, or an agent's drain took it:
        // give the capacity back, and let the agent look at the queues in
        // case a contact arrived while we held it.
        agents_.DropLoad(best.agent, route.channel, now_ns,
                         /*ended_work=*/false);
        OnCapacityFreed(best.agent, notices);
        return AssignResult::kContactTaken;
      }
      switch (ConfirmAssignment(record, best.agent, best.record, assigned,
                                from, route.channel, notices)) {
        case Confirmation::kConfirmed:
          break;
        case Confirmation::kUndone:
          judge_again = true;  // Scan again: the roster changed.
          continue;
        case Confirmation::kTakenOver:
          return AssignResult::kTakenAfterAssigned;
      }
      *decision = DescribeAssignment(route, basis, ctx, best,
                                     candidates.eligible, !rules_ok);
      for (int j = 0; j < candidates.count; ++j) {
        if (j == i) continue;
        decision->runners_up.push_back(
            {std::string(agents_.ids().Name(candidates.best[j].agent)),
             candidates.best[j].total});
      }
      CommitAssignment(record, assigned, now_ns, decision);
      return AssignResult::kAssigned;
    }
    // Every candidate kept was claimed by someone else between our scan and
    // our claim, or changed under us: scan again.
  }
}

LockFreeRouter::Confirmation LockFreeRouter::ConfirmAssignment(
    ContactRecord* record, int agent, const AgentRecord* judged,
    uint64_t assigned, uint64_t from, int channel, Notices* notices) {
  // The assignment takes effect at the contact's CAS. The claim checked the
  // agent's record before it; an UpdateAgent (say, one removing a skill the
  // contact needs) may have replaced the record in between and returned. If
  // so, the assignment would rest on a profile no longer in force: undo it.
  if (agents_.Slot(agent).record.load(std::memory_order_seq_cst) == judged) {
    return Confirmation::kConfirmed;
  }
  uint64_t expected = assigned;
  if (!record->Transition(expected, from)) {
    // Cancelled, released or requeued meanwhile: that call gave the load
    // back, as it would for any assignment.
    return Confirmation::kTakenOver;
  }
  agents_.DropLoad(agent, channel, 0, /*ended_work=*/false);
  OnCapacityFreed(agent, notices);
  return Confirmation::kUndone;
}

void LockFreeRouter::LeaveQueue(const ContactRoute& route, QueueNode* node) {
  QueueNode* step = node->step;
  Queue(route.QueueId())->Depart(node);
  if (step != nullptr) step_schedule_.Depart(step);
}

void LockFreeRouter::FoldStepDue(int64_t due_ns) {
  if (due_ns == INT64_MAX) return;
  int64_t due = next_step_due_ns_.load(std::memory_order_relaxed);
  while (due_ns < due && !next_step_due_ns_.compare_exchange_weak(
                             due, due_ns, std::memory_order_relaxed)) {
  }
}

QueueNode* LockFreeRouter::LinkQueued(ContactRecord* record,
                                      const ContactRoute& route,
                                      uint64_t placement) {
  const int64_t sequence = placements_.fetch_add(1, std::memory_order_relaxed);
  // A contact with a rules step ahead is also scheduled by when it falls
  // due, so AdvanceQueues() finds the due ones without a walk of the queues.
  QueueNode* step =
      route.next_step_ns == INT64_MAX
          ? nullptr
          : step_schedule_.Arrive(record, placement,
                                  FloorMilliseconds(route.next_step_ns),
                                  sequence);
  QueueNode* node = Queue(route.QueueId())
                        ->Arrive(record, placement, route.aged_ms, sequence,
                                 step);
  // Release: AdvanceQueues() reads it from a step node it found live.
  record->queued_node.store(node, std::memory_order_release);
  FoldStepDue(route.next_step_ns);
  return node;
}

absl::StatusOr<RoutingDecision> LockFreeRouter::Place(
    ContactRecord* record, uint64_t placement, const DecisionBasis& basis,
    int64_t now_ns, bool refuse_unservable, Notices* notices) {
  ContactRoute* route = const_cast<ContactRoute*>(
      record->route.load(std::memory_order_acquire));
  const uint64_t routing =
      ContactRecord::Pack(ContactState::kRouting, -1, placement);
  RoutingDecision decision;
  // Looked up once for both tries (before queueing and after).
  const HistoryAffinity history =
      LookupAffinity(*route, basis.policy->policy, now_ns);
  switch (TryAssign(record, *route, basis, now_ns, routing, &decision,
                    notices, &history)) {
    case AssignResult::kAssigned:
      // Best effort: with every queue name taken, the answer goes uncounted.
      (void)AcceptQueue(route);
      counters_.Add(counters_.decisions);
      counters_.Add(counters_.assigned_immediately);
      // An offer is answered when accepted.
      if (!decision.offered) CountAnswered(*route, now_ns);
      return decision;
    case AssignResult::kContactTaken:
    case AssignResult::kTakenAfterAssigned:
      // Only Cancel moves a contact out of kRouting (or out of the kAssigned
      // this call put it in); from kRouting there is no node to give back.
      return CancelledWhileRouting(record->id());
    case AssignResult::kNoAgent:
      break;
  }

  const RoutingDecision::QualifiedAgents qualified =
      CountQualifiedAgents(*route);
  // A later rules step may relax what this one asks (a preferred-agents-only
  // step, a skill overflow): such a contact waits for it instead.
  absl::Status refusal;
  if (qualified.total == 0 && refuse_unservable &&
      route->next_step_ns == INT64_MAX) {
    refusal = absl::FailedPreconditionError(UnservableReason(*route));
  } else if (absl::StatusOr<int> queue = AcceptQueue(route); !queue.ok()) {
    refusal = queue.status();
  }
  if (!refusal.ok()) {
    uint64_t expected = routing;
    if (!record->Transition(
            expected, ContactRecord::Pack(ContactState::kDone, -1, placement))) {
      return CancelledWhileRouting(record->id());
    }
    Forget(record);
    return refusal;
  }

  // Queue it: count and link the node first, then publish the state. A
  // Cancel that wins kRouting -> kDone meanwhile leaves the node to us.
  ContactQueue* queue = Queue(route->QueueId());
  QueueNode* node = LinkQueued(record, *route, placement);
  uint64_t expected = routing;
  // No lost wakeup: the count is raised and the node linked and published
  // (all seq_cst) before we look at the free-agent bitmaps again. An agent
  // that freed capacity set its bit (seq_cst) before reading the count. In
  // the single total order one of us sees the other: either our re-check
  // finds the agent, or the agent's drain finds the contact.
  if (!record->Transition(expected, ContactRecord::Pack(ContactState::kQueued,
                                                        -1, placement))) {
    LeaveQueue(*route, node);
    CountAbandoned(queue, now_ns);
    return CancelledWhileRouting(record->id());
  }
  counters_.Add(counters_.decisions);
  const uint64_t queued =
      ContactRecord::Pack(ContactState::kQueued, -1, placement);
  switch (TryAssign(record, *route, basis, now_ns, queued, &decision,
                    notices, &history)) {
    case AssignResult::kAssigned:
      LeaveQueue(*route, node);
      counters_.Add(counters_.assigned_immediately);
      if (!decision.offered) CountAnswered(*route, now_ns);
      return decision;
    case AssignResult::kTakenAfterAssigned:
      // We moved it out of kQueued: its node is ours to give back.
      LeaveQueue(*route, node);
      break;
    case AssignResult::kContactTaken:
      // An agent's drain took it (the listener hears of it) or the customer
      // cancelled; either way, it was queued as far as this call knows.
    case AssignResult::kNoAgent:
      break;
  }
  counters_.Add(counters_.queued);

  decision = RoutingDecision();
  decision.contact_id = record->id();
  decision.qualified = qualified;
  decision.outcome = DecisionOutcome::kQueued;
  decision.queue = route->contact.queue;
  decision.channel = route->contact.channel;
  const int64_t position = queue->Position(*node);
  decision.queue_position =
      static_cast<int>(std::min<int64_t>(position, INT32_MAX));
  // Qualified agents who are logged in are the ones who will free up.
  decision.estimated_wait =
      EstimatedWait(*queue, position, qualified.total - qualified.logged_out,
                    basis.policy->policy);
  StampBasis(basis, *route, &decision);
  decision.decided_at = absl::FromUnixNanos(now_ns);
  decision.placement = placement;
  return decision;
}

absl::StatusOr<RoutingDecision> LockFreeRouter::Route(const Contact& contact) {
  Notices notices;
  // One object from Place() to the caller (no copy of the decision): the
  // pinned part returns it by value, and it is returned here unchanged.
  absl::StatusOr<RoutingDecision> result = RoutePinned(contact, &notices);
  Deliver(notices);
  return result;
}

absl::StatusOr<RoutingDecision> LockFreeRouter::RoutePinned(
    const Contact& contact, Notices* notices) {
  const int64_t now_ns = NowNs();
  auto guard = epoch_.Pin();
  const DecisionBasis basis = LoadBasis();
  // The record carries its first route: one allocation for both.
  auto record = std::make_unique<ContactRecord>(contact.id);
  ContactRoute* route = &record->first_route;
  ROUTING_RETURN_IF_ERROR(contact_compiler_.CompileInto(
      contact, basis.policy->policy,
      basis.rules != nullptr ? basis.rules->rules.get() : nullptr, now_ns,
      route));
  route->token = NextToken();
  auto already_routed = [&] {
    return absl::AlreadyExistsError(
        absl::StrCat("contact '", contact.id, "' is already being routed"));
  };
  if (counters_.contacts_held.fetch_add(1, std::memory_order_relaxed) >=
      options_.max_contacts) {
    counters_.contacts_held.fetch_sub(1, std::memory_order_relaxed);
    // A held id is named first (the documented order of refusals); the
    // insert below tells it apart when there is room.
    if (contacts_.Find(contact.id) != nullptr) return already_routed();
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot take contact '", contact.id, "': the router already holds ",
        options_.max_contacts, " contacts (RouterOptions::max_contacts)"));
  }
  // Two references: the table's, and this call's until it is done with the
  // record (a Cancel may forget it meanwhile).
  record->refs.store(2, std::memory_order_relaxed);
  route->placement = 0;
  record->route.store(route, std::memory_order_release);
  if (!contacts_.Insert(record.get())) {
    counters_.contacts_held.fetch_sub(1, std::memory_order_relaxed);
    return already_routed();
  }
  ContactRef held(this, record.release());
  return Place(held.record, 0, basis, now_ns, /*refuse_unservable=*/true,
               notices);
}

bool LockFreeRouter::TryRef(ContactRecord* record) {
  int refs = record->refs.load(std::memory_order_relaxed);
  while (refs > 0) {
    if (record->refs.compare_exchange_weak(refs, refs + 1,
                                           std::memory_order_acq_rel)) {
      return true;
    }
  }
  return false;
}

void LockFreeRouter::Forget(ContactRecord* record) {
  if (contacts_.Remove(record)) {
    counters_.contacts_held.fetch_sub(1, std::memory_order_relaxed);
    Unref(record);
  }
}

absl::Status LockFreeRouter::NotHeld(std::string_view contact_id) {
  // An id no contact can have is refused as such, echoed only in part.
  ROUTING_RETURN_IF_ERROR(CheckName("contact id", contact_id));
  return absl::NotFoundError(absl::StrCat("contact '", AsAbsl(contact_id),
                                          "' is not held by the router"));
}

int64_t LockFreeRouter::EndAssignment(ContactRecord* record, int channel,
                                      int agent, int64_t now_ns,
                                      Notices* notices) {
  const int64_t assigned = record->assigned_ns.load(std::memory_order_acquire);
  const int64_t handled_ns =
      assigned > 0 && now_ns > assigned ? now_ns - assigned : 0;
  if (handled_ns > 0) {
    agents_.Slot(agent).handled_ns.fetch_add(handled_ns, std::memory_order_relaxed);
  }
  agents_.DropLoad(agent, channel, now_ns, /*ended_work=*/true);
  OnCapacityFreed(agent, notices);
  return handled_ns;
}

absl::StatusOr<uint64_t> LockFreeRouter::Finish(ContactRecord* record,
                                                bool allow_waiting) {
  uint64_t word = record->Word();
  while (true) {
    const ContactState state = ContactRecord::StateOf(word);
    if (state == ContactState::kDone) {
      return absl::NotFoundError(
          absl::StrCat("contact '", record->id(), "' has already ended"));
    }
    if (state == ContactState::kOffered && !allow_waiting) {
      return absl::FailedPreconditionError(absl::StrCat(
          "contact '", record->id(), "' is offered to agent '",
          AsAbsl(agents_.ids().Name(ContactRecord::AgentOf(word))),
          "' and not accepted yet"));
    }
    if (state != ContactState::kAssigned && !allow_waiting) {
      return absl::FailedPreconditionError(absl::StrCat(
          "contact '", record->id(), "' is not assigned to an agent yet"));
    }
    if (record->Transition(word, ContactRecord::Pack(
                                     ContactState::kDone, -1,
                                     ContactRecord::PlacementOf(word)))) {
      return word;
    }
  }
}

absl::Status LockFreeRouter::Cancel(std::string_view contact_id) {
  Notices notices;
  ContactRecord* record = nullptr;
  bool await = false;
  {
    auto guard = epoch_.Pin();
    record = contacts_.Find(contact_id);
    if (record == nullptr) return NotHeld(contact_id);
    ROUTING_ASSIGN_OR_RETURN(const uint64_t word,
                             Finish(record, /*allow_waiting=*/true));
    // The route of the placement we ended: only the winner of kRouting
    // replaces it, and nobody wins anything from kDone.
    const ContactRoute* route = record->route.load(std::memory_order_acquire);
    switch (ContactRecord::StateOf(word)) {
      case ContactState::kQueued: {
        ContactQueue* queue = Queue(route->QueueId());
        CountAbandoned(queue, NowNs());
        LeaveQueue(*route,
                   record->queued_node.load(std::memory_order_relaxed));
        break;
      }
      case ContactState::kAssigned:
        // The customer left after the agent was chosen: free the agent.
        EndAssignment(record, route->channel, ContactRecord::AgentOf(word),
                      NowNs(), &notices);
        break;
      case ContactState::kOffered: {
        // Left while the agent's phone rang: nothing was handled.
        const int agent = ContactRecord::AgentOf(word);
        agents_.DropLoad(agent, route->channel, NowNs(), /*ended_work=*/false);
        OnCapacityFreed(agent, &notices);
        break;
      }
      case ContactState::kRouting:
        // The routing thread owns the placement in flight: its own CAS
        // fails and it undoes what it did (a claim, a queue node).
      case ContactState::kDone:
        break;
    }
    await = MustAwaitDeliveries(record);
    Forget(record);
    counters_.Add(counters_.cancelled);
  }
  if (await) AwaitDeliveries(record);
  Deliver(notices);
  return absl::OkStatus();
}

absl::Status LockFreeRouter::Release(std::string_view contact_id,
                                     ContactOutcome outcome,
                                     const ContactSurvey& survey) {
  const int outcome_number = static_cast<int>(outcome);
  if (outcome_number < 0 || outcome_number >= kContactOutcomeCount) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown contact outcome number ", outcome_number));
  }
  ROUTING_RETURN_IF_ERROR(ValidateSurvey(survey));
  Notices notices;
  ContactRecord* record = nullptr;
  bool await = false;
  {
    auto guard = epoch_.Pin();
    record = contacts_.Find(contact_id);
    if (record == nullptr) return NotHeld(contact_id);
    ROUTING_ASSIGN_OR_RETURN(const uint64_t word,
                             Finish(record, /*allow_waiting=*/false));
    const ContactRoute* route = record->route.load(std::memory_order_acquire);
    const int agent = ContactRecord::AgentOf(word);
    const int64_t now_ns = NowNs();
    agents_.Slot(agent).handled_count.fetch_add(1, std::memory_order_relaxed);
    if (!route->contact.customer_id.empty()) {
      history_.Record(route->contact.customer_id,
                      InteractionRecord{static_cast<uint32_t>(agent),
                                        route->contact.channel, outcome,
                                        absl::FromUnixNanos(now_ns)});
    }
    counters_.Add(counters_.released);
    const int64_t handled_ns =
        EndAssignment(record, route->channel, agent, now_ns, &notices);
    if (handled_ns > 0 && route->QueueId() >= 0) {
      UpdateMovingAverage(Queue(route->QueueId())->average_handle_ns,
                          handled_ns);
    }
    CountReleased(*route, agent, outcome, handled_ns, survey);
    await = MustAwaitDeliveries(record);
    Forget(record);
  }
  if (await) AwaitDeliveries(record);
  Deliver(notices);
  return absl::OkStatus();
}

absl::StatusOr<RoutingDecision> LockFreeRouter::Requeue(
    const Contact& contact) {
  const int64_t now_ns = NowNs();
  Notices notices;
  absl::StatusOr<RoutingDecision> result;
  ContactRecord* record = nullptr;
  bool await = false;
  {
    auto guard = epoch_.Pin();
    record = contacts_.Find(contact.id);
    if (record == nullptr || !TryRef(record)) return NotHeld(contact.id);
    result = RequeueHeld(record, contact, now_ns, &notices);
    await = MustAwaitDeliveries(record);
    Unref(record);
  }
  if (await) AwaitDeliveries(record);
  Deliver(notices);
  return result;
}

absl::StatusOr<RoutingDecision> LockFreeRouter::RequeueHeld(
    ContactRecord* record, const Contact& contact, int64_t now_ns,
    Notices* notices) {
  const DecisionBasis basis = LoadBasis();
  uint64_t word = record->Word();
  std::unique_ptr<ContactRoute> route;
  while (true) {
    const ContactState state = ContactRecord::StateOf(word);
    if (state == ContactState::kDone) return NotHeld(contact.id);
    if (state == ContactState::kRouting) {
      return absl::AbortedError(absl::StrCat(
          "contact '", contact.id,
          "' is being routed by another call; try the requeue again"));
    }
    // Everything that can refuse the requeue runs before the CAS that takes
    // the contact from its agent or queue: a refused requeue changes
    // nothing.
    const ContactRoute* current = record->route.load(std::memory_order_acquire);
    // The clock is read after the route: the router's clock never goes
    // back, so the enqueue time another call stamped on it is not ahead.
    now_ns = NowNs();
    Contact next = contact;
    next.enqueue_time =
        std::min(current->contact.enqueue_time, absl::FromUnixNanos(now_ns));
    if (next.customer_id.empty()) next.customer_id = current->contact.customer_id;
    if (next.attributes.empty()) next.attributes = current->contact.attributes;
    if (next.user_data == nullptr) next.user_data = current->contact.user_data;
    if (state == ContactState::kAssigned || state == ContactState::kOffered) {
      // The customer was being served, not waiting: the wait in the new
      // queue starts now (as an ACD measures a transfer's speed of answer).
      // An offer not taken up was never served: it keeps waiting.
      if (state == ContactState::kAssigned) {
        next.enqueue_time = absl::FromUnixNanos(now_ns);
      }
      // The agent who hands the contact on is not offered it back while it
      // waits, rules steps included (they plan again from this contact).
      const std::string previous(
          agents_.ids().Name(ContactRecord::AgentOf(word)));
      if (std::find(next.excluded_agents.begin(), next.excluded_agents.end(),
                    previous) == next.excluded_agents.end() &&
          next.excluded_agents.size() < kMaxRequirements) {
        next.excluded_agents.push_back(previous);
      }
    }
    ROUTING_ASSIGN_OR_RETURN(route, CompileRoute(next, basis, now_ns));
    route->token = NextToken();
    if (state == ContactState::kAssigned || state == ContactState::kOffered) {
      const int agent = ContactRecord::AgentOf(word);
      if (!route->Excludes(agent)) route->excluded_agents.push_back(agent);
    }
    if (CountQualifiedAgents(*route).total == 0 &&
        route->next_step_ns == INT64_MAX) {
      return absl::FailedPreconditionError(UnservableReason(*route));
    }
    ROUTING_RETURN_IF_ERROR(AcceptQueue(route.get()).status());
    route->placement = ContactRecord::PlacementOf(word) + 1;
    if (record->Transition(word, ContactRecord::Pack(ContactState::kRouting, -1,
                                                     route->placement))) {
      break;
    }
    // Moved meanwhile (assigned, cancelled, requeued): judge again.
  }

  // This call owns the contact in kRouting: undo what its previous state
  // held, then place it anew.
  const ContactRoute* previous = record->route.load(std::memory_order_acquire);
  if (ContactRecord::StateOf(word) == ContactState::kQueued) {
    LeaveQueue(*previous, record->queued_node.load(std::memory_order_relaxed));
  } else if (ContactRecord::StateOf(word) == ContactState::kOffered) {
    const int agent = ContactRecord::AgentOf(word);
    agents_.DropLoad(agent, previous->channel, now_ns, /*ended_work=*/false);
    OnCapacityFreed(agent, notices);
  } else {
    const int agent = ContactRecord::AgentOf(word);
    if (!previous->contact.customer_id.empty()) {
      history_.Record(previous->contact.customer_id,
                      InteractionRecord{static_cast<uint32_t>(agent),
                                        previous->contact.channel,
                                        ContactOutcome::kTransferred,
                                        absl::FromUnixNanos(now_ns)});
    }
    EndAssignment(record, previous->channel, agent, now_ns, notices);
  }
  const uint64_t placement = route->placement;
  record->route.store(route.release(), std::memory_order_release);
  // Readers that loaded the previous route are pinned; it goes after them.
  RetireRoute(record, previous);
  return Place(record, placement, basis, now_ns, /*refuse_unservable=*/false,
               notices);
}

absl::StatusOr<ContactStatus> LockFreeRouter::GetContact(
    std::string_view contact_id) const {
  auto guard = epoch_.Pin();
  const ContactRecord* record = contacts_.Find(contact_id);
  if (record == nullptr) return NotHeld(contact_id);
  const uint64_t word = record->Word();
  const ContactRoute* route = record->route.load(std::memory_order_acquire);
  ContactStatus status;
  status.contact = route->contact;
  status.placement = ContactRecord::PlacementOf(word);
  switch (ContactRecord::StateOf(word)) {
    case ContactState::kRouting:
    case ContactState::kQueued: {
      status.state = ContactStatus::State::kQueued;
      status.rules_step = route->rules_step;
      const QueueNode* node =
          record->queued_node.load(std::memory_order_acquire);
      const int queue_id = route->QueueId();
      status.queue_position =
          node != nullptr && queue_id >= 0 &&
                  node->placement == route->placement
              ? Queue(queue_id)->Position(*node)
              : 1;  // Being placed right now: not counted in its queue yet.
      break;
    }
    case ContactState::kAssigned:
      status.state = ContactStatus::State::kAssigned;
      status.agent_id =
          std::string(agents_.ids().Name(ContactRecord::AgentOf(word)));
      status.assigned_at = absl::FromUnixNanos(
          record->assigned_ns.load(std::memory_order_acquire));
      break;
    case ContactState::kOffered:
      status.state = ContactStatus::State::kOffered;
      status.agent_id =
          std::string(agents_.ids().Name(ContactRecord::AgentOf(word)));
      status.assigned_at = absl::FromUnixNanos(
          record->offered_ns.load(std::memory_order_acquire));
      status.offer_expires_at = absl::FromUnixNanos(
          record->offer_deadline_ns.load(std::memory_order_acquire));
      break;
    case ContactState::kDone:
      return absl::NotFoundError(
          absl::StrCat("contact '", AsAbsl(contact_id), "' has just ended"));
  }
  return status;
}

}  // namespace routing::internal
