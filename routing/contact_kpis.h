// File: routing/contact_kpis.h
//
// The outcome KPIs contact centers are run by, kept per queue (QueueStats)
// and per agent (AgentStatus): first-contact resolution, average handle time,
// customer satisfaction (CSAT) and Net Promoter Score (NPS) from post-contact
// surveys. Counted on every Release; a survey is optional.
//
//   router->Release("call-1", routing::ContactOutcome::kResolved,
//                   routing::ContactSurvey{.csat = 5, .nps = 9});
//   const routing::ContactKpis& k = router->Stats().queues[0].kpis;
//   k.FirstContactResolution();   // 0..1
//   k.NetPromoterScore();         // -100..100
#ifndef ROUTING_CONTACT_KPIS_H_
#define ROUTING_CONTACT_KPIS_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace routing {

// The customer's answers to the post-contact survey, when they gave them.
struct ContactSurvey {
  std::optional<int> csat;  // 1..5 (5: very satisfied).
  std::optional<int> nps;   // 0..10 ("would you recommend us?").
};

inline constexpr int kMinCsat = 1;
inline constexpr int kMaxCsat = 5;
inline constexpr int kMaxNps = 10;

// InvalidArgument naming the field and the allowed range for a CSAT outside
// 1..5 or an NPS outside 0..10; Ok for an absent answer.
absl::Status ValidateSurvey(const ContactSurvey& survey);

// Counters since the router was created.
struct ContactKpis {
  int64_t released = 0;  // Contacts released (handled to the end).
  int64_t resolved = 0;  // Of which released with ContactOutcome::kResolved.
  // Of the resolved, those whose customer had no earlier contact in the same
  // queue that arrived within RouterOptions::fcr_window before this one's
  // arrival (contacts without a customer id always count as first).
  int64_t first_contact_resolved = 0;
  absl::Duration total_handle_time;  // Assignment to release, summed.
  int64_t csat_responses = 0;
  int64_t csat_sum = 0;  // Of the 1..5 answers.
  int64_t nps_responses = 0;
  int64_t promoters = 0;   // Answered 9 or 10.
  int64_t detractors = 0;  // Answered 0..6.

  // first_contact_resolved / released; 0 when nothing was released.
  double FirstContactResolution() const;
  // total_handle_time / released; zero when nothing was released.
  absl::Duration AverageHandleTime() const;
  // csat_sum / csat_responses (1..5); 0 when no survey answered it.
  double AverageCsat() const;
  // 100 x (promoters - detractors) / nps_responses (-100..100); 0 when none.
  double NetPromoterScore() const;
};

}  // namespace routing

#endif  // ROUTING_CONTACT_KPIS_H_
