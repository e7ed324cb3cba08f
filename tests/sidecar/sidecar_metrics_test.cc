// The measures routingd exports to Prometheus: fixed-bucket histograms,
// replies by request type and code, releases by outcome, requeues.
#include "sidecar/sidecar_metrics.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace routing::sidecar {
namespace {

TEST(BucketHistogramTest, SamplesOnABoundFallInItsBucket) {
  BucketHistogram h;
  h.Record(absl::Microseconds(5));    // == first bound (5 us).
  h.Record(absl::Nanoseconds(5001));  // just above: second bucket.
  h.Record(absl::Milliseconds(1));    // == the 1 ms bound.
  h.Record(absl::Seconds(2));         // above the last bound: +Inf.
  h.Record(absl::Nanoseconds(-3));    // a clock step back counts as 0.
  const BucketHistogram::Counts c = h.Read();
  EXPECT_EQ(c.counts[0], 2u);
  EXPECT_EQ(c.counts[1], 1u);
  EXPECT_EQ(c.counts[7], 1u);  // kLatencyBoundsSeconds[7] == 0.001.
  EXPECT_DOUBLE_EQ(kLatencyBoundsSeconds[7], 0.001);
  EXPECT_EQ(c.counts[kLatencyBoundCount], 1u);
  EXPECT_EQ(c.Total(), 5u);
  EXPECT_NEAR(c.sum_seconds, 2.001010001, 1e-12);
}

TEST(BucketHistogramTest, ConcurrentWritersLoseNothing) {
  BucketHistogram h;
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&h, t] {
      for (int i = 0; i < 10'000; ++i) h.Record(absl::Microseconds(t * 100));
    });
  }
  for (std::thread& w : writers) w.join();
  EXPECT_EQ(h.Read().Total(), 40'000u);
}

TEST(SidecarMetricsTest, RepliesByTypeAndCodeWithOutOfRangeClamped) {
  SidecarMetrics metrics;
  metrics.RecordReply(6, 0);
  metrics.RecordReply(6, 0);
  metrics.RecordReply(6, 2);
  metrics.RecordReply(99, -4);
  EXPECT_EQ(metrics.Replies(6, 0), 2u);
  EXPECT_EQ(metrics.Replies(6, 2), 1u);
  EXPECT_EQ(metrics.Replies(SidecarMetrics::kRequestTypeSlots - 1, 0), 1u);
  EXPECT_EQ(metrics.Replies(-1, 0), 0u);
}

TEST(SidecarMetricsTest, DecisionsReleasesAndServiceTime) {
  SidecarMetrics metrics;
  RoutingDecision d;
  d.contact_id = "c-1";
  metrics.RecordRoutingDecision(d, /*requeue=*/false, absl::Microseconds(3));
  metrics.RecordRoutingDecision(d, /*requeue=*/true, absl::Microseconds(30));
  EXPECT_EQ(metrics.requeues(), 1u);
  EXPECT_EQ(metrics.decision_latency().Read().Total(), 2u);
  EXPECT_EQ(metrics.recent_decisions().Read().size(), 2u);
  metrics.RecordRelease(ContactOutcome::kResolved);
  metrics.RecordRelease(ContactOutcome::kTransferred);
  metrics.RecordRelease(static_cast<ContactOutcome>(9));  // Ignored.
  EXPECT_EQ(metrics.Releases(ContactOutcome::kResolved), 1u);
  EXPECT_EQ(metrics.Releases(ContactOutcome::kTransferred), 1u);
  EXPECT_EQ(metrics.Releases(ContactOutcome::kUnknown), 0u);
  metrics.RecordLatency(absl::Microseconds(7));
  EXPECT_EQ(metrics.service_time().Read().counts[1], 1u);
  EXPECT_EQ(metrics.latency().Count(), 1u);  // The percentiles still see it.
}

}  // namespace
}  // namespace routing::sidecar
