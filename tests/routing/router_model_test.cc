// Model-based differential test of the Router: random sequences of operations
// (roster changes, presence, routing, cancels, releases, requeues, clock
// steps, AdvanceQueues, rules swaps, and invalid calls) applied to
// routing::Router and to the sequential ReferenceRouter
// (tests/routing/reference_router.h, which states the semantics). After every
// operation the two must agree on:
//   - the status code of every call;
//   - every decision: outcome, the agent for an assignment, the queue and
//     queue_position for a contact queued;
//   - the assignments the listener heard, (contact, agent), in order;
//   - AdvanceQueues()'s count and SetRules()'s version;
//   - the state: the roster, each agent's state and load on every channel,
//     each contact's state, agent and queue (GetContact).
// Pools are small (2-6 agents, 2-3 skills, 1-3 queues, 2 languages, voice and
// chat, capacities 0-2) so that every operation meets the others.
//
// The tests:
//   SanityMix    leaves out priorities, enqueue times in the past, requeues,
//                rules, the clock stepping back, contacts arriving at the same
//                instant and calls wrong in two ways at once: what the router
//                got right before the core was rewritten.
//   FullMix      everything.
//   ScriptedScenarios  spec points random runs reach too rarely.
//   HarnessCatchesAWrongModel  a model with one rule planted wrong must
//                disagree with the router: the comparison can fail.
//
// Seeds: SanityMix and FullMix each run a fixed range of short seeds. Long
// mode (any of these, with bazel test's --test_env=NAME=VALUE):
//   ROUTER_MODEL_SEEDS=N         seeds per mix (default 3000; 500 under ASan)
//   ROUTER_MODEL_FIRST_SEED=S    first seed (default 1)
//   ROUTER_MODEL_OPS=K           operations per seed (default 60)
//   ROUTER_MODEL_WITHOUT=a,b     features of the mix to turn off (Without())
//   ROUTER_MODEL_VERBOSE=1       print every run's operation log
// e.g.
//   bazel test //tests/routing:router_model_test --test_filter='*FullMix'
//     --test_env=ROUTER_MODEL_SEEDS=100000 --test_output=all
// A mismatch prints its seed, the command that replays it alone, and the
// operation log up to the first disagreement; the summary groups mismatches
// by what disagreed, with the shortest log of each kind.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "routing/router.h"
#include "rules/lua_rules.h"
#include "tests/routing/reference_router.h"
#include "tests/routing/router_test_support.h"

namespace routing {
namespace {

using ::routing::testing::RecordingListener;
using ::routing::testing::ReferenceRouter;
using ::routing::testing::ReferenceRules;
using ::routing::testing::ReferenceRulesStep;
using Pairs = std::vector<std::pair<std::string, std::string>>;

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  return std::strtoll(value, nullptr, 10);
}

// ROUTER_MODEL_VERBOSE=1 prints every run's operation log, passing or not.
bool Verbose() { return EnvInt("ROUTER_MODEL_VERBOSE", 0) != 0; }

// --- Rules: each Lua file and the same policy written for the model ----------

int BillingLevel(const AgentProfile& agent) {
  for (const AgentSkill& s : agent.skills) {
    if (s.skill == "billing") return s.level;
  }
  return 0;
}

// A time-based veto: until a contact has waited 30 s only senior billing
// agents may take it.
constexpr char kVetoLua[] = R"lua(
return {
  name = "time-veto",
  eligible = function(c, a) return c.waited >= 30 or skill(a, "billing") >= 4 end,
}
)lua";

// Steps (levels relaxed at 20 s, overflow to sales at 45 s with languages
// dropped), a priority that rises after 10 s, and its own aging step.
constexpr char kStepsLua[] = R"lua(
return {
  name = "steps",
  priority_step = 10,
  priority = function(c, waited)
    if waited >= 10 then return c.priority + 3 end
    return c.priority
  end,
  steps = {
    { after = 20, min_level = 1 },
    { after = 45, skills = { sales = 1 }, languages = false },
  },
}
)lua";

// Both: the veto, and steps that change what the veto sees.
constexpr char kVetoStepsLua[] = R"lua(
return {
  name = "veto-steps",
  eligible = function(c, a) return c.waited >= 30 or skill(a, "billing") >= 4 end,
  steps = {
    { after = 15, min_level = 2 },
    { after = 40, skills = { billing = 1 } },
  },
}
)lua";

struct RulesVariant {
  std::string name;
  std::shared_ptr<const RoutingRules> router;  // Null: no rules.
  std::shared_ptr<const ReferenceRules> model;
};

// Compiled once per test suite (RouterModelTest::SetUpTestSuite): LuaRules
// are immutable and shared by every router of every seed, and freed with the
// suite so that LeakSanitizer sees the Lua states closed.
std::vector<RulesVariant>* compiled_rules = nullptr;

const std::vector<RulesVariant>& Rules() { return *compiled_rules; }

