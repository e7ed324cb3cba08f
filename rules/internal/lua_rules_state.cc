#include "rules/internal/lua_rules_state.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"
#include "luajit/lua.hpp"
#include "rules/internal/rules_prelude_source.h"

namespace rules::internal {

namespace {

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Callbacks the prelude reaches through the staging struct (ffi calls, which
// the JIT compiles to plain C calls).
int32_t SkillIdOf(const void* names, const char* name, size_t len) {
  return static_cast<const routing::RulesNames*>(names)->SkillId(
      std::string_view(name, len));
}
int32_t LanguageIdOf(const void* names, const char* tag, size_t len) {
  return static_cast<const routing::RulesNames*>(names)->LanguageId(
      std::string_view(tag, len));
}
const char* Attribute(
    const absl::flat_hash_map<std::string, std::string>& attributes,
    const char* key, size_t len, size_t* out_len) {
  auto it = attributes.find(std::string(key, len));
  if (it == attributes.end()) return nullptr;
  *out_len = it->second.size();
  return it->second.data();
}
const char* ContactAttribute(const void* contact, const char* key, size_t len,
                             size_t* out_len) {
  return Attribute(static_cast<const routing::Contact*>(contact)->attributes,
                   key, len, out_len);
}
const routing::RulesCandidate& CandidateAt(const void* candidates,
                                           int32_t slot) {
  return static_cast<const routing::RulesCandidate*>(candidates)[slot];
}
int32_t PairLookup(const std::pair<int, int>* pairs, int count, int32_t id) {
  for (int i = 0; i < count; ++i) {
    if (pairs[i].first == id) return pairs[i].second;
    if (pairs[i].first > id) break;  // Sorted by id.
  }
  return 0;
}
int32_t AgentSkill(const void* candidates, int32_t slot, int32_t skill) {
  const routing::RulesCandidate& c = CandidateAt(candidates, slot);
  return PairLookup(c.skills, c.skill_count, skill);
}
int32_t AgentFluency(const void* candidates, int32_t slot, int32_t language) {
  const routing::RulesCandidate& c = CandidateAt(candidates, slot);
  return PairLookup(c.languages, c.language_count, language);
}
int32_t AgentChannel(const void* candidates, int32_t slot, int32_t channel,
                     bool capacity) {
  const routing::RulesCandidate& c = CandidateAt(candidates, slot);
  return capacity ? c.capacity[channel] : c.load[channel];
}
const char* AgentText(const void* candidates, int32_t slot, int32_t which,
                      size_t* len) {
  const routing::AgentProfile& p = *CandidateAt(candidates, slot).profile;
  const std::string& text = which == 0 ? p.id : which == 1 ? p.team : p.site;
  *len = text.size();
  return text.data();
}
const char* AgentAttribute(const void* candidates, int32_t slot,
                           const char* key, size_t len, size_t* out_len) {
  return Attribute(CandidateAt(candidates, slot).profile->attributes, key, len,
                   out_len);
}
int32_t ContactRequires(const void* contact, const char* skill, size_t len) {
  const std::string_view name(skill, len);
  for (const routing::SkillRequirement& r :
       static_cast<const routing::Contact*>(contact)->required_skills) {
    if (r.skill == name) return r.min_level;
  }
  return 0;
}
int32_t ContactSpeaks(const void* contact, const char* tag, size_t len) {
  const std::string_view name(tag, len);
  for (const std::string& l :
       static_cast<const routing::Contact*>(contact)->languages) {
    if (l == name) return 1;
  }
  return 0;
}

// Strips the "FILE:LINE: " LuaJIT puts in front of messages from rule code.
std::string PopError(lua_State* L) {
  size_t len = 0;
  const char* msg = lua_tolstring(L, -1, &len);
  std::string out = msg != nullptr
                        ? std::string(msg, len)
                        : std::string("error object is not a string");
  lua_pop(L, 1);
  return out;
}

}  // namespace

void* LuaRulesState::Allocate(void* ud, void* ptr, size_t old_size,
                              size_t new_size) {
  auto* memory = static_cast<Memory*>(ud);
  if (new_size == 0) {
    if (ptr != nullptr) memory->used -= old_size;
    std::free(ptr);
    return nullptr;
  }
  const size_t before = ptr != nullptr ? old_size : 0;
  if (new_size > before && memory->used - before + new_size > memory->limit) {
    return nullptr;  // LuaJIT raises "not enough memory".
  }
  void* fresh = std::realloc(ptr, new_size);
  if (fresh != nullptr) memory->used = memory->used - before + new_size;
  return fresh;
}

void LuaRulesState::BudgetHook(lua_State* L, lua_Debug*) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  LuaRulesState* self = static_cast<Memory*>(ud)->owner;
  const int64_t started = self->started_ns_.load(std::memory_order_acquire);
  const int64_t budget = self->budget_ns_.load(std::memory_order_relaxed);
  if (started == 0 || SteadyNowNs() - started <= budget) {
    lua_sethook(L, nullptr, 0, 0);  // A late interrupt: not this evaluation.
    return;
  }
  lua_sethook(L, nullptr, 0, 0);
  // Name the hook that was running (the outermost frame of the rules file,
  // called by the prelude) and the line it was stopped at (the innermost).
  int line = 0;
  int hook_line = 0;
  std::string hook = "rules";
  lua_Debug frame;
  const std::string source = "@" + self->file_name_;
  for (int level = 0; lua_getstack(L, level, &frame) != 0; ++level) {
    if (lua_getinfo(L, "Sln", &frame) == 0 || frame.source != source) continue;
    if (line == 0) line = frame.currentline;
    hook_line = frame.linedefined;
    if (frame.name != nullptr) {
      std::string_view name(frame.name);
      if (name.size() > 3 && name.substr(name.size() - 3) == "_fn") {
        const std::string hook_name(name.substr(0, name.size() - 3));
        hook = "hook '" + hook_name + "'";
        // Its own line: a tail call may have replaced its frame.
        auto it = self->hook_lines_.find(hook_name);
        if (it != self->hook_lines_.end() && it->second > 0) {
          hook_line = it->second;
          break;
        }
      } else {
        hook = "function '" + std::string(name) + "'";
      }
    }
  }
  if (line == 0) {
    // Stopped in the engine's prelude, between two calls of the file's
    // hooks: the time went to the hooks this call runs, so name them, at
    // the first one's line.
    static constexpr const char* kPriorityHooks[] = {"priority"};
    static constexpr const char* kCandidateHooks[] = {"eligible", "score"};
    const bool priority_call = self->running_ref_ == self->priority_ref_;
    const absl::Span<const char* const> hooks =
        priority_call ? absl::MakeConstSpan(kPriorityHooks)
                      : absl::MakeConstSpan(kCandidateHooks);
    std::vector<std::string> names;
    for (const char* name : hooks) {
      auto it = self->hook_lines_.find(name);
      if (it == self->hook_lines_.end() || it->second <= 0) continue;
      if (line == 0) line = it->second;
      names.push_back(absl::StrCat("'", name, "'"));
    }
    if (line == 0) line = std::max(self->LineOf("weights"), 1);
    hook_line = 0;
    hook = names.empty()
               ? std::string("the built-in scoring of the rules' weights")
               : absl::StrCat(names.size() == 1 ? "hook " : "hooks ",
                              absl::StrJoin(names, " and "),
                              " (over the candidates)");
  }
  self->overran_ = true;
  self->overrun_line_ = line;
  self->overrun_hook_ = hook_line > 0
                            ? absl::StrCat(hook, " (line ", hook_line, ")")
                            : hook;
  lua_pushstring(L, absl::StrCat(self->file_name_, ":", line, ": ",
                                 self->overrun_hook_,
                                 " ran longer than the time budget of ",
                                 budget / 1e6, " ms")
                        .c_str());
  lua_error(L);
}

void LuaRulesState::Interrupt() {
  // lua_sethook is the one LuaJIT call meant to be made asynchronously (from
  // a signal handler or another thread); the hook then runs on the state's
  // own thread at its next interpreted instruction.
  lua_sethook(L_, &LuaRulesState::BudgetHook, LUA_MASKCOUNT, 1);
}

LuaRulesState::~LuaRulesState() {
  if (L_ != nullptr) lua_close(L_);
}

absl::StatusOr<std::unique_ptr<LuaRulesState>> LuaRulesState::Create(
    const std::string& file_name, const std::string& source,
    const RulesOptions& options, std::vector<RulesProblem>* problems) {
  std::unique_ptr<LuaRulesState> state(new LuaRulesState());
  state->file_name_ = file_name;
  state->source_ = source;
  state->set_budget(options.evaluation_budget);
  state->memory_.limit = options.memory_limit_bytes;
  state->memory_.owner = state.get();
  state->L_ = lua_newstate(&LuaRulesState::Allocate, &state->memory_);
  auto refuse = [&](int line, std::string message) {
    problems->push_back({file_name, line, message});
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ":", line, ": ", message));
  };
  if (state->L_ == nullptr) {
    return refuse(0, "could not create a Lua state (memory limit too low?)");
  }
  lua_State* L = state->L_;
  luaL_openlibs(L);
  if (luaL_loadbuffer(L, kRulesPrelude, sizeof(kRulesPrelude) - 1,
                      "=rules_prelude") != 0 ||
      lua_pcall(L, 0, 1, 0) != 0) {
    return absl::InternalError(
        absl::StrCat("the rules prelude failed to load: ", PopError(L)));
  }
  state->module_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);

  state->staging_ = std::make_unique<RulesStaging>();
  RulesStaging& s = *state->staging_;
  std::memset(static_cast<void*>(&s), 0, sizeof(s));
  s.agent_skill = &AgentSkill;
  s.agent_fluency = &AgentFluency;
  s.agent_channel = &AgentChannel;
  s.agent_text = &AgentText;
  s.skill_id = &SkillIdOf;
  s.language_id = &LanguageIdOf;
  s.contact_attribute = &ContactAttribute;
  s.agent_attribute = &AgentAttribute;
  s.contact_requires = &ContactRequires;
  s.contact_speaks = &ContactSpeaks;

  auto field = [&](const char* name) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, state->module_ref_);
    lua_getfield(L, -1, name);
    lua_remove(L, -2);
  };
  std::string error;
  field("attach");
  lua_pushlightuserdata(L, &s);
  if (lua_pcall(L, 1, 0, 0) != 0) {
    return absl::InternalError(absl::StrCat("rules prelude: ", PopError(L)));
  }

  field("load");
  lua_pushlstring(L, source.data(), source.size());
  lua_pushlstring(L, file_name.data(), file_name.size());
  lua_pushinteger(L, options.load_instruction_limit);
  if (lua_pcall(L, 3, 1, 0) != 0) {
    // Only memory exhaustion gets here: the prelude catches rule errors.
    return refuse(0, PopError(L));
  }
  const int count = static_cast<int>(lua_objlen(L, -1));
  for (int i = 1; i <= count; ++i) {
    lua_rawgeti(L, -1, i);
    lua_getfield(L, -1, "line");
    const int line = static_cast<int>(lua_tointeger(L, -1));
    lua_getfield(L, -2, "message");
    const char* message = lua_tostring(L, -1);
    problems->push_back({file_name, line, message ? message : "?"});
    lua_pop(L, 3);
  }
  lua_pop(L, 1);
  if (count > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": ", count, " problem(s), first: ",
                     problems->at(problems->size() - count).ToString()));
  }
  for (const char* hook : {"eligible", "score", "priority"}) {
    field("hook_line");
    lua_pushstring(L, hook);
    if (lua_pcall(L, 1, 1, 0) != 0) {
      return absl::InternalError(absl::StrCat("rules prelude: ", PopError(L)));
    }
    state->hook_lines_[hook] = static_cast<int>(lua_tointeger(L, -1));
    lua_pop(L, 1);
  }
  field("evaluate");
  state->evaluate_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
  field("priority");
  state->priority_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
  return state;
}

