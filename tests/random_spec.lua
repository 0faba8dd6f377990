-- Random draws from the seeded generator: randperm, multinomial, bernoulli,
-- poisson and the in-place fills. The numbers cannot match PyTorch's (another
-- generator), so the checks are on what must hold for any seed (a
-- permutation, no repeats without replacement, zero weights never drawn) and
-- on the distributions, with bounds many standard errors wide for the fixed
-- seed; and the same seed gives the same draws.
local lucid = require("lucid")

describe("random draws", function()
  before_each(function() lucid.manual_seed(1234) end)

  it("randperm is a permutation of 1..n, int64, repeatable by seed", function()
    local p = lucid.randperm(50)
    assert.are.equal("int64", p.dtype)
    local seen = {}
    for _, v in ipairs(p:tolist()) do seen[v] = (seen[v] or 0) + 1 end
    for i = 1, 50 do assert.are.equal(1, seen[i], "value " .. i) end
    lucid.manual_seed(1234)
    assert.are.same(p:tolist(), lucid.randperm(50):tolist())
    assert.are.equal("float32", lucid.randperm(3, {dtype = "float32"}).dtype)
    assert.are.same({}, lucid.randperm(0):tolist())
  end)

  it("multinomial draws 1-based categories in proportion to the weights", function()
    local w = lucid.tensor({1, 0, 3})  -- need not sum to 1
    local d = lucid.multinomial(w, 4000, true)
    assert.are.equal("int64", d.dtype)
    local n3 = d:eq(3):sum():item()
    assert.are.equal(0, d:eq(2):sum():item())  -- a zero weight is never drawn
    assert.is_true(math.abs(n3 / 4000 - 0.75) < 0.05, tostring(n3))
    -- without replacement: each category at most once per row, zeros last never
    local rows = lucid.tensor({{5, 1, 0, 2}, {0, 0, 1, 1}})
    local s = rows:multinomial(2)
    assert.are.same({2, 2}, s.shape)
    for _, r in ipairs(s:tolist()) do assert.are_not.equal(r[1], r[2]) end
    assert.are.same({3, 4}, lucid.tensor({{0, 0, 1, 1}}):multinomial(2):sort(2):tolist()[1])
  end)

  it("bernoulli and poisson follow their means", function()
    local b = lucid.bernoulli(lucid.full({20000}, 0.3, {dtype = "float64"}))
    assert.are.equal("float64", b.dtype)
    assert.is_true(math.abs(b:mean():item() - 0.3) < 0.02)
    local r = lucid.tensor({0, 2, 40})
    local draws = lucid.stack({r, r, r, r, r, r, r, r, r, r}):poisson()
    assert.are.same({0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, draws:select(2, 1):tolist())
    local many = lucid.poisson(lucid.full({20000}, 40))
    assert.is_true(math.abs(many:mean():item() - 40) < 0.5)
    assert.is_true(math.abs(many:var():item() - 40) < 3)
    local few = lucid.poisson(lucid.full({20000}, 2.5))
    assert.is_true(math.abs(few:mean():item() - 2.5) < 0.1)
  end)

  it("the in-place fills change t, return it, and follow their distributions", function()
    local t = lucid.empty(20000, {dtype = "float64"})
    assert.are.equal(t, t:normal_(2, 3))
    assert.is_true(math.abs(t:mean():item() - 2) < 0.1 and math.abs(t:std():item() - 3) < 0.1)
    t:exponential_(4)
    assert.is_true(math.abs(t:mean():item() - 0.25) < 0.02 and t:min():item() >= 0)
    t:bernoulli_(0.9)
    assert.is_true(math.abs(t:mean():item() - 0.9) < 0.02)
    local i = lucid.zeros(1000, {dtype = "int64"}):random_(5, 8)
    assert.are.equal(5, i:min():item())
    assert.are.equal(7, i:max():item())
    assert.are.equal(2, lucid.zeros(1000, {dtype = "uint8"}):random_(3):max():item())
    local view = lucid.zeros(4, 4)
    view:select(2, 1):normal_()
    assert.are.equal(0, view[{{}, {2, 4}}]:abs():sum():item())  -- only the view's elements
    assert.are_not.equal(0, view:select(2, 1):abs():sum():item())
  end)

  it("normal draws from numbers into a shape, or per element of tensor means and stds", function()
    local t = lucid.normal(3, 2, {20000}, {dtype = "float64"})
    assert.are.equal("float64", t.dtype)
    assert.is_true(math.abs(t:mean():item() - 3) < 0.1 and math.abs(t:std():item() - 2) < 0.1)
    local mean = lucid.tensor({1, 2, 3}, {requires_grad = true})
    local std = lucid.tensor({{0.5}, {2}}, {requires_grad = true})
    local y = lucid.normal(mean, std)  -- broadcast: {2, 3}
    assert.are.same({2, 3}, y.shape)
    y:sum():backward()
    assert.are.same({2, 2, 2}, mean.grad:tolist())  -- d/dmean = 1 per draw
    -- d/dstd is the standard normal draw itself: (y - mean) / std, summed
    local eps = lucid.no_grad(function() return ((y - mean) / std):sum(2, true) end)
    assert.is_true((std.grad - eps):abs():max():item() < 1e-5)
    assert.are.same({0, 0}, lucid.normal(0, 0, {2}):tolist())
  end)

  it("name the function and the argument in their errors", function()
    local function err(f, ...)
      local ok, msg = pcall(f, ...)
      assert.is_false(ok)
      return tostring(msg)
    end
    assert.is_truthy(err(lucid.multinomial, lucid.tensor({1, 1}), 3):find(
      "lucid.multinomial: cannot draw 3 samples without replacement from 2 categories", 1, true))
    assert.is_truthy(err(lucid.multinomial, lucid.tensor({0, 0}), 1):find("no nonzero probability", 1, true))
    assert.is_truthy(err(lucid.multinomial, lucid.tensor({-1, 2}), 1):find("non-negative", 1, true))
    assert.is_truthy(err(lucid.bernoulli, lucid.tensor({1.5})):find("lucid.bernoulli: probabilities must be in [0, 1]", 1, true))
    assert.is_truthy(err(lucid.poisson, lucid.tensor({-1})):find("lucid.poisson: rates must be", 1, true))
    local z = lucid.zeros(3)
    assert.is_truthy(err(z.normal_, z, 0, -1):find("lucid.normal_: std must be non-negative", 1, true))
    assert.is_truthy(err(z.random_, z, 5, 5):find("empty range", 1, true))
    assert.is_truthy(err(z.random_, z):find("the upper bound", 1, true))
    local i = lucid.zeros(3, {dtype = "int64"})
    assert.is_truthy(err(i.normal_, i):find("needs a float tensor, got int64", 1, true))
    assert.is_truthy(err(lucid.normal, 0, 1):find("lucid.normal: size is required", 1, true))
    assert.is_truthy(err(lucid.normal, 0, -1, {2}):find("std must be non-negative", 1, true))
    assert.is_truthy(err(lucid.normal, 0, 1, {2}, {generator = 1}):find("not supported", 1, true))
    local w = lucid.zeros(3, {requires_grad = true})
    assert.is_truthy(err(w.normal_, w):find("requires grad", 1, true))
  end)
end)
