#include "routing/router_state.h"

namespace routing {

AgentView ViewOf(const AgentSnapshot& agent) {
  AgentView view;
  view.profile = &agent.profile;
  view.state = agent.state;
  view.state_since = agent.state_since;
  view.idle_since = agent.idle_since;
  view.logged_in_at = agent.logged_in_at;
  view.handled = agent.handled;
  view.contacts_handled = agent.contacts_handled;
  return view;
}

ContactView ViewOf(const ContactSnapshot& contact) {
  ContactView view;
  view.contact = &contact.contact;
  view.state = contact.state;
  view.planned_at = contact.planned_at;
  view.placement = contact.placement;
  view.agent_id = contact.agent_id;
  view.assigned_at = contact.assigned_at;
  view.offer_expires_at = contact.offer_expires_at;
  view.aged_arrival = contact.aged_arrival;
  return view;
}

AgentSnapshot SnapshotOf(const AgentView& agent) {
  AgentSnapshot snapshot;
  snapshot.profile = *agent.profile;
  snapshot.state = agent.state;
  snapshot.state_since = agent.state_since;
  snapshot.idle_since = agent.idle_since;
  snapshot.logged_in_at = agent.logged_in_at;
  snapshot.handled = agent.handled;
  snapshot.contacts_handled = agent.contacts_handled;
  return snapshot;
}

ContactSnapshot SnapshotOf(const ContactView& contact) {
  ContactSnapshot snapshot;
  snapshot.contact = *contact.contact;
  snapshot.contact.user_data = nullptr;  // The host's, not the router's.
  snapshot.state = contact.state;
  snapshot.planned_at = contact.planned_at;
  snapshot.placement = contact.placement;
  snapshot.agent_id = std::string(contact.agent_id);
  snapshot.assigned_at = contact.assigned_at;
  snapshot.offer_expires_at = contact.offer_expires_at;
  snapshot.aged_arrival = contact.aged_arrival;
  return snapshot;
}

}  // namespace routing
