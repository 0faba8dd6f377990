--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.HuberLoss([reduction = "mean" [, delta = 1.0]]), or with a table of
-- those names: 0.5 d^2 where |d| < delta, else delta * (|d| - 0.5 delta),
-- d = input - target (both of one shape).
local nn = require("lucid.nn")
local args = require("lucid._args")
local losses = require("lucid.nn.losses")

--- 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), for d = input - target.
-- @function HuberLoss
-- @usage nn.HuberLoss([reduction = "mean" [, delta = 1.0]])(input, target)
-- @within nn: losses
-- @aka nn.functional.huber_loss
local HuberLoss = nn.Module:extend("HuberLoss")

HuberLoss.schema = args.schema("nn.HuberLoss", {
  {"reduction", "mean", losses.REDUCTION},
  {"delta", 1.0, losses.DELTA},
})

function HuberLoss:__init(...)
  self.reduction, self.delta = HuberLoss.schema:parse(...)
end

function HuberLoss:forward(input, target)
  return losses._huber("nn.HuberLoss", input, target, self.reduction, self.delta)
end

return HuberLoss
