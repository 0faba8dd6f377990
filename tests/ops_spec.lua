-- Compares every op and the example models with PyTorch reference values
-- (tests/fixtures/core_ops.lua, written by scripts/gen_fixtures.py): forward
-- output and the gradient of sum(output * seed) for every input.
local lucid = require("lucid")
local nn = require("lucid.nn")
local H = dofile("tests/helpers.lua")
local fixtures = dofile("tests/fixtures/core_ops.lua")

-- op name in the fixture -> the Lua way of writing it. `a` holds the input
-- tensors, `args` the fixture's args (Lua conventions: 1-based dims).
local apply = {
  add = function(a) return a[1] + a[2] end,
  sub = function(a) return a[1] - a[2] end,
  mul = function(a) return a[1] * a[2] end,
  div = function(a) return a[1] / a[2] end,
  pow = function(a) return a[1] ^ a[2] end,
  add_scalar = function(a, args) return a[1] + args[1] end,
  sub_scalar = function(a, args) return a[1] - args[1] end,
  mul_scalar = function(a, args) return a[1] * args[1] end,
  div_scalar = function(a, args) return a[1] / args[1] end,
  pow_scalar = function(a, args) return a[1] ^ args[1] end,
  rsub_scalar = function(a, args) return args[1] - a[1] end,
  rdiv_scalar = function(a, args) return args[1] / a[1] end,
  rpow_scalar = function(a, args) return args[1] ^ a[1] end,
  neg = function(a) return -a[1] end,
  tanh = function(a) return a[1]:tanh() end,
  matmul = function(a) return a[1]:matmul(a[2]) end,
  linear = function(a) return lucid.linear(a[1], a[2], a[3]) end,
  linear_nobias = function(a) return lucid.linear(a[1], a[2]) end,
  sum = function(a, args)
    if #args == 0 then return a[1]:sum() end
    return a[1]:sum(args[1], args[2])
  end,
  mean = function(a, args)
    if #args == 0 then return a[1]:mean() end
    return a[1]:mean(args[1], args[2])
  end,
  reshape = function(a, args) return a[1]:reshape(args[1]) end,
  transpose = function(a, args) return a[1]:transpose(args[1], args[2]) end,
  index = function(a, args) return a[1][args[1]] end,
  square_tanh_sum = function(a) return lucid.tanh(a[1] * a[1]):sum() end,
}

-- Runs one fixture entry in `dtype` and checks output and gradients.
local function check_entry(entry, dtype, rtol, atol_out, atol_grad)
  local fn = apply[entry.op]
  assert.is_function(fn, "no Lua mapping for op '" .. entry.op .. "'")
  local inputs = {}
  for i, fx in ipairs(entry.inputs) do
    inputs[i] = H.tensor(fx, {dtype = dtype, requires_grad = true})
  end
  local out = fn(inputs, entry.args)
  assert.are.equal(dtype, out.dtype)
  assert.is_true(out.requires_grad)
  H.assert_close(out, entry.output, rtol, atol_out, entry.name .. ": output")
  out:backward(H.tensor(entry.seed, {dtype = dtype}))
  for i, g in ipairs(entry.grads) do
    local what = string.format("%s: grad of input %d", entry.name, i)
    if g == false then
      assert.is_nil(inputs[i].grad, what .. " should be nil")
    else
      assert.is_not_nil(inputs[i].grad, what .. " is nil")
      assert.are.equal(dtype, inputs[i].grad.dtype, what .. " dtype")
      H.assert_close(inputs[i].grad, g, rtol, atol_grad, what)
    end
  end
end

describe("ops against PyTorch (float64)", function()
  for _, entry in ipairs(fixtures.ops) do
    it(entry.name, function()
      check_entry(entry, "float64", 1e-10, 1e-12, 1e-12)
    end)
  end
end)

describe("ops against PyTorch (float32)", function()
  local names = {
    "add broadcast (2,1,3) + (4,1)",
    "sub 0-d () - (2,3)",
    "div broadcast (2,3) / (3,)",
    "pow broadcast (2,3) ^ (3,)",
    "pow_scalar x ^ 2.5",
    "rpow_scalar 2.5 ^ x",
    "tanh (3,4) over [-3,3]",
    "matmul (2,1,2,3) @ (3,3,2)",
    "matmul (3,) @ (3,4)",
    "linear batched x(2,4,3) W(2,3) b(2)",
    "mean dim -2 keepdim true (2,3,4)",
    "transpose 1 3 (2,3,4)",
    "index [-1] (3,4)",
    "chain_tanh_mul",
  }
  local by_name = {}
  for _, entry in ipairs(fixtures.ops) do by_name[entry.name] = entry end
  for _, name in ipairs(names) do
    it(name, function()
      local entry = by_name[name]
      assert.is_not_nil(entry, "no fixture entry named '" .. name .. "'")
      -- inputs are the float64 values rounded to float32, so allow a small
      -- absolute error too for values near zero
      check_entry(entry, "float32", 1e-5, 1e-5, 1e-5)
    end)
  end
end)

