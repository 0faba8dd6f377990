--- nn.Tanh(): y = tanh(x), elementwise; backward uses the output,
-- dx = dy * (1 - y^2).
local lucid = require("lucid")
local nn = require("lucid.nn")

local Tanh = nn.Module:extend("Tanh")

function Tanh:forward(x)
  return lucid.tanh(x)
end

return Tanh
