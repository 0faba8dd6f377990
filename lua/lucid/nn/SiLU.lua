--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.SiLU(): y = x * sigmoid(x), elementwise (also called swish).
local args = require("lucid._args")
local lucid = require("lucid")
local nn = require("lucid.nn")

--- x * sigmoid(x) elementwise (swish).
-- @function SiLU
-- @usage nn.SiLU()
-- @within nn: more layers
local SiLU = nn.Module:extend("SiLU")

SiLU.schema = args.schema("nn.SiLU", {
  {"inplace", false, args.not_true("layers return new tensors")},
})

function SiLU:__init(...)
  SiLU.schema:parse(...)
end

local silu, buffer = lucid.silu, nn.Module._buffer

function SiLU:forward(x)
  -- out is nil unless reusing buffers (Module:reuse_buffers)
  return silu(x, rawget(self, "_reuse") and buffer(self, x))
end

return SiLU
