// routingd: the routing engine as a ZeroMQ sidecar. See sidecar/README.md.
#include <signal.h>
#include <zmq.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "routing/router.h"
#include "sidecar/cpu_placement.h"
#include "sidecar/daemon.h"
#include "sidecar/request_handler.h"
#include "sidecar/rules_reload.h"
#include "sidecar/sidecar_metrics.h"

ABSL_FLAG(std::string, listen, "tcp://127.0.0.1:5555",
          "Endpoint of the request socket (ROUTER), e.g. tcp://0.0.0.0:5555 "
          "or ipc:///run/routingd.sock. Clients connect DEALER or REQ here.");
ABSL_FLAG(std::string, events, "tcp://127.0.0.1:5556",
          "Endpoint of the event socket (PUB): assignments of queued contacts "
          "on contact/<id>, queue/<name>, agent/<id>; agent state changes on "
          "agent/<id>.");
ABSL_FLAG(std::string, rules, "",
          "Routing rules file loaded at start; empty: the embedded default "
          "policy. Reload later with the ReloadRules request.");
ABSL_FLAG(int, workers, 1,
          "Threads that verify and execute requests (0..64). 0: the I/O "
          "thread executes them itself (no hand-off; lowest latency on small "
          "machines, but one slow request holds up the others).");
ABSL_FLAG(bool, batch_io_thread, true,
          "Run libzmq's I/O thread under SCHED_BATCH so replies are written "
          "in batches rather than preempting the thread executing requests "
          "(higher throughput when threads share a core).");
ABSL_FLAG(std::string, worker_cpus, "",
          "CPUs for the threads that execute requests (workers, the rules "
          "step timer; with --workers=0 the frontend), as Linux lists them: "
          "\"0\", \"0,2\", \"0-3\". Empty: any the process may use.");
ABSL_FLAG(std::string, io_cpus, "",
          "CPUs for libzmq's I/O thread and the threads that only move "
          "messages (frontend when there are workers, publisher, ZAP); same "
          "syntax. On 2 cores, --worker_cpus=0 --io_cpus=1 keeps routing and "
          "socket work apart.");
ABSL_FLAG(int, max_in_flight, 1024,
          "Requests accepted and not yet answered; past it, requests are "
          "answered BUSY at once.");
ABSL_FLAG(int, max_message_bytes, 64 * 1024,
          "Largest request accepted; larger ones are answered TOO_LARGE, and "
          "a connection sending more than twice this is dropped by ZeroMQ.");
ABSL_FLAG(int, high_water_mark, 10000,
          "ZMQ_SNDHWM/ZMQ_RCVHWM of the request and event sockets, in "
          "messages.");
ABSL_FLAG(int, step_interval_ms, 200,
          "How often queued contacts are moved on to routing-rules steps that "
          "fell due (the granularity of the rules' step timing).");
ABSL_FLAG(int, shutdown_grace_ms, 5000,
          "On SIGTERM/SIGINT, how long in-flight requests may take to finish.");
ABSL_FLAG(int, max_agents, 100000, "Agents the roster can hold.");
ABSL_FLAG(int, max_contacts, 1 << 20,
          "Contacts held (queued or assigned) at once.");
ABSL_FLAG(std::string, curve_secret_key_file, "",
          "File holding the server's Z85 CURVE secret key (40 characters; "
          "make one with `routing_cli keygen`). Empty: no encryption. Off by "
          "default for loopback use.");
ABSL_FLAG(std::string, curve_allowed_clients_file, "",
          "With CURVE: file of Z85 client public keys allowed in, one per "
          "line ('#' comments). Empty: any client that knows the server key.");

