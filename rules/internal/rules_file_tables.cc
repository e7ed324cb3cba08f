// Reading the data parts of a rules file (steps and tests) out of the Lua
// state that compiled it, with a problem for every field that is not what
// docs/RULES.md says.
#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "luajit/lua.hpp"
#include "rules/internal/lua_rules_state.h"

namespace rules::internal {

namespace {

// Reads fields of the table at the top of the stack, recording problems
// under a label ("steps[2]", "tests[1].contact").
class TableReader {
 public:
  TableReader(lua_State* L, std::string file, std::string label,
              std::vector<RulesProblem>* problems)
      : L_(L),
        file_(std::move(file)),
        label_(std::move(label)),
        problems_(problems) {}

  void Problem(const std::string& message) {
    problems_->push_back({file_, 0, absl::StrCat(label_, ": ", message)});
  }

  // Complains about keys not in `known`.
  void OnlyKeys(std::initializer_list<const char*> known) {
    lua_pushnil(L_);
    while (lua_next(L_, -2) != 0) {
      lua_pop(L_, 1);
      if (lua_type(L_, -1) != LUA_TSTRING) {
        Problem("keys must be names");
        continue;
      }
      const char* key = lua_tostring(L_, -1);
      if (std::none_of(known.begin(), known.end(), [&](const char* k) {
            return std::string_view(k) == key;
          })) {
        std::string list;
        for (const char* k : known)
          absl::StrAppend(&list, list.empty() ? "" : ", ", k);
        Problem(
            absl::StrCat("unknown field '", key, "' (expected ", list, ")"));
      }
    }
  }

  // Pushes field `name`; returns its Lua type.
  int Push(const char* name) {
    lua_getfield(L_, -1, name);
    return lua_type(L_, -1);
  }

  bool String(const char* name, std::string* out, bool required = false) {
    const int type = Push(name);
    bool ok = true;
    if (type == LUA_TSTRING) {
      size_t len = 0;
      const char* s = lua_tolstring(L_, -1, &len);
      out->assign(s, len);
    } else if (type != LUA_TNIL || required) {
      Problem(absl::StrCat("'", name, "' must be a string"));
      ok = false;
    }
    lua_pop(L_, 1);
    return ok;
  }

  bool Number(const char* name, double* out, double lo, double hi) {
    const int type = Push(name);
    bool ok = true;
    if (type == LUA_TNUMBER) {
      const double v = lua_tonumber(L_, -1);
      if (!(v >= lo && v <= hi)) {
        Problem(absl::StrCat("'", name, "' must be from ", lo, " to ", hi));
        ok = false;
      } else {
        *out = v;
      }
    } else if (type != LUA_TNIL) {
      Problem(absl::StrCat("'", name, "' must be a number"));
      ok = false;
    }
    lua_pop(L_, 1);
    return ok;
  }

  bool Boolean(const char* name, bool* out) {
    const int type = Push(name);
    bool ok = true;
    if (type == LUA_TBOOLEAN) {
      *out = lua_toboolean(L_, -1) != 0;
    } else if (type != LUA_TNIL) {
      Problem(absl::StrCat("'", name, "' must be true or false"));
      ok = false;
    }
    lua_pop(L_, 1);
    return ok;
  }

  // { name = level, ... } with integer levels in 1..hi.
  bool Levels(const char* name, std::vector<std::pair<std::string, int>>* out,
              int hi) {
    const int type = Push(name);
    bool ok = true;
    if (type == LUA_TTABLE) {
      lua_pushnil(L_);
      while (lua_next(L_, -2) != 0) {
        const int level = static_cast<int>(lua_tointeger(L_, -1));
        if (lua_type(L_, -2) != LUA_TSTRING ||
            lua_type(L_, -1) != LUA_TNUMBER || level < 1 || level > hi ||
            lua_tonumber(L_, -1) != level) {
          Problem(
              absl::StrCat("'", name, "' maps names to whole levels 1..", hi));
          ok = false;
        } else {
          out->emplace_back(lua_tostring(L_, -2), level);
        }
        lua_pop(L_, 1);
      }
      std::sort(out->begin(), out->end());  // Table order is arbitrary.
    } else if (type != LUA_TNIL) {
      Problem(absl::StrCat("'", name, "' must be a table of name = level"));
      ok = false;
    }
    lua_pop(L_, 1);
    return ok;
  }

