--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.PairwiseDistance: as torch.nn.PairwiseDistance (PyTorch 1.13);
-- options positionally in PyTorch's order or by name in a table.
local nn = require("lucid.nn")
local args = require("lucid._args")
local losses = require("lucid.nn.losses")

--- The p-norm of x1 - x2 + eps over the last dim (x1 and x2 broadcast);
-- keepdim keeps that dim as size 1.
-- @function PairwiseDistance
-- @usage nn.PairwiseDistance([p = 2 [, eps = 1e-6 [, keepdim = false]]])(x1, x2)
-- @within nn: more layers
-- @aka nn.functional.pairwise_distance
local PairwiseDistance = nn.Module:extend("PairwiseDistance")

PairwiseDistance.schema = args.schema("nn.PairwiseDistance",
  losses.schema_entries("pairwise_distance"))

function PairwiseDistance:__init(...)
  self.p, self.eps, self.keepdim = PairwiseDistance.schema:parse(...)
end

function PairwiseDistance:forward(x1, x2)
  return losses._pairwise_distance("nn.PairwiseDistance", x1, x2, self.p, self.eps, self.keepdim)
end

function PairwiseDistance:extra_repr()
  return table.concat({"p=" .. losses.repr(self.p), "eps=" .. losses.repr(self.eps), "keepdim=" .. losses.repr(self.keepdim)}, ", ")
end

return PairwiseDistance
