#include "sidecar/rules_reload.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

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

void RulesInForce::PutInForce(std::shared_ptr<const rules::LuaRules> rules,
                              std::string file, std::string source) {
  const uint64_t version = router_->SetRules(rules);
  std::lock_guard<std::mutex> lock(mutex_);
  rules_ = std::move(rules);
  version_ = version;
  file_ = std::move(file);
  source_ = std::move(source);
}

absl::StatusOr<std::shared_ptr<const rules::LuaRules>>
RulesInForce::CompileFile(const std::string& path, std::string* source,
                          std::vector<rules::RulesProblem>* problems) const {
  absl::StatusOr<std::string> text = rules::ReadRulesFile(path, options_);
  if (!text.ok()) {
    // ReadRulesFile's message starts with the path; the problem names it.
    absl::string_view message = text.status().message();
    absl::ConsumePrefix(&message, absl::StrCat(path, ": "));
    problems->push_back({path, 0, std::string(message)});
    return text.status();
  }
  *source = *std::move(text);
  return rules::CompileRules(path, *source, options_, problems);
}

RulesText RulesInForce::Text() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return RulesText{file_, source_, version_};
}

absl::Status RulesInForce::LoadSourceAtStart(const std::string& file,
                                             const std::string& source) {
  std::lock_guard<std::mutex> reloading(reload_mutex_);
  std::vector<rules::RulesProblem> problems;
  auto compiled = rules::CompileRules(file, source, options_, &problems);
  if (!compiled.ok()) {
    return absl::Status(
        compiled.status().code(),
        problems.empty()
            ? std::string(compiled.status().message())
            : absl::StrCat("the journal's rules (", file, ") were refused:\n",
                           absl::StrJoin(Lines(problems), "\n")));
  }
  PutInForce(*std::move(compiled), file, source);
  return absl::OkStatus();
}

absl::Status RulesInForce::LoadAtStart(const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  std::lock_guard<std::mutex> reloading(reload_mutex_);
  std::vector<rules::RulesProblem> problems;
  std::string source;
  auto compiled = CompileFile(path, &source, &problems);
  if (!compiled.ok()) {
    return absl::Status(
        compiled.status().code(),
        problems.empty() ? std::string(compiled.status().message())
                         : absl::StrCat("rules refused:\n",
                                        absl::StrJoin(Lines(problems), "\n")));
  }
  PutInForce(*std::move(compiled), path, std::move(source));
  return absl::OkStatus();
}

ReloadOutcome RulesInForce::Reload(const wire::ReloadRules& request) {
  ReloadOutcome outcome;
  outcome.source =
      request.path() != nullptr ? request.path()->str() : kSourceLabel;
  std::lock_guard<std::mutex> reloading(reload_mutex_);
  std::vector<rules::RulesProblem> problems;
  std::string source;
  if (request.path() == nullptr && request.source() != nullptr) {
    source = request.source()->str();
  }
  absl::StatusOr<std::shared_ptr<const rules::LuaRules>> compiled =
      request.path() != nullptr
          ? CompileFile(outcome.source, &source, &problems)
          : rules::CompileRules(kSourceLabel, source, options_, &problems);
  if (compiled.ok()) {
    outcome.accepted = true;
    PutInForce(*std::move(compiled), outcome.source, std::move(source));
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
