--- nn.MSELoss([reduction = "mean"]), or nn.MSELoss{reduction = ...}: the squared error (input - target)^2.
-- reduction "mean" averages over every element, "sum" adds them up, "none"
-- returns them (input's shape). Called as loss(input, target), both of one shape.
local nn = require("lucid.nn")
local losses = require("lucid.nn.losses")

local MSELoss = nn.Module:extend("MSELoss")

function MSELoss:__init(reduction)
  if type(reduction) == "table" then reduction = reduction.reduction end
  self.reduction = reduction or "mean"
  losses._check_reduction("nn.MSELoss", self.reduction, 3)
end

function MSELoss:forward(input, target)
  -- level 2: errors point at the caller (Module's __call tail-calls forward)
  local loss = losses._mse("nn.MSELoss", input, target, self.reduction, 2)
  return loss
end

return MSELoss
