#include "bench/simulator/scenario.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"

namespace routing::simulator {
namespace {

absl::Status Invalid(const std::string& where, const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", problem));
}

absl::Status ValidateStream(const ContactStream& s) {
  const std::string where = absl::StrCat("stream '", s.name, "'");
  if (s.name.empty()) return Invalid("stream", "has no name");
  if (s.skill.empty()) return Invalid(where, "names no skill");
  if (s.contacts_per_hour <= 0) {
    return Invalid(where,
                   absl::StrCat("contacts_per_hour ", s.contacts_per_hour,
                                " must be positive"));
  }
  if (s.handle.mean_seconds <= 0) {
    return Invalid(where, "handle time mean must be positive");
  }
  if (s.handle.distribution == HandleTime::Distribution::kLogNormal &&
      (s.handle.sigma <= 0 || s.handle.sigma > 4)) {
    return Invalid(where, absl::StrCat("log-normal sigma ", s.handle.sigma,
                                       " is outside (0, 4]"));
  }
  if (s.patience_mean_seconds < 0) {
    return Invalid(where, "patience_mean_seconds is negative");
  }
  if (s.returning_share < 0 || s.returning_share > 1) {
    return Invalid(where, "returning_share is outside 0..1");
  }
  if (s.min_level < 1 || s.target_level < s.min_level) {
    return Invalid(where, "levels must satisfy 1 <= min_level <= target_level");
  }
  for (const auto& [language, share] : s.languages) {
    if (language.empty() || share < 0) {
      return Invalid(where, "a language has no tag or a negative share");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateGroup(const AgentGroup& g) {
  const std::string where = absl::StrCat("agent group '", g.name, "'");
  if (g.name.empty()) return Invalid("agent group", "has no name");
  if (g.count < 1) return Invalid(where, "count must be at least 1");
  bool any_capacity = false;
  for (int c : g.capacity) any_capacity = any_capacity || c > 0;
  if (!any_capacity) return Invalid(where, "has no capacity on any channel");
  if (g.shift_end_hour <= g.shift_start_hour ||
      g.shift_end_hour - g.shift_start_hour > 24) {
    return Invalid(where, "shift must end after it starts, within 24 hours");
  }
  if (g.break_stagger_minutes < 0) {
    return Invalid(where, "break_stagger_minutes is negative");
  }
  const double latest_stagger_hours =
      (g.count > 1 ? std::min(g.count - 1, 3) : 0) * g.break_stagger_minutes /
      60;
  for (const ScheduledBreak& b : g.breaks) {
    if (b.minutes <= 0 || b.start_hour < g.shift_start_hour ||
        b.start_hour + latest_stagger_hours + b.minutes / 60 >
            g.shift_end_hour) {
      return Invalid(where, absl::StrCat("break at hour ", b.start_hour,
                                         " must lie inside the shift"));
    }
  }
  if (g.after_call_work_seconds < 0) {
    return Invalid(where, "after_call_work_seconds is negative");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateScenario(const Scenario& scenario) {
  if (scenario.end_hour <= scenario.start_hour) {
    return Invalid("scenario", "end_hour must be after start_hour");
  }
  if (scenario.end_hour - scenario.start_hour > 24 * 31) {
    return Invalid("scenario", "at most 31 days are simulated");
  }
  if (scenario.warmup_hours < 0 ||
      scenario.start_hour + scenario.warmup_hours >= scenario.end_hour) {
    return Invalid("scenario", "warmup_hours must leave time to report on");
  }
  for (int h = 0; h < 24; ++h) {
    if (scenario.hourly_profile[h] < 0) {
      return Invalid("scenario",
                     absl::StrCat("hourly_profile[", h, "] is negative"));
    }
  }
  if (scenario.streams.empty()) return Invalid("scenario", "has no streams");
  if (scenario.agent_groups.empty()) {
    return Invalid("scenario", "has no agent groups");
  }
  if (scenario.service_level_seconds <= 0 ||
      scenario.report_interval_minutes <= 0 ||
      scenario.rules_step_seconds <= 0) {
    return Invalid("scenario",
                   "service level, report interval and rules step must be "
                   "positive");
  }
  for (const ContactStream& s : scenario.streams) {
    if (absl::Status st = ValidateStream(s); !st.ok()) return st;
  }
  for (const AgentGroup& g : scenario.agent_groups) {
    if (absl::Status st = ValidateGroup(g); !st.ok()) return st;
  }
  return absl::OkStatus();
}

Scenario DefaultDayScenario() {
  Scenario s;
  s.name = "default day";
  s.start_hour = 7;
  s.end_hour = 22;
  s.warmup_hours = 0;
  // Quiet early, a late-morning and lunchtime peak, an early-evening bump.
  s.hourly_profile = {0,   0,   0,   0,   0,   0,   0,   0.4,
                      0.8, 1.1, 1.3, 1.3, 1.2, 1.0, 1.0, 0.9,
                      0.9, 1.0, 1.1, 0.8, 0.5, 0.3, 0,   0};
  s.seed = 20261125;

  ContactStream billing_voice;
  billing_voice.name = "voice billing";
  billing_voice.channel = Channel::kVoice;
  billing_voice.skill = "billing";
  billing_voice.min_level = 2;
  billing_voice.target_level = 3;
  billing_voice.languages = {{"en", 0.8}, {"es", 0.2}};
  billing_voice.fallback_language = "en";
  billing_voice.contacts_per_hour = 110;
  billing_voice.handle = {HandleTime::Distribution::kLogNormal, 270, 0.7};
  billing_voice.patience_mean_seconds = 180;
  billing_voice.returning_share = 0.25;

  ContactStream sales_voice = billing_voice;
  sales_voice.name = "voice sales";
  sales_voice.skill = "sales";
  sales_voice.min_level = 1;
  sales_voice.target_level = 3;
  sales_voice.languages = {{"en", 0.85}, {"es", 0.15}};
  sales_voice.contacts_per_hour = 70;
  sales_voice.handle = {HandleTime::Distribution::kLogNormal, 360, 0.8};
  sales_voice.patience_mean_seconds = 120;
  sales_voice.returning_share = 0.1;

  ContactStream tech_chat;
  tech_chat.name = "chat tech support";
  tech_chat.channel = Channel::kChat;
  tech_chat.skill = "tech_support";
  tech_chat.min_level = 2;
  tech_chat.target_level = 4;
  tech_chat.languages = {{"en", 0.9}, {"es", 0.1}};
  tech_chat.fallback_language = "en";
  tech_chat.contacts_per_hour = 90;
  tech_chat.handle = {HandleTime::Distribution::kLogNormal, 600, 0.9};
  tech_chat.patience_mean_seconds = 300;
  tech_chat.returning_share = 0.3;

  s.streams = {billing_voice, sales_voice, tech_chat};

  AgentGroup billing_early;
  billing_early.name = "billing early";
  billing_early.count = 12;
  billing_early.skills = {{"billing", 4}, {"sales", 2}};
  billing_early.languages = {{"en", 5}};
  billing_early.capacity[ChannelIndex(Channel::kVoice)] = 1;
  billing_early.shift_start_hour = 7;
  billing_early.shift_end_hour = 15;
  billing_early.breaks = {{10, 15}, {12, 30}};
  billing_early.after_call_work_seconds = 30;

  AgentGroup billing_late = billing_early;
  billing_late.name = "billing late";
  billing_late.count = 10;
  billing_late.shift_start_hour = 14;
  billing_late.shift_end_hour = 22;
  billing_late.breaks = {{17, 30}, {19.5, 15}};

  AgentGroup bilingual = billing_early;
  bilingual.name = "bilingual voice";
  bilingual.count = 4;
  bilingual.skills = {{"billing", 3}, {"sales", 4}};
  bilingual.languages = {{"es", 5}, {"en", 4}};
  bilingual.shift_start_hour = 9;
  bilingual.shift_end_hour = 17;
  bilingual.breaks = {{13, 30}};

  AgentGroup sales = billing_early;
  sales.name = "sales";
  sales.count = 7;
  sales.skills = {{"sales", 5}, {"billing", 1}};
  sales.languages = {{"en", 5}, {"es", 2}};
  sales.shift_start_hour = 8;
  sales.shift_end_hour = 20;
  sales.breaks = {{11, 15}, {14, 30}, {17, 15}};
  sales.after_call_work_seconds = 45;

  AgentGroup tech = billing_early;
  tech.name = "tech chat";
  tech.count = 6;
  tech.skills = {{"tech_support", 4}};
  tech.languages = {{"en", 5}, {"es", 3}};
  tech.capacity = {};
  tech.capacity[ChannelIndex(Channel::kChat)] = 3;
  tech.shift_start_hour = 7;
  tech.shift_end_hour = 22;
  tech.breaks = {{11, 30}, {16, 30}};
  tech.after_call_work_seconds = 0;

  AgentGroup tech_juniors = tech;
  tech_juniors.name = "tech chat juniors";
  tech_juniors.count = 4;
  tech_juniors.skills = {{"tech_support", 2}, {"billing", 2}};
  tech_juniors.languages = {{"en", 4}};
  tech_juniors.capacity[ChannelIndex(Channel::kChat)] = 2;
  tech_juniors.shift_start_hour = 10;
  tech_juniors.shift_end_hour = 19;
  tech_juniors.breaks = {{14, 30}};

  s.agent_groups = {billing_early, billing_late, bilingual,
                    sales,         tech,         tech_juniors};
  return s;
}

Scenario SingleSkillScenario(double contacts_per_hour,
                             double mean_handle_seconds, int agents,
                             double patience_mean_seconds, double hours) {
  Scenario s;
  s.name = absl::StrCat("single skill, ", agents, " agents");
  s.start_hour = 0;
  s.end_hour = hours;
  s.warmup_hours = hours > 2 ? 1 : 0;
  ContactStream stream;
  stream.name = "calls";
  stream.skill = "service";
  stream.contacts_per_hour = contacts_per_hour;
  stream.handle = {HandleTime::Distribution::kExponential, mean_handle_seconds,
                   0};
  stream.patience_mean_seconds = patience_mean_seconds;
  s.streams = {stream};
  AgentGroup group;
  group.name = "agents";
  group.count = agents;
  group.skills = {{"service", 3}};
  group.capacity[ChannelIndex(Channel::kVoice)] = 1;
  group.shift_start_hour = 0;
  group.shift_end_hour = 24;
  s.agent_groups = {group};
  return s;
}

}  // namespace routing::simulator
