// File: tests/sidecar/routingd_process.h
//
// The routingd daemon as a child process, for the end-to-end tests: started
// with the flags a test gives (and --http= unless they hold an --http, so
// that tests running at once never contend for port 8080, and
// --rules_budget_ms=1000 unless they hold one, so that a sanitizer build on
// a busy machine does not push decisions to the fallback policy), its stderr
// kept in a file when asked, killed if a test forgets to stop it, and its ipc:// socket files removed (they
// outlive the daemon, and /tmp is not the test's own).
#ifndef TESTS_SIDECAR_ROUTINGD_PROCESS_H_
#define TESTS_SIDECAR_ROUTINGD_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "sidecar/client.h"

namespace routing::sidecar {

// The routingd binary in the test's runfiles.
std::string RoutingdPath();

// A loopback TCP port free at the time of the call.
int FreeTcpPort();

struct RoutingdEndpoints {
  std::string requests;
  std::string events;
};

// Two distinct endpoints: "tcp" gives loopback ports, anything else ipc://
// files under /tmp named by `prefix` (ipc paths are limited to ~107
// characters, too few for TEST_TMPDIR).
RoutingdEndpoints NewRoutingdEndpoints(const std::string& transport,
                                       const std::string& prefix);

// `flags` with --listen and --events for `endpoints` in front.
std::vector<std::string> WithEndpoints(const RoutingdEndpoints& endpoints,
                                       const std::vector<std::string>& flags);

class RoutingdProcess {
 public:
  // Starts routingd with `flags`; its stderr goes to `stderr_path` when that
  // is not empty (else it is inherited).
  explicit RoutingdProcess(std::vector<std::string> flags,
                           std::string stderr_path = "");
  ~RoutingdProcess();
  RoutingdProcess(const RoutingdProcess&) = delete;
  RoutingdProcess& operator=(const RoutingdProcess&) = delete;

  // Waits until a client with `options` (server set) gets a Health reply;
  // false if routingd exited or did not answer within 30 s.
  bool WaitServing(ClientOptions options);
  // The exit code once routingd has exited within `timeout`; -1 if a signal
  // ended it, -2 if it was still running.
  int WaitExit(absl::Duration timeout = absl::Seconds(20));
  // SIGTERM, then WaitExit().
  int Terminate();
  // What routingd wrote to stderr ("" unless a stderr_path was given).
  std::string Stderr() const;

 private:
  bool Exited();

  std::vector<std::string> ipc_files_;
  std::string stderr_path_;
  pid_t pid_ = -1;
  int status_ = 0;
};

}  // namespace routing::sidecar

#endif  // TESTS_SIDECAR_ROUTINGD_PROCESS_H_
