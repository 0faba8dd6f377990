--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.CosineSimilarity: as torch.nn.CosineSimilarity (PyTorch 1.13);
-- options positionally in PyTorch's order or by name in a table.
local nn = require("lucid.nn")
local args = require("lucid._args")
local losses = require("lucid.nn.losses")

--- The cosine of the angle between x1 and x2 along dim (1-based, default 2,
-- PyTorch's dim=1): sum(x1 / |x1| * x2 / |x2|) with each norm at least eps;
-- x1 and x2 broadcast.
-- @function CosineSimilarity
-- @usage nn.CosineSimilarity([dim = 2 [, eps = 1e-8]])(x1, x2)
-- @within nn: more layers
-- @aka nn.functional.cosine_similarity
local CosineSimilarity = nn.Module:extend("CosineSimilarity")

CosineSimilarity.schema = args.schema("nn.CosineSimilarity",
  losses.schema_entries("cosine_similarity"))

function CosineSimilarity:__init(...)
  self.dim, self.eps = CosineSimilarity.schema:parse(...)
end

function CosineSimilarity:forward(x1, x2)
  return losses._cosine_similarity("nn.CosineSimilarity", x1, x2, self.dim, self.eps)
end

function CosineSimilarity:extra_repr()
  return table.concat({"dim=" .. losses.repr(self.dim, true), "eps=" .. losses.repr(self.eps)}, ", ")
end

return CosineSimilarity
