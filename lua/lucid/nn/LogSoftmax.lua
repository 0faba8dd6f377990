--- nn.LogSoftmax(dim): y = x - log(sum(exp(x))) along dim (1-based; negative
-- counts from the end), computed stably. With no dim it picks PyTorch's
-- legacy default, as nn.Softmax.
local lucid = require("lucid")
local nn = require("lucid.nn")
local Softmax = require("lucid.nn.Softmax")

local LogSoftmax = nn.Module:extend("LogSoftmax")

function LogSoftmax:__init(dim)
  if type(dim) == "table" then dim = dim.dim end
  if dim ~= nil and math.type(dim) ~= "integer" then
    error("nn.LogSoftmax: dim must be an integer or nil, got " .. tostring(dim), 3)
  end
  self.dim = dim
end

function LogSoftmax:forward(x)
  return lucid.log_softmax(x, self.dim or Softmax.implicit_dim(x.ndim))
end

function LogSoftmax:extra_repr()
  return "dim=" .. tostring(self.dim)
end

return LogSoftmax
