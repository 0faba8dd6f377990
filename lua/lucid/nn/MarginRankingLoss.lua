--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.MarginRankingLoss: as torch.nn.MarginRankingLoss (PyTorch 1.13);
-- options positionally in PyTorch's order or by name in a table.
local nn = require("lucid.nn")
local args = require("lucid._args")
local losses = require("lucid.nn.losses")

--- max(0, -target (input1 - input2) + margin), target of 1 (input1 should rank
-- higher) and -1; the three of one shape.
-- @function MarginRankingLoss
-- @usage nn.MarginRankingLoss([margin = 0 [, reduction = "mean"]])(input1, input2, target)
-- @within nn: losses
-- @aka nn.functional.margin_ranking_loss
local MarginRankingLoss = nn.Module:extend("MarginRankingLoss")

MarginRankingLoss.schema = args.schema("nn.MarginRankingLoss",
  losses.schema_entries("margin_ranking_loss"))

function MarginRankingLoss:__init(...)
  self.margin, self.reduction = MarginRankingLoss.schema:parse(...)
end

function MarginRankingLoss:forward(input1, input2, target)
  return losses._margin_ranking("nn.MarginRankingLoss", input1, input2, target, self.margin, self.reduction)
end

function MarginRankingLoss:extra_repr()
  return table.concat({"margin=" .. losses.repr(self.margin), "reduction=" .. losses.repr(self.reduction)}, ", ")
end

return MarginRankingLoss
