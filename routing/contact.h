// File: routing/contact.h
//
// A contact is one customer interaction waiting for an agent: a call, chat,
// email, message or callback, with what the IVR or a chatbot learned about it.
//
//   routing::Contact call;
//   call.id = "call-8841";
//   call.channel = routing::Channel::kVoice;
//   call.queue = "billing";
//   call.required_skills = {{"billing", 3}};
//   call.languages = {"es", "en"};          // Spanish first, English
//   acceptable call.customer_id = "cust-1200"; call.attributes["intent"] =
//   "dispute_charge"; absl::StatusOr<routing::RoutingDecision> d =
//   router->Route(call);
#ifndef ROUTING_CONTACT_H_
#define ROUTING_CONTACT_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "routing/channel.h"

namespace routing {

// Priorities run 0 (normal) .. kMaxPriority (most urgent). Each level is worth
// RoutingPolicy::priority_step of waiting, so low priorities age past high ones
// and never starve.
inline constexpr int kMaxPriority = 9;

struct SkillRequirement {
  std::string skill;
  int min_level = 1;  // The agent's level must be at least this.
};

struct Contact {
  std::string id;  // Unique among the contacts the router currently holds.
  Channel channel = Channel::kVoice;
  // The queue the contact waits in and is reported under. Empty: the first
  // required skill's name, or "default" when none is required.
  std::string queue;
  // Hard requirements: an agent lacking any of them is never offered the
  // contact.
  std::vector<SkillRequirement> required_skills;
  // Soft: agents who have them score higher.
  std::vector<SkillRequirement> desired_skills;
  // Languages the customer speaks, most preferred first. When non-empty the
  // agent must speak at least one; fluency and preference order feed the score.
  std::vector<std::string> languages;
  int priority = 0;         // 0..kMaxPriority.
  std::string customer_id;  // Keys the customer's history; may be empty.
  // Agents named by CRM data: preferred ones score higher; excluded ones are
  // never offered the contact ("never route this customer to that agent").
  std::vector<std::string> preferred_agents;
  std::vector<std::string> excluded_agents;
  // When the customer started waiting (e.g. entered the IVR). InfinitePast
  // means "now": the router stamps it with its clock. A time up to 5 s ahead
  // of the router's clock (a host clock running a little fast) counts as
  // "now"; further ahead is refused as a clock error.
  absl::Time enqueue_time = absl::InfinitePast();
  // Anything the IVR or a chatbot collected: intent, tier, sentiment, account,
  // summary. Carried with the contact and returned with its assignment.
  absl::flat_hash_map<std::string, std::string> attributes;
  // The host's own pointer for this contact (its call or session state),
  // never read by the router: handed back untouched in the contact's
  // Assignment. Kept across a Requeue whose contact leaves it null.
  void* user_data = nullptr;
};

}  // namespace routing

#endif  // ROUTING_CONTACT_H_
