// File: sidecar/http/prometheus_text.h
//
// Writes Prometheus' text exposition format, version 0.0.4 (the format every
// Prometheus server scrapes; Content-Type kPrometheusContentType). One metric
// family at a time: its # HELP and # TYPE lines, then its samples, so no
// family is ever split (Prometheus refuses a family seen twice).
//
//   PrometheusText text;
//   text.Family("routing_queue_waiting_contacts", "gauge",
//               "Contacts waiting in the queue now.");
//   text.Sample("routing_queue_waiting_contacts", {{"queue", "billing"}}, 3);
//   text.Histogram("routing_decision_duration_seconds", {}, bounds, counts,
//                  sum);  // after its own Family(..., "histogram", ...)
//   std::string body = text.Take();
//
// Escaping follows the format: label values escape \, " and newline; HELP
// text escapes \ and newline. Values print in the shortest form that reads
// back exactly, with NaN and +Inf/-Inf spelled as Prometheus spells them.
// Names are the caller's constants and are not checked here (the unit test
// and `promtool check metrics` do).
// Thread-safety: an object belongs to one thread.
#ifndef SIDECAR_HTTP_PROMETHEUS_TEXT_H_
#define SIDECAR_HTTP_PROMETHEUS_TEXT_H_

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace routing::sidecar::http {

inline constexpr char kPrometheusContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

using PrometheusLabels =
    std::vector<std::pair<std::string_view, std::string_view>>;

// `value` as the exposition format writes numbers.
std::string PrometheusNumber(double value);
// `value` escaped for use inside a label value's double quotes.
std::string EscapeLabelValue(std::string_view value);

class PrometheusText {
 public:
  // type: "counter", "gauge" or "histogram".
  void Family(std::string_view name, std::string_view type,
              std::string_view help);
  void Sample(std::string_view name, const PrometheusLabels& labels,
              double value);
  // A histogram's series under `name`: name_bucket{...,le=...} cumulative
  // over `bounds` (increasing) and +Inf, then name_sum and name_count.
  // `counts` holds bounds.size() + 1 non-cumulative counts, the last one
  // above the final bound; _count is their total, so it always equals the
  // +Inf bucket.
  void Histogram(std::string_view name, const PrometheusLabels& labels,
                 std::span<const double> bounds,
                 std::span<const uint64_t> counts, double sum);
  std::string Take() { return std::move(text_); }

 private:
  void Append(std::initializer_list<std::string_view> parts);
  void Series(std::string_view name, std::string_view suffix,
              const PrometheusLabels& labels, std::string_view le,
              double value);
  std::string text_;
};

}  // namespace routing::sidecar::http

#endif  // SIDECAR_HTTP_PROMETHEUS_TEXT_H_
