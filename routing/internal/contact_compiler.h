// File: routing/internal/contact_compiler.h
//
// Turns a Contact as callers give it into the ContactRoute one placement
// routes on: every field checked (an error names the contact and the
// field), skills, languages and agents resolved to the router's ids, the
// rules' plan for the step the contact has reached applied (priority,
// requirements, the next step's due time), and its aged arrival computed.
//
// Contract:
//   - Interns nothing: a refused contact leaves no name behind. A required
//     skill or a language list nobody on the roster has is NotFound; an
//     excluded agent id the router does not know is kept by name.
//   - The route keeps the contact as given (with its enqueue time filled
//     in), so it can be planned again at a later step or requeue.
//
// Threading: Compile() may be called concurrently; it reads lock-free name
// tables and the history store.
#ifndef ROUTING_INTERNAL_CONTACT_COMPILER_H_
#define ROUTING_INTERNAL_CONTACT_COMPILER_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "routing/contact.h"
#include "routing/internal/contact_record.h"
#include "routing/internal/history_store.h"
#include "routing/internal/name_table.h"
#include "routing/router.h"
#include "routing/routing_policy.h"
#include "routing/routing_rules.h"

namespace routing::internal {

class ContactCompiler {
 public:
  // Everything pointed to must outlive the compiler.
  ContactCompiler(const RouterOptions* options, const NameTable* skills,
                  const NameTable* languages, const NameTable* agent_ids,
                  const HistoryStore* history);

  // `contact` at `now_ns` under `policy` and `rules` (null: none).
  absl::StatusOr<std::unique_ptr<ContactRoute>> Compile(
      const Contact& contact, const RoutingPolicy& policy,
      const RoutingRules* rules, int64_t now_ns) const;
  // The same into `out`, a freshly constructed route (the one a contact
  // record carries for its first placement). On error `out` is left
  // partly written: discard it.
  absl::Status CompileInto(const Contact& contact, const RoutingPolicy& policy,
                           const RoutingRules* rules, int64_t now_ns,
                           ContactRoute* out) const;

  // The rules' plan for `contact` (enqueued at enqueue_ns) now, checked: a
  // priority above the range is capped, a next step already passed is none.
  static ContactPlan PlanFor(const RoutingRules& rules, const Contact& contact,
                             int64_t enqueue_ns, int64_t now_ns);
  // The skills the rules' step for `contact` at now_ns requires in place of
  // its own (empty when the step keeps them), enqueue time taken as
  // CompileInto takes it. Router::ImportState knows their names again
  // before compiling: a queued contact's step may ask for a skill that no
  // agent on the roster has any more.
  static std::vector<SkillRequirement> StepSkills(const RoutingRules& rules,
                                                  const Contact& contact,
                                                  int64_t now_ns);

 private:
  const RouterOptions* const options_;
  const NameTable* const skills_;
  const NameTable* const languages_;
  const NameTable* const agent_ids_;
  const HistoryStore* const history_;
};

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_CONTACT_COMPILER_H_
