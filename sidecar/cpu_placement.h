// File: sidecar/cpu_placement.h
//
// Which CPUs routingd's threads may run on. On a small machine the threads
// that execute requests and libzmq's I/O thread compete for a core; an
// operator (or the load test) can give each side its own:
//
//   routingd --worker_cpus=0 --io_cpus=1
//
// A CPU list is written as Linux writes it ("0", "0,2", "0-3,6"). Every CPU
// named must be one this process may run on (its sched_getaffinity mask), so
// a typo is refused at start with the allowed set in the message, instead of
// failing later inside a thread (libzmq aborts on an affinity it cannot set).
#ifndef SIDECAR_CPU_PLACEMENT_H_
#define SIDECAR_CPU_PLACEMENT_H_

#include <sched.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace routing::sidecar {

// Parses "0", "0,2", "0-3,6" into sorted, distinct CPU numbers. Empty text is
// an empty list (no placement). InvalidArgument names the bad element.
absl::StatusOr<std::vector<int>> ParseCpuList(const std::string& text);

// OK if every CPU in `cpus` is in the calling process's affinity mask;
// otherwise InvalidArgument naming the CPU and the allowed list.
absl::Status CheckCpusAllowed(const std::vector<int>& cpus);

// Restricts the calling thread to `cpus` (no-op when empty).
absl::Status PinCallingThread(const std::vector<int>& cpus);

// While it lives, the calling thread runs on `cpus` (when not empty), so
// that the threads it starts meanwhile inherit that placement; its own
// placement comes back when it goes. For threads started by code that does
// not place them (the journal's writer, snapshot and zero-fill threads).
class ScopedThreadPlacement {
 public:
  explicit ScopedThreadPlacement(const std::vector<int>& cpus);
  ~ScopedThreadPlacement();
  ScopedThreadPlacement(const ScopedThreadPlacement&) = delete;
  ScopedThreadPlacement& operator=(const ScopedThreadPlacement&) = delete;

  // OK, or why the thread could not be placed (it then runs where it was).
  const absl::Status& status() const { return status_; }

 private:
  cpu_set_t before_;
  bool restore_ = false;
  absl::Status status_;
};

}  // namespace routing::sidecar

#endif  // SIDECAR_CPU_PLACEMENT_H_
