--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.ReLU(): y = max(x, 0), elementwise; the gradient at 0 is 0 (as PyTorch).
local args = require("lucid._args")
local lucid = require("lucid")
local nn = require("lucid.nn")

--- max(x, 0) elementwise as a layer; the gradient at 0 is 0, as PyTorch.
-- @function ReLU
-- @usage nn.ReLU()
-- @within nn: more layers
local ReLU = nn.Module:extend("ReLU")

ReLU.schema = args.schema("nn.ReLU", {
  {"inplace", false, args.not_true("layers return new tensors")},
})

function ReLU:__init(...)
  ReLU.schema:parse(...)
end

local relu, buffer = lucid.relu, nn.Module._buffer

function ReLU:forward(x)
  -- out is nil unless reusing buffers (Module:reuse_buffers)
  return relu(x, rawget(self, "_reuse") and buffer(self, x))
end

return ReLU
