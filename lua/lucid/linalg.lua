--- The matrix-product shorthands PyTorch has beside matmul, each checking
-- the ranks it promises, then built on matmul (so autograd comes for free).
local raise = require("lucid._args").raise
local C = require("lucid.core")

local function shape_str(t)
  return "{" .. table.concat(t.shape, ", ") .. "}"
end

local function check(fname, t, ndim, what)
  if not C.is_tensor(t) then
    raise(string.format("lucid.%s: %s must be a tensor, got %s", fname, what, type(t)))
  end
  if t.ndim ~= ndim then
    raise(string.format("lucid.%s: %s must be %d-D, got shape %s", fname, what, ndim, shape_str(t)))
  end
end

-- matmul(a, b), with its errors told under the shorthand's own name.
local function matmul_as(fname, a, b)
  local ok, r = pcall(C.matmul, a, b)
  if ok then return r end
  raise((tostring(r):gsub("^.-lucid%.matmul:", "lucid." .. fname .. ":")))
end

local M = {}

--- mm(a, b): (n, k) @ (k, m)
function M.mm(a, b)
  check("mm", a, 2, "input")
  check("mm", b, 2, "mat2")
  return matmul_as("mm", a, b)
end

--- bmm(a, b): (batch, n, k) @ (batch, k, m), no broadcasting of the batch
function M.bmm(a, b)
  check("bmm", a, 3, "input")
  check("bmm", b, 3, "mat2")
  if a.shape[1] ~= b.shape[1] then
    raise(string.format("lucid.bmm: batch sizes of shapes %s and %s differ (%d ~= %d)",
      shape_str(a), shape_str(b), a.shape[1], b.shape[1]))
  end
  return matmul_as("bmm", a, b)
end

--- dot(a, b): the inner product of two 1-D tensors, 0-d
function M.dot(a, b)
  check("dot", a, 1, "input")
  check("dot", b, 1, "tensor")
  return matmul_as("dot", a, b)
end

--- outer(a, b): (n) x (m) -> (n, m)
function M.outer(a, b)
  check("outer", a, 1, "input")
  check("outer", b, 1, "vec2")
  if a:numel() > 0 and b:numel() > (1 << 60) // a:numel() then
    raise(string.format("lucid.outer: shapes %s and %s give a product too large to hold",
      shape_str(a), shape_str(b)))
  end
  return C.mul(a:reshape(-1, 1), b)
end

--- addmm(input, m1, m2 [, beta = 1, alpha = 1]) or addmm(input, m1, m2, {beta =, alpha =}):
-- beta * input + alpha * (m1 @ m2), input broadcasting to the product's shape
function M.addmm(input, m1, m2, beta, alpha)
  if type(beta) == "table" then beta, alpha = beta.beta, beta.alpha end
  beta, alpha = beta or 1, alpha or 1
  if not C.is_tensor(input) then
    raise("lucid.addmm: input must be a tensor, got " .. type(input))
  end
  check("addmm", m1, 2, "mat1")
  check("addmm", m2, 2, "mat2")
  local prod = matmul_as("addmm", m1, m2)
  if alpha ~= 1 then prod = prod * alpha end
  if beta == 0 then return prod + input * 0 end  -- PyTorch ignores input's values, not its shape
  return beta == 1 and input + prod or input * beta + prod
end

return M
