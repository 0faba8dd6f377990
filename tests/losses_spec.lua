-- The loss modules (lua/lucid/nn/<Loss>.lua) and their functional forms
-- (lua/lucid/nn/losses.lua) against PyTorch (tests/fixtures/nn.lua, written
-- by scripts/gen_fixtures_nn.py) for every reduction, then finite-difference
-- gradient checks, stability for large logits and the error messages.
local lucid = require("lucid")
local nn = require("lucid.nn")
local H = dofile("tests/helpers.lua")
local fixtures = dofile("tests/fixtures/nn.lua")
local F = require("lucid.nn.losses")

local L = {}
for _, name in ipairs({"MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "CrossEntropyLoss",
                       "NLLLoss", "BCELoss", "BCEWithLogitsLoss"}) do
  L[name] = require("lucid.nn." .. name)
end

local RTOL, ATOL = 1e-10, 1e-12

-- The fixture's constructor arguments with tensors made.
local function args_of(entry)
  local args = {}
  for k, v in pairs(entry.args) do
    args[k] = (type(v) == "table" and v.shape) and H.tensor(v) or v
  end
  return args
end

-- The functional form of each module, called with positional arguments.
local functional = {
  MSELoss = function(x, t, a) return F.mse_loss(x, t, a.reduction) end,
  L1Loss = function(x, t, a) return F.l1_loss(x, t, a.reduction) end,
  HuberLoss = function(x, t, a) return F.huber_loss(x, t, a.reduction, a.delta) end,
  SmoothL1Loss = function(x, t, a) return F.smooth_l1_loss(x, t, a.reduction, a.beta) end,
  CrossEntropyLoss = function(x, t, a)
    return F.cross_entropy(x, t, a.weight, a.ignore_index, a.reduction, a.label_smoothing)
  end,
  NLLLoss = function(x, t, a) return F.nll_loss(x, t, a.weight, a.ignore_index, a.reduction) end,
  BCELoss = function(x, t, a) return F.binary_cross_entropy(x, t, a.weight, a.reduction) end,
  BCEWithLogitsLoss = function(x, t, a)
    return F.binary_cross_entropy_with_logits(x, t, a.weight, a.reduction, a.pos_weight)
  end,
}

local function check_loss(entry, fn)
  local x = H.tensor(entry.input, {requires_grad = true})
  local t = H.tensor(entry.target, {requires_grad = entry.target_grad})
  local out = fn(x, t)
  H.assert_close(out, entry.output, RTOL, ATOL, entry.name .. ": output")
  out:backward(H.tensor(entry.seed))
  H.assert_close(x.grad, entry.grads.input, RTOL, ATOL, entry.name .. ": input grad")
  if entry.target_grad then
    H.assert_close(t.grad, entry.grads.target, RTOL, ATOL, entry.name .. ": target grad")
  end
end

describe("losses against PyTorch (float64): modules", function()
  H.use_default_dtype("float64")
  for _, entry in ipairs(fixtures.losses) do
    it(entry.name, function()
      local loss = L[entry.loss](args_of(entry))
      check_loss(entry, function(x, t) return loss(x, t) end)
    end)
  end
end)

describe("losses against PyTorch (float64): functional forms", function()
  H.use_default_dtype("float64")
  for _, entry in ipairs(fixtures.losses) do
    it(entry.name, function()
      local a = args_of(entry)
      check_loss(entry, function(x, t) return functional[entry.loss](x, t, a) end)
    end)
  end
  it("take their options in a table too", function()
    local x, t = lucid.randn(3, 4), lucid.tensor({1, 4, 2})
    local w = lucid.rand(4) + 0.5
    H.assert_close(F.cross_entropy(x, t, {weight = w, reduction = "sum", label_smoothing = 0.1}),
      F.cross_entropy(x, t, w, -100, "sum", 0.1), 0, 0, "cross_entropy")
    H.assert_close(F.huber_loss(x, x * 2, {delta = 0.5}), F.huber_loss(x, x * 2, "mean", 0.5), 0, 0, "huber")
  end)
end)

