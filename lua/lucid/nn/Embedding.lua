--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.Embedding(num_embeddings, embedding_dim [, padding_idx]), or with a
-- table of those names: a lookup table. Called with a tensor of indices
-- (floats holding 1-based integers, any shape {...}; a Lua array is also
-- accepted) it returns the rows {..., embedding_dim}. The weight
-- {num_embeddings, embedding_dim} is drawn from N(0, 1) as PyTorch; the
-- gradient reaches only the rows used (summed over repeats). With
-- padding_idx (1-based, negative from the end) that row starts at zero and
-- never gets a gradient.
local lucid = require("lucid")
local C = require("lucid.core")
local nn = require("lucid.nn")
local init = require("lucid.nn.initializers")
local args = require("lucid._args")
local compat = require("lucid._compat")
local raise, shape_str = args.raise, args.shape_str

--- A lookup table: called with a tensor (or Lua array) of 1-based indices it
-- returns their rows, {..., embedding_dim}. weight is drawn from N(0, 1); only
-- the rows used get gradients; the padding_idx row stays zero. Under
-- Module:reuse_buffers a tensor of indices is looked up into a kept result.
-- @function Embedding
-- @usage nn.Embedding(num_embeddings, embedding_dim [, padding_idx])
-- @within nn: more layers
local Embedding = nn.Module:extend("Embedding")

-- padding_idx: checked against num_embeddings in __init
local function index_check(v, name)
  local i = args.int_of(v)
  if i == nil then return name .. " must be an integer, got " .. args.describe(v) end
  return nil, i
end

Embedding.schema = args.schema("nn.Embedding", {
  {"num_embeddings", args.REQUIRED, "size"},
  {"embedding_dim", args.REQUIRED, "size"},
  {"padding_idx", nil, index_check},
  {"_weight", nil, "tensor", keyword = true},
  unsupported = {"max_norm", "norm_type", "scale_grad_by_freq", "sparse", "_freeze", "device", "dtype"},
})

function Embedding:__init(...)
  local num_embeddings, embedding_dim, padding_idx, w = Embedding.schema:parse(...)
  args.numel("nn.Embedding", "weight {num_embeddings, embedding_dim}", num_embeddings, embedding_dim)
  if padding_idx ~= nil then
    if padding_idx == 0
        or padding_idx > num_embeddings or padding_idx < -num_embeddings then
      raise(string.format("nn.Embedding: padding_idx must be within 1..%d (or -%d..-1), got %s",
        num_embeddings, num_embeddings, tostring(padding_idx)))
    end
    if padding_idx < 0 then padding_idx = num_embeddings + 1 + padding_idx end
  end
  self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
  if w ~= nil then
    if w.ndim ~= 2 or w.shape[1] ~= num_embeddings or w.shape[2] ~= embedding_dim then
      raise(string.format("nn.Embedding: _weight must be a tensor of shape {%d, %d}", num_embeddings,
        embedding_dim))
    end
    self.weight = nn.Parameter(w:detach())
  else
    self.weight = nn.Parameter(args.make("nn.Embedding", "weight", lucid.empty, num_embeddings, embedding_dim))
    init.normal_(self.weight)
    if padding_idx then lucid.no_grad(function() self.weight[padding_idx] = 0 end) end
  end
end

-- nn.Embedding.from_pretrained(embeddings [, freeze = true [, padding_idx]]):
-- an Embedding whose weight shares embeddings' values ({num, dim}); with
-- freeze (the default) the weight does not require grad.
Embedding.from_pretrained_schema = args.schema("nn.Embedding.from_pretrained", {
  {"embeddings", args.REQUIRED, "tensor"},
  {"freeze", true, "boolean"},
  {"padding_idx", nil, index_check},
  unsupported = {"max_norm", "norm_type", "scale_grad_by_freq", "sparse"},
})

function Embedding.from_pretrained(...)
  local embeddings, freeze, padding_idx = Embedding.from_pretrained_schema:parse(...)
  if embeddings.ndim ~= 2 then
    raise("nn.Embedding.from_pretrained: embeddings must be a 2-d tensor")
  end
  local e = Embedding(embeddings.shape[1], embeddings.shape[2], padding_idx, {_weight = embeddings})
  e.weight.requires_grad = not freeze
  return e
end

-- Checks that idx holds integers in 1..n; raises naming the first bad value.
local function check_indices(idx, n)
  if idx:numel() == 0 then return end
  local lo, hi = lucid.min(idx):item(), lucid.max(idx):item()
  local integral = lucid.eq(idx, lucid.floor(idx)):min():item()
  if lo >= 1 and hi <= n and integral then return end
  local flat = idx:reshape(-1):tolist()
  for i, v in ipairs(flat) do
    if v ~= v or v < 1 or v > n or v ~= math.floor(v) then
      raise(string.format("nn.Embedding: index %s (element %d of the input %s) is out of range 1..%d",
        tostring(v == math.floor(v) and compat.tointeger(v) or v), i, shape_str(idx.shape), n))
    end
  end
end

local select_out = lucid.index_select

function Embedding:forward(idx)
  -- reuse_buffers: the rows go straight into the kept result (its shape is
  -- idx's with the embedding dim added), the core checking the indices; a
  -- bad index leaves it to the usual path below, which names it
  if rawget(self, "_reuse") then
    local out = self:_kept(idx)
    if out ~= nil and out.dtype == self.weight.dtype and pcall(select_out, self.weight, 1, idx, out) then
      return out
    end
  end
  if type(idx) == "table" then idx = lucid.tensor(idx, {dtype = "int64"}) end
  if not C.is_tensor(idx) then
    raise("nn.Embedding: expected a tensor of indices, got " .. type(idx))
  end
  idx = idx:detach()
  check_indices(idx, self.num_embeddings)
  local flat = idx:reshape(-1)
  local rows = lucid.index_select(self.weight, 1, flat)   -- {M, dim}
  if self.padding_idx then
    -- the padding row's values pass, but no gradient reaches it
    local keep = lucid.ne(flat, self.padding_idx):reshape(-1, 1)
    rows = lucid.where(keep, rows, rows:detach())
  end
  local shape = idx.shape
  shape[#shape + 1] = self.embedding_dim
  return self:_keep(idx, rows:reshape(shape))
end

function Embedding:extra_repr()
  local s = string.format("%d, %d", self.num_embeddings, self.embedding_dim)
  if self.padding_idx then s = s .. ", padding_idx=" .. self.padding_idx end
  return s
end

return Embedding
