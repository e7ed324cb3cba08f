// File: sidecar/daemon.h
//
// routingd's transport: the ZeroMQ sockets and threads around a
// RequestHandler. Start binds the sockets and starts
//   - one frontend (I/O) thread owning the ROUTER socket that clients talk to;
//     it enforces the in-flight limit (answering BUSY past it) and the message
//     size limit (answering TOO_LARGE), hands each request to a worker, and
//     sends every reply;
//   - `workers` threads that verify and execute requests (RequestHandler) and
//     hand replies back to the frontend through inproc sockets (with 0
//     workers the frontend executes them itself). Each worker has its own
//     inproc queue: all requests about one contact or agent go to the same
//     worker (request_affinity.h), which executes them in arrival order, so
//     they take effect in the order their connection sent them;
//   - one publisher thread owning the PUB socket, fed through inproc by the
//     workers (assignment and agent-state events);
//   - one step timer that every step_interval moves queued contacts on to a
//     routing-rules step that fell due (RequestHandler::AdvanceQueues: the
//     router runs no timers), publishing the assignments that follow, and
//     publishes rules/suspended when the rules' circuit breaker has tripped
//     (RequestHandler::WatchRules);
//   - one rules reloader that compiles ReloadRules requests, one at a time,
//     off the threads that answer routes: workers (and an inline frontend)
//     hand them over, and answer Busy to one arriving while another
//     compiles;
//   - with a journal, the frontend holds each reply to a request that left
//     a journal record until the record is durable (HeldReplies: the
//     workers queue such replies for it with the record's sequence). It
//     polls the journal's settled_fd() beside its sockets and takes the
//     queued replies when it fires, so one write or sync wakes it once and
//     releases every reply of its group; a worker whose record settled
//     while it queued the reply wakes it itself;
//   - with CURVE, one ZAP thread that checks client keys against the list
//     and labels each connection with the key's roles (client_roles.h).
// Each thread owns its sockets alone and starts and stops with a
// ready/terminate handshake over an inproc PAIR pipe.
//
//   DaemonOptions options;                  // endpoints, limits, CURVE
//   auto daemon = Daemon::Start(&handler, &metrics, options);
//   if (!daemon.ok()) ... bind failure, bad key...
//   ... wait for SIGTERM ...
//   (*daemon)->Stop();   // refuse new, answer in-flight, flush events
//
// Errors: Start returns InvalidArgument for bad options or keys and
// Unavailable naming the endpoint when a bind fails; nothing keeps running.
// Thread-safety: Start and Stop from one thread (main).
#ifndef SIDECAR_DAEMON_H_
#define SIDECAR_DAEMON_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sidecar/allowed_clients.h"
#include "sidecar/request_handler.h"
#include "sidecar/sidecar_metrics.h"
#include "sidecar/state_journal.h"

namespace routing::sidecar {

struct DaemonOptions {
  std::string listen = "tcp://127.0.0.1:5555";  // ROUTER: requests.
  std::string events = "tcp://127.0.0.1:5556";  // PUB: events.
  // Worker threads; 0: the frontend executes requests itself.
  int workers = 1;
  // Requests handed to workers and not yet answered. Past it, BUSY.
  int max_in_flight = 1024;
  // Larger requests get TOO_LARGE, with their request id echoed, from the
  // frontend (never handed to a worker); the connection's other requests
  // are served as usual.
  size_t max_message_bytes = 64 * 1024;
  // The hard ceiling (ZMQ_MAXMSGSIZE): libzmq refuses a frame announced
  // larger than this before reading it, and drops the connection; replies
  // still owed on it are lost (counted in unroutable_replies). 0: 64 x
  // max_message_bytes. Must be at least max_message_bytes. It bounds what
  // one connection can make routingd allocate: libzmq allocates a frame's
  // announced size as soon as its header arrives, and holds up to
  // high_water_mark frames per connection should the frontend fall behind.
  size_t hard_max_message_bytes = 0;
  // ZMQ_SNDHWM / ZMQ_RCVHWM of the ROUTER and PUB sockets, in messages.
  int high_water_mark = 10'000;
  // Runs libzmq's I/O thread under SCHED_BATCH, so that queueing a reply
  // (which wakes it) does not preempt the thread executing requests when
  // both share a core: the I/O thread then runs once the executing thread
  // has finished its batch, and writes many replies with one system call
  // instead of one context switch each. Nearly doubles peak throughput on a
  // 2-core machine (docs/ARCHITECTURE.md); it changes nothing on an idle
  // core, where the woken thread runs at once either way.
  bool batch_io_thread = true;
  // Where threads run (cpu_placement.h); empty: wherever the process may.
  // worker_cpus: the threads that execute requests (workers, the step
  // timer and the rules reloader; with 0 workers, the frontend). io_cpus: libzmq's I/O thread and
  // the threads that only move messages (the frontend when there are
  // workers, the publisher, ZAP). On 2 cores, {0} and {1} keep routing work
  // and socket work off each other's core. Start refuses a CPU the process
  // may not use.
  std::vector<int> worker_cpus;
  std::vector<int> io_cpus;
  // How often the step timer looks for rules steps that fell due.
  absl::Duration step_interval = absl::Milliseconds(200);
  // How long Stop waits for in-flight requests before giving up on them.
  absl::Duration shutdown_grace = absl::Seconds(5);
  // CURVE: the server's Z85 secret key (40 characters); empty = plain TCP.
  std::string curve_secret_key;
  // The clients allowed in, with their roles (allowed_clients.h); empty =
  // any CURVE client, with every role. The ZAP handler gives each connection
  // a User-Id naming its key and roles, and every request whose type the
  // roles do not permit (client_roles.h) is answered PERMISSION_DENIED
  // without being executed, and counted in metrics.permission_denied.
  // Without CURVE there are no roles: every request is permitted.
  std::vector<AllowedClient> curve_allowed_clients;
  // routingd --journal_dir: the handler's journal. A reply to a request
  // that left a record waits, on a thread of its own, until the record is
  // durable (StateJournal::WaitDurable, as --fsync promises); a failed
  // sync turns it into NOT_DURABLE. Other replies do not wait. Null: none.
  StateJournal* journal = nullptr;
};

class Daemon {
 public:
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(
      RequestHandler* handler, SidecarMetrics* metrics,
      const DaemonOptions& options);
  ~Daemon();
  // Stops executing requests (any request received from now on is refused
  // with SHUTTING_DOWN), waits up to shutdown_grace for in-flight ones to be
  // answered, stops the workers, flushes the events they published, closes.
  // Idempotent.
  void Stop();

  class Impl;

 private:
  explicit Daemon(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace routing::sidecar

#endif  // SIDECAR_DAEMON_H_
