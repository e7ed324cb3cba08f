// File: bench/simulator/queueing_theory.h
//
// Closed-form and numerically exact steady-state figures of the two classic
// contact-center queues, used to validate the simulator against theory:
//
//   Erlang C (M/M/c): Poisson arrivals, exponential handle times, c agents,
//   callers wait for ever.
//   Erlang A (M/M/c+M, Palm's model): the same, plus each waiting caller hangs
//   up after an exponential patience (Garnett, Mandelbaum & Reiman 2002).
//
//   auto c = routing::simulator::ErlangC::Create(
//       /*arrival_rate=*/100.0 / 1800, /*mean_handle_time=*/180,
//       /*agents=*/11);
//   c->probability_of_waiting();         // ~0.682 (a = 10 Erlangs)
//   c->ServiceLevel(20).value();         // P(wait <= 20 s)
//
//   auto a = routing::simulator::ErlangA::Create(100.0 / 1800, 180, 9,
//                                                /*mean_patience=*/120);
//   a->probability_of_abandoning();      // stable although a > c
//
// Units: rates are per second, times are seconds. Objects are immutable after
// Create, so every const method is safe to call from any number of threads.
#ifndef BENCH_SIMULATOR_QUEUEING_THEORY_H_
#define BENCH_SIMULATOR_QUEUEING_THEORY_H_

#include <vector>

#include "absl/status/statusor.h"

namespace routing::simulator {

// Erlang C: M/M/c with an unbounded queue and infinitely patient callers.
class ErlangC {
 public:
  // arrival_rate (lambda, calls per second) > 0, mean_handle_time (AHT,
  // seconds) > 0, both finite; agents (c) >= 1. Returns InvalidArgument naming
  // the bad value, or saying the queue is unstable when the offered load
  // a = lambda * AHT is >= c (no steady state exists without abandonment).
  static absl::StatusOr<ErlangC> Create(double arrival_rate,
                                        double mean_handle_time, int agents);

  // a = lambda * AHT, in Erlangs.
  double offered_load() const { return offered_load_; }
  // rho = a / c: the fraction of time an agent is busy.
  double occupancy() const { return offered_load_ / agents_; }
  // P(W > 0), the Erlang C formula. Computed from the Erlang B recursion
  // B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)), then C = c B / (c - a (1 - B)),
  // which neither overflows nor cancels for thousands of agents.
  double probability_of_waiting() const { return probability_of_waiting_; }
  // P(W <= t) = 1 - C exp(-(c - a) t / AHT) over all callers (those answered
  // at once count as answered within t). t may be +infinity (gives 1);
  // InvalidArgument when t is negative or NaN.
  absl::StatusOr<double> ServiceLevel(double t) const;
  // Average speed of answer E[W] = C AHT / (c - a), over all callers.
  double average_speed_of_answer() const;

 private:
  ErlangC(double offered_load, double mean_handle_time, int agents,
          double probability_of_waiting)
      : offered_load_(offered_load),
        mean_handle_time_(mean_handle_time),
        agents_(agents),
        probability_of_waiting_(probability_of_waiting) {}

