// File: routing/contact_kpis.cc
#include "routing/contact_kpis.h"

#include "absl/strings/str_cat.h"

namespace routing {

absl::Status ValidateSurvey(const ContactSurvey& survey) {
  if (survey.csat.has_value() &&
      (*survey.csat < kMinCsat || *survey.csat > kMaxCsat)) {
    return absl::InvalidArgumentError(
        absl::StrCat("survey csat ", *survey.csat, " is out of range ",
                     kMinCsat, "..", kMaxCsat));
  }
  if (survey.nps.has_value() && (*survey.nps < 0 || *survey.nps > kMaxNps)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "survey nps ", *survey.nps, " is out of range 0..", kMaxNps));
  }
  return absl::OkStatus();
}

double ContactKpis::FirstContactResolution() const {
  return released == 0 ? 0.0
                       : static_cast<double>(first_contact_resolved) / released;
}

absl::Duration ContactKpis::AverageHandleTime() const {
  return released == 0 ? absl::ZeroDuration() : total_handle_time / released;
}

double ContactKpis::AverageCsat() const {
  return csat_responses == 0 ? 0.0
                             : static_cast<double>(csat_sum) / csat_responses;
}

double ContactKpis::NetPromoterScore() const {
  return nps_responses == 0
             ? 0.0
             : 100.0 * static_cast<double>(promoters - detractors) /
                   nps_responses;
}

}  // namespace routing