std::vector<RulesVariant>* CompileAllRules() {
  auto* out = new std::vector<RulesVariant>();
  out->push_back({"none", nullptr, nullptr});
  auto compile = [](const char* name, const char* source) {
    std::vector<rules::RulesProblem> problems;
    // The model has no clock of its own for evaluation time: a hook that ran
    // past the default 2 ms budget on a slow run (a sanitizer build, a busy
    // machine) would fall back to the built-in policy and disagree with it.
    // A budget nothing here comes near, and no breaker, keep the comparison
    // about decisions.
    rules::RulesOptions options;
    options.evaluation_budget = absl::Seconds(1);
    options.breaker_failures = 0;
    auto compiled = rules::CompileRules(name, source, options, &problems);
    if (!compiled.ok()) {
      std::cerr << compiled.status() << "\n";
      for (const auto& p : problems) std::cerr << p.ToString() << "\n";
      std::abort();
    }
    return std::shared_ptr<const RoutingRules>(*compiled);
  };
  {
    auto model = std::make_shared<ReferenceRules>();
    model->name = "time-veto";
    model->eligible = [](double waited, const AgentProfile& a) {
      return waited >= 30 || BillingLevel(a) >= 4;
    };
    out->push_back({"time-veto", compile("veto.lua", kVetoLua), model});
  }
  {
    auto model = std::make_shared<ReferenceRules>();
    model->name = "steps";
    model->priority_step_seconds = 10;
    model->priority = [](int own, double waited) {
      return waited >= 10 ? own + 3.0 : own;
    };
    ReferenceRulesStep relax;
    relax.after_seconds = 20;
    relax.min_level = 1;
    ReferenceRulesStep overflow;
    overflow.after_seconds = 45;
    overflow.replace_skills = true;
    overflow.skills = {{"sales", 1}};
    overflow.drop_languages = true;
    model->steps = {relax, overflow};
    out->push_back({"steps", compile("steps.lua", kStepsLua), model});
  }
  {
    auto model = std::make_shared<ReferenceRules>();
    model->name = "veto-steps";
    model->eligible = [](double waited, const AgentProfile& a) {
      return waited >= 30 || BillingLevel(a) >= 4;
    };
    ReferenceRulesStep relax;
    relax.after_seconds = 15;
    relax.min_level = 2;
    ReferenceRulesStep overflow;
    overflow.after_seconds = 40;
    overflow.replace_skills = true;
    overflow.skills = {{"billing", 1}};
    model->steps = {relax, overflow};
    out->push_back(
        {"veto-steps", compile("veto_steps.lua", kVetoStepsLua), model});
  }
  return out;
}

// --- Operations --------------------------------------------------------------

struct Mix {
  const char* name = "";
  bool priorities = false;
  bool past_enqueue = false;
  bool requeue = false;
  bool rules = false;
  bool backward_clock = false;
  // Contacts may arrive at the same instant (in different queues).
  bool simultaneous_arrivals = false;
  // A call may be wrong in two ways at once (a held contact id asking for an
  // unknown skill, a malformed profile for an agent already on the roster),
  // so which error wins counts.
  bool double_faults = false;
};

constexpr Mix kSanityMix = {.name = "sanity"};
constexpr Mix kFullMix = {.name = "full",
                          .priorities = true,
                          .past_enqueue = true,
                          .requeue = true,
                          .rules = true,
                          .backward_clock = true,
                          .simultaneous_arrivals = true,
                          .double_faults = true};

enum class OpKind {
  kAddAgent,
  kUpdateAgent,
  kRemoveAgent,
  kSetAgentState,
  kRoute,
  kCancel,
  kRelease,
  kRequeue,
  kAdvanceClock,
  kAdvanceQueues,
  kSetRules,
};

struct Op {
  OpKind kind = OpKind::kAdvanceQueues;
  AgentProfile profile;  // Add, Update.
  std::string id;        // Remove, SetAgentState, Cancel, Release.
  AgentState state = AgentState::kLoggedOut;
  Contact contact;  // Route, Requeue.
  ContactOutcome outcome = ContactOutcome::kUnknown;
  absl::Duration step;  // kAdvanceClock; may be negative.
  int rules = 0;        // kSetRules: index into Rules().
};

std::string TimeText(absl::Time t) {
  return t >= kStart ? absl::StrCat("T+", absl::FormatDuration(t - kStart))
                     : absl::StrCat("T-", absl::FormatDuration(kStart - t));
}

std::string SkillsText(const std::vector<SkillRequirement>& skills) {
  return absl::StrJoin(skills, ",", [](std::string* out, const auto& s) {
    absl::StrAppend(out, s.skill, ">=", s.min_level);
  });
}

std::string ProfileText(const AgentProfile& p) {
  std::string out = absl::StrCat("'", p.id, "' skills=[");
  absl::StrAppend(&out,
                  absl::StrJoin(p.skills, ",",
                                [](std::string* o, const AgentSkill& s) {
                                  absl::StrAppend(o, s.skill, ":", s.level);
                                }),
                  "] langs=[",
                  absl::StrJoin(p.languages, ",",
                                [](std::string* o, const AgentLanguage& l) {
                                  absl::StrAppend(o, l.language, ":",
                                                  l.fluency);
                                }),
                  "] voice=", p.CapacityOf(Channel::kVoice),
                  " chat=", p.CapacityOf(Channel::kChat));
  if (p.max_total_contacts != 0) {
    absl::StrAppend(&out, " max_total=", p.max_total_contacts);
  }
  return out;
}

std::string ContactText(const Contact& c) {
  std::string out =
      absl::StrCat("'", c.id, "' ", std::string(ChannelName(c.channel)), " q='",
                   c.queue, "' req=[", SkillsText(c.required_skills), "]");
  if (!c.desired_skills.empty()) {
    absl::StrAppend(&out, " des=[", SkillsText(c.desired_skills), "]");
  }
  if (!c.languages.empty()) {
    absl::StrAppend(&out, " langs=[", absl::StrJoin(c.languages, ","), "]");
  }
  if (c.priority != 0) absl::StrAppend(&out, " pri=", c.priority);
  if (!c.customer_id.empty()) absl::StrAppend(&out, " cust=", c.customer_id);
  if (!c.excluded_agents.empty()) {
    absl::StrAppend(&out, " excl=[", absl::StrJoin(c.excluded_agents, ","),
                    "]");
  }
  if (!c.preferred_agents.empty()) {
    absl::StrAppend(&out, " pref=[", absl::StrJoin(c.preferred_agents, ","),
                    "]");
  }
  if (c.enqueue_time != absl::InfinitePast()) {
    absl::StrAppend(&out, " enq=", TimeText(c.enqueue_time));
  }
  return out;
}

std::string Describe(const Op& op) {
  switch (op.kind) {
    case OpKind::kAddAgent:
      return absl::StrCat("AddAgent ", ProfileText(op.profile));
    case OpKind::kUpdateAgent:
      return absl::StrCat("UpdateAgent ", ProfileText(op.profile));
    case OpKind::kRemoveAgent:
      return absl::StrCat("RemoveAgent '", op.id, "'");
    case OpKind::kSetAgentState:
      return absl::StrCat("SetAgentState '", op.id, "' ",
                          std::string(AgentStateName(op.state)));
    case OpKind::kRoute:
      return absl::StrCat("Route ", ContactText(op.contact));
    case OpKind::kCancel:
      return absl::StrCat("Cancel '", op.id, "'");
    case OpKind::kRelease:
      return absl::StrCat("Release '", op.id, "' ",
                          std::string(ContactOutcomeName(op.outcome)));
    case OpKind::kRequeue:
      return absl::StrCat("Requeue ", ContactText(op.contact));
    case OpKind::kAdvanceClock:
      return absl::StrCat("clock ", op.step < absl::ZeroDuration() ? "" : "+",
                          absl::FormatDuration(op.step));
    case OpKind::kAdvanceQueues:
      return "AdvanceQueues";
    case OpKind::kSetRules:
      return absl::StrCat("SetRules ", Rules()[op.rules].name);
  }
  return "?";
}