namespace {

absl::StatusOr<std::vector<std::string>> ReadKeyLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::vector<std::string> keys;
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view key = absl::StripAsciiWhitespace(line);
    if (key.empty() || key[0] == '#') continue;
    keys.emplace_back(key);
  }
  return keys;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "routingd: %s\n", std::string(status.message()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "routingd: the contact routing engine as a ZeroMQ sidecar.\n"
      "Serves the FlatBuffers protocol of sidecar/routing.fbs on --listen and "
      "publishes events on --events. Stops cleanly on SIGTERM or SIGINT.\n"
      "Usage: routingd [--listen=tcp://127.0.0.1:5555] "
      "[--events=tcp://127.0.0.1:5556] [--rules=FILE] [--workers=1] ...");
  absl::ParseCommandLine(argc, argv);

  // Every thread started from here on inherits the mask; only sigwait below
  // receives the signals, so no thread is interrupted mid-request.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  routing::sidecar::DaemonOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.events = absl::GetFlag(FLAGS_events);
  options.workers = absl::GetFlag(FLAGS_workers);
  options.batch_io_thread = absl::GetFlag(FLAGS_batch_io_thread);
  absl::StatusOr<std::vector<int>> worker_cpus =
      routing::sidecar::ParseCpuList(absl::GetFlag(FLAGS_worker_cpus));
  if (!worker_cpus.ok()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("--worker_cpus: ", worker_cpus.status().message())));
  }
  options.worker_cpus = *worker_cpus;
  absl::StatusOr<std::vector<int>> io_cpus =
      routing::sidecar::ParseCpuList(absl::GetFlag(FLAGS_io_cpus));
  if (!io_cpus.ok()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("--io_cpus: ", io_cpus.status().message())));
  }
  options.io_cpus = *io_cpus;
  options.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  if (absl::GetFlag(FLAGS_max_message_bytes) < 64) {
    return Fail(
        absl::InvalidArgumentError("--max_message_bytes must be >= 64"));
  }
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  options.high_water_mark = absl::GetFlag(FLAGS_high_water_mark);
  if (absl::GetFlag(FLAGS_step_interval_ms) < 1) {
    return Fail(absl::InvalidArgumentError("--step_interval_ms must be >= 1"));
  }
  options.step_interval =
      absl::Milliseconds(absl::GetFlag(FLAGS_step_interval_ms));
  options.shutdown_grace =
      absl::Milliseconds(absl::GetFlag(FLAGS_shutdown_grace_ms));
  if (const std::string file = absl::GetFlag(FLAGS_curve_secret_key_file);
      !file.empty()) {
    absl::StatusOr<std::vector<std::string>> keys = ReadKeyLines(file);
    if (!keys.ok()) return Fail(keys.status());
    if (keys->size() != 1) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat(file, " must hold exactly one key")));
    }
    options.curve_secret_key = (*keys)[0];
  }
  if (const std::string file = absl::GetFlag(FLAGS_curve_allowed_clients_file);
      !file.empty()) {
    if (options.curve_secret_key.empty()) {
      return Fail(absl::InvalidArgumentError(
          "--curve_allowed_clients_file needs --curve_secret_key_file"));
    }
    absl::StatusOr<std::vector<std::string>> keys = ReadKeyLines(file);
    if (!keys.ok()) return Fail(keys.status());
    options.curve_allowed_clients = *std::move(keys);
  }

  routing::sidecar::SidecarMetrics metrics;
  routing::RouterOptions router_options;
  router_options.max_agents = absl::GetFlag(FLAGS_max_agents);
  router_options.max_contacts = absl::GetFlag(FLAGS_max_contacts);
  routing::sidecar::AssignmentPublisher publisher(
      &metrics, router_options.policy.service_level_threshold);
  router_options.listener = &publisher;
  absl::StatusOr<std::unique_ptr<routing::Router>> router =
      routing::Router::Create(router_options);
  if (!router.ok()) return Fail(router.status());
  if (absl::Status s = routing::sidecar::LoadRulesAtStart(
          **router, absl::GetFlag(FLAGS_rules));
      !s.ok()) {
    return Fail(s);
  }

  routing::sidecar::RequestHandlerOptions handler_options;
  handler_options.decoder.max_message_bytes = options.max_message_bytes;
  handler_options.service_level_threshold =
      router_options.policy.service_level_threshold;
  handler_options.workers = options.workers;
  routing::sidecar::RequestHandler handler(router->get(), &metrics,
                                           handler_options);

  absl::StatusOr<std::unique_ptr<routing::sidecar::Daemon>> daemon =
      routing::sidecar::Daemon::Start(&handler, &metrics, options);
  if (!daemon.ok()) return Fail(daemon.status());
  std::fprintf(stderr,
               "routingd: serving requests on %s, events on %s (%d worker%s)\n",
               options.listen.c_str(), options.events.c_str(), options.workers,
               options.workers == 1 ? "" : "s");
  std::fflush(stderr);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::fprintf(stderr, "routingd: %s, stopping\n",
               signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  (*daemon)->Stop();
  std::fprintf(stderr, "routingd: stopped after %llu requests\n",
               static_cast<unsigned long long>(metrics.requests.load()));
  return 0;
}
