--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.Sigmoid(): y = 1 / (1 + exp(-x)), elementwise.
local lucid = require("lucid")
local nn = require("lucid.nn")
local args = require("lucid._args")

--- 1 / (1 + exp(-x)) elementwise.
-- @function Sigmoid
-- @usage nn.Sigmoid()
-- @within nn: more layers
local Sigmoid = nn.Module:extend("Sigmoid")

Sigmoid.schema = args.schema("nn.Sigmoid", {})

function Sigmoid:__init(...)
  Sigmoid.schema:parse(...)
end

function Sigmoid:forward(x)
  return lucid.sigmoid(x)
end

return Sigmoid
