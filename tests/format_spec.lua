-- Printing follows PyTorch's rules (expected strings checked against torch 1.13).
local lucid = require("lucid")

describe("printing", function()
  local function s(t) return tostring(t) end

  it("prints scalars, vectors and matrices", function()
    assert.are.equal("Tensor(2.5000)", s(lucid.tensor(2.5)))
    assert.are.equal("Tensor(3.)", s(lucid.tensor(3)))
    assert.are.equal("Tensor([1.5000, 2.0000])", s(lucid.tensor({1.5, 2})))
    assert.are.equal("Tensor([[1., 2.],\n        [3., 4.]])", s(lucid.tensor({{1, 2}, {3, 4}})))
    assert.are.equal("Tensor([[[1., 2.]],\n\n        [[3., 4.]]])", s(lucid.tensor({{{1, 2}}, {{3, 4}}})))
  end)

  it("aligns columns and uses scientific notation for wide ranges", function()
    assert.are.equal("Tensor([-1.0000,  0.5000])", s(lucid.tensor({-1, 0.5})))
    assert.are.equal("Tensor([1.0000e-05, 1.0000e+03])", s(lucid.tensor({1e-5, 1e3})))
    assert.are.equal("Tensor([   1., 1000.])", s(lucid.tensor({1, 1000})))
  end)

  it("prints nan, inf and empty tensors", function()
    assert.are.equal("Tensor([nan, inf, 1.])", s(lucid.tensor({0 / 0, 1 / 0, 1})))
    assert.are.equal("Tensor([  -inf, 0.5000])", s(lucid.tensor({-1 / 0, 0.5})))
    assert.are.equal("Tensor([])", s(lucid.zeros(0)))
    assert.are.equal("Tensor([], shape={2, 0})", s(lucid.zeros(2, 0)))
  end)

  it("summarises past 1000 elements and wraps long rows", function()
    local vals = {}
    for i = 1, 2000 do vals[i] = i end
    assert.are.equal("Tensor([1.0000e+00, 2.0000e+00, 3.0000e+00,  ..., 1.9980e+03, 1.9990e+03,\n"
      .. "        2.0000e+03])", s(lucid.tensor(vals)))
    local row = {}
    for i = 1, 20 do row[i] = i end
    assert.are.equal("Tensor([ 1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13., 14.,\n"
      .. "        15., 16., 17., 18., 19., 20.])", s(lucid.tensor(row)))
    local row3 = "[0., 0., 0.,  ..., 0., 0., 0.]"
    local pad = ",\n        "
    assert.are.equal("Tensor([" .. row3 .. pad .. row3 .. pad .. row3 .. pad .. "..." .. pad
      .. row3 .. pad .. row3 .. pad .. row3 .. "])", s(lucid.zeros(100, 100)))
  end)

  it("adds grad and dtype as the contract says", function()
    local x = lucid.tensor({1, 2}, {requires_grad = true})
    assert.are.equal("Tensor([1., 2.], grad=nil)", s(x))
    x:sum():backward()
    assert.are.equal("Tensor([1., 2.], grad=[1., 1.])", s(x))
    assert.are.equal("Tensor([1., 2.], dtype=float64)", s(lucid.tensor({1, 2}, {dtype = "float64"})))
    local m = lucid.tensor({{1, 2}, {3, 4}}, {requires_grad = true})
    m:sum():backward()
    assert.are.equal("Tensor([[1., 2.],\n        [3., 4.]], grad=[[1., 1.],\n"
      .. "                         [1., 1.]])", s(m))
  end)

  it("follows set_printoptions", function()
    lucid.set_printoptions{precision = 2}
    local text = s(lucid.tensor({1.23456}))
    lucid.set_printoptions{precision = 4}
    assert.are.equal("Tensor([1.23])", text)
    assert.has_error(function() lucid.set_printoptions{colour = 1} end,
      "lucid.set_printoptions: unknown option 'colour'")
  end)

  it("describes a tensor with info()", function()
    local path = os.tmpname()
    local previous = io.output()
    io.output(path)
    lucid.tensor({1, 2}):info()
    lucid.zeros(0, 3, {dtype = "float64"}):info()
    io.output():close()
    io.output(previous)
    local f = assert(io.open(path))
    local text = f:read("*a")
    f:close()
    os.remove(path)
    assert.are.equal("Tensor shape={2} dtype=float32 min=1 mean=1.5 max=2\n"
      .. "Tensor shape={0, 3} dtype=float64\n", text)
  end)
end)

describe("printing: hostile options and arguments", function()
  -- the largest whole number: math.maxinteger on 5.3+, 2^53 in older Luas' doubles;
  -- messages show it as the Lua prints it ("9.007199254741e+15" on 5.1)
  local BIG = math.maxinteger or 2 ^ 53

  it("set_printoptions bounds every option and applies none when one is wrong", function()
    assert.has_error(function() lucid.set_printoptions{precision = BIG} end,
      "lucid.set_printoptions: precision must be an integer in 0..30, got " .. BIG)
    assert.has_error(function() lucid.set_printoptions{precision = -1} end,
      "lucid.set_printoptions: precision must be an integer in 0..30, got -1")
    assert.has_error(function() lucid.set_printoptions{linewidth = 0} end,
      "lucid.set_printoptions: linewidth must be an integer in 1..1000000, got 0")
    assert.has_error(function() lucid.set_printoptions{edgeitems = BIG} end,
      "lucid.set_printoptions: edgeitems must be an integer in 0..1000000, got " .. BIG)
    assert.has_error(function() lucid.set_printoptions{threshold = "x"} end,
      "lucid.set_printoptions: threshold must be an integer in 0..math.maxinteger, got string")
    assert.has_error(function() lucid.set_printoptions{precision = 2, linewidth = -5} end)
    assert.are.equal("Tensor([1.5000, 2.0000])", tostring(lucid.tensor({1.5, 2})))
    lucid.set_printoptions{precision = 2.0}
    assert.are.equal("Tensor([1.50, 2.00])", tostring(lucid.tensor({1.5, 2})))
    lucid.set_printoptions{precision = 4}
  end)

  it("the tensor metatable's __tostring checks its argument", function()
    local mt = getmetatable(lucid.zeros(1))
    assert.has_error(function() mt.__tostring(5) end, "lucid.Tensor.__tostring: expected a tensor, got number")
    assert.has_error(function() mt.__tostring() end, "lucid.Tensor.__tostring: expected a tensor, got nil")
    assert.is_true(lucid.is_grad_enabled())
  end)
end)

describe("printing with a threshold of 0", function()
  it("summarises tensors with dims but prints a 0-d tensor whole", function()
    lucid.set_printoptions{threshold = 0}
    local ok, s = pcall(tostring, lucid.tensor(3))
    local ok2, s2 = pcall(tostring, lucid.arange(8))
    lucid.set_printoptions{threshold = 1000}
    assert.is_true(ok, s)
    assert.are.equal("Tensor(3.)", s)
    assert.is_true(ok2, s2)
    assert.are.equal("Tensor([0., 1., 2.,  ..., 5., 6., 7.])", s2)
  end)
end)
