--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.LocalResponseNorm(size [, alpha = 1e-4, beta = 0.75, k = 1]):
-- F.local_response_norm as a layer (lucid/nn/_norm.lua).
local nn = require("lucid.nn")
local args = require("lucid._args")
local norm = require("lucid.nn._norm")

--- Divides each element of {N, C, ...} by (k + alpha * the mean of x^2 over
-- size neighbouring channels)^beta, as PyTorch's LocalResponseNorm.
-- @function LocalResponseNorm
-- @usage nn.LocalResponseNorm(size [, alpha = 1e-4, beta = 0.75, k = 1])
-- @within nn: more layers
local LocalResponseNorm = nn.Module:extend("LocalResponseNorm")

LocalResponseNorm.schema = args.schema("nn.LocalResponseNorm", {
  {"size", args.REQUIRED, "posint"},
  {"alpha", 1e-4, "number"},
  {"beta", 0.75, "number"},
  {"k", 1.0, "number"},
})

function LocalResponseNorm:__init(...)
  self.size, self.alpha, self.beta, self.k = LocalResponseNorm.schema:parse(...)
end

function LocalResponseNorm:forward(x)
  return norm.local_response_norm("nn.LocalResponseNorm", x, self.size, self.alpha, self.beta, self.k)
end

function LocalResponseNorm:extra_repr()
  return string.format("%d, alpha=%s, beta=%s, k=%s", self.size, tostring(self.alpha),
    tostring(self.beta), tostring(self.k))
end

return LocalResponseNorm
