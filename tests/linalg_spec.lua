-- lucid.linalg: against PyTorch (tests/fixtures/linalg.lua, written by
-- scripts/gen_fixtures_linalg.py) in float64 and float32, through
-- reconstructions, by finite differences, and for its errors.
--
-- Results with a sign convention (qr, svd, eigh: each column of Q, U, V, and
-- the matching row of R or Vh, may come out negated, by LAPACK's choice) are
-- compared two ways: elementwise through functions of them that do not
-- depend on those signs (Q*Q, R*R, U*U, Vh*Vh, V*V, and S and L, which have
-- none), values and gradients alike; and as raw factors after fixing the
-- signs the same way on both sides (R's diagonal non-negative; the entry of
-- largest magnitude of each column of U and V positive).
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")
local fixtures = dofile("tests/fixtures/linalg.lua")

local LA = lucid.linalg

local function sq(x) return x * x end

-- op name in the fixture -> the Lua call: outputs (compared and seeded) and
-- raw factors. `a`: the inputs, `args`: the fixture's (false stands for nil).
local function arg(args, i) if args[i] == false then return nil end return args[i] end
local apply = {
  inv = function(a) return {LA.inv(a[1])} end,
  inv_t = function(a) return {LA.inv(a[1]:t())} end,
  solve = function(a, args) return {LA.solve(a[1], a[2], arg(args, 1))} end,
  det = function(a) return {LA.det(a[1])} end,
  slogdet = function(a) return {LA.slogdet(a[1])} end,
  cholesky = function(a, args) return {LA.cholesky(a[1], arg(args, 1))} end,
  qr = function(a, args)
    local q, r = LA.qr(a[1], arg(args, 1))
    return {sq(q), sq(r)}, {q, r}
  end,
  qr_r = function(a)
    local q, r = LA.qr(a[1], "r")
    assert.are.same({0}, q.shape)
    return {sq(r)}, {r}
  end,
  svd = function(a, args)
    local u, s, vh = LA.svd(a[1], args[1])  -- full_matrices: false is a value here
    return {sq(u), s, sq(vh)}, {u, s, vh}
  end,
  svd_full_tall = function(a)
    local u, s, vh = LA.svd(a[1])
    local u2 = u:narrow(-1, 1, 2)
    return {sq(u2), s, sq(vh)}, {u2, s, vh}
  end,
  svd_s = function(a)
    local _, s = LA.svd(a[1])
    return {s}
  end,
  eigh = function(a, args)
    local l, v = LA.eigh(a[1], arg(args, 1))
    return {l, sq(v)}, {l, v}
  end,
  eigh_l = function(a) return {(LA.eigh(a[1]))} end,
  pinv = function(a, args) return {LA.pinv(a[1], arg(args, 1))} end,
  lstsq = function(a, args)
    local x, res, rank, sv = LA.lstsq(a[1], a[2], arg(args, 1), arg(args, 2))
    assert.are.equal("int64", rank.dtype)
    return {x, res, rank:double(), sv}
  end,
  vector_norm = function(a, args) return {LA.vector_norm(a[1], H.unpack(args))} end,
  matrix_norm = function(a, args) return {LA.matrix_norm(a[1], H.unpack(args))} end,
  solve_triangular = function(a, args) return {LA.solve_triangular(a[1], a[2], args[1])} end,
  inv_ex = function(a)
    local inv, info = LA.inv_ex(a[1])
    assert.are.equal("int32", info.dtype)
    return {inv, info:double()}
  end,
  cholesky_ex = function(a, args)
    local l, info = LA.cholesky_ex(a[1], args[1])
    assert.are.equal("int32", info.dtype)
    return {l, info:double()}
  end,
  norm = function(a, args) return {LA.norm(a[1], arg(args, 1), arg(args, 2), arg(args, 3))} end,
  svdvals = function(a) return {LA.svdvals(a[1])} end,
  eigvalsh = function(a, args) return {LA.eigvalsh(a[1], arg(args, 1))} end,
  matrix_power = function(a, args) return {LA.matrix_power(a[1], args[1])} end,
  matrix_power_method = function(a, args) return {a[1]:matrix_power(args[1])} end,
  multi_dot = function(a) return {LA.multi_dot(a)} end,
  cond = function(a, args) return {LA.cond(a[1], arg(args, 1))} end,
  matrix_rank = function(a, args)
    local r = LA.matrix_rank(a[1], arg(args, 1))
    assert.are.equal("int64", r.dtype)
    return {r:double()}
  end,
  lu_factor = function(a)
    local lu, piv = LA.lu_factor(a[1])
    assert.are.equal("int32", piv.dtype)
    return {lu, piv:double()}
  end,
  lu_factor_ex = function(a)
    local lu, piv, info = LA.lu_factor_ex(a[1])
    assert.are.equal("int32", info.dtype)
    return {lu, piv:double(), info:double()}
  end,
  lu = function(a) return {LA.lu(a[1])} end,
  lu_unpack = function(a, args)
    return {lucid.lu_unpack(a[1], lucid.tensor(args[1], {dtype = "int32"}))}
  end,
  lu_solve = function(a, args)
    return {LA.lu_solve(a[1], lucid.tensor(args[1], {dtype = "int32"}), a[2], args[2])}
  end,
  inverse = function(a) return {a[1]:inverse()} end,
  logdet = function(a) return {lucid.logdet(a[1])} end,
  pinverse = function(a, args) return {a[1]:pinverse(arg(args, 1))} end,
}

-- ---- signs ----------------------------------------------------------------------

-- d (..., 1, c): the sign of the entry of largest magnitude of each column of m
local function column_signs(m)
  local idx = m:abs():argmax(-2, true)
  local d = m:gather(-2, idx):sign()
  return d + d:eq(0):to(d.dtype)  -- a zero column keeps its sign
end

-- Each op's factors with the signs fixed, as the file's header says.
local normalise = {
  qr = function(f)
    local q, r = f[1], f[2]
    local k = math.min(r.shape[#r.shape - 1], r.shape[#r.shape])
    local rk = r:narrow(-2, 1, k):narrow(-1, 1, k)
    local d = (rk * lucid.eye(k, {dtype = r.dtype})):sum(-1):sign()
    d = d + d:eq(0):to(d.dtype)  -- (..., k)
    local rows = r.shape[#r.shape - 1]
    if rows > k then d = lucid.cat({d, lucid.ones_like(d:narrow(-1, 1, rows - k))}, -1) end
    return {q * d:narrow(-1, 1, q.shape[#q.shape]):unsqueeze(-2), r * d:unsqueeze(-1)}
  end,
  qr_r = function(f)
    local r = f[1]
    local k = math.min(r.shape[#r.shape - 1], r.shape[#r.shape])
    local d = (r:narrow(-1, 1, k) * lucid.eye(k, {dtype = r.dtype})):sum(-1):sign()
    return {r * (d + d:eq(0):to(d.dtype)):unsqueeze(-1)}
  end,
  svd = function(f)
    local u, s, vh = f[1], f[2], f[3]
    local d = column_signs(u)  -- (..., 1, m or k); Vh's rows take the first k
    local k = s.shape[#s.shape]
    local dk = d:narrow(-1, 1, k):transpose(-1, -2)
    local rows = vh.shape[#vh.shape - 1]
    if rows > k then dk = lucid.cat({dk, column_signs(vh:transpose(-1, -2)):narrow(-1, k + 1, rows - k):transpose(-1, -2)}, -2) end
    return {u * d, s, vh * dk}
  end,
  eigh = function(f) return {f[1], f[2] * column_signs(f[2])} end,
}
normalise.svd_full_tall = normalise.svd

-- ---- against PyTorch ----------------------------------------------------------------

local function check_entry(entry, dtype, rtol, atol)
  local fn = apply[entry.op]
  assert.is_function(fn, "no Lua mapping for op '" .. entry.op .. "'")
  local function T(fx) return H.tensor(fx, {dtype = dtype}) end
  local leaves = {}
  for i, fx in ipairs(entry.inputs) do leaves[i] = H.tensor(fx, {dtype = dtype, requires_grad = true}) end
  local outs, factors = fn(leaves, entry.args)
  assert.are.equal(#entry.outputs, #outs, entry.name .. ": number of results")
  local loss
  for k, o in ipairs(outs) do
    H.assert_close(o:double(), entry.outputs[k], rtol, atol, entry.name .. ": result " .. k)
    local seed = entry.seeds and entry.seeds[k]
    if seed then
      assert.are.equal(dtype, o.dtype, entry.name .. ": result " .. k .. " dtype")
      local term = (o * T(seed)):sum()
      loss = loss and loss + term or term
    end
  end
  if entry.factors then
    local norm = assert(normalise[entry.op], entry.op .. ": no sign fixing")
    local ours, theirs = norm(factors), {}
    for k, fx in ipairs(entry.factors) do theirs[k] = H.tensor(fx) end
    theirs = norm(theirs)
    for k = 1, #theirs do
      H.assert_close(ours[k]:double(), theirs[k], rtol, atol, entry.name .. ": factor " .. k .. " (signs fixed)")
    end
  end
  if entry.requires_grad == false then return end
  loss:backward()
  for i, g in ipairs(entry.grads) do
    local what = string.format("%s: grad of input %d", entry.name, i)
    if g == false then  -- PyTorch's undefined gradient (vector_norm ord 0): none, or zeros
      assert.is_true(leaves[i].grad == nil or leaves[i].grad:abs():sum():item() == 0, what .. " should be 0")
    else
      assert.is_not_nil(leaves[i].grad, what .. " is nil")
      assert.are.equal(dtype, leaves[i].grad.dtype, what .. " dtype")
      H.assert_close(leaves[i].grad:double(), g, rtol, atol, what)
    end
  end
end

describe("lucid.linalg against PyTorch (float64)", function()
  for _, entry in ipairs(fixtures.ops) do
    it(entry.name, function() check_entry(entry, "float64", 1e-10, 1e-12) end)
  end
end)

describe("lucid.linalg against PyTorch (float32)", function()
  -- inputs and seeds are the float64 values rounded to float32; the inputs
  -- are well conditioned (singular values and eigenvalues well apart), so
  -- float32's rounding stays within 1e-5 of the float64 reference
  for _, entry in ipairs(fixtures.ops) do
    it(entry.name, function() check_entry(entry, "float32", 1e-5, 1e-6) end)
  end
end)

-- ---- reconstructions ----------------------------------------------------------------

describe("lucid.linalg reconstructions", function()
  local function eye(n, dt) return lucid.eye(n, {dtype = dt}) end
  for _, dt in ipairs({"float64", "float32"}) do
    local tol = dt == "float64" and 1e-12 or 1e-5
    local function R(...) return lucid.randn({...}, {dtype = dt}) end

    it("inv(A) A = I and solve's residual, " .. dt, function()
      lucid.manual_seed(1)
      local a = R(2, 4, 4) + eye(4, dt) * 4
      H.assert_close(LA.inv(a):matmul(a):double(), eye(4, "float64"):expand(2, 4, 4), 0, tol * 10)
      local b = R(2, 4, 3)
      H.assert_close(a:matmul(LA.solve(a, b)):double(), b:double(), 0, tol * 10)
    end)

    it("Q R = A, Q^T Q = I, R upper triangular, " .. dt, function()
      lucid.manual_seed(2)
      for _, shape in ipairs({{5, 3}, {3, 5}, {2, 4, 4}}) do
        local a = R(H.unpack(shape))
        for _, mode in ipairs({"reduced", "complete"}) do
          local q, r = LA.qr(a, mode)
          H.assert_close(q:matmul(r):double(), a:double(), 0, tol * 10, mode .. " Q R")
          local k = q.shape[#q.shape]
          H.assert_close(q:transpose(-1, -2):matmul(q):double(), eye(k, "float64"):expand(q:transpose(-1, -2):matmul(q).shape), 0, tol * 10, mode .. " Q^T Q")
          local rows, cols = r.shape[#r.shape - 1], r.shape[#r.shape]
          local below = lucid.zeros({rows, cols}, {dtype = dt})
          for i = 2, rows do for j = 1, math.min(i - 1, cols) do below[i][j] = 1 end end
          assert.are.equal(0, (r * below):abs():sum():item(), mode .. ": R has nonzeros below its diagonal")
        end
      end
    end)

    it("U diag(S) Vh = A with orthonormal U and Vh, S descending, " .. dt, function()
      lucid.manual_seed(3)
      for _, shape in ipairs({{5, 3}, {3, 5}, {2, 4, 4}}) do
        local a = R(H.unpack(shape))
        local u, s, vh = LA.svd(a, false)
        H.assert_close(u:matmul(vh * s:unsqueeze(-1)):double(), a:double(), 0, tol * 10)
        local sv = H.flat(s)
        for i = 2, #sv do
          if i % s.shape[#s.shape] ~= 1 then assert.is_true(sv[i - 1] >= sv[i]) end
        end
        local uf, _, vf = LA.svd(a)  -- full bases: square and orthogonal
        local m, n = a.shape[#a.shape - 1], a.shape[#a.shape]
        H.assert_close(uf:transpose(-1, -2):matmul(uf):double(), eye(m, "float64"):expand(uf.shape), 0, tol * 10)
        H.assert_close(vf:matmul(vf:transpose(-1, -2)):double(), eye(n, "float64"):expand(vf.shape), 0, tol * 10)
      end
    end)

    it("V diag(L) V^T = A, L ascending; L L^T = A, " .. dt, function()
      lucid.manual_seed(4)
      local x = R(2, 4, 4)
      local a = x + x:transpose(-1, -2)
      local l, v = LA.eigh(a)
      H.assert_close(v:matmul(l:unsqueeze(-1) * v:transpose(-1, -2)):double(), a:double(), 0, tol * 10)
      local spd = x:matmul(x:transpose(-1, -2)) + eye(4, dt)
      local c = LA.cholesky(spd)
      H.assert_close(c:matmul(c:transpose(-1, -2)):double(), spd:double(), 0, tol * 10)
      H.assert_close(LA.cholesky(spd, {upper = true}):double(), c:transpose(-1, -2):double(), 0, 0)
    end)

    it("pinv satisfies the Moore-Penrose conditions; lstsq the normal equations, " .. dt, function()
      lucid.manual_seed(5)
      local a = R(5, 3)
      local p = LA.pinv(a)
      H.assert_close(a:matmul(p):matmul(a):double(), a:double(), 0, tol * 10)
      H.assert_close(p:matmul(a):matmul(p):double(), p:double(), 0, tol * 10)
      local b = R(5, 2)
      for _, driver in ipairs({"gelsy", "gels", "gelsd", "gelss"}) do
        local x, res = LA.lstsq(a, b, {driver = driver})
        local at = a:t()
        H.assert_close(at:matmul(a):matmul(x):double(), at:matmul(b):double(), 0, tol * 100, driver)
        if driver ~= "gelsy" then
          H.assert_close(res:double(), (a:matmul(x) - b):square():sum(1):double(), 1e-4, tol * 100, driver)
        end
      end
    end)
  end

  it("det and slogdet agree, also for a batch with a singular matrix", function()
    local a = lucid.tensor({{{2, 1}, {1, 3}}, {{1, 2}, {2, 4}}, {{0, 1}, {1, 0}}}, {dtype = "float64"})
    H.assert_close(LA.det(a), {shape = {3}, data = {5, 0, -1}}, 1e-15, 0)
    local s, l = LA.slogdet(a)
    H.assert_close(s, {shape = {3}, data = {1, 0, -1}}, 0, 0)
    H.assert_close(l, {shape = {3}, data = {math.log(5), -math.huge, 0}}, 1e-15, 0)
    assert.is_false(s.requires_grad)
    assert.are.equal(1, LA.det(lucid.zeros(0, 0)):item())  -- the empty product
  end)
end)

-- ---- gradients -------------------------------------------------------------------------

describe("lucid.linalg: gradcheck (float64)", function()
  local F = {dtype = "float64", requires_grad = true}
  local function eye(n) return lucid.eye(n, {dtype = "float64"}) end
  local function R(...) return lucid.randn({...}, F) end
  local function G(...)  -- well conditioned: randn + 3 I
    local s = {...}
    return lucid.tensor(lucid.randn(s, {dtype = "float64"}) + eye(s[#s]) * 3, F)
  end
  local cases = {
    {"inv of a batch", function(a) return LA.inv(a) end, {G(2, 3, 3)}},
    {"solve, B broadcast over A's batch", function(a, b) return LA.solve(a, b) end, {G(2, 3, 3), R(3, 2)}},
    {"solve, a vector", function(a, b) return LA.solve(a, b) end, {G(3, 3), R(3)}},
    {"solve, left = false", function(a, b) return LA.solve(a, b, {left = false}) end, {G(3, 3), R(4, 3)}},
    {"det", function(a) return LA.det(a) end, {R(2, 3, 3)}},
    {"slogdet", function(a) local _, l = LA.slogdet(a) return l end, {G(3, 3)}},
    {"cholesky of A A^T + I, upper", function(a)
      return LA.cholesky(a:matmul(a:t()) + eye(3), {upper = true})
    end, {R(3, 3)}},
    {"qr reduced, Q and R together", function(a)
      local q, r = LA.qr(a)
      return lucid.cat({q:square():reshape(-1), r:square():reshape(-1)})
    end, {R(4, 3)}},
    {"qr of a wide matrix", function(a)
      local q, r = LA.qr(a)
      return lucid.cat({q:square():reshape(-1), r:square():reshape(-1)})
    end, {R(2, 3, 5)}},
    {"svd: U*U, S and Vh*Vh of a tall matrix", function(a)
      local u, s, vh = LA.svd(a, false)
      return lucid.cat({u:square():reshape(-1), s, vh:square():reshape(-1)})
    end, {R(4, 3)}},
    {"svd: Vh alone of a wide matrix", function(a)
      local _, _, vh = LA.svd(a, false)
      return vh:square()
    end, {R(3, 5)}},
    -- the sum of the singular values is smooth at the identity, where each
    -- one alone is not: S's gradient must not divide by S_i^2 - S_j^2 = 0
    {"svd: S alone, repeated singular values (the identity)", function(a)
      local _, s = LA.svd(a)
      return s:sum()
    end, {lucid.tensor(eye(3), F)}},
    {"eigh: V*V and L", function(a)
      local l, v = LA.eigh(a + a:t())
      return lucid.cat({l, v:square():reshape(-1)})
    end, {R(3, 3)}},
    {"pinv of a wide matrix", function(a) return LA.pinv(a) end, {R(3, 4)}},
    {"lstsq with a vector B (PyTorch 1.13's own backward fails here)", function(a, b)
      return (LA.lstsq(a, b))
    end, {R(5, 3), R(5)}},
    {"lstsq, batch broadcast", function(a, b) return (LA.lstsq(a, b, {driver = "gelsd"})) end,
     {R(2, 5, 3), R(1, 5, 2)}},
    {"vector_norm 2 over two dims", function(x) return LA.vector_norm(x, 2, {1, 3}) end, {R(2, 3, 4)}},
    {"vector_norm -1", function(x) return LA.vector_norm(x, -1, 2) end, {R(3, 4)}},
    {"matrix_norm nuc", function(x) return LA.matrix_norm(x, "nuc") end, {R(2, 3, 4)}},
    {"matrix_norm 2", function(x) return LA.matrix_norm(x, 2) end, {R(3, 4)}},
    {"solve_triangular upper, broadcast", function(a, b)
      return LA.solve_triangular(a, b, {upper = true})
    end, {G(2, 3, 3), R(3, 2)}},
    {"solve_triangular lower, unitriangular, left = false", function(a, b)
      return LA.solve_triangular(a, b, {upper = false, left = false, unitriangular = true})
    end, {G(3, 3), R(2, 2, 3)}},
    {"inv_ex", function(a) return (LA.inv_ex(a)) end, {G(2, 3, 3)}},
    {"cholesky_ex of A A^T + I", function(a) return (LA.cholesky_ex(a:matmul(a:t()) + eye(3))) end, {R(3, 3)}},
    {"norm, a matrix norm", function(x) return LA.norm(x, "nuc") end, {R(3, 4)}},
    {"norm, a vector norm over one dim", function(x) return LA.norm(x, 3, -1) end, {R(3, 4)}},
    {"svdvals", function(x) return LA.svdvals(x) end, {R(2, 3, 4)}},
    {"eigvalsh", function(x) return LA.eigvalsh(x + x:transpose(-1, -2), "U") end, {R(2, 3, 3)}},
    {"matrix_power -2", function(a) return LA.matrix_power(a, -2) end, {G(3, 3)}},
    {"matrix_power 6", function(a) return LA.matrix_power(a * 0.3, 6) end, {R(2, 3, 3)}},
    {"multi_dot with vectors at the ends", function(a, b, c, d) return LA.multi_dot({a, b, c, d}) end,
     {R(3), R(3, 4), R(4, 2), R(2)}},
    -- PyTorch 1.13's backward fails for these p (an in-place fill of inv_ex's result)
    {"cond 1 (PyTorch 1.13's own backward fails here)", function(a) return LA.cond(a, 1) end, {G(2, 3, 3)}},
    {"cond fro", function(a) return LA.cond(a, "fro") end, {G(3, 3)}},
    {"cond nuc", function(a) return LA.cond(a, "nuc") end, {G(3, 3)}},
    {"cond -2 of a wide matrix", function(a) return LA.cond(a, -2) end, {R(3, 4)}},
    {"logdet", function(a) return lucid.logdet(a:matmul(a:t()) + eye(3)) end, {R(3, 3)}},
    {"pinverse", function(a) return a:pinverse() end, {R(3, 4)}},
    {"lu_factor of a tall batch", function(a) return (LA.lu_factor(a)) end, {R(2, 4, 3)}},
    {"lu_factor of a wide matrix", function(a) return (LA.lu_factor(a)) end, {R(3, 5)}},
    {"lu: L and U", function(a)
      local _, l, u = LA.lu(a)
      return lucid.cat({l:reshape(-1), u:reshape(-1)})
    end, {R(3, 3)}},
    {"lu_solve, adjoint, B broadcast", function(lu, b)
      local piv = lucid.tensor({{3, 2, 3}, {1, 3, 3}}, {dtype = "int32"})
      return LA.lu_solve(lu, piv, b, {adjoint = true})
    end, {G(2, 3, 3), R(3, 2)}},
    {"lu_solve, left = false", function(lu, b)
      return LA.lu_solve(lu, lucid.tensor({2, 2, 3}, {dtype = "int32"}), b, {left = false})
    end, {G(3, 3), R(2, 3)}},
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      H.assert_gradcheck(c[2], c[3])
    end)
  end

  it("det of singular matrices, with create_graph: the SVD's cofactors (values from PyTorch)", function()
    -- torch.autograd.grad(torch.linalg.det(A), A, create_graph=True)
    local a = lucid.tensor({{1, 2}, {2, 4}}, F)
    local g = lucid.autograd.grad(LA.det(a), {a}, nil, {create_graph = true})
    H.assert_close(g, {shape = {2, 2}, data = {4, -2, -2, 1}}, 1e-12, 1e-12)
    local b = lucid.tensor({{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}, F)
    g = lucid.autograd.grad(LA.det(b), {b}, nil, {create_graph = true})
    H.assert_close(g, {shape = {3, 3}, data = {-3, 6, -3, 6, -12, 6, -3, 6, -3}}, 1e-12, 1e-12)
    -- without create_graph, PyTorch 1.13 gives 0 where det is exactly 0
    LA.det(a):backward()
    H.assert_close(a.grad, {shape = {2, 2}, data = {0, 0, 0, 0}}, 0, 0)
    -- a batch mixing both kinds (each takes its own formula)
    local m = lucid.tensor({{{1, 2}, {2, 4}}, {{2, 1}, {1, 3}}}, F)
    g = lucid.autograd.grad(LA.det(m):sum(), {m}, nil, {create_graph = true})
    H.assert_close(g, {shape = {2, 2, 2}, data = {4, -2, -2, 1, 3, -1, -1, 2}}, 1e-12, 1e-12)
  end)

  it("results of one decomposition share its node: gradients add up", function()
    lucid.manual_seed(9)
    local a = R(4, 3)
    local u, s, vh = LA.svd(a, false)
    local both = (u:square():sum() + s:sum() + vh:square():sum())
    local g_all = lucid.autograd.grad(both, {a})
    local u2, s2, vh2 = LA.svd(a, false)
    local g_s = lucid.autograd.grad(s2:sum(), {a}, nil, {retain_graph = true})
    local g_u = lucid.autograd.grad(u2:square():sum(), {a}, nil, {retain_graph = true})
    local g_v = lucid.autograd.grad(vh2:square():sum(), {a})
    -- U*U and Vh*Vh summed are constants (orthonormal columns and rows)
    H.assert_close(g_u, {shape = {4, 3}, data = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}}, 0, 1e-12)
    H.assert_close(g_all, g_s + g_u + g_v, 1e-10, 1e-12)
  end)
end)

-- ---- errors -----------------------------------------------------------------------------

describe("lucid.linalg errors", function()
  local f64 = {dtype = "float64"}

  it("name the function, the shapes and the batch element", function()
    H.assert_error("lucid.linalg.inv: A must be a float32 or float64 tensor, got int64",
      LA.inv, lucid.tensor({{1, 2}, {3, 4}}, {dtype = "int64"}))
    H.assert_error("lucid.linalg.inv: A must be a square matrix or a batch of them, got shape {2, 3}",
      LA.inv, lucid.zeros(2, 3))
    H.assert_error("lucid.linalg.det: A must have at least 2 dimensions, got shape {3}", LA.det, lucid.zeros(3))
    local a = lucid.eye(2):expand(3, 2, 2):clone()
    a[2] = 0
    H.assert_error("lucid.linalg.inv: batch element 2 of A {3, 2, 2} is singular", LA.inv, a)
    H.assert_error("lucid.linalg.solve: batch element 2 of A {3, 2, 2} is singular",
      LA.solve, a, lucid.ones(2, 1))
    H.assert_error("lucid.linalg.inv: A {2, 2} is singular", LA.inv, lucid.zeros(2, 2))
    -- a broadcast A: the element of A's own batch
    H.assert_error("lucid.linalg.solve: batch element 1 of A {1, 2, 2} is singular",
      LA.solve, lucid.zeros(1, 2, 2), lucid.ones(3, 2, 1))
    H.assert_error("lucid.linalg.solve: A {3, 3} and B {4, 2} do not fit (3 ~= 4)",
      LA.solve, lucid.eye(3), lucid.ones(4, 2))
    H.assert_error("lucid.linalg.solve: batch dimensions of A {2, 3, 3} and B {3, 3, 1} do not broadcast",
      LA.solve, lucid.eye(3):expand(2, 3, 3), lucid.ones(3, 3, 1))
    H.assert_error("lucid.linalg.solve: A and B must have the same dtype, got float32 and float64",
      LA.solve, lucid.eye(3), lucid.ones({3}, f64))
    local spd = lucid.eye(2):expand(2, 2, 2):clone()
    spd[2][2][2] = -1
    H.assert_error("lucid.linalg.cholesky: batch element 2 of A {2, 2, 2} is not positive-definite "
      .. "(its leading minor of order 2 is not)", LA.cholesky, spd)
    H.assert_error("lucid.linalg.lstsq: A {4, 3} and B {5, 2} do not fit (4 ~= 5)",
      LA.lstsq, lucid.ones(4, 3), lucid.ones(5, 2))
    H.assert_error("lucid.linalg.lstsq: A {4, 3} and B {2, 4, 2}: B must have as many dimensions as A, or one fewer",
      LA.lstsq, lucid.ones(4, 3), lucid.ones(2, 4, 2))
    H.assert_error("lucid.linalg.lstsq: A {4, 2} does not have full rank (gels needs it",
      LA.lstsq, lucid.tensor({{1, 0}, {0, 0}, {0, 0}, {0, 0}}), lucid.ones(4, 1), {driver = "gels"})
  end)

  it("check their options", function()
    local a = lucid.eye(3)
    H.assert_error("lucid.linalg.cholesky: unknown option 'uper' (did you mean 'upper'?)",
      LA.cholesky, a, {uper = true})
    H.assert_error('lucid.linalg.qr: mode must be "reduced", "complete" or "r", got "full"', LA.qr, a, "full")
    H.assert_error('lucid.linalg.eigh: UPLO must be "L" or "U", got "X"', LA.eigh, a, "X")
    H.assert_error('lucid.linalg.lstsq: driver must be "gelsy", "gels", "gelsd" or "gelss", got "foo"',
      LA.lstsq, a, a, {driver = "foo"})
    H.assert_error("lucid.linalg.solve: left = false takes B as matrices", LA.solve, a, lucid.ones(3), {left = false})
    H.assert_error('lucid.linalg.matrix_norm: ord must be "fro", "nuc", math.huge, -math.huge, 1, -1, 2 or -2, got 3',
      LA.matrix_norm, a, 3)
    H.assert_error("lucid.linalg.vector_norm: x must be a float32 or float64 tensor, got int64",
      LA.vector_norm, lucid.tensor({1, 2}, {dtype = "int64"}))
    H.assert_error("lucid.linalg.matrix_norm: A must have at least 2 dimensions, got shape {3}",
      LA.matrix_norm, lucid.ones(3))
    H.assert_error("lucid.linalg.vector_norm: dimension 4 is out of range for a 3-d tensor",
      LA.vector_norm, lucid.ones(2, 2, 2), 2, 4)
    H.assert_error("lucid.linalg.pinv: unknown option 'rcond'", LA.pinv, a, {rcond = 1e-3})
  end)

  it("of solve_triangular, the _ex forms and the composed functions", function()
    local a, b = lucid.eye(3), lucid.ones(3, 2)
    H.assert_error("lucid.linalg.solve_triangular: upper is required", LA.solve_triangular, a, b)
    H.assert_error("lucid.linalg.solve_triangular: A {3, 3} and B {3}: B must have at least 2 dimensions",
      LA.solve_triangular, a, lucid.ones(3), {upper = true})
    H.assert_error("lucid.linalg.solve_triangular: A {3, 3} and B {3, 2} do not fit (3 ~= 2)",
      LA.solve_triangular, a, b, {upper = true, left = false})
    H.assert_error("lucid.linalg.solve_triangular: A must be a square matrix or a batch of them, got shape {3, 2}",
      LA.solve_triangular, b, b, {upper = true})
    H.assert_error("lucid.linalg.solve_triangular: batch dimensions of A {2, 3, 3} and B {3, 3, 2} do not broadcast",
      LA.solve_triangular, a:expand(2, 3, 3), lucid.ones(3, 3, 2), {upper = true})
    H.assert_error("lucid.linalg.solve_triangular: unknown option 'uper'", LA.solve_triangular, a, b,
      {upper = true, uper = true})
    local sing = lucid.eye(2):expand(2, 2, 2):clone()
    sing[2] = 0
    H.assert_error("lucid.linalg.inv_ex: batch element 2 of A {2, 2, 2} is singular",
      LA.inv_ex, sing, {check_errors = true})
    local _, info = LA.inv_ex(sing)
    H.assert_close(info:double(), {shape = {2}, data = {0, 1}}, 0, 0)
    H.assert_error("lucid.linalg.cholesky_ex: A {2, 2} is not positive-definite",
      LA.cholesky_ex, lucid.tensor({{1, 2}, {2, 1}}), {check_errors = true})
    H.assert_error("lucid.linalg.norm: dim must be a dim or a table of one or two dims, got a table of 3",
      LA.norm, lucid.ones(2, 2, 2), 2, {1, 2, 3})
    H.assert_error("lucid.linalg.norm: without dim, ord needs A 1-D or 2-D, got shape {2, 2, 2}",
      LA.norm, lucid.ones(2, 2, 2), 2)
    H.assert_error('lucid.linalg.norm: ord must be a number, "fro" or "nuc", got "max"', LA.norm, a, "max")
    H.assert_error("lucid.linalg.matrix_norm: dim must be two dims, got 1", LA.norm, a, "fro", 1)
    H.assert_error("lucid.linalg.svdvals: A must be a float32 or float64 tensor, got int64",
      LA.svdvals, lucid.tensor({{1, 2}}, {dtype = "int64"}))
    H.assert_error('lucid.linalg.eigvalsh: UPLO must be "L" or "U", got "X"', LA.eigvalsh, a, "X")
    H.assert_error("lucid.linalg.eigvalsh: A must be a square matrix or a batch of them, got shape {3, 2}",
      LA.eigvalsh, b)
    H.assert_error("lucid.linalg.matrix_power: n must be an integer, got 0.5", LA.matrix_power, a, 0.5)
    H.assert_error("lucid.linalg.matrix_power: A must be a square matrix or a batch of them, got shape {3, 2}",
      LA.matrix_power, b, 2)
    H.assert_error("lucid.linalg.matrix_power: A (for a negative n) must be a float32 or float64 tensor, got int64",
      LA.matrix_power, lucid.tensor({{1, 2}, {3, 4}}, {dtype = "int64"}), -1)
    H.assert_error("lucid.linalg.multi_dot: expected at least 2 tensors, got 1", LA.multi_dot, {a})
    H.assert_error("lucid.linalg.multi_dot: tensor 2 must be 2-D, got shape {3}", LA.multi_dot,
      {a, lucid.ones(3), a})
    H.assert_error("lucid.linalg.multi_dot: tensor 1 must be 1-D or 2-D, got shape {1, 3, 3}", LA.multi_dot,
      {a:unsqueeze(1), a})
    H.assert_error("lucid.linalg.multi_dot: tensors 2 and 3 of shapes {3, 2} and {3, 3} cannot be multiplied",
      LA.multi_dot, {a, b, a})
    H.assert_error("lucid.linalg.multi_dot: all tensors must have the same dtype, but tensor 1 is float32 and tensor 2 float64",
      LA.multi_dot, {a, a:double()})
    H.assert_error('lucid.linalg.cond: p must be nil, 2, -2, 1, -1, math.huge, -math.huge, "fro" or "nuc", got 3',
      LA.cond, a, 3)
    H.assert_error("lucid.linalg.cond: A must be a square matrix or a batch of them, got shape {3, 2}",
      LA.cond, b, 1)
    H.assert_error("lucid.linalg.matrix_rank: option 'tol' is not supported", LA.matrix_rank, a, {tol = 0.1})
    H.assert_error("lucid.linalg.matrix_rank: A must be a square matrix or a batch of them, got shape {3, 2}",
      LA.matrix_rank, b, {hermitian = true})
    H.assert_error("lucid.pinverse: rcond must be a number, got string", lucid.pinverse, a, "x")
    local i32 = {dtype = "int32"}
    H.assert_error("lucid.linalg.lu_factor: batch element 2 of A {2, 2, 2} has U[1,1] = 0, which lu_solve would divide by",
      LA.lu_factor, sing)
    H.assert_error("lucid.linalg.lu_factor_ex: A {2, 2} has U[1,1] = 0", LA.lu_factor_ex, lucid.zeros(2, 2),
      {check_errors = true})
    H.assert_error("lucid.linalg.lu_factor: LU without pivoting (pivot = false) is not implemented",
      LA.lu_factor, a, {pivot = false})
    H.assert_error("lucid.linalg.lu: LU without pivoting (pivot = false) is not implemented", LA.lu, a,
      {pivot = false})
    H.assert_error("lucid.linalg.lu_solve: pivots must be an int32 tensor (lu_factor's), got int64",
      LA.lu_solve, a, lucid.tensor({1, 2, 3}, {dtype = "int64"}), b)
    H.assert_error("lucid.linalg.lu_solve: pivots must be in 1..3 (LU's size), got 4",
      LA.lu_solve, a, lucid.tensor({1, 4, 3}, i32), b)
    H.assert_error("lucid.linalg.lu_solve: LU {3, 3} and pivots {2}: pivots must have LU's batch dims and LU's size n",
      LA.lu_solve, a, lucid.tensor({1, 2}, i32), b)
    H.assert_error("lucid.linalg.lu_solve: LU {3, 3} and B {3}: B must have at least 2 dimensions",
      LA.lu_solve, a, lucid.tensor({1, 2, 3}, i32), lucid.ones(3))
    H.assert_error("lucid.linalg.lu_solve: LU {3, 3} and B {3, 2} do not fit (3 ~= 2)",
      LA.lu_solve, a, lucid.tensor({1, 2, 3}, i32), b, {left = false})
    H.assert_error("lucid.lu_unpack: pivots must be in 1..3, got 0", lucid.lu_unpack, a, lucid.tensor({0, 2, 3}, i32))
    H.assert_error("lucid.lu_unpack: LU {3, 3} and pivots {2}: pivots must have LU's batch dims and min(m, n) = 3 elements",
      lucid.lu_unpack, a, lucid.tensor({1, 2}, i32))
  end)

  it("LU: P L U = A, lu_solve agrees with solve, pivots are 1-based as PyTorch's", function()
    lucid.manual_seed(11)
    for _, shape in ipairs({{4, 3}, {3, 5}, {2, 3, 3}}) do
      local a = lucid.randn(shape, {dtype = "float64"})
      local p, l, u = LA.lu(a)
      H.assert_close(p:matmul(l):matmul(u), a, 0, 1e-12)
      local lu, piv = LA.lu_factor(a)
      local p2, l2, u2 = lucid.lu_unpack(lu, piv)
      H.assert_close(p2, p, 0, 0)
      H.assert_close(l2, l, 0, 0)
      H.assert_close(u2, u, 0, 0)
      assert.is_true(piv:ge(1):all():item() and piv:le(shape[#shape - 1]):all():item())
    end
    -- the row of the largest |value| goes first: pivot 3 for the first column
    local _, piv = LA.lu_factor(lucid.tensor({{1, 0}, {2, 1}, {5, 1}}))
    assert.are.same({3, 2}, piv:tolist())
    local a = lucid.randn({2, 3, 3}, {dtype = "float64"}) + lucid.eye(3, {dtype = "float64"}) * 3
    local b = lucid.randn({3, 2}, {dtype = "float64"})
    local lu, pv = LA.lu_factor(a)
    H.assert_close(LA.lu_solve(lu, pv, b), LA.solve(a, b), 1e-12, 1e-12)
    H.assert_close(LA.lu_solve(lu, pv, b, {adjoint = true}), LA.solve(a:transpose(-1, -2), b), 1e-12, 1e-12)
  end)

  it("leave LAPACK sound after a singular solve: NaN, and getrs is not called", function()
    -- getrs on a zero pivot left single-threaded OpenBLAS unable to run
    -- ssyevd on this sound matrix (rank 2, eigenvalues -2, 0, 0, 1)
    local m = lucid.tensor({{0.256371886, 0.234608442, -0.147046357, 0.722305596},
      {0.234608442, -0.597813308, -0.348760247, -0.826023579},
      {-0.147046357, -0.348760247, 0.0278733466, -0.80630374},
      {0.722305596, -0.826023579, -0.80630374, -0.686431944}})
    local inv, info = LA.inv_ex(lucid.tensor({{1, 2}, {2, 4}}))
    assert.are.equal(2, info:item())
    assert.is_true(inv:isnan():all():item())
    local lu, piv = LA.lu_factor_ex(lucid.tensor({{1, 2}, {2, 4}}))
    assert.is_true(LA.lu_solve(lu, piv, lucid.eye(2)):isnan():all():item())
    local l = LA.eigvalsh(m)
    H.assert_close(l:double(), {shape = {4}, data = {-2, 0, 0, 1}}, 0, 1e-5)
  end)

  it("give what PyTorch gives at the edges", function()
    -- cond of empty matrices is 0; matrix_rank of empty ones 0; the 0-th power the identity
    H.assert_close(LA.cond(lucid.zeros(2, 0, 0)), {shape = {2}, data = {0, 0}}, 0, 0)
    H.assert_close(LA.matrix_rank(lucid.zeros(2, 0, 3)):double(), {shape = {2}, data = {0, 0}}, 0, 0)
    local a = lucid.tensor({{1, 1}, {1, 0}}, {dtype = "float64", requires_grad = true})
    local p0 = LA.matrix_power(a, 0)
    H.assert_close(p0, {shape = {2, 2}, data = {1, 0, 0, 1}}, 0, 0)
    p0:sum():backward()
    H.assert_close(a.grad, {shape = {2, 2}, data = {0, 0, 0, 0}}, 0, 0)
    -- integer powers stay integers
    local fib = lucid.tensor({{1, 1}, {1, 0}}, {dtype = "int64"}):matrix_power(10)
    assert.are.equal("int64", fib.dtype)
    assert.are.same({{89, 55}, {55, 34}}, fib:tolist())
    -- the aliases are the lucid.linalg functions
    local m = lucid.tensor({{2, 1}, {1, 3}}, {dtype = "float64"})
    H.assert_close(lucid.det(m), LA.det(m), 0, 0)
    H.assert_close(m:det(), LA.det(m), 0, 0)
    H.assert_close(lucid.inverse(m), LA.inv(m), 0, 0)
    local s1, l1 = m:slogdet()
    local s2, l2 = LA.slogdet(m)
    H.assert_close(s1, s2, 0, 0)
    H.assert_close(l1, l2, 0, 0)
    H.assert_close(lucid.logdet(lucid.zeros(2, 2)), {shape = {}, data = {-math.huge}}, 0, 0)
    H.assert_close(lucid.matrix_power(m, 2), m:matmul(m), 0, 0)
  end)

  it("refuse the gradients PyTorch refuses, when backward reaches them", function()
    local a = lucid.randn({4, 3}, {dtype = "float64", requires_grad = true})
    local _, r = LA.qr(a, "r")
    H.assert_error("the gradient of linalg.qr needs Q, which mode 'r' does not compute", function()
      r:sum():backward()
    end)
    local q = LA.qr(a, "complete")
    H.assert_error("linalg.qr is not differentiable in mode 'complete' when A has more rows than columns",
      function() q:sum():backward() end)
  end)
end)
