#include "tests/sidecar/routingd_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace routing::sidecar {

std::string RoutingdPath() {
  return absl::StrCat(std::getenv("TEST_SRCDIR"), "/",
                      std::getenv("TEST_WORKSPACE"), "/sidecar/routingd");
}

int FreeTcpPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

RoutingdEndpoints NewRoutingdEndpoints(const std::string& transport,
                                       const std::string& prefix) {
  static int counter = 0;
  ++counter;
  if (transport == "tcp") {
    const int requests = FreeTcpPort();
    int events = FreeTcpPort();
    while (events == requests) events = FreeTcpPort();
    return {absl::StrCat("tcp://127.0.0.1:", requests),
            absl::StrCat("tcp://127.0.0.1:", events)};
  }
  const std::string base =
      absl::StrCat("/tmp/", prefix, "-", getpid(), "-", counter);
  return {absl::StrCat("ipc://", base, "-req.sock"),
          absl::StrCat("ipc://", base, "-pub.sock")};
}

std::vector<std::string> WithEndpoints(const RoutingdEndpoints& endpoints,
                                       const std::vector<std::string>& flags) {
  std::vector<std::string> all = {"--listen=" + endpoints.requests,
                                  "--events=" + endpoints.events};
  all.insert(all.end(), flags.begin(), flags.end());
  return all;
}

RoutingdProcess::RoutingdProcess(std::vector<std::string> flags,
                                 std::string stderr_path)
    : stderr_path_(std::move(stderr_path)) {
  for (const std::string& flag : flags) {
    for (const char* name : {"--listen=ipc://", "--events=ipc://"}) {
      if (absl::StartsWith(flag, name)) {
        ipc_files_.push_back(flag.substr(std::string(name).size()));
      }
    }
  }
  std::vector<std::string> args = {RoutingdPath()};
  // Tests run in parallel: none may take the default HTTP port (8080).
  // A test of the HTTP endpoints passes its own --http.
  if (std::none_of(flags.begin(), flags.end(), [](const std::string& flag) {
        return absl::StartsWith(flag, "--http=");
      })) {
    args.push_back("--http=");
  }
  // Sanitizer builds on a shared 2-core machine can stretch one rules
  // evaluation past the 2 ms default, and a decision would fall back to the
  // built-in policy. A test of the budget passes its own --rules_budget_ms.
  if (std::none_of(flags.begin(), flags.end(), [](const std::string& flag) {
        return absl::StartsWith(flag, "--rules_budget_ms=");
      })) {
    args.push_back("--rules_budget_ms=1000");
  }
  args.insert(args.end(), flags.begin(), flags.end());
  pid_ = fork();
  if (pid_ == 0) {
    if (!stderr_path_.empty() &&
        freopen(stderr_path_.c_str(), "w", stderr) == nullptr) {
      _exit(126);
    }
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
}

RoutingdProcess::~RoutingdProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  for (const std::string& file : ipc_files_) unlink(file.c_str());
}

bool RoutingdProcess::Exited() {
  if (pid_ <= 0) return true;
  if (waitpid(pid_, &status_, WNOHANG) != pid_) return false;
  pid_ = -1;
  return true;
}

bool RoutingdProcess::WaitServing(ClientOptions options) {
  options.timeout = absl::Milliseconds(200);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    if (Exited()) return false;
    auto client = RoutingClient::Connect(options);
    if (client.ok() && (*client)->Health().ok()) return true;
  }
  return false;
}

int RoutingdProcess::WaitExit(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!Exited()) {
    if (absl::Now() > deadline) return -2;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
}

int RoutingdProcess::Terminate() {
  if (pid_ > 0) kill(pid_, SIGTERM);
  return WaitExit();
}

std::string RoutingdProcess::Stderr() const {
  if (stderr_path_.empty()) return "";
  std::ifstream in(stderr_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace routing::sidecar
