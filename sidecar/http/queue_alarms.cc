#include "sidecar/http/queue_alarms.h"

#include "absl/strings/str_cat.h"

namespace routing::sidecar::http {

QueueAlarm EvaluateQueueAlarm(const QueueStats& queue,
                              const AlarmThresholds& thresholds) {
  QueueAlarm alarm;
  alarm.service_level =
      queue.recent[kAlarmWindow].service_level < thresholds.service_level;
  alarm.oldest_wait =
      queue.waiting > 0 && queue.longest_wait > thresholds.oldest_wait;
  return alarm;
}

absl::Status ValidateAlarmThresholds(const AlarmThresholds& thresholds) {
  if (!(thresholds.service_level >= 0 && thresholds.service_level <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--alarm_service_level=", thresholds.service_level,
                     " is outside 0..1"));
  }
  if (thresholds.oldest_wait <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--alarm_oldest_wait_s=", absl::ToDoubleSeconds(thresholds.oldest_wait),
        " must be above 0"));
  }
  return absl::OkStatus();
}

}  // namespace routing::sidecar::http
