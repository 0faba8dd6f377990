--- nn.BCELoss([weight [, reduction = "mean"]]), or with a table of those
-- names: the binary cross entropy -w (t log(x) + (1 - t) log(1 - x)) of
-- probabilities x in [0, 1] and targets t of the same shape. As in PyTorch
-- the logs are clamped to >= -100, so x = 0 or 1 gives finite values, and
-- the gradient's denominator x (1 - x) to >= 1e-12. weight broadcasts to the
-- input's shape and is kept as a buffer.
local nn = require("lucid.nn")
local losses = require("lucid.nn.losses")

local BCELoss = nn.Module:extend("BCELoss")

function BCELoss:__init(weight, reduction)
  if type(weight) == "table" then weight, reduction = weight.weight, weight.reduction end
  if weight ~= nil then self:register_buffer("weight", weight) end
  self.reduction = reduction or "mean"
  losses._check_reduction("nn.BCELoss", self.reduction, 3)
end

function BCELoss:forward(input, target)
  -- level 2: errors point at the caller (Module's __call tail-calls forward)
  local loss = losses._bce("nn.BCELoss", input, target, self._buffers.weight, self.reduction, 2)
  return loss
end

return BCELoss
