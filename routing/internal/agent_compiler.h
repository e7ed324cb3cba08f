// File: routing/internal/agent_compiler.h
//
// Turns an AgentProfile as callers give it into the AgentRecord the decision
// path reads: every field checked (an error names the agent and the field),
// skills and languages interned to ids and sorted, capacities per channel.
//
// Contract:
//   - Validate() interns nothing and refuses a profile that would not fit the
//     router's name tables, so a refused profile leaves no name behind.
//   - Compile() validates, then interns; interning fails only when a table
//     filled up meanwhile (ResourceExhausted).
//
// Threading: both may be called concurrently (the name tables and bitmaps
// they touch are lock-free).
#ifndef ROUTING_INTERNAL_AGENT_COMPILER_H_
#define ROUTING_INTERNAL_AGENT_COMPILER_H_

#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "routing/agent.h"
#include "routing/internal/agent_index.h"
#include "routing/internal/agent_slot.h"
#include "routing/internal/name_table.h"
#include "routing/router.h"

namespace routing::internal {

class AgentCompiler {
 public:
  // Everything pointed to must outlive the compiler.
  AgentCompiler(const RouterOptions* options, NameTable* skills,
                NameTable* languages, NameTable* teams, AgentIndex* agents);

  // A well-formed agent id (non-empty, at most kMaxIdBytes).
  static absl::Status CheckAgentId(std::string_view agent_id);
  absl::Status Validate(const AgentProfile& profile) const;
  // The record for `profile` at roster slot `index`.
  absl::StatusOr<std::unique_ptr<AgentRecord>> Compile(
      const AgentProfile& profile, int index);

 private:
  const RouterOptions* const options_;
  NameTable* const skills_;
  NameTable* const languages_;
  NameTable* const teams_;
  AgentIndex* const agents_;
};

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_AGENT_COMPILER_H_
