--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.BCELoss([weight [, reduction = "mean"]]), or with a table of those
-- names: the binary cross entropy -w (t log(x) + (1 - t) log(1 - x)) of
-- probabilities x in [0, 1] and targets t of the same shape. As in PyTorch
-- the logs are clamped to >= -100, so x = 0 or 1 gives finite values, and
-- the gradient's denominator x (1 - x) to >= 1e-12. weight broadcasts to the
-- input's shape and is kept as a buffer.
local nn = require("lucid.nn")
local args = require("lucid._args")
local losses = require("lucid.nn.losses")

--- Binary cross entropy of probabilities in [0, 1] (logs clamped at -100 as
-- PyTorch). With logits, prefer nn.BCEWithLogitsLoss.
-- @function BCELoss
-- @usage nn.BCELoss([weight [, reduction]])(probs, target)
-- @within nn: losses
-- @aka nn.functional.binary_cross_entropy
local BCELoss = nn.Module:extend("BCELoss")

BCELoss.schema = args.schema("nn.BCELoss", losses.schema_entries("binary_cross_entropy"))

function BCELoss:__init(...)
  local weight
  weight, self.reduction = BCELoss.schema:parse(...)
  if weight ~= nil then self:register_buffer("weight", weight) end
end

function BCELoss:forward(input, target)
  return losses._bce("nn.BCELoss", input, target, self._buffers.weight, self.reduction)
end

return BCELoss
