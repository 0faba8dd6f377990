--- lucid.repl: the Lua side of the `lucid` command (lua/lucid_repl.c).
-- The C side reads lines, runs them and owns the terminal and the signals;
-- this file decides what the session looks like:
--   setup()              the globals lucid, nn, optim (lazy) and help
--   show(...)            how results print: tensors and modules through
--                        tostring, short tables inline, tab-separated
--   complete(text)       what Tab offers: globals and keywords, fields after
--                        `.`, methods after `:` (tensors, modules, strings...)
--   help([x])            one paragraph about a function, class, method or
--                        value; the texts live in lucid/help.lua
-- Only the program prints (help() writes to io.stdout); the library never does.
local raise = require("lucid._args").raise
local lucid = require("lucid")
local C = require("lucid.core")
local compat = require("lucid._compat")

local M = {}

local rawlen = rawlen or function(t) return #t end  -- luacheck: ignore (5.1: # is raw on tables)

-- package.searchpath is 5.2+ (and LuaJIT's): the same search, for 5.1.
local searchpath = package.searchpath or function(name, path)
  local file = name:gsub("%.", "/")
  for template in path:gmatch("[^;]+") do
    local candidate = template:gsub("%?", file)
    local f = io.open(candidate, "r")
    if f then
      f:close()
      return candidate
    end
  end
  return nil
end

-- ---- globals ---------------------------------------------------------------------

-- Module files on the search paths (so completion only offers what loads).
local function module_exists(name)
  if package.loaded[name] ~= nil or package.preload[name] ~= nil then return true end
  return searchpath(name, package.path) ~= nil
end

--- Sets the globals of every mode; returns the chunk-name prefix of the
-- library's files ("@<dir>/lucid/"), whose frames tracebacks leave out.
function M.setup()
  local G = _G
  rawset(G, "lucid", lucid)
  rawset(G, "nn", lucid.nn)
  rawset(G, "help", M.help)
  -- optim is loaded on first use: it may be absent, and startup stays quick
  local lazy = {optim = "lucid.optim"}
  if getmetatable(G) == nil then
    setmetatable(G, {__index = function(t, k)
      local name = lazy[k]
      if name == nil then return nil end
      local ok, m = pcall(require, name)
      if not ok then
        local why = tostring(m):match("(module '[^']*' not found)") or tostring(m):match("^[^\n]*")
        raise(string.format("%s: %s is not available (%s)", k, name, why))
      end
      rawset(t, k, m)
      return m
    end})
  else  -- _G already has a metatable (LUA_INIT): load now, if it is there
    for k, name in pairs(lazy) do
      local ok, m = pcall(require, name)
      if ok then rawset(G, k, m) end
    end
  end
  local path = package.searchpath("lucid.format", package.path)
  return path and "@" .. path:gsub("format%.lua$", "") or nil
end

-- ---- printing results ---------------------------------------------------------------

local MAX_INLINE = 100  -- longest table summary; longer ones print as table: 0x...

-- Whether tostring says more than the address: __tostring, or a __name.
local function tostring_meta(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and (rawget(mt, "__tostring") ~= nil or rawget(mt, "__name") ~= nil)
end

local summary

-- A short inline form of v inside a table summary, or nil if it has none.
local function inline(v, depth)
  local tv = type(v)
  if tv == "number" or tv == "boolean" then return tostring(v) end
  if tv == "string" then
    if #v > 40 or v:find("%c") then return nil end
    return string.format("%q", v)
  end
  if C.is_tensor(v) then
    local ok, shape = pcall(function() return v.shape end)
    return ok and "Tensor(shape={" .. table.concat(shape, ", ") .. "})" or "Tensor(closed)"
  end
  if tv == "table" then
    if not tostring_meta(v) then return depth < 2 and summary(v, depth + 1) or nil end
    local s = tostring(v)  -- a module or a class: only if its text is one short line
    return (#s <= 60 and not s:find("\n")) and s or nil
  end
  return nil
end

-- {1, 2, 3}, {a = 1, b = "x"}, {{1, 2}, {3, 4}}; nil when not plain or too
-- long. An array too long at the top level shows its start and its length.
summary = function(t, depth)
  if next(t) == nil then return "{}" end
  local n, count, keys = rawlen(t), 0, {}
  for k in next, t do
    count = count + 1
    if not (compat.math_type(k) == "integer" and k >= 1 and k <= n) then
      if count > 20 or type(k) ~= "string" or not k:match("^[%a_][%w_]*$") then return nil end
      keys[#keys + 1] = k
    end
  end
  if count ~= n + #keys then return nil end  -- holes in the array part
  if n > 20 and (depth > 1 or #keys > 0) then return nil end
  table.sort(keys)
  local parts, len = {}, 2
  for i = 1, n do
    local s = inline(rawget(t, i), depth)
    if s == nil then return nil end
    if len + #s + 2 > MAX_INLINE then  -- too long: the start and the count, at the top only
      if depth > 1 or #keys > 0 then return nil end
      return "{" .. table.concat(parts, ", ") .. ", ... (" .. n .. " items)}"
    end
    parts[i], len = s, len + #s + 2
  end
  for _, k in ipairs(keys) do
    local s = inline(rawget(t, k), depth)
    if s == nil then return nil end
    parts[#parts + 1] = k .. " = " .. s
  end
  local s = "{" .. table.concat(parts, ", ") .. "}"
  return #s <= MAX_INLINE and s or nil
end

--- How one result prints: tostring, except plain tables, which print as a
-- short summary when they have one (shapes, lists of numbers, small records).
function M.repr(v)
  if type(v) == "table" and not tostring_meta(v) then
    return summary(v, 1) or tostring(v)
  end
  return tostring(v)
end

--- All results of a line, separated by tabs (as print does).
function M.show(...)
  local out = {}
  for i = 1, select("#", ...) do out[i] = M.repr((select(i, ...))) end
  return table.concat(out, "\t")
end

-- ---- completion ---------------------------------------------------------------------

local KEYWORDS = {"and", "break", "do", "else", "elseif", "end", "false", "for", "function",
  "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until",
  "while"}
local is_keyword = {}
for _, k in ipairs(KEYWORDS) do is_keyword[k] = true end

-- A tensor's fields (its methods come from lucid.core._methods).
local TENSOR_FIELDS = {"shape", "ndim", "dtype", "requires_grad", "grad", "is_leaf", "grad_fn", "T"}
local FIELD = {}  -- stands for "a value not known without reading it"

local function is_module_instance(t)
  return type(t) == "table" and rawget(t, "_modules") ~= nil and type(rawget(t, "_parameters")) == "table"
end

-- Names an __index function would load on demand: its upvalue `lazy`, a
-- table name -> module (lucid's optim and data; the optim global).
local function lazy_names(fn, add)
  for i = 1, 255 do
    local name, v = debug.getupvalue(fn, i)
    if name == nil then break end
    if name == "lazy" and type(v) == "table" then
      for k, mod in pairs(v) do
        if type(k) == "string" and type(mod) == "string" and module_exists(mod) then add(k, FIELD) end
      end
    end
  end
end

-- name -> value of everything reachable from obj with `.`: its own keys, then
-- its metatables' __index chain (tables walked, functions understood for
-- tensors, nn.Module instances and lazy loaders).
local function members(obj)
  local found = {}
  local function add(k, v)
    if type(k) == "string" and found[k] == nil then found[k] = v end
  end
  local seen = {}
  local function walk(t, depth)
    if depth > 20 or seen[t] then return end
    seen[t] = true
    if C.is_tensor(t) then
      for k, v in next, C._methods do add(k, v) end
      for _, f in ipairs(TENSOR_FIELDS) do add(f, FIELD) end
      return
    end
    if type(t) == "table" then
      for k, v in next, t do add(k, v) end
      if is_module_instance(t) then  -- registered parameters, submodules, buffers
        for _, f in ipairs({"_parameters", "_modules", "_buffers"}) do
          local reg = rawget(t, f)
          if type(reg) == "table" then
            for k, v in next, reg do add(k, v) end
          end
        end
      end
    end
    local mt = debug.getmetatable(t)
    if type(mt) ~= "table" then return end
    local index = rawget(mt, "__index")
    if type(index) == "table" then
      walk(index, depth + 1)
    elseif type(index) == "function" then
      lazy_names(index, add)
      if is_module_instance(t) then walk(mt, depth + 1) end  -- the class, then its parents
    end
  end
  walk(obj, 0)
  return found
end

-- The value a dotted name such as "lucid.nn.Linear" refers to, or nil.
local function resolve(path, root)
  local ok, v = pcall(function()
    local v = root or _G
    for name in path:gmatch("[^.]+") do
      if v == nil then return nil end
      v = v[name]
    end
    return v
  end)
  return ok and v or nil
end

--- Tab completion: the candidates that replace `text`, the word before the
-- cursor (readline does not break words at `.` and `:`). "lucid.ze" gives
-- {"lucid.zeros", "lucid.zeros_like"}; "x:ba" a tensor's methods; "pri"
-- globals and keywords. Names starting with "_" only when asked for.
function M.complete(text)
  local head, sep, part = text:match("^(.*)([.:])([%w_]*)$")
  local found, prefix
  if head == nil then
    if not text:match("^[%a_]?[%w_]*$") then return {} end
    part, prefix = text, ""
    found = members(_G)
    for _, k in ipairs(KEYWORDS) do found[k] = found[k] or FIELD end
  else
    if not (head:match("^[%a_][%w_]*$") or head:match("^[%a_][%w_]*%.[%a_][%w_.]*[%w_]$")) then
      return {}
    end
    local obj = resolve(head)
    if obj == nil then return {} end
    found, prefix = members(obj), head .. sep
  end
  local out = {}
  local hidden = part:sub(1, 1) ~= "_"
  for k, v in pairs(found) do
    if k:sub(1, #part) == part and k:match("^[%a_][%w_]*$")
        and not (hidden and k:sub(1, 1) == "_")
        and not (head and is_keyword[k])
        and (sep ~= ":" or type(v) == "function") then
      out[#out + 1] = prefix .. k
    end
  end
  table.sort(out)
  return out
end

-- ---- help ---------------------------------------------------------------------------

local WIDTH = 78

local function wrap(text, indent)
  local lines, line = {}, indent
  for word in text:gmatch("%S+") do
    if #line > #indent and #line + 1 + #word > WIDTH then
      lines[#lines + 1] = line
      line = indent .. word
    else
      line = line .. (#line > #indent and " " or "") .. word
    end
  end
  if #line > #indent then lines[#lines + 1] = line end
  return table.concat(lines, "\n")
end

local docs  -- lucid.help, loaded on the first help()

local function load_docs()
  docs = docs or require("lucid.help")
  return docs
end

-- value -> the doc name it goes by ("lucid.tanh", "nn.Linear", ...).
local function value_names()
  local names = {}
  local function scan(tbl, prefix)
    if type(tbl) ~= "table" then return end
    local keys = {}
    for k, v in next, tbl do
      if type(k) == "string" and (type(v) == "function" or type(v) == "table") then keys[#keys + 1] = k end
    end
    table.sort(keys)  -- stable: lucid.Tensor before lucid.tensor
    for _, k in ipairs(keys) do
      local v = rawget(tbl, k)
      if names[v] == nil then names[v] = prefix .. k end
    end
  end
  local nn = lucid.nn
  local optim = rawget(lucid, "optim") or package.loaded["lucid.optim"]
  local data = rawget(lucid, "data") or package.loaded["lucid.data"]
  names[lucid], names[nn], names[C._methods] = "lucid", "nn", "Tensor"
  local parts = {  -- what to scan, in order: the first name found for a value wins
    {lucid, "lucid."}, {C._methods, "lucid."},  -- t:f(...) is lucid.f(t, ...)
    {nn, "nn."}, {nn.functional, "nn.functional."}, {rawget(nn, "utils"), "nn.utils."},
    {rawget(nn, "init"), "nn.init."}, {nn.Module, "nn.Module:"},
    {lucid.autograd, "lucid.autograd."}, {lucid.linalg, "lucid.linalg."},
    {optim, "optim."}, {type(optim) == "table" and rawget(optim, "Optimizer"), "optim.Optimizer:"},
    {type(optim) == "table" and rawget(optim, "lr_scheduler"), "optim.lr_scheduler."},
    {data, "lucid.data."},
  }
  for _, part in ipairs(parts) do
    if type(part[1]) == "table" and names[part[1]] == nil then names[part[1]] = part[2]:sub(1, -2) end
  end
  for _, part in ipairs(parts) do scan(part[1], part[2]) end
  return names
end

-- Lua's own functions and libraries: name -> true, for a pointer to the manual.
local function standard_names()
  local std = {}
  for _, lib in ipairs({"string", "table", "math", "io", "os", "coroutine", "utf8", "debug", "package"}) do
    local t = rawget(_G, lib)
    if type(t) == "table" then
      std[t] = lib
      for k, v in pairs(t) do
        if type(v) == "function" then std[v] = lib .. "." .. k end
      end
    end
  end
  for _, k in ipairs({"assert", "collectgarbage", "dofile", "error", "getmetatable", "ipairs", "load",
                      "loadfile", "next", "pairs", "pcall", "print", "rawequal", "rawget", "rawlen",
                      "rawset", "require", "select", "setmetatable", "tonumber", "tostring", "type",
                      "warn", "xpcall"}) do
    local v = rawget(_G, k)
    if v ~= nil then std[v] = k end
  end
  return std
end

-- The doc entry for a name as typed: "matmul", "t:backward", "Linear", "F.tanh".
local function find_name(s)
  local d = load_docs().entries
  if d[s] then return s end
  local bare = s:gsub("^lucid%.nn%.", "nn."):gsub("^F%.", "nn.functional.")
  if d[bare] then return bare end
  bare = bare:gsub("^%a+[:.]", "", 1)  -- t:backward, x.shape, Tensor:sum, torch.tanh
  for _, p in ipairs({"lucid.", "Tensor.", "nn.", "nn.Module:", "nn.functional.", "lucid.autograd.",
                      "optim.", "optim.Optimizer:", "optim.lr_scheduler.", "nn.utils.", "nn.init.",
                      "lucid.data."}) do
    if d[p .. bare] then return p .. bare end
  end
  for _, p in ipairs({"lucid.", "nn.", "nn.Module:"}) do
    if d[p .. s] then return p .. s end
  end
  return nil
end

-- Whether a doc name exists in this build (help.lua may be ahead of it).
local function exists(name)
  if name:match("^Tensor") then return true end
  local root = {lucid = lucid, nn = lucid.nn}
  if resolve((name:gsub(":", ".")), root) ~= nil then return true end
  local short = name:match("^lucid%.([%w_]+)$")
  return short ~= nil and rawget(C._methods, short) ~= nil
end

local function print_entry(name)
  local e = load_docs().entries[name]
  io.stdout:write(e.usage, "\n", wrap(e.text, "  "), "\n")
end

local function print_topics()
  local h = load_docs()
  local out = {wrap("Lucid for Lua: tensors, autograd and nn modules, PyTorch's API the Lua way "
    .. "(1-based dims, methods with `:`). help(x) explains x: a function (help(lucid.tanh)), "
    .. "a class (help(nn.Linear)), a name (help(\"matmul\"), help(\"t:backward\")) or a "
    .. "value (help(t), help(model)). Tab completes names.", ""), ""}
  for _, sec in ipairs(h.sections) do
    local shown = {}
    for _, name in ipairs(sec.names) do
      if exists(name) then shown[#shown + 1] = (name:gsub("^lucid%.", "")) end
    end
    if #shown > 0 then
      out[#out + 1] = sec.title .. ":"
      out[#out + 1] = wrap(table.concat(shown, " "), "  ")
    end
  end
  io.stdout:write(table.concat(out, "\n"), "\n")
end

-- Up to 8 names that contain s, for "did you mean".
local function suggestions(s)
  local out = {}
  for name in pairs(load_docs().entries) do
    if name:lower():find(s:lower(), 1, true) then out[#out + 1] = name end
  end
  table.sort(out)
  return table.concat(out, " ", 1, math.min(#out, 8))
end

local function describe_class(cls, what)
  local own = {}
  for k, v in pairs(cls) do
    if type(v) == "function" and type(k) == "string" and k:sub(1, 1) ~= "_" then own[#own + 1] = k end
  end
  table.sort(own)
  local name = rawget(cls, "__name") or "?"
  io.stdout:write(what, " ", name, ", an nn.Module class of your own",
    #own > 0 and " (its methods: " .. table.concat(own, ", ") .. ")" or "", ".\n",
    wrap("help(nn.Module) lists what every module has: parameters(), named_parameters(), "
      .. "state_dict(), train(), eval(), zero_grad() and printing as a tree.", "  "), "\n")
end

--- help(): the topics. help(x): one paragraph about x, a library function,
-- class, module table, tensor, model, or a name as a string ("matmul").
function M.help(...)
  if select("#", ...) == 0 then return print_topics() end
  local x = ...
  local h = load_docs()
  local name
  if type(x) == "string" then
    name = find_name(x)
    if not name then
      local sug = suggestions(x)
      io.stdout:write("no help for '", x, "'", sug ~= "" and "; related: " .. sug or "",
        ". help() lists the topics.\n")
      return
    end
  elseif C.is_tensor(x) then
    name = "Tensor"
  else
    local names = value_names()
    name = names[x]
    local mt = type(x) == "table" and getmetatable(x) or nil
    if name == nil and type(mt) == "table" then  -- an instance (a model, an optimizer): its class
      name = names[mt]
      if name == nil and is_module_instance(x) then return describe_class(mt, "an instance of") end
    end
    if name == nil and type(x) == "table" and rawget(x, "__index") ~= nil and rawget(x, "super") then
      return describe_class(x, "the class")
    end
    if name == nil then
      local std = standard_names()[x]
      if std then
        io.stdout:write(std, " is part of Lua's standard library: see the Lua 5.4 manual, "
          .. "https://www.lua.org/manual/5.4/manual.html#6\n")
        return
      end
      if type(x) == "function" then
        local info = debug.getinfo(x, "S")
        if info.what == "Lua" then
          io.stdout:write("a Lua function defined at ", info.short_src, ":", info.linedefined, ".\n")
          return
        end
      end
      io.stdout:write("no help for this ", type(x), " value. help() lists the topics.\n")
      return
    end
  end
  if h.entries[name] then return print_entry(name) end
  io.stdout:write(name, ": no help text yet. help() lists the topics.\n")
end

--- The public names of the library that have no help entry (for a spec).
function M.undocumented()
  local d, out = load_docs().entries, {}
  for v, name in pairs(value_names()) do
    local short = name:match("[.:]([^.:]+)$") or name
    if type(v) == "function" and not d[name] and short:sub(1, 1) ~= "_" then out[#out + 1] = name end
  end
  table.sort(out)
  local seen, uniq = {}, {}
  for _, n in ipairs(out) do
    if not seen[n] then seen[n] = true uniq[#uniq + 1] = n end
  end
  return uniq
end

return M
