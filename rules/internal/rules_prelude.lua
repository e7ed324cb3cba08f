-- The trusted side of a rules state: loaded first into every Lua state, with
-- the full standard library, before any rule code. It builds the sandbox the
-- rules file runs in, checks the file's bytecode, and runs the per-decision
-- loop over the candidates. Rule code never sees this file's locals, `ffi`,
-- `jit` or `debug`; the C++ side (lua_rules_state.cc) calls the functions in
-- the table this chunk returns.
local ffi = require("ffi")
local bit = require("bit")
local jit = require("jit")
local jutil = require("jit.util")
local vmdef = require("jit.vmdef")
local debug = debug
local type, error, tostring, pairs, ipairs, select, setfenv, setmetatable,
  rawget, pcall, tonumber, next = type, error, tostring, pairs, ipairs, select,
  setfenv, setmetatable, rawget, pcall, tonumber, next
local band, rshift = bit.band, bit.rshift
local ffi_string, ffi_istype = ffi.string, ffi.istype
local string_format, string_sub, string_gsub = string.format, string.sub,
  string.gsub

ffi.cdef [[
typedef struct rules_agent {
  const int32_t slot;
  const int32_t load;
  const int32_t channel_load;
  const int32_t capacity;
  const int32_t max_total;
  const bool served_before;
  const bool resolved_before;
  const bool preferred;
  const double occupancy;
  const double idle;
  const double score;
  const double skill_score;
  const double affinity_score;
  const double language_score;
  const double load_score;
  const double occupancy_score;
  const double idle_score;
} rules_agent;
typedef struct rules_contact {
  const double waited;
  const int32_t priority;
  const int32_t step;
  const int32_t channel_index;
} rules_contact;
typedef struct rules_contact_ref {
  const char* id;
  size_t id_len;
  const char* queue;
  size_t queue_len;
  const char* customer;
  size_t customer_len;
  const char* language;
  size_t language_len;
  const void* contact;
} rules_contact_ref;
typedef struct rules_staging {
  rules_contact contact;
  rules_contact_ref contact_ref;
  int32_t count;
  rules_agent agents[256];
  double scores[256];
  bool eligible[256];
  const void* candidates;
  const void* names;
  double names_identity;
  int32_t (*agent_skill)(const void*, int32_t, int32_t);
  int32_t (*agent_fluency)(const void*, int32_t, int32_t);
  int32_t (*agent_channel)(const void*, int32_t, int32_t, bool);
  const char* (*agent_text)(const void*, int32_t, int32_t, size_t*);
  int32_t (*skill_id)(const void*, const char*, size_t);
  int32_t (*language_id)(const void*, const char*, size_t);
  const char* (*contact_attribute)(const void*, const char*, size_t, size_t*);
  const char* (*agent_attribute)(const void*, int32_t, const char*, size_t, size_t*);
  int32_t (*contact_requires)(const void*, const char*, size_t);
  int32_t (*contact_speaks)(const void*, const char*, size_t);
} rules_staging;
]]

local CHANNELS = { "voice", "chat", "email", "messaging", "callback", "video" }
local CHANNEL_INDEX = {}
for i, name in ipairs(CHANNELS) do CHANNEL_INDEX[name] = i - 1 end

local agent_ct = ffi.typeof("rules_agent")
local contact_ct = ffi.typeof("rules_contact")
local S           -- rules_staging*, set by M.attach
-- References into the staging struct, made once: the struct never moves, and
-- making them per call would allocate on every decision.
local CONTACT, AGENTS, SCORES, ELIGIBLE
local out_len = ffi.new("size_t[1]")