  // { "a", "b" } (a list of strings).
  bool List(const char* name, std::vector<std::string>* out) {
    const int type = Push(name);
    bool ok = true;
    if (type == LUA_TTABLE) {
      const int n = static_cast<int>(lua_objlen(L_, -1));
      for (int i = 1; i <= n; ++i) {
        lua_rawgeti(L_, -1, i);
        if (lua_type(L_, -1) != LUA_TSTRING) {
          Problem(absl::StrCat("'", name, "' must be a list of strings"));
          ok = false;
        } else {
          out->emplace_back(lua_tostring(L_, -1));
        }
        lua_pop(L_, 1);
      }
    } else if (type != LUA_TNIL) {
      Problem(absl::StrCat("'", name, "' must be a list of strings"));
      ok = false;
    }
    lua_pop(L_, 1);
    return ok;
  }

  // { key = "value" } (string to string).
  bool Strings(const char* name,
               absl::flat_hash_map<std::string, std::string>* out) {
    const int type = Push(name);
    bool ok = true;
    if (type == LUA_TTABLE) {
      lua_pushnil(L_);
      while (lua_next(L_, -2) != 0) {
        if (lua_type(L_, -2) != LUA_TSTRING ||
            lua_type(L_, -1) != LUA_TSTRING) {
          Problem(absl::StrCat("'", name, "' maps names to strings"));
          ok = false;
        } else {
          (*out)[lua_tostring(L_, -2)] = lua_tostring(L_, -1);
        }
        lua_pop(L_, 1);
      }
    } else if (type != LUA_TNIL) {
      Problem(absl::StrCat("'", name, "' must be a table of name = \"value\""));
      ok = false;
    }
    lua_pop(L_, 1);
    return ok;
  }

  // { voice = 1, chat = 2 } into per-channel counts.
  bool Channels(const char* name, std::array<int, routing::kChannelCount>* out,
                int hi) {
    std::vector<std::pair<std::string, int>> levels;
    const int type = Push(name);
    lua_pop(L_, 1);
    if (type == LUA_TNIL) return true;
    if (!Levels(name, &levels, hi)) return false;
    for (const auto& [channel_name, count] : levels) {
      routing::Channel channel;
      if (!routing::ParseChannel(channel_name, &channel)) {
        Problem(
            absl::StrCat("'", name, "': unknown channel '", channel_name, "'"));
        return false;
      }
      (*out)[routing::ChannelIndex(channel)] = count;
    }
    return true;
  }

 private:
  lua_State* L_;
  std::string file_;
  std::string label_;
  std::vector<RulesProblem>* problems_;
};

// Pushes hooks()[name].
int PushHook(lua_State* L, int module_ref, const char* name) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, module_ref);
  lua_getfield(L, -1, "hooks");
  lua_call(L, 0, 1);
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
  lua_remove(L, -2);
  return lua_type(L, -1);
}

}  // namespace

int LuaRulesState::LineOf(const std::string& text) const {
  const size_t at = source_.find(text);
  if (at == std::string::npos) return 0;
  return 1 + static_cast<int>(
                 std::count(source_.begin(), source_.begin() + at, '\n'));
}

