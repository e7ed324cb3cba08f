#include "sidecar/endpoint_exposure.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace routing::sidecar {
namespace {

// The first octet of IPv4's loopback block, 127.0.0.0/8 (RFC 1122).
constexpr unsigned char kIpv4LoopbackOctet = 127;

bool IsLoopbackHost(std::string_view host) {
  if (absl::AsciiStrToLower(std::string(host)) == "localhost") return true;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string text(host);  // inet_pton reads a C string.
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return reinterpret_cast<const unsigned char*>(&v4.s_addr)[0] ==
           kIpv4LoopbackOctet;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    // ::ffff:127.x.y.z, IPv4's loopback written as IPv6.
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == kIpv4LoopbackOctet;
  }
  return false;
}

}  // namespace

bool IsLoopbackEndpoint(std::string_view endpoint) {
  if (endpoint.starts_with("ipc://") || endpoint.starts_with("inproc://")) {
    return true;
  }
  constexpr std::string_view kTcp = "tcp://";
  if (!endpoint.starts_with(kTcp)) return false;
  const std::string_view address = endpoint.substr(kTcp.size());
  // "source;destination" names a source address for connects; routingd
  // binds, and anything unusual counts as beyond loopback.
  if (address.find(';') != std::string_view::npos) return false;
  const size_t port = address.rfind(':');
  if (port == std::string_view::npos) return false;
  return IsLoopbackHost(address.substr(0, port));
}

absl::StatusOr<std::vector<std::string>> CheckUnencryptedListening(
    const std::vector<ListeningEndpoint>& endpoints, bool curve,
    bool insecure_listen) {
  std::vector<std::string> warnings;
  if (curve) {
    if (insecure_listen) {
      warnings.push_back(
          "--insecure_listen changes nothing: CURVE is on, so requests and "
          "events are encrypted and only allowed clients get in");
    }
    return warnings;
  }
  for (const ListeningEndpoint& e : endpoints) {
    if (IsLoopbackEndpoint(e.endpoint)) continue;
    if (!insecure_listen) {
      return absl::FailedPreconditionError(absl::StrCat(
          e.flag, "=", e.endpoint,
          " can be reached from other hosts and CURVE is off: anyone who "
          "reaches it could route contacts, change the roster and reload the "
          "rules, or read every event with its handoff context, all "
          "unencrypted. Listen on loopback (tcp://127.0.0.1:PORT) or "
          "ipc://, turn CURVE on (--curve_secret_key_file), or pass "
          "--insecure_listen to accept the risk"));
    }
    warnings.push_back(absl::StrCat(
        e.flag, "=", e.endpoint,
        " listens beyond loopback unencrypted (--insecure_listen): any host "
        "that reaches it may send every request, and the traffic can be read "
        "on the way"));
  }
  if (insecure_listen && warnings.empty()) {
    warnings.push_back(
        "--insecure_listen changes nothing: every endpoint is on loopback or "
        "ipc://");
  }
  return warnings;
}

}  // namespace routing::sidecar
