--- lucid._iter: what lucid.data and lucid.progress share about the objects
-- they iterate over (datasets, loaders, arrays). Internal: not part of the
-- API, and free of other lucid modules (but _compat), so either can require it first.
local compat = require("lucid._compat")

local M = {}

--- Whether v is a whole number: an integer, or a float with an integral
-- value below 2^53 (so not NaN or an infinity).
M.is_integer = compat.is_integer

--- #obj when it is a non-negative integer, else nil (also when # raises).
-- A table's __len is called directly: Lua 5.1 and LuaJIT's `#` ignore it.
function M.length_of(obj)
  local mt = type(obj) == "table" and getmetatable(obj) or nil
  local len = type(mt) == "table" and rawget(mt, "__len") or nil
  local ok, n = pcall(function()
    if len then return len(obj, obj) end
    return #obj
  end)
  if ok and compat.math_type(n) == "integer" and n >= 0 then return n end
  return nil
end

--- A method of obj found without calling any __index function (a dataset's
-- __index function expects item numbers, not method names): obj's own field,
-- then along the chain of __index tables, then the metatable itself (methods
-- kept there). Nil unless it is a function.
function M.find_method(obj, name)
  local v = type(obj) == "table" and rawget(obj, name) or nil
  local mt = getmetatable(obj)
  local idx = type(mt) == "table" and mt.__index or nil
  local depth = 0
  while v == nil and type(idx) == "table" and depth < 100 do
    v = rawget(idx, name)
    local m = getmetatable(idx)
    idx = type(m) == "table" and m.__index or nil
    depth = depth + 1
  end
  if v == nil and type(mt) == "table" then v = rawget(mt, name) end  -- methods kept in the metatable
  return type(v) == "function" and v or nil
end

return M
