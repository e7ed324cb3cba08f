// File: routing/agent.h
//
// What the router knows about an agent: the profile an administrator or a
// workforce system sets (skills, languages, capacity, team), and the live
// status the router keeps (state, load per channel, idle time, occupancy).
//
//   routing::AgentProfile alice;
//   alice.id = "alice";
//   alice.skills = {{"billing", 5}, {"sales", 3}};
//   alice.languages = {{"en", 5}, {"es", 4}};
//   alice.SetCapacity(routing::Channel::kVoice, 1);
//   alice.SetCapacity(routing::Channel::kChat, 3);
//   router->AddAgent(alice);
//   router->SetAgentState("alice", routing::AgentState::kAvailable);
#ifndef ROUTING_AGENT_H_
#define ROUTING_AGENT_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "routing/channel.h"
#include "routing/contact_kpis.h"

namespace routing {

// The presence an agent (or the platform on their behalf) sets. Only kAvailable
// agents are offered contacts; an available agent who holds contacts stays
// kAvailable while free capacity remains on some channel.
enum class AgentState : uint8_t {
  kLoggedOut = 0,
  kAvailable = 1,
  kBusy = 2,           // Not routable: e.g. on an outbound call or a meeting.
  kAfterCallWork = 3,  // Wrap-up after a contact.
  kBreak = 4,
};

inline constexpr int kAgentStateCount = 5;

// "logged_out", "available", "busy", "after_call_work", "break".
std::string_view AgentStateName(AgentState state);
bool ParseAgentState(std::string_view name, AgentState* state);

// Per-channel capacity above this is refused: the live load of every channel is
// packed into one 64-bit word (6 bits a channel) so it can be claimed with one
// compare-and-swap. 63 is above the highest cap any major platform offers (50).
inline constexpr int kMaxChannelCapacity = 63;

struct AgentSkill {
  std::string skill;
  int level = 1;  // 1..RouterOptions::max_skill_level (5 by default).
};

struct AgentLanguage {
  std::string
      language;  // Any tag the platform uses consistently, e.g. "en", "es-MX".
  int fluency = 1;  // 1..RouterOptions::max_fluency (5 by default).
};

struct AgentProfile {
  std::string id;
  std::vector<AgentSkill> skills;
  std::vector<AgentLanguage> languages;
  // How many contacts of each channel the agent may hold at once; 0 means the
  // agent does not take that channel. At least one channel must be non-zero.
  std::array<int, kChannelCount> capacity = {};
  // Cap on all channels together (e.g. one voice call OR two chats); 0 means no
  // cap beyond the per-channel ones.
  int max_total_contacts = 0;
  std::string team;
  std::string site;
  absl::flat_hash_map<std::string, std::string> attributes;

  void SetCapacity(Channel channel, int contacts) {
    capacity[ChannelIndex(channel)] = contacts;
  }
  int CapacityOf(Channel channel) const {
    return capacity[ChannelIndex(channel)];
  }
};

// A consistent-enough snapshot of one agent: the profile and the live status,
// read without stopping anyone (fields may be a few nanoseconds apart).
struct AgentStatus {
  AgentProfile profile;
  AgentState state = AgentState::kLoggedOut;
  std::array<int, kChannelCount> load = {};  // Contacts held, per channel.
  absl::Time state_since;                    // When the state was last set.
  absl::Time idle_since;   // When the agent last became free of all contacts.
  double occupancy = 0.0;  // Handling time / logged-in time, 0..1.
  int64_t contacts_handled = 0;  // Contacts released since the agent was added.
  // Outcomes of the contacts this agent released (contact_kpis.h).
  ContactKpis kpis;

  int LoadOf(Channel channel) const { return load[ChannelIndex(channel)]; }
};

}  // namespace routing

#endif  // ROUTING_AGENT_H_
