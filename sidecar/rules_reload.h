// File: sidecar/rules_reload.h
//
// The seam between routingd and the rules engine (rules/): the rules in force,
// kept next to the router so that their health can be read, loaded at start
// (--rules) and replaced by ReloadRules requests, every compile with the same
// options (routingd's --rules_* flags).
//
//   rules::RulesOptions options;                  // budget, breaker, caps, dir
//   RulesInForce rules(router.get(), options);
//   absl::Status s = rules.LoadAtStart(flags.rules);        // "" = none
//   ReloadOutcome r = rules.Reload(*request->body_as_ReloadRules());
//   RulesHealth h = rules.Health();                         // for Stats
//   if (auto s = rules.NewSuspension()) ... publish it ...  // periodically
//
// Rules are compiled, checked and tested (rules/lua_rules.h) before they are
// swapped in; a refused file changes nothing and comes back with every
// problem as "FILE:LINE: message". Reading a file is non-blocking and capped
// (a FIFO, a device, a directory, a file too large or outside
// options.rules_dir is refused at once), but compiling a large file and
// running its tests can take seconds: routingd runs reloads on a thread of
// their own (daemon.h), never on the threads that answer routes.
//
// Thread-safety: every method may be called from any thread. Reloads are
// serialized (a second waits for the first); Health and NewSuspension never
// wait for a compile.
#ifndef SIDECAR_RULES_RELOAD_H_
#define SIDECAR_RULES_RELOAD_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "routing/router.h"
#include "rules/lua_rules.h"
#include "sidecar/routing_generated.h"

namespace routing::sidecar {

struct ReloadOutcome {
  // OK: rules accepted (version) or refused with problems. Not OK: the
  // request could not be served at all (the reply is then an Error).
  absl::Status status;
  bool accepted = false;
  uint64_t version = 0;  // The rules version in force after the reload.
  std::string name;      // The name of the rules in force after the reload.
  std::string source;    // The path offered, or "request.lua" for text.
  std::vector<std::string> problems;  // "FILE:LINE: message".
};

// The rules in force and how they are faring (rules::LuaRules::Health).
struct RulesHealth {
  uint64_t version = 0;    // The router's rules version; 0: no rules.
  std::string name;        // Empty: no rules.
  int64_t errors = 0;      // Failed evaluations since this version compiled.
  int64_t overruns = 0;    // ...of which ran past the evaluation budget.
  std::string last_error;  // "FILE:LINE: message"; empty: none.
  bool suspended = false;  // The circuit breaker tripped.
  absl::Time suspended_at = absl::InfinitePast();
};

// The text of the rules in force, as compiled: what a journal records so
// that a restart puts the same rules back, whatever became of the file.
struct RulesText {
  std::string file;    // The path, or "request.lua"; empty: no rules.
  std::string source;  // The text compiled.
  uint64_t version = 0;
};

class RulesInForce {
 public:
  // `router` outlives this object; every compile gets `options`.
  RulesInForce(Router* router, rules::RulesOptions options);
  RulesInForce(const RulesInForce&) = delete;
  RulesInForce& operator=(const RulesInForce&) = delete;

  const rules::RulesOptions& options() const { return options_; }

  // `path` empty: nothing to load (OK). A refused file is an error whose
  // message lists the problems (routingd exits with it).
  absl::Status LoadAtStart(const std::string& path);
  // Restart: compiles `source` (labelled `file` in problems) and puts it in
  // force, as the rules a journal recorded. A refusal (rules that no longer
  // compile, say with other --rules_* limits) lists the problems.
  absl::Status LoadSourceAtStart(const std::string& file,
                                 const std::string& source);

  // Compiles the request's path or source and, if accepted, puts it in force.
  ReloadOutcome Reload(const wire::ReloadRules& request);

  RulesHealth Health() const;
  RulesText Text() const;

  // The health of the rules in force if their breaker has tripped and this
  // has not been returned for their version yet: each suspended version is
  // reported once. Cheap: one health() read.
  std::optional<RulesHealth> NewSuspension();

 private:
  // Callers hold reload_mutex_.
  void PutInForce(std::shared_ptr<const rules::LuaRules> rules,
                  std::string file, std::string source);
  // Reads `path` and compiles it (problems appended).
  absl::StatusOr<std::shared_ptr<const rules::LuaRules>> CompileFile(
      const std::string& path, std::string* source,
      std::vector<rules::RulesProblem>* problems) const;
  // Callers hold mutex_.
  RulesHealth HealthLocked() const;

  Router* const router_;
  const rules::RulesOptions options_;
  // std::mutex rather than absl::Mutex: ThreadSanitizer sees its ordering
  // (Debian's Abseil is not instrumented; docs/ARCHITECTURE.md).
  // Held for a whole compile-and-swap, so that the router's version and the
  // rules kept here are replaced together, one reload at a time.
  std::mutex reload_mutex_;
  // Guards the three below; never held during a compile.
  mutable std::mutex mutex_;
  std::shared_ptr<const rules::LuaRules> rules_;
  uint64_t version_ = 0;
  std::string file_;
  std::string source_;
  uint64_t suspension_reported_ = 0;  // A version.
};

}  // namespace routing::sidecar

#endif  // SIDECAR_RULES_RELOAD_H_
