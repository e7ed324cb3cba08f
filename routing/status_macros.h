// File: routing/status_macros.h
//
// Debian's Abseil (20220623) has no status macros, so the project defines its
// two here, once:
//
//   absl::Status Load() {
//     ROUTING_RETURN_IF_ERROR(Validate());
//     ROUTING_ASSIGN_OR_RETURN(Config config, Parse());
//     ...
//   }
#ifndef ROUTING_STATUS_MACROS_H_
#define ROUTING_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define ROUTING_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    const ::absl::Status routing_status_ = (expr);     \
    if (!routing_status_.ok()) return routing_status_; \
  } while (false)

#define ROUTING_STATUS_CONCAT_INNER_(a, b) a##b
#define ROUTING_STATUS_CONCAT_(a, b) ROUTING_STATUS_CONCAT_INNER_(a, b)

#define ROUTING_ASSIGN_OR_RETURN(lhs, expr) \
  ROUTING_ASSIGN_OR_RETURN_IMPL_(           \
      ROUTING_STATUS_CONCAT_(routing_statusor_, __LINE__), lhs, expr)

#define ROUTING_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                   \
  if (!statusor.ok()) return std::move(statusor).status();  \
  lhs = std::move(statusor).value()

#endif  // ROUTING_STATUS_MACROS_H_
