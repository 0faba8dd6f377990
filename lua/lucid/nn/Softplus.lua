--- nn.Softplus(beta = 1, threshold = 20): y = log(1 + exp(beta x)) / beta,
-- and y = x where beta x > threshold (for numerical stability), as PyTorch.
local lucid = require("lucid")
local nn = require("lucid.nn")

local Softplus = nn.Module:extend("Softplus")

function Softplus:__init(beta, threshold)
  if type(beta) == "table" then beta, threshold = beta.beta, beta.threshold end
  beta, threshold = beta or 1, threshold or 20
  for name, v in pairs({beta = beta, threshold = threshold}) do
    if type(v) ~= "number" then
      error(string.format("nn.Softplus: %s must be a number, got %s", name, type(v)), 3)
    end
  end
  self.beta, self.threshold = beta, threshold
end

function Softplus:forward(x)
  return lucid.softplus(x, self.beta, self.threshold)
end

function Softplus:extra_repr()
  return string.format("beta=%s, threshold=%s", tostring(self.beta), tostring(self.threshold))
end

return Softplus
