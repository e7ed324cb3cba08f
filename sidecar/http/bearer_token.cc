#include "sidecar/http/bearer_token.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace routing::sidecar::http {

absl::StatusOr<std::string> ReadBearerTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("--http_token_file=", path, ": cannot read it"));
  }
  std::stringstream content;
  content << in.rdbuf();
  std::string token = content.str();
  absl::StripAsciiWhitespace(&token);
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http_token_file=", path, " holds no token"));
  }
  for (char c : token) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) ||
        !absl::ascii_isprint(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          absl::StrCat("--http_token_file=", path,
                       ": the token must be one word of printable characters"));
    }
  }
  if (token.size() < kMinBearerTokenBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--http_token_file=", path, ": the token is ", token.size(),
        " characters; at least ", kMinBearerTokenBytes, " are needed"));
  }
  return token;
}

bool BearerTokenMatches(std::string_view presented, std::string_view expected) {
  // Every byte of `expected` is compared whatever `presented` holds; no
  // early exit, no branch on the data.
  unsigned char difference = presented.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    const unsigned char p =
        i < presented.size() ? static_cast<unsigned char>(presented[i]) : 0;
    difference |= p ^ static_cast<unsigned char>(expected[i]);
  }
  return difference == 0 && !expected.empty();
}

std::string_view BearerTokenOfHeader(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(
          absl::string_view(authorization.data(), kScheme.size()),
          absl::string_view(kScheme.data(), kScheme.size()))) {
    return {};
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

}  // namespace routing::sidecar::http
