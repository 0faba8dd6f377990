-- The three examples of the nn.Tanh reference docs (the Python library Lucid's), as
-- the Lua API contract writes them, with the documented numbers and print form.
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")
local nn = require("lucid.nn")
local Tensor = lucid.Tensor

local function close(a, b, tol)
  return math.abs(a - b) <= tol
end

local function assert_values(t, expected, tol, what)
  local got = t:reshape(-1):tolist()
  assert.are.equal(#expected, #got, what .. ": element count")
  for i, e in ipairs(expected) do
    assert(close(got[i], e, tol), string.format("%s[%d]: got %.9g, expected %.9g", what, i, got[i], e))
  end
end

-- The docs' model classes, written as the README's API section says.
local SimpleTanhModel = nn.Module:extend("SimpleTanhModel")
function SimpleTanhModel:__init()
  SimpleTanhModel.super.__init(self)
  self.linear = nn.Linear{in_features = 3, out_features = 2}
  self.tanh = nn.Tanh()
end
function SimpleTanhModel:forward(x)
  x = self.linear(x)
  return self.tanh(x)
end

local TanhNetwork = nn.Module:extend("TanhNetwork")
function TanhNetwork:__init()
  TanhNetwork.super.__init(self)
  self.fc1 = nn.Linear(4, 8)
  self.tanh = nn.Tanh()
  self.fc2 = nn.Linear(8, 2)
end
function TanhNetwork:forward(x)
  x = self.fc1(x)
  x = self.tanh(x)
  x = self.fc2(x)
  return x
end

local fixtures = dofile("tests/fixtures/core_ops.lua")

local function from_fixture(f, opts)
  local t = #f.shape == 0 and Tensor(f.data[1], {dtype = opts.dtype})
    or Tensor(f.data, {dtype = opts.dtype}):reshape(f.shape)
  t.requires_grad = opts.requires_grad or false  -- a leaf, after the reshape
  return t
end

describe("docs example 1: Tanh on a single tensor", function()
  it("gives the documented output, gradient and print form", function()
    local input_tensor = Tensor({{-1.0, 0.0, 1.0, 2.0}}, {requires_grad = true})
    local tanh = nn.Tanh()
    local output = tanh(input_tensor)
    assert.are.equal("Tensor([[-0.7616,  0.0000,  0.7616,  0.9640]], grad=nil)", tostring(output))
    -- the docs' numbers are the correctly rounded ones; float32 tanh is within
    -- 2 ulp of them (1.2e-7 near 1), and 1 - y^2 doubles that
    assert_values(output, {-0.7615942, 0.0, 0.7615942, 0.9640276}, 2.5e-7, "output")
    output:backward()
    assert.are.same({1, 4}, input_tensor.grad.shape)
    assert_values(input_tensor.grad, {0.4199743, 1.0, 0.4199743, 0.0706508}, 5e-7, "grad")
    assert.are.equal("Tensor([[0.4200, 1.0000, 0.4200, 0.0707]])", tostring(input_tensor.grad))
    lucid.set_printoptions{precision = 7}
    local s = tostring(input_tensor.grad)
    lucid.set_printoptions{precision = 4}
    assert.truthy(s:match("^Tensor%(%[%[0%.41997%d%d, 1%.0000000, 0%.41997%d%d, 0%.07065%d%d%]%]%)$"), s)
  end)
end)

for _, case in ipairs({
  {name = "SimpleTanhModel", class = SimpleTanhModel, input = {{0.5, -1.2, 3.3}}, out = {1, 2},
   tree = "SimpleTanhModel(\n  (linear): Linear(in_features=3, out_features=2, bias=true)\n  (tanh): Tanh()\n)"},
  {name = "TanhNetwork", class = TanhNetwork, input = {{0.5, -1.2, 3.3, 0.7}}, out = {1, 2},
   tree = "TanhNetwork(\n  (fc1): Linear(in_features=4, out_features=8, bias=true)\n"
     .. "  (tanh): Tanh()\n  (fc2): Linear(in_features=8, out_features=2, bias=true)\n)"},
}) do
  describe("docs example: " .. case.name, function()
    it("runs as written and prints as a tree", function()
      local model = case.class()
      assert.are.equal(case.tree, tostring(model))
      local input_data = Tensor(case.input, {requires_grad = true})
      local output = model(input_data)
      assert.are.same(case.out, output.shape)
      assert.truthy(tostring(output):match("^Tensor%(%[%[.*%]%], grad=nil%)$"))
      output:backward()
      assert.are.same(input_data.shape, input_data.grad.shape)
      for _, p in ipairs(model:parameters()) do
        assert.are.same(p.shape, p.grad.shape)
      end
    end)

    it("matches PyTorch on the fixture's fixed weights (float64)", function()
      local fx = fixtures.models[case.name]
      lucid.set_default_dtype("float64")
      local model = case.class()
      lucid.set_default_dtype("float32")
      local sd = {}
      for name, t in pairs(fx.params) do sd[name] = from_fixture(t, {dtype = "float64"}) end
      model:load_state_dict(sd)
      local x = from_fixture(fx.input, {dtype = "float64", requires_grad = true})
      local y = model(x)
      assert_values(y, fx.output.data, 1e-12, "output")
      y:backward()
      assert_values(x.grad, fx.grads.input.data, 1e-12, "input grad")
      for name, p in model:named_parameters() do
        assert_values(p.grad, fx.grads[name].data, 1e-12, name .. " grad")
      end
    end)

    it("has input gradients equal to central finite differences (float64)", function()
      lucid.set_default_dtype("float64")
      local model = case.class()
      lucid.set_default_dtype("float32")
      local x = Tensor(case.input, {dtype = "float64", requires_grad = true})
      model(x):sum():backward()
      local analytic = x.grad:reshape(-1):tolist()
      local flat = x:detach():reshape(-1):tolist()
      local eps = 1e-6
      for i = 1, #flat do
        local function f(delta)
          local v = {H.unpack(flat)}
          v[i] = v[i] + delta
          return lucid.no_grad(function()
            return model(Tensor(v, {dtype = "float64"}):reshape(x.shape)):sum():item()
          end)
        end
        local numeric = (f(eps) - f(-eps)) / (2 * eps)
        assert(close(analytic[i], numeric, 1e-7),
          string.format("d/dx[%d]: autograd %.10g, finite differences %.10g", i, analytic[i], numeric))
      end
    end)
  end)
end