// Random operations over small pools. Reads the model to aim most calls at
// ids that exist (and some at ids that do not).
class OpGenerator {
 public:
  OpGenerator(uint64_t seed, const Mix& mix) : rng_(seed), mix_(mix) {
    const int agents = Uniform(2, 6);
    for (int i = 0; i < agents; ++i) agent_ids_.push_back(absl::StrCat("a", i));
    skills_ = {"billing", "sales"};
    if (Chance(0.5)) skills_.push_back("tech");
    const int queues = Uniform(1, 3);
    for (int i = 0; i < queues; ++i) queues_.push_back(absl::StrCat("q", i));
    for (int i = 0; i < 10; ++i) contact_ids_.push_back(absl::StrCat("k", i));
  }

  Op Next(const ReferenceRouter& model, absl::Time now, int index) {
    Op op;
    if (index == 0) {
      // One agent who knows every skill and language, so that the rules'
      // steps and the pools name nothing unknown to the router.
      op.kind = OpKind::kAddAgent;
      op.profile = RandomProfile(agent_ids_[0]);
      op.profile.skills.clear();
      for (const std::string& s : skills_) {
        op.profile.skills.push_back({s, Uniform(1, 5)});
      }
      op.profile.languages = {{"en", Uniform(1, 5)}, {"es", Uniform(1, 5)}};
      return op;
    }
    struct Weighted {
      OpKind kind;
      int weight;
    };
    const Weighted table[] = {
        {OpKind::kAddAgent, 7},
        {OpKind::kUpdateAgent, 5},
        {OpKind::kRemoveAgent, 3},
        {OpKind::kSetAgentState, 12},
        {OpKind::kRoute, 22},
        {OpKind::kCancel, 5},
        {OpKind::kRelease, 10},
        {OpKind::kRequeue, mix_.requeue ? 6 : 0},
        {OpKind::kAdvanceClock, 14},
        {OpKind::kAdvanceQueues, 5},
        {OpKind::kSetRules, mix_.rules ? 2 : 0},
    };
    int total = 0;
    for (const Weighted& w : table) total += w.weight;
    int pick = Uniform(0, total - 1);
    for (const Weighted& w : table) {
      if (pick < w.weight) {
        op.kind = w.kind;
        break;
      }
      pick -= w.weight;
    }

    const std::vector<std::string> present = model.AgentIds();
    const std::vector<std::string> queued =
        model.HeldContacts(ReferenceRouter::HeldState::kQueued);
    const std::vector<std::string> assigned =
        model.HeldContacts(ReferenceRouter::HeldState::kAssigned);
    std::vector<std::string> held = queued;
    held.insert(held.end(), assigned.begin(), assigned.end());

    switch (op.kind) {
      case OpKind::kAddAgent: {
        std::vector<std::string> absent;
        for (const std::string& id : agent_ids_) {
          if (std::find(present.begin(), present.end(), id) == present.end()) {
            absent.push_back(id);
          }
        }
        const std::string id = !absent.empty() && !Chance(0.15)
                                   ? OneOf(absent)
                                   : OneOf(agent_ids_);
        op.profile = RandomProfile(id);
        const bool on_roster =
            std::find(present.begin(), present.end(), id) != present.end();
        if (Chance(0.1) && (mix_.double_faults || !on_roster)) {
          SpoilProfile(&op.profile, /*allow_empty_id=*/true);
        }
        break;
      }
      case OpKind::kUpdateAgent: {
        const bool on_roster = !present.empty() && !Chance(0.1);
        op.profile = RandomProfile(on_roster ? OneOf(present) : "ghost");
        if (Chance(0.1) && (mix_.double_faults || on_roster)) {
          SpoilProfile(&op.profile, /*allow_empty_id=*/false);
        }
        break;
      }
      case OpKind::kRemoveAgent:
        op.id = Chance(0.1) ? "ghost" : OneOf(agent_ids_);
        break;
      case OpKind::kSetAgentState: {
        op.id = !present.empty() && !Chance(0.1) ? OneOf(present)
                                                 : OneOf(agent_ids_);
        if (Chance(0.02)) op.id = "";
        op.state =
            Chance(0.5)
                ? AgentState::kAvailable
                : static_cast<AgentState>(Uniform(0, kAgentStateCount - 1));
        break;
      }
      case OpKind::kRoute: {
        if (!mix_.simultaneous_arrivals && now == last_route_) {
          op.kind = OpKind::kAdvanceClock;
          op.step = absl::Milliseconds(1);
          break;
        }
        last_route_ = now;
        std::vector<std::string> free_ids;
        for (const std::string& id : contact_ids_) {
          if (std::find(held.begin(), held.end(), id) == held.end()) {
            free_ids.push_back(id);
          }
        }
        const std::string id = !free_ids.empty() && !Chance(0.05)
                                   ? OneOf(free_ids)
                                   : OneOf(contact_ids_);
        op.contact = RandomContact(id, now);
        const bool is_held =
            std::find(held.begin(), held.end(), id) != held.end();
        if (Chance(0.08) && (mix_.double_faults || !is_held)) {
          SpoilContact(&op.contact, now,
                       mix_.double_faults ? held : std::vector<std::string>());
        }
        break;
      }
      case OpKind::kCancel:
        op.id = !held.empty() && !Chance(0.1) ? OneOf(held) : "ghost";
        break;
      case OpKind::kRelease: {
        const double r = Uniform01();
        if (r < 0.85 && !assigned.empty()) {
          op.id = OneOf(assigned);
        } else if (r < 0.93 && !queued.empty()) {
          op.id = OneOf(queued);
        } else {
          op.id = OneOf(contact_ids_);
        }
        op.outcome =
            static_cast<ContactOutcome>(Uniform(0, kContactOutcomeCount - 1));
        break;
      }
      case OpKind::kRequeue: {
        std::string id = "ghost";
        if (!held.empty() && !Chance(0.08)) {
          id = !assigned.empty() && (queued.empty() || Chance(0.6))
                   ? OneOf(assigned)
                   : OneOf(queued);
        }
        op.contact = RandomContact(id, now);
        op.contact.enqueue_time = absl::InfinitePast();  // Ignored anyway.
        if (Chance(0.08)) SpoilContact(&op.contact, now, {});
        break;
      }
      case OpKind::kAdvanceClock: {
        const double r = Uniform01();
        if (mix_.backward_clock && r < 0.04) {
          op.step = -absl::Nanoseconds(Uniform64(1'000'000, 5'000'000'000));
        } else if (r < 0.18) {
          op.step = absl::ZeroDuration();
        } else if (r < 0.38) {
          op.step = absl::Nanoseconds(Uniform64(1, 999'999));
        } else if (r < 0.55) {
          op.step = absl::Milliseconds(1);
        } else if (r < 0.85) {
          op.step = absl::Seconds(Uniform(1, 10));
          if (Chance(0.3))
            op.step += absl::Nanoseconds(Uniform64(1, 999'999'999));
        } else {
          op.step = absl::Seconds(40);
        }
        break;
      }
      case OpKind::kAdvanceQueues:
        break;
      case OpKind::kSetRules:
        op.rules = Uniform(0, static_cast<int>(Rules().size()) - 1);
        break;
    }
    return op;
  }

 private:
  int Uniform(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  int64_t Uniform64(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  double Uniform01() {
    return std::uniform_real_distribution<double>(0, 1)(rng_);
  }
  bool Chance(double p) { return Uniform01() < p; }
  template <typename T>
  const T& OneOf(const std::vector<T>& v) {
    return v[Uniform(0, static_cast<int>(v.size()) - 1)];
  }

  AgentProfile RandomProfile(const std::string& id) {
    AgentProfile p;
    p.id = id;
    for (const std::string& s : skills_) {
      if (Chance(0.65)) p.skills.push_back({s, Uniform(1, 5)});
    }
    for (const char* l : {"en", "es"}) {
      if (Chance(0.6)) p.languages.push_back({l, Uniform(1, 5)});
    }
    if (p.languages.empty() && Chance(0.8)) {
      p.languages.push_back({Chance(0.5) ? "en" : "es", Uniform(1, 5)});
    }
    p.SetCapacity(Channel::kVoice, Uniform(0, 2));
    p.SetCapacity(Channel::kChat, Uniform(0, 2));
    if (p.CapacityOf(Channel::kVoice) + p.CapacityOf(Channel::kChat) == 0) {
      p.SetCapacity(Channel::kVoice, 1);
    }
    if (Chance(0.2)) p.max_total_contacts = 1;
    return p;
  }

  // One thing wrong with the profile.
  void SpoilProfile(AgentProfile* p, bool allow_empty_id) {
    switch (Uniform(0, allow_empty_id ? 6 : 5)) {
      case 0:
        p->skills.push_back({"spoilt", Chance(0.5) ? 0 : 6});
        break;
      case 1:
        p->languages.push_back({"fr", 6});
        break;
      case 2:
        p->SetCapacity(Channel::kVoice, 0);
        p->SetCapacity(Channel::kChat, 0);
        p->max_total_contacts = 0;
        break;
      case 3:
        p->SetCapacity(Channel::kChat, kMaxChannelCapacity + 1);
        break;
      case 4:
        p->skills.push_back({skills_[0], 2});
        p->skills.push_back({skills_[0], 3});
        break;
      case 5:
        p->max_total_contacts = 5;  // Above the capacities (at most 4).
        break;
      default:
        p->id = "";
        break;
    }
  }

  Contact RandomContact(const std::string& id, absl::Time now) {
    Contact c;
    c.id = id;
    c.channel = Chance(0.5) ? Channel::kVoice : Channel::kChat;
    const double r = Uniform01();
    const int required = r < 0.3 ? 0 : r < 0.8 ? 1 : 2;
    std::vector<std::string> skills = skills_;
    std::shuffle(skills.begin(), skills.end(), rng_);
    for (int i = 0; i < required; ++i) {
      c.required_skills.push_back(
          {skills[i], Chance(0.8) ? Uniform(1, 3) : Uniform(4, 5)});
    }
    if (Chance(0.15)) {
      c.desired_skills.push_back(
          {Chance(0.8) ? skills.back() : "unheard-of", Uniform(1, 4)});
    }
    static const std::vector<std::vector<std::string>> kLanguageChoices = {
        {},           {},           {},           {"en"},      {"es"},
        {"es", "en"}, {"en", "es"}, {"xx", "en"}, {"xx", "es"}};
    c.languages = OneOf(kLanguageChoices);
    if (mix_.priorities && Chance(0.5)) c.priority = Uniform(0, kMaxPriority);
    if (!Chance(0.4)) c.queue = OneOf(queues_);
    if (Chance(0.5)) c.customer_id = absl::StrCat("c", Uniform(0, 2));
    if (Chance(0.15)) c.excluded_agents = {OneOf(agent_ids_)};
    if (Chance(0.15)) c.preferred_agents = {OneOf(agent_ids_)};
    if (mix_.past_enqueue && Chance(0.2)) {
      c.enqueue_time = now - absl::Nanoseconds(Uniform64(0, 60'000'000'000));
    }
    return c;
  }

  // One thing wrong with the contact (or an id already held).
  void SpoilContact(Contact* c, absl::Time now,
                    const std::vector<std::string>& held) {
    switch (Uniform(0, 10)) {
      case 0:
        c->required_skills.push_back({"spoilt", Chance(0.5) ? 0 : 6});
        break;
      case 1:
        c->priority = Chance(0.5) ? -1 : kMaxPriority + 1;
        break;
      case 2:
        c->id = "";
        break;
      case 3:
        c->required_skills = {{"nosuchskill", 1}};
        break;
      case 4:
        c->languages = {"xx"};
        break;
      case 5:
        c->languages = {""};
        break;
      case 6:
        c->enqueue_time = now + absl::Seconds(1);
        break;
      case 7:
        c->enqueue_time = now - absl::Hours(24 * 31);
        break;
      case 8:
        if (!held.empty()) c->id = OneOf(held);
        break;
      case 9:
        c->excluded_agents = {""};
        break;
      default:
        c->required_skills = {{skills_[0], 1}, {skills_[0], 2}};
        break;
    }
  }

  std::mt19937_64 rng_;
  const Mix mix_;
  absl::Time last_route_ = absl::InfinitePast();
  std::vector<std::string> agent_ids_;
  std::vector<std::string> skills_;
  std::vector<std::string> queues_;
  std::vector<std::string> contact_ids_;
};

// --- Running one seed --------------------------------------------------------

// What one side answered to one operation.
struct Answer {
  absl::Status status;
  std::optional<RoutingDecision> decision;
  std::optional<int64_t> number;  // AdvanceQueues' count, SetRules' version.
  Pairs heard;                    // Assignments the listener heard.
};

std::string DecisionText(const RoutingDecision& d) {
  if (d.outcome == DecisionOutcome::kAssigned) {
    return absl::StrCat("assigned to ", d.agent_id);
  }
  return absl::StrCat("queued in ", d.queue, " at ", d.queue_position);
}

std::string HeardText(const Pairs& heard) {
  return absl::StrJoin(heard, " ", [](std::string* out, const auto& p) {
    absl::StrAppend(out, p.first, "->", p.second);
  });
}

std::string AnswerText(const Answer& a) {
  std::string out;
  if (!a.status.ok()) {
    out = std::string(absl::StatusCodeToString(a.status.code()));
  } else if (a.decision.has_value()) {
    out = DecisionText(*a.decision);
  } else if (a.number.has_value()) {
    out = absl::StrCat("ok ", *a.number);
  } else {
    out = "ok";
  }
  if (!a.heard.empty()) absl::StrAppend(&out, "; heard ", HeardText(a.heard));
  return out;
}

struct Mismatch {
  uint64_t seed = 0;
  int op = 0;
  std::string category;  // What disagreed, for the summary.
  std::string message;
  std::string log;  // Every operation up to and including the mismatch.
};

class DifferentialRun {
 public:
  DifferentialRun(uint64_t seed, const Mix& mix,
                  ReferenceRouter::Mutation mutation)
      : seed_(seed),
        mix_(mix),
        clock_(kStart),
        generator_(seed, mix),
        model_(&clock_, ModelOptions(mutation)) {
    RouterOptions options;
    options.clock = &clock_;
    options.listener = &listener_;
    // Small fixed sizes: a router per seed, thousands of seeds.
    options.max_agents = 64;
    options.max_skills = 16;
    options.max_languages = 16;
    options.max_queues = 32;
    options.max_contacts = 64;
    options.history_customers = 64;
    options.history_depth = 4;
    router_ = Router::Create(options).value();
  }

  // `ops` random operations.
  std::optional<Mismatch> Run(int ops) {
    for (int i = 0; i < ops; ++i) {
      std::optional<Mismatch> m =
          Apply(generator_.Next(model_, clock_.Now(), i), i);
      if (m.has_value()) return m;
    }
    return std::nullopt;
  }

  // Operations written by hand.
  std::optional<Mismatch> RunScript(const std::vector<Op>& ops) {
    for (size_t i = 0; i < ops.size(); ++i) {
      std::optional<Mismatch> m = Apply(ops[i], static_cast<int>(i));
      if (m.has_value()) return m;
    }
    return std::nullopt;
  }

  int near_ties_followed() const { return model_.near_ties_followed(); }
  const std::string& log() const { return log_; }

 private:
  std::optional<Mismatch> Apply(const Op& op, int i) {
    {
      agents_seen_.insert(op.profile.id);
      agents_seen_.insert(op.id);
      contacts_seen_.insert(op.contact.id);
      contacts_seen_.insert(op.id);
    }
    const Answer theirs = ApplyToRouter(op);
    ReferenceRouter::Observed observed;
    if (theirs.decision.has_value() &&
        theirs.decision->outcome == DecisionOutcome::kAssigned) {
      observed.decision_agent = theirs.decision->agent_id;
    }
    observed.assignments = theirs.heard;
    model_.Observe(std::move(observed));
    const Answer ours = ApplyToModel(op);
    absl::StrAppend(&log_, "  #", i, " ", TimeText(clock_.Now()), " ",
                    Describe(op), "\n");
    const std::string router_text = AnswerText(theirs);
    const std::string model_text = AnswerText(ours);
    if (router_text == model_text) {
      absl::StrAppend(&log_, "      -> ", router_text, "\n");
    } else {
      absl::StrAppend(&log_, "      router: ", router_text, "\n",
                      "      model:  ", model_text, "\n");
    }
    std::optional<std::pair<std::string, std::string>> diff =
        CompareAnswers(op, theirs, ours);
    if (!diff.has_value() && op.kind != OpKind::kAdvanceClock) {
      diff = CompareState(OpName(op));
    }
    if (diff.has_value()) {
      Mismatch m;
      m.seed = seed_;
      m.op = i;
      m.category = diff->first;
      m.message = diff->second;
      m.log = log_;
      return m;
    }
    return std::nullopt;
  }

  static ReferenceRouter::Options ModelOptions(
      ReferenceRouter::Mutation mutation) {
    ReferenceRouter::Options options;
    options.history_depth = 4;
    options.mutation = mutation;
    return options;
  }

  Answer ApplyToRouter(const Op& op) {
    Answer a;
    switch (op.kind) {
      case OpKind::kAddAgent:
        a.status = router_->AddAgent(op.profile);
        break;
      case OpKind::kUpdateAgent:
        a.status = router_->UpdateAgent(op.profile);
        break;
      case OpKind::kRemoveAgent:
        a.status = router_->RemoveAgent(op.id);
        break;
      case OpKind::kSetAgentState:
        a.status = router_->SetAgentState(op.id, op.state);
        break;
      case OpKind::kRoute:
      case OpKind::kRequeue: {
        absl::StatusOr<RoutingDecision> d = op.kind == OpKind::kRoute
                                                ? router_->Route(op.contact)
                                                : router_->Requeue(op.contact);
        a.status = d.status();
        if (d.ok()) a.decision = *std::move(d);
        break;
      }
      case OpKind::kCancel:
        a.status = router_->Cancel(op.id);
        break;
      case OpKind::kRelease:
        a.status = router_->Release(op.id, op.outcome);
        break;
      case OpKind::kAdvanceClock:
        clock_.Advance(op.step);
        break;
      case OpKind::kAdvanceQueues:
        a.number = router_->AdvanceQueues();
        break;
      case OpKind::kSetRules:
        a.number =
            static_cast<int64_t>(router_->SetRules(Rules()[op.rules].router));
        break;
    }
    for (const Assignment& heard : listener_.Take()) {
      a.heard.emplace_back(heard.contact_id, heard.agent_id);
    }
    return a;
  }

  Answer ApplyToModel(const Op& op) {
    Answer a;
    switch (op.kind) {
      case OpKind::kAddAgent:
        a.status = model_.AddAgent(op.profile);
        break;
      case OpKind::kUpdateAgent:
        a.status = model_.UpdateAgent(op.profile);
        break;
      case OpKind::kRemoveAgent:
        a.status = model_.RemoveAgent(op.id);
        break;
      case OpKind::kSetAgentState:
        a.status = model_.SetAgentState(op.id, op.state);
        break;
      case OpKind::kRoute:
      case OpKind::kRequeue: {
        absl::StatusOr<RoutingDecision> d = op.kind == OpKind::kRoute
                                                ? model_.Route(op.contact)
                                                : model_.Requeue(op.contact);
        a.status = d.status();
        if (d.ok()) a.decision = *std::move(d);
        break;
      }
      case OpKind::kCancel:
        a.status = model_.Cancel(op.id);
        break;
      case OpKind::kRelease:
        a.status = model_.Release(op.id, op.outcome);
        break;
      case OpKind::kAdvanceClock:
        break;
      case OpKind::kAdvanceQueues:
        a.number = model_.AdvanceQueues();
        break;
      case OpKind::kSetRules:
        a.number =
            static_cast<int64_t>(model_.SetRules(Rules()[op.rules].model));
        break;
    }
    a.heard = model_.TakeAssignments();
    return a;
  }

  using Diff = std::pair<std::string, std::string>;  // (category, message)

  static std::string OpName(const Op& op) {
    const std::string text = Describe(op);
    return text.substr(0, text.find(' '));
  }

  std::optional<Diff> CompareAnswers(const Op& op, const Answer& theirs,
                                     const Answer& ours) const {
    const std::string name = OpName(op);
    if (theirs.status.code() != ours.status.code()) {
      return Diff{absl::StrCat(name, ": status code ",
                               absl::StatusCodeToString(theirs.status.code()),
                               " vs model ",
                               absl::StatusCodeToString(ours.status.code())),
                  absl::StrCat("router returned ", theirs.status.ToString(),
                               "; model returned ", ours.status.ToString())};
    }
    if (theirs.decision.has_value() && ours.decision.has_value()) {
      const RoutingDecision& r = *theirs.decision;
      const RoutingDecision& m = *ours.decision;
      const std::string what = absl::StrCat("router: ", DecisionText(r),
                                            "; model: ", DecisionText(m));
      if (r.outcome != m.outcome) {
        return Diff{absl::StrCat(name, ": outcome"), what};
      }
      if (r.outcome == DecisionOutcome::kAssigned && r.agent_id != m.agent_id) {
        std::string why = absl::StrCat(what, "\n      router's score ",
                                       absl::StrFormat("%.17g", r.score), ":");
        for (const ScoreComponent& c : r.components) {
          absl::StrAppendFormat(&why, " %s %.6g", c.name, c.value);
        }
        absl::StrAppend(&why, "\n      model's ", model_.last_choice());
        return Diff{absl::StrCat(name, ": agent"), why};
      }
      if (r.outcome == DecisionOutcome::kQueued) {
        if (r.queue != m.queue)
          return Diff{absl::StrCat(name, ": queue"), what};
        if (r.queue_position != m.queue_position) {
          return Diff{absl::StrCat(name, ": queue_position"), what};
        }
      }
    }
    if (theirs.number != ours.number) {
      return Diff{absl::StrCat(name, ": returned count/version"),
                  absl::StrCat("router: ", theirs.number.value_or(-1),
                               "; model: ", ours.number.value_or(-1))};
    }
    if (theirs.heard != ours.heard) {
      return Diff{absl::StrCat(name, ": assignments heard"),
                  absl::StrCat("router heard [", HeardText(theirs.heard),
                               "]; model [", HeardText(ours.heard), "]")};
    }
    return std::nullopt;
  }

  std::optional<Diff> CompareState(const std::string& after) const {
    std::optional<Diff> diff = CompareState();
    if (diff.has_value()) diff->first = absl::StrCat(after, ": ", diff->first);
    return diff;
  }

  std::optional<Diff> CompareState() const {
    std::vector<std::string> theirs = router_->AgentIds();
    std::vector<std::string> ours = model_.AgentIds();
    std::sort(theirs.begin(), theirs.end());
    std::sort(ours.begin(), ours.end());
    if (theirs != ours) {
      return Diff{"state: roster",
                  absl::StrCat("router [", absl::StrJoin(theirs, ","),
                               "]; model [", absl::StrJoin(ours, ","), "]")};
    }
    for (const std::string& id : agents_seen_) {
      absl::StatusOr<AgentStatus> r = router_->GetAgent(id);
      std::optional<ReferenceRouter::AgentView> m = model_.GetAgent(id);
      if (r.ok() != m.has_value()) {
        return Diff{
            "state: agent presence",
            absl::StrCat("agent ", id, ": router ", r.status().ToString(),
                         "; model ", m.has_value() ? "present" : "absent")};
      }
      if (!m.has_value()) continue;
      if (r->state != m->state) {
        return Diff{
            "state: agent state",
            absl::StrCat("agent ", id, ": router ",
                         std::string(AgentStateName(r->state)), "; model ",
                         std::string(AgentStateName(m->state)))};
      }
      if (r->load != m->load) {
        return Diff{"state: agent load",
                    absl::StrCat("agent ", id, ": router voice/chat load ",
                                 r->load[0], "/", r->load[1], "; model ",
                                 m->load[0], "/", m->load[1])};
      }
    }
    for (const std::string& id : contacts_seen_) {
      absl::StatusOr<ContactStatus> r = router_->GetContact(id);
      std::optional<ReferenceRouter::ContactView> m = model_.GetContact(id);
      if (r.ok() != m.has_value()) {
        return Diff{
            "state: contact held",
            absl::StrCat("contact ", id, ": router ",
                         r.ok() ? "holds it" : r.status().ToString(),
                         "; model ", m.has_value() ? "holds it" : "does not")};
      }
      if (!m.has_value()) continue;
      const bool r_assigned = r->state == ContactStatus::State::kAssigned;
      const bool m_assigned = m->state == ReferenceRouter::HeldState::kAssigned;
      const std::string r_text =
          r_assigned ? absl::StrCat("assigned to ", r->agent_id)
                     : absl::StrCat("queued in ", r->contact.queue);
      const std::string m_text = m_assigned
                                     ? absl::StrCat("assigned to ", m->agent_id)
                                     : absl::StrCat("queued in ", m->queue);
      if (r_assigned != m_assigned ||
          (r_assigned && r->agent_id != m->agent_id) ||
          r->contact.queue != m->queue) {
        return Diff{"state: contact", absl::StrCat("contact ", id, ": router ",
                                                   r_text, "; model ", m_text)};
      }
    }
    return std::nullopt;
  }

  const uint64_t seed_;
  const Mix mix_;
  ManualClock clock_;
  RecordingListener listener_;
  OpGenerator generator_;
  ReferenceRouter model_;
  std::unique_ptr<Router> router_;
  std::string log_;
  // Every id an operation named (including "" and unknown ones): the state
  // comparison asks both sides about each.
  std::set<std::string> agents_seen_;
  std::set<std::string> contacts_seen_;
};

// --- Seeds -------------------------------------------------------------------

struct Summary {
  int seeds = 0;
  int near_ties = 0;
  std::vector<Mismatch> mismatches;
};

Summary RunSeeds(const Mix& mix, uint64_t first, int64_t count, int ops) {
  Summary summary;
  for (int64_t i = 0; i < count; ++i) {
    DifferentialRun run(first + static_cast<uint64_t>(i), mix,
                        ReferenceRouter::Mutation::kNone);
    std::optional<Mismatch> m = run.Run(ops);
    if (Verbose()) std::cout << "seed " << first + i << ":\n" << run.log();
    ++summary.seeds;
    summary.near_ties += run.near_ties_followed();
    if (m.has_value()) summary.mismatches.push_back(*std::move(m));
  }
  return summary;
}

std::string Replay(const char* test, uint64_t seed) {
  std::string out = absl::StrCat(
      "bazel test //tests/routing:router_model_test --test_filter=", test,
      " --test_env=ROUTER_MODEL_FIRST_SEED=", seed,
      " --test_env=ROUTER_MODEL_SEEDS=1");
  for (const char* env : {"ROUTER_MODEL_OPS", "ROUTER_MODEL_WITHOUT"}) {
    if (const char* value = std::getenv(env)) {
      absl::StrAppend(&out, " --test_env=", env, "=", value);
    }
  }
  return out;
}

// Prints, per category, the mismatch with the shortest log, then a table of
// categories with their counts and first seeds.
std::string Report(const char* test, const Mix& mix, const Summary& s) {
  std::map<std::string, std::vector<const Mismatch*>> by_category;
  for (const Mismatch& m : s.mismatches) by_category[m.category].push_back(&m);
  std::string out = absl::StrCat(
      s.mismatches.size(), " of ", s.seeds, " seeds of the ", mix.name,
      " mix disagree with the model, in ", by_category.size(), " ways:\n");
  for (const auto& [category, list] : by_category) {
    std::vector<uint64_t> seeds;
    for (const Mismatch* m : list) {
      if (seeds.size() < 8) seeds.push_back(m->seed);
    }
    absl::StrAppend(&out, "  ", list.size(), " x ", category, " (seeds ",
                    absl::StrJoin(seeds, ","), list.size() > 8 ? ",..." : "",
                    ")\n");
  }
  for (const auto& [category, list] : by_category) {
    const Mismatch* shortest = *std::min_element(
        list.begin(), list.end(),
        [](const Mismatch* x, const Mismatch* y) { return x->op < y->op; });
    absl::StrAppend(&out, "\n=== ", category, ": seed ", shortest->seed,
                    " at operation #", shortest->op, "\n", shortest->message,
                    "\nreplay: ", Replay(test, shortest->seed),
                    "\noperation log:\n", shortest->log);
  }
  return out;
}

// Seeds per mix in CI: 3000 take about 2 s in an optimized build. Under
// AddressSanitizer (CI's third pass) every seed costs 10-20 times as much, and
// the optimized pass has covered the seeds: fewer suffice to look for memory
// errors.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int64_t kDefaultSeeds = 500;
#else
constexpr int64_t kDefaultSeeds = 3000;
#endif

struct SeedRange {
  uint64_t first;
  int64_t count;
  int ops;
};

SeedRange Seeds(int64_t default_count) {
  return {static_cast<uint64_t>(EnvInt("ROUTER_MODEL_FIRST_SEED", 1)),
          EnvInt("ROUTER_MODEL_SEEDS", default_count),
          static_cast<int>(EnvInt("ROUTER_MODEL_OPS", 60))};
}

// ROUTER_MODEL_WITHOUT=priorities,past_enqueue,requeue,rules,backward_clock,
// simultaneous_arrivals,double_faults turns features of a mix off, to see
// what else disagrees once a known difference is out of the way.
Mix Without(Mix mix) {
  const char* value = std::getenv("ROUTER_MODEL_WITHOUT");
  if (value == nullptr) return mix;
  const std::pair<const char*, bool Mix::*> features[] = {
      {"priorities", &Mix::priorities},
      {"past_enqueue", &Mix::past_enqueue},
      {"requeue", &Mix::requeue},
      {"rules", &Mix::rules},
      {"backward_clock", &Mix::backward_clock},
      {"simultaneous_arrivals", &Mix::simultaneous_arrivals},
      {"double_faults", &Mix::double_faults},
  };
  for (absl::string_view name : absl::StrSplit(value, ',', absl::SkipEmpty())) {
    bool known = false;
    for (const auto& [feature, flag] : features) {
      if (name == feature) {
        mix.*flag = false;
        known = true;
      }
    }
    if (!known)
      ADD_FAILURE() << "ROUTER_MODEL_WITHOUT: unknown feature " << name;
  }
  return mix;
}

void RunMix(const char* test, Mix mix, int64_t default_count) {
  mix = Without(mix);
  const SeedRange range = Seeds(default_count);
  const absl::Time started = absl::Now();
  const Summary s = RunSeeds(mix, range.first, range.count, range.ops);
  std::cout << mix.name << " mix: " << s.seeds << " seeds x " << range.ops
            << " operations from seed " << range.first << " in "
            << absl::FormatDuration(
                   absl::Trunc(absl::Now() - started, absl::Milliseconds(1)))
            << "; " << s.near_ties
            << " floating-point near-ties followed the router\n";
  EXPECT_TRUE(s.mismatches.empty()) << Report(test, mix, s);
}

class RouterModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { compiled_rules = CompileAllRules(); }
  static void TearDownTestSuite() {
    delete compiled_rules;
    compiled_rules = nullptr;
  }
};

TEST_F(RouterModelTest, SanityMix) {
  RunMix("RouterModelTest.SanityMix", kSanityMix, kDefaultSeeds);
}

TEST_F(RouterModelTest, FullMix) {
  RunMix("RouterModelTest.FullMix", kFullMix, kDefaultSeeds);
}

// Spec points that random sequences reach too rarely to rely on, as short
// scripts through the same comparison.
Op AddAgentOp(const std::string& id, int billing) {
  Op op;
  op.kind = OpKind::kAddAgent;
  op.profile.id = id;
  op.profile.skills = {{"billing", billing}};
  op.profile.languages = {{"en", 5}};
  op.profile.SetCapacity(Channel::kVoice, 1);
  return op;
}

Op AvailableOp(const std::string& id) {
  Op op;
  op.kind = OpKind::kSetAgentState;
  op.id = id;
  op.state = AgentState::kAvailable;
  return op;
}

Op RouteOp(const std::string& id, std::vector<SkillRequirement> skills,
           std::vector<std::string> excluded = {}) {
  Op op;
  op.kind = OpKind::kRoute;
  op.contact.id = id;
  op.contact.required_skills = std::move(skills);
  op.contact.excluded_agents = std::move(excluded);
  return op;
}

TEST_F(RouterModelTest, ScriptedScenarios) {
  const std::pair<const char*, std::vector<Op>> scenarios[] = {
      // Two agents alike in every way: the tie goes to the lower agent
      // index, the order of the first successful AddAgent. A refused add
      // takes no index.
      {"a refused AddAgent interns nothing",
       {AddAgentOp("a1", 6), AddAgentOp("a0", 3), AddAgentOp("a1", 3),
        AvailableOp("a0"), AvailableOp("a1"), RouteOp("k0", {{"billing", 1}})}},
      // Nor does naming an agent in a contact's exclusions (this contact is
      // refused: nobody is on the roster yet).
      {"an excluded id takes no index",
       {RouteOp("k0", {}, {"a1"}), AddAgentOp("a0", 3), AddAgentOp("a1", 3),
        AvailableOp("a0"), AvailableOp("a1"), RouteOp("k1", {{"billing", 1}})}},
  };
  for (const auto& [name, ops] : scenarios) {
    DifferentialRun run(0, kFullMix, ReferenceRouter::Mutation::kNone);
    std::optional<Mismatch> m = run.RunScript(ops);
    if (Verbose()) std::cout << name << ":\n" << run.log();
    if (m.has_value()) {
      ADD_FAILURE() << "scenario '" << name << "': " << m->category << "\n"
                    << m->message << "\noperation log:\n"
                    << m->log;
    }
  }
}

// The harness must be able to fail: a model with one rule wrong disagrees
// with the router on the sanity mix within a few hundred seeds.
TEST_F(RouterModelTest, HarnessCatchesAWrongModel) {
  const std::pair<ReferenceRouter::Mutation, const char*> mutations[] = {
      {ReferenceRouter::Mutation::kDrainNewestFirst, "drain newest first"},
      {ReferenceRouter::Mutation::kIgnoreMaxTotal, "ignore max_total_contacts"},
      {ReferenceRouter::Mutation::kNoLoadScore, "no load in the score"},
      {ReferenceRouter::Mutation::kNoLanguageRank, "no language preference"},
      {ReferenceRouter::Mutation::kHighestIndexWinsTies,
       "ties to the highest agent index"},
  };
  // Only seeds on which the right model agrees with the router count, so the
  // check holds whatever else the router gets wrong.
  constexpr int kSeeds = 500;
  for (const auto& [mutation, name] : mutations) {
    std::optional<Mismatch> caught;
    int agreeing = 0;
    for (uint64_t seed = 1; seed <= kSeeds && !caught.has_value(); ++seed) {
      if (DifferentialRun(seed, kSanityMix, ReferenceRouter::Mutation::kNone)
              .Run(60)
              .has_value()) {
        continue;
      }
      ++agreeing;
      caught = DifferentialRun(seed, kSanityMix, mutation).Run(60);
    }
    ASSERT_TRUE(caught.has_value())
        << "a model that does '" << name << "' agreed with the router on all "
        << agreeing << " seeds (of " << kSeeds
        << ") where the right model does";
    std::cout << "wrong model rule '" << name << "' caught at seed "
              << caught->seed << ": " << caught->category << "\n";
  }
}

}  // namespace
}  // namespace routing
