--- nn.SiLU(): y = x * sigmoid(x), elementwise (also called swish).
local lucid = require("lucid")
local nn = require("lucid.nn")

local SiLU = nn.Module:extend("SiLU")

function SiLU:__init(inplace)
  if type(inplace) == "table" then inplace = inplace.inplace end
  if inplace then error("nn.SiLU: inplace = true is not supported (layers return new tensors)", 3) end
end

function SiLU:forward(x)
  return lucid.silu(x)
end

return SiLU
