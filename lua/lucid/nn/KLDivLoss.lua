--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.KLDivLoss: as torch.nn.KLDivLoss (PyTorch 1.13);
-- options positionally in PyTorch's order or by name in a table.
local nn = require("lucid.nn")
local args = require("lucid._args")
local losses = require("lucid.nn.losses")

--- The Kullback-Leibler divergence of target from input (log-probabilities):
-- target (log target - input), or exp(target) (target - input) with log_target.
-- reduction "batchmean" divides the sum by the batch size (the true KL
-- divergence), "mean" by the number of elements.
-- @function KLDivLoss
-- @usage nn.KLDivLoss([reduction = "mean" [, log_target = false]])(input, target)
-- @within nn: losses
-- @aka nn.functional.kl_div
local KLDivLoss = nn.Module:extend("KLDivLoss")

KLDivLoss.schema = args.schema("nn.KLDivLoss",
  losses.schema_entries("kl_div"))

function KLDivLoss:__init(...)
  self.reduction, self.log_target = KLDivLoss.schema:parse(...)
end

function KLDivLoss:forward(input, target)
  return losses._kl_div("nn.KLDivLoss", input, target, self.reduction, self.log_target)
end

function KLDivLoss:extra_repr()
  return table.concat({"reduction=" .. losses.repr(self.reduction), "log_target=" .. losses.repr(self.log_target)}, ", ")
end

return KLDivLoss
