#include "sidecar/allowed_clients.h"

#include <zmq.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace routing::sidecar {
namespace {

constexpr size_t kZ85KeyChars = 40;
constexpr size_t kRawKeyBytes = 32;
// A bad key is quoted in the message up to this many characters.
constexpr size_t kQuotedKeyChars = 48;

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

absl::string_view Absl(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

std::string Quoted(absl::string_view text) {
  if (text.size() <= kQuotedKeyChars) return absl::StrCat("\"", text, "\"");
  return absl::StrCat("\"", text.substr(0, kQuotedKeyChars), "...\"");
}

std::optional<std::string> DecodeZ85Key(absl::string_view text) {
  if (text.size() != kZ85KeyChars) return std::nullopt;
  const std::string terminated(text);  // zmq_z85_decode reads a C string.
  uint8_t raw[kRawKeyBytes];
  if (zmq_z85_decode(raw, terminated.c_str()) == nullptr) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(raw), kRawKeyBytes);
}

}  // namespace

bool IsZ85Key(std::string_view text) {
  return DecodeZ85Key(Absl(text)).has_value();
}

absl::StatusOr<AllowedClients> ParseAllowedClients(std::string_view text,
                                                   std::string_view file_name) {
  AllowedClients allowed;
  std::vector<std::string> problems;
  absl::flat_hash_map<std::string, int> line_of_key;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(Absl(text), '\n')) {
    ++line_number;
    const std::string where =
        absl::StrCat(Absl(file_name), ":", line_number, ": ");
    line = absl::StripAsciiWhitespace(line);  // Also a CRLF's '\r'.
    if (line.empty()) continue;
    const size_t key_end =
        std::find_if(line.begin(), line.end(), IsBlank) - line.begin();
    // No key starts with '#': a Z85 group starting with '#' (or '$') is
    // above 2^32 and does not decode. So a comment is never a key.
    if (line[0] == '#') continue;
    const absl::string_view key = line.substr(0, key_end);
    std::optional<std::string> raw_key = DecodeZ85Key(key);
    if (!raw_key.has_value()) {
      problems.push_back(absl::StrCat(
          where, "key ", Quoted(key),
          key.size() == kZ85KeyChars
              ? " is not valid Z85"
              : absl::StrCat(" has ", key.size(), " characters"),
          "; a client public key is 40 Z85 characters, as `routing_cli "
          "keygen` prints it"));
      continue;
    }
    absl::string_view rest = line.substr(key_end);
    if (size_t comment = rest.find('#'); comment != absl::string_view::npos) {
      rest = rest.substr(0, comment);
    }
    RoleSet roles;
    bool roles_ok = true;
    for (absl::string_view name :
         absl::StrSplit(rest, absl::ByAnyChar(", \t"), absl::SkipEmpty())) {
      std::optional<ClientRole> role =
          ParseClientRole(std::string_view(name.data(), name.size()));
      if (!role.has_value()) {
        problems.push_back(absl::StrCat(where, "unknown role ", Quoted(name),
                                        "; the roles are route, agents and "
                                        "admin"));
        roles_ok = false;
        continue;
      }
      roles = roles.With(*role);
    }
    if (!roles_ok) continue;
    auto [first, inserted] = line_of_key.try_emplace(*raw_key, line_number);
    if (!inserted) {
      problems.push_back(absl::StrCat(
          where, "key ", key, " is already listed on line ", first->second,
          "; list each client once, with all its roles"));
      continue;
    }
    if (roles.empty()) {
      roles = RoleSet::All();
      allowed.warnings.push_back(absl::StrCat(
          where, "key ", key,
          " lists no roles, so it gets every role (route, agents, admin) as "
          "before roles existed; add the roles this client needs after the "
          "key"));
    }
    allowed.clients.push_back(AllowedClient{
        std::string(key), *std::move(raw_key), roles, line_number});
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
  }
  if (allowed.clients.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        Absl(file_name),
        ": lists no client key, so no client could connect; list one key per "
        "line with its roles, or leave out --curve_allowed_clients_file to "
        "let in any client that knows the server's public key"));
  }
  return allowed;
}

absl::StatusOr<AllowedClients> ReadAllowedClientsFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseAllowedClients(text.str(), path);
}

}  // namespace routing::sidecar
