// File: rules/internal/rules_view.h
//
// The memory rule code reads, laid out for LuaJIT's FFI. rules_prelude.lua
// declares the same structs with ffi.cdef; rules_view_test checks that every
// offset agrees. One RulesStaging belongs to one Lua state for its whole life
// and is never moved, so a reference a rule keeps past its call reads stale
// values but never freed memory.
//
// Rule code sees only the "view" structs, whose fields are all scalars and
// const (no pointer, no array: LuaJIT does not bounds-check either). The
// "ref" structs, with pointers, are read only by the trusted prelude, which
// checks every index against the batch size first.
#ifndef RULES_INTERNAL_RULES_VIEW_H_
#define RULES_INTERNAL_RULES_VIEW_H_

#include <cstddef>
#include <cstdint>

namespace rules::internal {

// Candidates handed to the rules per call; a decision with more eligible
// agents makes several calls. Bounds the staging memory per state (~110 KB).
inline constexpr int kRulesBatch = 256;

extern "C" {

struct RulesAgentView {
  int32_t slot;          // Index of this agent's RulesAgentRef in the batch.
  int32_t load;          // Contacts held, all channels.
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

struct RulesAgentRef {
  const int32_t* skills;  // (id, level) pairs.
  int32_t skill_count;
  const int32_t* languages;  // (id, fluency) pairs.
  int32_t language_count;
  const int32_t* loads;       // Per channel.
  const int32_t* capacities;  // Per channel.
  const char* id;
  size_t id_len;
  const char* team;
  size_t team_len;
  const char* site;
  size_t site_len;
  const void* profile;  // routing::AgentProfile, for attributes.
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
  RulesAgentRef refs[kRulesBatch];
  double scores[kRulesBatch];  // Out.
  bool eligible[kRulesBatch];  // Out.
  // Callbacks into C++ (rules_staging.cc); `names` is the router's
  // RulesNames for the current call.
  const void* names;
  int32_t (*skill_id)(const void* names, const char* name, size_t len);
  int32_t (*language_id)(const void* names, const char* name, size_t len);
  const char* (*contact_attribute)(const void* contact, const char* key,
                                   size_t len, size_t* out_len);
  const char* (*agent_attribute)(const void* profile, const char* key,
                                 size_t len, size_t* out_len);
  int32_t (*contact_requires)(const void* contact, const char* skill,
                              size_t len);
  int32_t (*contact_speaks)(const void* contact, const char* language,
                            size_t len);
};

}  // extern "C"

}  // namespace rules::internal

#endif  // RULES_INTERNAL_RULES_VIEW_H_
