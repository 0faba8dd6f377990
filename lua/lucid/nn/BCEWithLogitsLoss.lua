--- nn.BCEWithLogitsLoss([weight [, reduction = "mean" [, pos_weight]]]), or
-- with a table of those names: sigmoid and binary cross entropy in one,
-- computed in the log-sum-exp form, so logits of any size (even 1000) give
-- finite values and gradients:
-- l = (1 - t) x + (1 + (pos_weight - 1) t) log(1 + exp(-x)), times weight.
-- weight and pos_weight broadcast to the input's shape (pos_weight {C}
-- weighs the positives of each class along the last dim); both are buffers.
local nn = require("lucid.nn")
local losses = require("lucid.nn.losses")

local BCEWithLogitsLoss = nn.Module:extend("BCEWithLogitsLoss")

function BCEWithLogitsLoss:__init(weight, reduction, pos_weight)
  if type(weight) == "table" then
    local o = weight
    weight, reduction, pos_weight = o.weight, o.reduction, o.pos_weight
  end
  if weight ~= nil then self:register_buffer("weight", weight) end
  if pos_weight ~= nil then self:register_buffer("pos_weight", pos_weight) end
  self.reduction = reduction or "mean"
  losses._check_reduction("nn.BCEWithLogitsLoss", self.reduction, 3)
end

function BCEWithLogitsLoss:forward(input, target)
  -- level 2: errors point at the caller (Module's __call tail-calls forward)
  local loss = losses._bce_with_logits("nn.BCEWithLogitsLoss", input, target, self._buffers.weight,
    self._buffers.pos_weight, self.reduction, 2)
  return loss
end

return BCEWithLogitsLoss
