--- Part of lucid; help() and `make doc` read these comments.
-- @module lucid

-- The matrix-product shorthands PyTorch has beside matmul, each checking
-- the ranks it promises, then built on matmul (so autograd comes for free).
local args = require("lucid._args")
local C = require("lucid.core")
local compat = require("lucid._compat")

local raise, shape_str = args.raise, args.shape_str

local function check(fname, t, ndim, what)
  if not C.is_tensor(t) then
    raise(string.format("lucid.%s: %s must be a tensor, got %s", fname, what, type(t)))
  end
  if t.ndim ~= ndim then
    raise(string.format("lucid.%s: %s must be %d-D, got shape %s", fname, what, ndim, shape_str(t)))
  end
end

-- matmul(a, b) once the inner sizes (dim ia of a, dim ib of b) are known to
-- agree, so that a shape error is told under the shorthand's own name.
-- The product's size is checked too (the sizes of a but dim ia, times b's
-- last when it has more than one dim), as outer does.
local function matmul_as(fname, a, b, ia, ib)
  local as, bs = a.shape, b.shape
  local ka, kb = as[ia], bs[ib]
  if ka ~= kb then
    raise("lucid.%s: shapes %s and %s do not fit (%d ~= %d)", fname, shape_str(a), shape_str(b), ka, kb)
  end
  local n = #bs > 1 and bs[#bs] or 1
  for i, d in ipairs(as) do if i ~= ia then n = n * d end end
  if n > 2 ^ 60 then
    raise("lucid.%s: shapes %s and %s give a product too large to hold", fname, shape_str(a), shape_str(b))
  end
  return C.matmul(a, b)
end

local M = {}

--- 2-D matrix product (n, k) x (k, m); an error for other ranks.
-- @function mm
-- @usage lucid.mm(a, b)  or  a:mm(b)
-- @within Linear algebra

-- mm(a, b): (n, k) @ (k, m)
function M.mm(a, b)
  check("mm", a, 2, "input")
  check("mm", b, 2, "mat2")
  return matmul_as("mm", a, b, 2, 1)
end

--- Batched matrix product (batch, n, k) x (batch, k, m), batches not broadcast.
-- @function bmm
-- @usage lucid.bmm(a, b)  or  a:bmm(b)
-- @within Linear algebra

-- bmm(a, b): (batch, n, k) @ (batch, k, m), no broadcasting of the batch
function M.bmm(a, b)
  check("bmm", a, 3, "input")
  check("bmm", b, 3, "mat2")
  if a.shape[1] ~= b.shape[1] then
    raise(string.format("lucid.bmm: batch sizes of shapes %s and %s differ (%d ~= %d)",
      shape_str(a), shape_str(b), a.shape[1], b.shape[1]))
  end
  return matmul_as("bmm", a, b, 3, 2)
end

--- The dot product of two 1-D tensors, as a 0-d tensor.
-- @function dot
-- @usage lucid.dot(a, b)  or  a:dot(b)
-- @within Linear algebra

-- dot(a, b): the inner product of two 1-D tensors, 0-d
function M.dot(a, b)
  check("dot", a, 1, "input")
  check("dot", b, 1, "tensor")
  return matmul_as("dot", a, b, 1, 1)
end

--- The outer product of two 1-D tensors: an (n, m) matrix.
-- @function outer
-- @usage lucid.outer(a, b)  or  a:outer(b)
-- @within Linear algebra

-- outer(a, b): (n) x (m) -> (n, m)
function M.outer(a, b)
  check("outer", a, 1, "input")
  check("outer", b, 1, "vec2")
  if a:numel() > 0 and b:numel() > compat.idiv(compat.pow2(60), a:numel()) then
    raise(string.format("lucid.outer: shapes %s and %s give a product too large to hold",
      shape_str(a), shape_str(b)))
  end
  return C.mul(a:reshape(-1, 1), b)
end

-- addmm(input, m1, m2 [, beta = 1, alpha = 1]) or addmm(input, m1, m2, {beta =, alpha =}):
-- beta * input + alpha * (m1 @ m2), input broadcasting to the product's shape
local ADDMM = args.schema("lucid.addmm", {
  {"input", nil}, {"mat1", nil}, {"mat2", nil},
  {"beta", 1, "number"}, {"alpha", 1, "number"},
  unsupported = {"out"},
})

--- beta * input + alpha * (mat1 x mat2), input broadcasting to the product's shape
-- (beta = alpha = 1 by default), as torch.addmm.
-- @function addmm
-- @usage lucid.addmm(input, mat1, mat2 [, {beta = 1, alpha = 1}])
-- @within Linear algebra
function M.addmm(...)
  local input, m1, m2, beta, alpha = ADDMM:parse(...)
  if not C.is_tensor(input) then
    raise("lucid.addmm: input must be a tensor, got " .. type(input))
  end
  check("addmm", m1, 2, "mat1")
  check("addmm", m2, 2, "mat2")
  local prod = matmul_as("addmm", m1, m2, 2, 1)
  if alpha ~= 1 then prod = prod * alpha end
  if beta == 0 then return prod + input * 0 end  -- PyTorch ignores input's values, not its shape
  return beta == 1 and input + prod or input * beta + prod
end

-- torch's aliases of torch.linalg's functions, as functions and methods.
-- Their errors name the lucid.linalg function that does the work.

--- The inverse of a square matrix or of each of a batch: lucid.linalg.inv,
-- as torch.inverse.
-- @function inverse
-- @usage lucid.inverse(A)  or  A:inverse()
-- @within Linear algebra
function M.inverse(a, ...) return C.linalg.inv(a, ...) end

--- The determinant: lucid.linalg.det, as torch.det.
-- @function det
-- @usage lucid.det(A)  or  A:det()
-- @within Linear algebra
function M.det(a, ...) return C.linalg.det(a, ...) end

--- sign and log|det|: lucid.linalg.slogdet, as torch.slogdet.
-- @function slogdet
-- @usage local sign, logabsdet = A:slogdet()
-- @within Linear algebra
function M.slogdet(a, ...) return C.linalg.slogdet(a, ...) end

--- log(det A), as torch.logdet: NaN where the determinant is negative,
-- -math.huge where it is 0; the gradient is slogdet's, A^-T.
-- @function logdet
-- @usage lucid.logdet(A)  or  A:logdet()
-- @within Linear algebra
function M.logdet(a, ...)
  local sign, logabs = C.linalg.slogdet(a, ...)
  return logabs:masked_fill(sign:eq(-1), 0 / 0)
end

--- The pseudoinverse with singular values at most rcond * the largest
-- dropped, as torch.pinverse: lucid.linalg.pinv(A, {rtol = rcond, atol = 0}).
-- @function pinverse
-- @usage lucid.pinverse(A [, rcond = 1e-15])  or  A:pinverse([rcond])
-- @within Linear algebra
function M.pinverse(a, rcond, ...)
  if select("#", ...) > 0 then raise("lucid.pinverse: takes A and rcond") end
  if rcond ~= nil and type(rcond) ~= "number" then
    raise("lucid.pinverse: rcond must be a number, got " .. args.describe(rcond))
  end
  return C.linalg.pinv(a, {atol = 0, rtol = rcond or 1e-15})
end

--- A^n: lucid.linalg.matrix_power, as torch.matrix_power.
-- @function matrix_power
-- @usage lucid.matrix_power(A, n)  or  A:matrix_power(n)
-- @within Linear algebra
function M.matrix_power(a, n, ...) return require("lucid.linalg_fns").linalg.matrix_power(a, n, ...) end

return M
