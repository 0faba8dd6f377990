--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.ModuleList(modules): holds submodules in a list, registered as
-- children "1", "2", ... (so state dict keys read "1.weight"). It has no
-- forward: a model's forward walks it.
--
--   self.layers = nn.ModuleList{nn.Linear(4, 4), nn.Linear(4, 4)}
--   for i, layer in ipairs(self.layers) do x = layer(x) end
--
-- ml[i] (negative from the end), ml[i] = m (an existing index, or #ml + 1),
-- #ml, ml:append(m), ml:extend(list), ml:insert(i, m), ml:iter(), and
-- ipairs(ml) / pairs(ml) in order.
local args = require("lucid._args")
local raise = args.raise
local nn = require("lucid.nn")
local compat = require("lucid._compat")

--- Holds submodules in a list (children "1", "2", ...), without a forward: your
-- forward walks it, `for i, layer in ipairs(self.layers) do x = layer(x) end`.
-- ml[i], #ml, ml:append(m), ml:extend(list), ml:insert(i, m).
-- @function ModuleList
-- @usage nn.ModuleList({m1, m2, ...})
-- @within nn: more layers
local ModuleList = nn.Module:extend("ModuleList")
local is_module = nn.Module.is_module
local base_index, base_newindex = ModuleList.__index, ModuleList.__newindex

local function check_module(m, what)
  if not is_module(m) then
    raise("nn.ModuleList: %s is a %s, expected a Module", what, type(m))
  end
end

ModuleList.schema = args.schema("nn.ModuleList", {
  {"modules", nil, "table"},
})

-- nn.ModuleList(modules) with an array of modules, nn.ModuleList(m1, m2, ...),
-- or nn.ModuleList{modules = {...}}.
function ModuleList:__init(...)
  local n = select("#", ...)
  local items = {...}
  local list
  if n > 0 and args.is_names(items[n]) then     -- a table of names: {} or {modules = ...}
    list = ModuleList.schema:parse(items[n])
    items[n], n = nil, n - 1
    if list ~= nil and n > 0 then
      raise("nn.ModuleList: option 'modules' given twice (positionally and by name)")
    end
  end
  if list == nil then
    if n == 1 and type(items[1]) == "table" and not is_module(items[1]) then list = items[1]
    else list = items end
  end
  for i, m in ipairs(list) do
    check_module(m, "item " .. i)
    self:add_module(tostring(i), m)
  end
end

-- A 1-based position from i (negative counts from the end), or nil.
local function position(self, i)
  local n = #self._module_names
  if i < 0 then i = n + 1 + i end
  if i >= 1 and i <= n then return i end
end

function ModuleList.__index(self, k)
  if compat.math_type(k) == "integer" then
    local i = position(self, k)
    return i and self._modules[tostring(i)] or nil
  end
  return base_index(self, k)
end

function ModuleList.__newindex(self, k, v)
  if compat.math_type(k) == "integer" then
    local n = #self._module_names
    local i = k == n + 1 and k or position(self, k)
    if not i then
      raise(string.format("nn.ModuleList: index %d is out of range (the list has %d modules)", k, n))
    end
    if not is_module(v) then
      raise(string.format("nn.ModuleList: item %d is a %s, expected a Module", k, type(v)))
    end
    self:add_module(tostring(i), v)
    return
  end
  base_newindex(self, k, v)
end

--- ml:len(): the number of modules; #ml is the same on Lua 5.2+ (the `#` of
-- Lua 5.1 and LuaJIT ignores __len on tables).
-- @function ModuleList:len
-- @usage nn.ModuleList:len()
-- @within nn: modules
function ModuleList.len(self)
  return #self._module_names
end
ModuleList.__len = ModuleList.len

--- for i, m in ml:iter() do ... end
-- @function ModuleList:iter
-- @usage nn.ModuleList:iter()
-- @within nn: more layers
function ModuleList:iter()
  local i, n = 0, #self._module_names
  return function()
    i = i + 1
    if i <= n then return i, self._modules[tostring(i)] end
  end
end

ModuleList.__pairs = function(self) return self:iter() end

--- ml:append(m): adds m at the end; returns ml.
-- @function ModuleList:append
-- @usage nn.ModuleList:append(m)
-- @within nn: more layers
function ModuleList:append(m)
  check_module(m, "the appended value")
  self:add_module(tostring(#self._module_names + 1), m)
  return self
end

--- ml:extend(list): appends every module of an array (or another ModuleList).
-- @function ModuleList:extend
-- @usage nn.ModuleList:extend(list)
-- @within nn: more layers
function ModuleList:extend(list)
  local items = {}
  if getmetatable(list) == ModuleList then
    for _, m in list:iter() do items[#items + 1] = m end
  elseif type(list) == "table" and not is_module(list) then
    items = list
  else
    raise("nn.ModuleList:extend: expected an array of modules, got " .. type(list))
  end
  for i, m in ipairs(items) do
    check_module(m, "item " .. i)
    self:add_module(tostring(#self._module_names + 1), m)
  end
  return self
end

--- ml:insert(i, m): m at position i (1..#ml + 1, negative from the end), the
-- modules from i on moving up by one.
-- @function ModuleList:insert
-- @usage nn.ModuleList:insert(i, m)
-- @within nn: more layers
function ModuleList:insert(i, m)
  local n = #self._module_names
  if compat.math_type(i) ~= "integer" then raise("nn.ModuleList:insert: index must be an integer") end
  if i < 0 then i = n + 1 + i end
  if i < 1 or i > n + 1 then
    raise(string.format("nn.ModuleList:insert: index %d is out of range 1..%d", i, n + 1))
  end
  check_module(m, "the inserted value")
  local mods = {}
  for j = 1, n do mods[j] = self._modules[tostring(j)] end
  table.insert(mods, i, m)
  for j = 1, n do self:add_module(tostring(j), nil) end
  for j, mod in ipairs(mods) do self:add_module(tostring(j), mod) end
  return self
end

function ModuleList:forward()
  raise("nn.ModuleList: it has no forward; call its modules in your own forward")
end

return ModuleList
