// File: sidecar/http/queue_alarms.h
//
// When a queue goes red on the supervisor view and routing_queue_alarm says
// so: its service level over the last 5 minutes is below target, or the
// contact waiting longest has waited beyond a threshold. routingd's
// --alarm_service_level and --alarm_oldest_wait_s set the thresholds.
//
//   AlarmThresholds thresholds;               // 0.8 and 60 s by default
//   QueueAlarm alarm = EvaluateQueueAlarm(queue_stats, thresholds);
//   if (alarm.any()) ... paint it red ...
//
// A queue with nothing answered or abandoned in the last 5 minutes has a
// service level of 1 (router_stats.h), so only its oldest wait can raise it.
// Thread-safety: pure functions.
#ifndef SIDECAR_HTTP_QUEUE_ALARMS_H_
#define SIDECAR_HTTP_QUEUE_ALARMS_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "routing/router_stats.h"

namespace routing::sidecar::http {

struct AlarmThresholds {
  // Service level (0..1) over the last 5 minutes below this raises it.
  double service_level = 0.8;
  // The oldest waiting contact's wait above this raises it.
  absl::Duration oldest_wait = absl::Seconds(60);
};

// The window QueueStats::recent the service-level alarm reads: 5 minutes.
inline constexpr int kAlarmWindow = 0;

struct QueueAlarm {
  bool service_level = false;
  bool oldest_wait = false;
  bool any() const { return service_level || oldest_wait; }
};

// The reasons as the metric's `reason` label and the page name them.
inline constexpr char kServiceLevelReason[] = "service_level";
inline constexpr char kOldestWaitReason[] = "oldest_wait";

QueueAlarm EvaluateQueueAlarm(const QueueStats& queue,
                              const AlarmThresholds& thresholds);

// InvalidArgument naming the flag for a service level outside 0..1 or an
// oldest wait that is not positive.
absl::Status ValidateAlarmThresholds(const AlarmThresholds& thresholds);

}  // namespace routing::sidecar::http

#endif  // SIDECAR_HTTP_QUEUE_ALARMS_H_
