--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.LeakyReLU(negative_slope = 0.01): y = x for x > 0, negative_slope * x
-- otherwise; the gradient at 0 is negative_slope (as PyTorch).
local args = require("lucid._args")
local lucid = require("lucid")
local nn = require("lucid.nn")

--- x for x > 0, negative_slope * x otherwise.
-- @function LeakyReLU
-- @usage nn.LeakyReLU([negative_slope = 0.01])
-- @within nn: more layers
local LeakyReLU = nn.Module:extend("LeakyReLU")

LeakyReLU.schema = args.schema("nn.LeakyReLU", {
  {"negative_slope", 0.01, "number"},
  {"inplace", false, args.not_true("layers return new tensors")},
})

function LeakyReLU:__init(...)
  self.negative_slope = LeakyReLU.schema:parse(...)
end

local buffer = nn.Module._buffer

function LeakyReLU:forward(x)
  local out = rawget(self, "_reuse") and buffer(self, x)
  if out then
    -- reusing buffers: relu(x) + slope min(x, 0) with out= and in-place ops
    -- (the same values as the where below: one of the two terms is 0)
    local pos = lucid.relu(x, buffer(self, x, nil, "_out2"))
    lucid.clamp(x, nil, 0, out):mul_(self.negative_slope)
    return out:add_(pos)
  end
  return lucid.where(lucid.gt(x, 0), x, x * self.negative_slope)
end

function LeakyReLU:extra_repr()
  return "negative_slope=" .. tostring(self.negative_slope)
end

return LeakyReLU
