// File: routing/interaction.h
//
// One finished contact as remembered in a customer's history: who handled it,
// on which channel, how it ended and when. The router records one on every
// Release and uses the most recent ones for affinity (last-agent routing).
//
//   router->Release("call-17", routing::ContactOutcome::kResolved);
//   for (const routing::CustomerInteraction& i :
//   router->CustomerHistory("cust-9"))
//     std::cout << i.agent_id << " " << routing::ContactOutcomeName(i.outcome);
#ifndef ROUTING_INTERACTION_H_
#define ROUTING_INTERACTION_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "routing/channel.h"

namespace routing {

enum class ContactOutcome : uint8_t {
  kUnknown = 0,      // Released without saying how it ended.
  kResolved = 1,     // The customer's issue was resolved on this contact.
  kUnresolved = 2,   // Handled, but the issue is still open.
  kTransferred = 3,  // Handed to another agent or queue.
};

inline constexpr int kContactOutcomeCount = 4;

// "unknown", "resolved", "unresolved", "transferred".
std::string_view ContactOutcomeName(ContactOutcome outcome);
bool ParseContactOutcome(std::string_view name, ContactOutcome* outcome);

struct CustomerInteraction {
  std::string agent_id;
  Channel channel = Channel::kVoice;
  ContactOutcome outcome = ContactOutcome::kUnknown;
  absl::Time time;  // When the contact was released, to the second.
};

}  // namespace routing

#endif  // ROUTING_INTERACTION_H_
