#include "sidecar/http/http_address.h"

#include "gtest/gtest.h"

namespace routing::sidecar::http {
namespace {

TEST(HttpAddressTest, ParsesIpv4Ipv6AndLocalhost) {
  absl::StatusOr<HttpAddress> a = ParseHttpAddress("127.0.0.1:8080");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  EXPECT_EQ(a->ListeningPort(), "127.0.0.1:8080");
  a = ParseHttpAddress("[::1]:9");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->ipv6);
  EXPECT_EQ(a->ListeningPort(), "[::1]:9");
  a = ParseHttpAddress("localhost:0");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->ListeningPort(), "127.0.0.1:0");
}

TEST(HttpAddressTest, RefusesMalformedAddressesNamingThem) {
  for (const char* bad :
       {"8080", ":8080", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:http",
        "example.com:80", "::1:80", "[::1]80", "[::1"}) {
    absl::StatusOr<HttpAddress> a = ParseHttpAddress(bad);
    ASSERT_FALSE(a.ok()) << bad;
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(a.status().message().find(std::string("--http=") + bad),
              std::string::npos)
        << a.status();
  }
}

TEST(HttpAddressTest, LoopbackOnlyUnlessInsecureListen) {
  for (const char* loopback : {"127.0.0.1:80", "127.1.2.3:80", "[::1]:80"}) {
    absl::StatusOr<std::vector<std::string>> w =
        CheckHttpExposure(*ParseHttpAddress(loopback), false);
    ASSERT_TRUE(w.ok()) << loopback << ": " << w.status();
    EXPECT_TRUE(w->empty());
  }
  for (const char* beyond : {"0.0.0.0:80", "10.0.0.5:80", "[::]:80"}) {
    absl::StatusOr<std::vector<std::string>> w =
        CheckHttpExposure(*ParseHttpAddress(beyond), false);
    ASSERT_FALSE(w.ok()) << beyond;
    EXPECT_EQ(w.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(w.status().message().find("--insecure_listen"),
              std::string::npos);
    w = CheckHttpExposure(*ParseHttpAddress(beyond), true);
    ASSERT_TRUE(w.ok());
    ASSERT_EQ(w->size(), 1u);
    EXPECT_NE((*w)[0].find("beyond loopback"), std::string::npos);
  }
}

}  // namespace
}  // namespace routing::sidecar::http
