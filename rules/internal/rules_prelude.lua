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
    elseif LOOP_OPS[op] or
        ((op == "JMP" or op == "UCLO") and ds[pc] < 0x8000) then
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

-- The termination proof ----------------------------------------------------
-- A hook runs inside every decision, so a rules file is refused unless every
-- function it can run during a decision provably finishes (docs/RULES.md,
-- "Termination"). Loops: numeric `for` with a constant, non-zero step, and
-- generic `for` over ipairs(), pairs() or next; `while`, `repeat` and a
-- backward `goto` are refused. Calls: a callee must be identifiable before
-- anything runs (a built-in, a local function the file defines, or a
-- function defined inside the caller), and the graph of calls between the
-- file's functions must have no cycle (no recursion). What the proof cannot
-- see (how long a bounded loop runs) the sample run and the evaluation
-- budget cover.

local STRING_METHODS = {}
for name in pairs(safe_string) do STRING_METHODS[name] = true end
-- A call's first argument register: base + 1, or base + 2 where the frame
-- takes two slots (LuaJIT's GC64 mode).
local ARG0 = ffi.abi("gc64") and 2 or 1

-- One function's bytecode, decoded once.
local function decode_all(fn)
  local info = jutil.funcinfo(fn)
  local code = { ops = {}, a = {}, b = {}, c = {}, d = {}, targets = {},
    params = info.params, fn = fn, info = info }
  for pc = 1, info.bytecodes - 1 do
    local op, a, c, b, d = decode(fn, pc)
    if op == nil then break end
    code.ops[pc], code.a[pc], code.b[pc], code.c[pc], code.d[pc] =
      op, a, b, c, d
    code.n = pc
    if JUMP_OPS[op] then code.targets[pc + 1 + d - 0x8000] = true end
  end
  code.n = code.n or 0
  return code
end

-- Instructions that write a range of registers from A up (calls clobber
-- everything above their base; KNIL writes A..D).
local RANGE_WRITES = { CALL = true, CALLM = true, VARG = true, ITERC = true,
  ITERN = true, KNIL = true, FORI = true, FORL = true, IFORL = true,
  JFORI = true, JFORL = true }

-- Whether instruction pc writes register r: "exact" for a single-register
-- write of r, "range" for a write of a range containing r, nil otherwise.
local function writes(code, pc, r)
  local op, a = code.ops[pc], code.a[pc]
  if op == "KNIL" then
    return (r >= a and r <= code.d[pc]) and "range" or nil
  end
  if op == "FORI" or op == "FORL" or op == "IFORL" or op == "JFORI" or
      op == "JFORL" then
    return (r >= a and r <= a + 3) and "range" or nil
  end
  if RANGE_WRITES[op] then
    if r == a and (op == "CALL" or op == "VARG") and code.b[pc] == 2 then
      return "exact"  -- One result.
    end
    return r >= a and "range" or nil
  end
  if WRITES_A[op] and a == r then return "exact" end
  return nil
end

-- Where the value register r holds at pc comes from. Returns a kind and a
-- detail: "builtin" (a sandbox function or library table, detail its name),
-- "method" (a field named like a string method), "upvalue" (detail the
-- upvalue index), "child" (detail the proto defined here), "data" (a value
-- computed here: not a function), "call" (detail the pc of the call that
-- produced it) or "unknown" (a parameter, a table field, a merge of paths).
local function origin(code, r, pc, depth)
  depth = (depth or 0) + 1
  if depth > 50 then return "unknown" end
  local found
  local q = pc - 1
  while q >= 1 and not code.targets[q + 1] do
    local w = writes(code, q, r)
    if w == "range" then
      if code.ops[q] == "CALL" or code.ops[q] == "CALLM" then
        return "call", q
      end
      return "unknown"
    elseif w == "exact" then
      found = q
      break
    end
    q = q - 1
  end
  if found == nil then
    -- Not in straight-line code: a register written once in the whole
    -- function (a local function kept in a register) still has one origin.
    if r < code.params then return "unknown" end
    local only
    for i = 1, code.n do
      if writes(code, i, r) then
        if only ~= nil then return "unknown" end
        only = i
      end
    end
    if only == nil or writes(code, only, r) ~= "exact" then return "unknown" end
    found = only
  end
  local op, d = code.ops[found], code.d[found]
  if op == "MOV" then return origin(code, d, found, depth) end
  if op == "UGET" then return "upvalue", d end
  if op == "FNEW" then return "child", kstr(code.fn, d) end
  if op == "GGET" then
    local name = kstr(code.fn, d)
    if rawget(allowed, name) ~= nil then return "builtin", name end
    return "unknown"
  end
  if op == "TGETS" then
    local t_kind, t_name = origin(code, code.b[found], found, depth)
    local key = kstr(code.fn, code.c[found])
    if t_kind == "builtin" and trusted_tables[t_name] then
      return "builtin", t_name .. "." .. tostring(key)
    end
    if STRING_METHODS[key] then return "method", key end
    return "unknown"
  end
  if op == "CALL" or op == "CALLM" then return "call", found end
  if op == "TGETV" or op == "TGETB" or op == "TGETR" or op == "VARG" or
      op == "ISTC" or op == "ISFC" then
    return "unknown"
  end
  return "data"
end

local function function_line(fn)
  return jutil.funcinfo(fn).linedefined or 0
end

-- Checks the loops of one function (not the main chunk, which runs once at
-- load under an instruction limit).
local function check_loops(code, problems)
  local fn = code.fn
  local loop_at = {}  -- pcs of LOOP instructions (while and repeat)
  for pc = 1, code.n do
    if code.ops[pc] == "LOOP" or code.ops[pc] == "ILOOP" or
        code.ops[pc] == "JLOOP" then
      loop_at[#loop_at + 1] = pc
      problems[#problems + 1] = { line = line_of(fn, pc), message =
        "a 'while' or 'repeat' loop cannot be proved to finish; rules may " ..
        "loop only with a numeric 'for' or with ipairs()/pairs() " ..
        "(docs/RULES.md, \"Termination\")" }
    end
  end
  for pc = 1, code.n do
    local op = code.ops[pc]
    -- A backward jump: JMP, or UCLO where the goto leaves a scope whose
    -- locals a closure captured.
    if (op == "JMP" or op == "UCLO") and code.d[pc] < 0x8000 then
      local target = pc + 1 + code.d[pc] - 0x8000
      local inside_loop = false
      for _, l in ipairs(loop_at) do
        if l >= target and l <= pc then inside_loop = true end
      end
      if not inside_loop then
        problems[#problems + 1] = { line = line_of(fn, pc), message =
          "a 'goto' that jumps backwards is a loop that cannot be proved " ..
          "to finish (docs/RULES.md, \"Termination\")" }
      end
    elseif op == "FORI" then
      -- The step is register A+2: a constant, and not zero.
      local q = pc - 1
      local step
      while q >= 1 do
        local w = writes(code, q, code.a[pc] + 2)
        if w == "exact" then
          if code.ops[q] == "KSHORT" then
            step = code.d[q]
            if step >= 0x8000 then step = step - 0x10000 end
          elseif code.ops[q] == "KNUM" then
            step = jutil.funck(fn, code.d[q])
          end
          break
        elseif w == "range" then
          break
        end
        q = q - 1
      end
      if type(step) ~= "number" or step == 0 or step ~= step or
          step == math.huge or step == -math.huge then
        problems[#problems + 1] = { line = line_of(fn, pc), message =
          "a numeric 'for' loop needs a constant, non-zero step to be " ..
          "proved to finish (a step of 0 never ends)" }
      end
    elseif op == "ITERC" or op == "ITERN" then
      -- Which iterator? Find the instruction entering the loop (a jump to
      -- this pc), then what loaded the generator register A-3 before it.
      local entry
      for q = 1, code.n do
        local o = code.ops[q]
        if entry == nil and (o == "JMP" or o == "ISNEXT") and
            q + 1 + code.d[q] - 0x8000 == pc then
          entry = q  -- The first: later ones are jumps inside the body.
        end
      end
      local ok = false
      if entry ~= nil then
        local base = code.a[pc] - 3
        local kind, detail = origin(code, base, entry)
        if kind == "builtin" and detail == "next" then
          ok = true
        elseif kind == "call" and code.a[detail] == base then
          local ck, cname = origin(code, base, detail)
          ok = ck == "builtin" and (cname == "ipairs" or cname == "pairs")
        end
      end
      if not ok then
        problems[#problems + 1] = { line = line_of(fn, pc), message =
          "a generic 'for' loop must iterate with ipairs(), pairs() or next " ..
          "called by name to be proved to finish" }
      end
    end
  end
end

-- The call sites of one function: { {pc=, kind=, detail=} } for every
-- callee (and every table.sort comparator) that is not a built-in.
local function call_sites(code, problems, nested)
  local fn = code.fn
  local sites = {}
  local function resolve(r, pc, what)
    local kind, detail = origin(code, r, pc)
    if kind == "builtin" or kind == "method" then return end
    if kind == "child" or (kind == "upvalue" and not nested) then
      sites[#sites + 1] = { pc = pc, kind = kind, detail = detail }
      return
    end
    local message
    if kind == "upvalue" then
      message = "a function defined inside another function may call only " ..
        "built-ins and functions defined inside it; define helpers as " ..
        "local functions at the top of the file"
    else
      message = what .. " cannot be identified before it runs (a " ..
        "parameter, a table field or a computed value), so recursion " ..
        "cannot be ruled out; call a built-in or a local function by name"
    end
    problems[#problems + 1] = { line = line_of(fn, pc), message = message }
  end
  for pc = 1, code.n do
    local op = code.ops[pc]
    if CALL_OPS[op] then
      local base = code.a[pc]
      resolve(base, pc, "the function called here")
      local kind, name = origin(code, base, pc)
      if kind == "builtin" and name == "table.sort" then
        if op == "CALLM" or op == "CALLMT" then
          problems[#problems + 1] = { line = line_of(fn, pc), message =
            "table.sort() needs its arguments written out, so its " ..
            "comparator can be checked" }
        elseif code.c[pc] - 1 >= 2 then
          resolve(base + ARG0 + 1, pc,
            "the comparator given to table.sort()")
        end
      end
    elseif op == "TSETS" and STRING_METHODS[kstr(fn, code.c[pc])] then
      -- A function stored under a string method's name would hide a call
      -- to it as `t:name()`.
      local kind = origin(code, code.a[pc], pc)
      if kind == "child" or kind == "upvalue" then
        problems[#problems + 1] = { line = line_of(fn, pc), message =
          "a function stored in a table field named '" ..
          kstr(fn, code.c[pc]) .. "' (a string method's name) hides the " ..
          "call from the termination check; rename the field" }
      end
    end
  end
  -- Functions defined here are checked on their own (check_termination
  -- walks every function once) as nested: they may call only built-ins and
  -- their own nested functions, so they never close a cycle.
  return sites
end

-- Checks loops and calls of every function defined in the chunk, before it
-- runs. Top-level functions' calls through upvalues are resolved after the
-- chunk has run (check_recursion).
local function check_termination(main, problems)
  local info = jutil.funcinfo(main)
  local function walk(fn, depth)
    local code = decode_all(fn)
    if depth > 0 then
      check_loops(code, problems)
      call_sites(code, problems, depth > 1)
    end
    local i = jutil.funcinfo(fn)
    for k = 1, i.gcconsts do
      local child = jutil.funck(fn, -k)
      if type(child) == "proto" then walk(child, depth + 1) end
    end
  end
  walk(main, 0)
end

-- After the chunk has run: the file's functions reachable from the hooks,
-- with their calls through upvalues resolved to the functions those hold
-- (final now: rule functions cannot assign captured variables). Refuses a
-- cycle, and functions under string methods' names in the file's tables.
local function check_recursion(functions, tables, name, problems)
  local source = "@" .. name
  local function is_rule(f)
    if type(f) ~= "function" then return false end
    local i = debug.getinfo(f, "S")
    return i.what ~= "C" and i.source == source
  end
  for _, t in ipairs(tables) do
    for k, v in pairs(t) do
      if STRING_METHODS[k] and is_rule(v) then
        problems[#problems + 1] = { line = function_line(v), message =
          "a function stored in a table field named '" .. k .. "' (a " ..
          "string method's name) hides calls to it from the termination " ..
          "check; rename the field" }
      end
    end
  end
  local edges = {}
  for _, f in ipairs(functions) do
    if is_rule(f) then
      local out = {}
      local code = decode_all(f)
      for _, site in ipairs(call_sites(code, {}, false)) do
        if site.kind == "upvalue" then
          local _, value = debug.getupvalue(f, site.detail + 1)
          if is_rule(value) then
            out[#out + 1] = { to = value, line = line_of(f, site.pc) }
          end
        end
      end
      edges[f] = out
    end
  end
  -- Depth-first search for a cycle; `path` holds the calls from the root
  -- to the function being visited.
  local state, path = {}, {}
  local function visit(f)
    state[f] = "open"
    for _, e in ipairs(edges[f] or {}) do
      path[#path + 1] = e
      if state[e.to] == "open" then
        -- e.to is on the path: the root, or the target of an earlier call.
        local first = 1
        for i = #path - 1, 1, -1 do
          if path[i].to == e.to then first = i + 1 break end
        end
        local lines = {}
        for i = first, #path do lines[#lines + 1] = "line " .. path[i].line end
        problems[#problems + 1] = { line = e.line, message =
          "recursion: this call can reach the function it is in again " ..
          "(calls at " .. table.concat(lines, ", ") .. "), which cannot be " ..
          "proved to finish; rules may not recurse" }
        return true
      elseif state[e.to] == nil then
        if visit(e.to) then return true end
      end
      path[#path] = nil
    end
    state[f] = "done"
    return false
  end
  for _, f in ipairs(functions) do
    if edges[f] and state[f] == nil then
      path = {}
      if visit(f) then break end
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

-- Every function and table of the rules file reachable from the hooks table
-- (through tables and the file's functions' upvalues), to switch the JIT
-- off for the functions the check marked unbounded and to resolve calls.
local function collect_functions(root, out, seen, tables)
  if seen[root] then return end
  seen[root] = true
  if type(root) == "function" then
    local info = debug.getinfo(root, "S")
    if info.what == "C" or info.source ~= "@" .. chunk_name then return end
    out[#out + 1] = root
    local i = 1
    while true do
      local name, value = debug.getupvalue(root, i)
      if name == nil then break end
      if type(value) == "function" or type(value) == "table" then
        collect_functions(value, out, seen, tables)
      end
      i = i + 1
    end
  elseif type(root) == "table" then
    if tables then tables[#tables + 1] = root end
    for _, v in pairs(root) do
      if type(v) == "function" or type(v) == "table" then
        collect_functions(v, out, seen, tables)
      end
    end
  end
end

-- The first line of the source where `key` is assigned (`key =`), or 0.
local function line_of_key(source, key)
  if type(key) ~= "string" then return 0 end
  key = string.gsub(key, "%W", "%%%0")
  local line = 1
  for text in string.gmatch(source .. "\n", "([^\n]*)\n") do
    if string.find(text, "%f[%w_]" .. key .. "%s*=") then return line end
    line = line + 1
  end
  return 0
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
  check_termination(main, problems)
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
    -- The line of the chunk's last return.
    local code, line = decode_all(main), 0
    for pc = 1, code.n do
      local op = code.ops[pc]
      if op == "RET" or op == "RET0" or op == "RET1" or op == "RETM" then
        line = line_of(main, pc)
      end
    end
    problems[1] = { line = line,
      message = "the rules file must return a table " ..
      "of hooks (got " .. type(result) .. ")" }
    return problems
  end
  hooks = result
  for key, value in pairs(hooks) do
    if not HOOK_NAMES[key] then
      problems[#problems + 1] = { line = line_of_key(source, key),
        message = "unknown hook '" ..
        tostring(key) .. "' (expected name, description, eligible, score, " ..
        "weights, priority, priority_step, steps or tests)" }
    end
  end
  for _, h in ipairs({ "eligible", "score", "priority" }) do
    if hooks[h] ~= nil and type(hooks[h]) ~= "function" then
      problems[#problems + 1] = { line = line_of_key(source, h),
        message = "hook '" .. h ..
        "' must be a function, not a " .. type(hooks[h]) }
    end
  end
  local step = hooks.priority_step
  if step ~= nil and (type(step) ~= "number" or not (step > 0 and step <= 3600)) then
    problems[#problems + 1] = { line = line_of_key(source, "priority_step"),
      message = "'priority_step' must be a number of seconds from 0 to 3600 (exclusive of 0)" }
  end
  if hooks.score ~= nil and hooks.weights ~= nil then
    problems[#problems + 1] = { line = line_of_key(source, "weights"),
      message = "give either 'score' (a function) or 'weights' (a table), not both" }
  end
  if hooks.weights ~= nil then
    if type(hooks.weights) ~= "table" then
      problems[#problems + 1] = { line = line_of_key(source, "weights"),
        message = "'weights' must be a table" }
    else
      for k, v in pairs(hooks.weights) do
        if not WEIGHT_NAMES[k] then
          problems[#problems + 1] = { line = line_of_key(source, k),
            message = "unknown weight '" ..
            tostring(k) .. "' (skill, affinity, language, load, occupancy, idle)" }
        elseif type(v) ~= "number" or v ~= v or v < 0 or v > 1e6 then
          problems[#problems + 1] = { line = line_of_key(source, k),
            message = "weight '" .. k ..
            "' must be a number from 0 to 1e6" }
        end
      end
    end
  end
  if #problems > 0 then return problems end

  -- Recursion, now that the upvalues hold their final values.
  local functions, tables = {}, {}
  collect_functions(hooks, functions, {}, tables)
  check_recursion(functions, tables, name, problems)
  if #problems > 0 then return problems end

  -- Switch the JIT off for every rule function the check found unbounded.
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

-- The line a hook is defined at (0: none), to name it when it overruns.
function M.hook_line(name)
  local f = hooks and hooks[name]
  if type(f) ~= "function" then return 0 end
  return debug.getinfo(f, "S").linedefined or 0
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