  double offered_load_;
  double mean_handle_time_;
  int agents_;
  double probability_of_waiting_;
};

// Erlang A: M/M/c+M. Callers arrive at rate lambda, handle times are
// exponential with mean AHT (rate mu = 1 / AHT), and while waiting each caller
// abandons at rate gamma = 1 / theta (theta = mean patience). Abandonment keeps
// the queue stable for any load, so a >= c is allowed; theta = +infinity is
// the Erlang C limit (and then needs a < c).
//
// Create solves the birth-death chain on n = callers in the system (birth
// rate lambda, death rate min(n, c) mu + max(n - c, 0) gamma) in log space,
// truncated once the neglected tail is provably below 1e-15 of the largest
// state's weight. By PASTA an arrival sees this distribution; one finding
// n >= c queues with j = n - c callers ahead, and the figures below condition
// on j:
//   - the time D until it reaches an agent (ignoring its own patience) is a
//     sum of exponential stages with rates c mu + k gamma, k = j down to 0
//     (k callers ahead, who leave by service or abandonment);
//   - it is served iff D < P, its patience P ~ Exp(gamma), which has
//     probability E[e^{-gamma D}] = c mu / (c mu + (j + 1) gamma) (the
//     product of stage survivals telescopes);
//   - it is served within t iff D < P and D <= t:
//       P(D < P, D <= t) = E[e^{-gamma D}; D <= t]
//                        = P(served) * P(D' <= t),
//     where D' has the stage rates raised by gamma: c mu + (k + 1) gamma,
//     k = 0..j (exponential tilting). That hypoexponential with equally
//     spaced rates has the closed form P(D' > t) = P(K <= j) with
//     K ~ NegativeBinomial(r = c mu / gamma + 1, p = e^{-gamma t}) counting
//     failures (the regularized incomplete beta I_{e^{-gamma t}}(r, j + 1));
//     as gamma -> 0 it becomes Poisson(c mu t), the Erlang C wait.
//     The pmf is summed by its ratio recurrence in log space: no alternating
//     sums, no ODE step size.
class ErlangA {
 public:
  // As ErlangC::Create, plus mean_patience (theta, seconds) > 0, possibly
  // +infinity. Returns InvalidArgument naming the bad value (or "unstable"
  // for theta = +infinity with a >= c), and ResourceExhausted when agents
  // exceeds kMaxAgents or the chain would need more than kMaxQueueLength
  // waiting callers to reach the truncation tolerance (patience very long
  // for an overloaded queue).
  static absl::StatusOr<ErlangA> Create(double arrival_rate,
                                        double mean_handle_time, int agents,
                                        double mean_patience);

  // Hard caps on the chain's states (c + 1 without a queue, then the queue),
  // a memory bound of 16 MB of probabilities; far above any real center.
  static constexpr int kMaxAgents = 1000000;
  static constexpr int kMaxQueueLength = 1000000;

  double offered_load() const { return offered_load_; }
  // Carried load / c = E[min(n, c)] / c: the fraction of time an agent is
  // busy, lower than a / c because abandoned callers are never handled.
  double occupancy() const;
  // P(W > 0) = sum over n >= c of p_n: the arrival finds every agent busy.
  double probability_of_waiting() const { return probability_of_waiting_; }
  // P(Ab) = sum over j of p_{c+j} (j + 1) gamma / (c mu + (j + 1) gamma).
  double probability_of_abandoning() const {
    return probability_of_abandoning_;
  }
  // Service level P(served and W <= t) over all callers: answered at once, or
  // queued and answered within t seconds; abandoned callers count as not
  // answered within t, whenever they hang up. t = +infinity gives
  // 1 - P(Ab). InvalidArgument when t is negative or NaN.
  absl::StatusOr<double> ServiceLevel(double t) const;
  // E[time in queue] over all callers (0 for those answered at once, time to
  // answer or to hang up for the others) = sum over j of
  // p_{c+j} (j + 1) / (c mu + (j + 1) gamma). Little's law ties it to the
  // others: P(Ab) = average_wait / theta.
  double average_wait() const { return average_wait_; }
  // Number of states n = 0..N the chain was truncated to (N + 1).
  int truncated_states() const { return static_cast<int>(p_.size()); }

 private:
  ErlangA(double offered_load, double mean_handle_time, int agents,
          double mean_patience, std::vector<double> p);

  double offered_load_;
  double mean_handle_time_;
  int agents_;
  double mean_patience_;
  std::vector<double> p_;  // stationary probability of n in the system
  double probability_of_waiting_ = 0;
  double probability_of_abandoning_ = 0;
  double average_wait_ = 0;
};

}  // namespace routing::simulator

#endif  // BENCH_SIMULATOR_QUEUEING_THEORY_H_
