// Reading the data parts of a rules file (steps and tests) out of the Lua
// state that compiled it, with a problem for every field that is not what
// docs/RULES.md says.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "luajit/lua.hpp"
#include "rules/internal/lua_rules_state.h"

namespace rules::internal {

namespace {

// A number as a message shows it: all its digits (absl::StrCat keeps six).
std::string NumberText(double v) { return absl::StrFormat("%.12g", v); }

std::string JoinPath(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key)
                      : absl::StrCat(path, ".", std::string(key));
}

// Where the data tables of a rules file are written: the line of every table
// constructor and key written literally in the source, by path ("tests[2]" is
// the line of that test's "{", "tests[2].agents[1].occupancy" the line of
// that key). A lexical scan of a file that has already loaded: strings,
// comments and function bodies are skipped, and tables built by code are
// not found (callers then fall back to a coarser line). The first place a
// path is written wins.
class SourceLines {
 public:
  explicit SourceLines(std::string_view source) : src_(source) { Scan(); }

  // 0 when `path` is not written literally.
  int Of(const std::string& path) const {
    auto it = lines_.find(path);
    return it == lines_.end() ? 0 : it->second;
  }

 private:
  struct Token {
    enum Kind { kName, kString, kNumber, kSymbol, kEnd } kind = kEnd;
    std::string_view text;
    int line = 0;
    bool Is(std::string_view s) const {
      return (kind == kSymbol || kind == kName) && text == s;
    }
  };
  // A table constructor being read, or a bracket pair inside one.
  struct Frame {
    bool table = true;
    bool known = false;  // The path of this table is known.
    std::string path;
    int index = 0;             // Positional items so far.
    bool item_start = true;    // The next token starts an item.
    bool value_start = false;  // The next token starts an item's value.
    bool value_known = false;
    std::string value_path;
  };
  // A bracket or parenthesis: not a table.
  static Frame NonTableFrame() {
    Frame frame;
    frame.table = false;
    return frame;
  }

  // At src_[at] == '[': the level of a long bracket ("[==[") opening there,
  // or -1.
  int LongBracketLevel(size_t at) const {
    size_t p = at + 1;
    int level = 0;
    while (p < src_.size() && src_[p] == '=') ++p, ++level;
    return p < src_.size() && src_[p] == '[' ? level : -1;
  }
  void Skip(size_t end) {
    line_ += static_cast<int>(
        std::count(src_.begin() + pos_, src_.begin() + end, '\n'));
    pos_ = end;
  }
  void SkipLongBracket(int level) {
    const std::string close = absl::StrCat("]", std::string(level, '='), "]");
    const size_t end = src_.find(close, pos_ + level + 2);
    Skip(end == std::string_view::npos ? src_.size() : end + close.size());
  }

  Token Next() {
    const size_t n = src_.size();
    while (pos_ < n) {
      const char c = src_[pos_];
      if (c == '\n') {
        ++line_;
        ++pos_;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
      } else if (c == '-' && pos_ + 1 < n && src_[pos_ + 1] == '-') {
        pos_ += 2;
        const int level =
            pos_ < n && src_[pos_] == '[' ? LongBracketLevel(pos_) : -1;
        if (level >= 0) {
          SkipLongBracket(level);
        } else {
          const size_t eol = src_.find('\n', pos_);
          pos_ = eol == std::string_view::npos ? n : eol;
        }
      } else {
        break;
      }
    }
    Token t;
    t.line = line_;
    if (pos_ >= n) return t;
    const size_t start = pos_;
    const char c = src_[pos_];
    auto is_word = [&](size_t at) {
      return at < n && (std::isalnum(static_cast<unsigned char>(src_[at])) ||
                        src_[at] == '_');
    };
    if (c == '"' || c == '\'') {
      size_t p = pos_ + 1;
      while (p < n && src_[p] != c) p += src_[p] == '\\' ? 2 : 1;
      Skip(std::min(p + 1, n));
      t.kind = Token::kString;
    } else if (c == '[' && LongBracketLevel(pos_) >= 0) {
      SkipLongBracket(LongBracketLevel(pos_));
      t.kind = Token::kString;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      while (is_word(pos_)) ++pos_;
      t.kind = Token::kName;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && pos_ + 1 < n &&
                std::isdigit(static_cast<unsigned char>(src_[pos_ + 1])))) {
      ++pos_;
      while (is_word(pos_) ||
             (pos_ < n && (src_[pos_] == '.' ||
                           ((src_[pos_] == '+' || src_[pos_] == '-') &&
                            std::strchr("eEpP", src_[pos_ - 1]) != nullptr)))) {
        ++pos_;
      }
      t.kind = Token::kNumber;
    } else {
      t.kind = Token::kSymbol;
      static constexpr std::string_view kLong[] = {
          "...", "==", "~=", "<=", ">=", "..", "::"};
      size_t len = 1;
      for (std::string_view s : kLong) {
        if (src_.substr(pos_, s.size()) == s) {
          len = s.size();
          break;
        }
      }
      pos_ += len;
    }
    t.text = src_.substr(start, pos_ - start);
    return t;
  }

