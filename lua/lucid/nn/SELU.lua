--- nn.SELU(): y = scale * ELU(x, alpha) with PyTorch's constants
-- alpha = 1.6732632423543772, scale = 1.0507009873554805.
local raise = require("lucid._args").raise
local nn = require("lucid.nn")
local ELU = require("lucid.nn.ELU")

local SELU = nn.Module:extend("SELU")

SELU.ALPHA = 1.6732632423543772848170429916717
SELU.SCALE = 1.0507009873554804934193349852946

function SELU:__init(inplace)
  if type(inplace) == "table" then inplace = inplace.inplace end
  if inplace then raise("nn.SELU: inplace = true is not supported (layers return new tensors)") end
end

function SELU:forward(x)
  return ELU.elu(x, SELU.ALPHA) * SELU.SCALE
end

return SELU
