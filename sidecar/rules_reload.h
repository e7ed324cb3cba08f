// File: sidecar/rules_reload.h
//
// The seam between routingd and the rules engine (rules/): loading rules at
// start (--rules) and on a ReloadRules request. Both are single functions so
// that linking the rules engine changes this file pair and nothing else.
//
//   absl::Status s = LoadRulesAtStart(router, flags.rules);   // "" = none
//   ReloadOutcome r = ReloadRules(router, *request->body_as_ReloadRules());
//
// Rules are compiled, checked and tested (rules/lua_rules.h) before they are
// swapped in; a refused file changes nothing and comes back with every
// problem as "FILE:LINE: message". Compiling takes a few milliseconds on the
// calling worker. Thread-safety: callable from any worker thread.
#ifndef SIDECAR_RULES_RELOAD_H_
#define SIDECAR_RULES_RELOAD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "routing/router.h"
#include "sidecar/routing_generated.h"

namespace routing::sidecar {

struct ReloadOutcome {
  // OK: rules accepted (version) or refused with problems. Not OK: the
  // request could not be served at all (the reply is then an Error).
  absl::Status status;
  bool accepted = false;
  uint64_t version = 0;
  std::vector<std::string> problems;  // "FILE:LINE: message".
};

// `rules_path` empty: nothing to load (OK). A refused file is an error whose
// message lists the problems (routingd exits with it).
absl::Status LoadRulesAtStart(Router& router, const std::string& rules_path);

ReloadOutcome ReloadRules(Router& router, const wire::ReloadRules& request);

}  // namespace routing::sidecar

#endif  // SIDECAR_RULES_RELOAD_H_
