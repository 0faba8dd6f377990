--- nn.NLLLoss([weight [, ignore_index = -100 [, reduction = "mean"]]]), or
-- with a table of those names: the negative log likelihood -input[n, target[n]]
-- of log-probabilities (e.g. from nn.LogSoftmax(2)).
--
--   input {N, C} (or {C}, or {N, C, d1, ...}), target {N} (0-d, {N, d1, ...})
--   of class indices: floats holding 1-based integers.
--
-- weight {C} rescales each class (kept as a buffer); targets equal to
-- ignore_index count for nothing; "mean" divides by the summed weight of the
-- targets counted, as PyTorch.
local nn = require("lucid.nn")
local losses = require("lucid.nn.losses")

local NLLLoss = nn.Module:extend("NLLLoss")

function NLLLoss:__init(weight, ignore_index, reduction)
  if type(weight) == "table" then
    local o = weight
    weight, ignore_index, reduction = o.weight, o.ignore_index, o.reduction
  end
  if weight ~= nil then self:register_buffer("weight", weight) end
  self.ignore_index = ignore_index or -100
  self.reduction = reduction or "mean"
  losses._check_reduction("nn.NLLLoss", self.reduction, 3)
end

function NLLLoss:forward(input, target)
  -- level 2: errors point at the caller (Module's __call tail-calls forward)
  local loss = losses._nll("nn.NLLLoss", input, target, self._buffers.weight, self.ignore_index, self.reduction, 2)
  return loss
end

return NLLLoss
