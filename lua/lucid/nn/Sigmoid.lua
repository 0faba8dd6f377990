--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.Sigmoid(): y = 1 / (1 + exp(-x)), elementwise.
local lucid = require("lucid")
local nn = require("lucid.nn")
local args = require("lucid._args")

--- 1 / (1 + exp(-x)) elementwise.
-- @function Sigmoid
-- @usage nn.Sigmoid()
-- @within nn: more layers
local Sigmoid = nn.Module:extend("Sigmoid")

Sigmoid.schema = args.schema("nn.Sigmoid", {})

function Sigmoid:__init(...)
  Sigmoid.schema:parse(...)
end

local sigmoid, buffer = lucid.sigmoid, nn.Module._buffer

function Sigmoid:forward(x)
  -- out is nil unless reusing buffers (Module:reuse_buffers)
  return sigmoid(x, rawget(self, "_reuse") and buffer(self, x))
end

return Sigmoid
