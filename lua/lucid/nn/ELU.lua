--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.ELU(alpha = 1.0): y = x for x > 0, alpha * (exp(x) - 1) otherwise.
-- The exponential only sees min(x, 0), so large inputs neither overflow nor
-- turn the gradient into NaN.
local args = require("lucid._args")
local lucid = require("lucid")
local nn = require("lucid.nn")

--- x for x > 0, alpha * (exp(x) - 1) otherwise; stable for large inputs.
-- @function ELU
-- @usage nn.ELU([alpha = 1.0])
-- @within nn: more layers
local ELU = nn.Module:extend("ELU")

ELU.schema = args.schema("nn.ELU", {
  {"alpha", 1.0, "number"},
  {"inplace", false, args.not_true("layers return new tensors")},
})

function ELU:__init(...)
  self.alpha = ELU.schema:parse(...)
end

-- The ELU of x (shared with nn.SELU).
function ELU.elu(x, alpha)
  -- clamp (not minimum) so that the gradient at exactly 0 is alpha, as PyTorch's
  local neg = lucid.expm1(lucid.clamp(x, nil, 0)) * alpha
  return lucid.where(lucid.gt(x, 0), x, neg)
end

local buffer = nn.Module._buffer

function ELU:forward(x)
  local out = rawget(self, "_reuse") and buffer(self, x)
  if out then
    -- reusing buffers: alpha expm1(min(x, 0)) + relu(x) with out= and
    -- in-place ops (the same values as elu's where: one term is 0)
    local pos = lucid.relu(x, buffer(self, x, nil, "_out2"))
    lucid.expm1(lucid.clamp(x, nil, 0, out), out):mul_(self.alpha)
    return out:add_(pos)
  end
  return ELU.elu(x, self.alpha)
end

function ELU:extra_repr()
  return "alpha=" .. tostring(self.alpha)
end

return ELU
