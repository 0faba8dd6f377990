--- nn.HuberLoss([reduction = "mean" [, delta = 1.0]]), or with a table of
-- those names: 0.5 d^2 where |d| < delta, else delta * (|d| - 0.5 delta),
-- d = input - target (both of one shape).
local raise = require("lucid._args").raise
local nn = require("lucid.nn")
local losses = require("lucid.nn.losses")

local HuberLoss = nn.Module:extend("HuberLoss")

function HuberLoss:__init(reduction, delta)
  if type(reduction) == "table" then reduction, delta = reduction.reduction, reduction.delta end
  self.reduction, self.delta = reduction or "mean", delta or 1.0
  losses._check_reduction("nn.HuberLoss", self.reduction, 3)
  if type(self.delta) ~= "number" or not (self.delta > 0) then
    raise("nn.HuberLoss: delta must be a positive number, got " .. tostring(self.delta))
  end
end

function HuberLoss:forward(input, target)
  -- level 2: errors point at the caller (Module's __call tail-calls forward)
  local loss = losses._huber("nn.HuberLoss", input, target, self.reduction, self.delta, 2)
  return loss
end

return HuberLoss