bool LuaRulesState::ReadSteps(std::vector<RulesStep>* steps,
                              std::vector<RulesProblem>* problems) {
  const size_t before = problems->size();
  const int type = PushHook(L_, module_ref_, "steps");
  if (type != LUA_TNIL && type != LUA_TTABLE) {
    problems->push_back({file_name_, 0, "'steps' must be a list of tables"});
  }
  if (type == LUA_TTABLE) {
    const int n = static_cast<int>(lua_objlen(L_, -1));
    for (int i = 1; i <= n; ++i) {
      lua_rawgeti(L_, -1, i);
      TableReader step_table(L_, file_name_, absl::StrCat("steps[", i, "]"),
                             problems);
      if (lua_type(L_, -1) != LUA_TTABLE) {
        step_table.Problem("must be a table");
        lua_pop(L_, 1);
        continue;
      }
      step_table.OnlyKeys({"after", "name", "skills", "min_level", "languages",
                           "preferred_only"});
      RulesStep step;
      step_table.Number("after", &step.after_seconds, 0, 7 * 24 * 3600);
      step_table.String("name", &step.name);
      std::vector<std::pair<std::string, int>> skills;
      if (step_table.Push("skills") != LUA_TNIL) step.replace_skills = true;
      lua_pop(L_, 1);
      step_table.Levels("skills", &skills, 100);
      for (auto& [name, level] : skills) step.skills.push_back({name, level});
      double min_level = 0;
      step_table.Number("min_level", &min_level, 1, 100);
      step.min_level = static_cast<int>(min_level);
      bool languages = true;
      step_table.Boolean("languages", &languages);
      step.drop_languages = !languages;
      step_table.Boolean("preferred_only", &step.preferred_only);
      if (!steps->empty() &&
          step.after_seconds <= steps->back().after_seconds) {
        step_table.Problem("'after' must grow from one step to the next");
      }
      steps->push_back(std::move(step));
      lua_pop(L_, 1);
    }
  }
  lua_pop(L_, 1);
  return problems->size() == before;
}

bool LuaRulesState::ReadTests(std::vector<RulesTestCase>* tests,
                              std::vector<RulesProblem>* problems) {
  const size_t before = problems->size();
  const int type = PushHook(L_, module_ref_, "tests");
  if (type != LUA_TNIL && type != LUA_TTABLE) {
    problems->push_back({file_name_, 0, "'tests' must be a list of tables"});
  }
  if (type == LUA_TTABLE) {
    const int n = static_cast<int>(lua_objlen(L_, -1));
    for (int i = 1; i <= n; ++i) {
      lua_rawgeti(L_, -1, i);
      RulesTestCase test;
      TableReader t(L_, file_name_, absl::StrCat("tests[", i, "]"), problems);
      if (lua_type(L_, -1) != LUA_TTABLE) {
        t.Problem("must be a table");
        lua_pop(L_, 1);
        continue;
      }
      t.OnlyKeys({"name", "contact", "agents", "expect"});
      t.String("name", &test.name);
      if (test.name.empty()) {
        test.name = absl::StrCat("tests[", i, "]");
      } else {
        test.line = LineOf(absl::StrCat("\"", test.name, "\""));
      }
      t.String("expect", &test.expect, /*required=*/true);

      if (t.Push("contact") == LUA_TTABLE) {
        TableReader c(L_, file_name_, absl::StrCat(test.name, ": contact"),
                      problems);
        c.OnlyKeys({"id", "channel", "queue", "skills", "desired", "languages",
                    "customer", "preferred", "excluded", "priority",
                    "attributes", "waited"});
        routing::Contact& contact = test.contact;
        contact.id = "test-contact";
        c.String("id", &contact.id);
        std::string channel = "voice";
        c.String("channel", &channel);
        if (!routing::ParseChannel(channel, &contact.channel)) {
          c.Problem(absl::StrCat("unknown channel '", channel, "'"));
        }
        c.String("queue", &contact.queue);
        std::vector<std::pair<std::string, int>> levels;
        c.Levels("skills", &levels, 100);
        for (auto& [s, l] : levels) contact.required_skills.push_back({s, l});
        levels.clear();
        c.Levels("desired", &levels, 100);
        for (auto& [s, l] : levels) contact.desired_skills.push_back({s, l});
        c.List("languages", &contact.languages);
        c.String("customer", &contact.customer_id);
        c.List("preferred", &contact.preferred_agents);
        c.List("excluded", &contact.excluded_agents);
        double priority = 0;
        c.Number("priority", &priority, 0, routing::kMaxPriority);
        contact.priority = static_cast<int>(priority);
        c.Strings("attributes", &contact.attributes);
        c.Number("waited", &test.waited_seconds, 0, 24 * 3600);
      } else {
        t.Problem("needs a 'contact' table");
      }
      lua_pop(L_, 1);

      if (t.Push("agents") == LUA_TTABLE) {
        const int agents = static_cast<int>(lua_objlen(L_, -1));
        for (int a = 1; a <= agents; ++a) {
          lua_rawgeti(L_, -1, a);
          TableReader r(L_, file_name_,
                        absl::StrCat(test.name, ": agents[", a, "]"), problems);
          if (lua_type(L_, -1) != LUA_TTABLE) {
            r.Problem("must be a table");
            lua_pop(L_, 1);
            continue;
          }
          r.OnlyKeys({"id", "skills", "languages", "channels", "max_total",
                      "team", "site", "attributes", "state", "idle", "load"});
          RulesTestCase::TestAgent agent;
          routing::AgentProfile& p = agent.profile;
          r.String("id", &p.id, /*required=*/true);
          std::vector<std::pair<std::string, int>> levels;
          r.Levels("skills", &levels, 100);
          for (auto& [s, l] : levels) p.skills.push_back({s, l});
          levels.clear();
          r.Levels("languages", &levels, 100);
          for (auto& [s, l] : levels) p.languages.push_back({s, l});
          p.SetCapacity(routing::Channel::kVoice, 1);
          p.SetCapacity(routing::Channel::kChat, 3);
          p.SetCapacity(routing::Channel::kEmail, 5);
          if (r.Push("channels") != LUA_TNIL) p.capacity = {};
          lua_pop(L_, 1);
          r.Channels("channels", &p.capacity, routing::kMaxChannelCapacity);
          double max_total = 0;
          r.Number("max_total", &max_total, 0, 1000);
          p.max_total_contacts = static_cast<int>(max_total);
          r.String("team", &p.team);
          r.String("site", &p.site);
          r.Strings("attributes", &p.attributes);
          std::string state = "available";
          r.String("state", &state);
          if (!routing::ParseAgentState(state, &agent.state)) {
            r.Problem(absl::StrCat("unknown state '", state, "'"));
          }
          r.Number("idle", &agent.idle_seconds, 0, 24 * 3600);
          r.Channels("load", &agent.load, routing::kMaxChannelCapacity);
          test.agents.push_back(std::move(agent));
          lua_pop(L_, 1);
        }
      } else {
        t.Problem("needs an 'agents' list");
      }
      lua_pop(L_, 1);
      tests->push_back(std::move(test));
      lua_pop(L_, 1);
    }
  }
  lua_pop(L_, 1);
  return problems->size() == before;
}

