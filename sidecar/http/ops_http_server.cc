#include "sidecar/http/ops_http_server.h"

#include <civetweb.h>

#include <cstring>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "sidecar/http/bearer_token.h"

namespace routing::sidecar::http {
namespace {

// How often a waiting stream looks whether the server is stopping: bounds
// how long Stop waits for a Server-Sent Events client.
constexpr absl::Duration kStopPoll = absl::Milliseconds(50);
// Longest a client may take to send its request or read a response chunk.
constexpr char kRequestTimeoutMs[] = "10000";
// mg_check_feature's bit for IPv6 (civetweb.h: MG_FEATURES_IPV6).
constexpr unsigned kCivetwebIpv6 = 8;
// Longest query parameter kept (access_token).
constexpr int kMaxTokenBytes = 512;

void InitializeCivetweb() {
  static std::once_flag once;
  std::call_once(once, [] { mg_init_library(0); });
}

bool SendAll(mg_connection* connection, std::string_view data) {
  while (!data.empty()) {
    const int written = mg_write(connection, data.data(), data.size());
    if (written <= 0) return false;
    data.remove_prefix(static_cast<size_t>(written));
  }
  return true;
}

void SendHead(mg_connection* connection, int status,
              std::string_view content_type, std::string_view extra_headers,
              const size_t* content_length) {
  std::string head = absl::StrCat(
      "HTTP/1.1 ", status, " ", mg_get_response_code_text(connection, status),
      "\r\nContent-Type: ", std::string(content_type),
      "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n",
      std::string(extra_headers));
  if (content_length != nullptr) {
    absl::StrAppend(&head, "Content-Length: ", *content_length, "\r\n");
  }
  absl::StrAppend(&head, "Connection: close\r\n\r\n");
  SendAll(connection, head);
}

class ConnectionStream : public HttpStream {
 public:
  ConnectionStream(mg_connection* connection, const std::atomic<bool>* stopping)
      : connection_(connection), stopping_(stopping) {}
  bool Send(std::string_view data) override {
    if (stopping_->load(std::memory_order_acquire)) return false;
    return SendAll(connection_, data);
  }
  bool Wait(absl::Duration timeout) override {
    const absl::Time until = absl::Now() + timeout;
    while (!stopping_->load(std::memory_order_acquire)) {
      const absl::Duration left = until - absl::Now();
      if (left <= absl::ZeroDuration()) return true;
      absl::SleepFor(std::min(left, kStopPoll));
    }
    return false;
  }

 private:
  mg_connection* connection_;
  const std::atomic<bool>* stopping_;
};

}  // namespace

OpsHttpServer::OpsHttpServer(OpsHttpServerOptions options,
                             std::vector<HttpRoute> routes)
    : options_(std::move(options)), routes_(std::move(routes)) {}

absl::StatusOr<std::unique_ptr<OpsHttpServer>> OpsHttpServer::Start(
    const OpsHttpServerOptions& options, std::vector<HttpRoute> routes) {
  if (options.threads < 3 || options.max_streams < 1 ||
      options.max_streams > options.threads - 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "HTTP server: ", options.threads, " threads and ", options.max_streams,
        " streams; need at least 3 threads and 1..threads-2 streams"));
  }
  InitializeCivetweb();
  if (options.address.ipv6 && mg_check_feature(kCivetwebIpv6) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot serve HTTP on ", options.address.ListeningPort(),
        ": this CivetWeb was built without IPv6 (Debian 12's is); use an IPv4 "
        "address such as 127.0.0.1"));
  }
  std::unique_ptr<OpsHttpServer> server(
      new OpsHttpServer(options, std::move(routes)));
  const std::string listening = options.address.ListeningPort();
  const std::string threads = absl::StrCat(options.threads);
  const char* configuration[] = {"listening_ports",
                                 listening.c_str(),
                                 "num_threads",
                                 threads.c_str(),
                                 "request_timeout_ms",
                                 kRequestTimeoutMs,
                                 "enable_keep_alive",
                                 "no",
                                 "tcp_nodelay",
                                 "1",
                                 nullptr};
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof(callbacks));
  char error_text[256] = "";
  unsigned error_code = 0;
  mg_error_data error;
  error.code = &error_code;
  error.text = error_text;
  error.text_buffer_size = sizeof(error_text);
  mg_init_data init;
  init.callbacks = &callbacks;
  init.user_data = server.get();
  init.configuration_options = configuration;
  server->context_ = mg_start2(&init, &error);
  if (server->context_ == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "cannot serve HTTP on ", listening, ": ",
        error_text[0] != '\0' ? error_text : "the HTTP server did not start"));
  }
  mg_server_port ports[1];
  if (mg_get_server_ports(server->context_, 1, ports) >= 1) {
    server->port_ = ports[0].port;
  }
  // "**" matches every path: one handler, so every request gets the method
  // and token checks, found or not.
  mg_set_request_handler(server->context_, "**", &OpsHttpServer::HandleRequest,
                         server.get());
  return server;
}

