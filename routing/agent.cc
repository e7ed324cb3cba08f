#include "routing/agent.h"

namespace routing {

namespace {
constexpr std::array<std::string_view, kAgentStateCount> kStateNames = {
    "logged_out", "available", "busy", "after_call_work", "break"};
}  // namespace

std::string_view AgentStateName(AgentState state) {
  const int index = static_cast<int>(state);
  if (index < 0 || index >= kAgentStateCount) return "invalid";
  return kStateNames[index];
}

bool ParseAgentState(std::string_view name, AgentState* state) {
  for (int i = 0; i < kAgentStateCount; ++i) {
    if (kStateNames[i] == name) {
      *state = static_cast<AgentState>(i);
      return true;
    }
  }
  return false;
}

}  // namespace routing
