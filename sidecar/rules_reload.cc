#include "sidecar/rules_reload.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

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

RulesInForce::RulesInForce(Router* router, rules::RulesOptions options)
    : router_(router), options_(std::move(options)) {}

void RulesInForce::PutInForce(std::shared_ptr<const rules::LuaRules> rules) {
  const uint64_t version = router_->SetRules(rules);
  std::lock_guard<std::mutex> lock(mutex_);
  rules_ = std::move(rules);
  version_ = version;
}

absl::Status RulesInForce::LoadAtStart(const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  std::lock_guard<std::mutex> reloading(reload_mutex_);
  std::vector<rules::RulesProblem> problems;
  auto compiled = rules::LoadRulesFile(path, options_, &problems);
  if (!compiled.ok()) {
    return absl::Status(
        compiled.status().code(),
        problems.empty() ? std::string(compiled.status().message())
                         : absl::StrCat("rules refused:\n",
                                        absl::StrJoin(Lines(problems), "\n")));
  }
  PutInForce(*std::move(compiled));
  return absl::OkStatus();
}

ReloadOutcome RulesInForce::Reload(const wire::ReloadRules& request) {
  ReloadOutcome outcome;
  outcome.source =
      request.path() != nullptr ? request.path()->str() : kSourceLabel;
  std::lock_guard<std::mutex> reloading(reload_mutex_);
  std::vector<rules::RulesProblem> problems;
  absl::StatusOr<std::shared_ptr<const rules::LuaRules>> compiled =
      request.path() != nullptr
          ? rules::LoadRulesFile(outcome.source, options_, &problems)
          : rules::CompileRules(kSourceLabel,
                                request.source() != nullptr
                                    ? request.source()->string_view()
                                    : std::string_view(),
                                options_, &problems);
  if (compiled.ok()) {
    outcome.accepted = true;
    PutInForce(*std::move(compiled));
  } else {
    // Refused: the old rules keep serving; the client gets every problem.
    outcome.problems = Lines(problems);
    if (outcome.problems.empty()) {
      outcome.problems.push_back(std::string(compiled.status().message()));
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  outcome.version = version_;
  outcome.name = rules_ != nullptr ? rules_->Name() : std::string();
  return outcome;
}

RulesHealth RulesInForce::HealthLocked() const {
  RulesHealth health;
  if (rules_ == nullptr) return health;
  health.version = version_;
  health.name = rules_->Name();
  const rules::LuaRules::Health h = rules_->health();
  health.errors = h.errors;
  health.overruns = h.overruns;
  health.last_error = h.last_error;
  health.suspended = h.suspended;
  health.suspended_at = h.suspended_at;
  return health;
}

RulesHealth RulesInForce::Health() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return HealthLocked();
}

std::optional<RulesHealth> RulesInForce::NewSuspension() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (rules_ == nullptr || suspension_reported_ == version_) {
    return std::nullopt;
  }
  RulesHealth health = HealthLocked();
  if (!health.suspended) return std::nullopt;
  suspension_reported_ = version_;
  return health;
}

}  // namespace routing::sidecar
