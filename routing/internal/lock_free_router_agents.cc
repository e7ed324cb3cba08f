// The agent side of the router: roster changes and presence through the
// agent index, and handing queued contacts to an agent whose capacity freed
// up (the drain).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "routing/internal/lock_free_router.h"
#include "routing/internal/string_view_compat.h"

namespace routing::internal {

absl::StatusOr<int> LockFreeRouter::RosterIndex(
    std::string_view agent_id) const {
  ROUTING_RETURN_IF_ERROR(AgentCompiler::CheckAgentId(agent_id));
  const int index = agents_.Find(agent_id);
  if (index < 0) {
    return absl::NotFoundError(
        absl::StrCat("agent '", AsAbsl(agent_id), "' is not on the roster"));
  }
  return index;
}

absl::Status LockFreeRouter::RemovedMeanwhile(std::string_view agent_id) {
  return absl::NotFoundError(
      absl::StrCat("agent '", AsAbsl(agent_id), "' was removed meanwhile"));
}

absl::Status LockFreeRouter::AddAgent(const AgentProfile& profile) {
  // Everything that can refuse the profile runs before anything is interned.
  ROUTING_RETURN_IF_ERROR(agent_compiler_.Validate(profile));
  if (agents_.Find(profile.id) >= 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("agent '", profile.id, "' is already on the roster"));
  }
  const int index = agents_.ids().FindOrInsert(profile.id);
  if (index < 0) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot add agent '", profile.id, "': the roster is full (",
        options_.max_agents, " agents, RouterOptions::max_agents)"));
  }
  ROUTING_ASSIGN_OR_RETURN(std::unique_ptr<AgentRecord> record,
                           agent_compiler_.Compile(profile, index));
  // A re-added id starts its KPIs from zero. Reset before the agent is on
  // the roster again: nothing can release a contact of a removed agent (it
  // held none), and if the add fails, the id is on the roster under a
  // concurrent add that reset them just the same.
  agent_kpis_[index].Reset();
  auto guard = epoch_.Pin();
  return agents_.Add(std::move(record), NowNs());
}

absl::Status LockFreeRouter::UpdateAgent(const AgentProfile& profile) {
  ROUTING_RETURN_IF_ERROR(agent_compiler_.Validate(profile));
  ROUTING_ASSIGN_OR_RETURN(const int index, RosterIndex(profile.id));
  ROUTING_ASSIGN_OR_RETURN(std::unique_ptr<AgentRecord> record,
                           agent_compiler_.Compile(profile, index));
  Notices notices;
  {
    auto guard = epoch_.Pin();
    if (!agents_.Replace(std::move(record))) {
      return RemovedMeanwhile(profile.id);
    }
    // Capacity or skills may now fit waiting contacts.
    OnCapacityFreed(index, &notices);
  }
  Deliver(notices);
  return absl::OkStatus();
}

absl::Status LockFreeRouter::RemoveAgent(std::string_view agent_id) {
  ROUTING_ASSIGN_OR_RETURN(const int index, RosterIndex(agent_id));
  auto guard = epoch_.Pin();
  uint64_t word;
  if (agents_.Remove(index, &word)) return absl::OkStatus();
  if (!OnRoster(AgentWord::Presence(word))) return RemovedMeanwhile(agent_id);
  return absl::FailedPreconditionError(
      absl::StrCat("agent '", AsAbsl(agent_id), "' still holds ",
                   AgentWord::TotalLoad(word),
                   " contacts; release or requeue them first"));
}

