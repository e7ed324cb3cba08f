#include "sidecar/endpoint_exposure.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace routing::sidecar {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(IsLoopbackEndpointTest, OnlyThisHostCanReachThese) {
  for (const char* endpoint :
       {"tcp://127.0.0.1:5555", "tcp://127.0.0.1:*", "tcp://127.8.9.10:1",
        "tcp://127.255.255.255:5555", "tcp://[::1]:5555", "tcp://::1:5555",
        "tcp://[::ffff:127.0.0.1]:5555", "tcp://localhost:5555",
        "tcp://LocalHost:5555", "ipc:///run/routingd.sock", "ipc://@abstract",
        "inproc://routingd"}) {
    EXPECT_TRUE(IsLoopbackEndpoint(endpoint)) << endpoint;
  }
}

TEST(IsLoopbackEndpointTest, EverythingElseIsBeyondLoopback) {
  for (const char* endpoint : {"tcp://*:5555",
                               "tcp://0.0.0.0:5555",
                               "tcp://[::]:5555",
                               "tcp://:::5555",
                               "tcp://10.0.0.7:5555",
                               "tcp://128.0.0.1:5555",
                               "tcp://126.255.255.255:5555",
                               "tcp://[::2]:5555",
                               "tcp://[::ffff:10.0.0.1]:5555",
                               "tcp://eth0:5555",
                               "tcp://lo:5555",
                               "tcp://routing.example.com:5555",
                               "tcp://localhost.example.com:5555",
                               "tcp://127.0.0.1;10.0.0.7:5555",
                               "tcp://127.0.0.1",
                               "tcp://",
                               "ws://127.0.0.1:5555",
                               "pgm://eth0;239.192.1.1:5555",
                               "TCP://127.0.0.1:5555",
                               "127.0.0.1:5555",
                               ""}) {
    EXPECT_FALSE(IsLoopbackEndpoint(endpoint)) << endpoint;
  }
}

TEST(CheckUnencryptedListeningTest, LoopbackWithoutCurveIsQuietlyAllowed) {
  absl::StatusOr<std::vector<std::string>> warnings =
      CheckUnencryptedListening({{"--listen", "tcp://127.0.0.1:5555"},
                                 {"--events", "ipc:///tmp/events.sock"}},
                                /*curve=*/false, /*insecure_listen=*/false);
  ASSERT_TRUE(warnings.ok()) << warnings.status();
  EXPECT_THAT(*warnings, IsEmpty());
}

TEST(CheckUnencryptedListeningTest, BeyondLoopbackWithoutCurveIsRefused) {
  absl::StatusOr<std::vector<std::string>> refused = CheckUnencryptedListening(
      {{"--listen", "tcp://127.0.0.1:5555"}, {"--events", "tcp://*:5556"}},
      /*curve=*/false, /*insecure_listen=*/false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(),
              AllOf(HasSubstr("--events=tcp://*:5556"),
                    HasSubstr("CURVE is off"), HasSubstr("--insecure_listen"),
                    HasSubstr("--curve_secret_key_file")));
}

TEST(CheckUnencryptedListeningTest, InsecureListenAllowsItWithAWarningEach) {
  absl::StatusOr<std::vector<std::string>> warnings =
      CheckUnencryptedListening({{"--listen", "tcp://0.0.0.0:5555"},
                                 {"--events", "tcp://127.0.0.1:5556"}},
                                /*curve=*/false, /*insecure_listen=*/true);
  ASSERT_TRUE(warnings.ok()) << warnings.status();
  EXPECT_THAT(*warnings,
              ElementsAre(AllOf(HasSubstr("--listen=tcp://0.0.0.0:5555"),
                                HasSubstr("beyond loopback unencrypted"))));
}

TEST(CheckUnencryptedListeningTest, CurveAllowsAnyEndpoint) {
  absl::StatusOr<std::vector<std::string>> warnings = CheckUnencryptedListening(
      {{"--listen", "tcp://*:5555"}, {"--events", "tcp://0.0.0.0:5556"}},
      /*curve=*/true, /*insecure_listen=*/false);
  ASSERT_TRUE(warnings.ok()) << warnings.status();
  EXPECT_THAT(*warnings, IsEmpty());
}

TEST(CheckUnencryptedListeningTest, AnInsecureListenThatChangesNothingIsSaid) {
  for (bool curve : {false, true}) {
    absl::StatusOr<std::vector<std::string>> warnings =
        CheckUnencryptedListening({{"--listen", "tcp://127.0.0.1:5555"}}, curve,
                                  /*insecure_listen=*/true);
    ASSERT_TRUE(warnings.ok()) << warnings.status();
    EXPECT_THAT(*warnings, ElementsAre(HasSubstr("changes nothing"))) << curve;
  }
}

}  // namespace
}  // namespace routing::sidecar
