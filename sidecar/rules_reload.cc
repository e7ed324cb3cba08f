#include "sidecar/rules_reload.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rules/lua_rules.h"

namespace routing::sidecar {

namespace {

// Labels problems in rules sent as text rather than as a path.
constexpr char kSourceLabel[] = "request.lua";

std::vector<std::string> Lines(
    const std::vector<rules::RulesProblem>& problems) {
  std::vector<std::string> lines;
  lines.reserve(problems.size());
  for (const rules::RulesProblem& p : problems) lines.push_back(p.ToString());
  return lines;
}

}  // namespace

absl::Status LoadRulesAtStart(Router& router, const std::string& rules_path) {
  if (rules_path.empty()) return absl::OkStatus();
  std::vector<rules::RulesProblem> problems;
  auto compiled =
      rules::LoadRulesFile(rules_path, rules::RulesOptions(), &problems);
  if (!compiled.ok()) {
    return absl::Status(
        compiled.status().code(),
        problems.empty() ? std::string(compiled.status().message())
                         : absl::StrCat("rules refused:\n",
                                        absl::StrJoin(Lines(problems), "\n")));
  }
  router.SetRules(*std::move(compiled));
  return absl::OkStatus();
}

ReloadOutcome ReloadRules(Router& router, const wire::ReloadRules& request) {
  ReloadOutcome outcome;
  std::vector<rules::RulesProblem> problems;
  absl::StatusOr<std::shared_ptr<const rules::LuaRules>> compiled =
      request.path() != nullptr
          ? rules::LoadRulesFile(request.path()->str(), rules::RulesOptions(),
                                 &problems)
          : rules::CompileRules(kSourceLabel, request.source()->string_view(),
                                rules::RulesOptions(), &problems);
  if (!compiled.ok()) {
    // Refused: the old rules keep serving; the client gets every problem.
    outcome.accepted = false;
    outcome.version = router.RulesVersion();
    outcome.problems = Lines(problems);
    if (outcome.problems.empty()) {
      outcome.problems.push_back(std::string(compiled.status().message()));
    }
    return outcome;
  }
  outcome.accepted = true;
  outcome.version = router.SetRules(*std::move(compiled));
  return outcome;
}

}  // namespace routing::sidecar
