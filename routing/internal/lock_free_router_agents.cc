// The agent side: roster changes, presence, capacity claims and releases, and
// handing queued contacts to an agent whose capacity freed up.
#include <algorithm>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "routing/internal/lock_free_router.h"
#include "routing/internal/string_view_compat.h"

namespace routing::internal {

namespace {

bool OnRoster(uint8_t presence) {
  return presence != kPresenceRemoved && presence != kPresenceAdding;
}

bool IsLoggedIn(uint8_t presence) {
  return OnRoster(presence) &&
         presence != static_cast<uint8_t>(AgentState::kLoggedOut);
}

}  // namespace

int LockFreeRouter::FindAgent(std::string_view agent_id) const {
  const int index = agent_ids_.Find(agent_id);
  if (index < 0) return -1;
  const uint64_t word = slots_[index].word.load(std::memory_order_acquire);
  return OnRoster(AgentWord::Presence(word)) ? index : -1;
}

absl::StatusOr<int> LockFreeRouter::RosterIndex(
    std::string_view agent_id) const {
  ROUTING_RETURN_IF_ERROR(CheckAgentId(agent_id));
  const int index = FindAgent(agent_id);
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
  ROUTING_RETURN_IF_ERROR(ValidateAgentProfile(profile));
  if (FindAgent(profile.id) >= 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("agent '", profile.id, "' is already on the roster"));
  }
  const int index = agent_ids_.FindOrInsert(profile.id);
  if (index < 0) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot add agent '", profile.id, "': the roster is full (",
        options_.max_agents, " agents, RouterOptions::max_agents)"));
  }
  ROUTING_ASSIGN_OR_RETURN(std::unique_ptr<AgentRecord> record,
                           CompileAgent(profile, index));
  auto guard = epoch_.Pin();
  AgentSlot& slot = slots_[index];
  // Claim the slot with one CAS on its word, removed -> adding: of
  // concurrent adds of one id exactly one wins, and nothing else changes a
  // removed or adding slot's word, so the winner's later stores cannot
  // overwrite a load or presence another call set.
  uint64_t word = slot.word.load(std::memory_order_acquire);
  if (AgentWord::Presence(word) != kPresenceRemoved ||
      !slot.word.compare_exchange_strong(
          word, AgentWord::WithPresence(word, kPresenceAdding),
          std::memory_order_seq_cst)) {
    return absl::AlreadyExistsError(
        absl::StrCat("agent '", profile.id, "' is already on the roster"));
  }
  const AgentRecord* previous =
      slot.record.exchange(record.release(), std::memory_order_acq_rel);
  const int64_t now_ns = NowNs();
  slot.handled_ns.store(0, std::memory_order_relaxed);
  slot.handled_count.store(0, std::memory_order_relaxed);
  slot.login_ns.store(0, std::memory_order_relaxed);
  slot.state_since_ns.store(now_ns, std::memory_order_relaxed);
  slot.idle_since_ns.store(now_ns, std::memory_order_relaxed);
  // The load is zero: a removed agent held nothing, and no claim succeeds
  // on a slot that is not available.
  word = AgentWord::WithPresence(word, kPresenceAdding);
  slot.word.store(AgentWord::WithPresence(
                      word, static_cast<uint8_t>(AgentState::kLoggedOut)),
                  std::memory_order_seq_cst);
  if (previous != nullptr) epoch_.Retire(const_cast<AgentRecord*>(previous));
  SyncSkillIndex(index, previous);
  SyncAvailability(index);
  return absl::OkStatus();
}

absl::Status LockFreeRouter::UpdateAgent(const AgentProfile& profile) {
  ROUTING_RETURN_IF_ERROR(ValidateAgentProfile(profile));
  ROUTING_ASSIGN_OR_RETURN(const int index, RosterIndex(profile.id));
  ROUTING_ASSIGN_OR_RETURN(std::unique_ptr<AgentRecord> record,
                           CompileAgent(profile, index));
  Notices notices;
  {
  auto guard = epoch_.Pin();
  AgentSlot& slot = slots_[index];
  const AgentRecord* previous = slot.record.load(std::memory_order_acquire);
  while (true) {
    const uint64_t word = slot.word.load(std::memory_order_acquire);
    if (!OnRoster(AgentWord::Presence(word))) {
      return RemovedMeanwhile(profile.id);
    }
    if (slot.record.compare_exchange_weak(previous, record.get(),
                                          std::memory_order_acq_rel)) {
      break;
    }
  }
  record.release();
  // Bump the word's version. A claim checks that the record in force is the
  // one it judged, reading the word first: a claim whose CAS succeeds after
  // this bump re-read the record after the swap above.
  uint64_t word = slot.word.load(std::memory_order_acquire);
  while (!slot.word.compare_exchange_weak(word, AgentWord::Bump(word),
                                          std::memory_order_seq_cst)) {
  }
  epoch_.Retire(const_cast<AgentRecord*>(previous));
  SyncSkillIndex(index, previous);
  // Capacity or skills may now fit waiting contacts.
  OnCapacityFreed(index, &notices);
  }
  Deliver(notices);
  return absl::OkStatus();
}