-- Interned ids of skill and language names. A router never changes the id
-- of a name, so hits are cached; misses are not (the skill may be added
-- later). Ids belong to one router: the cache starts again when the state
-- serves another (the file's tests run on their own router first).
local skill_ids = {}
local language_ids = {}
local names_identity = 0
local function check_names()
  if S.names_identity ~= names_identity then
    skill_ids, language_ids, names_identity = {}, {}, S.names_identity
  end
end
local function skill_id(name)
  check_names()
  local id = skill_ids[name]
  if id then return id end
  id = S.skill_id(S.names, name, #name)
  if id >= 0 then skill_ids[name] = id end
  return id
end
local function language_id(tag)
  check_names()
  local id = language_ids[tag]
  if id then return id end
  id = S.language_id(S.names, tag, #tag)
  if id >= 0 then language_ids[tag] = id end
  return id
end

-- The agent's slot in the current batch, checked: the C callbacks index the
-- router's candidates with it.
local function slot_of(agent, fn)
  if not ffi_istype(agent_ct, agent) then
    error(fn .. "() expects an agent as its first argument", 3)
  end
  local slot = agent.slot
  if slot < 0 or slot >= S.count then
    error(fn .. "() was given an agent from an earlier decision", 3)
  end
  return slot
end

local function check_contact(contact, fn)
  if not ffi_istype(contact_ct, contact) then
    error(fn .. "() expects a contact as its first argument", 3)
  end
end

local function check_name(name, fn, what)
  if type(name) ~= "string" then
    error(fn .. "() expects a " .. what .. " name as its second argument", 3)
  end
end

-- Accessors rule code calls as globals. They reach the router's candidate
-- records through C callbacks, after checking the slot against the batch,
-- so no rule can read outside the records it was given.
local accessors = {}

function accessors.skill(agent, name)
  local slot = slot_of(agent, "skill")
  check_name(name, "skill", "skill")
  local id = skill_id(name)
  if id < 0 then return 0 end
  return S.agent_skill(S.candidates, slot, id)
end

function accessors.speaks(agent, tag)
  local slot = slot_of(agent, "speaks")
  check_name(tag, "speaks", "language")
  local id = language_id(tag)
  if id < 0 then return 0 end
  return S.agent_fluency(S.candidates, slot, id)
end

local function channel_of(name, fn)
  local c = CHANNEL_INDEX[name]
  if c == nil then
    error(fn .. "(): unknown channel '" .. tostring(name) ..
      "' (voice, chat, email, messaging, callback, video)", 3)
  end
  return c
end

function accessors.load_on(agent, channel)
  local slot = slot_of(agent, "load_on")
  return S.agent_channel(S.candidates, slot, channel_of(channel, "load_on"),
    false)
end

function accessors.capacity_on(agent, channel)
  local slot = slot_of(agent, "capacity_on")
  return S.agent_channel(S.candidates, slot,
    channel_of(channel, "capacity_on"), true)
end

function accessors.agent_attr(agent, key)
  local slot = slot_of(agent, "agent_attr")
  check_name(key, "agent_attr", "attribute")
  local p = S.agent_attribute(S.candidates, slot, key, #key, out_len)
  if p == nil then return nil end
  return ffi_string(p, out_len[0])
end

function accessors.attr(contact, key)
  check_contact(contact, "attr")
  check_name(key, "attr", "attribute")
  local p = S.contact_attribute(S.contact_ref.contact, key, #key, out_len)
  if p == nil then return nil end
  return ffi_string(p, out_len[0])
end

function accessors.requires(contact, skill)
  check_contact(contact, "requires")
  check_name(skill, "requires", "skill")
  return S.contact_requires(S.contact_ref.contact, skill, #skill)
end

function accessors.customer_speaks(contact, tag)
  check_contact(contact, "customer_speaks")
  check_name(tag, "customer_speaks", "language")
  return S.contact_speaks(S.contact_ref.contact, tag, #tag) ~= 0
end

-- Fields computed on access: strings, which the views cannot hold.
local agent_fields = {
  id = function(a)
    local p = S.agent_text(S.candidates, slot_of(a, "agent.id"), 0, out_len)
    return ffi_string(p, out_len[0])
  end,
  team = function(a)
    local p = S.agent_text(S.candidates, slot_of(a, "agent.team"), 1, out_len)
    return ffi_string(p, out_len[0])
  end,
  site = function(a)
    local p = S.agent_text(S.candidates, slot_of(a, "agent.site"), 2, out_len)
    return ffi_string(p, out_len[0])
  end,
}
ffi.metatype(agent_ct, {
  __index = function(a, key)
    local f = agent_fields[key]
    if f == nil then error("agent has no field '" .. tostring(key) .. "'", 2) end
    return f(a)
  end,
  __newindex = function(_, key)
    error("rules cannot change agent field '" .. tostring(key) .. "'", 2)
  end,
})

local contact_fields = {
  id = function() local r = S.contact_ref; return ffi_string(r.id, r.id_len) end,
  queue = function() local r = S.contact_ref; return ffi_string(r.queue, r.queue_len) end,
  customer = function() local r = S.contact_ref; return ffi_string(r.customer, r.customer_len) end,
  language = function() local r = S.contact_ref; return ffi_string(r.language, r.language_len) end,
  channel = function(c) return CHANNELS[c.channel_index + 1] end,
}
ffi.metatype(contact_ct, {
  __index = function(c, key)
    local f = contact_fields[key]
    if f == nil then error("contact has no field '" .. tostring(key) .. "'", 2) end
    return f(c)
  end,
  __newindex = function(_, key)
    error("rules cannot change contact field '" .. tostring(key) .. "'", 2)
  end,
})

-- The sandbox: an allow-list. Library tables are copies, so a rule that
-- writes into `math` changes nothing anyone else sees (and cannot: the
-- environment is read-only).
local function copy(t, names)
  local out = {}
  for _, n in ipairs(names) do out[n] = t[n] end
  return out
end
local safe_string = copy(string, { "byte", "char", "format", "len", "lower",
  "upper", "rep", "reverse", "sub" })
-- Plain find only: Lua patterns can backtrack for a long time inside C,
-- where no time budget reaches.
function safe_string.find(s, needle, init)
  return string.find(s, needle, init, true)
end
-- Strings' methods ("x"):upper() go through this table too, so rule code
-- cannot reach string.dump through a string value.
getmetatable("").__index = safe_string

local allowed = {
  math = copy(math, { "abs", "ceil", "floor", "max", "min", "sqrt", "exp",
    "log", "pow", "fmod", "modf", "huge", "pi" }),
  string = safe_string,
  table = copy(table, { "concat", "insert", "remove", "sort" }),
  tostring = tostring, tonumber = tonumber, type = type, select = select,
  error = error, assert = assert, pairs = pairs, ipairs = ipairs, next = next,
  unpack = unpack,
}
for name, f in pairs(accessors) do allowed[name] = f end
-- Library tables a call may go through and still count as trusted (see the
-- bytecode check).
local trusted_tables = { math = true, string = true, table = true }

local function freeze(t, what)
  return setmetatable({}, {
    __index = function(_, key)
      local v = t[key]
      if v == nil then
        error("unknown " .. what .. " '" .. tostring(key) .. "'", 2)
      end
      return v
    end,
    __newindex = function(_, key)
      error("rules cannot set " .. what .. " '" .. tostring(key) ..
        "' (use a local)", 2)
    end,
    __metatable = false,
  })
end
for _, name in ipairs({ "math", "string", "table" }) do
  allowed[name] = freeze(allowed[name], name .. " field")
end
local sandbox = freeze(allowed, "global")

-- The bytecode check ---------------------------------------------------------
-- LuaJIT's hooks do not run inside compiled traces, so a time budget alone
-- cannot stop a compiled loop. The check establishes that compiled rule code
-- is always bounded: a rule function may be compiled only if it has no loop
-- and calls nothing but the sandbox's own functions (which never call back
-- into rule code). Every other rule function is excluded from the JIT
-- (jit.off) and so always runs in the interpreter, where the watchdog's hook
-- stops it when the time budget runs out. Recursion needs a call to a rule
-- function, so it too only ever runs interpreted. The check also refuses, at
-- load, globals outside the allow-list and writes to globals or to captured
-- variables (per-decision state is not shared between the engine's threads).

local bcnames = vmdef.bcnames
local function opname(op)
  return (string_gsub(string_sub(bcnames, op * 6 + 1, op * 6 + 6), " ", ""))
end
local LOOP_OPS = { FORI = true, JFORI = true, FORL = true, IFORL = true,
  JFORL = true, ITERL = true, IITERL = true, JITERL = true, LOOP = true,
  ILOOP = true, JLOOP = true, ITERC = true, ITERN = true, ISNEXT = true }
local JUMP_OPS = { JMP = true, FORI = true, JFORI = true, FORL = true,
  IFORL = true, JFORL = true, ITERL = true, IITERL = true, JITERL = true,
  LOOP = true, ILOOP = true, JLOOP = true, ISNEXT = true, UCLO = true }
local CALL_OPS = { CALL = true, CALLM = true, CALLT = true, CALLMT = true }
local TABLE_STORES = { TSETV = true, TSETS = true, TSETB = true, TSETM = true,
  TSETR = true }
-- Instructions whose A operand is the register they write.
local WRITES_A = {}
for _, n in ipairs({ "MOV", "NOT", "UNM", "LEN", "ADDVN", "SUBVN", "MULVN",
  "DIVVN", "MODVN", "ADDNV", "SUBNV", "MULNV", "DIVNV", "MODNV", "ADDVV",
  "SUBVV", "MULVV", "DIVVV", "MODVV", "POW", "CAT", "KSTR", "KCDATA", "KSHORT",
  "KNUM", "KPRI", "KNIL", "UGET", "FNEW", "TNEW", "TDUP", "GGET", "TGETV",
  "TGETS", "TGETB", "TGETR", "ISTC", "ISFC", "VARG", "CALLM", "CALL", "ITERC",
  "ITERN" }) do
  WRITES_A[n] = true
end

local function decode(fn, pc)
  local ins = jutil.funcbc(fn, pc)
  if ins == nil then return nil end
  local op = opname(band(ins, 0xff))
  return op, band(rshift(ins, 8), 0xff), band(rshift(ins, 16), 0xff),
    rshift(ins, 24), rshift(ins, 16)
end

local function line_of(fn, pc)
  local info = jutil.funcinfo(fn, pc)
  return info.currentline or info.linedefined or 0
end

-- The constant string at GC index d of fn.
local function kstr(fn, d) return jutil.funck(fn, -d - 1) end

-- Checks one function and, recursively, the functions it defines. Appends
-- {line=, message=} to problems and the functions that must stay out of the
-- JIT to untraced (as {line=} records, matched up after the chunk runs).
local function check_function(fn, is_main, problems, untraced)
  local info = jutil.funcinfo(fn)
  local count = info.bytecodes
  local ops, as, bs, cs, ds = {}, {}, {}, {}, {}
  local targets = {}
  for pc = 1, count - 1 do
    local op, a, c, b, d = decode(fn, pc)
    if op == nil then break end
    ops[pc], as[pc], bs[pc], cs[pc], ds[pc] = op, a, b, c, d
    if JUMP_OPS[op] then targets[pc + 1 + d - 0x8000] = true end
  end
  -- Whether register r, as read at pc, holds a captured variable's value:
  -- loaded by UGET, directly or through MOVs, along straight-line code (a
  -- jump target on the way ends the search: best effort, documented).
  local function from_upvalue(r, pc)
    local q = pc - 1
    while q >= 1 and not targets[q + 1] do
      if WRITES_A[ops[q]] and as[q] == r then
        if ops[q] == "UGET" then return true end
        if ops[q] == "MOV" then
          r = ds[q]
        else
          return false
        end
      end
      q = q - 1
    end
    return false
  end
  local bounded = true
  local reason
  for pc = 1, count - 1 do
    local op = ops[pc]
    if op == nil then break end
    if op == "GGET" then
      local name = kstr(fn, ds[pc])
      if rawget(allowed, name) == nil then
        problems[#problems + 1] = { line = line_of(fn, pc),
          message = "unknown global '" .. tostring(name) ..
            "' (declare it local, or see docs/RULES.md for what rules can use)" }
      end
    elseif op == "GSET" then
      problems[#problems + 1] = { line = line_of(fn, pc),
        message = "rules cannot set global '" .. tostring(kstr(fn, ds[pc])) ..
          "' (use a local)" }
    elseif not is_main and (op == "USETV" or op == "USETS" or op == "USETN" or
        op == "USETP") then
      problems[#problems + 1] = { line = line_of(fn, pc),
        message = "rules cannot change a variable captured from outside the " ..
          "function; each decision must stand alone" }
    elseif not is_main and TABLE_STORES[op] and
        from_upvalue(op == "TSETM" and as[pc] - 1 or bs[pc], pc) then
      problems[#problems + 1] = { line = line_of(fn, pc),
        message = "rules cannot change a table captured from outside the " ..
          "function; each decision must stand alone" }
    elseif LOOP_OPS[op] or (op == "JMP" and ds[pc] < 0x8000) then
      bounded, reason = false, reason or "loop"
    elseif CALL_OPS[op] then
      -- Which instruction loaded the callee? Walk back; a jump landing in
      -- between means more than one could have.
      local base = as[pc]
      local trusted = false
      local q = pc - 1
      while q >= 1 and not targets[q + 1] do
        local qop = ops[q]
        if WRITES_A[qop] and as[q] == base then
          if qop == "GGET" then
            trusted = rawget(allowed, kstr(fn, ds[q])) ~= nil
          elseif qop == "TGETS" then
            -- math.max and the like: a field of a library table.
            local t = bs[q]
            local r = q - 1
            while r >= 1 and not targets[r + 1] do
              if WRITES_A[ops[r]] and as[r] == t then
                trusted = ops[r] == "GGET" and trusted_tables[kstr(fn, ds[r])]
                  or false
                break
              end
              r = r - 1
            end
          end
          break
        elseif (CALL_OPS[qop] or qop == "KNIL" or qop == "VARG") and
            as[q] <= base then
          break -- Multiple results or a range: not a plain load.
        end
        q = q - 1
      end
      if not trusted then bounded, reason = false, reason or "call" end
    end
  end
  if not is_main and not bounded then
    untraced[#untraced + 1] = { line = info.linedefined,
      last = info.lastlinedefined, reason = reason }
  end
  for i = 1, info.gcconsts do
    local k = jutil.funck(fn, -i)
    if type(k) == "proto" then  -- A function defined inside this one.
      check_function(k, false, problems, untraced)
    end
  end
end

-- The module the C++ side drives -------------------------------------------
local M = {}

function M.attach(staging)
  S = ffi.cast("rules_staging*", staging)
  CONTACT, AGENTS, SCORES, ELIGIBLE = S.contact, S.agents, S.scores, S.eligible
end

local HOOK_NAMES = { name = true, description = true, eligible = true,
  score = true, weights = true, priority = true, priority_step = true,
  steps = true, tests = true }
local WEIGHT_NAMES = { skill = true, affinity = true, language = true,
  load = true, occupancy = true, idle = true }
local STEP_FIELDS = { after = true, skills = true, min_level = true,
  languages = true, preferred_only = true, name = true }

local hooks         -- The table the rules file returned.
local interpreted = {}  -- Functions the check kept out of the JIT.
local eligible_fn, score_fn, priority_fn
local w_skill, w_affinity, w_language, w_load, w_occupancy, w_idle
local chunk_name
local function where(fn)
  local info = debug.getinfo(fn, "S")
  return chunk_name .. ":" .. tostring(info.linedefined)
end

-- Every function value reachable from the hooks table, to switch the JIT off
-- for those the check marked unbounded.
local function collect_functions(root, out, seen)
  if seen[root] then return end
  seen[root] = true
  if type(root) == "function" then
    out[#out + 1] = root
    local i = 1
    while true do
      local name, value = debug.getupvalue(root, i)
      if name == nil then break end
      if type(value) == "function" or type(value) == "table" then
        collect_functions(value, out, seen)
      end
      i = i + 1
    end
  elseif type(root) == "table" then
    for _, v in pairs(root) do
      if type(v) == "function" or type(v) == "table" then
        collect_functions(v, out, seen)
      end
    end
  end
end

-- Loads, checks and runs a rules file. Returns a list of problems
-- ({line=, message=}); empty on success. `instruction_limit` bounds the
-- file's main chunk, which runs once here, uncompiled.
function M.load(source, name, instruction_limit)
  chunk_name = name
  local problems = {}
  local main, err = loadstring(source, "@" .. name)
  if main == nil then
    local line, msg = string.match(err, "^[^:]*:(%d+): (.*)$")
    problems[1] = { line = tonumber(line) or 0, message = msg or err }
    return problems
  end
  local untraced = {}
  check_function(main, true, problems, untraced)
  interpreted = untraced
  if #problems > 0 then return problems end

  setfenv(main, sandbox)
  jit.off(main, true)  -- Uncompiled while it runs once, so the hook holds.
  debug.sethook(function()
    error("the rules file's top level runs too long (more than " ..
      instruction_limit .. " instructions); loops belong in hooks", 2)
  end, "", instruction_limit)
  local ok, result = pcall(main)
  debug.sethook()
  jit.on(main, true)
  if not ok then
    local line, msg = string.match(tostring(result), "^[^:]*:(%d+): (.*)$")
    problems[1] = { line = tonumber(line) or 0, message = msg or tostring(result) }
    return problems
  end
  if type(result) ~= "table" then
    problems[1] = { line = 0, message = "the rules file must return a table " ..
      "of hooks (got " .. type(result) .. ")" }
    return problems
  end
  hooks = result
  for key, value in pairs(hooks) do
    if not HOOK_NAMES[key] then
      problems[#problems + 1] = { line = 0, message = "unknown hook '" ..
        tostring(key) .. "' (expected name, description, eligible, score, " ..
        "weights, priority, priority_step, steps or tests)" }
    end
  end
  for _, h in ipairs({ "eligible", "score", "priority" }) do
    if hooks[h] ~= nil and type(hooks[h]) ~= "function" then
      problems[#problems + 1] = { line = 0, message = "hook '" .. h ..
        "' must be a function, not a " .. type(hooks[h]) }
    end
  end
  local step = hooks.priority_step
  if step ~= nil and (type(step) ~= "number" or not (step > 0 and step <= 3600)) then
    problems[#problems + 1] = { line = 0, message =
      "'priority_step' must be a number of seconds from 0 to 3600 (exclusive of 0)" }
  end
  if hooks.score ~= nil and hooks.weights ~= nil then
    problems[#problems + 1] = { line = 0, message =
      "give either 'score' (a function) or 'weights' (a table), not both" }
  end
  if hooks.weights ~= nil then
    if type(hooks.weights) ~= "table" then
      problems[#problems + 1] = { line = 0, message = "'weights' must be a table" }
    else
      for k, v in pairs(hooks.weights) do
        if not WEIGHT_NAMES[k] then
          problems[#problems + 1] = { line = 0, message = "unknown weight '" ..
            tostring(k) .. "' (skill, affinity, language, load, occupancy, idle)" }
        elseif type(v) ~= "number" or v ~= v or v < 0 or v > 1e6 then
          problems[#problems + 1] = { line = 0, message = "weight '" .. k ..
            "' must be a number from 0 to 1e6" }
        end
      end
    end
  end
  if #problems > 0 then return problems end

  -- Switch the JIT off for every rule function the check found unbounded.
  local functions = {}
  collect_functions(hooks, functions, {})
  for _, f in ipairs(functions) do
    local info = debug.getinfo(f, "S")
    if info.what == "Lua" then
      for _, u in ipairs(untraced) do
        if u.line == info.linedefined and u.last == info.lastlinedefined then
          jit.off(f)
        end
      end
    end
  end

  eligible_fn, score_fn, priority_fn = hooks.eligible, hooks.score, hooks.priority
  local w = hooks.weights
  if w then
    w_skill, w_affinity, w_language = w.skill or 0, w.affinity or 0, w.language or 0
    w_load, w_occupancy, w_idle = w.load or 0, w.occupancy or 0, w.idle or 0
  end
  return problems
end

-- Which functions of the file run interpreted (for `routing_rules check`).
function M.interpreted() return interpreted end

-- The decision loop: one call per batch of candidates. Compiled by the JIT
-- together with the (bounded) hooks it calls.
function M.evaluate(n)
  local contact = CONTACT
  local agents, scores, eligible = AGENTS, SCORES, ELIGIBLE
  for i = 0, n - 1 do
    local a = agents[i]
    local ok = true
    if eligible_fn then
      local r = eligible_fn(contact, a)
      if r == false or r == nil then
        if r == nil then
          error(where(eligible_fn) .. ": eligible() returned nothing " ..
            "(return true or false)", 0)
        end
        ok = false
      elseif r ~= true then
        error(where(eligible_fn) .. ": eligible() returned a " .. type(r) ..
          " (return true or false)", 0)
      end
    end
    eligible[i] = ok
    if ok then
      if score_fn then
        local s = score_fn(contact, a)
        if type(s) ~= "number" or s ~= s or s == math.huge or s == -math.huge then
          error(where(score_fn) .. ": score() returned " .. tostring(s) ..
            " (return a finite number)", 0)
        end
        scores[i] = s
      elseif w_skill then
        scores[i] = w_skill * a.skill_score + w_affinity * a.affinity_score +
          w_language * a.language_score + w_load * a.load_score +
          w_occupancy * a.occupancy_score + w_idle * a.idle_score
      end
    end
  end
end

-- The contact's priority (0..9) from the priority hook, or -1 for none.
function M.priority()
  if not priority_fn then return -1 end
  local p = priority_fn(CONTACT, CONTACT.waited)
  if type(p) ~= "number" or p ~= p then
    error(where(priority_fn) .. ": priority() returned " .. tostring(p) ..
      " (return a number from 0 to 9)", 0)
  end
  if p < 0 then p = 0 elseif p > 9 then p = 9 end
  return math.floor(p)
end

-- Seconds of waiting one priority level is worth, or 0 for the policy's.
function M.priority_step()
  return hooks.priority_step or 0
end

function M.hooks() return hooks end

return M
