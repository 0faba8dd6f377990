--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.BCEWithLogitsLoss([weight [, reduction = "mean" [, pos_weight]]]), or
-- with a table of those names: sigmoid and binary cross entropy in one,
-- computed in the log-sum-exp form, so logits of any size (even 1000) give
-- finite values and gradients:
-- l = (1 - t) x + (1 + (pos_weight - 1) t) log(1 + exp(-x)), times weight.
-- weight and pos_weight broadcast to the input's shape (pos_weight {C}
-- weighs the positives of each class along the last dim); both are buffers.
local nn = require("lucid.nn")
local args = require("lucid._args")
local losses = require("lucid.nn.losses")

--- Sigmoid and binary cross entropy in one, stable for logits of any size;
-- pos_weight {C} weighs the positives of each class.
-- @function BCEWithLogitsLoss
-- @usage nn.BCEWithLogitsLoss([weight [, reduction [, pos_weight]]])(logits, target)
-- @within nn: losses
-- @aka nn.functional.binary_cross_entropy_with_logits
local BCEWithLogitsLoss = nn.Module:extend("BCEWithLogitsLoss")

BCEWithLogitsLoss.schema = args.schema("nn.BCEWithLogitsLoss",
  losses.schema_entries("binary_cross_entropy_with_logits"))

function BCEWithLogitsLoss:__init(...)
  local weight, pos_weight
  weight, self.reduction, pos_weight = BCEWithLogitsLoss.schema:parse(...)
  if weight ~= nil then self:register_buffer("weight", weight) end
  if pos_weight ~= nil then self:register_buffer("pos_weight", pos_weight) end
end

function BCEWithLogitsLoss:forward(input, target)
  return losses._bce_with_logits("nn.BCEWithLogitsLoss", input, target, self._buffers.weight,
    self._buffers.pos_weight, self.reduction)
end

return BCEWithLogitsLoss
