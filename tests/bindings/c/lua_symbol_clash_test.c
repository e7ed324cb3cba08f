/* librouting.so.1 inside a process that already has another Lua, as in a PBX
 * (FreeSWITCH mod_lua, Asterisk pbx_lua, Kamailio app_lua load Lua 5.4 with
 * its symbols global). The library must run its rules on its own LuaJIT: not
 * one lua_* reference of it may bind to the host's Lua, and it must add no
 * Lua symbol to the host's namespace.
 *
 *   lua_symbol_clash_test LIBRARY local|global
 *
 * Lua 5.4 comes first: dlopen'ed RTLD_NOW | RTLD_GLOBAL, or, built with
 * LUA54_LINKED, linked into this program. Then LIBRARY is dlopen'ed
 * RTLD_NOW | RTLD_LOCAL (local) or RTLD_GLOBAL (global), its functions are
 * looked up with dlsym, and an engine reloads rules from text (the load runs
 * the file's tests), routes contacts that the rules send to the agent the
 * built-in policy would not pick, and the decisions carry the reloaded rules
 * version. Against a librouting.so.1 that imports lua_* from
 * libluajit-5.1.so, lua_newstate and most of the C API bind to Lua 5.4 and
 * the reload crashes. The program deliberately does not link routing_c. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bindings/c/routing.h"

#ifdef LUA54_LINKED
#include "lua5.4/lua.h"
#endif

static int failures = 0;

#define CHECK(condition, ...)                                             \
  do {                                                                    \
    if (!(condition)) {                                                   \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #condition); \
      fprintf(stderr, __VA_ARGS__);                                       \
      fputc('\n', stderr);                                                \
      ++failures;                                                         \
    }                                                                     \
  } while (0)

/* The functions this program calls, each looked up in the library's handle.
 * The declarations of routing.h give their types; nothing is linked. */
#define ROUTING_FUNCTIONS(X)           \
  X(routing_abi_version)               \
  X(routing_last_error)                \
  X(routing_free)                      \
  X(routing_engine_create)             \
  X(routing_options_create)            \
  X(routing_options_set_rules_limits)  \
  X(routing_options_destroy)           \
  X(routing_engine_destroy)            \
  X(routing_engine_reload_rules_text)  \
  X(routing_engine_rules_errors)       \
  X(routing_agent_create)              \
  X(routing_agent_add_skill)           \
  X(routing_agent_set_capacity)        \
  X(routing_agent_destroy)             \
  X(routing_engine_add_agent)          \
  X(routing_engine_set_agent_state)    \
  X(routing_contact_create)            \
  X(routing_contact_add_required_skill) \
  X(routing_contact_destroy)           \
  X(routing_engine_route)              \
  X(routing_engine_release)            \
  X(routing_decision_outcome)          \
  X(routing_decision_agent_id)         \
  X(routing_decision_rules_version)    \
  X(routing_decision_rules_fallback)   \
  X(routing_decision_destroy)

#define DECLARE_POINTER(name) __typeof__(&name) name;
static struct {
  ROUTING_FUNCTIONS(DECLARE_POINTER)
} lib;

