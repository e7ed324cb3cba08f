// Shared by routingd's end-to-end tests: a valid rules file whose 3,000
// tests run as it compiles, so a reload of it takes a second or more.
#ifndef TESTS_SIDECAR_SLOW_RULES_H_
#define TESTS_SIDECAR_SLOW_RULES_H_

#include <string>

#include "absl/strings/str_cat.h"

namespace routing::sidecar {

inline std::string SlowCompilingRules() {
  std::string text =
      "return {\n  score = function(c, a) return a.score end,\n  tests = {\n";
  for (int i = 0; i < 3000; ++i) {
    absl::StrAppend(&text, "    { name = 't", i,
                    "', contact = { skills = { billing = 1 } }, agents = { "
                    "{ id = 'a",
                    i, "', skills = { billing = 2 } }, { id = 'b", i,
                    "', skills = { billing = 1 }, state = 'busy' } }, "
                    "expect = 'a",
                    i, "' },\n");
  }
  text += "  },\n}\n";
  return text;
}

}  // namespace routing::sidecar

#endif  // TESTS_SIDECAR_SLOW_RULES_H_
