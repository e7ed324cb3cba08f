// File: rules/internal/rules_view.h
//
// The memory rule code reads, laid out for LuaJIT's FFI. rules_prelude.lua
// declares the same structs with ffi.cdef; rules_view_test checks that every
// offset agrees. One RulesStaging belongs to one Lua state for its whole life
// and is never moved, so a reference a rule keeps past its call reads stale
// values but never freed memory.
//
// Rule code sees only the "view" structs, whose fields are all scalars and
// const (no pointer, no array: LuaJIT does not bounds-check either). What
// needs a pointer (skills, strings, attributes) the trusted prelude fetches
// through callbacks, after checking the agent's slot against the batch.
#ifndef RULES_INTERNAL_RULES_VIEW_H_
#define RULES_INTERNAL_RULES_VIEW_H_

#include <cstddef>
#include <cstdint>

namespace rules::internal {

// Candidates handed to the rules per call; a decision with more eligible
// agents makes several calls. Bounds the staging memory per state (~30 KB).
inline constexpr int kRulesBatch = 256;

extern "C" {

struct RulesAgentView {
  int32_t slot;  // This agent's index in the batch (checked by accessors).
  int32_t load;  // Contacts held, all channels.
  int32_t channel_load;  // Contacts held on the contact's channel.
  int32_t capacity;      // Capacity on the contact's channel.
  int32_t max_total;     // 0: no cap beyond the channels'.
  bool served_before;
  bool resolved_before;
  bool preferred;
  double occupancy;
  double idle;   // Seconds since the agent last became free; 0 while busy.
  double score;  // The built-in weighted total.
  double skill_score;
  double affinity_score;
  double language_score;
  double load_score;
  double occupancy_score;
  double idle_score;
};

struct RulesContactView {
  double waited;  // Seconds since the contact's enqueue time.
  int32_t priority;
  int32_t step;
  int32_t channel;  // Channel index.
};

struct RulesContactRef {
  const char* id;
  size_t id_len;
  const char* queue;
  size_t queue_len;
  const char* customer;
  size_t customer_len;
  const char* language;  // The customer's first language; empty if none.
  size_t language_len;
  const void* contact;  // routing::Contact, for attributes and skills.
};

struct RulesStaging {
  RulesContactView contact;
  RulesContactRef contact_ref;
  int32_t count;  // Candidates in this batch.
  RulesAgentView agents[kRulesBatch];
  double scores[kRulesBatch];  // Out.
  bool eligible[kRulesBatch];  // Out.
  // Callbacks into C++ (lua_rules_state.cc). `candidates` is the router's
  // routing::RulesCandidate array for this batch (slot 0 first), `names` its
  // RulesNames; both valid during the call only, and every accessor checks
  // the slot against `count` (0 between calls) before calling back.
  const void* candidates;
  const void* names;
  // RulesNames::identity() of `names`: the prelude drops its name -> id
  // cache when it changes (another router). A double: exact to 2^53.
  double names_identity;
  int32_t (*agent_skill)(const void* candidates, int32_t slot, int32_t skill);
  int32_t (*agent_fluency)(const void* candidates, int32_t slot,
                           int32_t language);
  int32_t (*agent_channel)(const void* candidates, int32_t slot,
                           int32_t channel, bool capacity);
  // which: 0 id, 1 team, 2 site.
  const char* (*agent_text)(const void* candidates, int32_t slot, int32_t which,
                            size_t* len);
  int32_t (*skill_id)(const void* names, const char* name, size_t len);
  int32_t (*language_id)(const void* names, const char* name, size_t len);
  const char* (*contact_attribute)(const void* contact, const char* key,
                                   size_t len, size_t* out_len);
  const char* (*agent_attribute)(const void* candidates, int32_t slot,
                                 const char* key, size_t len, size_t* out_len);
  int32_t (*contact_requires)(const void* contact, const char* skill,
                              size_t len);
  int32_t (*contact_speaks)(const void* contact, const char* language,
                            size_t len);
};

}  // extern "C"

}  // namespace rules::internal

#endif  // RULES_INTERNAL_RULES_VIEW_H_
