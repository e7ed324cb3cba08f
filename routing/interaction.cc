#include "routing/interaction.h"

#include <array>

namespace routing {

namespace {
constexpr std::array<std::string_view, kContactOutcomeCount> kOutcomeNames = {
    "unknown", "resolved", "unresolved", "transferred"};
}  // namespace

std::string_view ContactOutcomeName(ContactOutcome outcome) {
  const int index = static_cast<int>(outcome);
  if (index < 0 || index >= kContactOutcomeCount) return "invalid";
  return kOutcomeNames[index];
}

bool ParseContactOutcome(std::string_view name, ContactOutcome* outcome) {
  for (int i = 0; i < kContactOutcomeCount; ++i) {
    if (kOutcomeNames[i] == name) {
      *outcome = static_cast<ContactOutcome>(i);
      return true;
    }
  }
  return false;
}

}  // namespace routing
