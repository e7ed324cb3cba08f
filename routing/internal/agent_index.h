// File: routing/internal/agent_index.h
//
// The agents as the decision path sees them: one slot per agent id (an
// immutable compiled record published by pointer, and a state word of
// presence and per-channel load changed by CAS), and the bitmaps that index
// them (by skill, by language, free on each channel).
//
// Contract:
//   - A slot's word is the truth of presence and load; every change bumps its
//     version. Claims are one CAS on the word and never exceed capacity.
//   - A claim names the record it judged: it fails if the record in force is
//     another one (an UpdateAgent swapped it), so no contact is assigned on a
//     profile that no longer holds.
//   - Bitmaps are hints kept in line with the truth by their writers (write,
//     then re-check the truth, re-write if it moved), so they agree with it
//     once updates stop; readers re-verify every candidate.
//   - Adding an id claims its slot by CAS on the word (removed -> adding ->
//     logged out): of concurrent adds of one id exactly one wins.
//
// Threading: every method may be called concurrently; callers reading
// records must be pinned in the epoch domain that retires them.
#ifndef ROUTING_INTERNAL_AGENT_INDEX_H_
#define ROUTING_INTERNAL_AGENT_INDEX_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "routing/channel.h"
#include "routing/internal/agent_bitmap.h"
#include "routing/internal/agent_slot.h"
#include "routing/internal/epoch.h"
#include "routing/internal/name_table.h"

namespace routing::internal {

// On the roster: neither a free slot nor one being added.
inline bool OnRoster(uint8_t presence) {
  return presence != kPresenceRemoved && presence != kPresenceAdding;
}

// On the roster and not logged out.
inline bool IsLoggedIn(uint8_t presence) {
  return OnRoster(presence) &&
         presence != static_cast<uint8_t>(AgentState::kLoggedOut);
}

class AgentIndex {
 public:
  AgentIndex(int max_agents, int max_skills, int max_languages,
             EpochDomain* epoch);
  ~AgentIndex();  // Frees records, bitmaps and slots.
  AgentIndex(const AgentIndex&) = delete;
  AgentIndex& operator=(const AgentIndex&) = delete;

  // --- Ids ---
  NameTable& ids() { return ids_; }
  const NameTable& ids() const { return ids_; }
  // The index of an agent on the roster, or -1.
  int Find(std::string_view agent_id) const;
  // Bitmap words covering every index handed out so far.
  int Words() const;

  AgentSlot& Slot(int agent) { return slots_[agent]; }
  const AgentSlot& Slot(int agent) const { return slots_[agent]; }

  // --- Roster changes ---
  // Claims the slot of `record->index` for a new agent (logged out, load 0)
  // and publishes the record. AlreadyExists if the id is on the roster or
  // being added by another call.
  absl::Status Add(std::unique_ptr<AgentRecord> record, int64_t now_ns);
  // Publishes a new record for an agent on the roster, keeping its state and
  // load. False if the agent left the roster.
  bool Replace(std::unique_ptr<AgentRecord> record);
  // Takes an agent with no load off the roster. The word it replaced, or
  // the word that refused it (not on the roster, or holding contacts).
  bool Remove(int agent, uint64_t* word);
  // Sets presence; the word it replaced (unchanged if already so).
  // False if the agent left the roster.
  bool SetPresence(int agent, uint8_t presence, uint64_t* previous,
                   uint64_t* next);

  // --- Capacity ---
  // One unit of `channel` if `judged` is still the record in force and it
  // has room. *raced: the availability sync after the claim saw the word
  // move while the agent still has room (see SyncAvailability).
  bool Claim(int agent, int channel, const AgentRecord* judged, bool* raced);
  // Gives back one unit of `channel`; `ended_work` advances idle time when
  // the agent ends up with nothing. A zero load is left alone (never wraps).
  void DropLoad(int agent, int channel, int64_t now_ns, bool ended_work);

  // --- Bitmaps ---
  AgentBitmap* SkillBitmap(int skill) const {
    return skill_bitmaps_[skill].load(std::memory_order_acquire);
  }
  AgentBitmap* LanguageBitmap(int language) const {
    return language_bitmaps_[language].load(std::memory_order_acquire);
  }
  void EnsureSkillBitmap(int skill) { Ensure(skill_bitmaps_.get(), skill); }
  void EnsureLanguageBitmap(int language) {
    Ensure(language_bitmaps_.get(), language);
  }
  const AgentBitmap& Free(int channel) const { return *free_[channel]; }
  // Brings the skill and language bits of `agent` in line with its record;
  // `previous` is the record it replaced (or null).
  void SyncSkills(int agent, const AgentRecord* previous);
  // Brings the free-channel bits in line with the word. True if the word
  // moved under it and the agent has room now: a bit it cleared may have
  // hidden the agent from a contact that queued meanwhile, so the caller
  // must let the agent look at the queues.
  bool SyncAvailability(int agent);

  // Test seam: called inside SyncAvailability between its read of the word
  // and its bit writes, so a test can change the word in that window. Set
  // before any other thread uses the index.
  void SetSyncWindowForTesting(std::function<void(int agent)> window) {
    sync_window_for_testing_ = std::move(window);
  }

 private:
  void Ensure(std::atomic<AgentBitmap*>* bitmaps, int id);

  const int max_agents_;
  const int max_skills_;
  const int max_languages_;
  EpochDomain* const epoch_;
  NameTable ids_;
  std::unique_ptr<AgentSlot[]> slots_;
  std::unique_ptr<std::atomic<AgentBitmap*>[]> skill_bitmaps_;
  std::unique_ptr<std::atomic<AgentBitmap*>[]> language_bitmaps_;
  std::array<std::unique_ptr<AgentBitmap>, kChannelCount> free_;
  std::function<void(int)> sync_window_for_testing_;
};

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_AGENT_INDEX_H_
