--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.TripletMarginLoss: as torch.nn.TripletMarginLoss (PyTorch 1.13);
-- options positionally in PyTorch's order or by name in a table.
local nn = require("lucid.nn")
local args = require("lucid._args")
local losses = require("lucid.nn.losses")

--- max(0, margin + d(anchor, positive) - d(anchor, negative)), d the p-norm
-- distance of F.pairwise_distance (with eps); swap uses the smaller of
-- d(anchor, negative) and d(positive, negative). Inputs {N, D} or {D}.
-- @function TripletMarginLoss
-- @usage nn.TripletMarginLoss([margin = 1 [, p = 2 [, eps = 1e-6 [, swap = false [, reduction = "mean"]]]]])(anchor, positive, negative)
-- @within nn: losses
-- @aka nn.functional.triplet_margin_loss
local TripletMarginLoss = nn.Module:extend("TripletMarginLoss")

TripletMarginLoss.schema = args.schema("nn.TripletMarginLoss",
  losses.schema_entries("triplet_margin_loss"))

function TripletMarginLoss:__init(...)
  self.margin, self.p, self.eps, self.swap, self.reduction = TripletMarginLoss.schema:parse(...)
end

function TripletMarginLoss:forward(anchor, positive, negative)
  return losses._triplet_margin("nn.TripletMarginLoss", anchor, positive, negative, self.margin, self.p, self.eps, self.swap, self.reduction)
end

function TripletMarginLoss:extra_repr()
  return table.concat({"margin=" .. losses.repr(self.margin), "p=" .. losses.repr(self.p), "eps=" .. losses.repr(self.eps), "swap=" .. losses.repr(self.swap), "reduction=" .. losses.repr(self.reduction)}, ", ")
end

return TripletMarginLoss
