// File: routing/internal/agent_slot.h
//
// One agent as the decision path sees it: an immutable compiled profile
// (AgentRecord), published by pointer and replaced whole on UpdateAgent, and a
// single 64-bit state word holding presence and the load of every channel,
// which claims and releases change with one compare-and-swap.
//
// State word layout (AgentWord):
//   bits  0..2   presence: an AgentState, or kPresenceRemoved for a free slot
//   bits  3..38  load of channel c in bits 3+6c .. 8+6c
//   (0..kMaxChannelCapacity) bits 40..63  version, bumped by every change
//   (guards ABA on the CAS and lets
//                the availability sync detect that it raced with a change)
#ifndef ROUTING_INTERNAL_AGENT_SLOT_H_
#define ROUTING_INTERNAL_AGENT_SLOT_H_

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "routing/agent.h"
#include "routing/channel.h"

namespace routing::internal {

inline constexpr uint8_t kPresenceRemoved = 7;
// A slot claimed by an AddAgent that has not published its record yet: not on
// the roster, and no other AddAgent of the id can claim it.
inline constexpr uint8_t kPresenceAdding = 6;
static_assert(kAgentStateCount <= kPresenceAdding);

struct AgentWord {
  static constexpr int kPresenceBits = 3;
  static constexpr int kLoadBits = 6;
  static constexpr int kLoadShift = kPresenceBits;
  static constexpr int kVersionShift = 40;
  static constexpr uint64_t kPresenceMask = (uint64_t{1} << kPresenceBits) - 1;
  static constexpr uint64_t kLoadMask = (uint64_t{1} << kLoadBits) - 1;
  static_assert(kMaxChannelCapacity <= static_cast<int>(kLoadMask));
  static_assert(kLoadShift + kLoadBits * kChannelCount <= kVersionShift);

  static constexpr uint64_t kRemoved = kPresenceRemoved;

  static uint8_t Presence(uint64_t word) { return word & kPresenceMask; }
  static bool IsAvailable(uint64_t word) {
    return Presence(word) == static_cast<uint8_t>(AgentState::kAvailable);
  }
  static int Load(uint64_t word, int channel) {
    return (word >> (kLoadShift + kLoadBits * channel)) & kLoadMask;
  }
  static int TotalLoad(uint64_t word) {
    int total = 0;
    for (int c = 0; c < kChannelCount; ++c) total += Load(word, c);
    return total;
  }
  // The next version of `word` with presence replaced.
  static uint64_t WithPresence(uint64_t word, uint8_t presence) {
    return Bump((word & ~kPresenceMask) | presence);
  }
  // The next version of `word` with channel's load moved by delta.
  static uint64_t WithLoadDelta(uint64_t word, int channel, int delta) {
    const int shift = kLoadShift + kLoadBits * channel;
    const uint64_t load = Load(word, channel) + delta;
    return Bump((word & ~(kLoadMask << shift)) | (load << shift));
  }
  static uint64_t Bump(uint64_t word) {
    return word + (uint64_t{1} << kVersionShift);  // Wraps harmlessly.
  }
};

// Skills and languages most agents have at most (larger profiles spill to the
// heap and cost one more cache miss per decision that considers the agent).
inline constexpr size_t kInlineSkills = 4;
inline constexpr size_t kInlineLanguages = 2;

// An agent's profile compiled to ids. Immutable once published.
struct AgentRecord {
  // What eligibility and scoring read comes first, in the record's first
  // cache line; the profile (strings, attributes) is read only to explain.
  int index = -1;
  int team = -1;  // Interned like skills; -1 when no team.
  std::array<int, kChannelCount> capacity = {};
  int total_capacity = 0;  // Sum over channels, capped by max_total_contacts.
  int max_total = 0;       // 0: no cap beyond the channels'.
  // (skill id, level) and (language id, fluency), sorted by id. Inline for
  // the usual handful, so eligibility and scoring read the record's first two
  // cache lines and chase no pointer.
  absl::InlinedVector<std::pair<int, int>, kInlineSkills> skills;
  absl::InlinedVector<std::pair<int, int>, kInlineLanguages> languages;
  AgentProfile profile;

  int SkillLevel(int skill) const { return Lookup(skills, skill); }
  int Fluency(int language) const { return Lookup(languages, language); }

  // True if the agent may take one more contact on `channel` given `word`.
  bool HasRoomFor(uint64_t word, int channel) const {
    if (AgentWord::Load(word, channel) >= capacity[channel]) return false;
    return max_total == 0 || AgentWord::TotalLoad(word) < max_total;
  }
  // Room for one more contact on some channel.
  bool HasAnyRoom(uint64_t word) const {
    for (int channel = 0; channel < static_cast<int>(capacity.size());
         ++channel) {
      if (HasRoomFor(word, channel)) return true;
    }
    return false;
  }

 private:
  // Profiles hold a handful of skills; a linear scan of a sorted vector beats
  // any hash on that size and stays in one cache line.
  template <typename Pairs>
  static int Lookup(const Pairs& v, int id) {
    for (const auto& [key, value] : v) {
      if (key == id) return value;
      if (key > id) break;
    }
    return 0;
  }
};

// The live slot of one agent index. Slots are allocated once, up front, and
// reused when a removed agent id is added again.
struct alignas(64) AgentSlot {
  // Published with release, read with acquire (and under an epoch guard, since
  // UpdateAgent retires the old record through the epoch domain).
  std::atomic<const AgentRecord*> record{nullptr};
  std::atomic<uint64_t> word{AgentWord::kRemoved};
  // Nanosecond timestamps (Unix). idle_since only moves forward (fetch-max),
  // so the latest "became free" wins whatever order releases land in.
  std::atomic<int64_t> idle_since_ns{0};
  std::atomic<int64_t> state_since_ns{0};
  std::atomic<int64_t> login_ns{0};
  std::atomic<int64_t> handled_ns{0};  // Handling time since login.
  std::atomic<int64_t> handled_count{0};
};

inline void AdvanceTo(std::atomic<int64_t>& target, int64_t value) {
  int64_t current = target.load(std::memory_order_relaxed);
  while (current < value && !target.compare_exchange_weak(
                                current, value, std::memory_order_relaxed)) {
  }
}

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_AGENT_SLOT_H_
