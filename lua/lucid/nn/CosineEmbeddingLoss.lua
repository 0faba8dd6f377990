--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.CosineEmbeddingLoss: as torch.nn.CosineEmbeddingLoss (PyTorch 1.13);
-- options positionally in PyTorch's order or by name in a table.
local nn = require("lucid.nn")
local args = require("lucid._args")
local losses = require("lucid.nn.losses")

--- 1 - cos(input1, input2) where target is 1 and max(0, cos - margin) where it
-- is -1; inputs {N, D} (target {N}) or {D} (0-d target), the cosine over D.
-- @function CosineEmbeddingLoss
-- @usage nn.CosineEmbeddingLoss([margin = 0 [, reduction = "mean"]])(input1, input2, target)
-- @within nn: losses
-- @aka nn.functional.cosine_embedding_loss
local CosineEmbeddingLoss = nn.Module:extend("CosineEmbeddingLoss")

CosineEmbeddingLoss.schema = args.schema("nn.CosineEmbeddingLoss",
  losses.schema_entries("cosine_embedding_loss"))

function CosineEmbeddingLoss:__init(...)
  self.margin, self.reduction = CosineEmbeddingLoss.schema:parse(...)
end

function CosineEmbeddingLoss:forward(input1, input2, target)
  return losses._cosine_embedding("nn.CosineEmbeddingLoss", input1, input2, target, self.margin, self.reduction)
end

function CosineEmbeddingLoss:extra_repr()
  return table.concat({"margin=" .. losses.repr(self.margin), "reduction=" .. losses.repr(self.reduction)}, ", ")
end

return CosineEmbeddingLoss
