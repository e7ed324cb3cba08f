#include "sidecar/run_id.h"

#include <sys/random.h>

#include <cstdint>

#include "absl/random/random.h"

namespace routing::sidecar {

uint64_t NewRunId() {
  uint64_t id = 0;
  while (id == 0) {
    if (getrandom(&id, sizeof id, 0) != static_cast<ssize_t>(sizeof id)) {
      absl::BitGen gen;  // Seeded from the OS's entropy by Abseil.
      id = absl::Uniform<uint64_t>(gen);
    }
  }
  return id;
}

uint64_t ProcessRunId() {
  static const uint64_t id = NewRunId();
  return id;
}

}  // namespace routing::sidecar