absl::Status LockFreeRouter::SetAgentState(std::string_view agent_id,
                                           AgentState state) {
  ROUTING_RETURN_IF_ERROR(AgentCompiler::CheckAgentId(agent_id));
  const int state_number = static_cast<int>(state);
  if (state_number < 0 || state_number >= kAgentStateCount) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown agent state number ", state_number));
  }
  ROUTING_ASSIGN_OR_RETURN(const int index, RosterIndex(agent_id));
  Notices notices;
  {
    auto guard = epoch_.Pin();
    const uint8_t presence = static_cast<uint8_t>(state);
    uint64_t previous, next;
    if (!agents_.SetPresence(index, presence, &previous, &next)) {
      return RemovedMeanwhile(agent_id);
    }
    if (previous == next) return absl::OkStatus();
    AgentSlot& slot = agents_.Slot(index);
    const int64_t now_ns = NowNs();
    slot.state_since_ns.store(now_ns, std::memory_order_relaxed);
    if (!IsLoggedIn(AgentWord::Presence(previous)) && IsLoggedIn(presence)) {
      // A new session: occupancy is measured over it.
      slot.login_ns.store(now_ns, std::memory_order_relaxed);
      slot.handled_ns.store(0, std::memory_order_relaxed);
    }
    if (state == AgentState::kAvailable && AgentWord::TotalLoad(next) == 0) {
      // Idle seniority starts when the agent becomes available for work.
      AdvanceTo(slot.idle_since_ns, now_ns);
    }
    // Syncs the bitmaps; drains queues if available.
    OnCapacityFreed(index, &notices);
  }
  Deliver(notices);
  return absl::OkStatus();
}

absl::StatusOr<AgentStatus> LockFreeRouter::GetAgent(
    std::string_view agent_id) const {
  ROUTING_ASSIGN_OR_RETURN(const int index, RosterIndex(agent_id));
  auto guard = epoch_.Pin();
  const AgentSlot& slot = agents_.Slot(index);
  const uint64_t word = slot.word.load(std::memory_order_acquire);
  const AgentRecord* record = slot.record.load(std::memory_order_acquire);
  if (!OnRoster(AgentWord::Presence(word)) || record == nullptr) {
    return RemovedMeanwhile(agent_id);
  }
  AgentStatus status;
  status.profile = record->profile;
  status.state = static_cast<AgentState>(AgentWord::Presence(word));
  for (int c = 0; c < kChannelCount; ++c) {
    status.load[c] = AgentWord::Load(word, c);
  }
  status.state_since =
      absl::FromUnixNanos(slot.state_since_ns.load(std::memory_order_relaxed));
  status.idle_since =
      absl::FromUnixNanos(slot.idle_since_ns.load(std::memory_order_relaxed));
  status.occupancy = Occupancy(slot, NowNs());
  status.contacts_handled = slot.handled_count.load(std::memory_order_relaxed);
  status.kpis = agent_kpis_[index].Read();
  return status;
}

std::vector<std::string> LockFreeRouter::AgentIds() const {
  std::vector<std::string> ids;
  for (int i = 0; i < agents_.ids().size(); ++i) {
    if (!OnRoster(AgentWord::Presence(
            agents_.Slot(i).word.load(std::memory_order_acquire)))) {
      continue;
    }
    ids.emplace_back(agents_.ids().Name(i));
  }
  return ids;
}

bool LockFreeRouter::ClaimAgent(int agent, int channel,
                                const AgentRecord* judged, Notices* notices) {
  bool raced = false;
  if (!agents_.Claim(agent, channel, judged, &raced)) return false;
  if (raced && notices != nullptr) DrainQueuesFor(agent, notices);
  return true;
}

void LockFreeRouter::OnCapacityFreed(int agent, Notices* notices) {
  agents_.SyncAvailability(agent);
  DrainQueuesFor(agent, notices);
}

