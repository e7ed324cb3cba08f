#include "sidecar/http/http_address.h"

#include <arpa/inet.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "sidecar/endpoint_exposure.h"

namespace routing::sidecar::http {

std::string HttpAddress::ListeningPort() const {
  return ipv6 ? absl::StrCat("[", host, "]:", port)
              : absl::StrCat(host, ":", port);
}

absl::StatusOr<HttpAddress> ParseHttpAddress(std::string_view text) {
  auto refuse = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http=", std::string(text), ": ", std::string(why),
                     " (expected HOST:PORT, e.g. 127.0.0.1:8080; --http= "
                     "turns HTTP off)"));
  };
  HttpAddress address;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() ||
        text[close + 1] != ':') {
      return refuse("an IPv6 address is written [ADDRESS]:PORT");
    }
    address.host = std::string(text.substr(1, close - 1));
    address.ipv6 = true;
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return refuse("no port");
    address.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (address.host.find(':') != std::string::npos) {
      return refuse("an IPv6 address is written [ADDRESS]:PORT");
    }
  }
  if (address.host.empty()) return refuse("no host");
  if (address.host == "localhost") address.host = "127.0.0.1";
  unsigned char bytes[16];
  if (inet_pton(address.ipv6 ? AF_INET6 : AF_INET, address.host.c_str(),
                bytes) != 1) {
    return refuse("HOST must be an IP address or localhost");
  }
  int number = -1;
  if (!absl::SimpleAtoi(absl::string_view(port.data(), port.size()), &number) ||
      number < 0 || number > 65535) {
    return refuse("PORT must be 0..65535");
  }
  address.port = number;
  return address;
}

absl::StatusOr<std::vector<std::string>> CheckHttpExposure(
    const HttpAddress& address, bool insecure_listen) {
  std::vector<std::string> warnings;
  if (IsLoopbackEndpoint(absl::StrCat("tcp://", address.ListeningPort()))) {
    return warnings;
  }
  if (!insecure_listen) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--http=", address.ToString(),
        " can be reached from other hosts: anyone who reaches it could read "
        "every waiting contact, agent and decision, unencrypted (HTTP has no "
        "TLS here). Listen on loopback (--http=127.0.0.1:PORT) behind a "
        "reverse proxy, or pass --insecure_listen to accept the risk"));
  }
  warnings.push_back(absl::StrCat(
      "--http=", address.ToString(),
      " listens beyond loopback unencrypted (--insecure_listen): any host "
      "that reaches it may read the supervisor view and the metrics"));
  return warnings;
}

}  // namespace routing::sidecar::http
