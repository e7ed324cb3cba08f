#include "journal/state_fold.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace journal {

StateFold::StateFold(routing::RouterState base, int depth)
    : depth_(std::clamp(depth, 1, 255)), base_(std::move(base)) {}

void StateFold::Index() {
  if (indexed_) return;
  indexed_ = true;
  routing::RouterState base = std::move(base_);
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
  base_customers_ = std::move(base.customers);
}

void StateFold::SetRules(const JournalRecord& record) {
  rules_file_ = record.rules_file;
  rules_source_ = record.rules_source;
  rules_version_ = record.rules_version;
}

absl::Status StateFold::Apply(const JournalRecord& record) {
  Index();
  for (const AgentChange& change : record.agents) {
    if (change.profile_unchanged && !agent_slot_.contains(change.id)) {
      return absl::DataLossError(absl::StrCat(
          "agent '", change.id,
          "' changed state with the profile it had, but no earlier record "
          "or snapshot holds it"));
    }
  }
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
    if (change.profile_unchanged) {
      // The state fields only; the profile stays.
      routing::AgentSnapshot& held = *agents_[it->second];
      const routing::AgentSnapshot& now = *change.agent;
      held.state = now.state;
      held.state_since = now.state_since;
      held.idle_since = now.idle_since;
      held.logged_in_at = now.logged_in_at;
      held.handled = now.handled;
      held.contacts_handled = now.contacts_handled;
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
    auto [it, first] = added_.try_emplace(addition.customer_key);
    if (first) added_order_.push_back(addition.customer_key);
    it->second.push_back(addition.interaction);  // newest last
    // Only the newest `depth` can survive.
    if (it->second.size() > static_cast<size_t>(depth_)) {
      it->second.erase(it->second.begin());
    }
  }
  return absl::OkStatus();
}

routing::RouterState StateFold::Finish() && {
  // No record after the base: the base as it is (a restart after a clean
  // shutdown, whose snapshot holds everything, pays for no maps).
  if (!indexed_) return std::move(base_);
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
  // A customer's history: what records added (newest first), then what
  // the base had, the newest `depth` kept.
  auto merged = [&](uint64_t key, std::vector<routing::CustomerInteraction>*
                                      base_interactions) {
    routing::CustomerSnapshot customer;
    customer.customer_key = key;
    auto it = added_.find(key);
    if (it != added_.end()) {
      for (auto x = it->second.rbegin(); x != it->second.rend(); ++x) {
        customer.interactions.push_back(std::move(*x));
      }
      added_.erase(it);
    }
    if (base_interactions != nullptr) {
      for (routing::CustomerInteraction& x : *base_interactions) {
        customer.interactions.push_back(std::move(x));
      }
    }
    if (customer.interactions.size() > static_cast<size_t>(depth_)) {
      customer.interactions.resize(depth_);
    }
    return customer;
  };
  state.customers.reserve(base_customers_.size() + added_.size());
  for (routing::CustomerSnapshot& base : base_customers_) {
    if (added_.empty() || !added_.contains(base.customer_key)) {
      if (base.interactions.size() > static_cast<size_t>(depth_)) {
        base.interactions.resize(depth_);
      }
      if (!base.interactions.empty()) state.customers.push_back(std::move(base));
      continue;
    }
    state.customers.push_back(merged(base.customer_key, &base.interactions));
  }
  for (uint64_t key : added_order_) {
    if (!added_.contains(key)) continue;  // merged into a base customer
    state.customers.push_back(merged(key, nullptr));
  }
  return state;
}

}  // namespace journal
