--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.L1Loss([reduction = "mean"]), or nn.L1Loss{reduction = ...}: the absolute error |input - target|.
-- reduction "mean" averages over every element, "sum" adds them up, "none"
-- returns them (input's shape). Called as loss(input, target), both of one shape.
local nn = require("lucid.nn")
local args = require("lucid._args")
local losses = require("lucid.nn.losses")

--- The absolute error |input - target|, reduced as MSELoss.
-- @function L1Loss
-- @usage nn.L1Loss([reduction = "mean"])(input, target)
-- @within nn: losses
-- @aka nn.functional.l1_loss
local L1Loss = nn.Module:extend("L1Loss")

L1Loss.schema = args.schema("nn.L1Loss", {
  {"reduction", "mean", losses.REDUCTION},
})

function L1Loss:__init(...)
  self.reduction = L1Loss.schema:parse(...)
end

function L1Loss:forward(input, target)
  return losses._l1("nn.L1Loss", input, target, self.reduction)
end

return L1Loss
