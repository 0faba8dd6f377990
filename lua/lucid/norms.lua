--- Part of lucid.linalg; help() and `make doc` read these comments.
-- @module lucid.linalg

-- lucid.linalg's norms, PyTorch 1.13's vector_norm and matrix_norm, built
-- from ops (norm, amax, sum, svd, ...), so their gradients, second ones too,
-- come from those ops' rules. init.lua puts them into lucid.linalg beside
-- the C functions (lucid_linalg.c).
local args = require("lucid._args")
local C = require("lucid.core")

local raise, shape_str = args.raise, args.shape_str
local INF = math.huge

local M = {}

local function check_float(fname, t, what)
  if not C.is_tensor(t) then raise("%s: %s must be a tensor, got %s", fname, what, args.describe(t)) end
  if t.dtype ~= "float32" and t.dtype ~= "float64" then
    raise("%s: %s must be a float32 or float64 tensor, got %s", fname, what, t.dtype)
  end
end

-- dims (a number or a table of them, 1-based, negative from the end) as a
-- sorted array of distinct positive dims of an ndim-d tensor
local function dim_list(fname, dim, ndim)
  local list = type(dim) == "table" and dim or {dim}
  local seen, out = {}, {}
  for _, d in ipairs(list) do
    local i = args.int_of(d)
    if i == nil then raise("%s: dim must be an integer or a table of them, got %s", fname, args.describe(d)) end
    local n = math.max(ndim, 1)
    if i < -n or i > n or i == 0 then
      raise("%s: dimension %d is out of range for a %d-d tensor", fname, i, ndim)
    end
    if i < 0 then i = i + n + 1 end
    if seen[i] then raise("%s: dimension %d appears twice in dim", fname, i) end
    seen[i] = true
    out[#out + 1] = i
  end
  table.sort(out)
  return out
end

-- x with the dims of `dims` moved to the end, in order: the permutation
local function to_end(x, dims)
  local moved, perm = {}, {}
  for _, d in ipairs(dims) do moved[d] = true end
  for d = 1, x.ndim do if not moved[d] then perm[#perm + 1] = d end end
  for _, d in ipairs(dims) do perm[#perm + 1] = d end
  return x:permute(perm)
end

-- r (x's shape without dims) reshaped with those dims back as size 1
local function keep_dims(r, shape, dims)
  local out = {}
  for d = 1, #shape do out[d] = shape[d] end
  for _, d in ipairs(dims) do out[d] = 1 end
  return r:reshape(out)
end

-- The ord-norm of x along its last dim (ord any number, inf and -inf).
local function norm_last(y, ord)
  if ord == 0 then  -- how many are nonzero: a zero gradient, as PyTorch
    return y:ne(0):sum(-1):to(y.dtype) + (y * 0):sum(-1)
  elseif ord == -INF then
    return y:abs():amin(-1)
  elseif ord > 0 then  -- the norm op: PyTorch's gradient where the norm is 0
    return y:norm(ord, -1)
  end
  return y:abs():pow(ord):sum(-1):pow(1 / ord)
end

local VECTOR_NORM = args.schema("lucid.linalg.vector_norm", {
  {"x", args.REQUIRED}, {"ord", 2, "number"}, {"dim", nil}, {"keepdim", false, "boolean"},
  unsupported = {"dtype", "out"},
})

--- The ord-norm of x's elements, of all of them (dim = nil) or along dim (a
-- dim or a table of dims, 1-based, negative from the end), as PyTorch 1.13's
-- torch.linalg.vector_norm: ord a number, math.huge (max |x|), -math.huge
-- (min |x|), 0 (the count of nonzero elements, with a zero gradient); keepdim
-- keeps the reduced dims as size 1. x is float32 or float64. Gradients as
-- PyTorch's (0 where a 2-norm is 0; ties of the max norm share).
-- @function vector_norm
-- @usage lucid.linalg.vector_norm(x [, ord = 2 [, dim [, keepdim = false]]])
-- @within Linear algebra
function M.vector_norm(...)
  local fname = "lucid.linalg.vector_norm"
  local x, ord, dim, keepdim = VECTOR_NORM:parse(...)
  check_float(fname, x, "x")
  if ord ~= ord then raise("%s: ord must be a number, got nan", fname) end
  local shape = x.shape
  local dims
  if dim == nil or (type(dim) == "table" and #dim == 0) then
    dims = {}
    for d = 1, x.ndim do dims[d] = d end
  else
    dims = dim_list(fname, dim, x.ndim)
  end
  local y = to_end(x, dims)
  local kept = x.ndim - #dims
  y = x.ndim == 0 and y:reshape(1) or y:flatten(kept + 1, -1)
  local r = norm_last(y, ord)
  if keepdim and x.ndim > 0 then r = keep_dims(r, shape, dims) end
  return r
end

local function matrix_ord(v, name)
  if v == "fro" or v == "nuc" or v == INF or v == -INF or v == 1 or v == -1 or v == 2 or v == -2 then
    return nil
  end
  return name .. ' must be "fro", "nuc", math.huge, -math.huge, 1, -1, 2 or -2, got '
    .. (type(v) == "string" and '"' .. v .. '"' or args.describe(v))
end

local MATRIX_NORM = args.schema("lucid.linalg.matrix_norm", {
  {"A", args.REQUIRED}, {"ord", "fro", matrix_ord}, {"dim", nil, "table"}, {"keepdim", false, "boolean"},
  unsupported = {"dtype", "out"},
})

-- The singular values (..., k) of the matrices in the last two dims.
local function svdvals(b)
  local _, s = C.linalg.svd(b, false)
  return s
end

--- The ord-norm of a matrix, or of each of a batch, as PyTorch 1.13's
-- torch.linalg.matrix_norm: "fro" (the default, sqrt of the sum of squares),
-- "nuc" (the sum of the singular values), 2 and -2 (the largest and the
-- smallest singular value), 1 and -1 (max and min column sums of |A|),
-- math.huge and -math.huge (max and min row sums). dim: the two dims holding
-- the matrices ({-2, -1}); keepdim keeps them as size 1. Gradients come from
-- the ops it is made of (the SVD's through its singular values).
-- @function matrix_norm
-- @usage lucid.linalg.matrix_norm(A [, ord = "fro" [, dim = {-2, -1} [, keepdim = false]]])
-- @within Linear algebra
function M.matrix_norm(...)
  local fname = "lucid.linalg.matrix_norm"
  local a, ord, dim, keepdim = MATRIX_NORM:parse(...)
  check_float(fname, a, "A")
  if a.ndim < 2 then raise("%s: A must have at least 2 dimensions, got shape %s", fname, shape_str(a)) end
  dim = dim or {-2, -1}
  if #dim ~= 2 then raise("%s: dim must be two dims, got %d", fname, #dim) end
  local dims = dim_list(fname, dim, a.ndim)
  -- the matrices in the last two dims, in dim's order
  local order = {}
  for d = 1, a.ndim do if d ~= dims[1] and d ~= dims[2] then order[#order + 1] = d end end
  local d1, d2 = dim[1] < 0 and dim[1] + a.ndim + 1 or dim[1], dim[2] < 0 and dim[2] + a.ndim + 1 or dim[2]
  order[#order + 1], order[#order + 2] = d1, d2
  local b = a:permute(order)
  local r
  if ord == "fro" then
    r = b:flatten(-2, -1):norm(2, -1)
  elseif ord == "nuc" then
    r = svdvals(b):sum(-1)
  elseif ord == 2 or ord == -2 then
    local s = svdvals(b)
    r = ord == 2 and s:amax(-1) or s:amin(-1)
  else  -- 1, -1: column sums; inf, -inf: row sums
    local sums = b:abs():sum((ord == 1 or ord == -1) and -2 or -1)
    r = ord > 0 and sums:amax(-1) or sums:amin(-1)
  end
  if keepdim then r = keep_dims(r, a.shape, dims) end
  return r
end

return M
