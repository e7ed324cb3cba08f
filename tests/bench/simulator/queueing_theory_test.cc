#include "bench/simulator/queueing_theory.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace routing::simulator {
namespace {

using ::testing::HasSubstr;

constexpr double kInf = std::numeric_limits<double>::infinity();

// Erlang C from its textbook definition, in long double:
//   C = (a^c / c!) (c / (c - a)) / (sum_{k<c} a^k / k! + (a^c / c!) c / (c -
//   a))
// with the terms built in log space so that hundreds of agents do not overflow.
long double ErlangCByFactorials(long double a, int c) {
  const long double log_top =
      c * std::log(a) - std::lgamma(c + 1.0L) + std::log(c / (c - a));
  long double sum = 0;
  for (int k = 0; k < c; ++k) {
    sum += std::exp(k * std::log(a) - std::lgamma(k + 1.0L) - log_top);
  }
  return 1 / (sum + 1);
}

// Stationary distribution of the M/M/c+M chain truncated at n = max_n, by
// Gaussian elimination on the balance equations pi Q = 0 (one replaced by
// sum pi = 1): no product-form shortcut, unlike the library.
std::vector<long double> SolveChainDirectly(double lambda, double aht, int c,
                                            double theta, int max_n) {
  const int size = max_n + 1;
  auto death = [&](int n) -> long double {
    return std::min(n, c) / static_cast<long double>(aht) +
           std::max(n - c, 0) / static_cast<long double>(theta);
  };
  // Row i of the system: sum_n pi_n Q(n, i) = 0, i.e. the transpose of Q.
  std::vector<std::vector<long double>> m(
      size, std::vector<long double>(size + 1, 0));
  for (int n = 0; n < size; ++n) {
    if (n + 1 < size) {
      m[n + 1][n] += lambda;
      m[n][n] -= lambda;
    }
    if (n > 0) {
      m[n - 1][n] += death(n);
      m[n][n] -= death(n);
    }
  }
  for (int n = 0; n < size; ++n) m[size - 1][n] = 1;
  m[size - 1][size] = 1;
  for (int col = 0; col < size; ++col) {
    int pivot = col;
    for (int r = col + 1; r < size; ++r) {
      if (std::fabs(m[r][col]) > std::fabs(m[pivot][col])) pivot = r;
    }
    std::swap(m[col], m[pivot]);
    for (int r = 0; r < size; ++r) {
      if (r == col || m[r][col] == 0) continue;
      const long double f = m[r][col] / m[col][col];
      for (int k = col; k <= size; ++k) m[r][k] -= f * m[col][k];
    }
  }
  std::vector<long double> pi(size);
  for (int n = 0; n < size; ++n) pi[n] = m[n][size] / m[n][n];
  return pi;
}

// P(served and waited <= t) from a stationary distribution, by uniformization
// of the tagged caller's own chain (position i in queue, served, abandoned):
// independent of the library's negative-binomial closed form.
long double ServiceLevelByUniformization(const std::vector<long double>& pi,
                                         double aht, int c, double theta,
                                         double t) {
  const long double c_mu = c / static_cast<long double>(aht);
  const long double gamma = 1 / static_cast<long double>(theta);
  long double answered = 0;
  for (int n = 0; n < c; ++n) answered += pi[n];
  const int positions = static_cast<int>(pi.size()) - c;  // i = 1..positions
  std::vector<long double> q(positions + 1, 0);           // q[0] unused
  for (int i = 1; i <= positions; ++i) q[i] = pi[c + i - 1];
  const long double rate = c_mu + positions * gamma;
  long double served = 0;  // mass absorbed in "served" after k jumps
  long double poisson = std::exp(-rate * t);  // P(k jumps by t)
  long double cumulative = 0;
  long double result = 0;
  for (int k = 0; cumulative < 1 - 1e-18L && k < 100000; ++k) {
    result += poisson * served;
    cumulative += poisson;
    // One jump of the uniformized chain.
    std::vector<long double> next(positions + 1, 0);
    for (int i = 1; i <= positions; ++i) {
      const long double advance = c_mu + (i - 1) * gamma;
      const long double stay = 1 - (advance + gamma) / rate;
      next[i] += q[i] * stay;
      if (i == 1) {
        served += q[i] * advance / rate;
      } else {
        next[i - 1] += q[i] * advance / rate;
      }
    }
    q = next;
    poisson *= rate * t / (k + 1);
  }
  return answered + result;
}

// --- Erlang C ---------------------------------------------------------------

TEST(ErlangCTest, TextbookTenErlangs) {
  // 100 calls in 30 minutes, 3-minute handle time: a = 10 Erlangs.
  auto eleven = ErlangC::Create(100.0 / 1800, 180, 11);
  ASSERT_TRUE(eleven.ok()) << eleven.status();
  EXPECT_NEAR(eleven->offered_load(), 10, 1e-12);
  EXPECT_NEAR(eleven->occupancy(), 10.0 / 11, 1e-12);
  EXPECT_NEAR(eleven->probability_of_waiting(), 0.6821, 1e-4);
  EXPECT_NEAR(eleven->ServiceLevel(20).value(), 0.3897, 1e-4);
  EXPECT_NEAR(eleven->average_speed_of_answer(), 122.8, 0.05);

  auto twelve = ErlangC::Create(100.0 / 1800, 180, 12);
  ASSERT_TRUE(twelve.ok()) << twelve.status();
  EXPECT_NEAR(twelve->probability_of_waiting(), 0.4494, 1e-4);
}

TEST(ErlangCTest, MatchesFactorialFormula) {
  for (double a : {0.1, 0.9, 2.5, 7.0, 10.0, 19.5, 45.0}) {
    for (int c = static_cast<int>(std::floor(a)) + 1; c <= a + 12; ++c) {
      auto erlang = ErlangC::Create(a / 60, 60, c);
      ASSERT_TRUE(erlang.ok()) << erlang.status();
      const double expected = ErlangCByFactorials(a, c);
      EXPECT_NEAR(erlang->probability_of_waiting(), expected, 1e-12 * expected)
          << "a=" << a << " c=" << c;
    }
  }
}

TEST(ErlangCTest, StableForHundredsOfAgents) {
  for (int c : {200, 1000, 5000}) {
    const double a = 0.97 * c;
    auto erlang = ErlangC::Create(a / 300, 300, c);
    ASSERT_TRUE(erlang.ok()) << erlang.status();
    const double expected = ErlangCByFactorials(a, c);
    EXPECT_GT(erlang->probability_of_waiting(), 0);
    EXPECT_LT(erlang->probability_of_waiting(), 1);
    EXPECT_NEAR(erlang->probability_of_waiting(), expected, 1e-9 * expected)
        << "c=" << c;
  }
}

TEST(ErlangCTest, ServiceLevelAndSpeedOfAnswer) {
  auto erlang = ErlangC::Create(0.1, 240, 27);  // a = 24
  ASSERT_TRUE(erlang.ok()) << erlang.status();
  const double wait = erlang->probability_of_waiting();
  EXPECT_DOUBLE_EQ(erlang->ServiceLevel(0).value(), 1 - wait);
  EXPECT_DOUBLE_EQ(erlang->ServiceLevel(30).value(),
                   1 - wait * std::exp(-(27 - 24) * 30.0 / 240));
  EXPECT_DOUBLE_EQ(erlang->ServiceLevel(kInf).value(), 1);
  EXPECT_DOUBLE_EQ(erlang->average_speed_of_answer(), wait * 240 / 3);
  // E[W] is the integral of P(W > t): ties the two formulas together.
  double integral = 0;
  const double dt = 0.01;
  for (double t = 0; t < 5000; t += dt) {
    integral += dt *
                (2 - erlang->ServiceLevel(t).value() -
                 erlang->ServiceLevel(t + dt).value()) /
                2;
  }
  EXPECT_NEAR(integral, erlang->average_speed_of_answer(), 1e-6);
}

TEST(ErlangCTest, RejectsInvalidInput) {
  struct Case {
    double lambda, aht;
    int c;
    std::string message;
  };
  for (const Case& bad : std::vector<Case>{
           {1, 1, 0, "agents must be at least 1, got 0"},
           {0, 1, 1, "arrival_rate"},
           {-2, 1, 1, "got -2"},
           {std::nan(""), 1, 1, "arrival_rate"},
           {kInf, 1, 1, "arrival_rate"},
           {1, 0, 1, "mean_handle_time"},
           {1, -3, 1, "got -3"},
           {1, 10, 10, "unstable"},
           {2, 10, 10, "offered load a = arrival_rate * mean_handle_time = 20"},
       }) {
    auto erlang = ErlangC::Create(bad.lambda, bad.aht, bad.c);
    ASSERT_FALSE(erlang.ok()) << bad.message;
    EXPECT_EQ(erlang.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(erlang.status().message(), HasSubstr(bad.message));
  }
  auto erlang = ErlangC::Create(1, 1, 2);
  ASSERT_TRUE(erlang.ok());
  EXPECT_EQ(erlang->ServiceLevel(-1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(erlang->ServiceLevel(-1).status().message(), HasSubstr("-1"));
  EXPECT_FALSE(erlang->ServiceLevel(std::nan("")).ok());
}

// --- Erlang A ---------------------------------------------------------------

TEST(ErlangATest, InfinitePatienceIsErlangC) {
  for (int c : {1, 11, 12, 300}) {
    const double lambda = (c - 0.5) / 180;
    auto a = ErlangA::Create(lambda, 180, c, kInf);
    auto erlang_c = ErlangC::Create(lambda, 180, c);
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(erlang_c.ok()) << erlang_c.status();
    EXPECT_NEAR(a->probability_of_waiting(), erlang_c->probability_of_waiting(),
                1e-12);
    EXPECT_EQ(a->probability_of_abandoning(), 0);
    EXPECT_NEAR(a->average_wait(), erlang_c->average_speed_of_answer(),
                1e-9 * erlang_c->average_speed_of_answer());
    EXPECT_NEAR(a->occupancy(), erlang_c->occupancy(), 1e-12);
    for (double t : {0.0, 5.0, 20.0, 60.0, 600.0}) {
      // 1e-10: the log-space pmf recurrence accumulates rounding over
      // c mu t ~ 1000 steps at c = 300.
      EXPECT_NEAR(a->ServiceLevel(t).value(), erlang_c->ServiceLevel(t).value(),
                  1e-10)
          << "c=" << c << " t=" << t;
    }
  }
  auto unstable = ErlangA::Create(0.1, 100, 10, kInf);
  EXPECT_EQ(unstable.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unstable.status().message(), HasSubstr("unstable"));
}

TEST(ErlangATest, VeryPatientCallersMatchErlangC) {
  for (int c : {11, 12, 50}) {
    const double lambda = 0.9 * c / 180;
    auto erlang_c = ErlangC::Create(lambda, 180, c);
    ASSERT_TRUE(erlang_c.ok()) << erlang_c.status();
    const double asa = erlang_c->average_speed_of_answer();
    // The gap is physical, not numerical: the queue's weights shift by about
    // E[j^2] / (2 c mu theta), so it shrinks in proportion to 1 / theta.
    for (double theta : {1e9, 1e12}) {
      auto a = ErlangA::Create(lambda, 180, c, theta);
      ASSERT_TRUE(a.ok()) << a.status();
      const double tolerance = 1e3 / theta;  // 1e-6, then 1e-9
      EXPECT_NEAR(a->probability_of_waiting(),
                  erlang_c->probability_of_waiting(), tolerance);
      EXPECT_LT(a->probability_of_abandoning(), tolerance);
      EXPECT_NEAR(a->average_wait(), asa, 10 * tolerance * asa);
      for (double t : {0.0, 20.0, 60.0, 600.0}) {
        EXPECT_NEAR(a->ServiceLevel(t).value(),
                    erlang_c->ServiceLevel(t).value(), tolerance)
            << "c=" << c << " theta=" << theta << " t=" << t;
      }
    }
  }
}

TEST(ErlangATest, TinyChainAgainstDirectSolve) {
  struct Case {
    double lambda, aht;
    int c;
    double theta;
  };
  for (const Case& k : std::vector<Case>{
           {1, 1, 1, 0.5}, {1.5, 1, 1, 2}, {3, 1, 2, 1}, {0.05, 30, 1, 10}}) {
    auto a = ErlangA::Create(k.lambda, k.aht, k.c, k.theta);
    ASSERT_TRUE(a.ok()) << a.status();
    const std::vector<long double> pi =
        SolveChainDirectly(k.lambda, k.aht, k.c, k.theta, 80);
    long double wait = 0, queue = 0;
    for (int n = k.c; n < static_cast<int>(pi.size()); ++n) {
      wait += pi[n];
      queue += (n - k.c) * pi[n];
    }
    // Abandonment rate gamma E[Q] over arrival rate; Little: E[W] = E[Q] /
    // lambda.
    EXPECT_NEAR(a->probability_of_waiting(), wait, 1e-12);
    EXPECT_NEAR(a->probability_of_abandoning(), queue / k.theta / k.lambda,
                1e-12);
    EXPECT_NEAR(a->average_wait(), queue / k.lambda, 1e-12);
    for (double t : {0.0, 0.3, 1.0, 4.0}) {
      EXPECT_NEAR(a->ServiceLevel(t).value(),
                  ServiceLevelByUniformization(pi, k.aht, k.c, k.theta, t),
                  1e-12)
          << "lambda=" << k.lambda << " c=" << k.c << " t=" << t;
    }
  }
}

TEST(ErlangATest, ProbabilitiesAreConsistent) {
  for (double theta : {5.0, 60.0, 600.0}) {
    for (int c : {5, 10, 20}) {
      const double lambda = 10.0 / 120;  // a = 10
      auto a = ErlangA::Create(lambda, 120, c, theta);
      ASSERT_TRUE(a.ok()) << a.status();
      const double abandon = a->probability_of_abandoning();
      EXPECT_NEAR(a->ServiceLevel(kInf).value() + abandon, 1, 1e-15);
      EXPECT_NEAR(a->ServiceLevel(0).value(), 1 - a->probability_of_waiting(),
                  1e-12);
      EXPECT_NEAR(abandon, a->average_wait() / theta, 1e-12);
      // Flow balance: agents are busy with exactly the callers not lost.
      EXPECT_NEAR(a->occupancy() * c, 10 * (1 - abandon), 1e-9);
      double previous = 0;
      for (double t = 0; t <= 3600; t += 10) {
        const double sl = a->ServiceLevel(t).value();
        EXPECT_GE(sl, previous);
        EXPECT_LE(sl, 1 - abandon + 1e-15);
        previous = sl;
      }
      EXPECT_NEAR(previous, 1 - abandon, 1e-9);
    }
  }
}

TEST(ErlangATest, MoreAgentsLessAbandonment) {
  double previous_abandon = 1, previous_sl = 0;
  for (int c = 6; c <= 16; ++c) {
    auto a = ErlangA::Create(10.0 / 180, 180, c, 90);
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_LT(a->probability_of_abandoning(), previous_abandon) << c;
    EXPECT_GT(a->ServiceLevel(20).value(), previous_sl) << c;
    previous_abandon = a->probability_of_abandoning();
    previous_sl = a->ServiceLevel(20).value();
  }
}

TEST(ErlangATest, ShorterPatienceMoreAbandonmentLessWait) {
  double previous_abandon = 0, previous_wait = kInf;
  for (double theta : {1000.0, 300.0, 120.0, 60.0, 10.0, 1.0}) {
    auto a = ErlangA::Create(10.0 / 180, 180, 10, theta);
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_GT(a->probability_of_abandoning(), previous_abandon) << theta;
    EXPECT_LT(a->average_wait(), previous_wait) << theta;
    previous_abandon = a->probability_of_abandoning();
    previous_wait = a->average_wait();
  }
}

TEST(ErlangATest, StableWhenOverloaded) {
  // a = 20 Erlangs on 10 agents: at most half the callers can be handled.
  auto a = ErlangA::Create(20.0 / 180, 180, 10, 60);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_GT(a->probability_of_waiting(), 0.9);
  EXPECT_GE(a->probability_of_abandoning(), 0.5);
  EXPECT_LT(a->probability_of_abandoning(), 1);
  EXPECT_GT(a->occupancy(), 0.98);
  EXPECT_LE(a->occupancy(), 1);
  const double sl = a->ServiceLevel(20).value();
  EXPECT_GT(sl, 0);
  EXPECT_LT(sl, 1 - a->probability_of_abandoning());

  // Hundreds of agents, overloaded, short patience: still finite and sane.
  auto big = ErlangA::Create(600.0 / 300, 300, 500, 30);
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_NEAR(big->occupancy() * 500,
              600 * (1 - big->probability_of_abandoning()), 1e-6);
  EXPECT_GT(big->ServiceLevel(10).value(), 0);
}

TEST(ErlangATest, RejectsInvalidInputAndHopelessTruncation) {
  auto no_agents = ErlangA::Create(1, 1, 0, 10);
  EXPECT_EQ(no_agents.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(no_agents.status().message(), HasSubstr("agents"));
  for (double theta : {0.0, -5.0, std::nan("")}) {
    auto bad = ErlangA::Create(1, 1, 2, theta);
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(bad.status().message(), HasSubstr("mean_patience"));
  }
  auto a = ErlangA::Create(1, 1, 2, 10);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->ServiceLevel(-0.5).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Overloaded with 30-year patience: the queue would hold billions.
  auto hopeless = ErlangA::Create(20, 1, 10, 1e9);
  EXPECT_EQ(hopeless.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(hopeless.status().message(), HasSubstr("patience"));
  auto huge = ErlangA::Create(1, 1, ErlangA::kMaxAgents + 1, 10);
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(huge.status().message(), HasSubstr("agents = 1000001"));
}

}  // namespace
}  // namespace routing::simulator
