-- Autograd extras: grad(), retain_grad, hooks, ops written in Lua, gradcheck,
-- and errors in the middle of backward.
local lucid = require("lucid")
local autograd = lucid.autograd

local function f64(v, rg) return lucid.tensor(v, {dtype = "float64", requires_grad = rg ~= false}) end

describe("lucid.autograd.grad", function()
  it("returns gradients as results without touching .grad", function()
    local x, y = f64({1, 2}), f64({3, 4})
    local z = (x * y + x):sum()
    local gx, gy = autograd.grad(z, {x, y})
    assert.are.same({4, 5}, gx:tolist())
    assert.are.same({1, 2}, gy:tolist())
    assert.is_nil(x.grad)
  end)

  it("sums over several outputs, takes seeds, and reaches non-leaves", function()
    local x = f64({1, 2})
    local h = x * 3
    local a, b = h:sum(), (h * h):sum()
    local gx = autograd.grad({a, b}, x)
    assert.are.same({3 + 18 * 1, 3 + 18 * 2}, gx:tolist())
    local y = x * x
    local gh = autograd.grad(y, y, f64({1, 1}, false))
    assert.are.same({1, 1}, gh:tolist())
    assert.are.same({2, 8}, autograd.grad(x * x, x, lucid.tensor({1, 2}, {dtype = "float64"})):tolist())
  end)

  it("refuses unused inputs unless allowed", function()
    local x, w = f64({1}), f64({2})
    local z = (x * 2):sum()
    assert.has_error(function() autograd.grad(z, {x, w}, {retain_graph = true}) end,
      "lucid.autograd.grad: input 2 was not used to compute the outputs (pass allow_unused = true to get nil for it)")
    local gx, gw = autograd.grad(z, {x, w}, {allow_unused = true})
    assert.are.same({2}, gx:tolist())
    assert.is_nil(gw)
  end)
end)

