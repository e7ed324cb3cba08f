#include "routing/router.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "routing/internal/history_store.h"
#include "routing/internal/lock_free_router.h"
#include "routing/status_macros.h"

namespace routing {

namespace {

absl::Status CheckRange(const char* option, int64_t value, int64_t low,
                        int64_t high) {
  if (value < low || value > high) {
    return absl::InvalidArgumentError(
        absl::StrCat("RouterOptions::", option, " is ", value,
                     "; it must be between ", low, " and ", high));
  }
  return absl::OkStatus();
}

// Skill levels and fluency are small integers on every platform we know
// (1-5, 0-5, 1-10, 0-100); 100 bounds the scale.
constexpr int kMaxScale = 100;
// Upper bounds that keep the up-front allocations of a misconfigured router
// from exhausting memory.
constexpr int64_t kMaxSkillsOrQueues = 1 << 16;
constexpr int64_t kMaxContactsHeld = 1 << 26;
constexpr int64_t kMaxHistoryCustomers = int64_t{1} << 28;

}  // namespace

absl::StatusOr<std::unique_ptr<Router>> Router::Create(
    const RouterOptions& options) {
  ROUTING_RETURN_IF_ERROR(CheckRange("max_agents", options.max_agents, 1,
                                     internal::kMaxAgentIndex));
  ROUTING_RETURN_IF_ERROR(
      CheckRange("max_skills", options.max_skills, 1, kMaxSkillsOrQueues));
  ROUTING_RETURN_IF_ERROR(CheckRange("max_languages", options.max_languages, 1,
                                     kMaxSkillsOrQueues));
  ROUTING_RETURN_IF_ERROR(
      CheckRange("max_queues", options.max_queues, 1, kMaxSkillsOrQueues));
  ROUTING_RETURN_IF_ERROR(
      CheckRange("max_contacts", options.max_contacts, 1, kMaxContactsHeld));
  ROUTING_RETURN_IF_ERROR(CheckRange(
      "history_customers", options.history_customers, 1, kMaxHistoryCustomers));
  ROUTING_RETURN_IF_ERROR(CheckRange("history_depth", options.history_depth, 1,
                                     internal::kMaxHistoryDepth));
  ROUTING_RETURN_IF_ERROR(
      CheckRange("max_skill_level", options.max_skill_level, 1, kMaxScale));
  ROUTING_RETURN_IF_ERROR(
      CheckRange("max_fluency", options.max_fluency, 1, kMaxScale));
  if (options.fcr_window <= absl::ZeroDuration() ||
      options.fcr_window > absl::Hours(24 * 365)) {
    return absl::InvalidArgumentError(
        absl::StrCat("RouterOptions::fcr_window is ",
                     absl::FormatDuration(options.fcr_window),
                     "; it must be above 0 and at most 365 days"));
  }
  for (Channel channel : kAllChannels) {
    const absl::Duration timeout =
        options.offer_timeout[static_cast<int>(channel)];
    if (timeout < absl::ZeroDuration() || timeout > absl::Hours(1)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "RouterOptions::offer_timeout for ", std::string(ChannelName(channel)), " is ",
          absl::FormatDuration(timeout), "; it must be 0 (no offers) to 1 hour"));
    }
  }
  const int missed_state = static_cast<int>(options.missed_offer_state);
  if (missed_state < 0 || missed_state >= kAgentStateCount) {
    return absl::InvalidArgumentError(
        absl::StrCat("RouterOptions::missed_offer_state is the unknown agent "
                     "state number ",
                     missed_state));
  }
  ROUTING_RETURN_IF_ERROR(ValidatePolicy(options.policy));
  return std::unique_ptr<Router>(new internal::LockFreeRouter(options));
}

}  // namespace routing