bool LuaRulesState::CallPrelude(int function_ref, int args, int results,
                                std::string* error) {
  // The function goes below its arguments.
  lua_rawgeti(L_, LUA_REGISTRYINDEX, function_ref);
  lua_insert(L_, -(args + 1));
  overran_ = false;
  running_ref_ = function_ref;
  started_ns_.store(SteadyNowNs(), std::memory_order_release);
  const int rc = lua_pcall(L_, args, results, 0);
  started_ns_.store(0, std::memory_order_release);
  if (rc != 0) {
    *error = PopError(L_);
    lua_sethook(L_, nullptr, 0, 0);  // In case the watchdog set it.
    return false;
  }
  return true;
}

void LuaRulesState::FillContact(const routing::Contact& contact, int channel,
                                int priority, int step, double waited_seconds) {
  RulesStaging& s = *staging_;
  s.contact.waited = waited_seconds;
  s.contact.priority = priority;
  s.contact.step = step;
  s.contact.channel = channel;
  s.contact_ref.id = contact.id.data();
  s.contact_ref.id_len = contact.id.size();
  s.contact_ref.queue = contact.queue.data();
  s.contact_ref.queue_len = contact.queue.size();
  s.contact_ref.customer = contact.customer_id.data();
  s.contact_ref.customer_len = contact.customer_id.size();
  if (contact.languages.empty()) {
    s.contact_ref.language = "";
    s.contact_ref.language_len = 0;
  } else {
    s.contact_ref.language = contact.languages.front().data();
    s.contact_ref.language_len = contact.languages.front().size();
  }
  s.contact_ref.contact = &contact;
}

