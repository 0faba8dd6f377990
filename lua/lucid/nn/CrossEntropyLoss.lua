--- nn.CrossEntropyLoss([weight [, ignore_index = -100 [, reduction = "mean"
-- [, label_smoothing = 0]]]]), or with a table of those names: the cross
-- entropy of logits, log_softmax over the class dim (computed stably) and
-- the negative log likelihood.
--
--   input {N, C} (or {C}, or {N, C, d1, ...}) and target either class
--   indices {N} (0-d, {N, d1, ...}): floats holding 1-based integers, or
--   class probabilities of the input's shape.
--
-- weight {C} rescales each class (kept as a buffer); targets equal to
-- ignore_index count for nothing (mean divides by the summed weight of the
-- targets counted); label_smoothing mixes the target with the uniform
-- distribution, as PyTorch.
local raise = require("lucid._args").raise
local nn = require("lucid.nn")
local losses = require("lucid.nn.losses")

local CrossEntropyLoss = nn.Module:extend("CrossEntropyLoss")

function CrossEntropyLoss:__init(weight, ignore_index, reduction, label_smoothing)
  if type(weight) == "table" then
    local o = weight
    weight, ignore_index, reduction, label_smoothing = o.weight, o.ignore_index, o.reduction, o.label_smoothing
  end
  if weight ~= nil then self:register_buffer("weight", weight) end
  self.ignore_index = ignore_index or -100
  self.reduction = reduction or "mean"
  self.label_smoothing = label_smoothing or 0.0
  losses._check_reduction("nn.CrossEntropyLoss", self.reduction, 3)
  local ls = self.label_smoothing
  if type(ls) ~= "number" or not (ls >= 0 and ls <= 1) then
    raise("nn.CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0, got " .. tostring(ls))
  end
end

function CrossEntropyLoss:forward(input, target)
  -- level 2: errors point at the caller (Module's __call tail-calls forward)
  local loss = losses._cross_entropy("nn.CrossEntropyLoss", input, target, self._buffers.weight,
    self.ignore_index, self.reduction, self.label_smoothing, 2)
  return loss
end

return CrossEntropyLoss
