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

function ELU:forward(x)
  return ELU.elu(x, self.alpha)
end

function ELU:extra_repr()
  return "alpha=" .. tostring(self.alpha)
end

return ELU
