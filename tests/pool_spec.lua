-- Pooling, normalisation and resampling against PyTorch
-- (tests/fixtures/pool.lua, written by scripts/gen_fixtures_pool.py):
-- outputs, indices and gradients in float64 and float32, finite-difference
-- gradient checks, layers' options and reprs, and error messages.
local lucid = require("lucid")
local nn = require("lucid.nn")
local F = nn.functional
local H = dofile("tests/helpers.lua")
local fixtures = dofile("tests/fixtures/pool.lua")

local TOL = {float64 = {1e-10, 1e-12}, float32 = {1e-5, 1e-6}}

-- Runs one functional case in dtype; returns output, indices, input.
local function run_case(c, dtype)
  local x
  if c.pool then  -- an unpool: its input and indices come from our own max pool
    local x0 = H.tensor(c.pool_input, {dtype = dtype})
    local p, idx = F[c.pool](x0, c.pool_opts)
    H.assert_close(idx, c.indices, 0, 0, c.name .. ": pool indices")
    x = p:detach()
    x.requires_grad = true
    local y = F[c.fn](x, idx, c.opts)
    y:backward(H.tensor(c.seed, {dtype = dtype}))
    return y, nil, x
  end
  x = H.tensor(c.input, {dtype = dtype, requires_grad = true})
  local y, idx = F[c.fn](x, c.opts)
  y:backward(H.tensor(c.seed, {dtype = dtype}))
  return y, idx, x
end

describe("pooling against PyTorch", function()
  for _, c in ipairs(fixtures.functional) do
    for _, dtype in ipairs({"float64", "float32"}) do
      it(c.name .. " (" .. dtype .. ")", function()
        local tol = TOL[dtype]
        local y, idx, x = run_case(c, dtype)
        local out, grad = c.output, c.grad
        if dtype == "float32" then out, grad = c.output32, c.grad32 end
        assert.are.equal(dtype, y.dtype)
        H.assert_close(y, out, tol[1], tol[2], c.name .. ": output")
        H.assert_close(x.grad, grad, tol[1], tol[2], c.name .. ": grad")
        if c.indices and not c.pool then
          assert.are.equal("int64", idx.dtype)
          H.assert_close(idx, c.indices, 0, 0, c.name .. ": indices")
        end
      end)
    end
  end

  it("records the registry's backward", function()
    local x = lucid.randn(1, 1, 4, 4, {dtype = "float64", requires_grad = true})
    assert.are.equal("MaxPool2DBackward", F.max_pool2d(x, 2).grad_fn)
    assert.are.equal("AvgPool2DBackward", F.avg_pool2d(x, 2).grad_fn)
    assert.are.equal("MaxPool2DBackward", F.adaptive_max_pool2d(x, 2).grad_fn)
  end)

  it("lets NaN win a max window, as PyTorch", function()
    local x = lucid.tensor({{{1, 0 / 0, 3, 2}}})
    local y, i = F.max_pool1d(x, 2, {return_indices = true})
    local v = y:tolist()[1][1]
    assert.is_true(v[1] ~= v[1])
    assert.are.equal(3, v[2])
    assert.are.same({{{2, 3}}}, i:tolist())
  end)
end)

describe("pooling gradients by finite differences", function()
  local x4 = H.maker()(2, 2, 5, 6)
  -- where unpool's indices come from: fixed, so perturbing x moves no index
  local unpool_base = lucid.randn(2, 2, 5, 6, {dtype = "float64"})
  H.gradcheck_cases({
    {"max_pool2d k3 s2 p1 d(1,2)", function(x) return F.max_pool2d(x, 3, 2, 1, {1, 2}) end, {x4}},
    {"max_pool2d ceil", function(x) return F.max_pool2d(x, 2, {ceil_mode = true}) end, {x4}},
    {"avg_pool2d k3 s2 p1 ceil", function(x) return F.avg_pool2d(x, 3, 2, 1, true, false) end, {x4}},
    {"avg_pool1d", function(x) return F.avg_pool1d(x:reshape(4, 5, 6), 3, 2, 1) end, {x4}},
    {"adaptive_avg_pool2d", function(x) return F.adaptive_avg_pool2d(x, {3, 4}) end, {x4}},
    {"adaptive_max_pool2d", function(x) return F.adaptive_max_pool2d(x, {2, 4}) end, {x4}},
    {"max_unpool2d", function(x)
      local _, i = F.max_pool2d(unpool_base, 2, {return_indices = true})
      return F.max_unpool2d(x:narrow(3, 1, 2):narrow(4, 1, 3), i, 2)
    end, {x4}},
  }, 4242)

end)

