#include "sidecar/http/prometheus_text.h"

#include <charconv>
#include <cmath>

namespace routing::sidecar::http {

std::string PrometheusNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  // Shortest round-trip form: 3, 0.25, 1e-05.
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  if (error != std::errc()) return "NaN";
  return std::string(buffer, end);
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void PrometheusText::Append(std::initializer_list<std::string_view> parts) {
  for (std::string_view part : parts) text_.append(part.data(), part.size());
}

void PrometheusText::Family(std::string_view name, std::string_view type,
                            std::string_view help) {
  std::string escaped;
  for (char c : help) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  Append({"# HELP ", name, " ", escaped, "\n# TYPE ", name, " ", type, "\n"});
}

void PrometheusText::Series(std::string_view name, std::string_view suffix,
                            const PrometheusLabels& labels, std::string_view le,
                            double value) {
  Append({name, suffix});
  if (!labels.empty() || !le.empty()) {
    text_ += '{';
    bool first = true;
    for (const auto& [label, label_value] : labels) {
      Append({first ? "" : ",", label, "=\"", EscapeLabelValue(label_value),
              "\""});
      first = false;
    }
    if (!le.empty()) Append({first ? "" : ",", "le=\"", le, "\""});
    text_ += '}';
  }
  Append({" ", PrometheusNumber(value), "\n"});
}

void PrometheusText::Sample(std::string_view name,
                            const PrometheusLabels& labels, double value) {
  Series(name, "", labels, "", value);
}

void PrometheusText::Histogram(std::string_view name,
                               const PrometheusLabels& labels,
                               std::span<const double> bounds,
                               std::span<const uint64_t> counts, double sum) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += i < counts.size() ? counts[i] : 0;
    Series(name, "_bucket", labels, PrometheusNumber(bounds[i]),
           static_cast<double>(cumulative));
  }
  for (size_t i = bounds.size(); i < counts.size(); ++i)
    cumulative += counts[i];
  Series(name, "_bucket", labels, "+Inf", static_cast<double>(cumulative));
  Series(name, "_sum", labels, "", sum);
  Series(name, "_count", labels, "", static_cast<double>(cumulative));
}

}  // namespace routing::sidecar::http
