#include "sidecar/http/ops_http_server.h"

#include <civetweb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/sidecar/http/http_test_client.h"

namespace routing::sidecar::http {
namespace {

constexpr char kToken[] = "0123456789abcdef-token";

using ::routing::sidecar::http::test_client::Body;
using ::routing::sidecar::http::test_client::Connect;
using ::routing::sidecar::http::test_client::Exchange;
using ::routing::sidecar::http::test_client::Get;

class OpsHttpServerTest : public ::testing::Test {
 protected:
  std::unique_ptr<OpsHttpServer> StartServer(const std::string& token,
                                             int max_streams = 2) {
    OpsHttpServerOptions options;
    options.address = *ParseHttpAddress("127.0.0.1:0");
    options.bearer_token = token;
    options.threads = 4;
    options.max_streams = max_streams;
    std::vector<HttpRoute> routes;
    HttpRoute hello;
    hello.path = "/hello";
    hello.respond = [] {
      return HttpResponse{200, "text/plain; charset=utf-8", "hi there",
                          "X-Extra: yes\r\n"};
    };
    routes.push_back(hello);
    HttpRoute stream;
    stream.path = "/stream";
    stream.stream = [this](HttpStream& s) {
      int n = 0;
      while (s.Send(absl::StrCat("data: ", n++, "\n\n")) &&
             s.Wait(absl::Milliseconds(100))) {
      }
      streams_ended_.fetch_add(1);
    };
    routes.push_back(stream);
    absl::StatusOr<std::unique_ptr<OpsHttpServer>> server =
        OpsHttpServer::Start(options, routes);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }
  std::atomic<int> streams_ended_{0};
};

TEST_F(OpsHttpServerTest, ServesRoutesByExactPath) {
  auto server = StartServer("");
  ASSERT_NE(server, nullptr);
  ASSERT_GT(server->port(), 0);
  const std::string ok = Get(server->port(), "/hello");
  EXPECT_TRUE(absl::StartsWith(ok, "HTTP/1.1 200 OK\r\n")) << ok;
  EXPECT_TRUE(absl::StrContains(ok, "Content-Length: 8\r\n")) << ok;
  EXPECT_TRUE(absl::StrContains(ok, "\r\nX-Extra: yes\r\n")) << ok;
  EXPECT_EQ(Body(ok), "hi there");
  EXPECT_TRUE(
      absl::StartsWith(Get(server->port(), "/hello/x"), "HTTP/1.1 404"));
  EXPECT_TRUE(absl::StartsWith(Get(server->port(), "/"), "HTTP/1.1 404"));
}

TEST_F(OpsHttpServerTest, ReadOnlyEverythingButGetAndHeadIs405) {
  auto server = StartServer("");
  ASSERT_NE(server, nullptr);
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    const std::string r = Get(server->port(), "/hello", "", method);
    EXPECT_TRUE(absl::StartsWith(r, "HTTP/1.1 405")) << method << ": " << r;
    EXPECT_TRUE(absl::StrContains(r, "Allow: GET, HEAD\r\n")) << r;
  }
  const std::string head = Get(server->port(), "/hello", "", "HEAD");
  EXPECT_TRUE(absl::StartsWith(head, "HTTP/1.1 200")) << head;
  EXPECT_TRUE(absl::StrContains(head, "Content-Length: 8\r\n")) << head;
  EXPECT_EQ(Body(head), "");
}

TEST_F(OpsHttpServerTest, BearerTokenFromHeaderOrQuery) {
  auto server = StartServer(kToken);
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  const std::string none = Get(port, "/hello");
  EXPECT_TRUE(absl::StartsWith(none, "HTTP/1.1 401")) << none;
  EXPECT_TRUE(absl::StrContains(none, "WWW-Authenticate: Bearer")) << none;
  EXPECT_TRUE(absl::StartsWith(
      Get(port, "/hello", "Authorization: Bearer wrong-token-0123456\r\n"),
      "HTTP/1.1 401"));
  EXPECT_TRUE(absl::StartsWith(
      Get(port, "/hello",
          absl::StrCat("Authorization: Basic ", kToken, "\r\n")),
      "HTTP/1.1 401"));
  EXPECT_TRUE(absl::StartsWith(
      Get(port, "/hello",
          absl::StrCat("Authorization: Bearer ", kToken, "\r\n")),
      "HTTP/1.1 200"));
  EXPECT_TRUE(absl::StartsWith(
      Get(port, absl::StrCat("/hello?access_token=", kToken)), "HTTP/1.1 200"));
  EXPECT_TRUE(
      absl::StartsWith(Get(port, "/hello?access_token=x"), "HTTP/1.1 401"));
  // Unknown paths are not revealed to the unauthenticated.
  EXPECT_TRUE(absl::StartsWith(Get(port, "/nope"), "HTTP/1.1 401"));
}

TEST_F(OpsHttpServerTest, StreamsUntilStopAndCapsConcurrentStreams) {
  auto server = StartServer("", /*max_streams=*/1);
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  const int fd = Connect(port);
  ASSERT_GE(fd, 0);
  const std::string request = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";
  send(fd, request.data(), request.size(), 0);
  std::string seen;
  char buffer[4096];
  while (!absl::StrContains(seen, "data: 2\n\n")) {
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    ASSERT_GT(n, 0) << seen;
    seen.append(buffer, static_cast<size_t>(n));
  }
  EXPECT_TRUE(absl::StartsWith(seen, "HTTP/1.1 200 OK\r\n")) << seen;
  EXPECT_TRUE(absl::StrContains(seen, "Content-Type: text/event-stream"));
  EXPECT_FALSE(absl::StrContains(seen, "Content-Length"));

  // One stream at most: the second is told to come back later, and plain
  // requests are still served.
  const std::string second = Get(port, "/stream");
  EXPECT_TRUE(absl::StartsWith(second, "HTTP/1.1 503")) << second;
  EXPECT_TRUE(absl::StartsWith(Get(port, "/hello"), "HTTP/1.1 200"));

  const absl::Time stopping = absl::Now();
  server->Stop();
  EXPECT_LT(absl::Now() - stopping, absl::Seconds(3));
  EXPECT_EQ(streams_ended_.load(), 1);
  while (recv(fd, buffer, sizeof(buffer), 0) > 0) {
  }
  close(fd);
}

TEST_F(OpsHttpServerTest, BindFailureNamesTheAddress) {
  auto first = StartServer("");
  ASSERT_NE(first, nullptr);
  OpsHttpServerOptions options;
  options.address =
      *ParseHttpAddress(absl::StrCat("127.0.0.1:", first->port()));
  absl::StatusOr<std::unique_ptr<OpsHttpServer>> second =
      OpsHttpServer::Start(options, {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(
      second.status().message(),
      absl::StrCat("cannot serve HTTP on 127.0.0.1:", first->port())))
      << second.status();
}

TEST_F(OpsHttpServerTest, Ipv6OnlyWhenCivetwebHasIt) {
  OpsHttpServerOptions options;
  options.address = *ParseHttpAddress("[::1]:0");
  absl::StatusOr<std::unique_ptr<OpsHttpServer>> server =
      OpsHttpServer::Start(options, {});
  if (mg_check_feature(8) != 0) {  // MG_FEATURES_IPV6
    EXPECT_TRUE(server.ok()) << server.status();
    return;
  }
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(server.status().message(),
                                "cannot serve HTTP on [::1]:0: this CivetWeb "
                                "was built without IPv6"))
      << server.status();
}

TEST_F(OpsHttpServerTest, RefusesTooFewThreadsForItsStreams) {
  OpsHttpServerOptions options;
  options.address = *ParseHttpAddress("127.0.0.1:0");
  options.threads = 4;
  options.max_streams = 3;
  EXPECT_EQ(OpsHttpServer::Start(options, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace routing::sidecar::http
