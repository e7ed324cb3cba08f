#include "routing/internal/agent_compiler.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "routing/internal/input_checks.h"
#include "routing/internal/string_view_compat.h"
#include "routing/status_macros.h"

namespace routing::internal {

AgentCompiler::AgentCompiler(const RouterOptions* options, NameTable* skills,
                             NameTable* languages, NameTable* teams,
                             AgentIndex* agents)
    : options_(options),
      skills_(skills),
      languages_(languages),
      teams_(teams),
      agents_(agents) {}

absl::Status AgentCompiler::CheckAgentId(std::string_view agent_id) {
  return CheckName("agent id", agent_id);
}

absl::Status AgentCompiler::Validate(const AgentProfile& profile) const {
  ROUTING_RETURN_IF_ERROR(CheckName("agent id", profile.id));
  if (profile.skills.size() > kMaxListEntries * 4 ||
      profile.languages.size() > kMaxListEntries) {
    return absl::InvalidArgumentError(absl::StrCat(
        "agent '", profile.id, "' lists too many skills or languages"));
  }
  absl::flat_hash_set<std::string_view> seen;
  for (const AgentSkill& s : profile.skills) {
    ROUTING_RETURN_IF_ERROR(CheckName(
        absl::StrCat("agent '", profile.id, "' skill name"), s.skill));
    if (s.level < 1 || s.level > options_->max_skill_level) {
      return absl::InvalidArgumentError(absl::StrCat(
          "agent '", profile.id, "' skill '", s.skill, "' has level ", s.level,
          "; levels run 1..", options_->max_skill_level));
    }
    if (!seen.insert(s.skill).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "agent '", profile.id, "' lists skill '", s.skill, "' twice"));
    }
  }
  seen.clear();
  for (const AgentLanguage& l : profile.languages) {
    ROUTING_RETURN_IF_ERROR(CheckName(
        absl::StrCat("agent '", profile.id, "' language"), l.language));
    if (l.fluency < 1 || l.fluency > options_->max_fluency) {
      return absl::InvalidArgumentError(absl::StrCat(
          "agent '", profile.id, "' language '", l.language, "' has fluency ",
          l.fluency, "; fluency runs 1..", options_->max_fluency));
    }
    if (!seen.insert(l.language).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "agent '", profile.id, "' lists language '", l.language, "' twice"));
    }
  }
  int total = 0;
  for (Channel channel : kAllChannels) {
    const int capacity = profile.CapacityOf(channel);
    if (capacity < 0 || capacity > kMaxChannelCapacity) {
      return absl::InvalidArgumentError(
          absl::StrCat("agent '", profile.id, "' capacity ", capacity, " on ",
                       AsAbsl(ChannelName(channel)), " is outside 0..",
                       kMaxChannelCapacity));
    }
    total += capacity;
  }
  if (total == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("agent '", profile.id,
                     "' has a capacity of zero on every channel and could "
                     "never take a contact"));
  }
  if (profile.max_total_contacts < 0 || profile.max_total_contacts > total) {
    return absl::InvalidArgumentError(
        absl::StrCat("agent '", profile.id, "' max_total_contacts ",
                     profile.max_total_contacts, " is outside 0..", total,
                     " (the sum of its channel capacities)"));
  }
  ROUTING_RETURN_IF_ERROR(CheckAttributes(
      absl::StrCat("agent '", profile.id, "'"), profile.attributes));
  // Room for the names this profile would add, checked before any is
  // interned: a refused profile leaves no name behind. (Concurrent calls
  // adding other names can still fill the table first; interning then
  // refuses the later one.)
  int new_skills = 0, new_languages = 0;
  for (const AgentSkill& s : profile.skills) {
    if (skills_->Find(s.skill) < 0) ++new_skills;
  }
  for (const AgentLanguage& l : profile.languages) {
    if (languages_->Find(l.language) < 0) ++new_languages;
  }
  if (skills_->size() + new_skills > skills_->capacity()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "agent '", profile.id, "' brings ", new_skills,
        " new skills; the router already knows ", skills_->size(), " of at most ",
        options_->max_skills, " (RouterOptions::max_skills)"));
  }
  if (languages_->size() + new_languages > languages_->capacity()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "agent '", profile.id, "' brings ", new_languages,
        " new languages; the router already knows ", languages_->size(),
        " of at most ", options_->max_languages,
        " (RouterOptions::max_languages)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<AgentRecord>> AgentCompiler::Compile(
    const AgentProfile& profile, int index) {
  ROUTING_RETURN_IF_ERROR(Validate(profile));
  auto record = std::make_unique<AgentRecord>();
  record->profile = profile;
  record->index = index;
  int total = 0;
  for (Channel channel : kAllChannels) {
    const int capacity = profile.CapacityOf(channel);
    record->capacity[ChannelIndex(channel)] = capacity;
    total += capacity;
  }
  record->max_total = profile.max_total_contacts;
  record->total_capacity =
      profile.max_total_contacts > 0 ? profile.max_total_contacts : total;

  // Interning can only fail when a registry is full; do it after every
  // validation so a refused agent leaves nothing behind but interned names.
  for (const AgentSkill& s : profile.skills) {
    const int id = skills_->FindOrInsert(s.skill);
    if (id < 0) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "cannot add skill '", s.skill, "': the router already knows ",
          options_->max_skills, " skills (RouterOptions::max_skills)"));
    }
    agents_->EnsureSkillBitmap(id);
    record->skills.emplace_back(id, s.level);
  }
  for (const AgentLanguage& l : profile.languages) {
    const int id = languages_->FindOrInsert(l.language);
    if (id < 0) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "cannot add language '", l.language, "': the router already knows ",
          options_->max_languages, " languages (RouterOptions::max_languages)"));
    }
    agents_->EnsureLanguageBitmap(id);
    record->languages.emplace_back(id, l.fluency);
  }
  std::sort(record->skills.begin(), record->skills.end());
  std::sort(record->languages.begin(), record->languages.end());
  if (!profile.team.empty()) record->team = teams_->FindOrInsert(profile.team);
  return record;
}

}  // namespace routing::internal
