--- Argument checks shared by the built-in layers (internal: the "_" keeps
-- it out of listings). Every error names the layer ("nn.Linear: ...").
-- `level` is error()'s level as seen from the function calling the check.
local C = require("lucid.core")

local M = {}

-- A short description of v for a message: numbers and nil as themselves,
-- anything else by its type (never a __tostring that could raise).
local function describe(v)
  if v == nil or type(v) == "number" or type(v) == "boolean" then return tostring(v) end
  if C.is_tensor(v) then return "a tensor" end
  return type(v)
end
M.describe = describe

--- A size: a non-negative integer (integer-valued floats accepted, as
-- everywhere sizes are taken); `min` (default 0) is the smallest allowed.
-- Returns it as an integer.
function M.size(layer, name, v, level, min)
  min = min or 0
  local i = type(v) == "number" and math.tointeger(v) or nil
  if i == nil or i < min then
    error(string.format("nn.%s: %s must be a %s integer, got %s", layer, name,
      min > 0 and "positive" or "non-negative", describe(v)), level + 1)
  end
  return i
end

--- An integer (integer-valued floats accepted), or nil when `optional`.
function M.integer(layer, name, v, level, optional)
  if v == nil and optional then return nil end
  local i = type(v) == "number" and math.tointeger(v) or nil
  if i == nil then
    error(string.format("nn.%s: %s must be an integer%s, got %s", layer, name,
      optional and " or nil" or "", describe(v)), level + 1)
  end
  return i
end

--- A number.
function M.number(layer, name, v, level)
  if type(v) ~= "number" then
    error(string.format("nn.%s: %s must be a number, got %s", layer, name, describe(v)), level + 1)
  end
  return v
end

--- The input of a forward: a tensor.
function M.tensor(layer, x, level, what)
  if not C.is_tensor(x) then
    error(string.format("nn.%s: expected a tensor%s, got %s", layer, what and (" " .. what) or "",
      type(x)), level + 1)
  end
  return x
end

-- The most elements a parameter may have: past this, the byte size of a
-- float64 tensor no longer fits (the library refuses such shapes anyway;
-- checking first keeps the error about the layer, before any allocation).
local MAX_NUMEL = math.maxinteger // 8

--- Checks that a parameter of the given sizes can exist (the product of the
-- non-zero sizes does not overflow), naming the layer and the parameter.
function M.numel(layer, what, level, ...)
  local n, sizes = 1, {...}
  for _, d in ipairs(sizes) do
    if d > 0 then
      if n > MAX_NUMEL // d then
        error(string.format("nn.%s: the %s would have %s elements: too many for a tensor", layer,
          what, table.concat(sizes, " * ")), level + 1)
      end
      n = n * d
    end
  end
end

--- Runs make(...) (a tensor constructor) and re-raises a failure, other than
-- a memory error, with the layer's name in front.
function M.make(layer, what, level, make, ...)
  local ok, t = pcall(make, ...)
  if ok then return t end
  if t == "not enough memory" or type(t) ~= "string" then error(t, 0) end
  error(string.format("nn.%s: cannot make the %s: %s", layer, what, (t:gsub("^[^\n:]+:%d+: ", ""))),
    level + 1)
end

return M