  void Record(const std::string& path, int line) { lines_.emplace(path, line); }

  void Scan() {
    std::vector<Frame> frames;
    int blocks = 0;  // Depth inside function bodies and statement blocks.
    bool root_key = false;
    std::string root_path;
    Token t = Next();
    while (t.kind != Token::kEnd) {
      Token next = Next();
      if (blocks > 0) {
        if (t.Is("function") || t.Is("if") || t.Is("do") || t.Is("repeat")) {
          ++blocks;
        } else if (t.Is("end") || t.Is("until")) {
          --blocks;
        }
      } else if (t.Is("function") || t.Is("if") || t.Is("do") ||
                 t.Is("repeat")) {
        blocks = 1;
        if (!frames.empty()) frames.back().value_start = false;
      } else if (frames.empty()) {
        // Top-level statements: `name = {` (or `local name = {`) and
        // `return {` open the tables whose lines are kept.
        if (t.kind == Token::kName && next.Is("=")) {
          root_key = true;
          root_path = std::string(t.text);
          t = next;
          next = Next();
        } else if (t.Is("{")) {
          Frame f;
          f.known = true;
          f.path = root_key ? root_path : "";
          frames.push_back(std::move(f));
          root_key = false;
        } else {
          root_key = false;
        }
      } else if (!frames.back().table) {
        if (t.Is("(") || t.Is("[")) {
          frames.push_back(NonTableFrame());
        } else if (t.Is("{")) {
          frames.push_back(Frame{});
        } else if (t.Is(")") || t.Is("]") || t.Is("}")) {
          frames.pop_back();
        }
      } else {
        Frame& top = frames.back();
        bool consumed = false;
        if (top.item_start && !t.Is("}")) {
          top.item_start = false;
          if (t.kind == Token::kName && next.Is("=")) {
            top.value_path = JoinPath(top.path, t.text);
            top.value_known = top.known;
            if (top.known) Record(top.value_path, t.line);
            top.value_start = true;
            t = next;
            next = Next();
            consumed = true;
          } else if (t.Is("[")) {
            top.value_known = false;  // A computed key.
          } else {
            ++top.index;
            top.value_path = absl::StrCat(top.path, "[", top.index, "]");
            top.value_known = top.known;
            if (top.known) Record(top.value_path, t.line);
            top.value_start = true;
          }
        }
        if (!consumed) {
          if (t.Is("=")) {
            top.value_start = true;  // After a computed key: path unknown.
          } else if (t.Is(",") || t.Is(";")) {
            top.item_start = true;
            top.value_start = false;
          } else if (t.Is("{")) {
            Frame f;
            f.known = top.value_start && top.value_known;
            f.path = top.value_path;
            top.value_start = false;
            frames.push_back(std::move(f));
          } else if (t.Is("}")) {
            frames.pop_back();
          } else if (t.Is("(") || t.Is("[")) {
            top.value_start = false;
            frames.push_back(NonTableFrame());
          } else {
            top.value_start = false;
          }
        }
      }
      t = next;
    }
  }

