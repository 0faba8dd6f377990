-- Tensor fields, methods, creation, settings and no_grad, as the contract names them.
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")

describe("tensors", function()
  it("are built from numbers, nested tables and tensors", function()
    local t = lucid.tensor({{1, 2, 3}, {4, 5, 6}})
    assert.are.same({2, 3}, t.shape)
    assert.are.equal(2, t.ndim)
    assert.are.equal("float32", t.dtype)
    assert.are.same({{1, 2, 3}, {4, 5, 6}}, t:tolist())
    assert.are.equal(2.5, lucid.tensor(2.5):item())
    assert.are.same({}, lucid.tensor(2.5).shape)
    assert.are.same({0}, lucid.tensor({}).shape)
    local c = lucid.Tensor(t, {dtype = "float64"})
    assert.are.equal("float64", c.dtype)
    c[1] = 0  -- a copy: the source is untouched
    assert.are.same({1, 2, 3}, t[1]:tolist())
  end)

  it("are made by zeros, ones, full, rand, randn with varargs or a table", function()
    assert.are.same({2, 3}, lucid.zeros(2, 3).shape)
    assert.are.same({2, 3}, lucid.zeros({2, 3}).shape)
    assert.are.same({{1, 1}}, lucid.ones(1, 2):tolist())
    assert.are.same({{7, 7}}, lucid.full(1, 2, 7):tolist())
    assert.are.same({{7, 7}}, lucid.full({1, 2}, 7):tolist())
    assert.are.same({{2.5, 2.5}}, lucid.full(1, 2, 2.5):tolist())
    assert.are.same({{2.5}}, lucid.full(1.0, 1, 2.5):tolist())  -- integral floats are sizes
    local r = lucid.rand(100, {dtype = "float64"})
    assert.are.equal("float64", r.dtype)
    for _, v in ipairs(r:tolist()) do assert.is_true(v >= 0 and v < 1) end
    assert.is_true(lucid.randn(3, {requires_grad = true}).requires_grad)
    assert.are.equal(0, lucid.zeros(0, 3):numel())
  end)

  it("repeat random draws after manual_seed", function()
    lucid.manual_seed(42)
    local a, b = lucid.rand(5):tolist(), lucid.randn(5):tolist()
    lucid.manual_seed(42)
    assert.are.same(a, lucid.rand(5):tolist())
    assert.are.same(b, lucid.randn(5):tolist())
    lucid.manual_seed(43)
    assert.are_not.same(a, lucid.rand(5):tolist())
  end)

  it("follow set_default_dtype", function()
    lucid.set_default_dtype("float64")
    assert.are.equal("float64", lucid.get_default_dtype())
    assert.are.equal("float64", lucid.zeros(1).dtype)
    assert.are.equal("float64", lucid.tensor({1}).dtype)
    lucid.set_default_dtype("float32")
    assert.are.equal("float32", lucid.zeros(1).dtype)
  end)

  it("index from 1, negative from the end, and #t is the first size", function()
    local t = lucid.tensor({{1, 2}, {3, 4}, {5, 6}})
    assert.are.equal(3, #t)
    assert.are.same({3, 4}, t[2]:tolist())
    assert.are.same({5, 6}, t[-1]:tolist())
    assert.are.equal(4, t[2][2]:item())
    assert.are.same({2, 4, 6}, t:select(2, 2):tolist())
    t[1] = lucid.tensor({9, 8})
    t[-1] = 0
    assert.are.same({{9, 8}, {3, 4}, {0, 0}}, t:tolist())
  end)

  it("share storage between views", function()
    local t = lucid.zeros(2, 3)
    local v = t:transpose(1, 2)
    assert.are.same({3, 2}, v.shape)
    assert.is_false(v:is_contiguous())
    v[1] = 5
    assert.are.same({{5, 0, 0}, {5, 0, 0}}, t:tolist())
    local r = t:reshape(3, 2)
    r[3] = 1
    assert.are.same({{5, 0, 0}, {5, 1, 1}}, t:tolist())
    assert.are.same({6}, t:view(-1).shape)
    assert.are.same({{5, 5}, {0, 1}, {0, 1}}, v:contiguous():tolist())
    assert.are.same({3, 2}, t.T.shape)
  end)

  it("compute with operators, numbers on either side, and broadcasting", function()
    local a = lucid.tensor({{1, 2}, {3, 4}})
    local b = lucid.tensor({10, 20})
    assert.are.same({{11, 22}, {13, 24}}, (a + b):tolist())
    assert.are.same({{9, 8}, {7, 6}}, (10 - a):tolist())
    assert.are.same({{2, 4}, {6, 8}}, (2 * a):tolist())
    assert.are.same({{1, 4}, {9, 16}}, (a ^ 2):tolist())
    assert.are.same({{2, 4}, {8, 16}}, (2 ^ a):tolist())
    assert.are.same({{-1, -2}, {-3, -4}}, (-a):tolist())
    assert.are.same({{0.5, 1}, {1.5, 2}}, (a / 2):tolist())
    assert.are.same({{7, 10}, {15, 22}}, a:matmul(a):tolist())
    assert.are.same({4, 6}, a:sum(1):tolist())
    assert.are.same({{3}, {7}}, a:sum{dim = 2, keepdim = true}:tolist())
    assert.are.equal(2.5, a:mean():item())
    assert.are.same({{10}}, a:sum{keepdim = true}:tolist())
    assert.are.equal("float64", (a + lucid.tensor({1}, {dtype = "float64"})).dtype)
  end)

  it("expose requires_grad, grad, is_leaf and grad_fn", function()
    local x = lucid.ones(2)
    assert.is_false(x.requires_grad)
    x.requires_grad = true
    local y = x * 3
    assert.is_true(x.is_leaf)
    assert.is_false(y.is_leaf)
    assert.are.equal("MulBackward", y.grad_fn)
    assert.is_nil(x.grad_fn)
    y:sum():backward()
    assert.are.same({3, 3}, x.grad:tolist())
    assert.is_nil(y.grad)  -- only leaves keep gradients
    y = x * 3
    y:sum():backward()
    assert.are.same({6, 6}, x.grad:tolist())  -- accumulated
    x.grad = nil
    assert.is_nil(x.grad)
    x.grad = lucid.ones(2)
    x:zero_grad()
    assert.is_nil(x.grad)
    assert.has_error(function() y.requires_grad = false end)
  end)

  it("refuse a gradient that would make a reference cycle", function()
    local x = lucid.ones(2, {requires_grad = true})
    assert.has_error(function() x.grad = x end, "lucid.Tensor.grad: a tensor cannot be its own gradient")
    local g = lucid.ones(2, {requires_grad = true})
    x.grad = g
    assert.has_error(function() g.grad = x end, "lucid.Tensor.grad: a tensor cannot be its own gradient")
    x.grad = x * 2  -- kept as values: the graph that reaches x is not kept
    assert.is_nil(x.grad.grad_fn)
    assert.are.same({2, 2}, x.grad:tolist())
  end)

  it("backward takes an explicit seed and retain_graph", function()
    local x = lucid.tensor({1, 2}, {requires_grad = true})
    local y = x * x
    y:backward(lucid.tensor({1, 10}), {retain_graph = true})
    assert.are.same({2, 40}, x.grad:tolist())
    y:backward{retain_graph = true}
    assert.are.same({4, 44}, x.grad:tolist())
  end)

  it("detach and clone", function()
    local x = lucid.tensor({1, 2}, {requires_grad = true})
    local d = x:detach()
    assert.is_false(d.requires_grad)
    d[1] = 5
    assert.are.equal(5, x[1]:item())  -- shares storage
    local c = x:clone()
    assert.are.equal("CloneBackward", c.grad_fn)
    c:sum():backward()
    assert.are.same({1, 1}, x.grad:tolist())
  end)
end)

describe("no_grad", function()
  it("runs a function without recording and returns its results", function()
    local x = lucid.ones(2, {requires_grad = true})
    local y, z = lucid.no_grad(function(a) return a * 2, "second" end, x)
    assert.is_false(y.requires_grad)
    assert.are.equal("second", z)
    assert.is_true(lucid.is_grad_enabled())
  end)

  it("restores recording when the function raises", function()
    local ok = pcall(lucid.no_grad, function() error("boom") end)
    assert.is_false(ok)
    assert.is_true(lucid.is_grad_enabled())
  end)

  it("works as a guard, closed by hand", function()
    local x = lucid.ones(2, {requires_grad = true})
    local g = lucid.no_grad()
    local enabled, recorded = lucid.is_grad_enabled(), (x * 2).requires_grad
    H.close(g)
    assert.is_false(enabled)
    assert.is_false(recorded)
    assert.is_true(lucid.is_grad_enabled())
    assert.is_true((x * 2).requires_grad)
  end)

  -- `<close>` variables are Lua 5.4 syntax: the to-be-closed form only there.
  if H.lua54 then
    it("works as a to-be-closed guard", function()
      local x = lucid.ones(2, {requires_grad = true})
      local enabled, recorded = H.load54([[
        local lucid, x = ...
        local g <close> = lucid.no_grad()
        return lucid.is_grad_enabled(), (x * 2).requires_grad
      ]])(lucid, x)
      assert.is_false(enabled)
      assert.is_false(recorded)
      assert.is_true(lucid.is_grad_enabled())
      assert.is_true((x * 2).requires_grad)
    end)
  end
end)

describe("no_grad and enable_grad: arguments", function()
  it("refuse what cannot be called, naming the function", function()
    assert.has_error(function() lucid.no_grad(5) end,
      "lucid.no_grad: expected a function (or nothing, for a guard), got number")
    assert.has_error(function() lucid.enable_grad("x") end,
      "lucid.enable_grad: expected a function (or nothing, for a guard), got string")
    assert.is_true(lucid.is_grad_enabled())
    -- a callable table is a function
    local callable = setmetatable({}, {__call = function(_, v) return v + 1, lucid.is_grad_enabled() end})
    local a, b = lucid.no_grad(callable, 1)
    assert.are.equal(2, a)
    assert.is_false(b)
    assert.is_true(lucid.is_grad_enabled())
  end)
end)

describe("require", function()
  -- in a separate process: the reload must not disturb this one's modules
  local function run(code)
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(string.format("package.path = %q\npackage.cpath = %q\n", package.path, package.cpath), code)
    f:close()
    local p = assert(io.popen(H.lua_name .. " " .. path .. " 2>&1"))
    local out = p:read("*a")
    p:close()
    os.remove(path)
    return out
  end

  it("a failed require of lucid leaves nothing half-loaded behind", function()
    local out = run([[
      package.preload["lucid.nn.functional"] = function() error("x") end
      local ok = pcall(require, "lucid")
      assert(not ok, "the require should fail")
      assert(package.loaded["lucid"] == nil and package.loaded["lucid.nn"] == nil, "left cached")
      package.preload["lucid.nn.functional"] = nil
      local lucid = require("lucid")
      assert(type(lucid.save) == "function", "lucid.save is missing")
      assert(lucid.nn.Linear and lucid.nn.functional.relu, "lucid.nn is incomplete")
      assert(lucid.nn.Linear(2, 3)(lucid.ones(1, 2)).shape[2] == 3)
      package.preload["lucid.optim.lr_scheduler"] = function() error("y") end
      assert(not pcall(function() return lucid.optim end))
      assert(package.loaded["lucid.optim"] == nil, "lucid.optim left cached")
      package.preload["lucid.optim.lr_scheduler"] = nil
      assert(lucid.optim.SGD and lucid.optim.lr_scheduler.StepLR, "lucid.optim is incomplete")
      assert(require("lucid.nn").Module == require("lucid.nn.Module"))
      print("ok")
    ]])
    assert.are.equal("ok\n", out)
  end)
end)

-- The every-version forms of what `<close>` and `#` do on Lua 5.4 (5.1's and
-- LuaJIT's `#` ignores __len on tables; `<close>` is 5.4's).
describe("close() and len() on every Lua", function()
  local nn = require("lucid.nn")
  local data = require("lucid.data")

  it("t:close() frees at once and later use is an error", function()
    collectgarbage("collect")
    local before = lucid.memory_allocated()
    local t = lucid.zeros(1000)
    assert.is_true(lucid.memory_allocated() > before)
    t:close()
    assert.are.equal(before, lucid.memory_allocated())
    local ok, err = pcall(function() return t + 1 end)
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("closed", 1, true), tostring(err))
  end)

  it("a no_grad guard's close() restores the mode once", function()
    assert.is_true(lucid.is_grad_enabled())
    local g = lucid.no_grad()
    assert.is_false(lucid.is_grad_enabled())
    local inner = lucid.enable_grad()
    assert.is_true(lucid.is_grad_enabled())
    inner:close()
    assert.is_false(lucid.is_grad_enabled())
    inner:close()  -- closed already: nothing changes
    assert.is_false(lucid.is_grad_enabled())
    g:close()
    assert.is_true(lucid.is_grad_enabled())
  end)

  it(":len() counts modules, items and batches", function()
    assert.are.equal(2, nn.Sequential(nn.ReLU(), nn.Tanh()):len())
    assert.are.equal(3, nn.ModuleList({nn.ReLU(), nn.ReLU(), nn.ReLU()}):len())
    assert.are.equal(1, nn.ModuleDict({a = nn.ReLU()}):len())
    local ds = data.TensorDataset(lucid.zeros(10, 2))
    assert.are.equal(10, ds:len())
    assert.are.equal(4, data.DataLoader(ds, {batch_size = 3}):len())
    assert.are.equal(3, data.DataLoader(ds, {batch_size = 3, drop_last = true}):len())
  end)
end)
