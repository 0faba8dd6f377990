-- Creation beyond zeros/ones, and the matrix-product shorthands
-- (expected values from torch 1.13).
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")

local function assert_near(expected, t, tol)
  local got = t:reshape(-1):tolist()
  assert.are.equal(#expected, #got)
  for i, e in ipairs(expected) do
    assert(math.abs(got[i] - e) <= (tol or 1e-6), string.format("[%d]: got %.9g, expected %.9g", i, got[i], e))
  end
end

describe("creation", function()
  it("eye, arange and linspace match PyTorch", function()
    assert.are.same({{1, 0, 0}, {0, 1, 0}}, lucid.eye(2, 3):tolist())
    assert.are.same({{1, 0}, {0, 1}}, lucid.eye(2):tolist())
    assert.are.same({0, 1, 2, 3, 4}, lucid.arange(5):tolist())
    assert.are.same({3, 2, 1, 0}, lucid.arange(3, -1, -1):tolist())
    assert_near({1.0, 1.3, 1.6, 1.9}, lucid.arange(1, 2, 0.3))
    assert_near({-1, -2 / 3, -1 / 3, 0, 1 / 3, 2 / 3, 1}, lucid.linspace(-1, 1, 7))
    assert.are.same({0}, lucid.linspace(0, 1, 1):tolist())
    assert.are.equal("float64", lucid.arange(3, {dtype = "float64"}).dtype)
    assert.is_true(lucid.linspace(0, 1, 3, {requires_grad = true}).requires_grad)
  end)

  it("randint draws integers in [low, high), repeatably", function()
    lucid.manual_seed(5)
    local a = lucid.randint(2, 5, {1000})
    local seen = {}
    for _, v in ipairs(a:tolist()) do
      assert.is_true(v == math.floor(v) and v >= 2 and v < 5)
      seen[v] = true
    end
    assert.is_true(seen[2] and seen[3] and seen[4])
    lucid.manual_seed(5)
    assert.are.same(a:tolist(), lucid.randint(2, 5, {1000}):tolist())
    assert.are.same({2, 3}, lucid.randint(10, {2, 3}).shape)
  end)

  it("*_like copy shape and dtype", function()
    local t = lucid.zeros(2, 3, {dtype = "float64"})
    for _, name in ipairs({"zeros_like", "ones_like", "rand_like", "randn_like", "empty_like"}) do
      local u = lucid[name](t)
      assert.are.same({2, 3}, u.shape, name)
      assert.are.equal("float64", u.dtype, name)
    end
    assert.are.same({{7, 7, 7}, {7, 7, 7}}, lucid.full_like(t, 7):tolist())
    assert.are.equal("float32", lucid.ones_like(t, {dtype = "float32"}).dtype)
  end)

  it("builds from flat tables and packed little-endian strings", function()
    assert.are.same({{1, 2, 3}, {4, 5, 6}}, lucid.from_table({1, 2, 3, 4, 5, 6}, {2, 3}):tolist())
    assert.are.same({{1, 2}}, lucid.from_table({{1, 2}}):tolist())
    local packed = H.bytes("<fff", 1.5, -2, 3)
    assert.are.same({1.5, -2, 3}, lucid.from_string(packed, 3):tolist())
    local d = lucid.from_string(H.bytes("<dd", 0.1, 0.2), {2}, {dtype = "float64"})
    assert.are.same({0.1, 0.2}, d:tolist())
    assert.are.equal(H.bytes("<dd", 0.1, 0.2), d:to_string())
    assert.are.equal(packed, lucid.tensor({1.5, -2, 3}):to_string())
    assert.are.equal(H.bytes("<ffff", 1, 3, 2, 4), lucid.tensor({{1, 2}, {3, 4}}):transpose(1, 2):to_string())
  end)

  it("explains bad arguments", function()
    assert.has_error(function() lucid.arange(1, 0) end, "lucid.arange: cannot go from 1 to 0 in steps of 1")
    assert.has_error(function() lucid.arange(0, 1, 0) end, "lucid.arange: cannot go from 0 to 1 in steps of 0")
    assert.has_error(function() lucid.linspace(0, 1, -1) end, "lucid.linspace: steps must be non-negative, got -1")
    assert.has_error(function() lucid.randint(3, 3, {2}) end, "lucid.randint: empty range [3, 3)")
    assert.has_error(function() lucid.randint(3, 4, 2) end, "lucid.randint: expected a shape table after the bounds, got number")
    assert.has_error(function() lucid.from_string("abc", 1) end, "lucid.from_string: 1 elements of float32 need 4 bytes, got 3")
    assert.has_error(function() lucid.from_table({1, 2, 3}, {2, 2}) end, "lucid.from_table: shape {2, 2} needs more values than the table's 3")
    assert.has_error(function() lucid.from_table({1, 2}, {2, 0.5}) end, "lucid.from_table: shape[2] must be a non-negative integer, got 0.5")
    assert.has_error(function() lucid.from_table({1, 2}, {2 ^ 62, 2 ^ 62}) end)
    assert.has_error(function() lucid.from_table({1, 2, 3}, {2}) end, "lucid.from_table: shape {2} needs 2 values, the table has 3")
    assert.has_error(function() lucid.zeros_like(3) end, "lucid.zeros_like: expected a tensor, got number")
  end)
end)

describe("matrix products", function()
  local a = lucid.tensor({{1, 2}, {3, 4}})
  local v = lucid.tensor({1, 1})

  it("mm, bmm, dot, outer and addmm compute what PyTorch does", function()
    assert.are.same({{7, 10}, {15, 22}}, lucid.mm(a, a):tolist())
    assert.are.same({{{7, 10}, {15, 22}}}, a:reshape(1, 2, 2):bmm(a:reshape(1, 2, 2)):tolist())
    assert.are.equal(2, lucid.dot(v, v):item())
    assert.are.same({{1, 2, 3}, {1, 2, 3}}, lucid.outer(v, lucid.tensor({1, 2, 3})):tolist())
    assert.are.same({{23, 32}, {47, 68}}, lucid.addmm(v, a, a, 2, 3):tolist())
    assert.are.same({{23, 32}, {47, 68}}, a:addmm(a, a, {beta = 2, alpha = 3}):tolist() and
      lucid.addmm(v, a, a, {beta = 2, alpha = 3}):tolist())
  end)

  it("are differentiable", function()
    local function f64(s) return lucid.randn(s, {dtype = "float64", requires_grad = true}) end
    local check = lucid.autograd.gradcheck
    assert.is_true(check(lucid.mm, {f64({2, 3}), f64({3, 2})}))
    assert.is_true(check(lucid.bmm, {f64({2, 2, 3}), f64({2, 3, 2})}))
    assert.is_true(check(lucid.dot, {f64({3}), f64({3})}))
    assert.is_true(check(lucid.outer, {f64({3}), f64({2})}))
    assert.is_true(check(function(i, x, y) return lucid.addmm(i, x, y, 0.5, 2) end, {f64({2}), f64({2, 3}), f64({3, 2})}))
  end)

  it("check ranks and batch sizes", function()
    assert.has_error(function() lucid.mm(v, a) end, "lucid.mm: input must be 2-D, got shape {2}")
    assert.has_error(function() lucid.bmm(lucid.zeros(2, 2, 2), lucid.zeros(3, 2, 2)) end,
      "lucid.bmm: batch sizes of shapes {2, 2, 2} and {3, 2, 2} differ (2 ~= 3)")
    assert.has_error(function() lucid.dot(a, v) end, "lucid.dot: input must be 1-D, got shape {2, 2}")
    assert.has_error(function() lucid.outer(v, 3) end, "lucid.outer: vec2 must be a tensor, got number")
  end)
end)

describe("lucid.tensor of a tensor", function()
  it("copies and keeps the dtype unless opts.dtype says otherwise, as torch.tensor(t)", function()
    local i = lucid.tensor({3, -1}, {dtype = "int64"})
    local c = lucid.tensor(i)
    assert.are.equal("int64", c.dtype)
    assert.are.same({3, -1}, c:tolist())
    assert.are.equal("float64", lucid.tensor(lucid.zeros(2, {dtype = "float64"})).dtype)
    assert.are.equal("float32", lucid.tensor(i, {dtype = "float32"}).dtype)
    c[1] = 7  -- a copy, not a view
    assert.are.equal(3, i[1]:item())
  end)
end)

describe("linear of integer tensors", function()
  it("is refused (BLAS takes floats), as PyTorch's", function()
    local x = lucid.ones(2, 3, {dtype = "int64"})
    assert.has_error(function() lucid.linear(x, lucid.ones(4, 3, {dtype = "int64"})) end,
      "lucid.linear: linear needs float tensors, got int64")
  end)
end)
