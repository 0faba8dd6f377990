--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.MultiLabelSoftMarginLoss: as torch.nn.MultiLabelSoftMarginLoss (PyTorch 1.13);
-- options positionally in PyTorch's order or by name in a table.
local nn = require("lucid.nn")
local args = require("lucid._args")
local losses = require("lucid.nn.losses")

--- -(target log sigmoid(input) + (1 - target) log sigmoid(-input)), times
-- weight {C} (a buffer), averaged over the C classes of the last dim;
-- input and target {N, C} (target 0 or 1 per class).
-- @function MultiLabelSoftMarginLoss
-- @usage nn.MultiLabelSoftMarginLoss([weight [, reduction = "mean"]])(input, target)
-- @within nn: losses
-- @aka nn.functional.multilabel_soft_margin_loss
local MultiLabelSoftMarginLoss = nn.Module:extend("MultiLabelSoftMarginLoss")

MultiLabelSoftMarginLoss.schema = args.schema("nn.MultiLabelSoftMarginLoss",
  losses.schema_entries("multilabel_soft_margin_loss"))

function MultiLabelSoftMarginLoss:__init(...)
  local weight
  weight, self.reduction = MultiLabelSoftMarginLoss.schema:parse(...)
  if weight ~= nil then self:register_buffer("weight", weight) end
end

function MultiLabelSoftMarginLoss:forward(input, target)
  return losses._multilabel_soft_margin("nn.MultiLabelSoftMarginLoss", input, target, self._buffers.weight, self.reduction)
end

function MultiLabelSoftMarginLoss:extra_repr()
  return table.concat({"reduction=" .. losses.repr(self.reduction)}, ", ")
end

return MultiLabelSoftMarginLoss
