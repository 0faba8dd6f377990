--- nn.LogSoftmax(dim): y = x - log(sum(exp(x))) along dim (1-based; negative
-- counts from the end), computed stably. With no dim it picks PyTorch's
-- legacy default, as nn.Softmax.
local lucid = require("lucid")
local nn = require("lucid.nn")
local check = require("lucid.nn._check")
local Softmax = require("lucid.nn.Softmax")

local LogSoftmax = nn.Module:extend("LogSoftmax")

function LogSoftmax:__init(dim)
  if type(dim) == "table" then dim = dim.dim end
  self.dim = check.integer("LogSoftmax", "dim", dim, 3, true)
end

function LogSoftmax:forward(x)
  check.tensor("LogSoftmax", x, 2)
  return lucid.log_softmax(x, self.dim or Softmax.implicit_dim(x.ndim))
end

function LogSoftmax:extra_repr()
  return "dim=" .. tostring(self.dim)
end

return LogSoftmax
