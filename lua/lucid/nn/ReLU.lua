--- nn.ReLU(): y = max(x, 0), elementwise; the gradient at 0 is 0 (as PyTorch).
local raise = require("lucid._args").raise
local lucid = require("lucid")
local nn = require("lucid.nn")

local ReLU = nn.Module:extend("ReLU")

function ReLU:__init(inplace)
  if type(inplace) == "table" then inplace = inplace.inplace end
  if inplace then raise("nn.ReLU: inplace = true is not supported (layers return new tensors)") end
end

function ReLU:forward(x)
  return lucid.relu(x)
end

return ReLU