bool LuaRulesState::Evaluate(const routing::RulesContact& contact,
                             routing::RulesCandidate* candidates, int count,
                             const routing::RulesNames& names,
                             std::string* error) {
  RulesStaging& s = *staging_;
  s.names = &names;
  s.names_identity = static_cast<double>(names.identity());
  FillContact(*contact.contact, contact.channel, contact.priority, contact.step,
              contact.waited_seconds);
  for (int base = 0; base < count; base += kRulesBatch) {
    const int n = std::min(kRulesBatch, count - base);
    s.count = n;
    s.candidates = candidates + base;
    for (int i = 0; i < n; ++i) {
      const routing::RulesCandidate& c = candidates[base + i];
      RulesAgentView& a = s.agents[i];
      a.slot = i;
      a.load = 0;
      for (int ch = 0; ch < routing::kChannelCount; ++ch) a.load += c.load[ch];
      a.channel_load = c.load[contact.channel];
      a.capacity = c.capacity[contact.channel];
      a.max_total = c.max_total;
      a.served_before = c.served_before;
      a.resolved_before = c.resolved_before;
      a.preferred = c.preferred;
      a.occupancy = c.occupancy;
      a.idle = c.idle_seconds;
      a.score = c.builtin_score;
      a.skill_score = c.components[0];
      a.affinity_score = c.components[1];
      a.language_score = c.components[2];
      a.load_score = c.components[3];
      a.occupancy_score = c.components[4];
      a.idle_score = c.components[5];
      s.scores[i] = c.builtin_score;
      s.eligible[i] = true;
    }
    lua_pushinteger(L_, n);
    if (!CallPrelude(evaluate_ref_, 1, 0, error)) {
      s.count = 0;
      return false;
    }
    for (int i = 0; i < n; ++i) {
      candidates[base + i].eligible = s.eligible[i];
      candidates[base + i].score = s.scores[i];
    }
  }
  s.count = 0;  // References kept past the call now fail their slot check.
  return true;
}

bool LuaRulesState::Priority(const routing::Contact& contact,
                             double waited_seconds, int* priority,
                             std::string* error) {
  FillContact(contact, routing::ChannelIndex(contact.channel), contact.priority,
              0, waited_seconds);
  if (!CallPrelude(priority_ref_, 0, 1, error)) return false;
  *priority = static_cast<int>(lua_tointeger(L_, -1));
  lua_pop(L_, 1);
  return true;
}

}  // namespace rules::internal
