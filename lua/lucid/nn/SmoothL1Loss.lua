--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.SmoothL1Loss([reduction = "mean" [, beta = 1.0]]), or with a table of
-- those names: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta,
-- d = input - target (both of one shape); beta = 0 is the L1 loss.
local nn = require("lucid.nn")
local args = require("lucid._args")
local losses = require("lucid.nn.losses")

--- 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta.
-- @function SmoothL1Loss
-- @usage nn.SmoothL1Loss([reduction = "mean" [, beta = 1.0]])(input, target)
-- @within nn: losses
-- @aka nn.functional.smooth_l1_loss
local SmoothL1Loss = nn.Module:extend("SmoothL1Loss")

SmoothL1Loss.schema = args.schema("nn.SmoothL1Loss", {
  {"reduction", "mean", losses.REDUCTION},
  {"beta", 1.0, losses.BETA},
})

function SmoothL1Loss:__init(...)
  self.reduction, self.beta = SmoothL1Loss.schema:parse(...)
end

function SmoothL1Loss:forward(input, target)
  return losses._smooth_l1("nn.SmoothL1Loss", input, target, self.reduction, self.beta)
end

return SmoothL1Loss
