-- Compiled plans (Module:compile) over the shape, indexing, reduction and
-- mask ops: each op in a tiny module, compiled on one input and run on
-- another of the same shape, must give the uncompiled module's result
-- bit for bit (the same kernels run), and the plan must list the op.
local lucid = require("lucid")
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

    it("comparisons, logical ops and isnan as outputs", function()
      check(fmod(function(x) return x:ge(x:exp() - 1.5) end), randn(dt, 4), "ge")
      check(fmod(function(x) return lucid.logical_and(x:gt(0), x:lt(1)):logical_not() end),
        randn(dt, 5), "logical_not")
      check(fmod(function(x) return x:log():isnan() end), randn(dt, 5), "isnan")
    end)
  end)
end

describe("compiled masks: outside the graph", function()
  it("leaves masks outside the graph", function()
    local x = lucid.randn({3}, {requires_grad = true})
    local m = fmod(function(a) return a:gt(0), lucid.where(a:gt(0), a, a * 2) end)
    local fast = m:compile(x:detach())
    local b, y = m(x)
    assert.is_false(b.requires_grad)
    assert.is_true(y.requires_grad)
    y:sum():backward()
    assert.are.same(lucid.where(x:gt(0), lucid.ones(3), lucid.ones(3) * 2):tolist(), x.grad:tolist())
    same(b, (lucid.no_grad(fast, x:detach())))
  end)
end)