bool LuaRulesState::HasHook(const char* name) {
  const bool present = PushHook(L_, module_ref_, name) != LUA_TNIL;
  lua_pop(L_, 1);
  return present;
}

double LuaRulesState::PriorityStepSeconds() {
  const double seconds =
      PushHook(L_, module_ref_, "priority_step") == LUA_TNUMBER
          ? lua_tonumber(L_, -1)
          : 0;
  lua_pop(L_, 1);
  return seconds;
}

std::vector<std::string> LuaRulesState::InterpretedFunctions() {
  std::vector<std::string> out;
  lua_rawgeti(L_, LUA_REGISTRYINDEX, module_ref_);
  lua_getfield(L_, -1, "interpreted");
  lua_remove(L_, -2);
  if (lua_pcall(L_, 0, 1, 0) != 0) {
    lua_pop(L_, 1);
    return out;
  }
  const int n = static_cast<int>(lua_objlen(L_, -1));
  for (int i = 1; i <= n; ++i) {
    lua_rawgeti(L_, -1, i);
    lua_getfield(L_, -1, "line");
    lua_getfield(L_, -2, "reason");
    const char* reason = lua_tostring(L_, -1);
    out.push_back(absl::StrCat(file_name_, ":", lua_tointeger(L_, -2), ": ",
                               std::string_view(reason ? reason : "?") == "loop"
                                   ? "function has a loop"
                                   : "function calls a rule function",
                               ": runs interpreted, under the time budget"));
    lua_pop(L_, 3);
  }
  lua_pop(L_, 1);
  return out;
}

}  // namespace rules::internal