OpsHttpServer::~OpsHttpServer() { Stop(); }

void OpsHttpServer::Stop() {
  if (context_ == nullptr) return;
  stopping_.store(true, std::memory_order_release);
  mg_stop(context_);  // Waits for every handler to return.
  context_ = nullptr;
}

int OpsHttpServer::HandleRequest(mg_connection* connection, void* server) {
  return static_cast<OpsHttpServer*>(server)->Handle(connection);
}

bool OpsHttpServer::Authorized(mg_connection* connection) const {
  if (options_.bearer_token.empty()) return true;
  if (const char* header = mg_get_header(connection, "Authorization");
      header != nullptr) {
    return BearerTokenMatches(BearerTokenOfHeader(header),
                              options_.bearer_token);
  }
  const mg_request_info* request = mg_get_request_info(connection);
  if (request->query_string == nullptr) return false;
  char token[kMaxTokenBytes];
  const int length =
      mg_get_var(request->query_string, std::strlen(request->query_string),
                 "access_token", token, sizeof(token));
  if (length < 0) return false;
  return BearerTokenMatches(
      std::string_view(token, static_cast<size_t>(length)),
      options_.bearer_token);
}

int OpsHttpServer::Handle(mg_connection* connection) {
  const mg_request_info* request = mg_get_request_info(connection);
  const std::string_view method =
      request->request_method != nullptr ? request->request_method : "";
  const bool head = method == "HEAD";
  auto answer = [&](int status, std::string_view body,
                    std::string_view extra_headers = "") {
    const size_t length = body.size();
    SendHead(connection, status, "text/plain; charset=utf-8", extra_headers,
             &length);
    if (!head) SendAll(connection, body);
    return status;
  };
  if (method != "GET" && !head) {
    return answer(405, "read-only: only GET and HEAD\n",
                  "Allow: GET, HEAD\r\n");
  }
  if (!Authorized(connection)) {
    return answer(401, "a bearer token is required\n",
                  "WWW-Authenticate: Bearer realm=\"routingd\"\r\n");
  }
  const std::string_view path =
      request->local_uri != nullptr ? request->local_uri : "";
  for (const HttpRoute& route : routes_) {
    if (route.path != path) continue;
    if (route.stream) {
      if (head) {
        SendHead(connection, 200, route.stream_content_type, "", nullptr);
        return 200;
      }
      if (streams_.fetch_add(1, std::memory_order_acq_rel) >=
          options_.max_streams) {
        streams_.fetch_sub(1, std::memory_order_acq_rel);
        return answer(503,
                      absl::StrCat("at most ", options_.max_streams,
                                   " event streams at once\n"),
                      "Retry-After: 5\r\n");
      }
      SendHead(connection, 200, route.stream_content_type, "", nullptr);
      ConnectionStream stream(connection, &stopping_);
      route.stream(stream);
      streams_.fetch_sub(1, std::memory_order_acq_rel);
      return 200;
    }
    HttpResponse response = route.respond();
    const size_t length = response.body.size();
    SendHead(connection, response.status, response.content_type,
             response.headers, &length);
    if (!head) SendAll(connection, response.body);
    return response.status;
  }
  return answer(404, absl::StrCat("no such page: ", std::string(path), "\n"));
}

}  // namespace routing::sidecar::http