void LockFreeRouter::DrainQueuesFor(int agent, Notices* notices) {
  auto guard = epoch_.Pin();
  AgentSlot& slot = agents_.Slot(agent);
  while (true) {
    const uint64_t word = slot.word.load(std::memory_order_seq_cst);
    const AgentRecord* record = slot.record.load(std::memory_order_acquire);
    if (record == nullptr || !AgentWord::IsAvailable(word)) return;
    // Full (typically right after taking a contact here): no waiting contact
    // is eligible, so do not walk the queues to find that out.
    if (!record->HasAnyRoom(word)) return;

    // The eligible contact first in service order, across every queue:
    // cross-queue fairness for agents who serve several queues. Each queue
    // is walked in service order and stops at its first eligible contact,
    // or where it passes the best found in an earlier queue.
    QueueNode* best = nullptr;
    const ContactRoute* best_route = nullptr;
    const DecisionBasis basis = LoadBasis();
    const int64_t scan_ns = basis.rules != nullptr ? NowNs() : 0;
    double rules_score = 0;
    const int queue_count = queues_.size();
    for (int q = 0; q < queue_count; ++q) {
      ContactQueue* queue = Queue(q);
      // seq_cst read of the count that Route raises before publishing: if it
      // reads zero here, that Route's re-check will see this agent's bit.
      if (queue == nullptr ||
          queue->waiting.load(std::memory_order_seq_cst) <= 0) {
        continue;
      }
      queue->ForEachLive([&](QueueNode* node) {
        if (best != nullptr && !node->ServedBefore(*best)) return false;
        const ContactRoute* route =
            node->contact->route.load(std::memory_order_acquire);
        // A route of another placement: the contact is moving, and whoever
        // moves it routes it.
        if (route == nullptr || route->placement != node->placement) {
          return true;
        }
        if (!Eligible(*record, word, *route)) return true;
        double admitted_score = 0;
        if (basis.rules != nullptr &&
            !RulesAdmit(*basis.rules, *basis.policy, *route, *record, word,
                        scan_ns, &admitted_score)) {
          NoteVeto(*route);
          return true;
        }
        best = node;
        best_route = route;
        rules_score = admitted_score;
        return false;
      });
    }
    if (best == nullptr) return;

    // No drain from inside the claim: this loop looks at the queues again
    // while the agent has room.
    if (!ClaimAgent(agent, best_route->channel, record, /*notices=*/nullptr)) {
      continue;  // Word or record moved: judge again.
    }
    const uint64_t from =
        ContactRecord::Pack(ContactState::kQueued, -1, best->placement);
    ContactRecord* contact = best->contact;
    uint64_t expected = from;
    const int64_t now_ns = NowNs();
    const uint64_t assigned = AssignmentWord(
        contact, best_route->channel, agent, best->placement, now_ns);
    if (!contact->Transition(expected, assigned)) {
      // Someone else took, moved or cancelled it; undo our claim and look
      // again.
      agents_.DropLoad(agent, best_route->channel, 0, /*ended_work=*/false);
      agents_.SyncAvailability(agent);
      continue;
    }
    switch (ConfirmAssignment(contact, agent, record, assigned, from,
                              best_route->channel, notices)) {
      case Confirmation::kConfirmed:
        break;
      case Confirmation::kUndone:
        // Queued again: free agents who passed it over while it looked
        // assigned must get their chance.
        AssignQueued(best, *best_route, basis, now_ns, notices);
        continue;
      case Confirmation::kTakenOver:
        // Ended from kAssigned by another call, which gave the load back;
        // we moved it out of kQueued, so its node is ours to give back.
        LeaveQueue(*best_route, best);
        continue;
    }
    CommitAssignment(contact, assigned, now_ns, nullptr);
    const bool offered =
        ContactRecord::StateOf(assigned) == ContactState::kOffered;
    LeaveQueue(*best_route, best);
    counters_.Add(counters_.assigned_from_queue);
    if (!offered) CountAnswered(*best_route, now_ns);

    if (listener_ != nullptr) {
      const PolicyRecord* policy = basis.policy;
      const HistoryAffinity history =
          LookupAffinity(*best_route, policy->policy, now_ns);
      const ScoringContext ctx{&policy->policy,          best_route,
                               &history,                 now_ns,
                               options_.max_skill_level, options_.max_fluency};
      const uint64_t after = slot.word.load(std::memory_order_acquire);
      AgentScore score = ScoreAgent(ctx, *record, slot, after);
      if (basis.rules != nullptr) score.total = rules_score;
      RoutingDecision decision = DescribeAssignment(
          *best_route, basis, ctx, score, 1, /*rules_failed=*/false);
      MarkAssignment(*contact, assigned, &decision);
      Announce(contact, best->placement, *best_route, std::move(decision),
               now_ns, notices);
    }
  }
}

