// File: routing/internal/kpi_counters.h
//
// The atomic counters behind ContactKpis (routing/contact_kpis.h), one set
// per queue and one per agent slot. Count() runs on the Release path: relaxed
// increments only, no lock. Read() copies them one by one: a monitoring
// snapshot, not a transaction (a release counted meanwhile may show in some
// fields and not yet in others).
#ifndef ROUTING_INTERNAL_KPI_COUNTERS_H_
#define ROUTING_INTERNAL_KPI_COUNTERS_H_

#include <atomic>
#include <cstdint>

#include "absl/time/time.h"
#include "routing/contact_kpis.h"
#include "routing/interaction.h"

namespace routing::internal {

struct KpiCounters {
  std::atomic<int64_t> released{0};
  std::atomic<int64_t> resolved{0};
  std::atomic<int64_t> first_contact_resolved{0};
  std::atomic<int64_t> handle_ns{0};
  std::atomic<int64_t> csat_responses{0};
  std::atomic<int64_t> csat_sum{0};
  std::atomic<int64_t> nps_responses{0};
  std::atomic<int64_t> promoters{0};
  std::atomic<int64_t> detractors{0};

  // One released contact: handled for `handled_ns`, ended with `outcome`;
  // `first_contact` when no earlier contact of its customer in its queue fell
  // within the FCR window. The survey is valid (ValidateSurvey).
  void Count(ContactOutcome outcome, bool first_contact, int64_t handled_ns,
             const ContactSurvey& survey) {
    constexpr auto kRelaxed = std::memory_order_relaxed;
    released.fetch_add(1, kRelaxed);
    if (outcome == ContactOutcome::kResolved) {
      resolved.fetch_add(1, kRelaxed);
      if (first_contact) first_contact_resolved.fetch_add(1, kRelaxed);
    }
    if (handled_ns > 0) handle_ns.fetch_add(handled_ns, kRelaxed);
    if (survey.csat.has_value()) {
      csat_responses.fetch_add(1, kRelaxed);
      csat_sum.fetch_add(*survey.csat, kRelaxed);
    }
    if (survey.nps.has_value()) {
      nps_responses.fetch_add(1, kRelaxed);
      if (*survey.nps >= 9) promoters.fetch_add(1, kRelaxed);
      if (*survey.nps <= 6) detractors.fetch_add(1, kRelaxed);
    }
  }

  ContactKpis Read() const {
    constexpr auto kRelaxed = std::memory_order_relaxed;
    ContactKpis k;
    k.released = released.load(kRelaxed);
    k.resolved = resolved.load(kRelaxed);
    k.first_contact_resolved = first_contact_resolved.load(kRelaxed);
    k.total_handle_time = absl::Nanoseconds(handle_ns.load(kRelaxed));
    k.csat_responses = csat_responses.load(kRelaxed);
    k.csat_sum = csat_sum.load(kRelaxed);
    k.nps_responses = nps_responses.load(kRelaxed);
    k.promoters = promoters.load(kRelaxed);
    k.detractors = detractors.load(kRelaxed);
    return k;
  }

  // A re-added agent starts from zero.
  void Reset() {
    for (std::atomic<int64_t>* c :
         {&released, &resolved, &first_contact_resolved, &handle_ns,
          &csat_responses, &csat_sum, &nps_responses, &promoters,
          &detractors}) {
      c->store(0, std::memory_order_relaxed);
    }
  }
};

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_KPI_COUNTERS_H_
