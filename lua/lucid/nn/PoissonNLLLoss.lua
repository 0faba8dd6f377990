--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.PoissonNLLLoss: as torch.nn.PoissonNLLLoss (PyTorch 1.13);
-- options positionally in PyTorch's order or by name in a table.
local nn = require("lucid.nn")
local args = require("lucid._args")
local losses = require("lucid.nn.losses")

--- The negative log likelihood of target under Poisson(rate): exp(input) -
-- target input with log_input (input the log rate), else input - target
-- log(input + eps); full adds Stirling's term target log target - target +
-- 0.5 log(2 pi target) where target > 1.
-- @function PoissonNLLLoss
-- @usage nn.PoissonNLLLoss([log_input = true [, full = false [, eps = 1e-8 [, reduction = "mean"]]]])(input, target)
-- @within nn: losses
-- @aka nn.functional.poisson_nll_loss
local PoissonNLLLoss = nn.Module:extend("PoissonNLLLoss")

PoissonNLLLoss.schema = args.schema("nn.PoissonNLLLoss",
  losses.schema_entries("poisson_nll_loss"))

function PoissonNLLLoss:__init(...)
  self.log_input, self.full, self.eps, self.reduction = PoissonNLLLoss.schema:parse(...)
end

function PoissonNLLLoss:forward(input, target)
  return losses._poisson_nll("nn.PoissonNLLLoss", input, target, self.log_input, self.full, self.eps, self.reduction)
end

function PoissonNLLLoss:extra_repr()
  return table.concat({"log_input=" .. losses.repr(self.log_input), "full=" .. losses.repr(self.full), "eps=" .. losses.repr(self.eps), "reduction=" .. losses.repr(self.reduction)}, ", ")
end

return PoissonNLLLoss
