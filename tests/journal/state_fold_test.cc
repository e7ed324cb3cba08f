// StateFold: a snapshot plus the records after it give the state the router
// had. A real router is driven through random traffic; after every call,
// what changed (found by comparing its exported state before and after) is
// a journal record, encoded and decoded as on disk. Folding the records onto
// a snapshot taken part way must give the router's final state, and that
// state imported into a new router must serve the same.
#include "journal/state_fold.h"

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "journal/journal_record.h"
#include "journal/snapshot_codec.h"
#include "routing/router.h"
#include "tests/journal/router_state_lines.h"

namespace journal {
namespace {

// An agent's profile, whole: equal before and after a call, the record
// carries the agent's state fields only (AgentChange::profile_unchanged), as
// routingd's records of calls that cannot change a profile do.
std::string ProfileKey(const routing::AgentProfile& p) {
  std::string key = absl::StrCat(p.id, "|", p.team, "|", p.site, "|",
                                 p.max_total_contacts);
  for (const auto& s : p.skills) absl::StrAppend(&key, "|", s.skill, "=", s.level);
  for (const auto& l : p.languages) {
    absl::StrAppend(&key, "|", l.language, "=", l.fluency);
  }
  for (int c : p.capacity) absl::StrAppend(&key, "|", c);
  std::map<std::string, std::string> attributes(p.attributes.begin(),
                                                p.attributes.end());
  for (const auto& [k, v] : attributes) absl::StrAppend(&key, "|", k, "=", v);
  return key;
}

// What changed from `before` to `after`, as a journal record.
JournalRecord Diff(const RouterState& before, const RouterState& after,
                   absl::Time now) {
  JournalRecord record;
  record.time = now;
  std::map<std::string, std::string> agents_before, contacts_before,
      profiles_before;
  for (const auto& a : before.agents) {
    agents_before[a.profile.id] = AgentKey(a);
    profiles_before[a.profile.id] = ProfileKey(a.profile);
  }
  for (const auto& c : before.contacts) {
    contacts_before[c.contact.id] = ContactKey(c);
  }
  std::map<std::string, bool> agents_after, contacts_after;
  for (const auto& a : after.agents) {
    agents_after[a.profile.id] = true;
    auto it = agents_before.find(a.profile.id);
    if (it == agents_before.end() || it->second != AgentKey(a)) {
      if (it != agents_before.end() &&
          profiles_before[a.profile.id] == ProfileKey(a.profile)) {
        routing::AgentSnapshot state_only = a;
        state_only.profile = routing::AgentProfile();
        record.agents.push_back({a.profile.id, state_only,
                                 /*profile_unchanged=*/true});
      } else {
        record.agents.push_back({a.profile.id, a});
      }
    }
  }
  for (const auto& [id, key] : agents_before) {
    if (!agents_after.count(id)) record.agents.push_back({id, std::nullopt});
  }
  // In the after state's order: held, then queued in service order.
  for (const auto& c : after.contacts) {
    contacts_after[c.contact.id] = true;
    auto it = contacts_before.find(c.contact.id);
    if (it == contacts_before.end() || it->second != ContactKey(c)) {
      record.contacts.push_back({c.contact.id, c});
    }
  }
  for (const auto& [id, key] : contacts_before) {
    if (!contacts_after.count(id)) {
      record.contacts.push_back({id, std::nullopt});
    }
  }
  std::map<uint64_t, const routing::CustomerSnapshot*> customers_before;
  for (const auto& c : before.customers) customers_before[c.customer_key] = &c;
  for (const auto& c : after.customers) {
    auto it = customers_before.find(c.customer_key);
    size_t fresh = c.interactions.size();
    if (it != customers_before.end() && !it->second->interactions.empty()) {
      const auto& newest_before = it->second->interactions.front();
      for (size_t i = 0; i < c.interactions.size(); ++i) {
        if (c.interactions[i].agent_id == newest_before.agent_id &&
            c.interactions[i].time == newest_before.time &&
            c.interactions[i].outcome == newest_before.outcome) {
          fresh = i;
          break;
        }
      }
    }
    for (size_t i = fresh; i-- > 0;) {  // oldest of the new ones first
      record.history.push_back({c.customer_key, c.interactions[i]});
    }
  }
  return record;
}

class StateFoldTest : public ::testing::TestWithParam<int> {
 protected:
  StateFoldTest() : clock_(absl::FromUnixSeconds(1'800'000'000)) {}

  std::unique_ptr<routing::Router> NewRouter() {
    routing::RouterOptions options;
    options.clock = &clock_;
    // A small history store and contact table: the test exports the whole
    // state after every call, and an export walks both.
    options.history_customers = 1024;
    options.max_contacts = 1024;
    options.offer_timeout[static_cast<int>(routing::Channel::kChat)] =
        absl::Seconds(20);
    return *routing::Router::Create(options);
  }

  // One random call; true if it was made (whatever it answered).
  void RandomCall(routing::Router& router, std::mt19937& rng, int step) {
    const std::vector<std::string> skills = {"billing", "tech", "sales"};
    auto pick = [&](int n) { return static_cast<int>(rng() % n); };
    const std::string agent = absl::StrCat("agent-", pick(8));
    const std::string contact = absl::StrCat("c-", pick(40));
    switch (pick(11)) {
      case 0: {
        routing::AgentProfile p;
        p.id = agent;
        p.skills = {{skills[pick(3)], 1 + pick(5)}, {skills[pick(3)] + "-2", 3}};
        p.languages = {{"en", 5}};
        p.SetCapacity(routing::Channel::kVoice, 1);
        p.SetCapacity(routing::Channel::kChat, 1 + pick(2));
        (void)router.AddAgent(p);
        break;
      }
      case 1:
      case 2:
        (void)router.SetAgentState(
            agent, static_cast<routing::AgentState>(pick(5)));
        break;
      case 3:
      case 4:
      case 5: {
        routing::Contact c;
        c.id = contact;
        c.channel = pick(3) == 0 ? routing::Channel::kChat
                                 : routing::Channel::kVoice;
        c.required_skills = {{skills[pick(3)], 1 + pick(3)}};
        c.priority = pick(4) == 0 ? 1 + pick(5) : 0;
        c.customer_id = absl::StrCat("cust-", pick(12));
        (void)router.Route(c);
        break;
      }
      case 6:
        (void)router.Cancel(contact);
        break;
      case 7:
        (void)router.Release(contact, static_cast<routing::ContactOutcome>(
                                          pick(3)));
        break;
      case 8: {
        routing::Contact c;
        c.id = contact;
        c.required_skills = {{skills[pick(3)], 1}};
        (void)router.Requeue(c);
        break;
      }
      case 9:
        (void)router.AcceptOffer(contact, "");
        break;
      case 10:
        (void)router.RemoveAgent(agent);
        break;
    }
    if (step % 3 == 0) clock_.Advance(absl::Milliseconds(1 + pick(3000)));
    if (step % 7 == 0) (void)router.AdvanceQueues();
  }

  routing::ManualClock clock_;
};

TEST_P(StateFoldTest, ASnapshotAndTheRecordsAfterItGiveTheFinalState) {
  std::mt19937 rng(GetParam());
  auto router = NewRouter();
  constexpr int kCalls = 600;
  const int snapshot_at = 100 + static_cast<int>(rng() % 300);
  RouterState before = router->ExportState();
  std::string snapshot_body;
  std::vector<std::string> records;
  for (int step = 1; step <= kCalls; ++step) {
    RandomCall(*router, rng, step);
    RouterState after = router->ExportState();
    if (step == snapshot_at) {
      SnapshotInfo info;
      info.sequence = static_cast<uint64_t>(step);
      snapshot_body = EncodeSnapshot(info, after);
      records.clear();  // Records up to the snapshot are in it.
    } else {
      JournalRecord record = Diff(before, after, clock_.Now());
      if (!record.agents.empty() || !record.contacts.empty() ||
          !record.history.empty()) {
        records.push_back(EncodeRecord(record));
      }
    }
    before = std::move(after);
  }
  ASSERT_FALSE(snapshot_body.empty());

  auto snapshot = DecodeSnapshot(snapshot_body);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  StateFold fold(std::move(snapshot->state), /*depth=*/4);
  for (const std::string& body : records) {
    auto record = DecodeRecord(body);
    ASSERT_TRUE(record.ok()) << record.status();
    ASSERT_TRUE(fold.Apply(*record).ok());
  }
  const RouterState folded = std::move(fold).Finish();
  const RouterState final_state = router->ExportState();
  EXPECT_TRUE(SameState(Canonical(folded), Canonical(final_state)));

  // Imported, the state serves as the original does.
  auto restored = NewRouter();
  ASSERT_TRUE(restored->ImportState(folded).ok());
  EXPECT_TRUE(
      SameState(Canonical(restored->ExportState()), Canonical(final_state)));
  for (const auto& q : router->QueuedContacts("")) {
    auto mine = restored->GetContact(q.contact.id);
    ASSERT_TRUE(mine.ok()) << q.contact.id;
    EXPECT_EQ(mine->queue_position, q.queue_position) << q.contact.id;
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, StateFoldTest, ::testing::Range(1, 21));

TEST(StateFoldTest, AStateOnlyChangeKeepsTheProfileAndNeedsTheAgent) {
  routing::AgentSnapshot agent;
  agent.profile.id = "a1";
  agent.profile.skills = {{"billing", 4}};
  agent.profile.languages = {{"en", 5}};
  agent.profile.SetCapacity(routing::Channel::kChat, 3);
  agent.profile.team = "north";
  RouterState base;
  base.agents.push_back(agent);

  JournalRecord busy;
  routing::AgentSnapshot state_only;
  state_only.state = routing::AgentState::kBusy;
  state_only.state_since = absl::FromUnixSeconds(50);
  state_only.contacts_handled = 3;
  busy.agents.push_back({"a1", state_only, /*profile_unchanged=*/true});
  auto decoded = DecodeRecord(EncodeRecord(busy));
  ASSERT_TRUE(decoded.ok()) << decoded.status();

  StateFold fold(base);
  ASSERT_TRUE(fold.Apply(*decoded).ok());
  // An agent nobody added: refused, naming it, and nothing applied (the
  // contact in the same record stays out).
  JournalRecord stranger;
  stranger.contacts.push_back({"c1", routing::ContactSnapshot()});
  stranger.agents.push_back({"ghost", state_only, /*profile_unchanged=*/true});
  const absl::Status refused = fold.Apply(stranger);
  EXPECT_EQ(refused.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(refused.message().find("'ghost'"), std::string::npos)
      << refused.message();

  const RouterState state = std::move(fold).Finish();
  ASSERT_EQ(state.agents.size(), 1u);
  const routing::AgentSnapshot& a1 = state.agents[0];
  EXPECT_EQ(a1.profile.id, "a1");
  EXPECT_EQ(a1.profile.skills.size(), 1u);
  EXPECT_EQ(a1.profile.team, "north");
  EXPECT_EQ(a1.profile.CapacityOf(routing::Channel::kChat), 3);
  EXPECT_EQ(a1.state, routing::AgentState::kBusy);
  EXPECT_EQ(a1.state_since, absl::FromUnixSeconds(50));
  EXPECT_EQ(a1.contacts_handled, 3);
  EXPECT_TRUE(state.contacts.empty());
}

TEST(JournalRecordTest, DecodingRefusesWhatItCannotTrust) {
  JournalRecord record;
  record.contacts.push_back({"gone", std::nullopt});
  const std::string body = EncodeRecord(record);
  auto back = DecodeRecord(body);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->contacts.size(), 1u);
  EXPECT_FALSE(back->contacts[0].contact.has_value());
  EXPECT_EQ(DecodeRecord("short").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeRecord(body.substr(0, body.size() / 2)).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace journal
