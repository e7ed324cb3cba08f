// Reservations (RouterOptions::offer_timeout): an assignment on a channel
// with a timeout lands in kOffered; AcceptOffer makes it kAssigned, and
// RejectOffer or the lapse of its deadline (AdvanceQueues) returns the
// contact to its queue where it was. Each end of an offer is won by one CAS
// out of kOffered(a, p), as every other transition (contact_record.h).
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "routing/internal/lock_free_router.h"
#include "routing/internal/string_view_compat.h"

namespace routing::internal {

uint64_t LockFreeRouter::AssignmentWord(ContactRecord* record, int channel,
                                        int agent, uint64_t placement,
                                        int64_t now_ns) {
  const int64_t timeout = OfferTimeoutNs(channel);
  if (timeout <= 0) {
    return ContactRecord::Pack(ContactState::kAssigned, agent, placement);
  }
  // Before the CAS: whoever reads kOffered(a, p) reads this offer's times.
  record->offered_ns.store(now_ns, std::memory_order_relaxed);
  record->offer_deadline_ns.store(now_ns + timeout, std::memory_order_relaxed);
  return ContactRecord::Pack(ContactState::kOffered, agent, placement);
}

void LockFreeRouter::MarkAssignment(const ContactRecord& record,
                                    uint64_t word, RoutingDecision* decision) {
  decision->placement = ContactRecord::PlacementOf(word);
  decision->offered = ContactRecord::StateOf(word) == ContactState::kOffered;
  if (decision->offered) {
    decision->offer_expires_at = absl::FromUnixNanos(
        record.offer_deadline_ns.load(std::memory_order_relaxed));
  }
}

void LockFreeRouter::CommitAssignment(ContactRecord* record, uint64_t word,
                                      int64_t now_ns,
                                      RoutingDecision* decision) {
  if (decision != nullptr) MarkAssignment(*record, word, decision);
  if (ContactRecord::StateOf(word) != ContactState::kOffered) {
    record->assigned_ns.store(now_ns, std::memory_order_release);
    return;
  }
  counters_.Add(counters_.offers);
  // The schedule's reference. None to take: the contact is ending, and
  // whoever ends it ends the offer with it.
  if (!TryRef(record)) return;
  offers_.Add(new ScheduledOffer{
      record, ContactRecord::PlacementOf(word),
      record->offer_deadline_ns.load(std::memory_order_relaxed), nullptr});
}

absl::StatusOr<uint64_t> LockFreeRouter::OfferedWord(
    const ContactRecord& record, std::string_view agent_id) const {
  const uint64_t word = record.Word();
  const ContactState state = ContactRecord::StateOf(word);
  auto agent_name = [&] {
    return std::string(agents_.ids().Name(ContactRecord::AgentOf(word)));
  };
  switch (state) {
    case ContactState::kOffered:
      if (!agent_id.empty() && agent_name() != agent_id) {
        return absl::FailedPreconditionError(absl::StrCat(
            "contact '", record.id(), "' is offered to agent '", agent_name(),
            "', not to '", AsAbsl(agent_id), "'"));
      }
      return word;
    case ContactState::kAssigned:
      return absl::FailedPreconditionError(
          absl::StrCat("contact '", record.id(),
                       "' is not offered: it is assigned to agent '",
                       agent_name(), "'"));
    case ContactState::kQueued:
    case ContactState::kRouting:
      return absl::FailedPreconditionError(absl::StrCat(
          "contact '", record.id(), "' is not offered: it is waiting in ",
          "its queue"));
    case ContactState::kDone:
      break;
  }
  return absl::NotFoundError(
      absl::StrCat("contact '", record.id(), "' has already ended"));
}

absl::Status LockFreeRouter::AcceptOffer(std::string_view contact_id,
                                         std::string_view agent_id) {
  // A malformed agent id is refused as such (and never echoed whole).
  if (!agent_id.empty()) {
    ROUTING_RETURN_IF_ERROR(AgentCompiler::CheckAgentId(agent_id));
  }
  auto guard = epoch_.Pin();
  ContactRecord* record = contacts_.Find(contact_id);
  if (record == nullptr) return NotHeld(contact_id);
  ROUTING_ASSIGN_OR_RETURN(uint64_t word, OfferedWord(*record, agent_id));
  const uint64_t assigned =
      ContactRecord::Pack(ContactState::kAssigned, ContactRecord::AgentOf(word),
                          ContactRecord::PlacementOf(word));
  if (!record->Transition(word, assigned)) {
    // Ended, rejected or lapsed in between: refused as what it is now.
    ROUTING_RETURN_IF_ERROR(OfferedWord(*record, agent_id).status());
    return absl::AbortedError(absl::StrCat(
        "the offer of contact '", AsAbsl(contact_id), "' changed meanwhile"));
  }
  const int64_t now_ns = NowNs();
  record->assigned_ns.store(now_ns, std::memory_order_release);
  counters_.Add(counters_.offers_accepted);
  // Answered now: the speed of answer runs to the accept.
  CountAnswered(*record->route.load(std::memory_order_acquire), now_ns);
  return absl::OkStatus();
}

absl::StatusOr<RoutingDecision> LockFreeRouter::RejectOffer(
    std::string_view contact_id, std::string_view agent_id) {
  if (!agent_id.empty()) {
    ROUTING_RETURN_IF_ERROR(AgentCompiler::CheckAgentId(agent_id));
  }
  Notices notices;
  absl::StatusOr<RoutingDecision> result;
  ContactRecord* record = nullptr;
  bool await = false;
  {
    auto guard = epoch_.Pin();
    record = contacts_.Find(contact_id);
    if (record == nullptr || !TryRef(record)) return NotHeld(contact_id);
    ContactRef held(this, record);
    absl::StatusOr<uint64_t> word = OfferedWord(*record, agent_id);
    if (!word.ok()) return word.status();
    result = ReturnOffer(record, *word, /*expired=*/false, &notices);
    if (result.ok()) await = MustAwaitDeliveries(record);
  }
  if (await) AwaitDeliveries(record);
  Deliver(notices);
  return result;
}

AgentState LockFreeRouter::SetPresenceIf(int agent, AgentState expected,
                                         AgentState state, Notices* notices) {
  AgentSlot& slot = agents_.Slot(agent);
  uint64_t word = slot.word.load(std::memory_order_seq_cst);
  while (true) {
    const uint8_t presence = AgentWord::Presence(word);
    if (presence != static_cast<uint8_t>(expected) || expected == state) {
      return static_cast<AgentState>(presence);
    }
    const uint64_t next =
        AgentWord::WithPresence(word, static_cast<uint8_t>(state));
    if (slot.word.compare_exchange_weak(word, next,
                                        std::memory_order_seq_cst)) {
      break;
    }
  }
  slot.state_since_ns.store(NowNs(), std::memory_order_relaxed);
  // Syncs the bitmaps (the agent is no longer free).
  OnCapacityFreed(agent, notices);
  return state;
}

absl::StatusOr<RoutingDecision> LockFreeRouter::ReturnOffer(
    ContactRecord* record, uint64_t word, bool expired, Notices* notices) {
  const DecisionBasis basis = LoadBasis();
  const int64_t now_ns = NowNs();
  const int agent = ContactRecord::AgentOf(word);
  const ContactRoute* current = record->route.load(std::memory_order_acquire);
  // Planned again from the contact as it was, with its enqueue time (so its
  // aged arrival, its place), never to be offered to this agent again.
  Contact next = current->contact;
  const std::string agent_id(agents_.ids().Name(agent));
  if (std::find(next.excluded_agents.begin(), next.excluded_agents.end(),
                agent_id) == next.excluded_agents.end() &&
      next.excluded_agents.size() < kMaxRequirements) {
    next.excluded_agents.push_back(agent_id);
  }
  ROUTING_ASSIGN_OR_RETURN(std::unique_ptr<ContactRoute> route,
                           CompileRoute(next, basis, now_ns));
  if (!route->Excludes(agent)) route->excluded_agents.push_back(agent);
  ROUTING_RETURN_IF_ERROR(AcceptQueue(route.get()).status());
  route->token = NextToken();
  route->placement = ContactRecord::PlacementOf(word) + 1;
  if (!record->Transition(word, ContactRecord::Pack(ContactState::kRouting, -1,
                                                    route->placement))) {
    return absl::AbortedError(absl::StrCat(
        "the offer of contact '", record->id(),
        "' was accepted, cancelled or ended meanwhile"));
  }
  // The offer has ended here, whatever becomes of the contact next (a Cancel
  // may still win it while it is placed again).
  counters_.Add(expired ? counters_.offers_expired : counters_.offers_rejected);
  // This call owns the contact. The agent leaves the free pool before its
  // capacity comes back, so no drain hands it work it just turned down.
  const AgentState agent_state = SetPresenceIf(
      agent, AgentState::kAvailable, options_.missed_offer_state, notices);
  if (expired && listener_ != nullptr && TryRef(record)) {
    AssignmentNotice notice;
    notice.record = record;
    notice.placement = ContactRecord::PlacementOf(word);
    notice.expired_offer = true;
    ExpiredOffer& offer = notice.expired;
    offer.contact_id = record->id();
    offer.customer_id = current->contact.customer_id;
    offer.agent_id = agent_id;
    offer.queue = current->contact.queue;
    offer.channel = current->contact.channel;
    offer.placement = ContactRecord::PlacementOf(word);
    offer.agent_state = agent_state;
    offer.user_data = current->contact.user_data;
    notices->push_back(std::move(notice));
  }
  agents_.DropLoad(agent, current->channel, now_ns, /*ended_work=*/false);
  OnCapacityFreed(agent, notices);
  const uint64_t placement = route->placement;
  record->route.store(route.release(), std::memory_order_release);
  RetireRoute(record, current);
  absl::StatusOr<RoutingDecision> decision =
      Place(record, placement, basis, now_ns, /*refuse_unservable=*/false,
            notices);
  if (expired && decision.ok() &&
      decision->outcome == DecisionOutcome::kAssigned &&
      listener_ != nullptr) {
    // Nobody asked: the listener hears of the new offer.
    const ContactRoute* placed = record->route.load(std::memory_order_acquire);
    Announce(record, placement, *placed, *decision, now_ns, notices);
  }
  return decision;
}

int LockFreeRouter::ExpireOffers(Notices* notices) {
  if (offers_.Empty()) return 0;
  const int64_t now_ns = NowNs();
  int expired = 0;
  // Due offers end in deadline order (ties by contact id), whatever order
  // the schedule's stack holds them in: that order changes with every
  // sweep, and a journal's replay, which sweeps only when something lapsed,
  // must end them in the same order the router did.
  std::vector<ScheduledOffer*> due;
  ScheduledOffer* taken = offers_.TakeAll();
  while (taken != nullptr) {
    ScheduledOffer* entry = taken;
    taken = taken->next;
    const uint64_t word = entry->record->Word();
    const bool standing =
        ContactRecord::StateOf(word) == ContactState::kOffered &&
        ContactRecord::PlacementOf(word) == entry->placement;
    if (standing && entry->deadline_ns > now_ns) {
      offers_.Add(entry);  // Not due yet: kept, with its reference.
      continue;
    }
    due.push_back(entry);
  }
  std::sort(due.begin(), due.end(),
            [](const ScheduledOffer* a, const ScheduledOffer* b) {
              if (a->deadline_ns != b->deadline_ns) {
                return a->deadline_ns < b->deadline_ns;
              }
              return a->record->id() < b->record->id();
            });
  for (ScheduledOffer* entry : due) {
    ContactRecord* record = entry->record;
    const uint64_t word = record->Word();
    const bool standing =
        ContactRecord::StateOf(word) == ContactState::kOffered &&
        ContactRecord::PlacementOf(word) == entry->placement;
    if (standing) {
      absl::StatusOr<RoutingDecision> returned =
          ReturnOffer(record, word, /*expired=*/true, notices);
      if (returned.ok()) {
        ++expired;
      } else if (record->Word() == word) {
        // Could not be planned again as the router stands (see ReturnOffer's
        // refusals): the offer stands, and is looked at again next time.
        entry->deadline_ns = now_ns;
        offers_.Add(entry);
        continue;
      }
    }
    Unref(record);
    delete entry;
  }
  return expired;
}

}  // namespace routing::internal
