// File: sidecar/http/bearer_token.h
//
// The HTTP endpoints' one credential: a bearer token (RFC 6750) read from
// routingd's --http_token_file and compared in constant time, so the time a
// refusal takes says nothing about how much of a guess was right.
//
//   absl::StatusOr<std::string> token = ReadBearerTokenFile(path);
//   if (!BearerTokenMatches(presented, *token)) ... 401 ...
//
// Thread-safety: pure functions.
#ifndef SIDECAR_HTTP_BEARER_TOKEN_H_
#define SIDECAR_HTTP_BEARER_TOKEN_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace routing::sidecar::http {

// The file's content without surrounding blanks and line ends. NotFound if
// it cannot be read; InvalidArgument if it holds no token, a token shorter
// than kMinBearerTokenBytes (too easy to guess), or blanks inside it.
inline constexpr size_t kMinBearerTokenBytes = 16;
absl::StatusOr<std::string> ReadBearerTokenFile(const std::string& path);

// Compares in time that depends only on `expected`'s length.
bool BearerTokenMatches(std::string_view presented, std::string_view expected);

// The token of an "Authorization: Bearer TOKEN" header value; empty if the
// value is not of that form (the scheme is case-insensitive).
std::string_view BearerTokenOfHeader(std::string_view authorization);

}  // namespace routing::sidecar::http

#endif  // SIDECAR_HTTP_BEARER_TOKEN_H_
