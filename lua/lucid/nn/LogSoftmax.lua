--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.LogSoftmax(dim): y = x - log(sum(exp(x))) along dim (1-based; negative
-- counts from the end), computed stably. With no dim it picks PyTorch's
-- legacy default, as nn.Softmax.
local lucid = require("lucid")
local nn = require("lucid.nn")
local args = require("lucid._args")
local Softmax = require("lucid.nn.Softmax")

--- log(softmax(x)) along dim, computed stably; pairs with nn.NLLLoss.
-- @function LogSoftmax
-- @usage nn.LogSoftmax(dim)
-- @within nn: more layers
local LogSoftmax = nn.Module:extend("LogSoftmax")

LogSoftmax.schema = args.schema("nn.LogSoftmax", {
  {"dim", nil, Softmax._dim_check},
})

function LogSoftmax:__init(...)
  self.dim = LogSoftmax.schema:parse(...)
end

local buffer = nn.Module._buffer

function LogSoftmax:forward(x)
  args.tensor("nn.LogSoftmax", x)
  -- out is nil unless reusing buffers (Module:reuse_buffers)
  return lucid.log_softmax(x, self.dim or Softmax.implicit_dim(x.ndim), rawget(self, "_reuse") and buffer(self, x))
end

function LogSoftmax:extra_repr()
  return "dim=" .. tostring(self.dim)
end

return LogSoftmax
