--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.GELU(approximate = "none"): y = x * Phi(x) with the exact normal CDF,
-- or PyTorch's tanh approximation with approximate = "tanh".
local args = require("lucid._args")
local lucid = require("lucid")
local nn = require("lucid.nn")

--- x * Phi(x) with the exact normal CDF, or the tanh approximation with
-- approximate = "tanh".
-- @function GELU
-- @usage nn.GELU([approximate = "none"])
-- @within nn: more layers
local GELU = nn.Module:extend("GELU")

GELU.schema = args.schema("nn.GELU", {
  {"approximate", "none", args.one_of("none", "tanh")},
})

function GELU:__init(...)
  self.approximate = GELU.schema:parse(...)
end

local gelu, buffer = lucid.gelu, nn.Module._buffer

function GELU:forward(x)
  -- out is nil unless reusing buffers (Module:reuse_buffers)
  return gelu(x, self.approximate, rawget(self, "_reuse") and buffer(self, x))
end

function GELU:extra_repr()
  return "approximate='" .. self.approximate .. "'"
end

return GELU