describe("retain_grad and hooks", function()
  it("keeps a non-leaf's gradient on request", function()
    local x = f64({1, 2})
    local y = x * x
    y:retain_grad()
    local z = y * 3
    z:sum():backward()
    assert.are.same({3, 3}, y.grad:tolist())
    assert.is_nil(z.grad)
  end)

  it("runs hooks with the complete gradient and lets them replace it", function()
    local x = f64({1, 2})
    local seen = {}
    local handle = x:register_hook(function(g) seen[#seen + 1] = g:tolist() return g * 10 end)
    local y = x * x + x  -- two paths into x: the hook sees their sum, once
    y:sum():backward()
    assert.are.same({{3, 5}}, seen)
    assert.are.same({30, 50}, x.grad:tolist())
    handle:remove()
    x.grad = nil
    (x * 1):sum():backward()
    assert.are.same({1, 1}, x.grad:tolist())
    assert.are.equal(1, #seen)
  end)

  it("checks what a hook returns", function()
    local x = f64({1, 2})
    x:register_hook(function() return lucid.zeros(3) end)
    local ok, err = pcall(function() (x * 1):sum():backward() end)
    assert.is_false(ok)
    assert.truthy(err:find("a tensor hook returned a gradient of shape {3} for a tensor of shape {2}", 1, true))
  end)

  it("refuses hooks on tensors that get no gradient", function()
    assert.has_error(function() lucid.zeros(2):register_hook(print) end,
      "lucid.register_hook: the tensor does not require grad, so no gradient will reach the hook")
  end)
end)

describe("errors in the middle of backward", function()
  it("leave gradients untouched and the graph ready for a retry", function()
    local x = f64({1, 2})
    local fail = true
    local y = x * x
    y:register_hook(function(g)
      if fail then error("not now") end
      return g
    end)
    local loss = (y * 2):sum()
    local ok, err = pcall(loss.backward, loss)
    assert.is_false(ok)
    assert.truthy(err:find("not now", 1, true))
    assert.is_nil(x.grad)
    fail = false
    loss:backward()
    assert.are.same({4, 8}, x.grad:tolist())
  end)
end)

describe("lucid.autograd.Function", function()
  local Cube = autograd.Function:extend("Cube")
  function Cube.forward(ctx, x, scale)
    ctx:save_for_backward(x)
    ctx.scale = scale
    return x ^ 3 * scale
  end
  function Cube.backward(ctx, g)
    local x = ctx.saved_tensors[1]
    return g * 3 * x * x * ctx.scale, nil
  end

  it("records a node named after the class and runs its backward", function()
    local x = f64({1, 2})
    local y = Cube.apply(x, 2)
    assert.are.equal("CubeBackward", y.grad_fn)
    assert.are.same({2, 16}, y:tolist())
    y:sum():backward()
    assert.are.same({6, 24}, x.grad:tolist())
    assert.is_true(autograd.gradcheck(function(a) return Cube.apply(a, 2) * a end, {f64({0.5, -1.5})}))
  end)

  it("records nothing under no_grad or without inputs that need it", function()
    local x = f64({1, 2})
    assert.is_false(lucid.no_grad(Cube.apply, x, 2).requires_grad)
    assert.is_false(Cube.apply(f64({1}, false), 2).requires_grad)
  end)

  it("reports a backward that raises or returns the wrong shape", function()
    local Bad = autograd.Function:extend("Bad")
    function Bad.forward(_, x) return x * 1 end
    function Bad.backward() return lucid.zeros(5, {dtype = "float64"}) end
    local x = f64({1, 2})
    local ok, err = pcall(function() Bad.apply(x):sum():backward() end)
    assert.is_false(ok)
    assert.truthy(err:find("BadBackward (gradient 1) returned a gradient of shape {5} for a tensor of shape {2}", 1, true))
    assert.is_nil(x.grad)
  end)
end)

describe("lucid.autograd.gradcheck", function()
  it("passes correct gradients and names the element of a wrong one", function()
    assert.is_true(autograd.gradcheck(function(a, b) return lucid.tanh(a:matmul(b)) end,
      {lucid.randn(2, 3, {dtype = "float64", requires_grad = true}),
       lucid.randn(3, 2, {dtype = "float64", requires_grad = true})}))
    local Wrong = autograd.Function:extend("Wrong")
    function Wrong.forward(_, x) return x * x end
    function Wrong.backward(_, g) return g end
    local ok, msg = autograd.gradcheck(function(a) return Wrong.apply(a) end, {f64({1, 2})}, {raise = false})
    assert.is_false(ok)
    -- the check weights the output by a random r in [0.5, 1.5): Wrong gives r, the truth 2r
    local got, want = msg:match("^input 1, element 1: autograd ([%d.]+), finite differences ([%d.]+)$")
    assert.is_truthy(got, msg)
    assert.is_true(math.abs(tonumber(want) - 2 * tonumber(got)) < 1e-6, msg)
  end)

  it("asks for float64", function()
    assert.has_error(function() autograd.gradcheck(lucid.tanh, {lucid.ones(2, {requires_grad = true})}) end,
      "lucid.autograd.gradcheck: input 1 is float32; finite differences need float64")
  end)
end)

describe("lucid.autograd.gradcheck: arguments", function()
  it("checks fn, inputs and opts, naming gradcheck", function()
    local id = function(x) return x end
    assert.has_error(function() autograd.gradcheck(5, {}) end,
      "lucid.autograd.gradcheck: fn must be a function, got number")
    assert.has_error(function() autograd.gradcheck(id, 5) end,
      "lucid.autograd.gradcheck: inputs must be a tensor or a table of inputs, got number")
    assert.has_error(function() autograd.gradcheck(id, {f64({1})}, 5) end,  -- options: by name only
      "lucid.autograd.gradcheck: too many arguments (2 positional options at most: fn, inputs)")
    assert.has_error(function() autograd.gradcheck(id, {f64({1})}, {eps = "x"}) end,
      "lucid.autograd.gradcheck: eps must be a number, got string")
  end)

  it("leaves grad mode on when fn fails during the finite differences", function()
    local calls = 0
    local function f(x)
      calls = calls + 1
      if calls > 1 then error("f: failed") end
      return x * x
    end
    local ok, msg = pcall(autograd.gradcheck, f, {f64({1, 2})})
    assert.is_false(ok)
    assert.is_truthy(tostring(msg):find("f: failed", 1, true))
    assert.is_true(lucid.is_grad_enabled())
    assert.has_error(function() autograd.gradcheck(function() return 1 end, {f64({1})}) end,
      "lucid.autograd.gradcheck: the function must return a tensor")
    assert.is_true(lucid.is_grad_enabled())
  end)
end)