describe("pooling layers", function()
  it("call the functional forms with their options", function()
    local x = lucid.randn(2, 3, 7, 6, {dtype = "float64"})
    H.assert_close(nn.MaxPool2d(3, 2, 1)(x), F.max_pool2d(x, 3, 2, 1), 0, 0)
    local m = nn.MaxPool2d{kernel_size = {3, 2}, return_indices = true, ceil_mode = true}
    local y, i = m(x)
    local y2, i2 = F.max_pool2d(x, {3, 2}, {ceil_mode = true, return_indices = true})
    H.assert_close(y, y2, 0, 0)
    H.assert_close(i, i2, 0, 0)
    H.assert_close(nn.AvgPool2d(3, 2, 1, false, false, 4)(x), F.avg_pool2d(x, 3, 2, 1, false, false, 4), 0, 0)
    H.assert_close(nn.AdaptiveAvgPool2d({2, false})(x), F.adaptive_avg_pool2d(x, {2, 6}), 0, 0)
    local x3 = x:reshape(2, 21, 6)
    H.assert_close(nn.MaxPool1d(2)(x3), F.max_pool1d(x3, 2), 0, 0)
    H.assert_close(nn.AvgPool1d(3, 1, 1)(x3), F.avg_pool1d(x3, 3, 1, 1), 0, 0)
    H.assert_close(nn.AdaptiveAvgPool1d(4)(x3), F.adaptive_avg_pool1d(x3, 4), 0, 0)
    H.assert_close(nn.AdaptiveMaxPool1d(4)(x3), F.adaptive_max_pool1d(x3, 4), 0, 0)
    local ya, ia = nn.AdaptiveMaxPool2d(3, true)(x)
    local yb, ib = F.adaptive_max_pool2d(x, 3, true)
    H.assert_close(ya, yb, 0, 0)
    H.assert_close(ia, ib, 0, 0)
    local p, pi = nn.MaxPool2d(2, {return_indices = true})(x)
    local u = nn.MaxUnpool2d(2)(p, pi, {7, 6})
    assert.are.same({2, 3, 7, 6}, u.shape)
    H.assert_close(u, F.max_unpool2d(p, pi, 2, {output_size = {7, 6}}), 0, 0)
    local p1, pi1 = F.max_pool1d(x3, 2, {return_indices = true})
    H.assert_close(nn.MaxUnpool1d(2)(p1, pi1), F.max_unpool1d(p1, pi1, 2), 0, 0)
  end)

  it("print their options as PyTorch", function()
    assert.are.equal("MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, return_indices=false, ceil_mode=false)",
      tostring(nn.MaxPool2d(2)))
    assert.are.equal("AvgPool2d(kernel_size=(3, 2), stride=1, padding=0, ceil_mode=false, count_include_pad=true)",
      tostring(nn.AvgPool2d({3, 2}, 1)))
    assert.are.equal("AdaptiveAvgPool2d(output_size=(5, 7))", tostring(nn.AdaptiveAvgPool2d({5, 7})))
  end)

  it("have no parameters", function()
    assert.are.same({}, nn.MaxPool2d(2):parameters())
    assert.are.same({}, nn.AdaptiveAvgPool2d(1):state_dict())
  end)
end)

describe("pooling errors", function()
  local x = lucid.randn(1, 2, 5, 5)
  it("name the function and the problem", function()
    H.assert_error("nn.functional.max_pool2d: padding should be at most half of kernel_size, got padding 2 and kernel_size 3",
      F.max_pool2d, x, 3, 1, 2)
    H.assert_error("nn.functional.max_pool2d: expected a 3-d or 4-d input ({C, H, W} or {N, C, H, W}), got {5, 5}",
      F.max_pool2d, lucid.randn(5, 5), 2)
    H.assert_error("nn.functional.max_pool1d: expected a 2-d or 3-d input ({C, L} or {N, C, L}), got {1, 2, 5, 5}",
      F.max_pool1d, x, 2)
    H.assert_error("nn.functional.avg_pool2d: input {1, 2, 5, 5} gives an output of size 0x0: too small",
      F.avg_pool2d, x, 6)
    H.assert_error("nn.functional.max_pool2d: kernel_size must be a positive integer or a table of two, got {1, 2, 3}",
      F.max_pool2d, x, {1, 2, 3})
    H.assert_error("nn.functional.max_pool2d: unknown option 'kernel' (did you mean 'kernel_size'?)",
      F.max_pool2d, x, {kernel = 2})
    H.assert_error("nn.functional.avg_pool2d: needs a float tensor, got int64",
      F.avg_pool2d, lucid.zeros(1, 2, 4, 4, {dtype = "int64"}), 2)
    H.assert_error("nn.functional.avg_pool2d: divisor_override must not be 0", F.avg_pool2d, x, 2,
      {divisor_override = 0})
    H.assert_error("nn.MaxPool2d: stride must be a positive integer or a table of two, got 0",
      nn.MaxPool2d, 2, 0)
    H.assert_error("nn.AdaptiveAvgPool2d: output_size must be a non-negative integer or a table of two",
      nn.AdaptiveAvgPool2d, -1)
  end)

  it("check max_unpool2d's indices", function()
    local p, i = F.max_pool2d(x, 2, {return_indices = true})
    H.assert_error("nn.functional.max_unpool2d: indices must be an int64 tensor, got float32",
      F.max_unpool2d, p, i:float(), 2)
    H.assert_error("nn.functional.max_unpool2d: indices {1, 2, 1, 1} must have the input's shape {1, 2, 2, 2}",
      F.max_unpool2d, p, i:narrow(3, 1, 1):narrow(4, 1, 1), 2)
    H.assert_error("nn.functional.max_unpool2d: found an invalid index 25 (1-based) for an output plane of 16 elements (4x4)",
      F.max_unpool2d, p, i * 0 + 25, 2)
  end)
end)
