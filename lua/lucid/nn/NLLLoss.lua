--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.NLLLoss([weight [, ignore_index = -100 [, reduction = "mean"]]]), or
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
local args = require("lucid._args")
local losses = require("lucid.nn.losses")

--- -log_probs[n][ target[n] ] for log-probabilities {N, C} (from nn.LogSoftmax(2))
-- and 1-based class indices {N}.
-- @function NLLLoss
-- @usage nn.NLLLoss([weight [, ignore_index [, reduction]]])(log_probs, target)
-- @within nn: losses
-- @aka nn.functional.nll_loss
local NLLLoss = nn.Module:extend("NLLLoss")

NLLLoss.schema = args.schema("nn.NLLLoss", losses.schema_entries("nll_loss"))

function NLLLoss:__init(...)
  local weight
  weight, self.ignore_index, self.reduction = NLLLoss.schema:parse(...)
  if weight ~= nil then self:register_buffer("weight", weight) end
end

function NLLLoss:forward(input, target)
  return losses._nll("nn.NLLLoss", input, target, self._buffers.weight, self.ignore_index, self.reduction)
end

return NLLLoss
