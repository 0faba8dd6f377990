-- The reduction ops (prod, var, std, max, min, argmax, argmin, logsumexp,
-- norm, softmax, log_softmax, cumsum): against PyTorch fixtures
-- (tests/fixtures/reduce.lua, written by scripts/gen_fixtures_reduce.py) in
-- float64 and float32, finite-difference gradchecks, larger tensors against
-- plain Lua loops (every loop order and chunk boundary of the kernels), and
-- bad input.
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")
local fixtures = dofile("tests/fixtures/reduce.lua")

-- Calls the op as a method or as a function of the package.
local function call(entry, x, style)
  local args = {H.unpack(entry.args)}
  if entry.kwargs then args[#args + 1] = entry.kwargs end
  if style == "method" then return x[entry.op](x, H.unpack(args)) end
  return lucid[entry.op](x, H.unpack(args))
end

local function check_entry(entry, dtype, rtol, atol, style)
  local differentiable = entry.seed ~= nil
  local leaf = H.tensor(entry.input, {dtype = dtype, requires_grad = differentiable})
  local x = leaf
  if entry.transpose then
    x = leaf:transpose(entry.transpose[1], entry.transpose[2])
  end
  local out, idx = call(entry, x, style)
  if entry.op == "argmax" or entry.op == "argmin" then
    assert.are.equal("int64", out.dtype)
    assert.is_false(out.requires_grad)
    H.assert_close(out, entry.output, 0, 0, entry.name .. ": indices")
    return
  end
  assert.are.equal(dtype, out.dtype)
  H.assert_close(out, entry.output, rtol, atol, entry.name .. ": output")
  if entry.indices then
    assert.is_not_nil(idx, entry.name .. ": no indices returned")
    assert.are.equal("int64", idx.dtype)
    assert.is_false(idx.requires_grad)
    H.assert_close(idx, entry.indices, 0, 0, entry.name .. ": indices")
  else
    assert.is_nil(idx, entry.name .. ": unexpected second result")
  end
  assert.is_true(out.requires_grad)
  out:backward(H.tensor(entry.seed, {dtype = dtype}))
  assert.is_not_nil(leaf.grad, entry.name .. ": grad is nil")
  assert.are.equal(dtype, leaf.grad.dtype)
  H.assert_close(leaf.grad, entry.grad, rtol, atol, entry.name .. ": grad")
end

describe("reductions against PyTorch (float64)", function()
  for k, entry in ipairs(fixtures.cases) do
    it(entry.name, function()
      check_entry(entry, "float64", 1e-10, 1e-12, k % 2 == 0 and "method" or "function")
    end)
  end
end)

describe("reductions against PyTorch (float32)", function()
  for k, entry in ipairs(fixtures.cases) do
    if not entry.no_f32 then
      it(entry.name, function()
        -- the inputs are the float64 values rounded to float32, so allow a
        -- small absolute error too for results near zero
        check_entry(entry, "float32", 1e-5, 1e-5, k % 2 == 1 and "method" or "function")
      end)
    end
  end
end)

-- ---------------------------------------------------------------------------
-- gradcheck

local function randn(...)
  return lucid.randn({...}, {dtype = "float64", requires_grad = true})
end

-- Values in [0.5, 1.5) with random signs: products stay moderate, and no
-- element sits near a kink of |x|.
local function away_from_zero(...)
  local shape = {...}
  local x = lucid.no_grad(function()
    local u = lucid.rand(shape, {dtype = "float64"})
    local s = lucid.randn(shape, {dtype = "float64"})
    local vals, signs = H.flat(u), H.flat(s)
    for i = 1, #vals do vals[i] = (vals[i] + 0.5) * (signs[i] < 0 and -1 or 1) end
    return H.from_flat(vals, shape)
  end)
  x.requires_grad = true
  return x
end

local function gradcheck(fn, x, opts)
  H.assert_gradcheck(fn, {x}, opts)
end

describe("gradcheck (float64)", function()
  lucid.manual_seed(7)
  local cases = {
    {"prod all", function(x) return x:prod() end, away_from_zero, {2, 3}},
    {"prod dim 2", function(x) return x:prod(2) end, away_from_zero, {2, 3, 4}},
    {"prod dim 1 keepdim, outer dim", function(x) return x:prod(1, true) end, away_from_zero, {3, 70}},
    {"prod transposed dim 1", function(x) return x:transpose(1, 2):prod(1) end, away_from_zero, {3, 4}},
    {"var all", function(x) return x:var() end, randn, {3, 4}},
    {"var dim 1 population keepdim", function(x) return x:var(1, false, true) end, randn, {3, 70}},
    {"var correction 2", function(x) return x:var{dim = -1, correction = 2} end, randn, {3, 5}},
    {"std all", function(x) return x:std() end, randn, {3, 4}},
    {"std dim 2", function(x) return x:std(2) end, randn, {2, 3, 4}},
    {"std transposed dim 2", function(x) return x:transpose(1, 2):std(2, false) end, randn, {4, 3}},
    {"max all", function(x) return x:max() end, randn, {3, 4}},
    {"max dim 2", function(x) return (x:max(2)) end, randn, {2, 3, 4}},
    {"max dim 1 keepdim, outer dim", function(x) return (x:max(1, true)) end, randn, {3, 70}},
    {"min all", function(x) return x:min() end, randn, {3, 4}},
    {"min dim -1", function(x) return (x:min(-1)) end, randn, {2, 3, 4}},
    {"min transposed dim 1", function(x) return (x:transpose(1, 2):min(1)) end, randn, {3, 4}},
    {"logsumexp all", function(x) return x:logsumexp() end, randn, {3, 4}},
    {"logsumexp dim 2", function(x) return x:logsumexp(2) end, randn, {2, 3, 4}},
    {"logsumexp dim 1 keepdim, outer dim", function(x) return x:logsumexp(1, true) end, randn, {3, 70}},
    {"norm all", function(x) return x:norm() end, randn, {3, 4}},
    {"norm p 1", function(x) return x:norm(1, 2) end, away_from_zero, {3, 4}},
    {"norm p 3 keepdim", function(x) return x:norm(3, 1, true) end, randn, {3, 70}},
    {"norm p 1.5", function(x) return x:norm(1.5) end, away_from_zero, {3, 4}},
    {"norm p 0.5", function(x) return x:norm(0.5, -1) end, away_from_zero, {3, 4}},
    {"norm p inf", function(x) return x:norm(math.huge, 2) end, randn, {3, 4}},
    {"norm transposed", function(x) return x:transpose(1, 2):norm(2, 1) end, randn, {3, 4}},
    {"softmax dim 2", function(x) return x:softmax(2) end, randn, {2, 3, 4}},
    {"softmax dim 1, outer dim", function(x) return x:softmax(1) end, randn, {3, 70}},
    {"softmax transposed", function(x) return x:transpose(1, 2):softmax(-1) end, randn, {3, 4}},
    {"log_softmax dim -1", function(x) return x:log_softmax(-1) end, randn, {2, 3, 4}},
    {"log_softmax dim 1, outer dim", function(x) return x:log_softmax(1) end, randn, {3, 70}},
    {"cumsum dim 1", function(x) return x:cumsum(1) end, randn, {3, 70}},
    {"cumsum dim 3", function(x) return x:cumsum(3) end, randn, {2, 3, 4}},
    {"cumsum transposed", function(x) return x:transpose(1, 2):cumsum(1) end, randn, {3, 4}},
    {"0-d prod, softmax, cumsum, max", function(x)
      return x:prod(1) * 2 + x:softmax(1) + x:cumsum(-1) + x:max() + (x:max(1))
    end, randn, {}},
    {"chained: log_softmax then max over a dim then norm", function(x)
      return (x:log_softmax(2):max(1)):norm()
    end, randn, {3, 4}},
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      gradcheck(c[2], c[3](H.unpack(c[4])))
    end)
  end

  it("prod with zeros (multilinear, so central differences are exact)", function()
    for _, data in ipairs({{{0, 2, 3}, {4, 0, 0}}, {{0, 0.5, -1.5}, {1, 2, 3}}}) do
      local x = lucid.tensor(data, {dtype = "float64", requires_grad = true})
      gradcheck(function(t) return t:prod() end, x)
      gradcheck(function(t) return t:prod(2) end, x)
      gradcheck(function(t) return t:prod(1) end, x)
    end
  end)
end)

-- ---------------------------------------------------------------------------
-- larger tensors against plain Lua: every loop order and chunk boundary

-- Calls f(slice, o, i) for every slice along dim of the flat row-major
-- values of shape, in the row-major order of the result.
local function each_slice(flat, shape, dim, f)
  local outer, len, inner = 1, shape[dim], 1
  for k = 1, dim - 1 do outer = outer * shape[k] end
  for k = dim + 1, #shape do inner = inner * shape[k] end
  for o = 0, outer - 1 do
    for i = 0, inner - 1 do
      local s, pos = {}, {}
      for j = 0, len - 1 do
        pos[j + 1] = (o * len + j) * inner + i + 1
        s[j + 1] = flat[pos[j + 1]]
      end
      f(s, pos)
    end
  end
end

local function reduced_shape(shape, dim)
  local r = {}
  for k, d in ipairs(shape) do if k ~= dim then r[#r + 1] = d end end
  return r
end

local ref = {
  prod = function(s) local p = 1 for _, v in ipairs(s) do p = p * v end return p end,
  var = function(s)
    local m = 0
    for _, v in ipairs(s) do m = m + v end
    m = m / #s
    local q = 0
    for _, v in ipairs(s) do q = q + (v - m) ^ 2 end
    return q / (#s - 1)
  end,
  max = function(s)
    local b, k = s[1], 1
    for j, v in ipairs(s) do if v > b then b, k = v, j end end
    return b, k
  end,
  min = function(s)
    local b, k = s[1], 1
    for j, v in ipairs(s) do if v < b then b, k = v, j end end
    return b, k
  end,
  logsumexp = function(s)
    local m = -math.huge
    for _, v in ipairs(s) do m = math.max(m, v) end
    local t = 0
    for _, v in ipairs(s) do t = t + math.exp(v - m) end
    return m + math.log(t)
  end,
  norm3 = function(s)
    local t = 0
    for _, v in ipairs(s) do t = t + math.abs(v) ^ 3 end
    return t ^ (1 / 3)
  end,
}

local scan_ref = {
  softmax = function(s)
    local m = -math.huge
    for _, v in ipairs(s) do m = math.max(m, v) end
    local t, r = 0, {}
    for j, v in ipairs(s) do r[j] = math.exp(v - m); t = t + r[j] end
    for j = 1, #r do r[j] = r[j] / t end
    return r
  end,
  log_softmax = function(s)
    local m = -math.huge
    for _, v in ipairs(s) do m = math.max(m, v) end
    local t = 0
    for _, v in ipairs(s) do t = t + math.exp(v - m) end
    local r = {}
    for j, v in ipairs(s) do r[j] = v - m - math.log(t) end
    return r
  end,
  cumsum = function(s)
    local t, r = 0, {}
    for j, v in ipairs(s) do t = t + v; r[j] = t end
    return r
  end,
}

local function lucid_reduce(name, x, d)
  if name == "norm3" then return x:norm(3, d) end
  return x[name](x, d)
end

describe("larger tensors against plain Lua loops", function()
  lucid.manual_seed(11)
  -- (5, 7, 130): dim 3 is contiguous rows; dims 1, 2 reduce an outer dim with
  -- up to 910 results side by side (chunks of the kernels' state); the
  -- transposed view (130, 7, 5) reads every dim with a stride.
  local base = lucid.randn({5, 7, 130}, {dtype = "float64"})
  local views = {
    {"contiguous (5,7,130)", base},
    {"transposed view (130,7,5)", base:transpose(1, 3)},
    {"sliced view (7,130)", base[3]},
  }
  for _, v in ipairs(views) do
    local label, x = v[1], v[2]
    local shape = x.shape
    local flat = H.flat(x)
    for dim = 1, #shape do
      for name, f in pairs(ref) do
        it(string.format("%s over dim %d of %s", name, dim, label), function()
          local vals, idx = {}, {}
          each_slice(flat, shape, dim, function(s)
            local r, k = f(s)
            vals[#vals + 1], idx[#idx + 1] = r, k
          end)
          local out, ix = lucid_reduce(name, x, dim)
          local rs = reduced_shape(shape, dim)
          H.assert_close(out, {shape = rs, data = vals}, 1e-12, 1e-14, name)
          if name == "max" or name == "min" then
            H.assert_close(ix, {shape = rs, data = idx}, 0, 0, name .. " indices")
          end
        end)
      end
      for name, f in pairs(scan_ref) do
        it(string.format("%s along dim %d of %s", name, dim, label), function()
          local vals = {}
          each_slice(flat, shape, dim, function(s, pos)
            local r = f(s)
            for j = 1, #r do vals[pos[j]] = r[j] end
          end)
          H.assert_close(x[name](x, dim), {shape = shape, data = vals}, 1e-12, 1e-14, name)
        end)
      end
    end
    it("all-elements forms of " .. label, function()
      H.assert_close(x:max(), {shape = {}, data = {(ref.max(flat))}}, 0, 0, "max")
      H.assert_close(x:min(), {shape = {}, data = {(ref.min(flat))}}, 0, 0, "min")
      local _, k = ref.max(flat)
      H.assert_close(x:argmax(), {shape = {}, data = {k}}, 0, 0, "argmax")
      H.assert_close(x:var(), {shape = {}, data = {ref.var(flat)}}, 1e-12, 0, "var")
      H.assert_close(x:logsumexp(), {shape = {}, data = {ref.logsumexp(flat)}}, 1e-12, 0, "logsumexp")
      H.assert_close(x:norm(3), {shape = {}, data = {ref.norm3(flat)}}, 1e-12, 0, "norm")
    end)
  end

  it("float32 results round a double accumulation", function()
    local x32 = lucid.randn({4, 300}, {dtype = "float32"})
    local flat = H.flat(x32)
    local sums = {}
    each_slice(flat, x32.shape, 2, function(s)
      sums[#sums + 1] = scan_ref.cumsum(s)[#s]
    end)
    local c = x32:cumsum(2)
    H.assert_close(c:select(2, 300), {shape = {4}, data = sums}, 1e-6, 1e-6, "cumsum")
    assert.are.equal("float32", c.dtype)
  end)
end)

-- ---------------------------------------------------------------------------
-- behaviour

describe("reduction results", function()
  local x = lucid.tensor({{1, 5, 3}, {4, 2, 6}}, {dtype = "float64", requires_grad = true})

  it("max/min over a dim return values and 1-based int64 indices", function()
    local v, i = x:max(2)
    assert.are.same({5, 6}, v:tolist())
    assert.are.same({2, 3}, i:tolist())
    assert.are.equal("int64", i.dtype)
    assert.is_false(i.requires_grad)
    assert.are.equal(v:tolist()[1], x[1][i[1]:item()]:item())  -- usable as t[i]
    local v2, i2 = lucid.min(x, {dim = 1, keepdim = true})
    assert.are.same({{1, 2, 3}}, v2:tolist())
    assert.are.same({{1, 2, 1}}, i2:tolist())
    assert.are.equal("MaxBackward", v.grad_fn)
  end)

  it("any, all and count_nonzero read nonzero (NaN too) as true, over all or a dim", function()
    local m = lucid.tensor({{0, 1, 0}, {0, 0, 0 / 0}})
    assert.are.equal(true, m:any():item())
    assert.are.equal(false, m:all():item())
    assert.are.same({false, true, true}, m:any(1):tolist())
    assert.are.same({{false}, {false}}, m:all(2, true):tolist())
    assert.are.same({true}, lucid.tensor({{1, 2}}):all(2):tolist())
    assert.are.equal("int64", m:count_nonzero().dtype)
    assert.are.equal(2, m:count_nonzero():item())
    assert.are.same({1, 1}, m:count_nonzero(2):tolist())
    assert.are.same({false, true}, {lucid.zeros(0):any():item(), lucid.zeros(0):all():item()})
    assert.has_error(function() m:count_nonzero(1, true) end)  -- no keepdim, as PyTorch's
  end)

  it("argmax/argmin give 1-based (flat) indices", function()
    assert.are.equal(6, x:argmax():item())
    assert.are.equal(1, x:argmin():item())
    assert.are.same({2, 3}, x:argmax(2):tolist())
    assert.are.same({{1, 2, 1}}, x:argmin(1, true):tolist())
    assert.are.same({{6}}, x:argmax{keepdim = true}:tolist())
  end)

  it("changing returned indices does not change max's gradient", function()
    local leaf = lucid.tensor({{1, 5, 3}, {4, 2, 6}}, {dtype = "float64", requires_grad = true})
    local v, i = leaf:max(2)
    i:fill_(1)
    v:sum():backward()
    assert.are.same({{0, 1, 0}, {0, 0, 1}}, leaf.grad:tolist())
  end)

  it("keeps every dim for all-elements forms with keepdim", function()
    assert.are.same({1, 1}, x:prod{keepdim = true}.shape)
    assert.are.same({1, 1}, x:norm{keepdim = true}.shape)
    assert.are.same({1, 1}, x:var{keepdim = true}.shape)
    assert.are.same({1, 1}, x:std(nil, true, true).shape)
  end)

  it("var takes PyTorch 1.13's three spellings", function()
    local pop = x:var(false):item()
    assert.are.equal(pop, x:var{unbiased = false}:item())
    assert.are.equal(pop, x:var{correction = 0}:item())
    assert.are.equal(pop, lucid.var(x, nil, false):item())
    assert.is_true(math.abs(pop * 6 / 5 - x:var():item()) < 1e-12)
    H.assert_close(x:std(2, false, true), x:std{dim = 2, correction = 0, keepdim = true}, 0, 0)
  end)

  it("records grad_fn names", function()
    local names = {
      prod = x:prod(), var = x:var(), std = x:std(), max = x:max(), min = x:min(),
      logsumexp = x:logsumexp(1), norm = x:norm(), softmax = x:softmax(1),
      log_softmax = x:log_softmax(1), cumsum = x:cumsum(1),
    }
    local expect = {
      prod = "ProdBackward", var = "VarBackward", std = "StdBackward", max = "MaxBackward",
      min = "MinBackward", logsumexp = "LogsumexpBackward", norm = "NormBackward",
      softmax = "SoftmaxBackward", log_softmax = "LogSoftmaxBackward", cumsum = "CumsumBackward",
    }
    for k, t in pairs(names) do assert.are.equal(expect[k], t.grad_fn, k) end
  end)

  it("records nothing without grad or under no_grad", function()
    local c = lucid.tensor({{1, 2}, {3, 4}})
    for _, t in ipairs({c:prod(), c:softmax(1), c:max(), (c:max(1)), c:norm(), c:cumsum(2)}) do
      assert.is_false(t.requires_grad)
    end
    lucid.no_grad(function()
      assert.is_false(x:softmax(1).requires_grad)
      assert.is_false(x:var().requires_grad)
    end)
  end)

  it("backward runs twice with retain_graph", function()
    local leaf = lucid.tensor({{1, 2}, {3, 4}}, {dtype = "float64", requires_grad = true})
    local y = leaf:softmax(2):prod()
    y:backward(nil, {retain_graph = true})
    local g1 = H.flat(leaf.grad)
    y:backward()
    local g2 = H.flat(leaf.grad)
    for k = 1, #g1 do assert.is_true(math.abs(g2[k] - 2 * g1[k]) < 1e-12) end
  end)

  it("softmax and log_softmax stay finite for large inputs", function()
    local big = lucid.tensor({{1e4, 1e4 + 1, -1e4}}, {dtype = "float32"})
    local s = H.flat(big:softmax(2))
    for _, v in ipairs(s) do assert.is_true(v == v and v < math.huge) end
    assert.is_true(math.abs(s[1] + s[2] - 1) < 1e-6)
    local l = H.flat(big:log_softmax(2))
    assert.is_true(math.abs(l[2] - (-math.log(1 + math.exp(-1)))) < 1e-5)
    assert.is_true(math.abs(big:logsumexp(2):item() - (1e4 + 1 + math.log(1 + math.exp(-1)))) < 1e-2)
  end)
end)

-- ---------------------------------------------------------------------------
-- errors

-- Asserts f(...) fails with a message containing `expected`, then that the
-- state still computes and differentiates.
local function check_error(expected, f, ...)
  H.assert_error(expected, f, ...)
  local t = lucid.tensor({{1, 2}}, {requires_grad = true})
  local y = t:softmax(2):max()
  y:backward()
  assert.is_not_nil(t.grad)
end

describe("reduction errors", function()
  local x = lucid.zeros(2, 3)
  local ops = {"prod", "var", "std", "max", "min", "argmax", "argmin", "logsumexp",
               "softmax", "log_softmax", "cumsum"}

  it("name the op and the 1-based dim out of range", function()
    for _, op in ipairs(ops) do
      check_error("lucid." .. op .. ": dimension 3 is out of range for a 2-d tensor (expected 1..2 or -2..-1)",
        lucid[op], x, 3)
      check_error("lucid." .. op .. ": dimension -3 is out of range", x[op], x, -3)
      check_error("lucid." .. op .. ": dimension 0 is out of range", x[op], x, {dim = 0})
      check_error("lucid." .. op .. ": dimension 2 is out of range for a 0-d tensor (expected 1 or -1)",
        lucid[op], lucid.tensor(1), 2)
    end
    check_error("lucid.norm: dimension 3 is out of range for a 2-d tensor", x.norm, x, 2, 3)
  end)

  it("reject wrong types", function()
    check_error("lucid.max: dimension must be an integer, got string", x.max, x, "a")
    check_error("lucid.prod: dimension must be an integer, got a fraction", x.prod, x, 1.5)
    check_error("lucid.max: keepdim must be a boolean, got number", x.max, x, 1, 1)
    check_error("lucid.max: expected a dimension, got a tensor", x.max, x, x)
    check_error("lucid.Tensor expected, got number", lucid.max, 5)
    check_error("lucid.Tensor expected, got no value", lucid.softmax)
    check_error("lucid.var: unbiased must be a boolean, got number", x.var, x, 1, 1)
    check_error("lucid.var: option 'correction' must be a number, got string", x.var, x, {correction = "1"})
    check_error("lucid.norm: p must be a number or \"fro\", got \"nuc\"", x.norm, x, "nuc")
    check_error("lucid.norm: p must be a number or \"fro\", got boolean", x.norm, x, true)
  end)

  it("reject unknown, repeated and surplus arguments", function()
    check_error("lucid.var: unknown option 'dimm' (did you mean 'dim'?)", x.var, x, {dimm = 1})
    check_error("lucid.max: unknown option '1' (expected dim or keepdim)", x.max, x, {1})
    check_error("lucid.max: dim is given twice", x.max, x, 1, {dim = 2})
    check_error("lucid.var: give either unbiased or correction, not both", x.var, x,
      {unbiased = true, correction = 1})
    check_error("lucid.var: give either unbiased or correction, not both", x.var, x, false,
      {correction = 1})
    check_error("lucid.max: too many arguments", x.max, x, 1, true, 3)
    check_error("lucid.cumsum: too many arguments", x.cumsum, x, 1, 2)
    check_error("lucid.softmax: too many arguments", x.softmax, x, 1, x, 2)
    check_error("lucid.softmax: out must be a tensor, got number", x.softmax, x, 1, 2)
  end)

  it("require softmax's, log_softmax's and cumsum's dim", function()
    check_error("lucid.softmax: dim is required", x.softmax, x)
    check_error("lucid.log_softmax: dim is required", lucid.log_softmax, x, {})
    check_error("lucid.cumsum: dim is required", x.cumsum, x)
  end)

  it("refuse p <= 0 for norm", function()
    check_error("lucid.norm: p must be positive (or inf), got 0", x.norm, x, 0)
    check_error("lucid.norm: p must be positive (or inf), got -1", x.norm, x, -1, 1)
    check_error("lucid.norm: p must be positive (or inf), got -inf", x.norm, x, -math.huge)
    check_error("lucid.norm: p must be positive (or inf), got nan", x.norm, x, 0 / 0)
  end)

  it("refuse max, min, argmax and argmin of nothing", function()
    local e = lucid.zeros(0, 3)
    for _, op in ipairs({"max", "min", "argmax", "argmin"}) do
      check_error("lucid." .. op .. ": the " .. op .. " of an empty tensor (shape {0, 3}) is undefined",
        e[op], e)
      check_error("lucid." .. op .. ": the " .. op .. " over dimension 1 of shape {0, 3} is undefined: it has size 0",
        e[op], e, 1)
    end
    -- reducing a non-empty dim of an empty tensor is fine: nothing to reduce
    local v, i = e:max(2)
    assert.are.same({0}, v.shape)
    assert.are.same({0}, i.shape)
  end)
end)
