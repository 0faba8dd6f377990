--- nn.L1Loss([reduction = "mean"]), or nn.L1Loss{reduction = ...}: the absolute error |input - target|.
-- reduction "mean" averages over every element, "sum" adds them up, "none"
-- returns them (input's shape). Called as loss(input, target), both of one shape.
local nn = require("lucid.nn")
local losses = require("lucid.nn.losses")

local L1Loss = nn.Module:extend("L1Loss")

function L1Loss:__init(reduction)
  if type(reduction) == "table" then reduction = reduction.reduction end
  self.reduction = reduction or "mean"
  losses._check_reduction("nn.L1Loss", self.reduction, 3)
end

function L1Loss:forward(input, target)
  -- level 2: errors point at the caller (Module's __call tail-calls forward)
  local loss = losses._l1("nn.L1Loss", input, target, self.reduction, 2)
  return loss
end

return L1Loss
