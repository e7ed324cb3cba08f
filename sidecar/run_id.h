// File: sidecar/run_id.h
//
// The run id: a random 64-bit number chosen when routingd starts, in
// HealthStatus.run_id and every Event.run_id (routing.fbs). A client that
// sees it change knows the daemon restarted, and with it every contact,
// event sequence and idempotency key it knew of: it resynchronises
// (sidecar/README.md).
//
//   const uint64_t run_id = ProcessRunId();  // the same for the whole process
//
// Errors: none; /dev/urandom (getrandom) is the source, Abseil's seeded
// generator the fallback should it fail. Never 0.
// Thread-safety: ProcessRunId may be called from any thread; the first call
// chooses the value.
#ifndef SIDECAR_RUN_ID_H_
#define SIDECAR_RUN_ID_H_

#include <cstdint>

namespace routing::sidecar {

// A fresh random non-zero id on every call.
uint64_t NewRunId();
// This process's run id, chosen by the first call.
uint64_t ProcessRunId();

}  // namespace routing::sidecar

#endif  // SIDECAR_RUN_ID_H_
