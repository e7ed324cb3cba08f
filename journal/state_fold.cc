#include "journal/state_fold.h"

#include <algorithm>
#include <utility>

namespace journal {

StateFold::StateFold(routing::RouterState base, int depth)
    : depth_(std::clamp(depth, 1, 255)) {
  for (routing::AgentSnapshot& agent : base.agents) {
    agent_slot_[agent.profile.id] = agents_.size();
    agents_.push_back(std::move(agent));
  }
  // The base lists queued contacts in service order: their order keys
  // follow it.
  for (routing::ContactSnapshot& contact : base.contacts) {
    std::string id = contact.contact.id;
    contacts_[id] = {std::move(contact), next_order_++};
  }
  for (routing::CustomerSnapshot& customer : base.customers) {
    auto& held = history_[customer.customer_key];
    if (held.empty()) customer_order_.push_back(customer.customer_key);
    for (routing::CustomerInteraction& x : customer.interactions) {
      held.push_back(std::move(x));
    }
  }
}

void StateFold::SetRules(const JournalRecord& record) {
  rules_file_ = record.rules_file;
  rules_source_ = record.rules_source;
  rules_version_ = record.rules_version;
}

void StateFold::Apply(const JournalRecord& record) {
  ++records_;
  if (record.kind == RecordKind::kRulesReload) SetRules(record);
  for (const AgentChange& change : record.agents) {
    auto it = agent_slot_.find(change.id);
    if (!change.agent.has_value()) {
      if (it != agent_slot_.end()) {
        agents_[it->second].reset();
        agent_slot_.erase(it);
      }
      continue;
    }
    if (it == agent_slot_.end()) {
      agent_slot_[change.id] = agents_.size();
      agents_.push_back(*change.agent);
    } else {
      agents_[it->second] = *change.agent;
    }
  }
  for (const ContactChange& change : record.contacts) {
    if (!change.contact.has_value()) {
      contacts_.erase(change.id);
      continue;
    }
    auto [it, added] = contacts_.try_emplace(change.id);
    HeldContact& held = it->second;
    // Same placement: same place in line. A new one: behind everyone
    // placed so far (within its aged-arrival millisecond).
    if (added || held.contact.placement != change.contact->placement) {
      held.order = next_order_++;
    }
    held.contact = *change.contact;
  }
  for (const HistoryAddition& addition : record.history) {
    auto& held = history_[addition.customer_key];
    if (held.empty()) customer_order_.push_back(addition.customer_key);
    held.push_front(addition.interaction);  // newest first
    while (held.size() > static_cast<size_t>(depth_)) held.pop_back();
  }
}

routing::RouterState StateFold::Finish() && {
  routing::RouterState state;
  for (std::optional<routing::AgentSnapshot>& agent : agents_) {
    if (agent.has_value()) state.agents.push_back(std::move(*agent));
  }
  std::vector<HeldContact*> queued;
  for (auto& [id, held] : contacts_) {
    if (held.contact.state == routing::ContactSnapshot::State::kQueued) {
      queued.push_back(&held);
    } else {
      state.contacts.push_back(std::move(held.contact));
    }
  }
  // Held contacts in a fixed order (by id), so the result does not depend
  // on the hash map's.
  std::sort(state.contacts.begin(), state.contacts.end(),
            [](const routing::ContactSnapshot& a,
               const routing::ContactSnapshot& b) {
              return a.contact.id < b.contact.id;
            });
  auto millis = [](const HeldContact* h) {
    return absl::ToUnixMillis(h->contact.aged_arrival);
  };
  std::sort(queued.begin(), queued.end(),
            [&](const HeldContact* a, const HeldContact* b) {
              const int64_t ma = millis(a), mb = millis(b);
              return ma != mb ? ma < mb : a->order < b->order;
            });
  for (HeldContact* held : queued) {
    state.contacts.push_back(std::move(held->contact));
  }
  for (uint64_t key : customer_order_) {
    auto it = history_.find(key);
    if (it == history_.end() || it->second.empty()) continue;
    routing::CustomerSnapshot customer;
    customer.customer_key = key;
    customer.interactions.assign(it->second.begin(), it->second.end());
    state.customers.push_back(std::move(customer));
  }
  return state;
}

}  // namespace journal
