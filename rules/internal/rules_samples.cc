#include "rules/internal/rules_samples.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "routing/channel.h"

namespace rules::internal {

namespace {

constexpr int kTries = 3;
// Warnings kept: one per distinct message is plenty for an operator.
constexpr size_t kMaxWarnings = 10;

// Names of the skills and languages the samples use, interned in order.
class SampleNames final : public routing::RulesNames {
 public:
  int Intern(absl::flat_hash_map<std::string, int>& table,
             const std::string& name) {
    auto [it, fresh] = table.emplace(name, static_cast<int>(table.size()));
    return it->second;
  }
  int Skill(const std::string& name) { return Intern(skills_, name); }
  int Language(const std::string& tag) { return Intern(languages_, tag); }
  int SkillId(std::string_view name) const override {
    auto it = skills_.find(std::string(name));
    return it == skills_.end() ? -1 : it->second;
  }
  int LanguageId(std::string_view tag) const override {
    auto it = languages_.find(std::string(tag));
    return it == languages_.end() ? -1 : it->second;
  }

 private:
  absl::flat_hash_map<std::string, int> skills_;
  absl::flat_hash_map<std::string, int> languages_;
};

struct SampleAgent {
  routing::AgentProfile profile;
  std::vector<std::pair<int, int>> skills;
  std::vector<std::pair<int, int>> languages;
  std::array<int, routing::kChannelCount> load = {};
  double occupancy = 0;
  double idle_seconds = 0;
  bool history = false;
  bool preferred = false;
};

struct SampleContact {
  routing::Contact contact;
  double waited_seconds = 0;
  std::string label;  // "a chat contact with empty fields", "test 'x'"
};

SampleAgent MakeAgent(routing::AgentProfile profile, SampleNames& names) {
  SampleAgent agent;
  for (const routing::AgentSkill& s : profile.skills) {
    agent.skills.emplace_back(names.Skill(s.skill), s.level);
  }
  for (const routing::AgentLanguage& l : profile.languages) {
    agent.languages.emplace_back(names.Language(l.language), l.fluency);
  }
  std::sort(agent.skills.begin(), agent.skills.end());
  std::sort(agent.languages.begin(), agent.languages.end());
  agent.profile = std::move(profile);
  return agent;
}

routing::RulesCandidate Describe(const SampleAgent& agent) {
  routing::RulesCandidate c;
  c.profile = &agent.profile;
  c.skills = agent.skills.data();
  c.skill_count = static_cast<int>(agent.skills.size());
  c.languages = agent.languages.data();
  c.language_count = static_cast<int>(agent.languages.size());
  c.load = agent.load;
  c.capacity = agent.profile.capacity;
  c.max_total = agent.profile.max_total_contacts;
  c.occupancy = agent.occupancy;
  c.idle_seconds = agent.idle_seconds;
  const double busy =
      std::min(1.0, static_cast<double>(agent.load[0] + agent.load[1]) / 4);
  c.components = {agent.skills.empty() ? 0.0 : 0.8,
                  agent.history ? 1.0 : 0.0,
                  agent.languages.empty() ? 0.0 : 1.0,
                  1.0 - busy,
                  1.0 - agent.occupancy,
                  std::min(1.0, agent.idle_seconds / 600)};
  c.builtin_score = 0;
  for (double v : c.components) c.builtin_score += v / 6;
  c.served_before = agent.history;
  c.resolved_before = agent.history;
  c.preferred = agent.preferred;
  c.score = c.builtin_score;
  return c;
}

}  // namespace

void RunRulesSamples(LuaRulesState& state,
                     const std::vector<RulesTestCase>& tests,
                     bool has_evaluation, bool has_priority,
                     const std::string& file_name,
                     std::vector<RulesProblem>* problems,
                     std::vector<std::string>* warnings) {
  if (!has_evaluation && !has_priority) return;
  SampleNames names;
  std::vector<SampleAgent> agents;
  std::vector<SampleContact> contacts;

  // Synthetic agents: one with nothing set, one with everything.
  {
    routing::AgentProfile empty;
    agents.push_back(MakeAgent(std::move(empty), names));
    routing::AgentProfile full;
    full.id = "sample-agent";
    full.team = "sample-team";
    full.site = "sample-site";
    full.skills = {{"sample-skill", 3}};
    full.languages = {{"en", 5}};
    full.capacity.fill(2);
    full.max_total_contacts = 3;
    full.attributes["tier"] = "gold";
    SampleAgent agent = MakeAgent(std::move(full), names);
    agent.load[0] = 1;
    agent.occupancy = 0.75;
    agent.idle_seconds = 0;
    agent.history = true;
    agent.preferred = true;
    agents.push_back(std::move(agent));
    routing::AgentProfile idle = agents.back().profile;
    idle.id = "sample-idle-agent";
    SampleAgent idle_agent = MakeAgent(std::move(idle), names);
    idle_agent.idle_seconds = 3600;
    agents.push_back(std::move(idle_agent));
  }
  // Synthetic contacts: every channel, empty and filled, fresh and old.
  for (routing::Channel channel : routing::kAllChannels) {
    const std::string name(routing::ChannelName(channel));
    SampleContact empty;
    empty.contact.channel = channel;
    empty.label = absl::StrCat("a ", name, " contact with empty fields");
    contacts.push_back(std::move(empty));
    SampleContact full;
    full.contact.id = "sample-contact";
    full.contact.channel = channel;
    full.contact.queue = "sample-queue";
    full.contact.customer_id = "sample-customer";
    full.contact.languages = {"en", "es"};
    full.contact.required_skills = {{"sample-skill", 2}};
    full.contact.priority = 5;
    full.contact.preferred_agents = {"sample-agent"};
    full.contact.attributes["tier"] = "gold";
    full.waited_seconds = 3600;
    full.label = absl::StrCat("a ", name, " contact waiting an hour");
    contacts.push_back(std::move(full));
  }
  // The file's own tests.
  for (const RulesTestCase& test : tests) {
    SampleContact c;
    c.contact = test.contact;
    c.waited_seconds = test.waited_seconds;
    c.label = absl::StrCat("the contact of test '", test.name, "'");
    contacts.push_back(std::move(c));
    for (const RulesTestCase::TestAgent& a : test.agents) {
      SampleAgent agent = MakeAgent(a.profile, names);
      agent.load = a.load;
      agent.idle_seconds = a.idle_seconds;
      agents.push_back(std::move(agent));
    }
  }
  for (const SampleContact& c : contacts) {
    for (const routing::SkillRequirement& r : c.contact.required_skills) {
      names.Skill(r.skill);
    }
    for (const std::string& l : c.contact.languages) names.Language(l);
  }

  std::vector<routing::RulesCandidate> candidates;
  absl::flat_hash_set<std::string> seen_warnings;
  // One warning per distinct error, naming the first sample it met; errors
  // without a location (e.g. "not enough memory") get the file's name.
  auto warn = [&](const std::string& error, const std::string& label) {
    if (warnings->size() >= kMaxWarnings || !seen_warnings.insert(error).second) {
      return;
    }
    warnings->push_back(absl::StrCat(
        absl::StartsWith(error, file_name + ":") ? "" : file_name + ": ",
        error, " (first on ", label, ")"));
  };
  // Runs `call` up to kTries times while it overruns; refuses on the last.
  auto run = [&](const SampleContact& sample, auto call) {
    for (int attempt = 1; attempt <= kTries; ++attempt) {
      std::string error;
      if (call(&error)) return true;
      if (!state.overran()) {
        warn(error, sample.label);
        return true;
      }
      if (attempt == kTries) {
        problems->push_back(
            {file_name, state.overrun_line(),
             absl::StrCat(state.overrun_hook(),
                          " did not finish within the evaluation budget on ",
                          sample.label,
                          "; stopped here. Hooks must finish in every case "
                          "(docs/RULES.md, \"Termination\")")});
        return false;
      }
    }
    return true;
  };
  for (const SampleContact& sample : contacts) {
    routing::RulesContact view;
    view.contact = &sample.contact;
    view.channel = routing::ChannelIndex(sample.contact.channel);
    view.priority = sample.contact.priority;
    view.waited_seconds = sample.waited_seconds;
    if (has_evaluation) {
      const bool ok = run(sample, [&](std::string* error) {
        candidates.clear();
        for (const SampleAgent& a : agents) candidates.push_back(Describe(a));
        return state.Evaluate(view, candidates.data(),
                              static_cast<int>(candidates.size()), names,
                              error);
      });
      if (!ok) return;
    }
    if (has_priority) {
      const bool ok = run(sample, [&](std::string* error) {
        int priority = 0;
        return state.Priority(sample.contact, sample.waited_seconds, &priority,
                              error);
      });
      if (!ok) return;
    }
  }
}

}  // namespace rules::internal
