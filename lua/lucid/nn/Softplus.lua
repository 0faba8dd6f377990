--- nn.Softplus(beta = 1, threshold = 20): y = log(1 + exp(beta x)) / beta,
-- and y = x where beta x > threshold (for numerical stability), as PyTorch.
local raise = require("lucid._args").raise
local lucid = require("lucid")
local nn = require("lucid.nn")

local check = require("lucid.nn._check")

local Softplus = nn.Module:extend("Softplus")

function Softplus:__init(beta, threshold)
  if type(beta) == "table" then beta, threshold = beta.beta, beta.threshold end
  if beta == nil then beta = 1 end
  if threshold == nil then threshold = 20 end
  if type(beta) ~= "number" then
    raise("nn.Softplus: beta must be a number, got " .. type(beta))
  end
  if type(threshold) ~= "number" then
    raise("nn.Softplus: threshold must be a number, got " .. type(threshold))
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