describe("models against PyTorch", function()
  local SimpleTanhModel = nn.Module:extend("SimpleTanhModel")
  function SimpleTanhModel:__init()
    SimpleTanhModel.super.__init(self)
    self.linear = nn.Linear{in_features = 3, out_features = 2}
    self.tanh = nn.Tanh()
  end
  function SimpleTanhModel:forward(x)
    return self.tanh(self.linear(x))
  end

  local TanhNetwork = nn.Module:extend("TanhNetwork")
  function TanhNetwork:__init()
    self.fc1 = nn.Linear(4, 8)
    self.tanh = nn.Tanh()
    self.fc2 = nn.Linear(8, 2)
  end
  function TanhNetwork:forward(x)
    return self.fc2(self.tanh(self.fc1(x)))
  end

  -- builds the model in float64, always restoring the default dtype
  local function build(cls)
    lucid.set_default_dtype("float64")
    local ok, model = pcall(cls)
    lucid.set_default_dtype("float32")
    assert(ok, model)
    return model
  end

  local cases = {
    {"SimpleTanhModel", SimpleTanhModel},
    {"TanhNetwork", TanhNetwork},
    {"TanhNetworkBatch", TanhNetwork},
  }
  for _, c in ipairs(cases) do
    local name, cls = c[1], c[2]
    it(name, function()
      local fx = fixtures.models[name]
      local model = build(cls)
      local sd = {}
      for pname, t in pairs(fx.params) do sd[pname] = H.tensor(t) end
      model:load_state_dict(sd)

      local x = H.tensor(fx.input, {requires_grad = true})
      local out = model(x)
      assert.are.equal("float64", out.dtype)
      H.assert_close(out, fx.output, 1e-10, 1e-12, name .. ": output")
      if fx.seed then out:backward(H.tensor(fx.seed)) else out:backward() end
      H.assert_close(x.grad, fx.grads.input, 1e-10, 1e-12, name .. ": input grad")

      local seen = 0
      for pname, p in model:named_parameters() do
        assert.is_not_nil(fx.grads[pname], name .. ": unexpected parameter " .. pname)
        assert.are.equal("float64", p.dtype)
        H.assert_close(p, fx.params[pname], 0, 0, name .. ": loaded " .. pname)
        H.assert_close(p.grad, fx.grads[pname], 1e-10, 1e-12, name .. ": grad of " .. pname)
        seen = seen + 1
      end
      local expected = 0
      for _ in pairs(fx.params) do expected = expected + 1 end
      assert.are.equal(expected, seen, name .. ": number of parameters")
    end)
  end

  it("leaves the default dtype at float32", function()
    assert.are.equal("float32", lucid.get_default_dtype())
  end)
end)

describe("ops with an empty inner dimension", function()
  -- fresh memory may hold anything: fill some with NaN and free it first
  local function dirty_memory()
    local t = {}
    for i = 1, 50 do t[i] = lucid.full({2, 3}, 0 / 0) end
    t = nil
    collectgarbage()
    collectgarbage()
  end

  it("matmul (2,0) @ (0,3) is zeros", function()
    for _ = 1, 5 do
      dirty_memory()
      H.assert_close(lucid.matmul(lucid.zeros(2, 0), lucid.zeros(0, 3)),
        {shape = {2, 3}, data = {0, 0, 0, 0, 0, 0}}, 0, 0, "matmul")
    end
  end)

  it("batched matmul (2,1,0) @ (2,0,3) is zeros", function()
    for _ = 1, 5 do
      dirty_memory()
      H.assert_close(lucid.matmul(lucid.zeros(2, 1, 0), lucid.zeros(2, 0, 3)),
        {shape = {2, 1, 3}, data = {0, 0, 0, 0, 0, 0}}, 0, 0, "matmul")
    end
  end)

  it("linear with 0 input features and no bias is zeros", function()
    for _ = 1, 5 do
      dirty_memory()
      H.assert_close(lucid.linear(lucid.zeros(2, 0), lucid.zeros(3, 0)),
        {shape = {2, 3}, data = {0, 0, 0, 0, 0, 0}}, 0, 0, "linear without bias")
    end
  end)

  it("linear with 0 input features is the bias, and the bias grad sums the rows", function()
    local x = lucid.zeros(2, 0, {dtype = "float64"})
    local w = lucid.zeros(3, 0, {dtype = "float64", requires_grad = true})
    local b = lucid.tensor({1, 2, 3}, {dtype = "float64", requires_grad = true})
    local y = lucid.linear(x, w, b)
    H.assert_close(y, {shape = {2, 3}, data = {1, 2, 3, 1, 2, 3}}, 0, 0, "linear with bias")
    y:backward()
    H.assert_close(b.grad, {shape = {3}, data = {2, 2, 2}}, 0, 0, "bias grad")
  end)
end)
