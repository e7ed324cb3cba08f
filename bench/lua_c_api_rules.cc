#include "bench/lua_c_api_rules.h"

#include "absl/strings/str_cat.h"
#include "lua5.4/lua.hpp"

namespace bench {

absl::StatusOr<std::shared_ptr<LuaCApiRules>> LuaCApiRules::Create(
    const std::string& expression) {
  std::shared_ptr<LuaCApiRules> rules(new LuaCApiRules());
  rules->L_ = luaL_newstate();
  if (rules->L_ == nullptr) return absl::ResourceExhaustedError("lua state");
  luaL_openlibs(rules->L_);
  const std::string chunk =
      absl::StrCat("return function(a) return ", expression, " end");
  if (luaL_loadstring(rules->L_, chunk.c_str()) != LUA_OK ||
      lua_pcall(rules->L_, 0, 1, 0) != LUA_OK) {
    return absl::InvalidArgumentError(lua_tostring(rules->L_, -1));
  }
  rules->score_ref_ = luaL_ref(rules->L_, LUA_REGISTRYINDEX);
  return rules;
}

LuaCApiRules::~LuaCApiRules() {
  if (L_ != nullptr) lua_close(L_);
}

bool LuaCApiRules::Evaluate(const routing::RulesContact&,
                            routing::RulesCandidate* candidates, int count,
                            const routing::RulesNames&) const {
  static constexpr const char* kFields[] = {"skill_score",     "affinity_score",
                                            "language_score",  "load_score",
                                            "occupancy_score", "idle_score"};
  for (int i = 0; i < count; ++i) {
    routing::RulesCandidate& c = candidates[i];
    lua_rawgeti(L_, LUA_REGISTRYINDEX, score_ref_);
    lua_createtable(L_, 0, 8);
    for (int f = 0; f < 6; ++f) {
      lua_pushnumber(L_, c.components[f]);
      lua_setfield(L_, -2, kFields[f]);
    }
    lua_pushnumber(L_, c.builtin_score);
    lua_setfield(L_, -2, "score");
    lua_pushnumber(L_, c.idle_seconds);
    lua_setfield(L_, -2, "idle");
    if (lua_pcall(L_, 1, 1, 0) != LUA_OK) {
      lua_pop(L_, 1);
      return false;
    }
    c.score = lua_tonumber(L_, -1);
    lua_pop(L_, 1);
  }
  return true;
}

}  // namespace bench