describe("losses: finite-difference gradients", function()
  H.use_default_dtype("float64")
  before_each(function() lucid.manual_seed(5) end)
  local function leaf(t)
    t.requires_grad = true
    return t
  end
  local check = H.assert_gradcheck
  local function randn(...) return lucid.randn({...}, {requires_grad = true}) end
  local function classes(n, c)
    local v = {}
    for i = 1, n do v[i] = (i * 7) % c + 1 end
    return lucid.tensor(v)
  end
  for _, r in ipairs({"mean", "sum", "none"}) do
    it("regression losses, " .. r, function()
      local x, t = randn(3, 4), randn(3, 4)
      check(function(a, b) return L.MSELoss(r)(a, b) end, {x, t})
      check(function(a, b) return L.L1Loss(r)(a, b) end, {x, t})
      check(function(a, b) return L.HuberLoss(r, 0.7)(a, b) end, {x, t})
      check(function(a, b) return L.SmoothL1Loss(r, 0.6)(a, b) end, {x, t})
    end)
    it("cross entropy with indices, weight, ignore_index, label_smoothing, " .. r, function()
      local x = randn(6, 4)
      local t = classes(6, 4)
      local w = lucid.rand(4) + 0.5
      check(function(a) return L.CrossEntropyLoss(nil, nil, r)(a, t) end, {x})
      check(function(a) return L.CrossEntropyLoss{weight = w, ignore_index = 2, reduction = r,
        label_smoothing = 0.15}(a, t) end, {x})
      local xk, tk = randn(2, 3, 4), classes(8, 3):reshape(2, 4)
      check(function(a) return L.CrossEntropyLoss{weight = w:narrow(1, 1, 3), reduction = r}(a, tk) end, {xk})
    end)
    it("cross entropy with probabilities, " .. r, function()
      local x = randn(4, 3)
      local p = leaf(lucid.softmax(lucid.randn(4, 3), 2))
      check(function(a, b) return L.CrossEntropyLoss{reduction = r, label_smoothing = 0.1}(a, b) end, {x, p})
    end)
    it("nll, " .. r, function()
      local x = randn(5, 3)
      check(function(a) return L.NLLLoss{weight = lucid.tensor({0.5, 1, 2}), reduction = r}(a, classes(5, 3)) end, {x})
    end)
    it("binary cross entropy, " .. r, function()
      local x = leaf(lucid.rand(3, 4) * 0.8 + 0.1)
      local t = leaf(lucid.rand(3, 4))
      local w, pw, w2 = lucid.rand(4) + 0.5, lucid.rand(4) * 2 + 0.5, lucid.rand(3, 1) + 0.5
      check(function(a, b) return L.BCELoss{weight = w, reduction = r}(a, b) end, {x, t})
      local z = randn(3, 4)
      check(function(a, b) return L.BCEWithLogitsLoss{pos_weight = pw, weight = w2, reduction = r}(a, b) end,
        {z, t})
      check(function(a, b) return L.BCEWithLogitsLoss(nil, r)(a, b) end, {z, t})
    end)
  end
end)

