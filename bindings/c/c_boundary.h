// File: bindings/c/c_boundary.h
//
// The one place where C calls enter C++ (internal to //bindings/c): every
// routing_* function runs its body through Boundary(), which turns an
// absl::Status into a routing_status_t, records the thread's last error
// message, and catches every exception so none crosses into C.
//
//   routing_status_t routing_agent_set_team(routing_agent_t* a, const char* t)
//   {
//     return Boundary("routing_agent_set_team", [&]() -> absl::Status {
//       ROUTING_RETURN_IF_ERROR(RequireNonNull(a, "agent"));
//       ROUTING_ASSIGN_OR_RETURN(a->profile.team, TextArgument(t, "team"));
//       return absl::OkStatus();
//     });
//   }
//
// Input strings are checked here: NULL and invalid UTF-8 are InvalidArgument
// naming the field.
#ifndef ROUTING_BINDINGS_C_C_BOUNDARY_H_
#define ROUTING_BINDINGS_C_C_BOUNDARY_H_

#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bindings/c/routing.h"

namespace routing::c_api {

// Records `status` as this thread's last error ("" when OK) and returns its
// code. `function` prefixes the message so a log line says which call failed.
routing_status_t Record(const char* function, const absl::Status& status);
// This thread's last message; valid until its next Record.
const char* LastError();
// Records a failure that has no absl::Status (exceptions, destroyed engine).
routing_status_t RecordFailure(const char* function, routing_status_t code,
                               std::string_view message);

// Runs `body` (returning absl::Status) and records its outcome. Exceptions
// become ROUTING_RESOURCE_EXHAUSTED (std::bad_alloc) or ROUTING_INTERNAL.
template <typename Body>
routing_status_t Boundary(const char* function, Body&& body) noexcept {
  try {
    return Record(function, body());
  } catch (const std::bad_alloc&) {
    return RecordFailure(function, ROUTING_RESOURCE_EXHAUSTED, "out of memory");
  } catch (const std::exception& e) {
    return RecordFailure(function, ROUTING_INTERNAL, e.what());
  } catch (...) {
    return RecordFailure(function, ROUTING_INTERNAL, "unknown exception");
  }
}

// InvalidArgument "<field> is NULL" for a null pointer.
absl::Status RequireNonNull(const void* pointer, const char* field);

// Byte offset of the first invalid UTF-8 sequence in `text`, or npos. Rejects
// overlong forms, surrogates and code points above U+10FFFF.
size_t FirstInvalidUtf8(std::string_view text);

// Copies a NUL-terminated C string argument after checking it is non-NULL
// and valid UTF-8; the error names `field`.
absl::StatusOr<std::string> TextArgument(const char* text, const char* field);
// The same, refusing more than `max_bytes` (a name, a path): such values are
// echoed in messages, which must stay short.
absl::StatusOr<std::string> TextArgument(const char* text, const char* field,
                                         size_t max_bytes);
// Longest rules name and rules file path accepted.
inline constexpr size_t kMaxRulesNameBytes = 256;
inline constexpr size_t kMaxPathBytes = 4096;
// Longest agent or contact id: the engine refuses longer ones when an agent
// is added or a contact routed (routing/internal/input_checks.h), so a longer
// id names nothing, and is refused before it is echoed in a message.
inline constexpr size_t kMaxIdBytes = 256;

// A malloc'd copy of `text` the caller frees with routing_free. Throws
// std::bad_alloc (caught by Boundary) when out of memory.
char* CopyForCaller(const std::string& text);

// Checks an enum argument against [0, count).
absl::Status RequireEnum(int value, int count, const char* field);

}  // namespace routing::c_api

#endif  // ROUTING_BINDINGS_C_C_BOUNDARY_H_