  std::string_view src_;
  size_t pos_ = 0;
  int line_ = 1;
  absl::flat_hash_map<std::string, int> lines_;
};

// Reads fields of the table at the top of the stack, recording problems
// under a label ("steps[2]", "test 'x': contact"). A problem points at the
// line of the field it is about, else of the table, else `line`.
class TableReader {
 public:
  TableReader(lua_State* L, std::string file, std::string label,
              std::string path, const SourceLines* lines, int line,
              std::vector<RulesProblem>* problems)
      : L_(L),
        file_(std::move(file)),
        label_(std::move(label)),
        path_(std::move(path)),
        lines_(lines),
        line_(line),
        problems_(problems) {}

  void set_label(std::string label) { label_ = std::move(label); }
  void set_line(int line) { line_ = line; }

  // The line of `field` (null: the table itself), as well as it is known.
  int LineOf(const char* field) const {
    int line = field != nullptr ? lines_->Of(JoinPath(path_, field)) : 0;
    if (line == 0) line = lines_->Of(path_);
    return line != 0 ? line : line_;
  }

  void Problem(const std::string& message, const char* field = nullptr) {
    problems_->push_back(
        {file_, LineOf(field), absl::StrCat(label_, ": ", message)});
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
        Problem(absl::StrCat("unknown field '", key, "' (expected ", list, ")"),
                key);
      }
    }
  }

  // Pushes field `name`; returns its Lua type.
  int Push(const char* name) {
    lua_getfield(L_, -1, name);
    return lua_type(L_, -1);
  }

  bool Has(const char* name) {
    const bool present = Push(name) != LUA_TNIL;
    lua_pop(L_, 1);
    return present;
  }

  bool String(const char* name, std::string* out, bool required = false) {
    const int type = Push(name);
    bool ok = true;
    if (type == LUA_TSTRING) {
      size_t len = 0;
      const char* s = lua_tolstring(L_, -1, &len);
      out->assign(s, len);
    } else if (type != LUA_TNIL || required) {
      Problem(absl::StrCat("'", name, "' must be a string"), name);
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
        Problem(absl::StrCat("'", name, "' must be from ", NumberText(lo),
                             " to ", NumberText(hi)),
                name);
        ok = false;
      } else {
        *out = v;
      }
    } else if (type != LUA_TNIL) {
      Problem(absl::StrCat("'", name, "' must be a number"), name);
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
      Problem(absl::StrCat("'", name, "' must be true or false"), name);
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
              absl::StrCat("'", name, "' maps names to whole levels 1..", hi),
              name);
          ok = false;
        } else {
          out->emplace_back(lua_tostring(L_, -2), level);
        }
        lua_pop(L_, 1);
      }
      std::sort(out->begin(), out->end());  // Table order is arbitrary.
    } else if (type != LUA_TNIL) {
      Problem(absl::StrCat("'", name, "' must be a table of name = level"),
              name);
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
          Problem(absl::StrCat("'", name, "' must be a list of strings"), name);
          ok = false;
        } else {
          out->emplace_back(lua_tostring(L_, -1));
        }
        lua_pop(L_, 1);
      }
    } else if (type != LUA_TNIL) {
      Problem(absl::StrCat("'", name, "' must be a list of strings"), name);
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
          Problem(absl::StrCat("'", name, "' maps names to strings"), name);
          ok = false;
        } else {
          (*out)[lua_tostring(L_, -2)] = lua_tostring(L_, -1);
        }
        lua_pop(L_, 1);
      }
    } else if (type != LUA_TNIL) {
      Problem(absl::StrCat("'", name, "' must be a table of name = \"value\""),
              name);
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
            absl::StrCat("'", name, "': unknown channel '", channel_name, "'"),
            name);
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
  std::string path_;
  const SourceLines* lines_;
  int line_;
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

constexpr double kDaySeconds = 24 * 3600;
// How far back a test's history may reach: the affinity a past interaction
// gives halves every week (RoutingPolicy::affinity_half_life), so a year
// covers every case worth testing.
constexpr double kMaxHistoryAgoSeconds = 365 * kDaySeconds;
// Longest single clock advance of a checkpoint: as far as steps reach.
constexpr double kMaxAdvanceSeconds = 7 * kDaySeconds;

