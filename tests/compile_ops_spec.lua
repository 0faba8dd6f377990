-- Compiled plans (Module:compile) over the shape, indexing, reduction and
-- mask ops: each op in a tiny module, compiled on one input and run on
-- another of the same shape, must give the uncompiled module's result
-- bit for bit (the same kernels run), and the plan must list the op.
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")
local nn = lucid.nn

local DTYPES = {"float32", "float64"}

-- A module whose forward is f.
local function fmod(f)
  local M = nn.Module:extend("F")
  function M:forward(...) return f(...) end
  return M()
end

local function has_step(fast, name)
  for _, s in ipairs(fast:steps()) do
    if s == name then return true end
  end
  return false
end

local function same(want, got)
  assert.are.equal(want.dtype, got.dtype)
  assert.are.same(want.shape, got.shape)
  assert.are.same(want:tolist(), got:tolist())
end

-- m compiled on make(), then compared with m on two other inputs from make
-- (a table of inputs); step: the op the plan must run.
local function check(m, make, step)
  local unpk = table.unpack or unpack
  local fast = m:compile(unpk(make()))
  for _ = 1, 2 do
    local xs = make()
    local want = {lucid.no_grad(m, unpk(xs))}
    local got = {lucid.no_grad(fast, unpk(xs))}
    assert.are.equal(#want, #got)
    for i = 1, #want do same(want[i], got[i]) end
  end
  assert.is_true(has_step(fast, step), step .. " not in " .. table.concat(fast:steps(), " "))
  return fast
end

local function randn(dtype, ...)
  local shape = {...}
  return function() return {lucid.randn(shape, {dtype = dtype})} end
end

for _, dt in ipairs(DTYPES) do
  describe("compiled masks and where (" .. dt .. ")", function()
    it("where with a mask computed from the input", function()
      check(fmod(function(x) return lucid.where(x:gt(0), x, x * 0.1) end), randn(dt, 4, 3), "Where")
      check(fmod(function(x) return lucid.where(x:gt(0), x, x * 0.1) end), randn(dt, 4, 3), "gt")
    end)

    it("where and masked_fill with a bool mask that is the plan's input", function()
      local make = function()
        return {lucid.randn({4, 3}, {dtype = dt}), lucid.rand({4, 3}):gt(0.5)}
      end
      check(fmod(function(x, m) return lucid.where(m, x, -x) end), make, "Where")
      check(fmod(function(x, m) return x:masked_fill(m, 7) end), make, "MaskedFill")
    end)

    it("comparisons, logical ops and isnan as outputs", function()
      check(fmod(function(x) return x:ge(x:exp() - 1.5) end), randn(dt, 4), "ge")
      check(fmod(function(x) return lucid.logical_and(x:gt(0), x:lt(1)):logical_not() end),
        randn(dt, 5), "logical_not")
      check(fmod(function(x) return x:log():isnan() end), randn(dt, 5), "isnan")
    end)
  end)

  describe("compiled shape ops (" .. dt .. ")", function()
    it("cat and stack", function()
      check(fmod(function(x) return lucid.cat({x, x:exp(), x}, 2) end), randn(dt, 3, 4), "Cat")
      check(fmod(function(x) return lucid.stack({x, x * 2}, 1) end), randn(dt, 3, 4), "Stack")
    end)

    it("index_select and gather with a constant or an input index", function()
      local idx = lucid.tensor({3, 1, 3}, {dtype = "int64"})
      check(fmod(function(x) return lucid.index_select(x:tanh(), 2, idx) end), randn(dt, 2, 4),
        "IndexSelect")
      local gi = lucid.tensor({{1, 2}, {3, 1}}, {dtype = "int64"})
      check(fmod(function(x) return x:tanh():gather(2, gi) end), randn(dt, 2, 3), "Gather")
      -- the index is the plan's second input: a new index gives new rows
      check(fmod(function(x, i) return x:index_select(1, i) end), function()
        return {lucid.randn({5, 2}, {dtype = dt}),
                lucid.randint(1, 6, {4}, {dtype = "int64"})}
      end, "IndexSelect")
    end)

    it("scatter_add, masked_fill, repeat, flip, index_put", function()
      local si = lucid.tensor({{1, 3, 1}}, {dtype = "int64"})
      check(fmod(function(x) return x:scatter_add(2, si, x:narrow(1, 1, 1):exp()) end),
        randn(dt, 2, 3), "ScatterAdd")
      check(fmod(function(x) return x:masked_fill(x:lt(0), -1.5) end), randn(dt, 3, 4),
        "MaskedFill")
      check(fmod(function(x) return x:masked_fill(x:gt(0.5), x[1][2] * 2) end), randn(dt, 3, 4),
        "MaskedFill")
      check(fmod(function(x) return x:tile(2, 1, 3) end), randn(dt, 2, 3), "Repeat")
      check(fmod(function(x) return x:flip(1, 2) end), randn(dt, 2, 3), "Flip")
      local key = lucid.tensor({2}, {dtype = "int64"})
      check(fmod(function(x) return x:index_put(key, x:narrow(1, 1, 1) * 3) end), randn(dt, 3, 2),
        "IndexPut")
    end)

    it("Embedding, with and without padding_idx (int64 input)", function()
      local e = nn.Embedding(6, 3):to(dt)
      check(e, function() return {lucid.randint(1, 7, {2, 5}, {dtype = "int64"})} end,
        "IndexSelect")
      local ep = nn.Embedding(6, 3, 2):to(dt)
      check(ep, function() return {lucid.randint(1, 7, {7}, {dtype = "int64"})} end, "Where")
    end)

    it("t[index] with an int64 or int32 index that is the plan's input", function()
      for _, idt in ipairs({"int64", "int32"}) do
        check(fmod(function(x, i) return x[i]:exp() end), function()
          local sign = lucid.tensor({{1, -1, 1}, {-1, 1, 1}}, {dtype = idt})
          return {lucid.randn({5, 2}, {dtype = dt}),
                  lucid.randint(1, 6, {2, 3}, {dtype = idt}) * sign}
        end, "IndexSelect")
      end
    end)

    it("an int32 or float index that is the plan's input", function()
      for _, idt in ipairs({"int32", "float64"}) do
        check(fmod(function(x, i) return x:index_select(1, i) end), function()
          return {lucid.randn({5, 2}, {dtype = dt}), lucid.randint(1, 6, {4}, {dtype = idt})}
        end, "IndexSelect")
      end
    end)

    it("an index input out of range at a run", function()
      local m = fmod(function(x, i) return x:index_select(1, i) end)
      local x = lucid.randn({5, 2}, {dtype = dt})
      local fast = m:compile(x, lucid.tensor({1, 2}, {dtype = "int64"}))
      local ok, err = pcall(fast, x, lucid.tensor({1, 9}, {dtype = "int64"}))
      assert.is_false(ok)
      assert.matches("index 9 is out of range", err, 1, true)
    end)
  end)

  describe("compiled reductions (" .. dt .. ")", function()
    local rows = {
      {"Sum", function(x) return x:sum() end}, {"Sum", function(x) return x:sum(2, true) end},
      {"Mean", function(x) return x:mean() end}, {"Mean", function(x) return x:mean(1) end},
      {"Prod", function(x) return x:prod(2) end}, {"Var", function(x) return x:var(2) end},
      {"Std", function(x) return x:std() end}, {"Norm", function(x) return x:norm(2, 1) end},
      {"Logsumexp", function(x) return x:logsumexp(2) end},
      {"Amax", function(x) return x:amax(2) end}, {"Amin", function(x) return x:amin() end},
      {"Max", function(x) return x:max() end}, {"Min", function(x) return x:min() end},
      {"Softmax", function(x) return lucid.softmax(x, 2) end},
      {"LogSoftmax", function(x) return lucid.log_softmax(x, 1) end},
      {"Cumsum", function(x) return x:cumsum(2) end},
      {"argmax", function(x) return x:argmax(2) end}, {"argmin", function(x) return x:argmin() end},
      -- over a transposed (not contiguous) input
      {"Logsumexp", function(x) return x:t():logsumexp() end},
    }
    for _, r in ipairs(rows) do
      it(r[1], function() check(fmod(r[2]), randn(dt, 3, 5), r[1]) end)
    end

    it("integer and mask reductions: any, all, count_nonzero, sum, max", function()
      check(fmod(function(x) return x:gt(0):any(2) end), randn(dt, 3, 5), "Amax")
      check(fmod(function(x) return x:gt(0):all() end), randn(dt, 3, 5), "Amin")
      check(fmod(function(x) return x:gt(0):count_nonzero(1) end), randn(dt, 3, 5), "Sum")
      check(fmod(function(x) return x:gt(0):long():cumsum(2) end), randn(dt, 3, 5), "Cumsum")
      check(fmod(function(x, i) local v, k = i:max(1) return v, k, i:argmin() end), function()
        return {lucid.randn({2}, {dtype = dt}), lucid.randint(1, 9, {4, 3}, {dtype = "int64"})}
      end, "argmin")
    end)

    it("max and min over a dim: values and indices", function()
      check(fmod(function(x) local v, i = x:max(2) return v, i end), randn(dt, 4, 3), "Max")
      local fast = check(fmod(function(x) local _, i = x:min(1, true) return i end),
        randn(dt, 4, 3), "argmin")
      assert.is_false(has_step(fast, "Min"))
    end)

    it("layers: LayerNorm, Softmax, LogSoftmax", function()
      local ln = nn.LayerNorm(4):to(dt)
      lucid.no_grad(function() ln.weight:copy_(lucid.randn({4}, {dtype = dt})) end)
      check(ln, randn(dt, 3, 4), "Mean")
      check(nn.Softmax(2), randn(dt, 3, 4), "Softmax")
      check(nn.LogSoftmax(1), randn(dt, 3, 4), "LogSoftmax")
    end)
  end)
end

describe("compiled ops: gradients through a plan with masks and indices", function()
  it("equal the model's", function()
    local Net = nn.Module:extend("Net")
    function Net:__init() self.l = nn.Linear(4, 4) end
    function Net:forward(x)
      local h = self.l(x)
      local y = lucid.where(h:gt(0), h, h * 0.1) + h:gt(0.5):to(h.dtype) * h
      local v = y:max(2, true)
      y = lucid.cat({y:masked_fill(y:lt(-0.05), 0), v, y:flip(2)}, 2)
      y = y:index_select(2, lucid.tensor({1, 3, 6}, {dtype = "int64"}))
      y = y:gather(2, lucid.tensor({{1, 3}, {2, 2}, {3, 1}}, {dtype = "int64"}))
      return lucid.log_softmax(y:tile(1, 2), 2) + y:logsumexp(2, true) + y:argmax(2, true)
    end
    for _, dt in ipairs(DTYPES) do
      H.check_compiled_grads("masks and indices " .. dt, Net():to(dt), {lucid.randn({3, 4}, {dtype = dt})})
    end
    H.check_compiled_grads("LayerNorm", nn.LayerNorm(4):to("float64"),
      {lucid.randn({3, 4}, {dtype = "float64"})})
  end)
end)

describe("compiled orderings", function()
  for _, dt in ipairs(DTYPES) do
    it("sort, argsort and topk, values and indices, ascending and descending (" .. dt .. ")", function()
      check(fmod(function(x) return x:sort(2) end), randn(dt, 4, 9), "argsort")
      check(fmod(function(x) return x:sort(1, true) end), randn(dt, 4, 9), "Gather")
      check(fmod(function(x) return x:argsort(2, true) end), randn(dt, 3, 40), "argsort")
      check(fmod(function(x) return x:topk(3, 2) end), randn(dt, 5, 40), "topk")  -- selects first
      check(fmod(function(x) return x:topk(2, 1, false) end), randn(dt, 6, 4), "topk")
      -- an ordering of a computed tensor, and values feeding later ops
      check(fmod(function(x) local v = (x * 2):exp():topk(2, 2); return v:sum(2) end), randn(dt, 3, 5),
        "topk")
      check(fmod(function(x) return x:cummax(2) end), randn(dt, 4, 7), "cummax")
      check(fmod(function(x) return x:cummin(1) end), randn(dt, 4, 7), "cummin")
      -- searchsorted: a sorted sequence computed in the forward, the values an input
      local sorted = function() return {lucid.randn({3, 6}, {dtype = dt}), lucid.randn({3, 4}, {dtype = dt})} end
      check(fmod(function(s, v) return lucid.searchsorted(s:sort(2), v) end), sorted, "searchsorted")
      check(fmod(function(s, v) return lucid.searchsorted(s[1]:sort(), v, {right = true}) end), sorted,
        "searchsorted")
    end)
  end

  it("gives the model's gradients through sorted values", function()
    local M = nn.Module:extend("Top")
    function M:__init() self.fc = nn.Linear(6, 6) end
    function M:forward(x) local v = self.fc(x):topk(2, 2); return v:tanh() end
    for _, dt in ipairs(DTYPES) do
      lucid.manual_seed(2)
      H.check_compiled_grads("topk " .. dt, M():to(dt), {lucid.randn({3, 6}, {dtype = dt})})
    end
  end)
end)

describe("compiled ops: what stays refused", function()
  it("names an op without a replay", function()
    local m = fmod(function(x) return lucid.linalg.det(x:exp()) end)
    local ok, err = pcall(function() return m:compile(lucid.randn(3, 3)) end)
    assert.is_false(ok)
    assert.matches("LinalgDet cannot be compiled yet", err, 1, true)
  end)

  it("refuses a masked write into an integer result even when the traced mask is all false", function()
    local m = fmod(function(x) local s = x:sum(2, true); s[s:le(0)] = 5; return s end)
    local x = lucid.tensor({{{1, 1}, {1, 1}}}, {dtype = "int64"})  -- no element <= 0 while traced
    local ok, err = pcall(function() return m:compile(x) end)
    assert.is_false(ok)
    assert.matches("was written in place during the forward", err, 1, true)
  end)

  it("refuses unique (its shape depends on the values), naming it", function()
    local m = fmod(function(x) local _, inverse = lucid.unique(x, {return_inverse = true}); return x * inverse end)
    local ok, err = pcall(function() return m:compile(lucid.randn(5)) end)
    assert.is_false(ok)
    assert.matches("unique", err, 1, true)
  end)

  it("refuses a mask selection (its shape depends on the values)", function()
    local m = fmod(function(x) return x[x:gt(0)] end)
    local ok, err = pcall(function() return m:compile(lucid.randn(5)) end)
    assert.is_false(ok)
    assert.matches("nonzero", err)
  end)

  it("leaves masks and indices outside the graph", function()
    local x = lucid.randn({3}, {requires_grad = true})
    local m = fmod(function(a) return a:gt(0), a:argmax(), lucid.where(a:gt(0), a, a * 2) end)
    local fast = m:compile(x:detach())
    local b, i, y = m(x)
    assert.is_false(b.requires_grad)
    assert.is_false(i.requires_grad)
    assert.is_true(y.requires_grad)
    y:sum():backward()
    assert.is_not_nil(x.grad)
    local fb, fi = lucid.no_grad(fast, x:detach())
    same(b, fb)
    same(i, fi)
  end)
end)
