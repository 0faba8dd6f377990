--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.Hardtanh(min_val = -1.0, max_val = 1.0): y = clamp(x, min_val, max_val).
-- As in PyTorch the gradient passes only strictly inside (min_val, max_val):
-- it is 0 at the bounds themselves.
local args = require("lucid._args")
local raise = args.raise
local lucid = require("lucid")
local nn = require("lucid.nn")

--- clamp(x, min_val, max_val); the gradient passes only strictly inside.
-- @function Hardtanh
-- @usage nn.Hardtanh([min_val = -1 [, max_val = 1]])
-- @within nn: more layers
local Hardtanh = nn.Module:extend("Hardtanh")

Hardtanh.schema = args.schema("nn.Hardtanh", {
  {"min_val", -1.0, "number"},
  {"max_val", 1.0, "number"},
  {"inplace", false, args.not_true("layers return new tensors")},
})

function Hardtanh:__init(...)
  local min_val, max_val = Hardtanh.schema:parse(...)
  if not (max_val > min_val) then
    raise(string.format("nn.Hardtanh: max_val (%s) must be greater than min_val (%s)",
      tostring(max_val), tostring(min_val)))
  end
  self.min_val, self.max_val = min_val, max_val
end

local buffer = nn.Module._buffer

function Hardtanh:forward(x)
  -- without a graph the values are clamp's (the where below is for the
  -- gradient at the bounds): written into the buffer when reusing buffers
  local out = rawget(self, "_reuse") and buffer(self, x)
  if out then return lucid.clamp(x, self.min_val, self.max_val, out) end
  local inside = lucid.gt(x, self.min_val) * lucid.lt(x, self.max_val)
  return lucid.where(inside, x, lucid.clamp(x, self.min_val, self.max_val):detach())
end

function Hardtanh:extra_repr()
  return string.format("min_val=%s, max_val=%s", tostring(self.min_val), tostring(self.max_val))
end

return Hardtanh
