// File: routing/internal/string_view_compat.h
//
// Debian 12's Abseil (20220623) is built with ABSL_OPTION_USE_STD_STRING_VIEW
// set to 0, so absl::string_view is its own class and absl::StrCat, StrAppend
// and StrJoin do not accept a std::string_view. The router speaks
// std::string_view at its API; messages pass its views through AsAbsl():
//
//   absl::StrCat("agent '", AsAbsl(agent_id), "' is not on the roster");
//
// No copy is made. Once Abseil is built with std::string_view this header
// becomes an identity and can be removed.
#ifndef ROUTING_INTERNAL_STRING_VIEW_COMPAT_H_
#define ROUTING_INTERNAL_STRING_VIEW_COMPAT_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace routing::internal {

inline absl::string_view AsAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_STRING_VIEW_COMPAT_H_
