#include "bench/simulator/queueing_theory.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "routing/status_macros.h"

namespace routing::simulator {
namespace {

// The Erlang A chain is cut where the probability it neglects is at most this
// fraction of the largest state's (hence of the total): below double's
// resolution of the figures computed from it.
constexpr double kTailTolerance = 1e-15;

bool IsPositiveFinite(double x) { return x > 0 && std::isfinite(x); }

absl::Status ValidateMmc(double arrival_rate, double mean_handle_time,
                         int agents) {
  if (!IsPositiveFinite(arrival_rate)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "arrival_rate must be a positive, finite number of calls per second, "
        "got ",
        arrival_rate));
  }
  if (!IsPositiveFinite(mean_handle_time)) {
    return absl::InvalidArgumentError(
        absl::StrCat("mean_handle_time must be a positive, finite number of "
                     "seconds, got ",
                     mean_handle_time));
  }
  if (agents < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("agents must be at least 1, got ", agents));
  }
  return absl::OkStatus();
}

absl::Status Unstable(double offered_load, int agents) {
  return absl::InvalidArgumentError(absl::StrCat(
      "unstable: offered load a = arrival_rate * mean_handle_time = ",
      offered_load, " Erlangs is not below agents = ", agents,
      ", so without abandonment the queue grows without bound"));
}

absl::Status ValidateWaitLimit(double t) {
  if (!(t >= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("service level threshold must be >= 0 seconds, got ", t));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ErlangC> ErlangC::Create(double arrival_rate,
                                        double mean_handle_time, int agents) {
  ROUTING_RETURN_IF_ERROR(ValidateMmc(arrival_rate, mean_handle_time, agents));
  const double a = arrival_rate * mean_handle_time;
  if (!(a < agents)) return Unstable(a, agents);
  double erlang_b = 1;
  for (int k = 1; k <= agents; ++k) {
    erlang_b = a * erlang_b / (k + a * erlang_b);
  }
  const double c = agents;
  return ErlangC(a, mean_handle_time, agents,
                 c * erlang_b / (c - a * (1 - erlang_b)));
}

absl::StatusOr<double> ErlangC::ServiceLevel(double t) const {
  ROUTING_RETURN_IF_ERROR(ValidateWaitLimit(t));
  return 1 - probability_of_waiting_ *
                 std::exp(-(agents_ - offered_load_) * t / mean_handle_time_);
}

double ErlangC::average_speed_of_answer() const {
  return probability_of_waiting_ * mean_handle_time_ /
         (agents_ - offered_load_);
}

absl::StatusOr<ErlangA> ErlangA::Create(double arrival_rate,
                                        double mean_handle_time, int agents,
                                        double mean_patience) {
  ROUTING_RETURN_IF_ERROR(ValidateMmc(arrival_rate, mean_handle_time, agents));
  if (!(mean_patience > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mean_patience must be a positive number of seconds (or +infinity), "
        "got ",
        mean_patience));
  }
  if (agents > kMaxAgents) {
    return absl::ResourceExhaustedError(
        absl::StrCat("Erlang A: agents = ", agents, " is beyond the supported ",
                     kMaxAgents));
  }
  const double a = arrival_rate * mean_handle_time;
  if (std::isinf(mean_patience) && !(a < agents)) return Unstable(a, agents);

  const double mu = 1 / mean_handle_time;
  const double gamma = 1 / mean_patience;  // 0 for infinite patience
  auto death_rate = [&](int n) {
    return std::min(n, agents) * mu + std::max(n - agents, 0) * gamma;
  };
  // log of the unnormalized weights w_n = prod_{k=1..n} lambda / death(k),
  // turned into probabilities in place below.
  const double log_lambda = std::log(arrival_rate);
  std::vector<double> log_w = {0};
  double log_max = 0;
  for (int n = 1;; ++n) {
    log_w.push_back(log_w.back() + log_lambda - std::log(death_rate(n)));
    log_max = std::max(log_max, log_w.back());
    if (n < agents) continue;
    // Death rates never decrease, so once the next ratio r is below 1 every
    // later one is too, and the tail beyond n is at most w_n r / (1 - r).
    const double r = arrival_rate / death_rate(n + 1);
    if (r < 1 && log_w.back() - log_max + std::log(r / (1 - r)) <
                     std::log(kTailTolerance)) {
      break;
    }
    if (n - agents >= kMaxQueueLength) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "Erlang A: the queue would have to be truncated beyond ",
          kMaxQueueLength, " waiting callers (offered load ", a, " Erlangs on ",
          agents, " agents, mean_patience ", mean_patience,
          " s); patience is too long for this load"));
    }
  }
  double sum = 0;
  for (double& x : log_w) {
    x = std::exp(x - log_max);
    sum += x;
  }
  for (double& x : log_w) x /= sum;
  return ErlangA(a, mean_handle_time, agents, mean_patience, std::move(log_w));
}

ErlangA::ErlangA(double offered_load, double mean_handle_time, int agents,
                 double mean_patience, std::vector<double> p)
    : offered_load_(offered_load),
      mean_handle_time_(mean_handle_time),
      agents_(agents),
      mean_patience_(mean_patience),
      p_(std::move(p)) {
  const double c_mu = agents_ / mean_handle_time_;
  const double gamma = 1 / mean_patience_;
  for (size_t n = agents_; n < p_.size(); ++n) {
    const double ahead_and_self = n - agents_ + 1;  // j + 1
    const double leave_rate = c_mu + ahead_and_self * gamma;
    probability_of_waiting_ += p_[n];
    probability_of_abandoning_ += p_[n] * ahead_and_self * gamma / leave_rate;
    average_wait_ += p_[n] * ahead_and_self / leave_rate;
  }
}

double ErlangA::occupancy() const {
  double busy = 0;
  for (size_t n = 0; n < p_.size(); ++n) {
    busy += p_[n] * std::min<double>(n, agents_);
  }
  return busy / agents_;
}

absl::StatusOr<double> ErlangA::ServiceLevel(double t) const {
  ROUTING_RETURN_IF_ERROR(ValidateWaitLimit(t));
  if (std::isinf(t)) return 1 - probability_of_abandoning_;
  double answered = 0;
  for (int n = 0; n < agents_; ++n) answered += p_[n];

  const double c_mu = agents_ / mean_handle_time_;
  const double gamma = 1 / mean_patience_;
  // K ~ NegativeBinomial(r = c_mu / gamma + 1, p = e^{-gamma t}), see the
  // header; q = 1 - p, and h = q / gamma (-> t as gamma -> 0) keeps the ratio
  // P(K = k + 1) / P(K = k) = (c_mu h + (k + 1) q) / (k + 1) finite at
  // gamma = 0, where K is Poisson(c_mu t).
  const double q = -std::expm1(-gamma * t);
  const double h = gamma > 0 ? q / gamma : t;
  double log_pmf = -(c_mu + gamma) * t;  // log P(K = 0) = r log p
  double cdf = std::exp(log_pmf);        // P(K <= j)
  for (size_t n = agents_; n < p_.size(); ++n) {
    const double ahead_and_self = n - agents_ + 1;  // j + 1
    const double served = c_mu / (c_mu + ahead_and_self * gamma);
    answered += p_[n] * served * std::max(0.0, 1 - cdf);
    log_pmf +=
        std::log(c_mu * h + ahead_and_self * q) - std::log(ahead_and_self);
    cdf += std::exp(log_pmf);
  }
  return answered;
}

}  // namespace routing::simulator