static int LoadFunctions(void* library) {
  int missing = 0;
#define LOAD_POINTER(name)                                                 \
  lib.name = (__typeof__(&name))dlsym(library, #name);                      \
  if (lib.name == NULL) {                                                  \
    fprintf(stderr, "FAIL: %s not found in the library: %s\n", #name,      \
            dlerror());                                                    \
    ++missing;                                                             \
  }
  ROUTING_FUNCTIONS(LOAD_POINTER)
#undef LOAD_POINTER
  return missing == 0;
}

/* Scores maria (the lower skill level) above james, which the built-in
 * policy would never do, so an assignment to maria shows the rules ran. The
 * tests run when the file loads; routing calls score for every candidate.
 * Loop-free, so LuaJIT compiles it once it is hot. */
static const char kRules[] =
    "return {\n"
    "  name = 'prefer maria',\n"
    "  score = function(contact, agent)\n"
    "    if agent.id == 'maria' then return 10 end\n"
    "    return 1\n"
    "  end,\n"
    "  tests = {\n"
    "    { name = 'maria before the more skilled james',\n"
    "      contact = { skills = { billing = 2 } },\n"
    "      agents = { { id = 'james', skills = { billing = 5 } },\n"
    "                 { id = 'maria', skills = { billing = 2 } } },\n"
    "      expect = 'maria' },\n"
    "  },\n"
    "}\n";

/* Enough routes for LuaJIT's hot counters to trace the score function. */
enum { kRoutes = 500 };

static void AddAgent(routing_engine_t* engine, const char* id, int level) {
  routing_agent_t* agent = NULL;
  CHECK(lib.routing_agent_create(id, &agent) == ROUTING_OK, "%s",
        lib.routing_last_error());
  CHECK(lib.routing_agent_add_skill(agent, "billing", level) == ROUTING_OK,
        "%s", lib.routing_last_error());
  CHECK(lib.routing_agent_set_capacity(agent, ROUTING_CHANNEL_VOICE, 1) ==
            ROUTING_OK,
        "%s", lib.routing_last_error());
  CHECK(lib.routing_engine_add_agent(engine, agent) == ROUTING_OK, "%s",
        lib.routing_last_error());
  lib.routing_agent_destroy(agent);
  CHECK(lib.routing_engine_set_agent_state(engine, id,
                                           ROUTING_AGENT_AVAILABLE) ==
            ROUTING_OK,
        "%s", lib.routing_last_error());
}

/* Routes one call and checks it went to maria under the reloaded rules. */
static void RouteToMaria(routing_engine_t* engine, int n,
                         uint64_t rules_version) {
  char id[32];
  snprintf(id, sizeof id, "call-%d", n);
  routing_contact_t* call = NULL;
  routing_decision_t* decision = NULL;
  CHECK(lib.routing_contact_create(id, ROUTING_CHANNEL_VOICE, &call) ==
            ROUTING_OK,
        "%s", lib.routing_last_error());
  CHECK(lib.routing_contact_add_required_skill(call, "billing", 2) ==
            ROUTING_OK,
        "%s", lib.routing_last_error());
  routing_status_t status = lib.routing_engine_route(engine, call, &decision);
  lib.routing_contact_destroy(call);
  CHECK(status == ROUTING_OK, "route %s: %s", id, lib.routing_last_error());
  if (status != ROUTING_OK) return;
  routing_decision_outcome_t outcome = ROUTING_DECISION_QUEUED;
  const char* agent = "";
  uint64_t version = 0;
  int fallback = -1;
  lib.routing_decision_outcome(decision, &outcome);
  lib.routing_decision_agent_id(decision, &agent);
  lib.routing_decision_rules_version(decision, &version);
  lib.routing_decision_rules_fallback(decision, &fallback);
  CHECK(outcome == ROUTING_DECISION_ASSIGNED && strcmp(agent, "maria") == 0,
        "%s: outcome %d, agent '%s' (expected maria, assigned)", id,
        (int)outcome, agent);
  CHECK(version == rules_version, "%s: rules version %llu, expected %llu", id,
        (unsigned long long)version, (unsigned long long)rules_version);
  CHECK(fallback == 0, "%s: decided by the built-in policy (fallback %d)", id,
        fallback);
  if (n == 1) {
    printf("call-1 -> %s, rules version %llu, fallback %d\n", agent,
           (unsigned long long)version, fallback);
  }
  lib.routing_decision_destroy(decision);
  if (outcome == ROUTING_DECISION_ASSIGNED) {
    CHECK(lib.routing_engine_release(engine, id, ROUTING_OUTCOME_RESOLVED) ==
              ROUTING_OK,
          "%s", lib.routing_last_error());
  }
}

static void UseTheEngine(void) {
  /* The rules' time budget is wall time, and the first evaluations run
   * interpreted (under a sanitizer, on a busy machine, they can take
   * milliseconds): a generous budget and no breaker, since this test is
   * about which Lua the library binds, not about timing. */
  routing_options_t* options = NULL;
  CHECK(lib.routing_options_create(&options) == ROUTING_OK, "%s",
        lib.routing_last_error());
  CHECK(lib.routing_options_set_rules_limits(options, 1000000, 0, 10000) ==
            ROUTING_OK,
        "%s", lib.routing_last_error());
  routing_engine_t* engine = NULL;
  const routing_status_t created = lib.routing_engine_create(options, &engine);
  lib.routing_options_destroy(options);
  if (created != ROUTING_OK) {
    CHECK(0, "routing_engine_create: %s", lib.routing_last_error());
    return;
  }
  uint64_t version = 0;
  char* problems = NULL;
  printf("reloading rules from text\n");
  fflush(stdout); /* The old library dies in here. */
  routing_status_t status = lib.routing_engine_reload_rules_text(
      engine, "prefer_maria.lua", kRules, &version, &problems);
  CHECK(status == ROUTING_OK, "reload: %s",
        problems != NULL ? problems : lib.routing_last_error());
  CHECK(version == 1, "reload gave rules version %llu, expected 1",
        (unsigned long long)version);
  lib.routing_free(problems);
  printf("rules version %llu in force\n", (unsigned long long)version);

  AddAgent(engine, "james", 5);
  AddAgent(engine, "maria", 2);
  for (int n = 1; n <= kRoutes; ++n) RouteToMaria(engine, n, version);

  int64_t errors = 0;
  char* last_error = NULL;
  CHECK(lib.routing_engine_rules_errors(engine, &errors, &last_error) ==
            ROUTING_OK,
        "%s", lib.routing_last_error());
  CHECK(errors == 0, "%lld rules failures, the latest: %s",
        (long long)errors, last_error != NULL ? last_error : "");
  lib.routing_free(last_error);
  CHECK(lib.routing_engine_destroy(engine) == ROUTING_OK, "%s",
        lib.routing_last_error());
  printf("%d calls routed by the rules\n", kRoutes);
}

int main(int argc, char** argv) {
  if (argc != 3 || (strcmp(argv[2], "local") != 0 &&
                    strcmp(argv[2], "global") != 0)) {
    fprintf(stderr, "usage: %s LIBRARY local|global\n", argv[0]);
    return 2;
  }
  const char* path = argv[1];
  int routing_global = strcmp(argv[2], "global") == 0;

  /* The host's Lua 5.4, global. */
#ifdef LUA54_LINKED
  printf("Lua 5.4 linked into the program (lua_version %.0f)\n",
         (double)lua_version(NULL));
  void* lua54 = dlopen("liblua5.4.so.0", RTLD_NOW | RTLD_NOLOAD);
#else
  void* lua54 = dlopen("liblua5.4.so.0", RTLD_NOW | RTLD_GLOBAL);
  printf("Lua 5.4 loaded RTLD_NOW | RTLD_GLOBAL\n");
#endif
  if (lua54 == NULL) {
    fprintf(stderr, "FAIL: cannot load liblua5.4.so.0: %s\n", dlerror());
    return 1;
  }
  void* host_newstate = dlsym(lua54, "lua_newstate");
  /* The precondition of the whole test: Lua 5.4's C API is what a global
   * lookup finds. */
  CHECK(host_newstate != NULL && dlsym(RTLD_DEFAULT, "lua_newstate") ==
                                     host_newstate,
        "Lua 5.4's lua_newstate is not the global one");

  void* library =
      dlopen(path, RTLD_NOW | (routing_global ? RTLD_GLOBAL : RTLD_LOCAL));
  if (library == NULL) {
    fprintf(stderr, "FAIL: cannot load %s: %s\n", path, dlerror());
    return 1;
  }
  printf("%s loaded RTLD_NOW | %s\n", path,
         routing_global ? "RTLD_GLOBAL" : "RTLD_LOCAL");
  if (!LoadFunctions(library)) return 1;
  printf("librouting ABI %d\n", lib.routing_abi_version());

  UseTheEngine();

  /* Nothing Lua is visible from the library, nor (when it is global) added
   * to the process: the host's Lua still owns every lua_* name. */
  static const char* const kLuaNames[] = {
      "lua_newstate", "lua_pcall",    "lua_settop",   "luaL_openlibs",
      "luaL_loadbuffer", "luaJIT_setmode", "luaopen_jit", "luaopen_ffi"};
  for (size_t i = 0; i < sizeof kLuaNames / sizeof kLuaNames[0]; ++i) {
    const char* name = kLuaNames[i];
    void* in_host = dlsym(lua54, name);
    CHECK(dlsym(library, name) == NULL,
          "the library or one of its dependencies exports %s", name);
    CHECK(dlsym(RTLD_DEFAULT, name) == in_host,
          "the global %s is not Lua 5.4's any more", name);
  }

  /* Stays loaded: a PBX unloads modules only at shutdown. */
  if (failures != 0) {
    fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  printf("PASS\n");
  return 0;
}
