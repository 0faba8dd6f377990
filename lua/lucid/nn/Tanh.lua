--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.Tanh(): y = tanh(x), elementwise; backward uses the output,
-- dx = dy * (1 - y^2).
local lucid = require("lucid")
local nn = require("lucid.nn")
local args = require("lucid._args")

--- The elementwise tanh as a layer (no parameters): nn.Tanh()(x) is
-- lucid.tanh(x).
-- @function Tanh
-- @usage nn.Tanh()
-- @within nn: modules
-- @aka lucid.nn.Tanh
local Tanh = nn.Module:extend("Tanh")

Tanh.schema = args.schema("nn.Tanh", {})

function Tanh:__init(...)
  Tanh.schema:parse(...)
end

local tanh, buffer = lucid.tanh, nn.Module._buffer

function Tanh:forward(x)
  -- out is nil unless reusing buffers (Module:reuse_buffers)
  return tanh(x, rawget(self, "_reuse") and buffer(self, x))
end

return Tanh
