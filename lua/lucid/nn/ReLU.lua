--- nn.ReLU(): y = max(x, 0), elementwise; the gradient at 0 is 0 (as PyTorch).
local lucid = require("lucid")
local nn = require("lucid.nn")

local ReLU = nn.Module:extend("ReLU")

function ReLU:__init(inplace)
  if type(inplace) == "table" then inplace = inplace.inplace end
  if inplace then error("nn.ReLU: inplace = true is not supported (layers return new tensors)", 3) end
end

function ReLU:forward(x)
  return lucid.relu(x)
end

return ReLU
