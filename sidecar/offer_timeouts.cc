#include "sidecar/offer_timeouts.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace routing::sidecar {

absl::StatusOr<OfferTimeouts> ParseOfferTimeouts(std::string_view flag) {
  OfferTimeouts timeouts = {};
  if (flag.empty()) return timeouts;
  std::array<bool, kChannelCount> named = {};
  for (absl::string_view pair :
       absl::StrSplit(absl::string_view(flag.data(), flag.size()), ',')) {
    const size_t equals = pair.find('=');
    if (equals == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--offer_timeout: \"", pair,
                       "\" is not CHANNEL=DURATION (e.g. chat=30s)"));
    }
    const absl::string_view name = pair.substr(0, equals);
    const absl::string_view value = pair.substr(equals + 1);
    Channel channel;
    if (!ParseChannel(std::string_view(name.data(), name.size()), &channel)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--offer_timeout: unknown channel \"", name,
          "\" (voice, chat, email, messaging, callback or video)"));
    }
    const int index = ChannelIndex(channel);
    if (named[index]) {
      return absl::InvalidArgumentError(
          absl::StrCat("--offer_timeout: channel ", name, " is named twice"));
    }
    named[index] = true;
    absl::Duration timeout;
    if (!absl::ParseDuration(value, &timeout)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--offer_timeout: \"", value, "\" (for ", name,
                       ") is not a duration such as 30s or 1m30s"));
    }
    if (timeout <= absl::ZeroDuration() || timeout > absl::Hours(1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--offer_timeout: ", name, "=", value,
                       " is out of range (above 0, at most 1h)"));
    }
    timeouts[index] = timeout;
  }
  return timeouts;
}

}  // namespace routing::sidecar
