-- In-place arithmetic: the same values as the out-of-place forms, in the same
-- tensor, for broadcast operands, strided views, numbers and mixed dtypes.
local lucid = require("lucid")

local function close(a, b)
  local x, y = a:reshape(-1):tolist(), b:reshape(-1):tolist()
  assert.are.equal(#x, #y)
  for i = 1, #x do
    assert(math.abs(x[i] - y[i]) <= 1e-12 * (1 + math.abs(y[i])), string.format("[%d] %.17g vs %.17g", i, x[i], y[i]))
  end
end

describe("in-place ops", function()
  local function fresh() return lucid.randn(3, 4, {dtype = "float64"}) end
  local b = lucid.randn(4, {dtype = "float64"})
  local c = lucid.randn(3, 4, {dtype = "float64"}):abs() + 0.5

  it("compute what the out-of-place forms compute, returning the tensor itself", function()
    local cases = {
      {"add_", function(t) return t:add_(b) end, function(t) return t + b end},
      {"add_ alpha", function(t) return t:add_(b, 0.5) end, function(t) return t + b * 0.5 end},
      {"add_ {alpha}", function(t) return t:add_(b, {alpha = -2}) end, function(t) return t - b * 2 end},
      {"add_ number", function(t) return t:add_(3, 2) end, function(t) return t + 6 end},
      {"sub_", function(t) return t:sub_(b, 2) end, function(t) return t - b * 2 end},
      {"mul_", function(t) return t:mul_(c) end, function(t) return t * c end},
      {"mul_ number", function(t) return t:mul_(0.25) end, function(t) return t * 0.25 end},
      {"div_", function(t) return t:div_(c) end, function(t) return t / c end},
      {"addcmul_", function(t) return t:addcmul_(b, c, 0.5) end, function(t) return t + b * c * 0.5 end},
      {"addcdiv_", function(t) return t:addcdiv_(b, c, {value = -1}) end, function(t) return t - b / c end},
      {"lerp_", function(t) return t:lerp_(c, 0.1) end, function(t) return t + (c - t) * 0.1 end},
      {"sqrt_", function(t) return t:abs():sqrt_() end, function(t) return t:abs():sqrt() end},
      {"zero_", function(t) return t:zero_() end, function(t) return t * 0 end},
    }
    for _, case in ipairs(cases) do
      local t = fresh()
      local expected = case[3](t:clone())
      local r = case[2](t)
      if case[1] ~= "sqrt_" then assert.is_true(rawequal(r, t), case[1]) end
      close(r, expected)
    end
  end)

  it("work on strided views, writing through to the base", function()
    local base = lucid.zeros(4, 3, {dtype = "float64"})
    local view = base:transpose(1, 2)  -- {3, 4}, not contiguous
    view:add_(b)
    close(base, b:reshape(4, 1):expand(4, 3))
    view:mul_(lucid.tensor({1, 2, 3}, {dtype = "float64"}):reshape(3, 1))
    close(base:transpose(1, 2), b:reshape(1, 4) * lucid.tensor({{1}, {2}, {3}}, {dtype = "float64"}))
  end)

  it("take operands of the other dtype", function()
    local t = lucid.ones(3, {dtype = "float32"})
    t:add_(lucid.tensor({1, 2, 3}, {dtype = "float64"}))
    assert.are.same({2, 3, 4}, t:tolist())
    assert.are.equal("float32", t.dtype)
  end)

  it("explain what they refuse", function()
    local t = lucid.zeros(2, 2)
    assert.has_error(function() t:add_(lucid.zeros(3)) end,
      "lucid.add_: shape {3} does not broadcast to the tensor's shape {2, 2}")
    assert.has_error(function() t:mul_("x") end, "lucid.mul_: expected a tensor or a number, got string")
    assert.has_error(function() t:addcmul_(t) end)
    assert.has_error(function() t:add_(t, t) end, "lucid.add_: alpha must be a number, got a tensor")
    assert.has_error(function() t:addcdiv_(t, t, {value = "x"}) end, "lucid.addcdiv_: option 'value' must be a number, got string")
    local w = lucid.ones(2, {requires_grad = true})
    assert.has_error(function() w:add_(1) end,
      "lucid.add_: a leaf tensor that requires grad (or a view of one) cannot be changed in place while gradients are recorded (use lucid.no_grad, or change a clone())")
    assert.has_error(function() w:lerp_(lucid.zeros(2), 0.5) end,
      "lucid.lerp_: a tensor that requires grad cannot be changed in place while gradients are recorded (use lucid.no_grad)")
    assert.has_error(function() lucid.zeros(2):lerp_(w, 0.5) end,
      "lucid.lerp_: an operand that requires grad would lose its gradient in this in-place update, which records no graph (use the out-of-place ops, or lucid.no_grad)")
    lucid.no_grad(function() w:add_(1) end)
    assert.are.same({2, 2}, w:tolist())
  end)

  it("refuse a result the tensor's dtype cannot hold, for every kind of in-place form", function()
    local i = lucid.tensor({1, 4}, {dtype = "int64"})
    assert.has_error(function() i:sigmoid_() end,
      "lucid.sigmoid_: the result (float32) cannot be written in place into a tensor of dtype int64")
    assert.has_error(function() i:clamp_(0.5) end,
      "lucid.clamp_: the result (float32) cannot be written in place into a tensor of dtype int64")
    assert.has_error(function() i:sqrt_() end, "lucid.sqrt_: in-place arithmetic needs a float tensor, got int64")
    assert.has_error(function() i:div_(2) end, "lucid.div_: in-place true division needs a float tensor, got int64")
    local flags = lucid.tensor({true, false})
    assert.has_error(function() flags:add_(1) end,
      "lucid.add_: the result (int64) cannot be written in place into a tensor of dtype bool")
    assert.has_error(function() flags:exp_() end,
      "lucid.exp_: the result (float32) cannot be written in place into a tensor of dtype bool")
    -- nothing was written, and a value the dtype holds is fine (PyTorch casts a number)
    assert.are.same({1, 4}, i:tolist())
    assert.are.same({true, false}, flags:tolist())
    assert.are.same({1, 0}, i:masked_fill_(i:gt(1), 0.5):tolist())
  end)
end)

describe("in-place arithmetic of integer and bool tensors", function()
  it("add_, sub_ and mul_ keep integers exactly (wrapping) and refuse a float result", function()
    local c = lucid.tensor({1, 2, 3}, {dtype = "int64"})
    assert.are.equal(c, c:add_(1))
    assert.are.same({2, 3, 4}, c:tolist())
    c:mul_(3)
    c:sub_(lucid.tensor({1, 1, 1}, {dtype = "int32"}))
    c:add_(lucid.tensor({1, 1, 1}, {dtype = "int64"}), {alpha = 2})
    assert.are.same({7, 10, 13}, c:tolist())
    local u = lucid.tensor({250}, {dtype = "uint8"})
    u:add_(10)
    assert.are.same({4}, u:tolist())  -- wraps, as torch.uint8
    local b = lucid.tensor({true, false})
    b:add_(lucid.tensor({false, true}))
    assert.are.same({true, true}, b:tolist())
    assert.has_error(function() c:add_(0.5) end,
      "lucid.add_: the result (float32) cannot be written in place into a tensor of dtype int64")
    assert.has_error(function() b:add_(1) end,
      "lucid.add_: the result (int64) cannot be written in place into a tensor of dtype bool")
    assert.has_error(function() c:div_(2) end, "lucid.div_: in-place true division needs a float tensor, got int64")
    assert.are.same({7, 10, 13}, c:tolist())  -- refused: unchanged
  end)
end)

-- ---- in-place changes with gradients (PyTorch's rebase of a tensor's graph) ----

describe("in-place changes while recording", function()
  local function f64(v, rg) return lucid.tensor(v, {dtype = "float64", requires_grad = rg ~= false}) end
  local gradcheck = lucid.autograd.gradcheck

  it("record indexed writes: finite differences agree", function()
    local x, v = lucid.randn(3, 4, {dtype = "float64", requires_grad = true}), f64({1.5, -2, 0.5})
    assert.is_true(gradcheck(function(a, b)
      local y = a:tanh() * 1                  -- tanh keeps its result: write a copy
      y[{{}, 2}] = b                           -- a range key: a view's positions
      y[{1, {3, 4}}] = b[{{1, 2}}] * 2
      y[y:gt(0.9)] = 0.25                       -- a mask with a number
      return y * a
    end, {x, v}))
    assert.is_true(gradcheck(function(a, b)
      local y = a * 1
      y[lucid.tensor({3, -3}, {dtype = "int64"})] = b:unsqueeze(1)  -- rows, broadcast
      return y:exp()
    end, {lucid.randn(3, 4, {dtype = "float64", requires_grad = true}), f64({0.1, 0.2, 0.3, 0.4})}))
  end)

  it("record copy_ fill_ zero_ add_ sub_ mul_ div_", function()
    local x, v = f64({1, 2, 3}), f64({4, 5, 6})
    assert.is_true(gradcheck(function(a, b)
      local y = a * 1
      y:add_(b, 2):mul_(b):sub_(a):div_(b + 10)
      y:add_(0.5):mul_(3)
      return y
    end, {x, v}))
    assert.is_true(gradcheck(function(a, b)
      local y = a:exp()
      y:copy_(b:sum())          -- a broadcast source: a's graph is gone from y
      return y * a
    end, {x, v}))
    local y = x * 2
    y:fill_(7)
    assert.is_false(y.requires_grad)    -- a constant now
    assert.are.same({7, 7, 7}, y:tolist())
    local z = x * 2
    z:zero_()
    assert.is_nil(z.grad_fn)
    -- a tensor that does not require grad takes a value's graph
    local buf = lucid.zeros(3, {dtype = "float64"})
    buf:copy_(v * 3)
    buf:sum():backward()
    assert.are.same({3, 3, 3}, v.grad:tolist())
  end)

  it("keep the optimizers' path: under no_grad nothing is recorded and nothing allocated", function()
    local w = f64({1, 2})
    local before = lucid.memory_stats and lucid.memory_stats() or nil
    lucid.no_grad(function() w:add_(w, -0.5) end)
    assert.are.same({0.5, 1}, w:tolist())
    assert.is_nil(w.grad_fn)
    assert.is_true(w.is_leaf)
    local _ = before
  end)

  it("refuse a leaf that requires grad, or a view of one", function()
    local w = f64({{1, 2}, {3, 4}})
    local msg = "a leaf tensor that requires grad (or a view of one) cannot be changed in place"
    assert.has_error(function() w:mul_(2) end,
      "lucid.mul_: " .. msg .. " while gradients are recorded (use lucid.no_grad, or change a clone())")
    local row = w[1]
    assert.has_error(function() row[1] = 0 end)
    local ok, err = pcall(function() w:t()[{1, 1}] = 0 end)
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find(msg, 1, true), err)
    assert.are.same({{1, 2}, {3, 4}}, w:tolist())
  end)

  it("make a backward refuse values changed after an op used them", function()
    local x = f64({1, 2})
    local y = x:exp()
    y[1] = 0                                   -- exp's backward needs its result
    local ok, err = pcall(function() y:sum():backward() end)
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("lucid.backward: a tensor {2} (saved value 1 of ExpBackward) "
      .. "was changed in place after ExpBackward used it", 1, true), err)
    -- a plain tensor the graph read, changed before the backward
    local a = lucid.tensor({1, 1}, {dtype = "float64"})
    local z = x * a
    a:add_(1)
    ok, err = pcall(function() z:sum():backward() end)
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("input 2 of MulBackward", 1, true), err)
    -- a masked write is a write even where the mask selects nothing (as in
    -- PyTorch, whose index_put_ moves the version on every call)
    local e = lucid.tensor({1, 1}, {dtype = "float64"})
    local u = x * e
    e[lucid.tensor({false, false})] = 3
    ok, err = pcall(function() u:sum():backward() end)
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("input 2 of MulBackward", 1, true), err)
    assert.are.same({1, 1}, e:tolist())
    -- views and indexing only read shapes: writing their input is fine
    local b = x * 1
    local c = b:view(2, 1)
    c[{1, 1}] = 5
    c:sum():backward()
    assert.are.same({0, 1}, x.grad:tolist())
  end)

  it("refuse to record a view made before a write through another view", function()
    local x = f64({{1, 2}, {3, 4}})
    local base = x * 1
    local row = base[1]                         -- made before the write
    base[{1, 1}] = f64({9})[1]
    local ok, err = pcall(function() return row * 2 end)
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("lucid.mul: input 1 (float64 {2}) shares its elements "
      .. "with a tensor written in place with gradients after it was made", 1, true), err)
    -- a view made after the write is current
    local fresh = base[1]
    assert.are.same({18, 4}, (fresh * 2):tolist())
    -- and the state keeps working
    assert.are.same({2, 4}, (x[1] * 2):tolist())
  end)

  it("refuse a stale view of a plain tensor too: its result would miss the write's gradient", function()
    local b = lucid.zeros(2, 2, {dtype = "float64"})
    local v = b[1]                              -- b requires no grad, nor does v
    local w = f64({5})
    b[{1, 1}] = w[1]                            -- b now carries w's graph (PyTorch: CopySlices)
    local ok, err = pcall(function() return v * 2 end)
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("lucid.mul: input 1 (float64 {2}) shares its elements", 1, true), err)
    -- without recording, reading it is fine (its values are current)
    assert.are.same({10, 0}, lucid.no_grad(function() return v * 2 end):tolist())
    -- a view made after the write carries the gradient to w
    local y = b[1] * 2
    y:sum():backward()
    assert.are.same({2}, w.grad:tolist())
  end)