describe("losses: large logits stay finite", function()
  H.use_default_dtype("float64")
  local function finite(t)
    for _, v in ipairs(H.flat(t)) do
      if not (v == v and v > -math.huge and v < math.huge) then return false end
    end
    return true
  end

  for _, dtype in ipairs({"float64", "float32"}) do
    it("cross entropy, " .. dtype, function()
      local x = lucid.tensor({{1000, -1000, 0}, {-1e4, 1e4, 1e4}, {88, 89, -90}},
        {dtype = dtype, requires_grad = true})
      local t = lucid.tensor({2, 1, 3})
      local loss = L.CrossEntropyLoss{label_smoothing = 0.1}(x, t)
      assert.is_true(finite(loss), tostring(loss))
      loss:backward()
      assert.is_true(finite(x.grad), tostring(x.grad))
      local l0 = L.CrossEntropyLoss(nil, nil, "none")(x:detach(), t)
      -- row 1: target logit -1000 against 1000: loss 2000
      assert.is_true(math.abs(l0[1]:item() - 2000) < 1e-3, tostring(l0))
      assert.is_true(finite(F.cross_entropy(x, lucid.softmax(x:detach(), 2))))
    end)

    it("binary cross entropy with logits, " .. dtype, function()
      local x = lucid.tensor({1000, -1000, 1e5, -1e5, 0}, {dtype = dtype, requires_grad = true})
      local t = lucid.tensor({0, 1, 1, 0, 1}, {dtype = dtype})
      local l = L.BCEWithLogitsLoss(nil, "none", lucid.tensor({3}, {dtype = dtype}))(x, t)
      assert.is_true(finite(l), tostring(l))
      assert.is_true(math.abs(l[1]:item() - 1000) < 1e-3)
      assert.is_true(math.abs(l[2]:item() - 3000) < 1e-2)
      assert.are.equal(0, l[3]:item())
      l:sum():backward()
      assert.is_true(finite(x.grad), tostring(x.grad))
    end)

    it("binary cross entropy at probabilities 0 and 1 (logs clamped at -100), " .. dtype, function()
      local x = lucid.tensor({0, 1, 0, 1}, {dtype = dtype, requires_grad = true})
      local t = lucid.tensor({1, 0, 0, 1}, {dtype = dtype})
      local l = L.BCELoss(nil, "none")(x, t)
      assert.are.same({100, 100, 0, 0}, H.flat(l))
      l:sum():backward()
      assert.is_true(finite(x.grad), tostring(x.grad))
    end)
  end
end)

