--- nn.SiLU(): y = x * sigmoid(x), elementwise (also called swish).
local raise = require("lucid._args").raise
local lucid = require("lucid")
local nn = require("lucid.nn")

local SiLU = nn.Module:extend("SiLU")

function SiLU:__init(inplace)
  if type(inplace) == "table" then inplace = inplace.inplace end
  if inplace then raise("nn.SiLU: inplace = true is not supported (layers return new tensors)") end
end

function SiLU:forward(x)
  return lucid.silu(x)
end

return SiLU
