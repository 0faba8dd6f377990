--- lucid._args: the library's one way to raise, to show a shape, and to
-- read optional arguments (internal: the "_" keeps it out of listings).
--
--   local args = require("lucid._args")
--   local S = args.schema("nn.Linear", {            -- PyTorch's order
--     {"in_features", args.REQUIRED, "size"},
--     {"out_features", args.REQUIRED, "size"},
--     {"bias", true, "boolean"},
--     unsupported = {"device", "dtype"},             -- PyTorch has them, we do not
--   })
--   local n_in, n_out, bias = S:parse(...)
--
-- parse accepts the three call forms of the API contract, the same way
-- everywhere: positional in PyTorch's order, positional then ONE trailing
-- table of names, or a single table of names. A trailing table is read as
-- names when it is a plain table (no metatable, not a tensor) without an
-- array part, so arrays ({4}, betas = {0.9, 0.999}) stay positional values.
-- Unknown names (with the nearest known name), names PyTorch has but this
-- library does not, values of the wrong kind and an option given twice are
-- errors naming the function. Every schema is kept in args.schemas (by
-- function name), so a test can enumerate them all.
--
-- Errors: args.raise(fmt, ...) formats and raises through lucid.core._error,
-- which points the message at the first frame outside the library (the
-- user's line), however deep the check sits. Library code raises nothing
-- any other way. Portable Lua 5.1-5.4 / LuaJIT.
local C = require("lucid.core")

local M = {}

local compat = require("lucid._compat")
local unpack, tointeger = compat.unpack, compat.tointeger

-- ---- raising -------------------------------------------------------------------

--- raise(fmt, ...): string.format(fmt, ...) (or fmt alone, as given, when
-- there are no arguments), raised at the user's line.
function M.raise(fmt, ...)
  if select("#", ...) == 0 then return C._error(tostring(fmt)) end
  return C._error(string.format(fmt, ...))
end
local raise = M.raise

--- shape_str(t_or_shape): "{2, 3}" for a tensor or a table of sizes.
function M.shape_str(x)
  if C.is_tensor(x) then x = x.shape end
  return "{" .. table.concat(x, ", ") .. "}"
end

--- A short description of v for a message: numbers, booleans and nil as
-- themselves, anything else by its type (never a __tostring that could raise).
function M.describe(v)
  if v == nil or type(v) == "number" or type(v) == "boolean" then return tostring(v) end
  if C.is_tensor(v) then return "a tensor" end
  return type(v)
end
local describe = M.describe

--- name_list(names): names joined by ", " for a message; a long list (the
-- keys of a big state dict) keeps the first eight and says how many in all,
-- so a message stays readable.
function M.name_list(names)
  if #names <= 8 then return table.concat(names, ", ") end
  return table.concat(names, ", ", 1, 8) .. string.format(", ... (%d in all)", #names)
end

function M.callable(f)
  if type(f) == "function" then return true end
  local mt = getmetatable(f)
  return type(mt) == "table" and rawget(mt, "__call") ~= nil
end
local callable = M.callable

-- ---- value checks ----------------------------------------------------------------
-- A check is a function(v, name) returning nil when v is fine (optionally a
-- second result: v converted, e.g. 3.0 -> 3), or a problem ("eps must be a
-- number, got string"). Schemas name the common ones by string.

local checks = {}
M.checks = checks

local function int_of(v)
  return type(v) == "number" and tointeger(v) or nil
end
M.int_of = int_of

function checks.number(v, name)
  if type(v) ~= "number" then return name .. " must be a number, got " .. describe(v) end
end
function checks.boolean(v, name)
  if type(v) ~= "boolean" then return name .. " must be a boolean, got " .. describe(v) end
end
function checks.string(v, name)
  if type(v) ~= "string" then return name .. " must be a string, got " .. describe(v) end
end
function checks.table(v, name)
  if type(v) ~= "table" or C.is_tensor(v) then return name .. " must be a table, got " .. describe(v) end
end
function checks.tensor(v, name)
  if not C.is_tensor(v) then return name .. " must be a tensor, got " .. describe(v) end
end
function checks.callable(v, name)
  if not callable(v) then return name .. " must be a function, got " .. describe(v) end
end
function checks.integer(v, name)
  local i = int_of(v)
  if i == nil then return name .. " must be an integer, got " .. describe(v) end
  return nil, i
end
--- a size: a non-negative integer (whole floats accepted)
function checks.size(v, name)
  local i = int_of(v)
  if i == nil or i < 0 then return name .. " must be a non-negative integer, got " .. describe(v) end
  return nil, i
end
function checks.posint(v, name)
  local i = int_of(v)
  if i == nil or i < 1 then return name .. " must be a positive integer, got " .. describe(v) end
  return nil, i
end
--- a number >= 0 (NaN refused)
function checks.nonneg(v, name)
  if type(v) ~= "number" then return name .. " must be a number, got " .. describe(v) end
  if not (v >= 0) then return string.format("invalid %s: %s (expected %s >= 0)", name, tostring(v), name) end
end
function checks.positive(v, name)
  if type(v) ~= "number" then return name .. " must be a number, got " .. describe(v) end
  if not (v > 0) then return string.format("invalid %s: %s (expected %s > 0)", name, tostring(v), name) end
end
function checks.probability(v, name)
  if type(v) ~= "number" or not (v >= 0 and v <= 1) then
    return name .. " must be a probability between 0 and 1, got " .. describe(v)
  end
end

--- one_of("mean", "sum", "none"): one of these strings
function M.one_of(...)
  local allowed, shown = {}, {}
  for i = 1, select("#", ...) do
    local s = select(i, ...)
    allowed[s] = true
    shown[i] = "'" .. s .. "'"
  end
  local list = #shown == 1 and shown[1]
    or table.concat(shown, ", ", 1, #shown - 1) .. " or " .. shown[#shown]
  return function(v, name)
    if not allowed[v] then
      return name .. " must be " .. list .. ", got " .. (type(v) == "string" and "'" .. v .. "'" or describe(v))
    end
  end
end

--- either(a, b): a value either check accepts (the first one's problem is told)
function M.either(a, b)
  return function(v, name)
    local pa, va = M.run_check(a, v, name)
    if not pa then return nil, va end
    local pb, vb = M.run_check(b, v, name)
    if not pb then return nil, vb end
    return pa
  end
end

--- not_true(why): false (or nil) only; true is refused with why
function M.not_true(why)
  return function(v, name)
    if v == true then return name .. " = true is not supported (" .. why .. ")" end
    if v ~= false then return name .. " must be a boolean, got " .. describe(v) end
  end
end

-- problem, converted value
function M.run_check(check, v, name)
  local f = type(check) == "string" and checks[check] or check
  local problem, conv = f(v, name)
  if problem then return problem end
  if conv == nil then conv = v end
  return nil, conv
end

-- ---- names -----------------------------------------------------------------------

-- Levenshtein distance between two short strings.
local function distance(a, b)
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = {[0] = i}
    local ca = a:sub(i, i)
    for j = 1, #b do
      local cost = ca == b:sub(j, j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end
M.distance = distance

local function common_prefix(a, b)
  local i = 0
  while i < #a and i < #b and a:byte(i + 1) == b:byte(i + 1) do i = i + 1 end
  return i
end

--- The known name nearest to `key` (by edit distance), when it is close
-- enough to be a typo: a few edits away, or sharing a long start with it
-- (reduce / reduction).
function M.nearest(key, names)
  if type(key) ~= "string" then return nil end
  local best, bestd
  for _, n in ipairs(names) do
    local d = distance(key, n)
    local p = common_prefix(key, n)
    local close = d <= math.max(2, math.floor(#key / 3)) or (p >= 4 and p * 2 >= #key)
    if close and d < math.max(#key, #n) and (bestd == nil or d < bestd) then
      best, bestd = n, d
    end
  end
  return best
end

-- pairs in a fixed order (numbers first, then by text): the first problem
-- reported does not change from run to run.
local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local na, nb = type(a) == "number", type(b) == "number"
    if na ~= nb then return na end
    if na then return a < b end
    return tostring(a) < tostring(b)
  end)
  return keys
end
M.sorted_keys = sorted_keys

-- ---- schemas ---------------------------------------------------------------------

--- Marks an option without a default.
M.REQUIRED = setmetatable({}, {__tostring = function() return "<required>" end})

--- Every schema made, by function name.
M.schemas = {}

local Schema = {}
Schema.__index = Schema
M.Schema = Schema

--- schema(fname, entries): entries are {name, default, check [, keyword =
-- true] [, table_arg = true]} in PyTorch's order (default args.REQUIRED:
-- no default; keyword: only by name, as PyTorch's keyword-only ones;
-- table_arg: a plain table in this position is the value, never names),
-- plus `unsupported`, the names PyTorch has that are refused.
function M.schema(fname, entries)
  local s = setmetatable({name = fname, params = {}, positional = {}, index = {}, names = {},
    unsupported = {}}, Schema)
  for i, e in ipairs(entries) do
    local p = {name = e[1], default = e[2], check = e[3], keyword = e.keyword, table_arg = e.table_arg,
      required = e[2] == M.REQUIRED}
    s.params[i], s.index[p.name], s.names[i] = p, p, p.name
    if not p.keyword then s.positional[#s.positional + 1] = p end
  end
  for _, n in ipairs(entries.unsupported or {}) do s.unsupported[n] = true end
  M.schemas[fname] = s
  return s
end

-- Copies tables (betas) so that defaults are never shared between calls.
local function copy(v)
  if type(v) == "table" and not C.is_tensor(v) and getmetatable(v) == nil then
    local t = {}
    for k, e in pairs(v) do t[k] = copy(e) end
    return t
  end
  return v
end
M.copy = copy

--- True when v is a table of names: plain (no metatable, not a tensor) and
-- without an array part.
function M.is_names(v)
  return type(v) == "table" and getmetatable(v) == nil and rawget(v, 1) == nil
end
local is_names = M.is_names

--- s:check_names(tbl [, where [, allow]]): raises on the first key of tbl
-- that is not an option (`allow`: extra keys to let through); `where`
-- ("parameter group 2: ") prefixes the message.
function Schema:check_names(tbl, where, allow)
  where = where or ""
  for _, k in ipairs(sorted_keys(tbl)) do
    if not self.index[k] and not (allow and allow[k]) then
      if self.unsupported[k] then
        raise("%s: %soption '%s' is not supported", self.name, where, tostring(k))
      end
      local near = M.nearest(k, self.names)
      raise("%s: %sunknown option '%s'%s", self.name, where, tostring(k),
        near and " (did you mean '" .. near .. "'?)" or "")
    end
  end
end

--- s:check_value(name, v [, where [, fname]]): v checked (and converted) as
-- option `name`; a message starts with fname (default: the schema's name).
function Schema:check_value(name, v, where, fname)
  local p = self.index[name]
  if v == nil or not p or not p.check then return v end
  local problem, conv = M.run_check(p.check, v, name)
  if problem then raise("%s: %s%s", fname or self.name, where or "", problem) end
  return conv
end

--- s:all_options(tbl): whether tbl is non-empty and each key names an option.
function Schema:all_options(tbl)
  if next(tbl) == nil then return false end
  for k in pairs(tbl) do
    if not self.index[k] then return false end
  end
  return true
end

--- s:given(...): name -> value of the options given (nothing filled in or
-- checked beyond the names and the count).
function Schema:given(...)
  local n = select("#", ...)
  local a = {...}
  local given = {}
  while n > 0 and a[n] == nil do n = n - 1 end  -- trailing nils are options not given
  local last = a[n]
  if n > 0 and is_names(last) and not C.is_tensor(last) then
    local p = self.positional[n]
    -- a table in a table_arg's position is its value, unless every key of it
    -- names an option: f(x, {milestones = {3}}) gives milestones by name
    if not (p and p.table_arg) or self:all_options(last) then
      self:check_names(last)
      for k, v in pairs(last) do given[k] = v end
      n = n - 1
    end
  end
  if n > #self.positional then
    local names = {}
    for i, p in ipairs(self.positional) do names[i] = p.name end
    raise("%s: too many arguments (%d positional options at most%s%s)", self.name, #names, #names > 0 and ": " or "",
      table.concat(names, ", "))
  end
  for i = 1, n do
    local v = a[i]
    if v ~= nil then
      local name = self.positional[i].name
      if given[name] ~= nil then
        raise("%s: option '%s' given twice (positionally and by name)", self.name, name)
      end
      given[name] = v
    end
  end
  return given
end

--- s:table(...): name -> value, every option checked, defaults filled in
-- (a missing required one is an error).
function Schema:table(...)
  local given = self:given(...)
  local out = {}
  for _, p in ipairs(self.params) do
    local v = given[p.name]
    if v == nil then
      if p.required then
        -- a named check says what was expected ("must be a non-negative
        -- integer, got nil"); otherwise the option is just missing
        local problem = type(p.check) == "string" and M.run_check(p.check, nil, p.name)
        raise("%s: %s", self.name, problem or (p.name .. " is required"))
      end
      out[p.name] = copy(p.default)
    else
      out[p.name] = self:check_value(p.name, v)
    end
  end
  return out
end

--- s:parse(...): the values, in the schema's order.
function Schema:parse(...)
  local t = self:table(...)
  local out = {}
  for i, p in ipairs(self.params) do out[i] = t[p.name] end
  return unpack(out, 1, #self.params)
end

-- ---- helpers for layers ------------------------------------------------------------

--- tensor(fname, x [, what]): x, or an error naming fname when x is not a tensor.
function M.tensor(fname, x, what)
  if not C.is_tensor(x) then
    raise("%s: expected a tensor%s, got %s", fname, what and (" " .. what) or "", type(x))
  end
  return x
end

-- The most elements a parameter may have: past this, the byte size of a
-- float64 tensor no longer fits (checking first keeps the error about the
-- layer, before any allocation).
local MAX_NUMEL = compat.maxinteger / 8

--- numel(fname, what, ...): raises when a parameter of these sizes could
-- not exist (the product overflows), naming it.
function M.numel(fname, what, ...)
  local n, sizes = 1, {...}
  for _, d in ipairs(sizes) do
    if d > 0 then
      if n > MAX_NUMEL / d then
        raise("%s: the %s would have %s elements: too many for a tensor", fname, what,
          table.concat(sizes, " * "))
      end
      n = n * d
    end
  end
end

--- make(fname, what, make, ...): make(...) (a tensor constructor), a failure
-- other than a memory error re-raised with fname in front.
function M.make(fname, what, make, ...)
  local ok, t = pcall(make, ...)
  if ok then return t end
  if t == "not enough memory" or type(t) ~= "string" then error(t, 0) end
  raise("%s: cannot make the %s: %s", fname, what, (t:gsub("^[^\n:]+:%d+: ", "")))
end

return M
