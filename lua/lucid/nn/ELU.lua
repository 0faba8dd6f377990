--- nn.ELU(alpha = 1.0): y = x for x > 0, alpha * (exp(x) - 1) otherwise.
-- The exponential only sees min(x, 0), so large inputs neither overflow nor
-- turn the gradient into NaN.
local raise = require("lucid._args").raise
local lucid = require("lucid")
local nn = require("lucid.nn")

local ELU = nn.Module:extend("ELU")

function ELU:__init(alpha, inplace)
  if type(alpha) == "table" then alpha, inplace = alpha.alpha, alpha.inplace end
  if alpha == nil then alpha = 1.0 end
  if type(alpha) ~= "number" then raise("nn.ELU: alpha must be a number, got " .. type(alpha)) end
  if inplace then raise("nn.ELU: inplace = true is not supported (layers return new tensors)") end
  self.alpha = alpha
end

--- The ELU of x (shared with nn.SELU).
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
