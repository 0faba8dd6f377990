--- lucid._iter: what lucid.data and lucid.progress share about the objects
-- they iterate over (datasets, loaders, arrays). Internal: not part of the
-- API, and free of other lucid modules, so either can require it first.
local M = {}

--- Whether v is a whole number: an integer, or a float with an integral
-- value below 2^53 (so not NaN or an infinity).
function M.is_integer(v)
  return math.type(v) == "integer" or (math.type(v) == "float" and v == math.floor(v) and v == v
    and math.abs(v) < 2^53)
end

--- #obj when it is a non-negative integer, else nil (also when # raises).
function M.length_of(obj)
  local ok, n = pcall(function() return #obj end)
  if ok and math.type(n) == "integer" and n >= 0 then return n end
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
