// A raw HTTP/1.1 client over loopback for the operations server's tests: it
// sends the bytes it is given and returns the bytes it got, so tests see
// exactly what the server wrote (status line, headers, streams).
#ifndef TESTS_SIDECAR_HTTP_HTTP_TEST_CLIENT_H_
#define TESTS_SIDECAR_HTTP_HTTP_TEST_CLIENT_H_

#include <string>

namespace routing::sidecar::http::test_client {

// A socket connected to 127.0.0.1:port with a 5 s receive timeout, or -1.
int Connect(int port);

// Sends `request`, reads until the server closes (or `until` appears, or 5 s
// pass without a byte); "" if the connection failed.
std::string Exchange(int port, const std::string& request,
                     const std::string& until = "");

// `method path` with `headers` (each ending in \r\n).
std::string Get(int port, const std::string& path,
                const std::string& headers = "",
                const std::string& method = "GET");

// What follows the response's headers.
std::string Body(const std::string& response);

}  // namespace routing::sidecar::http::test_client

#endif  // TESTS_SIDECAR_HTTP_HTTP_TEST_CLIENT_H_
