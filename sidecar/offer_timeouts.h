// File: sidecar/offer_timeouts.h
//
// routingd's --offer_timeout flag: which channels make assignments offers
// (reservations, routing/router.h RouterOptions::offer_timeout) and for how
// long the agent has to accept one.
//
//   absl::StatusOr<OfferTimeouts> t = ParseOfferTimeouts("chat=30s,voice=20s");
//   router_options.offer_timeout = *t;
//
// Syntax: comma-separated CHANNEL=DURATION pairs; CHANNEL is a channel name
// (voice, chat, email, messaging, callback, video), DURATION an Abseil
// duration ("30s", "1m30s", "2500ms") from above 0 up to 1 hour. A channel
// not named makes no offers; "" names none. Errors (InvalidArgument) name
// the pair at fault: an unknown channel, a channel named twice, a duration
// that does not parse or is out of range.
// Thread-safety: stateless.
#ifndef SIDECAR_OFFER_TIMEOUTS_H_
#define SIDECAR_OFFER_TIMEOUTS_H_

#include <array>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "routing/channel.h"

namespace routing::sidecar {

using OfferTimeouts = std::array<absl::Duration, kChannelCount>;

absl::StatusOr<OfferTimeouts> ParseOfferTimeouts(std::string_view flag);

}  // namespace routing::sidecar

#endif  // SIDECAR_OFFER_TIMEOUTS_H_
