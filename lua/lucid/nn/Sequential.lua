--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.Sequential(m1, m2, ...): calls its modules in order. Children are named
-- "1", "2", ... (1-based, as Lua counts), so seq[2] is the second module and
-- state dict keys read "1.weight".
local args = require("lucid._args")
local raise = args.raise
local nn = require("lucid.nn")

--- Calls its modules in order, each on the previous one's output. Children are
-- named "1", "2", ... so seq[2] is the second and state-dict keys read
-- "1.weight"; #seq counts them and seq:append(m) adds one.
-- @function Sequential
-- @usage nn.Sequential(m1, m2, ...)  or  nn.Sequential({m1, m2, ...})
-- @within nn: modules
-- @aka lucid.nn.Sequential
local Sequential = nn.Module:extend("Sequential")

-- Sequential takes modules only: a table of names after them (or alone) is
-- checked like any options table, and refused since it names no option.
Sequential.schema = args.schema("nn.Sequential", {})

function Sequential:__init(...)
  local mods, n = {...}, select("#", ...)
  if n > 0 and args.is_names(mods[n]) then
    Sequential.schema:check_names(mods[n])
    mods[n], n = nil, n - 1
  end
  if n == 1 and type(mods[1]) == "table" and not nn.Module.is_module(mods[1]) then
    mods = mods[1]  -- one array of modules
  end
  for i, m in ipairs(mods) do
    if not nn.Module.is_module(m) then
      raise(string.format("nn.Sequential: argument %d is a %s, expected a Module", i, type(m)))
    end
    self:add_module(tostring(i), m)
  end
end

function Sequential:forward(x)
  local modules = self._modules
  for _, name in ipairs(self._module_names) do
    x = modules[name](x)
  end
  return x
end

--- seq:len(): the number of modules; #seq is the same on Lua 5.2+ (the `#` of
-- Lua 5.1 and LuaJIT ignores __len on tables).
-- @function Sequential:len
-- @usage nn.Sequential:len()
-- @within nn: modules
function Sequential.len(self)
  return #self._module_names
end
Sequential.__len = Sequential.len

--- seq:append(m): adds m at the end.
-- @function Sequential:append
-- @usage nn.Sequential:append(m)
-- @within nn: modules
function Sequential:append(m)
  self:add_module(tostring(#self._module_names + 1), m)
  return self
end

return Sequential
