--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.CrossEntropyLoss([weight [, ignore_index = -100 [, reduction = "mean"
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
local nn = require("lucid.nn")
local args = require("lucid._args")
local losses = require("lucid.nn.losses")

--- log_softmax over the class dim and negative log likelihood in one, computed
-- stably. logits {N, C}; target holds 1-based class indices {N} (float values)
-- or class probabilities of the logits' shape. weight {C} rescales classes.
-- @function CrossEntropyLoss
-- @usage nn.CrossEntropyLoss([weight [, ignore_index [, reduction [, label_smoothing]]]])(logits, target)
-- @within nn: losses
-- @aka nn.functional.cross_entropy
local CrossEntropyLoss = nn.Module:extend("CrossEntropyLoss")

CrossEntropyLoss.schema = args.schema("nn.CrossEntropyLoss", losses.schema_entries("cross_entropy"))

function CrossEntropyLoss:__init(...)
  local weight
  weight, self.ignore_index, self.reduction, self.label_smoothing = CrossEntropyLoss.schema:parse(...)
  if weight ~= nil then self:register_buffer("weight", weight) end
end

function CrossEntropyLoss:forward(input, target)
  return losses._cross_entropy("nn.CrossEntropyLoss", input, target, self._buffers.weight,
    self.ignore_index, self.reduction, self.label_smoothing)
end

return CrossEntropyLoss
