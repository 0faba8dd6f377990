-- Finite-difference gradient checks (float64) for every differentiable op,
-- for composed graphs and modules, plus the rules of backward itself
-- (accumulation, retain_graph, deep graphs).
local lucid = require("lucid")
local nn = require("lucid.nn")
local H = dofile("tests/helpers.lua")

local F64 = {dtype = "float64", requires_grad = true}

-- A float64 leaf of `shape` from lucid's generator (seeded per case),
-- values mapped by f when given.
local function leaf(shape, f)
  local flat = H.flat(lucid.randn(shape, {dtype = "float64"}))
  if f then for i, v in ipairs(flat) do flat[i] = f(v) end end
  return H.from_flat(flat, shape, F64)
end
local function randn(...) return leaf({...}) end

-- makers: rn(2, 3) is a function that makes such a leaf when the case runs;
-- pos() is |randn| + 0.5 (for bases and logs), nz() keeps 0.5 away from 0
-- (for divisors), as the fixtures do
local function maker(f)
  return function(...)
    local shape = {...}
    return function() return leaf(shape, f) end
  end
end
local rn = maker()
local pos = maker(function(v) return math.abs(v) + 0.5 end)
local nz = maker(function(v) return v < 0 and v - 0.5 or v + 0.5 end)
local function scalar() return lucid.tensor(0.7, F64) end

local function check(fn, inputs, opts)
  local ok, msg = H.gradcheck(fn, inputs, opts)
  assert.is_true(ok, msg)
end

-- gradcheck of fn over fresh inputs made by the makers, one `it` per case
local function cases(list)
  for _, c in ipairs(list) do
    it(c[1], function()
      lucid.manual_seed(42)
      local inputs = {}
      for i, make in ipairs(c[3]) do inputs[i] = make() end
      check(c[2], inputs, c[4])
    end)
  end
end