namespace {

// The notices one thread is telling one router's listener. A call made from
// inside the listener on the same thread finds the frame and queues its
// notices here instead of telling them on a deeper stack.
struct DeliveryFrame {
  const LockFreeRouter* router;
  std::deque<AssignmentNotice> pending;
  DeliveryFrame* outer;
};
thread_local DeliveryFrame* delivery_frames = nullptr;
// Listener calls running on this thread (any router): calls made from inside
// one never wait for another thread's listener call.
thread_local int listener_calls = 0;

}  // namespace

void LockFreeRouter::Deliver(Notices& notices) {
  if (notices.empty()) return;
  for (DeliveryFrame* frame = delivery_frames; frame != nullptr;
       frame = frame->outer) {
    if (frame->router == this) {
      for (AssignmentNotice& notice : notices) {
        frame->pending.push_back(std::move(notice));
      }
      notices.clear();
      return;
    }
  }
  DeliveryFrame frame{this, {}, delivery_frames};
  for (AssignmentNotice& notice : notices) {
    frame.pending.push_back(std::move(notice));
  }
  notices.clear();
  delivery_frames = &frame;
  // Also when a listener throws: the frame leaves the thread's list, and the
  // notices not told drop their references.
  struct Unwind {
    LockFreeRouter* router;
    DeliveryFrame* frame;
    ~Unwind() {
      delivery_frames = frame->outer;
      for (AssignmentNotice& notice : frame->pending) {
        router->Unref(notice.record);
      }
    }
  } unwind{this, &frame};
  while (!frame.pending.empty()) {
    AssignmentNotice notice = std::move(frame.pending.front());
    frame.pending.pop_front();
    Tell(notice);
  }
}

void LockFreeRouter::Tell(AssignmentNotice& notice) {
  ContactRecord* record = notice.record;
  ContactRef held(this, record);  // The notice's reference.
  if (notice.expired_offer) {
    ++listener_calls;
    struct Returned {
      ~Returned() { --listener_calls; }
    } returned;
    listener_->OnOfferExpired(notice.expired);
    return;
  }
  record->deliveries.fetch_add(1, std::memory_order_seq_cst);
  struct Told {
    ContactRecord* record;
    ~Told() { record->deliveries.fetch_sub(1, std::memory_order_release); }
  } told{record};
  // seq_cst, after the increment: an ending call's CAS either shows here or
  // its read of `deliveries` shows the increment (contact_record.h).
  const uint64_t word = record->state.load(std::memory_order_seq_cst);
  const ContactState state = ContactRecord::StateOf(word);
  if ((state != ContactState::kAssigned && state != ContactState::kOffered) ||
      ContactRecord::PlacementOf(word) != notice.placement) {
    // Cancelled, released or requeued meanwhile: not told.
    counters_.Add(counters_.assignments_untold);
    return;
  }
  ++listener_calls;
  struct Returned {
    ~Returned() { --listener_calls; }
  } returned;
  listener_->OnAssigned(notice.assignment);
}

bool LockFreeRouter::MustAwaitDeliveries(ContactRecord* record) {
  if (listener_ == nullptr || listener_calls > 0) return false;
  if (record->deliveries.load(std::memory_order_seq_cst) == 0) return false;
  // A record whose count reached zero is not referenced by any notice.
  return TryRef(record);
}

void LockFreeRouter::AwaitDeliveries(ContactRecord* record) {
  for (int round = 0;
       record->deliveries.load(std::memory_order_acquire) != 0; ++round) {
    if (round < 64) continue;
    if (round < 1024) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
  Unref(record);
}

uint64_t LockFreeRouter::NextToken() {
  // Each thread takes tokens in blocks, so routing does not contend on one
  // counter.
  static constexpr uint64_t kBlock = 1024;
  static std::atomic<uint64_t> next_block{1};
  thread_local uint64_t next = 0;
  thread_local uint64_t end = 0;
  if (next == end) {
    next = next_block.fetch_add(kBlock, std::memory_order_relaxed);
    end = next + kBlock;
  }
  return next++;
}

}  // namespace routing::internal
