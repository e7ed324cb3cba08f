// zmq_echo_server: the transport's floor for routingd's load test. A ROUTER
// socket with routingd's options (HWMs, linger) that sends every message
// straight back, from one thread, its libzmq I/O thread scheduled as
// routingd's. Stops on SIGTERM/SIGINT.
//   bazel run --config=bench //bench:zmq_echo_server --
//   --listen=tcp://127.0.0.1:5600
#include <sched.h>
#include <signal.h>
#include <zmq.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "sidecar/cpu_placement.h"
#include "sidecar/zmq_frames.h"

ABSL_FLAG(std::string, listen, "tcp://127.0.0.1:5600", "Endpoint to echo on.");
ABSL_FLAG(int, high_water_mark, 10000, "ZMQ_SNDHWM/ZMQ_RCVHWM, as routingd.");
ABSL_FLAG(bool, batch_io_thread, true,
          "libzmq's I/O thread under SCHED_BATCH, as routingd.");
ABSL_FLAG(std::string, worker_cpus, "",
          "CPUs for the echoing thread, as routingd's --worker_cpus with "
          "--workers=0 (the thread that answers).");
ABSL_FLAG(std::string, io_cpus, "",
          "CPUs for libzmq's I/O thread, as routingd's --io_cpus.");

namespace {
volatile sig_atomic_t stop_requested = 0;
void OnSignal(int) { stop_requested = 1; }
}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Echoes every ZeroMQ message back on a ROUTER socket (benchmark floor).");
  absl::ParseCommandLine(argc, argv);
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);
  absl::StatusOr<std::vector<int>> worker_cpus =
      routing::sidecar::ParseCpuList(absl::GetFlag(FLAGS_worker_cpus));
  absl::StatusOr<std::vector<int>> io_cpus =
      routing::sidecar::ParseCpuList(absl::GetFlag(FLAGS_io_cpus));
  absl::Status placed = !worker_cpus.ok() ? worker_cpus.status()
                        : !io_cpus.ok()
                            ? io_cpus.status()
                            : routing::sidecar::CheckCpusAllowed(*io_cpus);
  if (placed.ok()) placed = routing::sidecar::PinCallingThread(*worker_cpus);
  if (!placed.ok()) {
    std::fprintf(stderr, "zmq_echo_server: %s\n",
                 std::string(placed.message()).c_str());
    return 1;
  }
  void* context = zmq_ctx_new();
  for (int cpu : *io_cpus) {
    zmq_ctx_set(context, ZMQ_THREAD_AFFINITY_CPU_ADD, cpu);
  }
  zmq_ctx_set(context, ZMQ_IO_THREADS, 1);
  if (absl::GetFlag(FLAGS_batch_io_thread)) {
    zmq_ctx_set(context, ZMQ_THREAD_SCHED_POLICY, SCHED_BATCH);
  }
  routing::sidecar::ZmqSocket router(zmq_socket(context, ZMQ_ROUTER));
  const int hwm = absl::GetFlag(FLAGS_high_water_mark);
  (void)router.SetInt(ZMQ_ROUTER_MANDATORY, 1);
  (void)router.SetInt(ZMQ_SNDHWM, hwm);
  (void)router.SetInt(ZMQ_RCVHWM, hwm);
  (void)router.SetInt(ZMQ_LINGER, 0);
  if (zmq_bind(router.get(), absl::GetFlag(FLAGS_listen).c_str()) != 0) {
    std::fprintf(stderr, "zmq_echo_server: cannot listen on %s: %s\n",
                 absl::GetFlag(FLAGS_listen).c_str(),
                 zmq_strerror(zmq_errno()));
    return 1;
  }
  std::fprintf(stderr, "zmq_echo_server: echoing on %s\n",
               absl::GetFlag(FLAGS_listen).c_str());
  while (!stop_requested) {
    zmq_pollitem_t item = {router.get(), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, 100) <= 0) continue;
    // Same batching as routingd's frontend.
    for (int i = 0; i < 64; ++i) {
      routing::sidecar::Frames message;
      if (!message.Receive(router.get(), ZMQ_DONTWAIT)) break;
      message.Send(router.get(), ZMQ_DONTWAIT);
    }
  }
  router.Close();
  zmq_ctx_term(context);
  return 0;
}