std::string SecondsText(double s) { return absl::StrCat(NumberText(s), " s"); }

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
  const SourceLines lines(source_);
  const int type = PushHook(L_, module_ref_, "steps");
  if (type != LUA_TNIL && type != LUA_TTABLE) {
    problems->push_back(
        {file_name_, lines.Of("steps"), "'steps' must be a list of tables"});
  }
  if (type == LUA_TTABLE) {
    const int n = static_cast<int>(lua_objlen(L_, -1));
    for (int i = 1; i <= n; ++i) {
      lua_rawgeti(L_, -1, i);
      const std::string path = absl::StrCat("steps[", i, "]");
      TableReader step_table(L_, file_name_, path, path, &lines,
                             lines.Of("steps"), problems);
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
        step_table.Problem("'after' must grow from one step to the next",
                           "after");
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
  const SourceLines lines(source_);
  const int type = PushHook(L_, module_ref_, "tests");
  if (type != LUA_TNIL && type != LUA_TTABLE) {
    problems->push_back(
        {file_name_, lines.Of("tests"), "'tests' must be a list of tables"});
  }
  if (type == LUA_TTABLE) {
    const int n = static_cast<int>(lua_objlen(L_, -1));
    for (int i = 1; i <= n; ++i) {
      lua_rawgeti(L_, -1, i);
      RulesTestCase test;
      const std::string path = absl::StrCat("tests[", i, "]");
      TableReader t(L_, file_name_, path, path, &lines, lines.Of("tests"),
                    problems);
      if (lua_type(L_, -1) != LUA_TTABLE) {
        t.Problem("must be a table");
        lua_pop(L_, 1);
        continue;
      }
      t.String("name", &test.name);
      // The line of the test's name, else of its table.
      test.line = lines.Of(path + ".name");
      if (test.name.empty()) {
        test.name = path;
      } else if (test.line == 0) {
        test.line = LineOf(absl::StrCat("\"", test.name, "\""));
      }
      if (test.line == 0) test.line = t.LineOf(nullptr);
      const std::string label = absl::StrCat("test '", test.name, "'");
      t.set_label(label);
      t.set_line(test.line);
      // A problem about a part of this test: at the line of `field` in the
      // table at `at`, else of that table, else of the test.
      auto problem_at = [&](const std::string& at, const char* field,
                            const std::string& where,
                            const std::string& message) {
        TableReader(L_, file_name_, absl::StrCat(label, ": ", where), at,
                    &lines, test.line, problems)
            .Problem(message, field);
      };
      t.OnlyKeys({"name", "contact", "agents", "expect", "later"});
      t.String("expect", &test.expect, /*required=*/true);

      if (t.Push("contact") == LUA_TTABLE) {
        TableReader c(L_, file_name_, absl::StrCat(label, ": contact"),
                      path + ".contact", &lines, test.line, problems);
        c.OnlyKeys({"id", "channel", "queue", "skills", "desired", "languages",
                    "customer", "preferred", "excluded", "priority",
                    "attributes", "waited", "history"});
        routing::Contact& contact = test.contact;
        contact.id = "test-contact";
        c.String("id", &contact.id);
        std::string channel = "voice";
        c.String("channel", &channel);
        if (!routing::ParseChannel(channel, &contact.channel)) {
          c.Problem(absl::StrCat("unknown channel '", channel, "'"), "channel");
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

        const int history_type = c.Push("history");
        if (history_type == LUA_TTABLE) {
          const int entries = static_cast<int>(lua_objlen(L_, -1));
          if (entries > RulesTestCase::kMaxHistory) {
            c.Problem(absl::StrCat("'history' lists ", entries,
                                   " interactions; the router remembers a "
                                   "customer's ",
                                   RulesTestCase::kMaxHistory,
                                   " most recent, so list at most those"),
                      "history");
          }
          for (int h = 1; h <= entries; ++h) {
            lua_rawgeti(L_, -1, h);
            TableReader e(L_, file_name_,
                          absl::StrCat(label, ": contact.history[", h, "]"),
                          absl::StrCat(path, ".contact.history[", h, "]"),
                          &lines, test.line, problems);
            if (lua_type(L_, -1) != LUA_TTABLE) {
              e.Problem(
                  "must be a table { agent = \"id\", outcome = \"resolved\" }");
              lua_pop(L_, 1);
              continue;
            }
            e.OnlyKeys({"agent", "outcome", "channel", "ago"});
            RulesTestCase::PastInteraction past;
            e.String("agent", &past.agent_id, /*required=*/true);
            std::string outcome;
            if (e.String("outcome", &outcome, /*required=*/true) &&
                !routing::ParseContactOutcome(outcome, &past.outcome)) {
              e.Problem(absl::StrCat("unknown outcome '", outcome,
                                     "' (resolved, unresolved, transferred, "
                                     "unknown)"),
                        "outcome");
            }
            past.channel = contact.channel;
            std::string past_channel;
            if (e.String("channel", &past_channel) && e.Has("channel") &&
                !routing::ParseChannel(past_channel, &past.channel)) {
              e.Problem(absl::StrCat("unknown channel '", past_channel, "'"),
                        "channel");
            }
            // Unless given, an hour apart: 1 h ago, 2 h ago...
            past.ago_seconds = 3600.0 * h;
            if (e.Number("ago", &past.ago_seconds, 0, kMaxHistoryAgoSeconds) &&
                past.ago_seconds != std::floor(past.ago_seconds)) {
              e.Problem(
                  "'ago' must be whole seconds (history is kept to the second)",
                  "ago");
            }
            if (!test.history.empty() &&
                past.ago_seconds < test.history.back().ago_seconds) {
              e.Problem(
                  absl::StrCat("'ago' ", SecondsText(past.ago_seconds),
                               " is more recent than history[", h - 1, "] (",
                               SecondsText(test.history.back().ago_seconds),
                               "); list the history most recent first"),
                  "ago");
            }
            test.history.push_back(std::move(past));
            lua_pop(L_, 1);
          }
          if (!test.history.empty() && contact.customer_id.empty()) {
            c.Problem("'history' needs the contact's 'customer'", "history");
          }
        } else if (history_type != LUA_TNIL) {
          c.Problem(
              "'history' must be a list of { agent = \"id\", outcome = ... }",
              "history");
        }
        lua_pop(L_, 1);
      } else {
        t.Problem("needs a 'contact' table", "contact");
      }
      lua_pop(L_, 1);

      if (t.Push("agents") == LUA_TTABLE) {
        const int agents = static_cast<int>(lua_objlen(L_, -1));
        for (int a = 1; a <= agents; ++a) {
          lua_rawgeti(L_, -1, a);
          TableReader r(L_, file_name_,
                        absl::StrCat(label, ": agents[", a, "]"),
                        absl::StrCat(path, ".agents[", a, "]"), &lines,
                        test.line, problems);
          if (lua_type(L_, -1) != LUA_TTABLE) {
            r.Problem("must be a table");
            lua_pop(L_, 1);
            continue;
          }
          r.OnlyKeys({"id", "skills", "languages", "channels", "max_total",
                      "team", "site", "attributes", "state", "idle", "load",
                      "occupancy"});
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
            r.Problem(absl::StrCat("unknown state '", state, "'"), "state");
          }
          r.Number("idle", &agent.idle_seconds, 0, 24 * 3600);
          r.Channels("load", &agent.load, routing::kMaxChannelCapacity);
          double occupancy = -1;
          if (r.Number("occupancy", &occupancy, 0, 1) && occupancy >= 0) {
            agent.occupancy = occupancy;
            // The runner has the agent handle contacts for that share of a
            // session that ends with `idle` seconds free of work.
            if (occupancy == 1 && agent.idle_seconds > 0) {
              r.Problem(
                  "'occupancy' 1 leaves no time to be idle: give 'idle' = 0 "
                  "or a lower occupancy",
                  "occupancy");
            } else if (occupancy < 1 && agent.idle_seconds / (1 - occupancy) >
                                            RulesTestCase::kMaxSessionSeconds) {
              r.Problem(
                  absl::StrCat("'occupancy' ", NumberText(occupancy),
                               " with 'idle' ", SecondsText(agent.idle_seconds),
                               " needs a session longer than ",
                               RulesTestCase::kMaxSessionSeconds / kDaySeconds,
                               " days; lower one of them"),
                  "occupancy");
            }
          }
          test.agents.push_back(std::move(agent));
          lua_pop(L_, 1);
        }
      } else {
        t.Problem("needs an 'agents' list", "agents");
      }
      lua_pop(L_, 1);

      auto find_agent = [&](const std::string& id) {
        const RulesTestCase::TestAgent* found = nullptr;
        for (const RulesTestCase::TestAgent& a : test.agents) {
          if (a.profile.id == id) found = &a;
        }
        return found;
      };
      for (size_t h = 0; h < test.history.size(); ++h) {
        const RulesTestCase::PastInteraction& past = test.history[h];
        const std::string at =
            absl::StrCat(path, ".contact.history[", h + 1, "]");
        const std::string where = absl::StrCat("contact.history[", h + 1, "]");
        const RulesTestCase::TestAgent* agent = find_agent(past.agent_id);
        if (agent == nullptr) {
          if (!past.agent_id.empty()) {
            problem_at(at, "agent", where,
                       absl::StrCat("agent '", past.agent_id,
                                    "' is not one of the test's agents"));
          }
          continue;
        }
        if (agent->profile.CapacityOf(past.channel) == 0) {
          problem_at(
              at, "channel", where,
              absl::StrCat("agent '", past.agent_id, "' takes no ",
                           std::string(routing::ChannelName(past.channel)),
                           " contacts (its 'channels'), so cannot have "
                           "served the customer on ",
                           std::string(routing::ChannelName(past.channel))));
        }
        if (past.ago_seconds < agent->idle_seconds) {
          problem_at(
              at, "ago", where,
              absl::StrCat("agent '", past.agent_id, "' has been idle for ",
                           SecondsText(agent->idle_seconds),
                           ", so cannot have served the customer ",
                           SecondsText(past.ago_seconds),
                           " ago: give an 'ago' of at least its "
                           "'idle'"));
        }
      }

      const int later_type = t.Push("later");
      if (later_type == LUA_TTABLE) {
        const int checkpoints = static_cast<int>(lua_objlen(L_, -1));
        for (int k = 1; k <= checkpoints; ++k) {
          lua_rawgeti(L_, -1, k);
          const std::string at = absl::StrCat(path, ".later[", k, "]");
          TableReader cp(L_, file_name_,
                         absl::StrCat(label, ": later[", k, "]"), at, &lines,
                         test.line, problems);
          if (lua_type(L_, -1) != LUA_TTABLE) {
            cp.Problem("must be a table { advance = seconds, expect = ... }");
            lua_pop(L_, 1);
            continue;
          }
          cp.OnlyKeys({"advance", "expect"});
          RulesTestCase::Checkpoint checkpoint;
          checkpoint.line = cp.LineOf(nullptr);
          if (!cp.Has("advance")) {
            cp.Problem("needs 'advance' (seconds after the previous check)");
          }
          cp.Number("advance", &checkpoint.advance_seconds, 0,
                    kMaxAdvanceSeconds);
          if (cp.String("expect", &checkpoint.expect, /*required=*/true) &&
              checkpoint.expect != "queued" &&
              find_agent(checkpoint.expect) == nullptr) {
            cp.Problem(absl::StrCat("'expect' must be \"queued\" or the id of "
                                    "one of the test's agents, not '",
                                    checkpoint.expect, "'"),
                       "expect");
          }
          test.later.push_back(std::move(checkpoint));
          lua_pop(L_, 1);
        }
      } else if (later_type != LUA_TNIL) {
        t.Problem(
            "'later' must be a list of { advance = seconds, expect = ... }",
            "later");
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
                                   : "function calls a rule function or a "
                                     "method",
                               ": runs interpreted, under the time budget"));
    lua_pop(L_, 3);
  }
  lua_pop(L_, 1);
  return out;
}

}  // namespace rules::internal
