// File: sidecar/endpoint_exposure.h
//
// Who can reach routingd's sockets. Without CURVE, whoever reaches the
// request socket may route, change the roster and reload the rules, and
// every request and event crosses the network in plain text. So without
// CURVE routingd binds only where nothing but this host can reach it, unless
// the operator accepts the risk with --insecure_listen:
//
//   loopback   ipc://..., inproc://..., tcp:// on 127.0.0.0/8, ::1 (also
//              [::1] and ::ffff:127.x.y.z) or localhost
//   beyond     everything else: tcp://*:5555, tcp://0.0.0.0:5555,
//              tcp://[::]:5555, any other address or host name, interface
//              names (tcp://eth0:5555, even tcp://lo:5555), and the other
//              transports (ws://, pgm://, ...)
//
//   absl::StatusOr<std::vector<std::string>> warnings =
//       CheckUnencryptedListening({{"--listen", listen}, {"--events", events}},
//                                 /*curve=*/false, /*insecure_listen=*/false);
//   if (!warnings.ok()) ... refuse to start with its message
//   for (const std::string& w : *warnings) ... print at start
//
// The check reads the endpoint text only; it resolves no name and asks no
// interface, so it errs on the side of "beyond".
// Thread-safety: pure functions.
#ifndef SIDECAR_ENDPOINT_EXPOSURE_H_
#define SIDECAR_ENDPOINT_EXPOSURE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace routing::sidecar {

// True when only this host can reach a socket bound to `endpoint` (the
// loopback list above).
bool IsLoopbackEndpoint(std::string_view endpoint);

struct ListeningEndpoint {
  std::string flag;      // The flag that set it, e.g. "--listen".
  std::string endpoint;  // E.g. "tcp://0.0.0.0:5555".
};

// With CURVE, allows anything and warns of nothing. Without CURVE, an
// endpoint beyond loopback is refused with FailedPrecondition naming its
// flag, the endpoint and the ways out (loopback, CURVE, --insecure_listen),
// unless insecure_listen; then the result holds one warning per such
// endpoint, to print at start. --insecure_listen where it changes nothing
// is a warning too, so a leftover flag does not go unnoticed.
absl::StatusOr<std::vector<std::string>> CheckUnencryptedListening(
    const std::vector<ListeningEndpoint>& endpoints, bool curve,
    bool insecure_listen);

}  // namespace routing::sidecar

#endif  // SIDECAR_ENDPOINT_EXPOSURE_H_
