// File: sidecar/http/ops_http_server.h
//
// A small read-only HTTP server on CivetWeb (Debian's libcivetweb-dev, the
// server prometheus-cpp's exposer embeds): a pool of worker threads, each
// request answered on one of them by exact path. It knows nothing of
// routing; operations_site.h gives it the routes.
//
//   OpsHttpServerOptions options;
//   options.address = *ParseHttpAddress("127.0.0.1:8080");
//   options.bearer_token = token;                  // "" : no token
//   std::vector<HttpRoute> routes = {
//       {"/metrics", [] { return HttpResponse{200, "text/plain", text}; }},
//       {"/events", nullptr, [](HttpStream& s) { while (s.Send(...)) ...; }}};
//   auto server = OpsHttpServer::Start(options, std::move(routes));
//   if (!server.ok()) ... the bind failed: the message names the address ...
//   (*server)->Stop();                             // or destroy it
//
// Every request:
//   - a method other than GET or HEAD: 405 with "Allow: GET, HEAD" (the
//     endpoints change nothing);
//   - with a token configured, without it: 401 with WWW-Authenticate. The
//     token comes as "Authorization: Bearer TOKEN" or, for browsers
//     (EventSource sends no headers), as ?access_token=TOKEN (RFC 6750 2.3);
//     compared in constant time (bearer_token.h);
//   - an unknown path: 404;
//   - HEAD: the GET's status and headers, no body.
// A streaming route (Server-Sent Events) holds one worker thread for as long
// as its client stays; at most max_streams at once (503 beyond), so plain
// requests always find a thread. Stop ends the streams (HttpStream::Send
// returns false) and waits for every handler to return.
// Errors: Start returns Unavailable naming the address when it cannot bind,
// InvalidArgument for bad options, or for an IPv6 address when CivetWeb was
// built without IPv6 (Debian 12's was).
// Thread-safety: handlers run on CivetWeb's threads, several at once; Start
// and Stop from one thread.
#ifndef SIDECAR_HTTP_OPS_HTTP_SERVER_H_
#define SIDECAR_HTTP_OPS_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sidecar/http/http_address.h"

struct mg_context;
struct mg_connection;

namespace routing::sidecar::http {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // More header lines, each ending in "\r\n"; the caller's constants only.
  std::string headers;
};

// A streaming response already sent its headers; Send writes more of the
// body.
class HttpStream {
 public:
  virtual ~HttpStream() = default;
  // False once the client has gone or the server is stopping: return then.
  virtual bool Send(std::string_view data) = 0;
  // Waits up to `timeout`; false if the server began stopping meanwhile.
  virtual bool Wait(absl::Duration timeout) = 0;
};

struct HttpRoute {
  std::string path;  // Exact: "/metrics".
  // One of the two. respond: a complete response. stream: the server sends
  // 200 with stream_content_type and no length, then calls it.
  std::function<HttpResponse()> respond;
  std::function<void(HttpStream&)> stream;
  std::string stream_content_type = "text/event-stream";
};

struct OpsHttpServerOptions {
  HttpAddress address;
  std::string bearer_token;  // Empty: none asked for.
  int threads = 8;           // CivetWeb workers.
  int max_streams = 4;       // Streams at once; at most threads - 2.
};

class OpsHttpServer {
 public:
  static absl::StatusOr<std::unique_ptr<OpsHttpServer>> Start(
      const OpsHttpServerOptions& options, std::vector<HttpRoute> routes);
  ~OpsHttpServer();
  OpsHttpServer(const OpsHttpServer&) = delete;
  OpsHttpServer& operator=(const OpsHttpServer&) = delete;

  // The port bound (the one asked for, or the one chosen for port 0).
  int port() const { return port_; }
  // Ends the streams, waits for the handlers, closes the socket. Idempotent.
  void Stop();

 private:
  OpsHttpServer(OpsHttpServerOptions options, std::vector<HttpRoute> routes);
  static int HandleRequest(mg_connection* connection, void* server);
  int Handle(mg_connection* connection);
  void Stream(mg_connection* connection, const HttpRoute& route);
  bool Authorized(mg_connection* connection) const;

  const OpsHttpServerOptions options_;
  const std::vector<HttpRoute> routes_;
  mg_context* context_ = nullptr;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> streams_{0};
};

}  // namespace routing::sidecar::http

#endif  // SIDECAR_HTTP_OPS_HTTP_SERVER_H_
