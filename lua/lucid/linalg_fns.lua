--- Part of lucid.linalg; help() and `make doc` read these comments.
-- @module lucid.linalg

-- The functions of torch.linalg that PyTorch 1.13 itself composes of others
-- (norm, svdvals, eigvalsh, matrix_power, multi_dot, cond, matrix_rank), and
-- lu with torch.lu_unpack, made here of lucid.linalg's ops and the core's,
-- so that their gradients, second ones too, come from those ops' rules.
-- init.lua puts M.linalg into lucid.linalg beside the C functions
-- (lucid_linalg.c) and the norms, and lu_unpack into lucid.
local args = require("lucid._args")
local C = require("lucid.core")
local norms = require("lucid.norms")

local raise, shape_str = args.raise, args.shape_str
local INF = math.huge

local M = {}

local function check_float(fname, t, what)
  if not C.is_tensor(t) then raise("%s: %s must be a tensor, got %s", fname, what, args.describe(t)) end
  if t.dtype ~= "float32" and t.dtype ~= "float64" then
    raise("%s: %s must be a float32 or float64 tensor, got %s", fname, what, t.dtype)
  end
end

local function check_matrix(fname, a, square)
  check_float(fname, a, "A")
  if a.ndim < 2 then raise("%s: A must have at least 2 dimensions, got shape %s", fname, shape_str(a)) end
  local s = a.shape
  if square and s[#s] ~= s[#s - 1] then
    raise("%s: A must be a square matrix or a batch of them, got shape %s", fname, shape_str(a))
  end
end

local function eps_of(dtype) return dtype == "float32" and 1.1920928955078125e-07 or 2.220446049250313e-16 end

-- A's batch shape (its dims but the last two)
local function batch_shape(a)
  local s = a.shape
  s[#s], s[#s - 1] = nil, nil
  return s
end

local function check_uplo(fname, uplo)
  if uplo ~= "L" and uplo ~= "U" then
    raise('%s: UPLO must be "L" or "U", got %s', fname,
      type(uplo) == "string" and '"' .. uplo .. '"' or args.describe(uplo))
  end
end

-- ord of norm: nil, a number, or "fro" / "nuc"
local function norm_ord(v, name)
  if v == nil or type(v) == "number" or v == "fro" or v == "nuc" then return nil end
  return name .. ' must be a number, "fro" or "nuc", got '
    .. (type(v) == "string" and '"' .. v .. '"' or args.describe(v))
end

local NORM = args.schema("lucid.linalg.norm", {
  {"A", args.REQUIRED}, {"ord", nil, norm_ord}, {"dim", nil}, {"keepdim", false, "boolean"},
  unsupported = {"dtype", "out"},
})

--- A vector or a matrix norm, as PyTorch 1.13's torch.linalg.norm picks
-- one: with dim one dim (a number or {d}), vector_norm along it (ord a
-- number, 2 by default); with dim two dims, matrix_norm over them when ord
-- is given ("fro" "nuc" 2 -2 1 -1 math.huge -math.huge), else the 2-norm of
-- those elements; without dim, a given ord needs A 1-D (vector_norm) or 2-D
-- (matrix_norm), and no ord is the 2-norm of all the elements. keepdim keeps
-- the reduced dims as size 1. Errors of the norm it picks name that norm.
-- @function norm
-- @usage lucid.linalg.norm(A [, ord [, dim [, keepdim = false]]])
-- @within Linear algebra
function M.norm(...)
  local fname = "lucid.linalg.norm"
  local a, ord, dim, keepdim = NORM:parse(...)
  check_float(fname, a, "A")
  local ndims = 0
  if dim ~= nil then
    if type(dim) == "table" and not C.is_tensor(dim) then ndims = #dim elseif type(dim) == "number" then ndims = 1 end
    if ndims ~= 1 and ndims ~= 2 then
      raise("%s: dim must be a dim or a table of one or two dims, got %s", fname,
        type(dim) == "table" and "a table of " .. ndims or args.describe(dim))
    end
  elseif ord ~= nil and a.ndim ~= 1 and a.ndim ~= 2 then
    raise("%s: without dim, ord needs A 1-D or 2-D, got shape %s", fname, shape_str(a))
  end
  if type(ord) == "string" or (ord ~= nil and (ndims == 2 or (dim == nil and a.ndim == 2))) then
    return norms.matrix_norm(a, ord, type(dim) == "number" and {dim} or dim or {1, 2}, keepdim)
  end
  return norms.vector_norm(a, ord or 2, dim, keepdim)
end

--- The singular values (..., min(m, n)) of a matrix or of each of a batch,
-- in descending order, as torch.linalg.svdvals: S of svd(A, false), whose
-- gradient needs no distinct singular values.
-- @function svdvals
-- @usage lucid.linalg.svdvals(A)
-- @within Linear algebra
function M.svdvals(a, ...)
  local fname = "lucid.linalg.svdvals"
  if select("#", ...) > 0 then raise("%s: takes one argument, A", fname) end
  check_matrix(fname, a, false)
  local _, s = C.linalg.svd(a, false)
  return s
end

--- The eigenvalues (..., n), ascending, of a symmetric matrix or of each of
-- a batch, read from its lower triangle (UPLO = "L") or upper one ("U"), as
-- torch.linalg.eigvalsh: L of eigh, whose gradient needs no distinct
-- eigenvalues.
-- @function eigvalsh
-- @usage lucid.linalg.eigvalsh(A [, UPLO = "L"])
-- @within Linear algebra
function M.eigvalsh(a, uplo, ...)
  local fname = "lucid.linalg.eigvalsh"
  if type(uplo) == "table" and not C.is_tensor(uplo) then uplo = uplo.UPLO end
  if select("#", ...) > 0 then raise("%s: takes A and UPLO", fname) end
  check_matrix(fname, a, true)
  uplo = uplo == nil and "L" or uplo
  check_uplo(fname, uplo)
  return (C.linalg.eigh(a, uplo))
end

--- A^n for a square matrix or each of a batch, as torch.linalg.matrix_power:
-- n = 0 gives the identity (with a zero gradient), a negative n the power
-- of inv(A) (float A only); otherwise repeated squaring with matmul, so the
-- gradient is matmul's (and inv's). Integer dtypes work for n >= 0.
-- @function matrix_power
-- @usage lucid.linalg.matrix_power(A, n)  or  A:matrix_power(n)
-- @within Linear algebra
function M.matrix_power(a, n, ...)
  local fname = "lucid.linalg.matrix_power"
  if not C.is_tensor(a) then raise("%s: A must be a tensor, got %s", fname, args.describe(a)) end
  if select("#", ...) > 0 then raise("%s: takes A and n", fname) end
  local k = args.int_of(n)
  if k == nil then raise("%s: n must be an integer, got %s", fname, args.describe(n)) end
  local s = a.shape
  if a.ndim < 2 or s[#s] ~= s[#s - 1] then
    raise("%s: A must be a square matrix or a batch of them, got shape %s", fname, shape_str(a))
  end
  if k == 0 then  -- the identity, still in A's graph (a zero gradient, as PyTorch's copy)
    local eye = C.eye(s[#s], {dtype = a.dtype})
    return a:masked_fill(C.ones(s, {dtype = "bool"}), 0) + eye
  end
  if k < 0 then
    check_float(fname, a, "A (for a negative n)")
    a, k = C.linalg.inv(a), -k
  end
  if k == 1 then return a:clone() end
  if k == 2 then return C.matmul(a, a) end
  if k == 3 then return C.matmul(C.matmul(a, a), a) end
  local z, result  -- PyTorch's binary decomposition, in its order of products
  while k > 0 do
    local bit = k % 2
    k = (k - bit) / 2
    z = z and C.matmul(z, z) or a
    if bit == 1 then result = result and C.matmul(result, z) or z end
  end
  return result
end

-- PyTorch's matrix_chain_order: split[i][j], where the product of
-- matrices i..j (p[i] x p[i + 1] each) splits at the least cost.
local function chain_order(p, n)
  local cost, split = {}, {}
  for i = 1, n do cost[i], split[i] = {[i] = 0}, {} end
  for l = 1, n - 1 do
    for i = 1, n - l do
      local j = i + l
      cost[i][j] = INF
      for k = i, j - 1 do
        local q = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
        if q < cost[i][j] then cost[i][j], split[i][j] = q, k end
      end
    end
  end
  return split
end

local function chain(ms, split, i, j)
  if i == j then return ms[i] end
  return C.matmul(chain(ms, split, i, split[i][j]), chain(ms, split, split[i][j] + 1, j))
end

--- The product of two or more matrices in the order of least cost (PyTorch's
-- torch.linalg.multi_dot: matrix chain order), the first of them a row
-- vector when 1-D and the last a column vector when 1-D (their dim is then
-- dropped from the result; both 1-D give a 0-d tensor). Every other tensor
-- is 2-D; all share a dtype. Gradients are matmul's.
-- @function multi_dot
-- @usage lucid.linalg.multi_dot({A, B, C, ...})
-- @within Linear algebra
function M.multi_dot(tensors, ...)
  local fname = "lucid.linalg.multi_dot"
  if type(tensors) ~= "table" or C.is_tensor(tensors) then
    raise("%s: tensors must be a table of tensors, got %s", fname, args.describe(tensors))
  end
  if select("#", ...) > 0 then raise("%s: takes one table of tensors", fname) end
  local ms = {}  -- the list as ipairs reads it (a table's # may say otherwise)
  for i, t in ipairs(tensors) do ms[i] = t end
  tensors = ms
  local n = #ms
  if n < 2 then raise("%s: expected at least 2 tensors, got %d", fname, n) end
  for i, t in ipairs(tensors) do
    if not C.is_tensor(t) then raise("%s: tensor %d must be a tensor, got %s", fname, i, args.describe(t)) end
    if t.dtype ~= tensors[1].dtype then
      raise("%s: all tensors must have the same dtype, but tensor 1 is %s and tensor %d %s", fname,
        tensors[1].dtype, i, t.dtype)
    end
    local ok = (i == 1 or i == n) and (t.ndim == 1 or t.ndim == 2) or t.ndim == 2
    if not ok then
      raise("%s: tensor %d must be %s, got shape %s", fname, i,
        (i == 1 or i == n) and "1-D or 2-D" or "2-D", shape_str(t))
    end
  end
  ms = {}
  for i, t in ipairs(tensors) do ms[i] = t end
  local first_vec, last_vec = ms[1].ndim == 1, ms[n].ndim == 1
  if first_vec then ms[1] = ms[1]:unsqueeze(1) end
  if last_vec then ms[n] = ms[n]:unsqueeze(2) end
  local p = {}
  for i = 1, n do
    p[i] = ms[i].shape[1]
    if i > 1 and ms[i - 1].shape[2] ~= p[i] then
      raise("%s: tensors %d and %d of shapes %s and %s cannot be multiplied", fname, i - 1, i,
        shape_str(tensors[i - 1]), shape_str(tensors[i]))
    end
  end
  p[n + 1] = ms[n].shape[2]
  local r
  if n == 2 then
    r = C.matmul(ms[1], ms[2])
  elseif n == 3 then  -- PyTorch compares the two orders directly
    local a, b, c, d = p[1], p[2], p[3], p[4]
    if a * c * (b + d) > b * d * (a + c) then r = C.matmul(ms[1], C.matmul(ms[2], ms[3]))
    else r = C.matmul(C.matmul(ms[1], ms[2]), ms[3]) end
  else
    r = chain(ms, chain_order(p, n), 1, n)
  end
  if first_vec and last_vec then return r:reshape({}) end
  if first_vec then return r:squeeze(1) end
  if last_vec then return r:squeeze(2) end
  return r
end

local function cond_ord(v, name)
  if v == nil or v == "fro" or v == "nuc" or v == INF or v == -INF or v == 1 or v == -1 or v == 2
    or v == -2 then
    return nil
  end
  return name .. ' must be nil, 2, -2, 1, -1, math.huge, -math.huge, "fro" or "nuc", got '
    .. (type(v) == "string" and '"' .. v .. '"' or args.describe(v))
end

local COND = args.schema("lucid.linalg.cond", {
  {"A", args.REQUIRED}, {"p", nil, cond_ord},
  unsupported = {"out"},
})

--- The condition number of a matrix or of each of a batch in the p-norm, as
-- torch.linalg.cond: p = nil or 2 is the largest singular value over the
-- smallest (-2 the reverse; any shape, from svdvals); 1, -1, math.huge,
-- -math.huge, "fro" and "nuc" are matrix_norm(A, p) * matrix_norm(inv(A),
-- p), for square matrices, math.huge where A is singular (inv_ex). An
-- empty matrix gives 0. Gradients through svdvals, inv and the norms.
-- @function cond
-- @usage lucid.linalg.cond(A [, p])
-- @within Linear algebra
function M.cond(...)
  local fname = "lucid.linalg.cond"
  local a, p = COND:parse(...)
  check_matrix(fname, a, false)
  if p ~= nil and p ~= 2 and p ~= -2 then check_matrix(fname, a, true) end
  if a:numel() == 0 then return C.zeros(batch_shape(a), {dtype = a.dtype}) end
  if p == nil or p == 2 or p == -2 then
    local s = M.svdvals(a)
    local k = s.shape[s.ndim]
    local big, small = s:narrow(-1, 1, 1), s:narrow(-1, k, 1)
    return (p == -2 and small / big or big / small):squeeze(-1)
  end
  local inv, info = C.linalg.inv_ex(a)
  inv = inv:masked_fill(info:gt(0):unsqueeze(-1):unsqueeze(-1), INF)
  return norms.matrix_norm(a, p) * norms.matrix_norm(inv, p)
end

local MATRIX_RANK = args.schema("lucid.linalg.matrix_rank", {
  {"A", args.REQUIRED},
  {"atol", nil, "number", keyword = true}, {"rtol", nil, "number", keyword = true},
  {"hermitian", false, "boolean", keyword = true},
  unsupported = {"tol", "out"},
})

--- The rank (int64, of the batch's shape) of a matrix or of each of a batch,
-- as torch.linalg.matrix_rank: how many singular values (|eigenvalues| of
-- the lower triangle when hermitian) exceed max(atol, rtol * the largest).
-- Without either tolerance rtol is max(m, n) * eps of the dtype; with atol >
-- 0 alone it is 0. Tolerances are numbers (PyTorch also takes tensors; its
-- deprecated tol is not taken).
-- @function matrix_rank
-- @usage lucid.linalg.matrix_rank(A [, {atol =, rtol =, hermitian = false}])
-- @within Linear algebra
function M.matrix_rank(...)
  local fname = "lucid.linalg.matrix_rank"
  local a, atol, rtol, hermitian = MATRIX_RANK:parse(...)
  check_matrix(fname, a, hermitian)
  local s = a.shape
  local m, n = s[#s - 1], s[#s]
  if rtol == nil then rtol = (atol ~= nil and atol > 0) and 0 or eps_of(a.dtype) * math.max(m, n) end
  atol = atol or 0
  if m == 0 or n == 0 then return C.zeros(batch_shape(a), {dtype = "int64"}) end
  a = a:detach()  -- a count: no graph
  local sv = hermitian and C.linalg.eigh(a):abs() or M.svdvals(a)
  local tol = (sv:amax(-1, true) * rtol):clamp_min(atol)
  return sv:gt(tol):sum(-1)
end

-- P (..., m, m) with A = P L U from 1-based pivots (..., k): the swaps
-- applied in order to the rows 1..m give perm, and P[perm[j]][j] = 1.
local function perm_matrix(fname, pivots, m, dtype)
  local k = pivots.shape[pivots.ndim]
  local shape = pivots.shape
  shape[#shape] = nil
  local count = 1
  for _, d in ipairs(shape) do count = count * d end
  shape[#shape + 1], shape[#shape + 2] = m, m
  local flat, vals = {}, k > 0 and pivots:reshape(-1):tolist() or {}
  for b = 0, count - 1 do
    local perm = {}
    for j = 1, m do perm[j] = j end
    for i = 1, k do
      local to = vals[b * k + i]
      if to < 1 or to > m then raise("%s: pivots must be in 1..%d, got %d", fname, m, to) end
      perm[i], perm[to] = perm[to], perm[i]
    end
    local base = b * m * m
    for j = 1, m * m do flat[base + j] = 0 end
    for j = 1, m do flat[base + (perm[j] - 1) * m + j] = 1 end
  end
  return C.tensor(flat, {dtype = dtype}):reshape(shape)
end

local function unpack_lu(fname, lu, pivots, unpack_data, unpack_pivots)
  local s = lu.shape
  local m, n = s[#s - 1], s[#s]
  local k = math.min(m, n)
  local p, l, u = C.empty({0}, {dtype = lu.dtype}), C.empty({0}, {dtype = lu.dtype}), C.empty({0}, {dtype = lu.dtype})
  if unpack_pivots then
    if pivots.ndim ~= lu.ndim - 1 or pivots.shape[pivots.ndim] ~= k then
      raise("%s: LU %s and pivots %s: pivots must have LU's batch dims and min(m, n) = %d elements", fname,
        shape_str(lu), shape_str(pivots), k)
    end
    p = perm_matrix(fname, pivots, m, lu.dtype)
  end
  if unpack_data then
    l = lu:narrow(-1, 1, k):tril(-1) + C.eye(m, k, {dtype = lu.dtype})
    u = lu:narrow(-2, 1, k):triu()
  end
  return p, l, u
end

local LU = args.schema("lucid.linalg.lu", {
  {"A", args.REQUIRED}, {"pivot", true, "boolean", keyword = true},
  unsupported = {"out"},
})

--- Three results, P, L and U with A = P L U, of A (..., m, n), k = min(m,
-- n), as torch.linalg.lu: P (..., m, m) a permutation, L (..., m, k) lower
-- triangular with ones on its diagonal, U (..., k, n) upper triangular. A
-- singular A is no error. Made of lu_factor_ex and its unpacking, so the
-- gradient through L and U is PyTorch's (P has none).
-- @function lu
-- @usage local P, L, U = lucid.linalg.lu(A [, {pivot = true}])
-- @within Linear algebra
function M.lu(...)
  local fname = "lucid.linalg.lu"
  local a, pivot = LU:parse(...)
  check_matrix(fname, a, false)
  if not pivot then
    raise("%s: LU without pivoting (pivot = false) is not implemented, as in PyTorch on the CPU", fname)
  end
  local lu, pivots = C.linalg.lu_factor_ex(a)
  return unpack_lu(fname, lu, pivots, true, true)
end

local LU_UNPACK = args.schema("lucid.lu_unpack", {
  {"LU_data", args.REQUIRED}, {"LU_pivots", args.REQUIRED},
  {"unpack_data", true, "boolean"}, {"unpack_pivots", true, "boolean"},
  unsupported = {"out"},
})

-- lucid.lu_unpack (documented where init.lua sets it, in module lucid)
local function lu_unpack(...)
  local fname = "lucid.lu_unpack"
  local lu, pivots, unpack_data, unpack_pivots = LU_UNPACK:parse(...)
  check_float(fname, lu, "LU_data")
  if lu.ndim < 2 then raise("%s: LU_data must have at least 2 dimensions, got shape %s", fname, shape_str(lu)) end
  if not C.is_tensor(pivots) or (pivots.dtype ~= "int32" and pivots.dtype ~= "int64") then
    raise("%s: LU_pivots must be an int32 tensor (lu_factor's), got %s", fname,
      C.is_tensor(pivots) and pivots.dtype or args.describe(pivots))
  end
  return unpack_lu(fname, lu, pivots, unpack_data, unpack_pivots)
end

return {linalg = M, lu_unpack = lu_unpack}
