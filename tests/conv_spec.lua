-- Convolution, padding, unfold and fold (core/conv.c, lucid/nn/_conv.lua and
-- the layers): PyTorch fixtures (tests/fixtures/conv.lua, made by
-- scripts/gen_fixtures_conv.py) in float64 and float32, finite-difference
-- gradchecks in float64 (second derivatives too), and the error messages.
local lucid = require("lucid")
local nn = require("lucid.nn")
local F = require("lucid.nn.functional")
local H = dofile("tests/helpers.lua")

local FX = dofile("tests/fixtures/conv.lua")
local unpack = H.unpack

-- float64 to 1e-10; float32 against the same float64 values at its precision
local TOL = {float64 = {1e-10, 1e-10}, float32 = {2e-5, 2e-5}}

local function leaves(list, dtype)
  local out = {}
  for i, t in ipairs(list) do out[i] = H.tensor(t, {dtype = dtype, requires_grad = true}) end
  return out
end

describe("nn.functional convolutions against PyTorch", function()
  for _, dtype in ipairs({"float64", "float32"}) do
    for _, c in ipairs(FX.ops) do
      it(c.name .. " (" .. dtype .. ")", function()
        local inputs = leaves(c.inputs, dtype)
        local call = {unpack(inputs)}
        call[#call + 1] = c.opts
        local y = F[c.fn](unpack(call, 1, #call))
        assert.are.equal(dtype, y.dtype)
        local rtol, atol = TOL[dtype][1], TOL[dtype][2]
        H.assert_close(y, c.output, rtol, atol, c.name .. ": output")
        y:backward(H.tensor(c.seed, {dtype = dtype}))
        H.assert_grads(inputs, c.grads, rtol, atol, c.name, dtype)
      end)
    end
  end
end)

describe("convolution and padding layers against PyTorch", function()
  for _, dtype in ipairs({"float64", "float32"}) do
    for _, c in ipairs(FX.modules) do
      it(c.name .. " (" .. dtype .. ")", function()
        local ctor = {}
        for k, v in pairs(c.ctor) do ctor[k] = v end
        if c.params.weight then ctor.dtype = dtype end
        local m = nn[c.module](ctor)
        local sd = {}
        for name, t in pairs(c.params) do sd[name] = H.tensor(t, {dtype = dtype}) end
        m:load_state_dict(sd)
        local x = H.tensor(c.input, {dtype = dtype, requires_grad = true})
        local y = m(x)
        local rtol, atol = TOL[dtype][1], TOL[dtype][2]
        H.assert_close(y, c.output, rtol, atol, c.name .. ": output")
        y:backward(H.tensor(c.seed, {dtype = dtype}))
        H.assert_close(x.grad, c.grads.input, rtol, atol, c.name .. ": grad of input")
        for name, p in m:named_parameters() do
          H.assert_close(p.grad, c.grads[name], rtol, atol, c.name .. ": grad of " .. name)
        end
      end)
    end
  end
end)

describe("convolution gradients by finite differences (float64)", function()
  local function leaf(...) return H.randn_leaf({...}) end
  local cases = {
    {"conv2d stride, padding, dilation, groups", function()
      return {leaf(2, 4, 6, 5), leaf(4, 2, 3, 2), leaf(4)}
    end, function(x, w, b) return F.conv2d(x, w, b, {2, 1}, {1, 2}, {1, 2}, 2) end},
    {"conv2d same, even kernel", function()
      return {leaf(1, 2, 5, 4), leaf(3, 2, 2, 3)}
    end, function(x, w) return F.conv2d(x, w, nil, {padding = "same"}) end},
    {"conv2d and conv_transpose2d 1x1 (no im2col)", function()
      return {leaf(2, 4, 3, 2), leaf(6, 2, 1, 1), leaf(6, 3, 1, 1)}
    end, function(x, w, wt)
      return F.conv_transpose2d(F.conv2d(x, w, nil, {groups = 2}), wt, nil, {groups = 2})
    end},
    {"conv1d", function() return {leaf(2, 3, 7), leaf(2, 3, 3), leaf(2)} end,
      function(x, w, b) return F.conv1d(x, w, b, 2, 1) end},
    {"conv_transpose2d", function()
      return {leaf(2, 4, 3, 3), leaf(4, 1, 3, 2), leaf(2)}
    end, function(x, w, b)
      return F.conv_transpose2d(x, w, b, {stride = 2, padding = 1, output_padding = {1, 0}, groups = 2})
    end},
    {"pad reflect and circular", function() return {leaf(1, 2, 4, 5)} end,
      function(x) return F.pad(F.pad(x, {1, 2, 2, 1}, "reflect"), {1, 1, 0, 2}, "circular") end},
    {"fold of unfold", function() return {leaf(1, 2, 5, 4)} end, function(x)
      local cols = F.unfold(x, {2, 3}, 1, 1, {2, 1})
      return F.fold(cols * cols, {5, 4}, {2, 3}, 1, 1, {2, 1})
    end},
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      lucid.manual_seed(42)
      H.assert_gradcheck(c[3], c[2]())
    end)
  end

  it("differentiates conv2d's and conv_transpose2d's gradients again (create_graph)", function()
    lucid.manual_seed(7)
    local ag = lucid.autograd
    assert.is_true(ag.gradgradcheck(function(x, w, b)
      return F.conv2d(x, w, b, {stride = 2, padding = 1, groups = 2})
    end, {leaf(1, 4, 5, 5), leaf(2, 2, 3, 3), leaf(2)}))
    assert.is_true(ag.gradgradcheck(function(x, w, b)
      return F.conv_transpose2d(x, w, b, {stride = 2, output_padding = 1, dilation = {1, 2}})
    end, {leaf(1, 2, 3, 3), leaf(2, 3, 2, 2), leaf(3)}))
  end)
end)

describe("convolution layers", function()
  it("initialise as PyTorch: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), keys weight and bias", function()
    lucid.manual_seed(1)
    local conv = nn.Conv2d(4, 8, {3, 5}, {groups = 2})
    assert.are.same({8, 2, 3, 5}, conv.weight.shape)
    assert.are.same({8}, conv.bias.shape)
    local bound = 1 / math.sqrt(2 * 3 * 5)
    assert.is_true(conv.weight:abs():max():item() <= bound)
    assert.is_true(conv.bias:abs():max():item() <= bound)
    assert.is_true(conv.weight:abs():max():item() > bound * 0.8)
    local keys = {}
    for k in pairs(conv:state_dict()) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.are.same({"bias", "weight"}, keys)
    local t = nn.ConvTranspose2d(4, 6, 3, {groups = 2, bias = false})
    assert.are.same({4, 3, 3, 3}, t.weight.shape)
    assert.is_nil(t.bias)
    assert.is_true(t.weight:abs():max():item() <= 1 / math.sqrt(27))
    assert.are.equal("float64", nn.Conv1d(2, 3, 2, {dtype = "float64"}).weight.dtype)
  end)

  it("take their options positionally, in a trailing table or as one table", function()
    local a = nn.Conv2d(3, 4, 3, 2, 1, 1, 1, false, "reflect")
    local b = nn.Conv2d(3, 4, 3, {stride = 2, padding = 1, bias = false, padding_mode = "reflect"})
    local c = nn.Conv2d{in_channels = 3, out_channels = 4, kernel_size = 3, stride = 2, padding = 1,
      bias = false, padding_mode = "reflect"}
    for _, m in ipairs({a, b, c}) do
      assert.are.equal("Conv2d(3, 4, kernel_size={3, 3}, stride={2, 2}, padding={1, 1}, bias=false, "
        .. "padding_mode=reflect)", tostring(m))
    end
    assert.are.equal("ConvTranspose2d(2, 2, kernel_size={3, 3}, stride={2, 2}, output_padding={1, 1})",
      tostring(nn.ConvTranspose2d(2, 2, 3, 2, 0, 1)))
    assert.are.equal("ReflectionPad2d({1, 1, 1, 1})", tostring(nn.ReflectionPad2d(1)))
    assert.are.equal("ZeroPad2d(padding={1, 2, 0, 0}, value=0.0)", tostring(nn.ZeroPad2d({1, 2, 0, 0})))
    assert.are.equal("ConstantPad1d(padding={2, 2}, value=2.5)", tostring(nn.ConstantPad1d(2, 2.5)))
    assert.are.equal("Unfold(kernel_size={2, 2}, dilation={1, 1}, padding={0, 0}, stride={1, 1})",
      tostring(nn.Unfold(2)))
  end)

  it("reach output_size in ConvTranspose2d:forward(x, output_size)", function()
    local t = nn.ConvTranspose2d(2, 3, 3, {stride = 2, padding = 1})
    local x = lucid.randn(1, 2, 4, 4)
    assert.are.same({1, 3, 7, 7}, t(x).shape)
    assert.are.same({1, 3, 8, 7}, t(x, {8, 7}).shape)
    H.assert_error("nn.ConvTranspose2d: output_size {9, 7} cannot be reached", function() return t(x, {9, 7}) end)
    H.assert_error("nn.ConvTranspose2d: output_size must be a table of 2 (or 3, 4) integers, got 8",
      function() return t(x, 8) end)
    H.assert_error("nn.ConvTranspose2d: expected a tensor as input, got number", function() return t(3, {8, 7}) end)
  end)

  it("reuse their output buffer under reuse_buffers, allocating no tensor memory", function()
    lucid.manual_seed(5)
    local m = nn.Sequential(nn.Conv2d(3, 4, 3, {padding = 1}), nn.ReLU(), nn.Conv2d(4, 2, 3, {padding = "same",
      groups = 2}), nn.Conv2d(2, 2, 2, {padding = "same"}))
    local x = lucid.randn(2, 3, 6, 5)
    local expected = m(x)
    m:reuse_buffers()
    local g = lucid.no_grad()
    local x4 = lucid.randn(2, 4, 6, 5)
    local a, b = m[1](x), m[3](x4)
    local same = rawequal(a, m[1](x)) and rawequal(b, m[3](x4))
    local y = m(x)
    collectgarbage("collect")
    local before = lucid.memory_allocated()
    for _ = 1, 20 do m[1](x) m[3](x4) end
    local growth = lucid.memory_allocated() - before
    local other = m(lucid.randn(1, 3, 4, 4))  -- another shape: a new buffer
    H.close(g)
    assert.is_true(same)
    assert.are.equal(0, growth)
    H.assert_close(y, expected, 1e-6, 1e-6, "reused")
    assert.are.same({1, 2, 4, 4}, other.shape)
    local z = m(x)  -- recording on: as usual
    assert.is_true(z.requires_grad)
  end)

  it("train a small convnet end to end", function()
    lucid.manual_seed(3)
    local model = nn.Sequential(nn.Conv2d(1, 4, 3, {padding = 1}), nn.ReLU(), nn.Conv2d(4, 2, 3, 2),
      nn.Flatten(), nn.Linear(2 * 3 * 3, 1))
    local x, target = lucid.randn(8, 1, 7, 7), lucid.randn(8, 1)
    local opt = require("lucid.optim").SGD(model:parameters(), {lr = 0.05})
    local first, last
    for step = 1, 30 do
      opt:zero_grad()
      local loss = F.mse_loss(model(x), target)
      loss:backward()
      opt:step()
      if step == 1 then first = loss:item() end
      last = loss:item()
    end
    assert.is_true(last < first * 0.7, string.format("loss %g -> %g", first, last))
  end)
end)

describe("convolution errors", function()
  local x, w = lucid.randn(1, 4, 5, 5), lucid.randn(8, 3, 3, 3)

  it("name the function, the shapes and the channels", function()
    H.assert_error("nn.functional.conv2d: input {1, 4, 5, 5} has 4 channels, weight {8, 3, 3, 3} with "
      .. "groups 1 expects 3", F.conv2d, x, w)
    H.assert_error("nn.functional.conv2d: expected a 3-d (unbatched) or 4-d (batched) input, got {4, 5}",
      F.conv2d, lucid.randn(4, 5), w)
    H.assert_error("nn.functional.conv2d: weight {8, 3, 3} must be 4-d", F.conv2d, x, lucid.randn(8, 3, 3))
    H.assert_error("nn.functional.conv2d: input {1, 3, 2, 2} (padded by {0, 0}) is smaller than the kernel of "
      .. "weight {8, 3, 3, 3}", F.conv2d, lucid.randn(1, 3, 2, 2), w)
    H.assert_error("nn.functional.conv2d: bias {4} must have shape {8}", F.conv2d, lucid.randn(1, 3, 5, 5), w,
      lucid.randn(4))
    H.assert_error("nn.functional.conv2d: weight {3, 2, 3, 3}: out_channels 3 must be divisible by groups 2",
      F.conv2d, x, lucid.randn(3, 2, 3, 3), nil, {groups = 2})
    H.assert_error("nn.functional.conv2d: input, weight and bias must share a dtype, got float32, float64",
      F.conv2d, lucid.randn(1, 3, 5, 5), lucid.randn({8, 3, 3, 3}, {dtype = "float64"}))
    H.assert_error("nn.functional.conv_transpose2d: input {1, 4, 5, 5} has 4 channels, weight {8, 3, 3, 3} "
      .. "expects 8", F.conv_transpose2d, x, w)
    H.assert_error("nn.functional.conv_transpose2d: output_padding {2, 2} must be smaller than either stride "
      .. "{2, 2} or dilation {1, 1}", F.conv_transpose2d, lucid.randn(1, 8, 2, 2), w, nil, 2, 0, 2)
  end)

  it("refuse empty images as PyTorch, and take empty batches", function()
    H.assert_error("nn.functional.conv2d: input {1, 1, 3, 0}: only the batch and channel dims may be 0",
      F.conv2d, lucid.randn(1, 1, 3, 0), lucid.randn(1, 1, 1, 1), nil, {padding = 1})
    H.assert_error("nn.functional.unfold: input {1, 1, 3, 0}: only the batch dim may be 0", F.unfold,
      lucid.randn(1, 1, 3, 0), 1, {padding = 1})
    local empty = lucid.randn({0, 3, 5, 5}, {requires_grad = true})
    local conv = nn.Conv2d(3, 2, 3)
    local y = conv(empty)
    assert.are.same({0, 2, 3, 3}, y.shape)
    y:sum():backward()
    assert.are.same({0, 3, 5, 5}, empty.grad.shape)
    assert.are.equal(0, conv.weight.grad:abs():sum():item())
  end)

  it("take 0 channels in or out, as PyTorch (an empty sum: the bias alone)", function()
    -- (fuzz_ops found pointer arithmetic on the data of an empty tensor here)
    for _, pointwise in ipairs({1, 2}) do
      local empty = lucid.randn({2, 0, 3}, {requires_grad = true})
      local weight = lucid.randn({3, 0, pointwise}, {requires_grad = true})
      local b = lucid.tensor({1, 2, 3}, {requires_grad = true})
      local y = F.conv1d(empty, weight, b)
      assert.are.same({2, 3, 4 - pointwise}, y.shape)
      assert.are.same({1, 2, 3}, y[{1, {}, 1}]:tolist())
      y:sum():backward()
      assert.are.same({2, 0, 3}, empty.grad.shape)
      assert.are.same({3, 0, pointwise}, weight.grad.shape)
      assert.are.same({2 * (4 - pointwise), 2 * (4 - pointwise), 2 * (4 - pointwise)}, b.grad:tolist())
    end
    local t = F.conv_transpose1d(lucid.randn({2, 3, 3}, {requires_grad = true}), lucid.randn(3, 0, 2))
    assert.are.same({2, 0, 4}, t.shape)
    local none = F.conv_transpose1d(lucid.randn(2, 0, 3), lucid.randn(0, 2, 2), lucid.ones(2))
    assert.are.same({2, 2, 4}, none.shape)
    assert.are.equal(16, none:sum():item())
  end)

  it("check the options", function()
    H.assert_error("nn.functional.conv2d: unknown option 'strides' (did you mean 'stride'?)", F.conv2d, x, w,
      {strides = 2})
    H.assert_error("nn.functional.conv2d: stride must be a positive integer or a table of 2 of them, got {1, 0}",
      F.conv2d, x, w, nil, {1, 0})
    H.assert_error("nn.functional.conv2d: padding must be a non-negative integer or a table of 2 of them, "
      .. "'same' or 'valid', got 'full'", F.conv2d, x, w, nil, 1, "full")
    H.assert_error("nn.functional.conv2d: padding 'same' needs stride 1, got stride {2, 2}", F.conv2d,
      lucid.randn(1, 3, 5, 5), w, nil, 2, "same")
    H.assert_error("nn.functional.conv1d: groups must be a positive integer, got 0", F.conv1d,
      lucid.randn(1, 3, 5), lucid.randn(2, 3, 2), nil, {groups = 0})
    H.assert_error("nn.Conv2d: in_channels (3) must be divisible by groups (2)", nn.Conv2d, 3, 4, 3, {groups = 2})
    H.assert_error("nn.Conv2d: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', got 'mirror'",
      nn.Conv2d, 3, 4, 3, {padding_mode = "mirror"})
    H.assert_error("nn.ConvTranspose2d: only padding_mode 'zeros' is supported, got 'reflect'",
      nn.ConvTranspose2d, 3, 4, 3, {padding_mode = "reflect"})
    H.assert_error("nn.Conv2d: option 'device' is not supported", nn.Conv2d, 3, 4, 3, {device = "cuda"})
  end)

  it("check pad, unfold and fold", function()
    local t = lucid.randn(1, 2, 3)
    H.assert_error("nn.functional.pad: pad must have an even number of entries", F.pad, t, {1, 2, 3})
    H.assert_error("nn.functional.pad: reflect padding {3, 0} must be smaller than dim 3 of input {1, 2, 3}",
      F.pad, t, {3, 0}, "reflect")
    H.assert_error("nn.functional.pad: padding mode 'replicate' with 6 pad entries takes a 4-d or 5-d input, "
      .. "got {1, 2, 3}", F.pad, t, {1, 1, 1, 1, 1, 1}, "replicate")
    H.assert_error("nn.functional.pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', "
      .. "got 'edge'", F.pad, t, {1, 1}, "edge")
    H.assert_error("nn.functional.unfold: expected a 3-d (unbatched) or 4-d (batched) input, got {1, 2}",
      F.unfold, lucid.randn(1, 2), 2)
    H.assert_error("nn.functional.fold: input {1, 8, 5}: dim 3 (5) must be the number of blocks, 2 x 3 for "
      .. "output_size {3, 4}", F.fold, lucid.randn(1, 8, 5), {3, 4}, 2)
    H.assert_error("nn.functional.fold: input {1, 7, 6}: dim 2 (7) must be divisible by the kernel's 4 "
      .. "positions", F.fold, lucid.randn(1, 7, 6), {3, 4}, 2)
  end)

  it("point at the caller's line", function()
    local ok, msg = pcall(F.conv2d, x, w)
    assert.is_false(ok)
    assert.is_truthy(tostring(msg):find("conv_spec.lua", 1, true), msg)
  end)
end)
