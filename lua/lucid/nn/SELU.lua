--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.SELU(): y = scale * ELU(x, alpha) with PyTorch's constants
-- alpha = 1.6732632423543772, scale = 1.0507009873554805.
local args = require("lucid._args")
local nn = require("lucid.nn")
local ELU = require("lucid.nn.ELU")

--- scale * ELU(x, alpha) with PyTorch's constants (alpha 1.6733, scale 1.0507).
-- @function SELU
-- @usage nn.SELU()
-- @within nn: more layers
local SELU = nn.Module:extend("SELU")

SELU.ALPHA = 1.6732632423543772848170429916717
SELU.SCALE = 1.0507009873554804934193349852946

SELU.schema = args.schema("nn.SELU", {
  {"inplace", false, args.not_true("layers return new tensors")},
})

function SELU:__init(...)
  SELU.schema:parse(...)
end

function SELU:forward(x)
  return ELU.elu(x, SELU.ALPHA) * SELU.SCALE
end

return SELU
