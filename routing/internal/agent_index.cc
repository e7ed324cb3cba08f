#include "routing/internal/agent_index.h"

#include <algorithm>
#include <utility>

#include "absl/base/optimization.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace routing::internal {

AgentIndex::AgentIndex(int max_agents, int max_skills, int max_languages,
                       EpochDomain* epoch)
    : max_agents_(max_agents),
      max_skills_(max_skills),
      max_languages_(max_languages),
      epoch_(epoch),
      ids_(max_agents),
      slots_(new AgentSlot[max_agents]),
      skill_bitmaps_(new std::atomic<AgentBitmap*>[max_skills]),
      language_bitmaps_(new std::atomic<AgentBitmap*>[max_languages]) {
  for (int i = 0; i < max_skills; ++i) skill_bitmaps_[i] = nullptr;
  for (int i = 0; i < max_languages; ++i) language_bitmaps_[i] = nullptr;
  for (auto& bitmap : free_) {
    bitmap = std::make_unique<AgentBitmap>(max_agents);
  }
}

AgentIndex::~AgentIndex() {
  for (int i = 0; i < max_skills_; ++i) {
    delete skill_bitmaps_[i].load(std::memory_order_acquire);
  }
  for (int i = 0; i < max_languages_; ++i) {
    delete language_bitmaps_[i].load(std::memory_order_acquire);
  }
  for (int i = 0; i < max_agents_; ++i) {
    delete slots_[i].record.load(std::memory_order_acquire);
  }
}

int AgentIndex::Find(std::string_view agent_id) const {
  const int index = ids_.Find(agent_id);
  if (index < 0) return -1;
  const uint64_t word = slots_[index].word.load(std::memory_order_acquire);
  return OnRoster(AgentWord::Presence(word)) ? index : -1;
}

int AgentIndex::Words() const {
  return std::min((max_agents_ + 63) / 64, (ids_.size() + 63) / 64);
}

void AgentIndex::Ensure(std::atomic<AgentBitmap*>* bitmaps, int id) {
  AgentBitmap* bitmap = bitmaps[id].load(std::memory_order_acquire);
  if (bitmap != nullptr) return;
  auto fresh = std::make_unique<AgentBitmap>(max_agents_);
  if (bitmaps[id].compare_exchange_strong(bitmap, fresh.get(),
                                          std::memory_order_acq_rel)) {
    fresh.release();
  }
  // Else another thread installed one first.
}

absl::Status AgentIndex::Add(std::unique_ptr<AgentRecord> record,
                             int64_t now_ns) {
  const int index = record->index;
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
    return absl::AlreadyExistsError(absl::StrCat(
        "agent '", record->profile.id, "' is already on the roster"));
  }
  const AgentRecord* previous =
      slot.record.exchange(record.release(), std::memory_order_acq_rel);
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
  if (previous != nullptr) epoch_->Retire(const_cast<AgentRecord*>(previous));
  SyncSkills(index, previous);
  SyncAvailability(index);
  return absl::OkStatus();
}

bool AgentIndex::Replace(std::unique_ptr<AgentRecord> record) {
  const int index = record->index;
  AgentSlot& slot = slots_[index];
  const AgentRecord* previous = slot.record.load(std::memory_order_acquire);
  while (true) {
    const uint64_t word = slot.word.load(std::memory_order_acquire);
    if (!OnRoster(AgentWord::Presence(word))) return false;
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
  epoch_->Retire(const_cast<AgentRecord*>(previous));
  SyncSkills(index, previous);
  return true;
}

bool AgentIndex::Remove(int agent, uint64_t* word) {
  AgentSlot& slot = slots_[agent];
  *word = slot.word.load(std::memory_order_acquire);
  do {
    if (!OnRoster(AgentWord::Presence(*word)) ||
        AgentWord::TotalLoad(*word) > 0) {
      return false;
    }
  } while (!slot.word.compare_exchange_weak(
      *word, AgentWord::WithPresence(*word, kPresenceRemoved),
      std::memory_order_seq_cst));
  SyncSkills(agent, nullptr);
  SyncAvailability(agent);
  return true;
}

bool AgentIndex::SetPresence(int agent, uint8_t presence, uint64_t* previous,
                             uint64_t* next) {
  AgentSlot& slot = slots_[agent];
  uint64_t word = slot.word.load(std::memory_order_acquire);
  do {
    if (!OnRoster(AgentWord::Presence(word))) return false;
    if (AgentWord::Presence(word) == presence) {
      *previous = *next = word;
      return true;
    }
    *next = AgentWord::WithPresence(word, presence);
  } while (
      !slot.word.compare_exchange_weak(word, *next, std::memory_order_seq_cst));
  *previous = word;
  return true;
}

bool AgentIndex::Claim(int agent, int channel, const AgentRecord* judged,
                       bool* raced) {
  AgentSlot& slot = slots_[agent];
  // Read the word before the record: if the CAS below succeeds, no
  // Replace finished its version bump in between, so the record checked is
  // the one in force when the claim took effect.
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
  *raced = SyncAvailability(agent);
  return true;
}

void AgentIndex::DropLoad(int agent, int channel, int64_t now_ns,
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

void AgentIndex::SyncSkills(int agent, const AgentRecord* previous) {
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
    const bool present = OnRoster(
        AgentWord::Presence(slot.word.load(std::memory_order_seq_cst)));
    remember(record);
    for (int id : skills) {
      SkillBitmap(id)->Assign(agent, present && record->SkillLevel(id) > 0);
    }
    for (int id : languages) {
      LanguageBitmap(id)->Assign(agent, present && record->Fluency(id) > 0);
    }
    const bool still_present = OnRoster(
        AgentWord::Presence(slot.word.load(std::memory_order_seq_cst)));
    if (slot.record.load(std::memory_order_seq_cst) == record &&
        still_present == present) {
      return;
    }
  }
}

bool AgentIndex::SyncAvailability(int agent) {
  AgentSlot& slot = slots_[agent];
  bool raced = false;
  while (true) {
    const uint64_t word = slot.word.load(std::memory_order_seq_cst);
    const AgentRecord* record = slot.record.load(std::memory_order_acquire);
    const bool available = record != nullptr && AgentWord::IsAvailable(word);
    if (ABSL_PREDICT_FALSE(sync_window_for_testing_ != nullptr)) {
      sync_window_for_testing_(agent);
    }
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
    // queued past the agent then: report it.
    if (slot.word.load(std::memory_order_seq_cst) == word &&
        slot.record.load(std::memory_order_acquire) == record) {
      return raced && room;
    }
    raced = true;
  }
}

}  // namespace routing::internal
