--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.GaussianNLLLoss: as torch.nn.GaussianNLLLoss (PyTorch 1.13);
-- options positionally in PyTorch's order or by name in a table.
local nn = require("lucid.nn")
local args = require("lucid._args")
local losses = require("lucid.nn.losses")

--- The negative log likelihood of target under N(input, var): 0.5 (log var +
-- (input - target)^2 / var), plus 0.5 log(2 pi) with full. var has input's
-- shape, or lacks its last dim, or has it 1 (one variance per sample); it is
-- clamped at eps (the clamp not differentiated, as PyTorch); negative var is an error.
-- @function GaussianNLLLoss
-- @usage nn.GaussianNLLLoss({full = false, eps = 1e-6, reduction = "mean"})(input, target, var)
-- @within nn: losses
-- @aka nn.functional.gaussian_nll_loss
local GaussianNLLLoss = nn.Module:extend("GaussianNLLLoss")

GaussianNLLLoss.schema = args.schema("nn.GaussianNLLLoss",
  losses.schema_entries("gaussian_nll_loss"))

function GaussianNLLLoss:__init(...)
  self.full, self.eps, self.reduction = GaussianNLLLoss.schema:parse(...)
end

function GaussianNLLLoss:forward(input, target, var)
  return losses._gaussian_nll("nn.GaussianNLLLoss", input, target, var, self.full, self.eps, self.reduction)
end

function GaussianNLLLoss:extra_repr()
  return table.concat({"full=" .. losses.repr(self.full), "eps=" .. losses.repr(self.eps), "reduction=" .. losses.repr(self.reduction)}, ", ")
end

return GaussianNLLLoss
