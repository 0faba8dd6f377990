--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.ModuleDict(modules): holds submodules by name, registered in
-- insertion order (state dict keys read "name.weight"). It has no forward.
--
--   self.heads = nn.ModuleDict{{"cls", nn.Linear(8, 3)}, {"box", nn.Linear(8, 4)}}
--   local y = self.heads["cls"](x)          -- or self.heads.cls(x)
--
-- The constructor takes an array of {name, module} pairs (kept in that
-- order) or a table name -> module (Lua tables have no order: sorted by
-- name). md[name], md[name] = m (nil removes it), #md, md:keys(),
-- md:values(), md:items() (arrays, insertion order), md:contains(name),
-- md:update(modules), md:pop(name), md:clear(), pairs(md) in order.
local args = require("lucid._args")
local raise = args.raise
local nn = require("lucid.nn")
local compat = require("lucid._compat")

--- Holds submodules by name (insertion order; a plain table is sorted by name),
-- without a forward: md.name(x) or md["name"](x). #md, md:keys(), md:values(),
-- md:items(), md:contains(name), md:update(t), md:pop(name), md:clear().
-- @function ModuleDict
-- @usage nn.ModuleDict({{"name", m}, ...})  or  nn.ModuleDict{name = m, ...}
-- @within nn: more layers
local ModuleDict = nn.Module:extend("ModuleDict")
local is_module = nn.Module.is_module
local base_newindex = ModuleDict.__newindex

local function check_entry(self, name, m)
  if type(name) ~= "string" then
    raise("nn.ModuleDict: keys must be strings, got " .. type(name))
  end
  if m ~= nil and not is_module(m) then
    raise(string.format("nn.ModuleDict: \"%s\" is a %s, expected a Module", name, type(m)))
  end
  -- a name that is a method would hide it (md:keys() would break)
  if self._modules[name] == nil and (ModuleDict[name] ~= nil or rawget(self, name) ~= nil) then
    raise(string.format("nn.ModuleDict: \"%s\" is the name of a method and cannot be a key", name))
  end
end

function ModuleDict.__newindex(self, k, v)
  check_entry(self, k, v, 2)
  base_newindex(self, k, v)
end

-- The {name, module} pairs of an array of pairs, a name -> module table or
-- another ModuleDict, in order.
local function entries(modules, fname)
  local out = {}
  if modules == nil then return out end
  if getmetatable(modules) == ModuleDict then
    for _, name in ipairs(modules._module_names) do out[#out + 1] = {name, modules._modules[name]} end
    return out
  end
  if type(modules) ~= "table" or is_module(modules) then
    raise(fname .. ": expected a table of modules, got " .. type(modules))
  end
  if #modules > 0 then
    for i, e in ipairs(modules) do
      if type(e) ~= "table" or is_module(e) or #e ~= 2 then
        raise(string.format("%s: item %d must be a pair {name, module}", fname, i))
      end
      out[#out + 1] = {e[1], e[2]}
    end
    return out
  end
  local names = {}
  for k in pairs(modules) do names[#names + 1] = k end
  table.sort(names, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(names) do out[#out + 1] = {k, modules[k]} end
  return out
end

-- Adds every entry in order.
local function add_all(self, modules)
  for _, e in ipairs(entries(modules, "nn.ModuleDict")) do
    check_entry(self, e[1], e[2])
    if e[2] == nil then raise(string.format("nn.ModuleDict: \"%s\" has no module", e[1])) end
    base_newindex(self, e[1], e[2])
  end
end

-- modules is always the positional table (a name -> module table looks like
-- names), so options can only follow it: ModuleDict(modules, {...}).
ModuleDict.schema = args.schema("nn.ModuleDict", {
  {"modules", nil, "table", table_arg = true},
})

function ModuleDict:__init(...)
  add_all(self, (ModuleDict.schema:parse(...)))
end

--- md:update(modules): adds (or replaces) every entry, in order.
-- @function ModuleDict:update
-- @usage nn.ModuleDict:update(modules)
-- @within nn: more layers
function ModuleDict:update(modules)
  add_all(self, modules)
  return self
end

--- md:len(): the number of modules; #md is the same on Lua 5.2+ (the `#` of
-- Lua 5.1 and LuaJIT ignores __len on tables).
-- @function ModuleDict:len
-- @usage nn.ModuleDict:len()
-- @within nn: modules
function ModuleDict.len(self)
  return #self._module_names
end
ModuleDict.__len = ModuleDict.len

--- An array of the names, in insertion order.
-- @function ModuleDict:keys
-- @usage nn.ModuleDict:keys()
-- @within nn: more layers
function ModuleDict:keys()
  return compat.move(self._module_names, 1, #self._module_names, 1, {})
end

--- An array of the modules, in insertion order.
-- @function ModuleDict:values
-- @usage nn.ModuleDict:values()
-- @within nn: more layers
function ModuleDict:values()
  local out = {}
  for i, name in ipairs(self._module_names) do out[i] = self._modules[name] end
  return out
end

--- An array of {name, module} pairs, in insertion order.
-- @function ModuleDict:items
-- @usage nn.ModuleDict:items()
-- @within nn: more layers
function ModuleDict:items()
  local out = {}
  for i, name in ipairs(self._module_names) do out[i] = {name, self._modules[name]} end
  return out
end

function ModuleDict:contains(name)
  return self._modules[name] ~= nil
end

--- md:pop(name): removes the entry and returns its module.
-- @function ModuleDict:pop
-- @usage nn.ModuleDict:pop(name)
-- @within nn: more layers
function ModuleDict:pop(name)
  local m = self._modules[name]
  if m == nil then
    local shown = tostring(name)  -- a long key (a tensor's text) is cut
    if #shown > 60 then shown = shown:sub(1, 57) .. "..." end
    raise("nn.ModuleDict:pop: no module named \"" .. shown .. "\"")
  end
  base_newindex(self, name, nil)
  return m
end

function ModuleDict:clear()
  for _, name in ipairs(self:keys()) do base_newindex(self, name, nil) end
end

ModuleDict.__pairs = function(self)
  local names, i = self:keys(), 0
  return function()
    i = i + 1
    local name = names[i]
    if name ~= nil then return name, self._modules[name] end
  end
end

function ModuleDict:forward()
  raise("nn.ModuleDict: it has no forward; call its modules in your own forward")
end

return ModuleDict
