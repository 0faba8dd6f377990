-- Compiled models (Module:compile): the trace, the replay, what is refused.
-- The families' ops and the built-in layers have specs of their own
-- (compile_ops_spec.lua, compile_layers_spec.lua).
local lucid = require("lucid")
local nn = lucid.nn
local H = dofile("tests/helpers.lua")

local function mlp(dtype)
  lucid.manual_seed(7)
  return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    :to(dtype or "float32")
end

describe("Module:compile", function()
  for _, dtype in ipairs({"float32", "float64"}) do
    it("replays the model's forward with the model's own kernels (" .. dtype .. ")", function()
      local m = mlp(dtype)
      local fast = m:compile(lucid.randn(3, 4, {dtype = dtype}))
      -- float32: a Linear computed with its tanh or ReLU in the GEMM's epilogue
      assert.are.same(dtype == "float32" and {"Linear+Tanh", "Linear+Relu", "Linear"}
        or {"Linear", "Tanh", "Linear", "Relu", "Linear"}, fast:steps())
      lucid.no_grad(function()
        for _ = 1, 3 do  -- new values each time: the plan computes, it does not remember
          local x = lucid.randn(3, 4, {dtype = dtype})
          assert.is_true(lucid.equal(m(x), fast(x)))
        end
      end)
    end)
  end

  it("fuses a float32 Linear with a Tanh or Sigmoid after it, the model's bits", function()
    -- 1000 rows: the GEMM's widest tiles (tanh over each finished row strip);
    -- 5 rows: its narrow ones; 45 columns: a partial panel
    lucid.manual_seed(11)
    local m = nn.Sequential(nn.Linear(32, 64), nn.Tanh(), nn.Linear(64, 45), nn.Sigmoid(),
      nn.Linear(45, 8), nn.Tanh())
    for _, rows in ipairs({1000, 5}) do
      local fast = m:compile(lucid.randn(rows, 32))
      assert.are.same({"Linear+Tanh", "Linear+Sigmoid", "Linear+Tanh"}, fast:steps())
      lucid.no_grad(function()
        for _ = 1, 2 do
          local x = lucid.randn(rows, 32):mul(3)
          assert.is_true(lucid.equal(m(x), fast(x)))
        end
      end)
    end
    H.check_compiled_grads("fused tanh and sigmoid", m, {lucid.randn(7, 32)})
  end)

  it("follows a weight changed in place between calls (the plan's packed panels are redone)", function()
    lucid.manual_seed(8)
    local m = nn.Sequential(nn.Linear(32, 64), nn.Tanh(), nn.Linear(64, 40))
    local x = lucid.randn(20, 32)
    local fast = m:compile(x)
    lucid.no_grad(function()
      assert.is_true(lucid.equal(m(x), fast(x)))
      m[1].weight:mul_(0.5)                      -- in place, as an optimizer's step
      m[3].weight[1][1] = 3
      assert.is_true(lucid.equal(m(x), fast(x)))
      m[1].weight:copy_(lucid.randn(64, 32))
      assert.is_true(lucid.equal(m(x), fast(x)))
    end)
  end)

  it("gives a fused Linear's own buffer back (the activation's is the only one kept)", function()
    local m = nn.Sequential(nn.Linear(4, 1000), nn.ReLU())
    local x = lucid.randn(100, 4)
    collectgarbage("collect")
    local before = lucid.memory_allocated()
    local fast = m:compile(x)
    collectgarbage("collect")
    local kept = lucid.memory_allocated() - before
    assert.are.same({"Linear+Relu"}, fast:steps())
    -- the ReLU's (100, 1000) float32 result, the input's copy, bookkeeping; not a second result
    assert.is_true(kept < 100 * 1000 * 4 * 1.5, "kept " .. kept .. " bytes")
  end)

  it("fuses a Linear with its activation only when nothing else reads the Linear's result", function()
    local Both = nn.Module:extend("Both")
    function Both:__init() self.fc = nn.Linear(4, 4); self.out = nn.Linear(4, 2) end
    function Both:forward(x) local h = self.fc(x); return self.out(h:sigmoid() + h):relu() end
    lucid.manual_seed(3)
    local m = Both()
    local fast = m:compile(lucid.randn(3, 4))
    assert.are.same({"Linear", "Sigmoid", "Add", "Linear+Relu"}, fast:steps())
    lucid.no_grad(function()
      local x = lucid.randn(3, 4)
      assert.is_true(lucid.equal(m(x), fast(x)))
    end)
    H.check_compiled_grads("fused", m, {lucid.randn(3, 4)})
  end)

  it("returns its own output buffer, the same tensor each call, without garbage", function()
    local m = mlp()
    local x = lucid.randn(5, 4)
    local fast = m:compile(x)
    local g = lucid.no_grad()
    local y = fast(x)
    assert.is_false(y.requires_grad)
    -- one loop, counted from its 5001st call on: LuaJIT's trace compiler
    -- allocates while it records the loop's first iterations
    local before, bytes
    local same = true
    for i = 1, 5200 do
      if i == 5001 then
        collectgarbage("collect")
        collectgarbage("stop")
        before, bytes = collectgarbage("count"), lucid.memory_allocated()
      end
      same = rawequal(y, fast(x)) and same
    end
    local garbage = collectgarbage("count") - before
    collectgarbage("restart")
    H.close(g)
    assert.is_true(same)
    assert.are.equal(0, garbage)
    assert.are.equal(bytes, lucid.memory_allocated())
  end)

  it("reads from its input buffer without a copy when given it", function()
    local m = mlp()
    local fast = m:compile(lucid.zeros(2, 4))
    local obs = fast:input(1)
    lucid.no_grad(function()
      obs:copy_(lucid.tensor({{1, 2, 3, 4}, {-1, 0, 1, 0.5}}))
      assert.is_true(lucid.equal(m(obs:clone()), fast(obs)))
    end)
  end)

  it("traces again for another shape or mode, and keeps both plans", function()
    local m = nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.5)):eval()
    local fast = m:compile(lucid.randn(2, 4))
    lucid.no_grad(function()
      local a, b = lucid.randn(2, 4), lucid.randn(7, 4)
      assert.is_true(lucid.equal(m(b), fast(b)))
      assert.is_true(lucid.equal(m(a), fast(a)))
      assert.are.equal(7, fast(b):size(1))
    end)
    assert.truthy(tostring(fast):find("2 plans", 1, true))
    m:train()  -- dropout now draws: a plan cannot replay it
    assert.has_error(function() lucid.no_grad(fast, lucid.randn(2, 4)) end,
      "nn.Module:compile: the forward drew random numbers (dropout in training mode, rand, ...), "
        .. "which a plan would not draw again: compile in eval mode, without draws")
  end)

  it("follows the parameters as they train", function()
    local m = mlp()
    local x = lucid.randn(3, 4)
    local fast = m:compile(x)
    local opt = lucid.optim.SGD(m:parameters(), {lr = 0.1})
    for _ = 1, 3 do
      opt:zero_grad()
      nn.functional.mse_loss(m(x), lucid.ones(3, 2)):backward()
      opt:step()
      lucid.no_grad(function() assert.is_true(lucid.equal(m(x), fast(x))) end)
    end
  end)

  for _, dtype in ipairs({"float32", "float64"}) do
    it("records one node for the whole plan, with the model's gradients (" .. dtype .. ")", function()
      local m = mlp(dtype)
      local x = lucid.randn(3, 4, {dtype = dtype, requires_grad = true})
      local fast = m:compile(x)
      local y = fast(x)
      assert.are.equal("CompiledBackward", y.grad_fn)
      local w = lucid.randn(3, 2, {dtype = dtype})
      lucid.sum(y * w):backward()
      local got = {x.grad:clone()}
      for _, prm in ipairs(m:parameters()) do got[#got + 1] = prm.grad:clone() end
      m:zero_grad()
      x.grad = nil
      local want = m(x)
      assert.is_true(lucid.equal(want, y))
      lucid.sum(want * w):backward()
      assert.is_true(lucid.equal(x.grad, got[1]))
      for i, prm in ipairs(m:parameters()) do assert.is_true(lucid.equal(prm.grad, got[i + 1])) end
    end)
  end

  it("gives the model's gradients through activations, views and broadcasts", function()
    local cases = {
      {"GELU", nn.Sequential(nn.Linear(4, 6), nn.GELU(), nn.Linear(6, 3))},
      {"Softplus, SiLU", nn.Sequential(nn.Linear(4, 6), nn.Softplus(2), nn.SiLU())},
      {"Flatten", nn.Sequential(nn.Flatten(), nn.Linear(8, 3), nn.Sigmoid())},
      {"ReLU, Tanh", nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2), nn.Tanh())},
    }
    for _, case in ipairs(cases) do
      lucid.manual_seed(9)
      local x = case[1] == "Flatten" and lucid.randn(3, 2, 4) or lucid.randn(3, 4)
      H.check_compiled_grads(case[1], case[2], {x})
    end
    local Res = nn.Module:extend("Res")
    function Res:__init() self.fc = nn.Linear(4, 4) end
    function Res:forward(x) return (self.fc(x):tanh() + x):transpose(1, 2):reshape(2, -1) * 0.5 end
    H.check_compiled_grads("residual", Res():to("float64"), {lucid.randn(3, 4, {dtype = "float64"})})
  end)

  it("trains a model as the model itself does", function()
    local m1, m2 = mlp(), mlp()
    local fast = m2:compile(lucid.randn(8, 4))
    local o1 = lucid.optim.Adam(m1:parameters(), {lr = 0.01})
    local o2 = lucid.optim.Adam(m2:parameters(), {lr = 0.01})
    lucid.manual_seed(4)
    local x, t = lucid.randn(8, 4), lucid.randn(8, 2)
    for _ = 1, 5 do
      for _, pair in ipairs({{m1, o1}, {fast, o2}}) do
        pair[2]:zero_grad()
        nn.functional.mse_loss(pair[1](x), t):backward()
        pair[2]:step()
      end
    end
    for i, prm in ipairs(m1:parameters()) do assert.is_true(lucid.equal(prm, m2:parameters()[i])) end
  end)

  it("backpropagates several calls made before one backward, as the model does", function()
    -- a REINFORCE loop or an unrolled sequence: each call's run is computed
    -- again for its backward, from the inputs the node keeps
    local m = mlp()
    local xs = {lucid.randn(3, 4), lucid.randn(3, 4, {requires_grad = true}), lucid.randn(3, 4)}
    local fast = m:compile(xs[1])
    local obs = fast:input(1)  -- a plan's own input buffer, overwritten by the next call
    local function total(f)
      local s = lucid.zeros({})
      for i, x in ipairs(xs) do
        if i == 3 then obs:copy_(x); x = obs end
        s = s + lucid.sum(f(x) * i)
      end
      return s
    end
    local want = total(m)
    want:backward()
    local wgrads = {xs[2].grad:clone()}
    for _, prm in ipairs(m:parameters()) do wgrads[#wgrads + 1] = prm.grad:clone() end
    m:zero_grad()
    xs[2].grad = nil
    local got = total(fast)
    assert.is_true(lucid.equal(want, got))
    got:backward()
    assert.is_true(lucid.equal(xs[2].grad, wgrads[1]))
    for i, prm in ipairs(m:parameters()) do assert.is_true(lucid.equal(prm.grad, wgrads[i + 1])) end
  end)

  it("computes again what a detached result views (detach inside the forward)", function()
    local D = nn.Module:extend("D")
    function D:__init() self.fc = nn.Linear(3, 3) end
    function D:forward(x) local h = self.fc(x); return h * (x * 2):detach() + h:detach() end
    lucid.manual_seed(5)
    local m, x = D(), lucid.randn(4, 3)
    local fast = m:compile(x)
    local x2 = lucid.randn(4, 3)
    assert.is_true(lucid.equal(lucid.no_grad(m, x2), lucid.no_grad(fast, x2)))
    H.check_compiled_grads("detach", m, {x2})
  end)

  it("gives a zero gradient to an input only read as a float index, with the model's others", function()
    local Pick = nn.Module:extend("Pick")
    function Pick:__init() self.fc = nn.Linear(3, 3) end
    function Pick:forward(x, i) return self.fc(x):index_select(1, i) end
    lucid.manual_seed(3)
    local m, x = Pick(), lucid.randn(4, 3)
    local i = lucid.tensor({1, 3}, {requires_grad = true})  -- whole numbers: accepted as an index
    local fast = m:compile(x, i)
    fast(x, i):sum():backward()
    local got = m.fc.weight.grad:clone()
    assert.is_true(lucid.equal(i.grad, lucid.zeros(2)))
    m:zero_grad()
    m(x, i):sum():backward()
    assert.is_true(lucid.equal(got, m.fc.weight.grad))
  end)

  it("refuses a backward of an earlier call whose inputs or parameters changed since", function()
    local m = mlp()
    local x = lucid.randn(3, 4)
    local fast = m:compile(x)
    local y1 = fast(x)
    local y2 = fast(lucid.randn(3, 4))
    x:mul_(2)
    assert.has_error(function() y1:sum():backward() end,
      "lucid.backward: the compiled model ran again after this result was computed, and its "
        .. "input 1 {3, 4} it read was changed in place since, so the values its gradient "
        .. "needs are gone: call backward before changing it (or call the model itself)")
    y2:sum():backward()  -- the latest call needs no second run
    -- a frozen parameter is no input of the node, so the engine does not see its change
    local w = m:parameters()[1]
    w.requires_grad = false
    local y3 = fast(lucid.randn(3, 4))
    fast(x)
    lucid.no_grad(function() w:add_(1) end)
    assert.has_error(function() y3:sum():backward() end,
      "lucid.backward: the compiled model ran again after this result was computed, and a "
        .. "parameter {8, 4} it read was changed in place since, so the values its gradient "
        .. "needs are gone: call backward before changing it (or call the model itself)")
    local xg = lucid.randn(3, 4, {requires_grad = true})
    local y = fast(xg)
    assert.has_error(function() lucid.autograd.grad(y:sum(), {xg}, {create_graph = true}) end)
  end)

  it("runs the model itself when it has more than one result and the call is recorded", function()
    local Pair = nn.Module:extend("Pair")
    function Pair:__init() self.a = nn.Linear(3, 2) end
    function Pair:forward(x) local h = self.a(x); return h, h:tanh() end
    local m = Pair()
    local x = lucid.randn(2, 3)
    local fast = m:compile(x)
    local h, t = fast(x)
    assert.is_true(h.requires_grad and t.requires_grad)
    assert.are.equal("TanhBackward", t.grad_fn)
  end)

  it("traces a Lua module, and rebuilds its results' structure", function()
    local Two = nn.Module:extend("Two")
    function Two:__init() self.a = nn.Linear(3, 3); self.b = nn.Linear(3, 2) end
    function Two:forward(x, z)
      local h = (self.a(x) * 2 + z):sigmoid()
      return self.b(h), {h = h, k = 5}
    end
    lucid.manual_seed(2)
    local m = Two()
    local x, z = lucid.randn(4, 3), lucid.randn(4, 3)
    local fast = m:compile(x, z)
    lucid.no_grad(function()
      local x2, z2 = lucid.randn(4, 3), lucid.randn(4, 3)
      local y, extra = m(x2, z2)
      local fy, fextra = fast(x2, z2)
      assert.is_true(lucid.equal(y, fy))
      assert.is_true(lucid.equal(extra.h, fextra.h))
      assert.are.equal(5, fextra.k)
    end)
  end)

  it("keeps tensors made from nothing during the forward as constants", function()
    local Bias = nn.Module:extend("Bias")
    function Bias:forward(x) return x + lucid.ones(x:size(2)) * 3 - lucid.full({1}, 0.5) end
    local m = Bias()
    local fast = m:compile(lucid.zeros(2, 3))
    lucid.no_grad(function()
      local x = lucid.randn(2, 3)
      assert.is_true(lucid.equal(m(x), fast(x)))
    end)
  end)

  it("refuses what a replay would get wrong, naming it", function()
    local Write = nn.Module:extend("Write")
    function Write:forward(x) local h = x * 2; h:add_(1); return h:tanh() end
    assert.has_error(function() Write():compile(lucid.randn(2, 2)) end,
      "nn.Module:compile: Mul's result (float32 {2, 2}) was written in place during the forward "
        .. "after it was made or read; a plan replays ops, not in-place writes: use the out-of-place form")
    local Noise = nn.Module:extend("Noise")
    function Noise:forward(x) return x + lucid.randn(x:size()) end
    assert.has_error(function() Noise():compile(lucid.randn(2, 2)) end,
      "nn.Module:compile: the forward drew random numbers (dropout in training mode, rand, ...), "
        .. "which a plan would not draw again: compile in eval mode, without draws")
    local Detached = nn.Module:extend("Detached")
    function Detached:forward(x) return lucid.no_grad(function() return x * 2 end):exp() end
    assert.has_error(function() Detached():compile(lucid.randn(2, 2)) end,
      "nn.Module:compile: Exp (input 1) reads a float32 {2, 2} tensor made by an op run under "
        .. "no_grad, which a plan cannot replay (comparisons, integer results, random draws and "
        .. "custom functions are not compiled)")
    assert.has_error(function() mlp():compile() end, "nn.Module:compile: expected example inputs, got none")
    assert.has_error(function() mlp():compile(lucid.randn(2, 4), 3) end,
      "nn.Module:compile: argument 2 is a number: a compiled model takes tensors only")
    -- the state keeps working: tracing is over, ops record as usual
    local x = lucid.randn(2, 2, {requires_grad = true})
    assert.is_true((x * 2).requires_grad)
    assert.is_false(lucid.no_grad(function() return x * 2 end).requires_grad)
  end)

  it("refuses a forward that writes into tensors made before it", function()
    local Count = nn.Module:extend("Count")
    function Count:__init() self.calls = lucid.zeros(1) end
    function Count:forward(x) self.calls:add_(1); return x * 2 end
    assert.has_error(function() Count():compile(lucid.randn(2, 2)) end,
      "nn.Module:compile: the forward wrote in place into a tensor made before it (float32 {1}: "
        .. "running statistics, a buffer, a parameter or an input), which a plan would not write "
        .. "again: compile in eval mode, or without the write")
    local inorm = nn.InstanceNorm2d(3, {track_running_stats = true})
    local ok, err = pcall(inorm.compile, inorm, lucid.randn(2, 3, 4, 4))
    assert.is_false(ok)
    assert.truthy(tostring(err):find("wrote in place into a tensor made before it (float32 {3}", 1, true), err)
    inorm:eval()
    local fast = inorm:compile(lucid.randn(2, 3, 4, 4))
    lucid.no_grad(function()
      local x = lucid.randn(2, 3, 4, 4)
      assert.is_true(lucid.equal(inorm(x), fast(x)))
    end)
  end)

  it("ends the trace when the forward raises", function()
    local Bad = nn.Module:extend("Bad")
    function Bad:forward(x) return x:matmul(lucid.randn(5, 5)) end
    assert.has_error(function() Bad():compile(lucid.randn(2, 3)) end)
    local m = mlp()
    local fast = m:compile(lucid.randn(2, 4))  -- a new trace starts cleanly
    lucid.no_grad(function()
      local x = lucid.randn(2, 4)
      assert.is_true(lucid.equal(m(x), fast(x)))
    end)
  end)

  it("gives a C host its plan", function()
    local fast = mlp():compile(lucid.randn(1, 4))
    assert.are.equal("userdata", type(fast:plan()))
    local fresh = mlp():compile(lucid.randn(1, 4))
    fresh._last = nil
    assert.has_error(function() fresh:plan() end,
      "lucid.Compiled:plan: no plan yet: call the compiled model first")
  end)
end)
