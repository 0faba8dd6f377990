--- nn.Hardtanh(min_val = -1.0, max_val = 1.0): y = clamp(x, min_val, max_val).
-- As in PyTorch the gradient passes only strictly inside (min_val, max_val):
-- it is 0 at the bounds themselves.
local raise = require("lucid._args").raise
local lucid = require("lucid")
local nn = require("lucid.nn")

local Hardtanh = nn.Module:extend("Hardtanh")

function Hardtanh:__init(min_val, max_val, inplace)
  if type(min_val) == "table" then
    local o = min_val
    min_val, max_val, inplace = o.min_val, o.max_val, o.inplace
  end
  if min_val == nil then min_val = -1.0 end
  if max_val == nil then max_val = 1.0 end
  if type(min_val) ~= "number" or type(max_val) ~= "number" then
    raise("nn.Hardtanh: min_val and max_val must be numbers")
  end
  if not (max_val > min_val) then
    raise(string.format("nn.Hardtanh: max_val (%s) must be greater than min_val (%s)",
      tostring(max_val), tostring(min_val)))
  end
  if inplace then raise("nn.Hardtanh: inplace = true is not supported (layers return new tensors)") end
  self.min_val, self.max_val = min_val, max_val
end

function Hardtanh:forward(x)
  local inside = lucid.gt(x, self.min_val) * lucid.lt(x, self.max_val)
  return lucid.where(inside, x, lucid.clamp(x, self.min_val, self.max_val):detach())
end

function Hardtanh:extra_repr()
  return string.format("min_val=%s, max_val=%s", tostring(self.min_val), tostring(self.max_val))
end

return Hardtanh