absl::Status LockFreeRouter::RemoveAgent(std::string_view agent_id) {
  ROUTING_ASSIGN_OR_RETURN(const int index, RosterIndex(agent_id));
  auto guard = epoch_.Pin();
  AgentSlot& slot = slots_[index];
  uint64_t word = slot.word.load(std::memory_order_acquire);
  do {
    if (!OnRoster(AgentWord::Presence(word))) {
      return RemovedMeanwhile(agent_id);
    }
    if (AgentWord::TotalLoad(word) > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("agent '", AsAbsl(agent_id), "' still holds ",
                       AgentWord::TotalLoad(word),
                       " contacts; release or requeue them first"));
    }
  } while (!slot.word.compare_exchange_weak(
      word, AgentWord::WithPresence(word, kPresenceRemoved),
      std::memory_order_seq_cst));
  SyncSkillIndex(index, nullptr);
  SyncAvailability(index);
  return absl::OkStatus();
}

absl::Status LockFreeRouter::SetAgentState(std::string_view agent_id,
                                           AgentState state) {
  ROUTING_RETURN_IF_ERROR(CheckAgentId(agent_id));
  const int state_number = static_cast<int>(state);
  if (state_number < 0 || state_number >= kAgentStateCount) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown agent state number ", state_number));
  }
  const int index = FindAgent(agent_id);
  if (index < 0) {
    return absl::NotFoundError(
        absl::StrCat("agent '", AsAbsl(agent_id), "' is not on the roster"));
  }
  Notices notices;
  {
  auto guard = epoch_.Pin();
  AgentSlot& slot = slots_[index];
  const uint8_t presence = static_cast<uint8_t>(state);
  uint64_t word = slot.word.load(std::memory_order_acquire);
  uint64_t next;
  do {
    if (!OnRoster(AgentWord::Presence(word))) {
      return RemovedMeanwhile(agent_id);
    }
    if (AgentWord::Presence(word) == presence) return absl::OkStatus();
    next = AgentWord::WithPresence(word, presence);
  } while (
      !slot.word.compare_exchange_weak(word, next, std::memory_order_seq_cst));
  const int64_t now_ns = NowNs();
  slot.state_since_ns.store(now_ns, std::memory_order_relaxed);
  if (!IsLoggedIn(AgentWord::Presence(word)) && IsLoggedIn(presence)) {
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
  const AgentSlot& slot = slots_[index];
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
  const int64_t now_ns = NowNs();
  const int64_t login = slot.login_ns.load(std::memory_order_relaxed);
  if (login > 0 && now_ns > login) {
    status.occupancy = std::min(
        1.0,
        static_cast<double>(slot.handled_ns.load(std::memory_order_relaxed)) /
            (now_ns - login));
  }
  status.contacts_handled = slot.handled_count.load(std::memory_order_relaxed);
  return status;
}

std::vector<std::string> LockFreeRouter::AgentIds() const {
  std::vector<std::string> ids;
  for (int i = 0; i < agent_ids_.size(); ++i) {
    if (!OnRoster(
            AgentWord::Presence(slots_[i].word.load(std::memory_order_acquire)))) {
      continue;
    }
    ids.emplace_back(agent_ids_.Name(i));
  }
  return ids;
}

void LockFreeRouter::SyncSkillIndex(int agent, const AgentRecord* previous) {
  // Bits this call may have to correct: every skill and language of any
  // record it has looked at. A concurrent update of the same agent may clear
  // a bit after we set it; re-checking that the record did not change after
  // our writes means the last writer to finish wrote from the latest record.
  absl::flat_hash_set<int> skills, languages;
  auto remember = [&](const AgentRecord* r) {
    if (r == nullptr) return;
    for (const auto& [id, level] : r->skills) skills.insert(id);
    for (const auto& [id, fluency] : r->languages) languages.insert(id);
  };
  remember(previous);
  AgentSlot& slot = slots_[agent];
  while (true) {
    const AgentRecord* record = slot.record.load(std::memory_order_acquire);
    const bool present =
        OnRoster(AgentWord::Presence(slot.word.load(std::memory_order_seq_cst)));
    remember(record);
    for (int id : skills) {
      SkillBitmap(id)->Assign(agent, present && record->SkillLevel(id) > 0);
    }
    for (int id : languages) {
      LanguageBitmap(id)->Assign(agent, present && record->Fluency(id) > 0);
    }
    const bool still_present =
        OnRoster(AgentWord::Presence(slot.word.load(std::memory_order_seq_cst)));
    if (slot.record.load(std::memory_order_seq_cst) == record &&
        still_present == present) {
      return;
    }
  }
}

bool LockFreeRouter::SyncAvailability(int agent) {
  AgentSlot& slot = slots_[agent];
  bool raced = false;
  while (true) {
    const uint64_t word = slot.word.load(std::memory_order_seq_cst);
    const AgentRecord* record = slot.record.load(std::memory_order_acquire);
    const bool available = record != nullptr && AgentWord::IsAvailable(word);
    bool room = false;
    for (int c = 0; c < kChannelCount; ++c) {
      const bool free = available && record->HasRoomFor(word, c);
      free_[c]->Assign(agent, free);
      room = room || free;
    }
    // Every change to the word bumps its version, so an unchanged word means
    // no change slipped in between our read and our bit writes; a change that
    // did is followed by its own thread's sync, or by our next pass. Bits we
    // wrote from a stale word were wrong for a while, and a contact may have
    // queued past the agent then: report it so the caller drains.
    if (slot.word.load(std::memory_order_seq_cst) == word &&
        slot.record.load(std::memory_order_acquire) == record) {
      return raced && room;
    }
    raced = true;
  }
}

bool LockFreeRouter::ClaimAgent(int agent, int channel,
                                const AgentRecord* judged, Notices* notices) {
  AgentSlot& slot = slots_[agent];
  // Read the word before the record: if the CAS below succeeds, no
  // UpdateAgent finished its version bump in between, so the record checked
  // is the one in force when the claim took effect.
  uint64_t word = slot.word.load(std::memory_order_seq_cst);
  while (true) {
    const AgentRecord* record = slot.record.load(std::memory_order_acquire);
    if (record != judged || !AgentWord::IsAvailable(word) ||
        !record->HasRoomFor(word, channel)) {
      return false;
    }
    // seq_cst: claims and releases of one agent are totally ordered with the
    // queue publication of contacts (no lost wakeup).
    if (slot.word.compare_exchange_weak(
            word, AgentWord::WithLoadDelta(word, channel, +1),
            std::memory_order_seq_cst)) {
      break;
    }
  }
  if (SyncAvailability(agent)) DrainQueuesFor(agent, notices);
  return true;
}

void LockFreeRouter::DropLoad(int agent, int channel, int64_t now_ns,
                              bool ended_work) {
  AgentSlot& slot = slots_[agent];
  uint64_t word = slot.word.load(std::memory_order_seq_cst);
  uint64_t next;
  do {
    // A load of zero here would mean a contact released twice; the contact
    // state CAS makes that impossible, and underflow would corrupt the
    // neighbouring channel's bits, so refuse rather than wrap.
    if (AgentWord::Load(word, channel) == 0) return;
    next = AgentWord::WithLoadDelta(word, channel, -1);
  } while (
      !slot.word.compare_exchange_weak(word, next, std::memory_order_seq_cst));
  if (ended_work && AgentWord::TotalLoad(next) == 0) {
    AdvanceTo(slot.idle_since_ns, now_ns);
  }
}

void LockFreeRouter::OnCapacityFreed(int agent, Notices* notices) {
  SyncAvailability(agent);
  DrainQueuesFor(agent, notices);
}

void LockFreeRouter::DrainQueuesFor(int agent, Notices* notices) {
  auto guard = epoch_.Pin();
  AgentSlot& slot = slots_[agent];
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

    if (!ClaimAgent(agent, best_route->channel, record, notices)) {
      continue;  // Word or record moved: judge again.
    }
    uint64_t from =
        ContactRecord::Pack(ContactState::kQueued, -1, best->placement);
    ContactRecord* contact = best->contact;
    if (!contact->Transition(from,
                             ContactRecord::Pack(ContactState::kAssigned, agent,
                                                 best->placement))) {
      // Someone else took, moved or cancelled it; undo our claim and look
      // again.
      DropLoad(agent, best_route->channel, 0, /*ended_work=*/false);
      SyncAvailability(agent);
      continue;
    }
    const int64_t now_ns = NowNs();
    contact->assigned_ns.store(now_ns, std::memory_order_release);
    LeaveQueue(*best_route, best);
    counters_.Add(counters_.assigned_from_queue);
    CountAnswered(*best_route, now_ns);

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
      notices->push_back(MakeAssignment(
          *best_route,
          DescribeAssignment(*best_route, basis, ctx, score, 1,
                             /*rules_failed=*/false),
          now_ns));
    }
  }
}

void LockFreeRouter::Deliver(Notices& notices) {
  if (listener_ != nullptr) {
    for (const Assignment& assignment : notices) {
      listener_->OnAssigned(assignment);
    }
  }
  notices.clear();
}

}  // namespace routing::internal