describe("losses: printing and buffers", function()
  H.use_default_dtype("float64")
  it("print as PyTorch's, without settings", function()
    assert.are.equal("CrossEntropyLoss()", tostring(L.CrossEntropyLoss{label_smoothing = 0.1}))
    assert.are.equal("MSELoss()", tostring(L.MSELoss()))
    assert.are.equal("BCEWithLogitsLoss()", tostring(L.BCEWithLogitsLoss()))
  end)
  it("keep weight and pos_weight as buffers, as PyTorch", function()
    local w = lucid.tensor({1, 2, 3})
    local loss = L.CrossEntropyLoss(w)
    assert.are.same({"weight"}, (function()
      local k = {}
      for name in pairs(loss:state_dict()) do k[#k + 1] = name end
      return k
    end)())
    assert.are.equal(0, #loss:parameters())
    local b = L.BCEWithLogitsLoss{pos_weight = w}
    assert.is_not_nil(b:state_dict().pos_weight)
    assert.is_nil(next(L.MSELoss():state_dict()))
  end)
  it("a loss in a training step", function()
    local model = nn.Linear(3, 2)
    local x, t = lucid.randn(4, 3), lucid.tensor({1, 2, 2, 1})
    local loss = L.CrossEntropyLoss()(model(x), t)
    loss:backward()
    assert.are.same({2, 3}, model.weight.grad.shape)
    assert.are.same({}, loss.shape)
  end)
end)

describe("losses: errors", function()
  H.use_default_dtype("float64")
  local fails = H.assert_error
  local x45 = lucid.randn(4, 5)

  it("target shapes, in Lua's terms", function()
    fails("nn.CrossEntropyLoss: target {3} does not match input {4, 5} (expected {4})",
      L.CrossEntropyLoss(), x45, lucid.tensor({1, 2, 3}))
    fails("nn.CrossEntropyLoss: target {2, 3} does not match input {2, 4, 3, 5} (expected {2, 3, 5})",
      L.CrossEntropyLoss(), lucid.randn(2, 4, 3, 5), lucid.ones(2, 3))
    fails("nn.NLLLoss: target {4, 1} does not match input {4, 5} (expected {4})",
      L.NLLLoss(), x45, lucid.ones(4, 1))
    fails("nn.MSELoss: target {4} does not match input {4, 1} (expected {4, 1})",
      L.MSELoss(), lucid.randn(4, 1), lucid.randn(4))
    fails("nn.BCELoss: target {3} does not match input {3, 1}", L.BCELoss(), lucid.rand(3, 1), lucid.rand(3))
    fails("nn.BCEWithLogitsLoss: target {2, 2} does not match input {2, 3}",
      L.BCEWithLogitsLoss(), lucid.randn(2, 3), lucid.rand(2, 2))
    fails("nn.functional.mse_loss: target {2} does not match input {3}", F.mse_loss, lucid.randn(3), lucid.randn(2))
    fails("nn.CrossEntropyLoss: input must have a class dim", L.CrossEntropyLoss(), lucid.tensor(1), lucid.tensor(1))
  end)

  it("class indices out of range, or not integers, named with their value", function()
    fails("nn.CrossEntropyLoss: target class 6 (element 3) is out of range 1..5",
      L.CrossEntropyLoss(), x45, lucid.tensor({1, 2, 6, 5}))
    fails("nn.CrossEntropyLoss: target class 0 (element 1) is out of range 1..5",
      L.CrossEntropyLoss(), x45, lucid.tensor({0, 2, 3, 5}))
    fails("nn.NLLLoss: target class -100 (element 2) is out of range 1..5",
      L.NLLLoss(nil, 1), x45, lucid.tensor({1, -100, 3, 5}))
    fails("nn.functional.nll_loss: target value 2.5 (element 4) is not a class index (an integer in 1..5)",
      F.nll_loss, x45, lucid.tensor({1, 2, 3, 2.5}))
    -- ignored targets may hold anything
    assert.is_true(lucid.is_tensor(L.CrossEntropyLoss(nil, 99)(x45, lucid.tensor({1, 99, 3, 5}))))
  end)

  it("bad settings", function()
    fails("nn.MSELoss: reduction must be 'mean', 'sum' or 'none', got 'avg'", L.MSELoss, "avg")
    fails("nn.functional.l1_loss: reduction must be 'mean', 'sum' or 'none', got 'max'",
      F.l1_loss, x45, x45, "max")
    fails("nn.CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0, got 1.5",
      L.CrossEntropyLoss, {label_smoothing = 1.5})
    fails("nn.CrossEntropyLoss: weight {4} does not match the 5 classes (expected {5})",
      L.CrossEntropyLoss(lucid.ones(4)), x45, lucid.tensor({1, 2, 3, 4}))
    fails("nn.CrossEntropyLoss: ignore_index is not supported with class probabilities as target",
      L.CrossEntropyLoss{ignore_index = 1}, x45, lucid.softmax(x45, 2))
    fails("nn.HuberLoss: delta must be a positive number, got 0", L.HuberLoss, "mean", 0)
    fails("nn.SmoothL1Loss: beta must be a non-negative number, got -1", L.SmoothL1Loss, "mean", -1)
    fails("nn.BCEWithLogitsLoss: pos_weight {4} does not broadcast to input {2, 3}",
      L.BCEWithLogitsLoss{pos_weight = lucid.ones(4)}, lucid.randn(2, 3), lucid.rand(2, 3))
    fails("nn.MSELoss: input must be a tensor, got nil", L.MSELoss(), nil, x45)
  end)

  it("binary cross entropy needs probabilities", function()
    fails("nn.BCELoss: all elements of input should be between 0 and 1 (found 1.5)",
      L.BCELoss(), lucid.tensor({0.5, 1.5}), lucid.tensor({0, 1}))
    fails("nn.functional.binary_cross_entropy: all elements of input should be between 0 and 1 (found -0.5)",
      F.binary_cross_entropy, lucid.tensor({-0.5, 0.5}), lucid.tensor({0, 1}))
  end)

  it("the state stays usable after an error", function()
    local loss = L.CrossEntropyLoss()
    assert.is_false(pcall(loss, x45, lucid.tensor({9, 1, 1, 1})))
    assert.is_true(lucid.is_tensor(loss(x45, lucid.tensor({5, 1, 1, 1}))))
  end)
end)

describe("losses of integer and bool tensors", function()
  it("binary cross entropy refuses a non-float input, naming the loss", function()
    assert.has_error(function() nn.BCELoss()(lucid.tensor({true, false}), lucid.tensor({1, 0})) end,
      "nn.BCELoss: input must be a float tensor of probabilities, got bool")
  end)
end)
