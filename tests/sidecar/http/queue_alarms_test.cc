#include "sidecar/http/queue_alarms.h"

#include "gtest/gtest.h"

namespace routing::sidecar::http {
namespace {

QueueStats Queue(double service_level_5m, int64_t waiting,
                 absl::Duration longest_wait) {
  QueueStats q;
  q.queue = "billing";
  q.recent[kAlarmWindow].service_level = service_level_5m;
  q.recent[1].service_level = 0;  // Other windows never raise it.
  q.recent[2].service_level = 0;
  q.waiting = waiting;
  q.longest_wait = longest_wait;
  return q;
}

TEST(QueueAlarmsTest, ServiceLevelBelowTargetOverFiveMinutes) {
  const AlarmThresholds t;  // 0.8, 60 s.
  EXPECT_FALSE(
      EvaluateQueueAlarm(Queue(0.8, 0, absl::ZeroDuration()), t).any());
  const QueueAlarm low =
      EvaluateQueueAlarm(Queue(0.79, 0, absl::ZeroDuration()), t);
  EXPECT_TRUE(low.service_level);
  EXPECT_FALSE(low.oldest_wait);
}

TEST(QueueAlarmsTest, OldestWaitAboveThreshold) {
  const AlarmThresholds t;
  EXPECT_FALSE(EvaluateQueueAlarm(Queue(1, 1, absl::Seconds(60)), t).any());
  const QueueAlarm late = EvaluateQueueAlarm(Queue(1, 1, absl::Seconds(61)), t);
  EXPECT_TRUE(late.oldest_wait);
  EXPECT_FALSE(late.service_level);
  // Nobody waiting: no wait alarm, whatever longest_wait says.
  EXPECT_FALSE(EvaluateQueueAlarm(Queue(1, 0, absl::Seconds(61)), t).any());
}

TEST(QueueAlarmsTest, ThresholdsAreConfigurableAndChecked) {
  AlarmThresholds t;
  t.service_level = 0.95;
  t.oldest_wait = absl::Seconds(5);
  const QueueAlarm both =
      EvaluateQueueAlarm(Queue(0.9, 2, absl::Seconds(6)), t);
  EXPECT_TRUE(both.service_level && both.oldest_wait);
  EXPECT_TRUE(ValidateAlarmThresholds(t).ok());
  t.service_level = 1.5;
  EXPECT_EQ(ValidateAlarmThresholds(t).message(),
            "--alarm_service_level=1.5 is outside 0..1");
  t.service_level = 0.5;
  t.oldest_wait = absl::ZeroDuration();
  EXPECT_EQ(ValidateAlarmThresholds(t).message(),
            "--alarm_oldest_wait_s=0 must be above 0");
}

}  // namespace
}  // namespace routing::sidecar::http
