--- nn.SmoothL1Loss([reduction = "mean" [, beta = 1.0]]), or with a table of
-- those names: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta,
-- d = input - target (both of one shape); beta = 0 is the L1 loss.
local raise = require("lucid._args").raise
local nn = require("lucid.nn")
local losses = require("lucid.nn.losses")

local SmoothL1Loss = nn.Module:extend("SmoothL1Loss")

function SmoothL1Loss:__init(reduction, beta)
  if type(reduction) == "table" then reduction, beta = reduction.reduction, reduction.beta end
  self.reduction, self.beta = reduction or "mean", beta or 1.0
  losses._check_reduction("nn.SmoothL1Loss", self.reduction, 3)
  if type(self.beta) ~= "number" or not (self.beta >= 0) then
    raise("nn.SmoothL1Loss: beta must be a non-negative number, got " .. tostring(self.beta))
  end
end

function SmoothL1Loss:forward(input, target)
  -- level 2: errors point at the caller (Module's __call tail-calls forward)
  local loss = losses._smooth_l1("nn.SmoothL1Loss", input, target, self.reduction, self.beta, 2)
  return loss
end

return SmoothL1Loss
