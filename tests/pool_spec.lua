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
  if c.other then  -- grid_sample(input, grid)
    local o = H.tensor(c.other, {dtype = dtype, requires_grad = true})
    local y = F[c.fn](x, o, c.opts)
    y:backward(H.tensor(c.seed, {dtype = dtype}))
    return y, nil, x, o
  end
  local y, idx = F[c.fn](x, c.opts)
  y:backward(H.tensor(c.seed, {dtype = dtype}))
  return y, idx, x
end

describe("pooling and resampling against PyTorch", function()
  for _, c in ipairs(fixtures.functional) do
    for _, dtype in ipairs({"float64", "float32"}) do
      it(c.name .. " (" .. dtype .. ")", function()
        local tol = TOL[dtype]
        local y, idx, x, other = run_case(c, dtype)
        local out, grad, grad2 = c.output, c.grad, c.grad_other
        if dtype == "float32" then out, grad, grad2 = c.output32, c.grad32, c.grad_other32 end
        if other and c.opts.mode == "nearest" then
          -- PyTorch's zeros, ours none: nearest sampling does not depend on the grid
          assert.is_nil(other.grad)
          H.assert_close(lucid.zeros(grad2.shape, {dtype = "float64"}), grad2, 0, 0, c.name)
        elseif other then
          H.assert_close(other.grad, grad2, tol[1], tol[2], c.name .. ": grad of grid")
        end
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
    assert.are.equal("NativeBatchNormBackward", F.batch_norm(x, nil, nil, nil, nil, true).grad_fn)
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

-- Builds, loads and runs a layer case in dtype; checks outputs, gradients
-- of the input and parameters, and the buffers after the last step.
local function check_layer(c, dtype)
  local tol = TOL[dtype]
  local f32 = dtype == "float32"
  local layer = nn[c.layer](c.args):to(dtype)
  local sd = {}
  for name, t in pairs(c.params) do
    sd[name] = H.tensor(t, {dtype = name == "num_batches_tracked" and "int64" or dtype})
  end
  layer:load_state_dict(sd)
  if c.eval then layer:eval() end
  local x = H.tensor(c.input, {dtype = dtype, requires_grad = true})
  for _ = 1, c.steps - 1 do layer(x) end
  local y = layer(x)
  H.assert_close(y, f32 and c.output32 or c.output, tol[1], tol[2], c.name .. ": output")
  y:backward(H.tensor(c.seed, {dtype = dtype}))
  local grads = f32 and c.grads32 or c.grads
  H.assert_close(x.grad, grads.input, tol[1], tol[2], c.name .. ": grad of input")
  local n = 0
  for name, p in layer:named_parameters() do
    n = n + 1
    assert.are.equal(dtype, p.grad.dtype)
    H.assert_close(p.grad, grads.params[name], tol[1], tol[2], c.name .. ": grad of " .. name)
  end
  local want = 0
  for _ in pairs(grads.params) do want = want + 1 end
  assert.are.equal(want, n, c.name .. ": parameters")
  for name, t in pairs((f32 and c.state_after32 or c.state_after) or {}) do
    local b = layer:get_buffer(name)
    if name == "num_batches_tracked" then assert.are.equal("int64", b.dtype) end
    H.assert_close(b, t, tol[1], tol[2], c.name .. ": " .. name .. " after")
  end
end

describe("normalisation layers against PyTorch", function()
  for _, c in ipairs(fixtures.layers) do
    for _, dtype in ipairs({"float64", "float32"}) do
      it(c.name .. " (" .. dtype .. ")", function() check_layer(c, dtype) end)
    end
  end
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

describe("resampling", function()
  local m = H.maker()
  H.gradcheck_cases({
    {"interpolate bilinear", function(x) return F.interpolate(x, {size = {4, 5}, mode = "bilinear"}) end,
      {m(1, 2, 3, 3)}},
    {"interpolate nearest", function(x) return F.interpolate(x, {scale_factor = 1.5}) end, {m(1, 2, 3, 3)}},
    {"interpolate linear align_corners", function(x)
      return F.interpolate(x, 7, {mode = "linear", align_corners = true})
    end, {m(2, 2, 4)}},
    {"affine_grid", function(t) return F.affine_grid(t, {2, 1, 3, 2}) end, {m(2, 2, 3)}},
    {"grid_sample bilinear zeros", function(x, g) return F.grid_sample(x, g) end,
      {m(1, 2, 3, 4), H.maker(function(v) return v * 0.7 end)(1, 2, 3, 2)}},
    {"grid_sample bilinear reflection align_corners", function(x, g)
      return F.grid_sample(x, g, {padding_mode = "reflection", align_corners = true})
    end, {m(1, 1, 3, 4), H.maker(function(v) return v * 0.9 end)(1, 2, 2, 2)}},
  }, 99)

  it("interpolate's area mode is an adaptive average pool to the size, as PyTorch's", function()
    local x = lucid.arange(16, {dtype = "float64"}):reshape(1, 1, 4, 4)
    assert.are.same({{{{2.5, 4.5}, {10.5, 12.5}}}}, F.interpolate(x, {size = {2, 2}, mode = "area"}):tolist())
    local y = lucid.randn({2, 3, 7}, {dtype = "float64"})
    H.assert_close(F.interpolate(y, {scale_factor = 0.5, mode = "area"}), F.adaptive_avg_pool1d(y, 3), 0, 0)
    H.assert_error("nn.functional.interpolate: align_corners can only be set with the interpolating modes",
      F.interpolate, x, {size = 2, mode = "area", align_corners = true})
    H.assert_error("nn.functional.interpolate: mode 'bicubic' is not supported (nearest, linear, bilinear, area)",
      F.interpolate, x, {size = 2, mode = "bicubic"})
  end)

  it("Upsample calls interpolate and prints its options", function()
    local x = lucid.randn(1, 2, 3, 4, {dtype = "float64"})
    H.assert_close(nn.Upsample{scale_factor = 2, mode = "bilinear", align_corners = true}(x),
      F.interpolate(x, nil, 2, "bilinear", true), 0, 0)
    H.assert_close(nn.Upsample({5, 6})(x), F.interpolate(x, {5, 6}), 0, 0)
    assert.are.equal("Upsample(scale_factor=2, mode=bilinear)", tostring(nn.Upsample(nil, 2, "bilinear")))
    assert.are.equal("Upsample(size=(5, 6), mode=nearest)", tostring(nn.Upsample({5, 6})))
    H.assert_close(nn.UpsamplingBilinear2d(nil, 2)(x), F.interpolate(x, nil, 2, "bilinear", true), 0, 0)
    H.assert_close(nn.UpsamplingNearest2d({4, 5})(x), F.interpolate(x, {4, 5}), 0, 0)
    assert.are.equal("UpsamplingBilinear2d(scale_factor=2, mode=bilinear)", tostring(nn.UpsamplingBilinear2d{scale_factor = 2}))
    assert.are.equal("Upsample2DBackward", F.interpolate(x:clone():requires_grad_(), 2).grad_fn)
  end)

  it("names the function and the problem in errors", function()
    local x = lucid.randn(1, 2, 3, 4)
    H.assert_error("nn.functional.interpolate: either size or scale_factor should be given", F.interpolate, x)
    H.assert_error("nn.functional.interpolate: only one of size and scale_factor should be given",
      F.interpolate, x, 2, 2)
    H.assert_error("nn.functional.interpolate: got a 4-d input, but linear mode needs a 3-d one",
      F.interpolate, x, 2, {mode = "linear"})
    H.assert_error("nn.functional.interpolate: mode 'bicubic' is not supported (nearest, linear, bilinear, area)",
      F.interpolate, x, 2, {mode = "bicubic"})
    H.assert_error("nn.functional.interpolate: align_corners can only be set with the interpolating modes",
      F.interpolate, x, 2, {align_corners = false})
    H.assert_error("nn.functional.interpolate: size must have 2 elements for a 4-d input, got 3",
      F.interpolate, x, {1, 2, 3})
    H.assert_error("nn.functional.interpolate: antialias = true is not supported", F.interpolate, x, 2, {antialias = true})
    H.assert_error("nn.functional.affine_grid: theta {1, 3, 3} must be {N, 2, 3} with N = 1",
      F.affine_grid, lucid.randn(1, 3, 3), {1, 1, 2, 2})
    H.assert_error("nn.functional.grid_sample: grid {2, 3, 3, 2} must be {N, Ho, Wo, 2} with the input's N (input {1, 2, 3, 4})",
      F.grid_sample, x, lucid.randn(2, 3, 3, 2))
    H.assert_error("nn.functional.grid_sample: mode must be 'bilinear', 'nearest' or 'bicubic', got 'cubic'", F.grid_sample, x, lucid.randn(1, 3, 3, 2),
      {mode = "cubic"})
  end)
end)

describe("normalisation by finite differences", function()
  local m = H.maker()
  local function vec(n) return m(n) end
  H.gradcheck_cases({
    {"batch_norm training", function(x, w, b) return F.batch_norm(x, nil, nil, w, b, true) end,
      {m(3, 2, 2, 2), vec(2), vec(2)}},
    {"batch_norm eval", function(x, w, b)
      return F.batch_norm(x, lucid.tensor({0.3, -0.2}, {dtype = "float64"}),
        lucid.tensor({1.5, 0.7}, {dtype = "float64"}), w, b)
    end, {m(3, 2, 2), vec(2), vec(2)}},
    {"group_norm", function(x, w, b) return F.group_norm(x, 2, w, b) end, {m(2, 4, 3), vec(4), vec(4)}},
    {"instance_norm", function(x, w, b) return F.instance_norm(x, {weight = w, bias = b}) end,
      {m(2, 2, 2, 3), vec(2), vec(2)}},
    {"local_response_norm", function(x) return F.local_response_norm(x, 3, 0.1, 0.75, 1) end,
      {m(2, 4, 2, 2)}},
  }, 777)
end)

describe("normalisation layers", function()
  it("match their functional forms", function()
    local x = lucid.randn(3, 4, 2, 3, {dtype = "float64"})
    local bn = nn.BatchNorm2d(4):double()
    local rm, rv = lucid.zeros(4, {dtype = "float64"}), lucid.ones(4, {dtype = "float64"})
    H.assert_close(bn(x), F.batch_norm(x, rm, rv, bn.weight, bn.bias, true), 1e-12, 1e-12)
    H.assert_close(bn.running_mean, rm, 0, 0)
    H.assert_close(bn.running_var, rv, 0, 0)
    bn:eval()
    H.assert_close(bn(x), F.batch_norm(x, rm, rv, bn.weight, bn.bias), 1e-12, 1e-12)
    local gn = nn.GroupNorm(2, 4):double()
    H.assert_close(gn(x), F.group_norm(x, 2, gn.weight, gn.bias), 0, 0)
    H.assert_close(nn.InstanceNorm2d(4)(x), F.instance_norm(x), 0, 0)
    H.assert_close(nn.LocalResponseNorm(3)(x), F.local_response_norm(x, 3), 0, 0)
  end)

  it("keep PyTorch's state-dict keys", function()
    local function keys(m)
      local out = {}
      for k in pairs(m:state_dict()) do out[#out + 1] = k end
      table.sort(out)
      return out
    end
    assert.are.same({"bias", "num_batches_tracked", "running_mean", "running_var", "weight"},
      keys(nn.BatchNorm2d(3)))
    assert.are.same({}, keys(nn.InstanceNorm2d(3)))
    assert.are.same({"bias", "num_batches_tracked", "running_mean", "running_var", "weight"},
      keys(nn.InstanceNorm2d(3, {affine = true, track_running_stats = true})))
    assert.are.same({"bias", "weight"}, keys(nn.GroupNorm(1, 3)))
    assert.are.same({}, keys(nn.GroupNorm(1, 3, {affine = false})))
    assert.are.same({}, keys(nn.LocalResponseNorm(2)))
  end)

  it("print as PyTorch", function()
    assert.are.equal("BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)",
      tostring(nn.BatchNorm2d(3)))
    assert.are.equal("InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=false, track_running_stats=false)",
      tostring(nn.InstanceNorm2d(3)))
    assert.are.equal("GroupNorm(2, 4, eps=1e-05, affine=true)", tostring(nn.GroupNorm(2, 4)))
    assert.are.equal("LocalResponseNorm(3, alpha=0.0001, beta=0.75, k=2)",
      tostring(nn.LocalResponseNorm(3, {k = 2})))
  end)

  it("leave the running statistics alone after a failed call", function()
    local bn = nn.BatchNorm2d(2)
    H.assert_error("nn.BatchNorm2d: expected more than 1 value per channel when training, got input {1, 2, 1, 1}",
      bn, lucid.randn(1, 2, 1, 1))
    assert.are.equal(0, bn.num_batches_tracked:item())
  end)

  it("take an empty batch or 0 channels (a reshape could not infer the rest of the shape)", function()
    local x = lucid.randn({0, 4, 3}, {requires_grad = true})
    local y = F.group_norm(x, 2)
    assert.are.same({0, 4, 3}, y.shape)
    y:sum():backward()
    assert.are.same({0, 4, 3}, x.grad.shape)
    assert.are.same({0, 2, 3, 3}, F.instance_norm(lucid.randn(0, 2, 3, 3)).shape)
    assert.are.same({2, 0, 4}, F.local_response_norm(lucid.randn(2, 0, 4), 3).shape)
    assert.are.same({0, 3, 4}, F.local_response_norm(lucid.randn(0, 3, 4), 3).shape)
    H.assert_error("nn.functional.fold: input {2, 0, 9}: its C kh kw dim must not be 0", F.fold,
      lucid.randn(2, 0, 9), {4, 4}, 2)
  end)

  it("name the layer and the shapes in errors", function()
    H.assert_error("nn.BatchNorm2d: expected 4-d input {N, C, H, W}, got {2, 3}", nn.BatchNorm2d(3),
      lucid.randn(2, 3))
    H.assert_error("nn.BatchNorm2d: input {2, 4, 2, 2} has 4 channels in dim 2, expected 3 (num_features)",
      nn.BatchNorm2d(3), lucid.randn(2, 4, 2, 2))
    H.assert_error("nn.GroupNorm: num_channels (5) must be divisible by num_groups (2)", nn.GroupNorm, 2, 5)
    H.assert_error("nn.GroupNorm: expected an input {N, 4, ...} (num_channels in dim 2), got {2, 3, 5}",
      nn.GroupNorm(2, 4), lucid.randn(2, 3, 5))
    H.assert_error("nn.InstanceNorm2d: expected 3-d or 4-d input {C, H, W} or {N, C, H, W}, got {2, 3}",
      nn.InstanceNorm2d(3), lucid.randn(2, 3))
    H.assert_error("nn.InstanceNorm2d: input {2, 4, 2, 2} has 4 channels, expected 3 (num_features)",
      nn.InstanceNorm2d(3, {affine = true}), lucid.randn(2, 4, 2, 2))
    H.assert_error("nn.InstanceNorm2d: momentum must be a number, got false", nn.InstanceNorm2d, 3,
      {momentum = false})
    H.assert_error("nn.functional.group_norm: input {2, 3, 4} has 3 channels, not divisible by num_groups (2)",
      F.group_norm, lucid.randn(2, 3, 4), 2)
    H.assert_error("nn.functional.batch_norm: weight {3} must have shape {2} (the input's channels)",
      F.batch_norm, lucid.randn(3, 2), nil, nil, lucid.ones(3), nil, true)
    H.assert_error("nn.functional.batch_norm: running_mean and running_var are needed when not training",
      F.batch_norm, lucid.randn(3, 2))
    H.assert_error("nn.LocalResponseNorm: size must be a positive integer", nn.LocalResponseNorm, 0)
  end)
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
    -- output_size as the whole shape, as PyTorch takes it
    H.assert_close(F.max_unpool1d(p1, pi1, 2, {output_size = {2, 21, 7}}), F.max_unpool1d(p1, pi1, 2, {output_size = {7}}), 0, 0)
    assert.are.same({2, 21, 7}, F.max_unpool1d(p1, pi1, 2, {output_size = {2, 21, 7}}).shape)
    H.assert_close(F.max_unpool2d(p, pi, 2, {output_size = {2, 3, 7, 6}}), u, 0, 0)
    -- output_size positionally, and by name after every positional option
    H.assert_close(F.max_unpool2d(p, pi, 2, 2, 0, {7, 6}), u, 0, 0)
    H.assert_close(F.max_unpool2d(p, pi, 2, 2, 0, {output_size = {7, 6}}), u, 0, 0)
    H.assert_error("nn.functional.max_unpool2d: output_size must have 2 or 4 elements, got 3",
      F.max_unpool2d, p, pi, 2, {output_size = {3, 7, 6}})
  end)

  it("print their options as PyTorch", function()
    assert.are.equal("MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, return_indices=false, ceil_mode=false)",
      tostring(nn.MaxPool2d(2)))
    assert.are.equal("AvgPool2d(kernel_size=(3, 2), stride=1, padding=0, ceil_mode=false, count_include_pad=true)",
      tostring(nn.AvgPool2d({3, 2}, 1)))
    assert.are.equal("AdaptiveAvgPool2d(output_size=(5, 7))", tostring(nn.AdaptiveAvgPool2d({5, 7})))
  end)

  it("max pool a window wholly in the padding to -inf, index 0, no gradient (as PyTorch's values)", function()
    -- dilation 3 over {-1, 2} skips both elements of a length-2 row (fuzz_ops found
    -- the backward writing at the index of the missing element, past the buffer)
    local x = lucid.tensor({{1, 2}, {3, 4}}, {requires_grad = true, dtype = "float64"})
    local y, i = nn.functional.max_pool1d(x, 2, {stride = 1, padding = 1, dilation = 3, return_indices = true})
    assert.are.same({{-math.huge}, {-math.huge}}, y:tolist())
    assert.are.same({{0}, {0}}, i:tolist())
    y:sum():backward()
    assert.are.same({{0, 0}, {0, 0}}, x.grad:tolist())
    local x2 = lucid.randn({1, 1, 2, 3}, {requires_grad = true, dtype = "float64"})
    local g = lucid.autograd.grad(nn.functional.max_pool2d(x2, 2, {padding = 1, dilation = 3}):sum(), {x2},
      {create_graph = true})
    assert.are.equal(0, g:abs():sum():item())
  end)

  it("refuse an empty plane that padding would turn into windows, as PyTorch", function()
    -- (fuzz_ops: the kernels did arithmetic on the data of an empty tensor)
    H.assert_error("nn.functional.avg_pool1d: input {2, 2, 1, 0} has an empty plane", nn.functional.avg_pool1d,
      lucid.zeros(2, 2, 0), 2, {padding = 1})
    H.assert_error("has an empty plane", nn.functional.max_pool2d, lucid.zeros(1, 1, 0, 3), 2, {padding = 1})
    assert.are.same({0, 2, 1, 1}, nn.functional.max_pool2d(lucid.zeros(0, 2, 3, 3), 2).shape)
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
