#include "sidecar/rules_reload.h"

#include "absl/strings/str_cat.h"

namespace routing::sidecar {

absl::Status LoadRulesAtStart(Router& router, const std::string& rules_path) {
  if (rules_path.empty()) return absl::OkStatus();
  return absl::UnimplementedError(absl::StrCat(
      "rules engine not linked yet: cannot load --rules=", rules_path));
}

ReloadOutcome ReloadRules(Router& router, const wire::ReloadRules& request) {
  ReloadOutcome outcome;
  outcome.status = absl::UnimplementedError("rules engine not linked yet");
  return outcome;
}

}  // namespace routing::sidecar
