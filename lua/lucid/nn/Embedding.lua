--- nn.Embedding(num_embeddings, embedding_dim [, padding_idx]), or with a
-- table of those names: a lookup table. Called with a tensor of indices
-- (floats holding 1-based integers, any shape {...}; a Lua array is also
-- accepted) it returns the rows {..., embedding_dim}. The weight
-- {num_embeddings, embedding_dim} is drawn from N(0, 1) as PyTorch; the
-- gradient reaches only the rows used (summed over repeats). With
-- padding_idx (1-based, negative from the end) that row starts at zero and
-- never gets a gradient.
local raise = require("lucid._args").raise
local lucid = require("lucid")
local C = require("lucid.core")
local nn = require("lucid.nn")
local init = require("lucid.nn.initializers")
local check = require("lucid.nn._check")

local Embedding = nn.Module:extend("Embedding")

function Embedding:__init(num_embeddings, embedding_dim, padding_idx, opts)
  if type(num_embeddings) == "table" then
    opts = num_embeddings
    num_embeddings, embedding_dim, padding_idx = opts.num_embeddings, opts.embedding_dim, opts.padding_idx
  elseif type(padding_idx) == "table" then
    opts, padding_idx = padding_idx, padding_idx.padding_idx
  end
  opts = opts or {}
  if type(opts) ~= "table" then
    raise("nn.Embedding: options must be a table, got " .. type(opts))
  end
  num_embeddings = check.size("Embedding", "num_embeddings", num_embeddings, 3)
  embedding_dim = check.size("Embedding", "embedding_dim", embedding_dim, 3)
  check.numel("Embedding", "weight {num_embeddings, embedding_dim}", 3, num_embeddings, embedding_dim)
  for _, unsupported in ipairs({"max_norm", "scale_grad_by_freq", "sparse"}) do
    if opts[unsupported] then raise("nn.Embedding: " .. unsupported .. " is not supported") end
  end
  if padding_idx ~= nil then
    padding_idx = type(padding_idx) == "number" and math.tointeger(padding_idx) or padding_idx
    if math.type(padding_idx) ~= "integer" or padding_idx == 0
        or padding_idx > num_embeddings or padding_idx < -num_embeddings then
      raise(string.format("nn.Embedding: padding_idx must be within 1..%d (or -%d..-1), got %s",
        num_embeddings, num_embeddings, tostring(padding_idx)))
    end
    if padding_idx < 0 then padding_idx = num_embeddings + 1 + padding_idx end
  end
  self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
  local w = opts._weight
  if w ~= nil then
    if not C.is_tensor(w) or w.ndim ~= 2 or w.shape[1] ~= num_embeddings or w.shape[2] ~= embedding_dim then
      raise(string.format("nn.Embedding: _weight must be a tensor of shape {%d, %d}", num_embeddings,
        embedding_dim))
    end
    self.weight = nn.Parameter(w:detach())
  else
    self.weight = nn.Parameter(check.make("Embedding", "weight", 3, lucid.empty, num_embeddings, embedding_dim))
    init.normal_(self.weight)
    if padding_idx then lucid.no_grad(function() self.weight[padding_idx] = 0 end) end
  end
end

--- nn.Embedding.from_pretrained(embeddings [, freeze = true [, padding_idx]]):
-- an Embedding whose weight shares embeddings' values ({num, dim}); with
-- freeze (the default) the weight does not require grad.
function Embedding.from_pretrained(embeddings, freeze, padding_idx)
  if type(freeze) == "table" then freeze, padding_idx = freeze.freeze, freeze.padding_idx end
  if not C.is_tensor(embeddings) or embeddings.ndim ~= 2 then
    raise("nn.Embedding.from_pretrained: embeddings must be a 2-d tensor")
  end
  if freeze == nil then freeze = true end
  local e = Embedding(embeddings.shape[1], embeddings.shape[2], padding_idx, {_weight = embeddings})
  e.weight.requires_grad = not freeze
  return e
end

local function shape_str(shape)
  return "{" .. table.concat(shape, ", ") .. "}"
end

-- Checks that idx holds integers in 1..n; raises naming the first bad value.
local function check_indices(idx, n)
  if idx:numel() == 0 then return end
  local lo, hi = lucid.min(idx):item(), lucid.max(idx):item()
  local integral = lucid.eq(idx, lucid.floor and lucid.floor(idx) or idx):min():item() == 1
  if lo >= 1 and hi <= n and integral then return end
  local flat = idx:reshape(-1):tolist()
  for i, v in ipairs(flat) do
    if v ~= v or v < 1 or v > n or v ~= math.floor(v) then
      raise(string.format("nn.Embedding: index %s (element %d of the input %s) is out of range 1..%d",
        tostring(v == math.floor(v) and math.tointeger(v) or v), i, shape_str(idx.shape), n))
    end
  end
end

function Embedding:forward(idx)
  if type(idx) == "table" then idx = lucid.tensor(idx, {dtype = "float64"}) end
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
  return rows:reshape(shape)
end

function Embedding:extra_repr()
  local s = string.format("%d, %d", self.num_embeddings, self.embedding_dim)
  if self.padding_idx then s = s .. ", padding_idx=" .. self.padding_idx end
  return s
end

return Embedding
