#include "sidecar/http/bearer_token.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace routing::sidecar::http {
namespace {

std::string WriteFile(const std::string& name, const std::string& content) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::ofstream(path) << content;
  return path;
}

TEST(BearerTokenTest, MatchesOnlyTheWholeToken) {
  const std::string token = "s3cret-token-0123456789";
  EXPECT_TRUE(BearerTokenMatches(token, token));
  EXPECT_FALSE(BearerTokenMatches("", token));
  EXPECT_FALSE(BearerTokenMatches(token.substr(0, token.size() - 1), token));
  EXPECT_FALSE(BearerTokenMatches(token + "x", token));
  EXPECT_FALSE(BearerTokenMatches("S3cret-token-0123456789", token));
  // No token configured matches nothing (the server asks for none then).
  EXPECT_FALSE(BearerTokenMatches("", ""));
}

TEST(BearerTokenTest, ReadsTheAuthorizationHeader) {
  EXPECT_EQ(BearerTokenOfHeader("Bearer abc"), "abc");
  EXPECT_EQ(BearerTokenOfHeader("bearer  abc "), "abc");
  EXPECT_EQ(BearerTokenOfHeader("Basic abc"), "");
  EXPECT_EQ(BearerTokenOfHeader("Bearer"), "");
}

TEST(BearerTokenTest, ReadsAFileAndRefusesWeakOrMissingTokens) {
  absl::StatusOr<std::string> token =
      ReadBearerTokenFile(WriteFile("good", "  0123456789abcdef-x \n"));
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, "0123456789abcdef-x");

  const std::string empty = WriteFile("empty", "\n");
  EXPECT_EQ(ReadBearerTokenFile(empty).status().message(),
            "--http_token_file=" + empty + " holds no token");
  const std::string short_token = WriteFile("short", "abc");
  EXPECT_EQ(ReadBearerTokenFile(short_token).status().message(),
            "--http_token_file=" + short_token +
                ": the token is 3 characters; at least 16 are needed");
  EXPECT_EQ(ReadBearerTokenFile(WriteFile("two", "0123456789abcdef x"))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadBearerTokenFile("/nonexistent/token").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace routing::sidecar::http
