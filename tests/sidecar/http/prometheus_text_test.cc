#include "sidecar/http/prometheus_text.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace routing::sidecar::http {
namespace {

TEST(PrometheusTextTest, FamilyHeaderThenSamples) {
  PrometheusText text;
  text.Family("routing_x_total", "counter", "Things counted.");
  text.Sample("routing_x_total", {{"queue", "billing"}, {"code", "OK"}}, 3);
  text.Sample("routing_x_total", {}, 0);
  EXPECT_EQ(text.Take(),
            "# HELP routing_x_total Things counted.\n"
            "# TYPE routing_x_total counter\n"
            "routing_x_total{queue=\"billing\",code=\"OK\"} 3\n"
            "routing_x_total 0\n");
}

TEST(PrometheusTextTest, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeLabelValue("plain <html> & 'x'"), "plain <html> & 'x'");
  PrometheusText text;
  text.Sample("m", {{"queue", "bad\"q\\x\n"}}, 1);
  EXPECT_EQ(text.Take(), "m{queue=\"bad\\\"q\\\\x\\n\"} 1\n");
}

TEST(PrometheusTextTest, HelpEscapesBackslashAndNewlineButNotQuotes) {
  PrometheusText text;
  text.Family("m", "gauge", "a \"quoted\" \\ and\nnewline");
  EXPECT_EQ(text.Take(),
            "# HELP m a \"quoted\" \\\\ and\\nnewline\n# TYPE m gauge\n");
}

TEST(PrometheusTextTest, NumbersInTheFormatsSpelling) {
  EXPECT_EQ(PrometheusNumber(3), "3");
  EXPECT_EQ(PrometheusNumber(0.25), "0.25");
  EXPECT_EQ(PrometheusNumber(-1.5), "-1.5");
  EXPECT_EQ(PrometheusNumber(1234567890123), "1234567890123");
  EXPECT_EQ(PrometheusNumber(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(PrometheusNumber(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(PrometheusNumber(std::nan("")), "NaN");
  // Round-trips exactly.
  EXPECT_EQ(std::stod(PrometheusNumber(0.1 + 0.2)), 0.1 + 0.2);
}

TEST(PrometheusTextTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  PrometheusText text;
  const std::vector<double> bounds = {0.5, 1, 2.5};
  const std::vector<uint64_t> counts = {2, 0, 3, 4};  // 4 above 2.5.
  text.Histogram("h_seconds", {{"queue", "q"}}, bounds, counts, 12.5);
  EXPECT_EQ(text.Take(),
            "h_seconds_bucket{queue=\"q\",le=\"0.5\"} 2\n"
            "h_seconds_bucket{queue=\"q\",le=\"1\"} 2\n"
            "h_seconds_bucket{queue=\"q\",le=\"2.5\"} 5\n"
            "h_seconds_bucket{queue=\"q\",le=\"+Inf\"} 9\n"
            "h_seconds_sum{queue=\"q\"} 12.5\n"
            "h_seconds_count{queue=\"q\"} 9\n");
}

TEST(PrometheusTextTest, HistogramWithoutLabels) {
  PrometheusText text;
  const std::vector<double> bounds = {1};
  const std::vector<uint64_t> counts = {0, 0};
  text.Histogram("h", {}, bounds, counts, 0);
  EXPECT_EQ(text.Take(),
            "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\n"
            "h_count 0\n");
}

}  // namespace
}  // namespace routing::sidecar::http
