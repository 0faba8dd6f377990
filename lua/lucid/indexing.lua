--- Part of lucid; help() and `make doc` read these comments.
-- @module lucid

-- Indexing ops written with the core's (gather, cumsum, where, ...), so
-- that gradients come for free: take_along_dim and masked_scatter.
local args = require("lucid._args")
local C = require("lucid.core")

local raise, shape_str = args.raise, args.shape_str

local M = {}

local function check_tensor(fname, v, what)
  if not C.is_tensor(v) then
    raise(string.format("%s: %s must be a tensor, got %s", fname, what, type(v)))
  end
end

local TAKE = args.schema("lucid.take_along_dim", {
  {"input", args.REQUIRED, function(v) if not C.is_tensor(v) then return "expected a tensor" end end},
  {"indices", args.REQUIRED, function(v) if not C.is_tensor(v) then return "expected a tensor" end end},
  {"dim", nil, "number"},
})

--- The values of t at the 1-based indices along dim, as torch.take_along_dim:
-- gather after t and indices broadcast over the other dims (without dim, both
-- flattened). indices is an int64 tensor, often from argsort or argmax with
-- keepdim. Gradients flow back to t.
-- @function take_along_dim
-- @usage lucid.take_along_dim(input, indices [, dim])  or  input:take_along_dim(indices [, dim])
-- @within Shapes and indexing
function M.take_along_dim(...)
  local o = TAKE:table(...)
  local t, idx = o.input, o.indices
  if o.dim == nil then return C.gather(t:reshape(-1), 1, idx:reshape(-1)) end
  if t.ndim ~= idx.ndim then
    raise("lucid.take_along_dim: input %s and indices %s need the same number of dims",
      shape_str(t), shape_str(idx))
  end
  local d = o.dim
  if d ~= math.floor(d) or d == 0 or d > t.ndim or d < -t.ndim then
    raise("lucid.take_along_dim: dimension %s is out of range for a %d-d tensor", tostring(d), t.ndim)
  end
  if d < 0 then d = t.ndim + d + 1 end
  -- every dim but d broadcasts between the two
  local ts, is = {}, {}
  for i = 1, t.ndim do
    local a, b = t.shape[i], idx.shape[i]
    if i == d then
      ts[i], is[i] = a, b
    elseif a == b or a == 1 or b == 1 then
      local n = a == 1 and b or a
      ts[i], is[i] = n, n
    else
      raise("lucid.take_along_dim: input %s and indices %s do not broadcast (dim %d)",
        shape_str(t), shape_str(idx), i)
    end
  end
  return C.gather(t:expand(ts), d, idx:expand(is))
end

--- t with the elements where mask is true replaced, in row-major order, by the
-- first values of source (as many as the mask has trues), as
-- torch.masked_scatter; mask is a bool tensor that broadcasts to t's shape.
-- Gradients flow to t (where mask is false) and to the source values used.
-- @function masked_scatter
-- @usage lucid.masked_scatter(t, mask, source)  or  t:masked_scatter(mask, source)
-- @within Shapes and indexing
function M.masked_scatter(t, mask, source, ...)
  local fname = "lucid.masked_scatter"
  check_tensor(fname, t, "the input")
  check_tensor(fname, mask, "mask")
  check_tensor(fname, source, "source")
  if select("#", ...) > 0 then raise("%s: expected 3 arguments, got more", fname) end
  if mask.dtype ~= "bool" then
    raise("%s: mask must be a bool tensor, got %s (compare, or use mask:bool())", fname, mask.dtype)
  end
  local m = mask:expand(t.shape):reshape(-1)
  local count = m:sum():item()
  local src = source:reshape(-1)
  if src.shape[1] < count then
    raise("%s: the mask has %d trues but source %s only %d elements", fname, count,
      shape_str(source), src.shape[1])
  end
  if count == 0 then return t:clone() end
  -- element k of t takes source[rank of k among the trues]: the running count
  local rank = (m:cumsum(1) - 1):clamp(0, count - 1)
  local taken = C.gather(src:narrow(1, 1, count), 1, rank + 1):reshape(t.shape)
  return C.where(m:reshape(t.shape), taken, t)
end

return M