describe("gradcheck: binary ops", function()
  local ops = {
    {"add", function(a, b) return a + b end, rn},
    {"sub", function(a, b) return a - b end, rn},
    {"mul", function(a, b) return a * b end, rn},
    {"div", function(a, b) return a / b end, nz},
    -- a / b away from integers: the jumps of remainder and fmod
    {"remainder", function(a, b) return lucid.remainder(a * 0.1, b) end, nz},
    {"fmod", function(a, b) return lucid.fmod(a * 0.1, b) end, nz},
  }
  local shapes = {
    {"same shape (2,3) (2,3)", {2, 3}, {2, 3}},
    {"broadcast (2,3) (3)", {2, 3}, {3}},
    {"broadcast (3) (2,3)", {3}, {2, 3}},
    {"broadcast (3,1) (1,4)", {3, 1}, {1, 4}},
    {"broadcast (2,1,3) (4,1)", {2, 1, 3}, {4, 1}},
  }
  for _, op in ipairs(ops) do
    local list = {}
    for _, s in ipairs(shapes) do
      list[#list + 1] = {op[1] .. " " .. s[1], op[2], {rn(H.unpack(s[2])), op[3](H.unpack(s[3]))}}
    end
    list[#list + 1] = {op[1] .. " 0-d with (2,3)", op[2], {scalar, op[3](2, 3)}}
    list[#list + 1] = {op[1] .. " (2,3) with 0-d", op[2], {rn(2, 3), op[1] == "div" and scalar or rn()}}
    cases(list)
  end
  cases({
    {"add as lucid.add", function(a, b) return lucid.add(a, b) end, {rn(2, 3), rn(3)}},
    {"sub as t:sub", function(a, b) return a:sub(b) end, {rn(2, 3), rn(3)}},
    {"mul as lucid.mul", function(a, b) return lucid.mul(a, b) end, {rn(2, 3), rn(2, 1)}},
    {"div as t:div", function(a, b) return a:div(b) end, {rn(2, 3), nz(2, 1)}},
    {"pow tensor ^ tensor", function(a, b) return a ^ b end, {pos(2, 3), rn(2, 3)}},
    {"pow tensor ^ tensor broadcast (2,3) (3)", function(a, b) return a ^ b end, {pos(2, 3), rn(3)}},
    {"pow tensor ^ tensor broadcast (3) (2,3)", function(a, b) return lucid.pow(a, b) end, {pos(3), rn(2, 3)}},
  })
end)

describe("gradcheck: scalar operands", function()
  cases({
    {"x + 2.5", function(x) return x + 2.5 end, {rn(2, 3)}},
    {"2.5 + x", function(x) return 2.5 + x end, {rn(2, 3)}},
    {"x - 2.5", function(x) return x - 2.5 end, {rn(2, 3)}},
    {"2.5 - x", function(x) return 2.5 - x end, {rn(2, 3)}},
    {"x * 2.5", function(x) return x * 2.5 end, {rn(2, 3)}},
    {"2.5 * x", function(x) return 2.5 * x end, {rn(2, 3)}},
    {"x / 2.5", function(x) return x / 2.5 end, {rn(2, 3)}},
    {"2.5 / x", function(x) return 2.5 / x end, {nz(2, 3)}},
    {"lucid.sub(2.5, x)", function(x) return lucid.sub(2.5, x) end, {rn(2, 3)}},
    {"x ^ 2.5", function(x) return x ^ 2.5 end, {pos(2, 3)}},
    {"x ^ 2 (negative bases)", function(x) return x ^ 2 end, {rn(2, 3)}},
    {"x ^ 3 (negative bases)", function(x) return x ^ 3 end, {rn(2, 3)}},
    {"x ^ 1", function(x) return x ^ 1 end, {rn(2, 3)}},
    {"x ^ 0", function(x) return x ^ 0 end, {nz(2, 3)}},
    {"x ^ 0.5", function(x) return x ^ 0.5 end, {pos(2, 3)}},
    {"x ^ -1.5", function(x) return x ^ -1.5 end, {pos(2, 3)}},
    {"x:pow(3)", function(x) return x:pow(3) end, {rn(4)}},
    {"2.5 ^ x", function(x) return 2.5 ^ x end, {rn(2, 3)}},
    {"0.5 ^ x", function(x) return 0.5 ^ x end, {rn(2, 3)}},
    {"scalar ops on a 0-d tensor", function(x) return (3 - x) * 2 / (x * x + 1) end, {scalar}},
  })
end)

describe("pow gradients where the base is 0 (values from PyTorch)", function()
  it("d/dx x ^ 0 is 0, also at x = 0", function()
    local x = lucid.tensor({0, 1, 2}, F64)
    ;(x ^ 0):sum():backward()
    H.assert_close(x.grad, {shape = {3}, data = {0, 0, 0}}, 0, 0, "grad")
  end)

  it("tensor ^ tensor: the exponent's gradient is 0 where the base is 0", function()
    local x = lucid.tensor({0, 1, 2}, F64)
    local e = lucid.tensor({2, 2, 2}, F64)
    ;(x ^ e):sum():backward()
    H.assert_close(x.grad, {shape = {3}, data = {0, 2, 4}}, 1e-15, 0, "base grad")
    H.assert_close(e.grad, {shape = {3}, data = {0, 0, 4 * math.log(2)}}, 1e-15, 0, "exponent grad")
  end)

  it("0 ^ x has a zero gradient for x >= 0", function()
    local x = lucid.tensor({0, 1, 2}, F64)
    ;(0 ^ x):sum():backward()
    H.assert_close(x.grad, {shape = {3}, data = {0, 0, 0}}, 0, 0, "grad")
  end)

  it("0 ^ e for e = 0, -1, 0.5", function()
    local z = lucid.zeros(3, F64)
    local e = lucid.tensor({0, -1, 0.5}, F64)
    ;(z ^ e):sum():backward()
    H.assert_close(z.grad, {shape = {3}, data = {0, -math.huge, math.huge}}, 0, 0, "base grad")
    H.assert_close(e.grad, {shape = {3}, data = {0, -math.huge, 0}}, 0, 0, "exponent grad")
  end)
end)

describe("gradcheck: unary ops", function()
  cases({
    {"neg", function(x) return lucid.neg(x) end, {rn(2, 3)}},
    {"unary minus", function(x) return -x end, {rn(2, 3)}},
    {"tanh", function(x) return lucid.tanh(x) end, {rn(3, 4)}},
    {"tanh of large inputs", function(x) return (x * 4):tanh() end, {rn(3, 4)}},
    {"log of positive inputs", function(x) return x:log() end, {pos(2, 3)}},
    {"log 0-d", function(x) return lucid.log(x * x + 1) end, {scalar}},
  })
end)

describe("gradcheck: matmul", function()
  local mm = function(a, b) return a:matmul(b) end
  cases({
    {"(3) @ (3)", mm, {rn(3), rn(3)}},
    {"(3) @ (3,4)", mm, {rn(3), rn(3, 4)}},
    {"(2,3) @ (3)", mm, {rn(2, 3), rn(3)}},
    {"(2,3) @ (3,4)", mm, {rn(2, 3), rn(3, 4)}},
    {"lucid.matmul (2,3) @ (3,4)", lucid.matmul, {rn(2, 3), rn(3, 4)}},
    {"batched (2,2,3) @ (2,3,4)", mm, {rn(2, 2, 3), rn(2, 3, 4)}},
    {"batched (4,2,3) @ (3,5)", mm, {rn(4, 2, 3), rn(3, 5)}},
    {"(2,3) @ batched (4,3,5)", mm, {rn(2, 3), rn(4, 3, 5)}},
    {"broadcast batch (2,1,2,3) @ (3,3,2)", mm, {rn(2, 1, 2, 3), rn(3, 3, 2)}},
    {"(3) @ batched (2,3,4)", mm, {rn(3), rn(2, 3, 4)}},
    {"batched (2,4,3) @ (3)", mm, {rn(2, 4, 3), rn(3)}},
    {"transposed operands", function(a, b) return a:transpose(1, 2):matmul(b:transpose(1, 2)) end,
      {rn(3, 2), rn(4, 3)}},
    {"batched transposed operand", function(a, b) return a:matmul(b:transpose(-1, -2)) end,
      {rn(2, 2, 3), rn(2, 4, 3)}},
    {"slices with an offset", function(a, b) return a[2]:matmul(b:select(2, 2)) end,
      {rn(3, 2, 3), rn(3, 2, 4)}},
    {"expanded operand", function(a, b) return a:expand(2, 3):matmul(b) end, {rn(3), rn(3, 4)}},
    {"x @ x", function(x) return x:matmul(x) end, {rn(3, 3)}},
  })
end)

describe("gradcheck: linear", function()
  cases({
    {"x(5,3) W(2,3) b(2)", lucid.linear, {rn(5, 3), rn(2, 3), rn(2)}},
    {"without bias x(5,3) W(2,3)", lucid.linear, {rn(5, 3), rn(2, 3)}},
    {"1-D input x(3) W(2,3) b(2)", lucid.linear, {rn(3), rn(2, 3), rn(2)}},
    {"batch dims x(2,4,3) W(2,3) b(2)", lucid.linear, {rn(2, 4, 3), rn(2, 3), rn(2)}},
    {"batch dims without bias x(2,2,4,3) W(2,3)", lucid.linear, {rn(2, 2, 4, 3), rn(2, 3)}},
    {"x:linear(W, b)", function(x, w, b) return x:linear(w, b) end, {rn(4, 3), rn(2, 3), rn(2)}},
    {"transposed input and weight", function(x, w, b) return lucid.linear(x:transpose(1, 2), w:transpose(1, 2), b) end,
      {rn(3, 5), rn(3, 2), rn(2)}},
  })
end)

describe("gradcheck: reductions", function()
  local list = {}
  for _, op in ipairs({"sum", "mean"}) do
    list[#list + 1] = {op .. " all", function(x) return x[op](x) end, {rn(2, 3, 4)}}
    list[#list + 1] = {"lucid." .. op .. " all", function(x) return lucid[op](x) end, {rn(2, 3)}}
    for _, d in ipairs({1, 2, 3, -1, -2, -3}) do
      for _, keep in ipairs({false, true}) do
        list[#list + 1] = {string.format("%s dim %d keepdim %s", op, d, tostring(keep)),
          function(x) return x[op](x, d, keep) end, {rn(2, 3, 4)}}
      end
    end
    list[#list + 1] = {op .. "{dim = 2, keepdim = true}", function(x) return x[op](x, {dim = 2, keepdim = true}) end, {rn(2, 3, 4)}}
    list[#list + 1] = {op .. "{dim = -1}", function(x) return x[op](x, {dim = -1}) end, {rn(2, 3)}}
    list[#list + 1] = {op .. " of a 1-D tensor along dim 1", function(x) return x[op](x, 1) end, {rn(5)}}
    list[#list + 1] = {op .. " of a transposed view", function(x) local t = x:transpose(1, 2) return t[op](t, 1) end, {rn(3, 4)}}
  end
  for _, op in ipairs({"amax", "amin"}) do  -- random values: no ties
    list[#list + 1] = {op .. " all", function(x) return x[op](x) end, {rn(2, 3, 4)}}
    list[#list + 1] = {op .. " dim 2", function(x) return x[op](x, 2) end, {rn(2, 3, 4)}}
    list[#list + 1] = {op .. " dim -1 keepdim", function(x) return x[op](x, -1, true) end, {rn(3, 4)}}
  end
  cases(list)
end)

describe("gradcheck: shape ops", function()
  cases({
    {"reshape varargs", function(x) return x:reshape(3, 8) end, {rn(2, 3, 4)}},
    {"reshape table", function(x) return x:reshape({4, 6}) end, {rn(2, 3, 4)}},
    {"reshape with -1", function(x) return x:reshape(-1, 4) * x:reshape(6, -1) end, {rn(2, 3, 4)}},
    {"reshape to 1-D and 0-d", function(x) return x:reshape(-1):sum():reshape({}) end, {rn(2, 3)}},
    {"view", function(x) return lucid.view(x, 2, 12) end, {rn(2, 3, 4)}},
    {"reshape of a transposed view", function(x) return x:transpose(1, 2):reshape(6) end, {rn(2, 3)}},
    {"transpose (2,3)", function(x) return x:transpose(1, 2) end, {rn(2, 3)}},
    {"transpose 1 3 (2,3,4)", function(x) return x:transpose(1, 3) end, {rn(2, 3, 4)}},
    {"transpose -1 -2 (2,3,4)", function(x) return lucid.transpose(x, -1, -2) end, {rn(2, 3, 4)}},
    {"transposed view used in arithmetic", function(x) return x:transpose(1, 2) * x:transpose(1, 2) end, {rn(2, 3)}},
    {"t[i]", function(x) return x[2] end, {rn(3, 4)}},
    {"t[-1]", function(x) return x[-1] end, {rn(3, 4)}},
    {"t[i] of 1-D gives 0-d", function(x) return x[3] end, {rn(4)}},
    {"t[i][j] of 3-D", function(x) return x[2][-1] end, {rn(2, 3, 4)}},
    {"rows used twice", function(x) return x[1] * x[2] + x[1] end, {rn(3, 4)}},
    {"select dim 1", function(x) return x:select(1, 2) end, {rn(2, 3, 4)}},
    {"select dim 2", function(x) return x:select(2, 3) end, {rn(2, 3, 4)}},
    {"select dim -1, index -2", function(x) return lucid.select(x, -1, -2) end, {rn(2, 3, 4)}},
    {"select of a transposed view", function(x) return x:transpose(1, 2):select(1, 1) end, {rn(3, 2)}},
    {"expand (3,1) to (3,4)", function(x) return x:expand(3, 4) end, {rn(3, 1)}},
    {"expand (3) to (2,3)", function(x) return x:expand({2, 3}) end, {rn(3)}},
    {"expand with -1", function(x) return x:expand(2, -1, 4) end, {rn(3, 1)}},
    {"expand 0-d", function(x) return lucid.expand(x, 2, 2) end, {scalar}},
    {"clone", function(x) return x:clone() * 2 end, {rn(2, 3)}},
    {"contiguous of a transposed view", function(x) return x:transpose(1, 2):contiguous() end, {rn(2, 3)}},
    {"contiguous of a contiguous tensor", function(x) return (x * 1):contiguous() end, {rn(2, 3)}},
    {"to(float64) of float64", function(x) return x:to("float64") * x end, {rn(2, 3)}},
    {"double() of float64", function(x) return x:double() + x end, {rn(2, 3)}},
  })

  it("to(\"float64\") from float32 sends a float32 gradient", function()
    local x = lucid.tensor({{0.5, -1.25}, {2, 3}}, {requires_grad = true})
    assert.are.equal("float32", x.dtype)
    local y = x:to("float64")
    assert.are.equal("float64", y.dtype)
    assert.is_false(y.is_leaf)
    ;(y * y):sum():backward()
    assert.are.equal("float32", x.grad.dtype)
    H.assert_close(x.grad, {shape = {2, 2}, data = {1, -2.5, 4, 6}}, 0, 0, "grad")
  end)

  it("float() then double() round trip sends the gradient back", function()
    local x = lucid.tensor({1.5, -2}, F64)
    local y = x:float():double()
    ;(y * 3):sum():backward()
    assert.are.equal("float64", x.grad.dtype)
    H.assert_close(x.grad, {shape = {2}, data = {3, 3}}, 0, 0, "grad")
  end)
end)

describe("gradcheck: composed graphs", function()
  cases({
    {"a value used twice: x * x + x", function(x) return x * x + x end, {rn(2, 3)}},
    {"x - x", function(x) return x - x end, {rn(2, 3)}},
    {"x / x", function(x) return x / x end, {nz(2, 3)}},
    {"x ^ x", function(x) return x ^ x end, {pos(2, 3)}},
    {"x used in many places", function(x) return (x * x):tanh() * x - x / (x * x + 1) end, {rn(2, 3)}},
    {"broadcasting in backward", function(a, b) return ((a + b) * b):sum(1) / b end,
      {rn(4, 3), nz(3)}},
    {"broadcast both ways", function(a, b) return (a * b - a / (b * b + 1)):tanh() end, {rn(3, 1), rn(1, 4)}},
    {"mean of matmul of tanh", function(a, b) return lucid.tanh(a):matmul(b):mean(1) end, {rn(2, 3), rn(3, 4)}},
    {"square_tanh_sum", function(x) return lucid.tanh(x * x):sum() end, {rn(2, 3)}},
    {"log-sum of a positive chain", function(x) return (x * x + 1):log():sum(-1, true) end, {rn(2, 3)}},
    {"expand then reduce", function(x) return x:expand(4, 3) * x:sum() end, {rn(3)}},
  })
end)

describe("gradcheck: modules", function()
  -- parameters in float64; gradcheck perturbs them in place
  local function float64(fn)
    lucid.set_default_dtype("float64")
    local ok, m = pcall(fn)
    lucid.set_default_dtype("float32")
    assert(ok, m)
    return m
  end
  local function with_params(x, m)
    local inputs = {x}
    for _, p in ipairs(m:parameters()) do inputs[#inputs + 1] = p end
    return inputs
  end

  it("nn.Linear", function()
    lucid.manual_seed(7)
    local lin = float64(function() return nn.Linear(3, 2) end)
    check(function(x) return lin(x) end, with_params(randn(4, 3), lin))
  end)

  it("nn.Linear without bias, with batch dims", function()
    lucid.manual_seed(7)
    local lin = float64(function() return nn.Linear{in_features = 3, out_features = 2, bias = false} end)
    assert.are.equal(1, #lin:parameters())
    check(function(x) return lin(x) end, with_params(randn(2, 4, 3), lin))
  end)

  it("nn.Tanh", function()
    local tanh = nn.Tanh()
    check(function(x) return tanh(x) end, {randn(2, 5)})
  end)

  it("nn.Sequential Linear-Tanh-Linear", function()
    lucid.manual_seed(7)
    local seq = float64(function() return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)) end)
    assert.are.equal(4, #seq:parameters())
    check(function(x) return seq(x) end, with_params(randn(5, 3), seq))
  end)

  it("nn.Module:extend model", function()
    lucid.manual_seed(7)
    local Net = nn.Module:extend("Net")
    function Net:__init()
      self.fc1 = nn.Linear(4, 8)
      self.tanh = nn.Tanh()
      self.fc2 = nn.Linear(8, 2)
    end
    function Net:forward(x) return self.fc2(self.tanh(self.fc1(x))) end
    local net = float64(Net)
    check(function(x) return net(x) end, with_params(randn(3, 4), net))
  end)
end)

describe("backward", function()
  it("through a deep chain of 2,000 ops matches the analytic gradient", function()
    local x0 = lucid.tensor({0.1, -0.3, 0.2}, F64)
    local n = 1000
    local function chain(x)
      for _ = 1, n do x = x * 1.001 + 0.001 end  -- 2 ops per step
      return lucid.tanh(x)
    end
    local y = chain(x0)
    y:sum():backward()
    -- x_n = a^n x0 + c (a^n - 1) / (a - 1), dy/dx0 = (1 - tanh(x_n)^2) a^n
    local a = 1.001
    local an = a ^ n
    local expected = {}
    for i, v in ipairs(H.flat(x0)) do
      local xn = an * v + 0.001 * (an - 1) / (a - 1)
      expected[i] = (1 - math.tanh(xn) ^ 2) * an
    end
    H.assert_close(x0.grad, {shape = {3}, data = expected}, 1e-9, 0, "deep chain grad")
    -- and by finite differences
    local x = lucid.tensor({0.4, -0.1}, F64)
    check(chain, {x})
  end)

  it("through a chain of 200,000 ops (no C-stack overflow)", function()
    local x0 = lucid.tensor({0.25, -0.5}, F64)
    local x = x0
    for _ = 1, 100000 do x = x * 1 + 0.00001 end
    local y = lucid.tanh(x):sum()
    y:backward()
    local expected = {1 - math.tanh(1.25) ^ 2, 1 - math.tanh(0.5) ^ 2}
    H.assert_close(x0.grad, {shape = {2}, data = expected}, 1e-9, 0, "grad")
    x, y = nil, nil
    collectgarbage()
  end)

  it("accumulates gradients into leaves across two backward calls", function()
    local x = lucid.tensor({1, -2, 3}, F64)
    ;(x * x):sum():backward()
    H.assert_close(x.grad, {shape = {3}, data = {2, -4, 6}}, 0, 0, "after one backward")
    local g1 = x.grad
    ;(x * x):sum():backward()
    H.assert_close(x.grad, {shape = {3}, data = {4, -8, 12}}, 0, 0, "after two backward")
    H.assert_close(g1, {shape = {3}, data = {4, -8, 12}}, 0, 0, "the grad tensor is updated in place")
    x.grad = nil
    ;(x * 3):sum():backward()
    H.assert_close(x.grad, {shape = {3}, data = {3, 3, 3}}, 0, 0, "after grad = nil")
    x:zero_grad()
    assert.is_nil(x.grad)
  end)

  it("accumulates through two outputs sharing a leaf", function()
    local w = lucid.tensor({{1, 2}, {3, 4}}, F64)
    local a = (w * 2):sum()
    local b = w:tanh():sum()
    a:backward()
    b:backward()
    local expected = {}
    for i, v in ipairs({1, 2, 3, 4}) do expected[i] = 2 + (1 - math.tanh(v) ^ 2) end
    H.assert_close(w.grad, {shape = {2, 2}, data = expected}, 1e-12, 0, "grad")
  end)

  it("retain_graph allows a second backward", function()
    local x = lucid.tensor({0.5, -1.5}, F64)
    local y = (x * x * x):sum()
    y:backward(nil, {retain_graph = true})
    H.assert_close(x.grad, {shape = {2}, data = {0.75, 6.75}}, 1e-12, 0, "first")
    y:backward()
    H.assert_close(x.grad, {shape = {2}, data = {1.5, 13.5}}, 1e-12, 0, "second")
  end)

  it("retain_graph as the only table argument", function()
    local x = lucid.tensor({2}, F64)
    local y = (x * x):sum()
    y:backward{retain_graph = true}
    y:backward(lucid.tensor(0.5, {dtype = "float64"}))
    H.assert_close(x.grad, {shape = {1}, data = {6}}, 1e-12, 0, "grad")
  end)

  it("a second backward without retain_graph raises an error mentioning retain_graph", function()
    local x = lucid.tensor({0.5, -1.5}, F64)
    local y = (x * x):tanh():sum()
    y:backward()
    local g = H.flat(x.grad)
    local ok, err = pcall(y.backward, y)
    assert.is_false(ok)
    assert.is_string(err)
    assert.matches("retain_graph", err, 1, true)
    -- the error leaves the state usable and the grad untouched
    H.assert_close(x.grad, {shape = {2}, data = g}, 0, 0, "grad after the failed backward")
    ;(x * 2):sum():backward()
    H.assert_close(x.grad, {shape = {2}, data = {g[1] + 2, g[2] + 2}}, 1e-12, 0, "grad after a new backward")
  end)

  it("a non-scalar output is seeded with ones", function()
    local x = lucid.tensor({{-1, 0, 1, 2}}, F64)
    local y = lucid.tanh(x)
    y:backward()
    local expected = {}
    for i, v in ipairs({-1, 0, 1, 2}) do expected[i] = 1 - math.tanh(v) ^ 2 end
    H.assert_close(x.grad, {shape = {1, 4}, data = expected}, 1e-12, 0, "grad")
  end)

  it("a seed of another dtype gives the right gradient (or a dtype error)", function()
    -- PyTorch converts the seed to the output's dtype
    local x = lucid.tensor({0.5, -1, 2}, F64)
    local y = x:tanh()
    local ok, err = pcall(y.backward, y, lucid.ones(3, {dtype = "float32"}))
    if not ok then
      assert.matches("dtype", err, 1, true)
    else
      local expected = {}
      for i, v in ipairs({0.5, -1, 2}) do expected[i] = 1 - math.tanh(v) ^ 2 end
      H.assert_close(x.grad, {shape = {3}, data = expected}, 1e-12, 0, "tanh grad, float32 seed")
    end
    local w = lucid.tensor({{1, 2}, {3, 4}}, F64)
    local o = lucid.linear(lucid.ones(3, 2, {dtype = "float64"}), w)
    ok, err = pcall(o.backward, o, lucid.ones(3, 2, {dtype = "float32"}))
    if not ok then
      assert.matches("dtype", err, 1, true)
    else
      H.assert_close(w.grad, {shape = {2, 2}, data = {3, 3, 3, 3}}, 0, 0, "linear weight grad, float32 seed")
    end
  end)

  it("no_grad records nothing", function()
    local x = lucid.tensor({1, 2}, F64)
    local y = lucid.no_grad(function() return x * x end)
    assert.is_false(y.requires_grad)
    assert.is_true(y.is_leaf)
    assert.is_nil(y.grad_fn)
  end)
end)
