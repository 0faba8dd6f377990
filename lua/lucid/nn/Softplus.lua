--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.Softplus(beta = 1, threshold = 20): y = log(1 + exp(beta x)) / beta,
-- and y = x where beta x > threshold (for numerical stability), as PyTorch.
local lucid = require("lucid")
local nn = require("lucid.nn")

local args = require("lucid._args")

--- log(1 + exp(beta x)) / beta, and x where beta x > threshold.
-- @function Softplus
-- @usage nn.Softplus([beta = 1 [, threshold = 20]])
-- @within nn: more layers
local Softplus = nn.Module:extend("Softplus")

Softplus.schema = args.schema("nn.Softplus", {
  {"beta", 1, "number"},
  {"threshold", 20, "number"},
})

function Softplus:__init(...)
  self.beta, self.threshold = Softplus.schema:parse(...)
end

local softplus, buffer = lucid.softplus, nn.Module._buffer

function Softplus:forward(x)
  -- out is nil unless reusing buffers (Module:reuse_buffers)
  return softplus(x, self.beta, self.threshold, rawget(self, "_reuse") and buffer(self, x))
end

function Softplus:extra_repr()
  return string.format("beta=%s, threshold=%s", tostring(self.beta), tostring(self.threshold))
end

return Softplus
