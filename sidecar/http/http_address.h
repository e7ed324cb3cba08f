// File: sidecar/http/http_address.h
//
// routingd's --http=HOST:PORT: parsed, and checked against who can reach it.
// The endpoints are read-only, but they show every waiting contact and agent
// in plain text (no TLS), so they listen on loopback unless the operator
// accepts the risk with --insecure_listen, as for the ZeroMQ sockets
// (endpoint_exposure.h).
//
//   absl::StatusOr<HttpAddress> address = ParseHttpAddress("127.0.0.1:8080");
//   absl::StatusOr<std::vector<std::string>> warnings =
//       CheckHttpExposure(*address, insecure_listen);
//
// HOST is an IPv4 address, an IPv6 address in brackets ([::1]), or
// localhost (taken as 127.0.0.1); the server resolves no names. (Debian
// 12's CivetWeb is built without IPv6: the server refuses [::1] at start.)
// PORT is 0..65535, 0 meaning any free port (tests).
// Thread-safety: pure functions.
#ifndef SIDECAR_HTTP_HTTP_ADDRESS_H_
#define SIDECAR_HTTP_HTTP_ADDRESS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace routing::sidecar::http {

struct HttpAddress {
  std::string host;  // "127.0.0.1", "::1" (no brackets).
  int port = 0;
  bool ipv6 = false;
  // As civetweb's listening_ports option wants it: "127.0.0.1:8080",
  // "[::1]:8080".
  std::string ListeningPort() const;
  // As a person reads it, and as the flag wrote it: "127.0.0.1:8080".
  std::string ToString() const { return ListeningPort(); }
};

// InvalidArgument naming the flag value and what is wrong.
absl::StatusOr<HttpAddress> ParseHttpAddress(std::string_view text);

// FailedPrecondition for an address beyond loopback without
// insecure_listen; with it, a warning to print at start.
absl::StatusOr<std::vector<std::string>> CheckHttpExposure(
    const HttpAddress& address, bool insecure_listen);

}  // namespace routing::sidecar::http

#endif  // SIDECAR_HTTP_HTTP_ADDRESS_H_
