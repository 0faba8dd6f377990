--- nn.Sigmoid(): y = 1 / (1 + exp(-x)), elementwise.
local lucid = require("lucid")
local nn = require("lucid.nn")
local args = require("lucid._args")

local Sigmoid = nn.Module:extend("Sigmoid")

Sigmoid.schema = args.schema("nn.Sigmoid", {})

function Sigmoid:__init(...)
  Sigmoid.schema:parse(...)
end

function Sigmoid:forward(x)
  return lucid.sigmoid(x)
end

return Sigmoid