end)

describe("the in-place forms of the ops (t:exp_(), t:masked_fill_(...), ...)", function()
  it("exist for every elementwise op of the registry and the masked and scatter ops", function()
    local t = lucid.zeros(2)
    for _, op in ipairs(require("lucid.core")._ops()) do
      if op.family == "elementwise" and t[op.name] then
        assert.is_function(t[op.name .. "_"], op.name .. "_")
      end
    end
    for _, name in ipairs({"masked_fill_", "masked_scatter_", "scatter_add_", "clamp_", "relu_",
                           "sigmoid_", "tanh_", "neg_", "pow_", "nan_to_num_"}) do
      assert.is_function(t[name], name)
    end
  end)

  it("write the op's result into t and return t", function()
    local t = lucid.tensor({-1, 0.5, 2})
    local view = t:view(3)
    assert.are.equal(t, t:relu_())
    assert.are.same({0, 0.5, 2}, view:tolist())            -- the same elements
    t:masked_fill_(t:gt(1), -3):clamp_(-2, 1):pow_(2)
    assert.are.same({0, 0.25, 4}, t:tolist())
    local i = lucid.tensor({1, 2}, {dtype = "int64"})
    i:neg_()
    assert.are.same({-1, -2}, i:tolist())
    assert.are.equal("int64", i.dtype)
    assert.has_error(function() i:exp_() end,
      "lucid.exp_: the result (float32) cannot be written in place into a tensor of dtype int64")
  end)

  it("record gradients like the ops: finite differences agree", function()
    local x = lucid.tensor({-0.7, 0.3, 1.2, 2.5}, {dtype = "float64", requires_grad = true})
    assert.is_true(lucid.autograd.gradcheck(function(a)
      local y = a * 1
      y:sin_():mul_(a):exp_():clamp_(0.5, 3)
      y:masked_fill_(a:lt(-0.5), 0.25)
      return y
    end, {x}))
    assert.has_error(function() x:tanh_() end,
      "lucid.tanh_: a leaf tensor that requires grad (or a view of one) cannot be changed in place while gradients are recorded (use lucid.no_grad, or change a clone())")
    lucid.no_grad(function() x:abs_() end)
    assert.are.same({0.7, 0.3, 1.2, 2.5}, x:tolist())
  end)
end)
