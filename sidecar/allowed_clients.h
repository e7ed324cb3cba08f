// File: sidecar/allowed_clients.h
//
// routingd's allowed-clients file (--curve_allowed_clients_file): the CURVE
// client keys that may connect, each with its roles (client_roles.h). An
// operator edits it by hand:
//
//   # billing chatbot: routes its conversations and releases them
//   rq2x...the client's Z85 public key, 40 characters...  route
//   # workforce management: keeps the roster and agent states in sync
//   Ab9+...                                              agents
//   Zz1!...                                              route,agents
//   Qm7&...                                              admin  # rules deploys
//
// One client per line: its public key as `routing_cli keygen` prints it,
// then its roles (route, agents, admin) separated by commas or blanks. A
// line whose first non-blank character is '#' is a comment (no key starts
// with '#': Z85 cannot); after the key, '#' starts a comment to the end of
// the line (roles contain none). Blank lines are skipped.
//
// A key alone on its line, the format before roles existed, gets every role,
// so deployments that upgrade keep working; each such line is reported as a
// warning to print at start, asking for the roles the client needs.
//
//   absl::StatusOr<AllowedClients> allowed = ReadAllowedClientsFile(path);
//   if (!allowed.ok()) ... refuse to start: the message lists every problem
//   for (const std::string& warning : allowed->warnings) ... print it
//
// Errors: InvalidArgument with one "FILE:LINE: message" line per problem (a
// key that is not 40 Z85 characters, an unknown role, a key listed twice),
// or "FILE: ..." for a file that lists no key at all: an allow-list that
// allows nobody is a mistake, and leaving the flag out is how to let any
// CURVE client in. NotFound when the file cannot be read.
// Thread-safety: pure functions; the result is a plain value.
#ifndef SIDECAR_ALLOWED_CLIENTS_H_
#define SIDECAR_ALLOWED_CLIENTS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sidecar/client_roles.h"

namespace routing::sidecar {

struct AllowedClient {
  std::string public_key;      // Z85, 40 characters.
  std::string raw_public_key;  // The 32 bytes a ZAP request carries.
  RoleSet roles;               // Never empty.
  int line = 0;                // Where the file lists it.
};

struct AllowedClients {
  std::vector<AllowedClient> clients;  // In file order.
  // "FILE:LINE: message" for each key listed without roles.
  std::vector<std::string> warnings;
};

// Parses the file's text; `file_name` labels the problems.
absl::StatusOr<AllowedClients> ParseAllowedClients(std::string_view text,
                                                   std::string_view file_name);
absl::StatusOr<AllowedClients> ReadAllowedClientsFile(const std::string& path);

// True for a 40-character Z85 text that decodes to a 32-byte key.
bool IsZ85Key(std::string_view text);

}  // namespace routing::sidecar

#endif  // SIDECAR_ALLOWED_CLIENTS_H_
