// Shared by the tests of the journal and of routingd's journal: a router's
// state as comparable lines (RouterState in a canonical order), and a
// comparison that names the lines only one side has.
#ifndef TESTS_JOURNAL_ROUTER_STATE_LINES_H_
#define TESTS_JOURNAL_ROUTER_STATE_LINES_H_

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "routing/router_state.h"

namespace journal {

using routing::AgentSnapshot;
using routing::ContactSnapshot;
using routing::RouterState;

inline std::string AgentKey(const AgentSnapshot& a) {
  std::string load;
  return absl::StrCat(a.profile.id, "|", static_cast<int>(a.state), "|",
                      absl::FormatTime(a.state_since), "|",
                      absl::FormatTime(a.idle_since), "|",
                      absl::FormatTime(a.logged_in_at), "|",
                      absl::FormatDuration(a.handled), "|", a.contacts_handled,
                      "|", a.profile.skills.size(), "|",
                      a.profile.capacity[0]);
}

inline std::string ContactKey(const ContactSnapshot& c) {
  return absl::StrCat(
      c.contact.id, "|", static_cast<int>(c.state), "|", c.agent_id, "|",
      c.placement, "|", absl::FormatTime(c.planned_at), "|",
      absl::FormatTime(c.assigned_at), "|", absl::FormatTime(c.aged_arrival),
      "|", absl::FormatTime(c.contact.enqueue_time), "|", c.contact.queue,
      "|", c.contact.priority, "|", c.contact.excluded_agents.size());
}

inline // The state in a canonical order: agents and held contacts by id, queued
// contacts in service order, customers by key.
std::vector<std::string> Canonical(const RouterState& state) {
  std::vector<std::string> agents, held, queued, customers;
  for (const auto& a : state.agents) agents.push_back(AgentKey(a));
  for (const auto& c : state.contacts) {
    (c.state == ContactSnapshot::State::kQueued ? queued : held)
        .push_back(ContactKey(c));
  }
  for (const auto& c : state.customers) {
    std::string line = absl::StrCat(c.customer_key);
    for (const auto& x : c.interactions) {
      absl::StrAppend(&line, " ", x.agent_id, "@", absl::ToUnixSeconds(x.time));
    }
    customers.push_back(line);
  }
  std::sort(agents.begin(), agents.end());
  std::sort(held.begin(), held.end());
  std::sort(customers.begin(), customers.end());
  std::vector<std::string> out;
  for (auto* part : {&agents, &held, &queued, &customers}) {
    out.push_back("--");
    out.insert(out.end(), part->begin(), part->end());
  }
  return out;
}

// Equal, or the lines only one side has.
inline ::testing::AssertionResult SameState(const std::vector<std::string>& a,
                                     const std::vector<std::string>& b) {
  if (a == b) return ::testing::AssertionSuccess();
  std::multiset<std::string> sa(a.begin(), a.end()), sb(b.begin(), b.end());
  std::string out;
  for (const auto& line : a) {
    if (sb.count(line) == 0) absl::StrAppend(&out, "\n  folded only: ", line);
  }
  for (const auto& line : b) {
    if (sa.count(line) == 0) absl::StrAppend(&out, "\n  router only: ", line);
  }
  if (out.empty()) out = "\n  same lines, another order";
  return ::testing::AssertionFailure() << out;
}

}  // namespace journal

#endif  // TESTS_JOURNAL_ROUTER_STATE_LINES_H_
