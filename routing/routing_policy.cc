#include "routing/routing_policy.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace routing {

namespace {

absl::Status CheckWeight(const char* field, double value) {
  if (!std::isfinite(value) || value < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy weight '", field,
                     "' must be a finite number >= 0, got ", value));
  }
  return absl::OkStatus();
}

absl::Status CheckAffinity(const char* field, double value) {
  if (!std::isfinite(value) || value < 0 || value > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "policy '", field, "' must be between 0 and 1, got ", value));
  }
  return absl::OkStatus();
}

absl::Status CheckPositive(const char* field, absl::Duration value) {
  if (value <= absl::ZeroDuration() || value == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "policy '", field, "' must be a positive finite duration, got ",
        absl::FormatDuration(value)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePolicy(const RoutingPolicy& policy) {
  const ScoringWeights& w = policy.weights;
  for (const auto& [field, value] :
       {std::pair<const char*, double>{"skill", w.skill},
        {"affinity", w.affinity},
        {"language", w.language},
        {"load", w.load},
        {"occupancy", w.occupancy},
        {"idle", w.idle}}) {
    absl::Status status = CheckWeight(field, value);
    if (!status.ok()) return status;
  }
  if (w.skill + w.affinity + w.language + w.load + w.occupancy + w.idle <= 0) {
    return absl::InvalidArgumentError(
        "policy weights are all zero: every agent would score the same");
  }
  for (const auto& [field, value] :
       {std::pair<const char*, double>{"preferred_agent_affinity",
                                       policy.preferred_agent_affinity},
        {"resolved_affinity", policy.resolved_affinity},
        {"served_affinity", policy.served_affinity}}) {
    absl::Status status = CheckAffinity(field, value);
    if (!status.ok()) return status;
  }
  for (const auto& [field, value] :
       {std::pair<const char*, absl::Duration>{"priority_step",
                                               policy.priority_step},
        {"idle_saturation", policy.idle_saturation},
        {"affinity_half_life", policy.affinity_half_life},
        {"default_handle_time", policy.default_handle_time},
        {"service_level_threshold", policy.service_level_threshold}}) {
    absl::Status status = CheckPositive(field, value);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace routing
