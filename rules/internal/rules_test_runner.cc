#include "rules/internal/rules_test_runner.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "routing/router.h"

namespace rules::internal {

namespace {

// A fixed instant, so a test's outcome never depends on the day it runs.
const absl::Time kTestEpoch = absl::FromUnixSeconds(1'800'000'000);
constexpr int64_t kSecondNs = 1'000'000'000;
// An agent with an occupancy works a session of at least a shift, so a
// checkpoint a minute later moves the occupancy by thousandths, not more.
constexpr int64_t kBusySessionNs = 8 * 3600 * kSecondNs;
// The contacts the setup routes wait in a queue of their own, so the
// statistics of the test contact's queue (its wait estimate) are untouched.
constexpr char kSetupQueue[] = "rules-test-setup";

int64_t ToNs(double seconds) { return std::llround(seconds * 1e9); }

// What the setup does for one agent at one instant. Several on one instant
// run in this order: a busy stretch ends before a past contact is handled at
// that instant, and starts after it.
enum class SetupStep {
  kLogIn,
  kEndBusy,
  kPastContact,
  kStartBusy,
  kBecomeIdle,
  kTakeLoad,
};

struct SetupEvent {
  int64_t at_ns = 0;
  SetupStep step = SetupStep::kLogIn;
  int order = 0;  // Ties: agents in test order; the older past contact first.
  int agent = 0;
  int past = -1;  // kPastContact: index into the test's history.
};

// One agent's session, ending at T (when the test's contact is routed).
struct Session {
  int64_t login_ns = 0;
  int64_t busy_start_ns = 0;  // Equal to busy_end_ns: no busy stretch.
  int64_t busy_end_ns = 0;
  int64_t idle_start_ns = 0;
  std::string busy_contact;  // Held now, while in the busy stretch.
};

// Plans the agent's session: from login, an idle-or-handling stretch long
// enough to reach back to its oldest past contact, then `occupancy` of the
// session spent busy, ending where its idle time begins, at T - idle.
std::string PlanSession(const RulesTestCase& test,
                        const RulesTestCase::TestAgent& agent, int64_t t_ns,
                        Session* session) {
  const int64_t idle_ns = ToNs(agent.idle_seconds);
  int64_t length_ns = idle_ns;
  for (const RulesTestCase::PastInteraction& past : test.history) {
    if (past.agent_id == agent.profile.id) {
      length_ns = std::max(length_ns, ToNs(past.ago_seconds));
    }
  }
  int64_t busy_ns = 0;
  const double p = agent.occupancy.value_or(0);
  if (p > 0) {
    if (p >= 1 && idle_ns > 0) {
      return "'occupancy' 1 leaves no time to be idle";
    }
    length_ns = std::max(length_ns, kBusySessionNs);
    if (p < 1) {
      length_ns = std::max(length_ns,
                           static_cast<int64_t>(std::ceil(idle_ns / (1 - p))));
    }
    busy_ns = std::llround(p * static_cast<double>(length_ns));
    // Rounding to whole nanoseconds may leave the busy stretch a
    // nanosecond too long to end at T - idle: lengthen the session.
    while (length_ns - busy_ns < idle_ns) {
      ++length_ns;
      busy_ns = std::llround(p * static_cast<double>(length_ns));
    }
  }
  if (length_ns > ToNs(RulesTestCase::kMaxSessionSeconds)) {
    return absl::StrCat("its session would last more than ",
                        RulesTestCase::kMaxSessionSeconds / 86400, " days");
  }
  session->login_ns = t_ns - length_ns;
  session->idle_start_ns = t_ns - idle_ns;
  session->busy_end_ns = session->idle_start_ns;
  session->busy_start_ns = session->idle_start_ns - busy_ns;
  return "";
}

std::string OutcomeText(const std::string& got) {
  return got == "queued" ? std::string("'queued'")
                         : absl::StrCat("agent '", got, "'");
}

// Sets the test up and routes its contact; returns "" on success or what
// went wrong.
std::string RunOne(const std::shared_ptr<const LuaRules>& rules,
                   const RulesTestCase& test) {
  const int64_t t_ns = absl::ToUnixNanos(kTestEpoch);
  const int n = static_cast<int>(test.agents.size());
  std::vector<Session> sessions(n);
  std::vector<SetupEvent> events;
  int64_t first_ns = t_ns - 25 * 3600 * kSecondNs;
  for (int a = 0; a < n; ++a) {
    const RulesTestCase::TestAgent& agent = test.agents[a];
    Session& s = sessions[a];
    if (std::string e = PlanSession(test, agent, t_ns, &s); !e.empty()) {
      return absl::StrCat("agent '", agent.profile.id, "': ", e);
    }
    first_ns = std::min(first_ns, s.login_ns);
    events.push_back({s.login_ns, SetupStep::kLogIn, a, a});
    if (s.busy_start_ns < s.busy_end_ns) {
      events.push_back({s.busy_start_ns, SetupStep::kStartBusy, a, a});
      events.push_back({s.busy_end_ns, SetupStep::kEndBusy, a, a});
    } else if (s.login_ns < s.idle_start_ns) {
      // Free since the idle time began: back from a break then, after any
      // past contacts earlier in the session.
      events.push_back({s.idle_start_ns, SetupStep::kBecomeIdle, a, a});
    }
    events.push_back({s.idle_start_ns, SetupStep::kTakeLoad, a, a});
  }
  for (int h = 0; h < static_cast<int>(test.history.size()); ++h) {
    const RulesTestCase::PastInteraction& past = test.history[h];
    for (int a = 0; a < n; ++a) {
      if (test.agents[a].profile.id == past.agent_id) {
        // Recorded oldest first, so the router lists them as the test does.
        events.push_back(
            {t_ns - ToNs(past.ago_seconds), SetupStep::kPastContact, -h, a, h});
        break;
      }
    }
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const SetupEvent& x, const SetupEvent& y) {
                     return std::tie(x.at_ns, x.step, x.order) <
                            std::tie(y.at_ns, y.step, y.order);
                   });

  routing::ManualClock clock(absl::FromUnixNanos(first_ns - 3600 * kSecondNs));
  routing::RouterOptions options;
  options.clock = &clock;
  options.max_agents = 4'096;
  options.max_contacts = 4'096;
  options.history_customers = 1'024;
  options.history_depth = RulesTestCase::kMaxHistory;
  options.max_skill_level = 100;
  options.max_fluency = 100;
  absl::StatusOr<std::unique_ptr<routing::Router>> created =
      routing::Router::Create(options);
  if (!created.ok()) return created.status().ToString();
  routing::Router& router = **created;

  for (const RulesTestCase::TestAgent& agent : test.agents) {
    if (absl::Status s = router.AddAgent(agent.profile); !s.ok()) {
      return absl::StrCat("agent '", agent.profile.id, "': ", s.message());
    }
  }
  // Routes a contact only agent `a` may take; "" when it took it.
  int setup_contacts = 0;
  auto give = [&](int a, routing::Contact contact, std::string* id) {
    const std::string& agent_id = test.agents[a].profile.id;
    contact.id = absl::StrCat("setup-", ++setup_contacts);
    contact.queue = kSetupQueue;
    for (const RulesTestCase::TestAgent& other : test.agents) {
      if (other.profile.id != agent_id) {
        contact.excluded_agents.push_back(other.profile.id);
      }
    }
    absl::StatusOr<routing::RoutingDecision> d = router.Route(contact);
    if (d.ok() && d->agent_id == agent_id) {
      *id = contact.id;
      return std::string();
    }
    if (d.ok()) router.Cancel(contact.id).IgnoreError();
    return absl::StrCat(
        "agent '", agent_id, "' cannot take a ",
        std::string(routing::ChannelName(contact.channel)), " contact",
        d.ok() ? "" : absl::StrCat(" (", d.status().message(), ")"));
  };
  // The busy stretch is one contact on the agent's first channel.
  auto start_busy = [&](int a) {
    routing::Contact busy;
    const routing::AgentProfile& p = test.agents[a].profile;
    for (routing::Channel c : routing::kAllChannels) {
      if (p.CapacityOf(c) > 0) {
        busy.channel = c;
        break;
      }
    }
    std::string e = give(a, busy, &sessions[a].busy_contact);
    return e.empty() ? e : absl::StrCat(e, " to be busy for its 'occupancy'");
  };
  auto end_busy = [&](int a) {
    std::string& id = sessions[a].busy_contact;
    absl::Status s = router.Release(id, routing::ContactOutcome::kResolved);
    id.clear();
    return s.ok() ? std::string()
                  : absl::StrCat("agent '", test.agents[a].profile.id,
                                 "': ", s.message());
  };

  for (const SetupEvent& event : events) {
    clock.Set(absl::FromUnixNanos(event.at_ns));
    const int a = event.agent;
    const std::string& id = test.agents[a].profile.id;
    std::string failure;
    auto refused = [&](const absl::Status& s) {
      if (!s.ok() && failure.empty()) {
        failure = absl::StrCat("agent '", id, "': ", s.message());
      }
    };
    switch (event.step) {
      case SetupStep::kLogIn:
        refused(router.SetAgentState(id, routing::AgentState::kAvailable));
        break;
      case SetupStep::kStartBusy:
        failure = start_busy(a);
        break;
      case SetupStep::kEndBusy:
        failure = end_busy(a);
        break;
      case SetupStep::kPastContact: {
        const RulesTestCase::PastInteraction& past = test.history[event.past];
        // Inside the busy stretch: it pauses for the past contact.
        const bool busy = !sessions[a].busy_contact.empty();
        if (busy) failure = end_busy(a);
        routing::Contact contact;
        contact.channel = past.channel;
        contact.customer_id = test.contact.customer_id;
        std::string contact_id;
        if (failure.empty()) failure = give(a, contact, &contact_id);
        // Taken and released at once: no handling time.
        if (failure.empty()) refused(router.Release(contact_id, past.outcome));
        if (failure.empty() && busy) failure = start_busy(a);
        if (!failure.empty()) {
          failure =
              absl::StrCat("contact.history[", event.past + 1, "]: ", failure);
        }
        break;
      }
      case SetupStep::kBecomeIdle:
        refused(router.SetAgentState(id, routing::AgentState::kBreak));
        refused(router.SetAgentState(id, routing::AgentState::kAvailable));
        break;
      case SetupStep::kTakeLoad:
        for (int c = 0; c < routing::kChannelCount && failure.empty(); ++c) {
          for (int i = 0; i < test.agents[a].load[c] && failure.empty(); ++i) {
            routing::Contact held;
            held.channel = routing::kAllChannels[c];
            std::string held_id;
            if (!give(a, held, &held_id).empty()) {
              failure =
                  absl::StrCat("agent '", id, "' cannot hold its load on ",
                               std::string(routing::ChannelName(held.channel)),
                               " (check its channels)");
            }
          }
        }
        break;
    }
    if (!failure.empty()) return failure;
  }
  clock.Set(kTestEpoch);
  for (const RulesTestCase::TestAgent& agent : test.agents) {
    if (agent.state != routing::AgentState::kAvailable) {
      if (absl::Status s = router.SetAgentState(agent.profile.id, agent.state);
          !s.ok()) {
        return absl::StrCat("agent '", agent.profile.id, "': ", s.message());
      }
    }
  }

  // The router must now report what the test set up.
  for (int a = 0; a < n; ++a) {
    const RulesTestCase::TestAgent& agent = test.agents[a];
    absl::StatusOr<routing::AgentStatus> status =
        router.GetAgent(agent.profile.id);
    if (!status.ok()) return std::string(status.status().message());
    if (agent.occupancy.has_value() &&
        std::abs(status->occupancy - *agent.occupancy) > kOccupancyTolerance) {
      return absl::StrFormat(
          "setup: the router reports occupancy %.12g for agent '%s', not "
          "the test's %.12g",
          status->occupancy, agent.profile.id, *agent.occupancy);
    }
    if (status->idle_since != absl::FromUnixNanos(sessions[a].idle_start_ns)) {
      return absl::StrCat("setup: agent '", agent.profile.id, "' is idle for ",
                          absl::FormatDuration(kTestEpoch - status->idle_since),
                          ", not the test's ",
                          absl::StrFormat("%.12g", agent.idle_seconds), " s");
    }
  }
  if (!test.history.empty()) {
    const std::vector<routing::CustomerInteraction> remembered =
        router.CustomerHistory(test.contact.customer_id);
    bool same = remembered.size() == test.history.size();
    for (size_t h = 0; same && h < remembered.size(); ++h) {
      same = remembered[h].agent_id == test.history[h].agent_id &&
             remembered[h].outcome == test.history[h].outcome &&
             remembered[h].time ==
                 kTestEpoch - absl::Seconds(test.history[h].ago_seconds);
    }
    if (!same) {
      std::string listed;
      for (const routing::CustomerInteraction& i : remembered) {
        absl::StrAppend(&listed, listed.empty() ? "" : ", ", i.agent_id, " ",
                        std::string(routing::ContactOutcomeName(i.outcome)),
                        " ", absl::FormatDuration(kTestEpoch - i.time), " ago");
      }
      return absl::StrCat(
          "setup: the router remembers the customer's history "
          "as [",
          listed, "], not as the test gives it");
    }
  }

  router.SetRules(rules);
  routing::Contact contact = test.contact;
  contact.enqueue_time = kTestEpoch - absl::Seconds(test.waited_seconds);
  const int64_t errors_before = rules->errors();
  absl::StatusOr<routing::RoutingDecision> d = router.Route(contact);
  if (!d.ok()) return std::string(d.status().message());
  if (d->rules_fallback || rules->errors() != errors_before) {
    return absl::StrCat("the rules failed: ", rules->last_error());
  }
  const std::string got = d->outcome == routing::DecisionOutcome::kQueued
                              ? std::string("queued")
                              : d->agent_id;
  if (got != test.expect) {
    return absl::StrCat("expected ", test.expect == "queued" ? "" : "agent ",
                        "'", test.expect, "', got ",
                        got == "queued" ? "" : "agent ", "'", got, "'\n",
                        d->Explain());
  }

  double elapsed = 0;
  for (size_t k = 0; k < test.later.size(); ++k) {
    const RulesTestCase::Checkpoint& checkpoint = test.later[k];
    elapsed += checkpoint.advance_seconds;
    const std::string where = absl::StrCat(
        "later[", k + 1, "]",
        checkpoint.line > 0 ? absl::StrCat(" (line ", checkpoint.line, ")")
                            : "",
        ", ", absl::StrFormat("%.12g", elapsed), " s after routing");
    clock.Advance(absl::Nanoseconds(ToNs(checkpoint.advance_seconds)));
    const int64_t errors = rules->errors();
    router.AdvanceQueues();
    if (rules->errors() != errors) {
      return absl::StrCat(where, ": the rules failed: ", rules->last_error());
    }
    absl::StatusOr<routing::ContactStatus> status =
        router.GetContact(contact.id);
    if (!status.ok()) {
      return absl::StrCat(where, ": ", status.status().message());
    }
    const std::string now =
        status->state == routing::ContactStatus::State::kQueued
            ? std::string("queued")
            : status->agent_id;
    if (now != checkpoint.expect) {
      return absl::StrCat(where, ": expected ", OutcomeText(checkpoint.expect),
                          ", got ", OutcomeText(now));
    }
  }
  return "";
}

}  // namespace

int RunRulesTests(const std::shared_ptr<const LuaRules>& rules,
                  const std::vector<RulesTestCase>& tests,
                  std::vector<RulesProblem>* problems) {
  int passed = 0;
  for (const RulesTestCase& test : tests) {
    const std::string failure = RunOne(rules, test);
    if (failure.empty()) {
      ++passed;
    } else {
      problems->push_back({rules->Name(), test.line,
                           absl::StrCat("test '", test.name, "': ", failure)});
    }
  }
  return passed;
}

}  // namespace rules::internal
