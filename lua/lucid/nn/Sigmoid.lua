--- nn.Sigmoid(): y = 1 / (1 + exp(-x)), elementwise.
local lucid = require("lucid")
local nn = require("lucid.nn")

local Sigmoid = nn.Module:extend("Sigmoid")

function Sigmoid:forward(x)
  return lucid.sigmoid(x)
end

return Sigmoid
