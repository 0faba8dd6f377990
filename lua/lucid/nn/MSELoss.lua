--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.MSELoss([reduction = "mean"]), or nn.MSELoss{reduction = ...}: the squared error (input - target)^2.
-- reduction "mean" averages over every element, "sum" adds them up, "none"
-- returns them (input's shape). Called as loss(input, target), both of one shape.
local nn = require("lucid.nn")
local args = require("lucid._args")
local losses = require("lucid.nn.losses")

--- The squared error (input - target)^2, averaged ("mean"), summed ("sum") or
-- returned per element ("none").
-- @function MSELoss
-- @usage nn.MSELoss([reduction = "mean"])(input, target)  or  F.mse_loss(input, target [, reduction])
-- @within nn: losses
-- @aka nn.functional.mse_loss
local MSELoss = nn.Module:extend("MSELoss")

MSELoss.schema = args.schema("nn.MSELoss", {
  {"reduction", "mean", losses.REDUCTION},
})

function MSELoss:__init(...)
  self.reduction = MSELoss.schema:parse(...)
end

function MSELoss:forward(input, target)
  return losses._mse("nn.MSELoss", input, target, self.reduction)
end

return MSELoss
