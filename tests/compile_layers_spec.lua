-- model:compile(x) over the built-in layers (core replays: conv.c, pool.c,
-- rnn.c, attention.c): each layer in a small model is compiled on one
-- input, then run under no_grad on other inputs of the same shape, and its
-- results compared with the uncompiled model's (bit-identical: the replays
-- run the forwards' own kernels), in float32 and float64, and so are the
-- gradients of a call recorded through the plan; the plan's steps name the
-- layer's op, so it was replayed and not dropped.
local lucid = require("lucid")
local nn = require("lucid.nn")
local C = require("lucid.core")
local H = dofile("tests/helpers.lua")

local unpack = H.unpack

-- The tensors of a result (a tensor or nested tables), in a fixed order,
-- and its structure as a string ("T" for a tensor), so that (out, (h, c))
-- is checked as such.
local function flatten(v, out)
  if C.is_tensor(v) then
    out[#out + 1] = v
    return "T"
  end
  assert.are.equal("table", type(v))
  local parts = {}
  for i = 1, #v do parts[i] = flatten(v[i], out) end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function max_diff(a, b)
  assert.are.same(a.shape, b.shape)
  assert.are.equal(a.dtype, b.dtype)
  if a:numel() == 0 then return 0 end
  local d = 0
  local fa, fb = H.flat(a:double()), H.flat(b:double())
  for i = 1, #fa do
    local e = math.abs(fa[i] - fb[i])
    if e ~= e then return math.huge end
    if e > d then d = e end
  end
  return d
end

local function has_step(steps, name)
  for _, s in ipairs(steps) do
    if s == name then return true end
  end
  return false
end

-- case: make() a module (in the default float32; converted for float64),
-- inputs(dtype) a list of fresh inputs, step: an op the plan must run.
local function check(case)
  for _, dtype in ipairs({"float32", "float64"}) do
    lucid.manual_seed(7)
    local m = case.make()
    if dtype == "float64" then m:double() end
    m:eval()
    local fast = m:compile(unpack(case.inputs(dtype)))
    for _ = 1, 2 do  -- twice: a replay recomputes every time
      local xs = case.inputs(dtype)
      lucid.no_grad(function()
        local got, want = {}, {}
        local gs = flatten(H.pack(fast(unpack(xs))), got)
        local ws = flatten(H.pack(m(unpack(xs))), want)
        assert.are.equal(ws, gs)
        for i = 1, #want do
          local d = max_diff(got[i], want[i])
          assert(d <= (case.tol or 0), string.format("%s (%s): result %d differs by %g", case.name,
            dtype, i, d))
        end
      end)
    end
    -- trained through the plan: one node whose gradients are the model's
    lucid.manual_seed(8)
    H.check_compiled_grads(case.name .. " (" .. dtype .. ")", m, case.inputs(dtype))
    local steps = fast:steps()
    assert(#steps > 0, case.name .. ": no steps")
    assert(has_step(steps, case.step), string.format("%s: no %s step in %s", case.name, case.step,
      table.concat(steps, " ")))
  end
end

-- fresh standard normal inputs of these shapes
local function randn(...)
  local shapes = {...}
  return function(dtype)
    local xs = {}
    for i, s in ipairs(shapes) do xs[i] = lucid.randn(s, {dtype = dtype}) end
    return xs
  end
end

-- A module calling f(self, ...) as its forward.
local function module(f, fields)
  local m = nn.Module()
  for k, v in pairs(fields or {}) do m[k] = v end
  m.forward = f
  return m
end

local function run(cases)
  for _, c in ipairs(cases) do
    it(c.name, function() check(c) end)
  end
end

describe("compiled convolution layers", function()
  run({
    {name = "Conv2d", step = "Convolution", inputs = randn({2, 3, 7, 6}), make = function()
      return nn.Sequential(nn.Conv2d(3, 4, 3, {stride = 2, padding = 1}), nn.Tanh())
    end},
    {name = "Conv2d (groups, dilation, no bias)", step = "Convolution", inputs = randn({1, 4, 8, 8}),
      make = function()
        return nn.Conv2d(4, 6, {3, 2}, {groups = 2, dilation = 2, bias = false})
      end},
    {name = "Conv2d (1x1)", step = "Convolution", inputs = randn({3, 2, 4, 4}), make = function()
      return nn.Conv2d(2, 5, 1)
    end},
    {name = "Conv1d", step = "Convolution", inputs = randn({2, 3, 9}), make = function()
      return nn.Conv1d(3, 2, 3, {padding = 1})
    end},
    {name = "ConvTranspose2d", step = "ConvolutionTranspose", inputs = randn({2, 3, 4, 5}),
      make = function()
        return nn.ConvTranspose2d(3, 2, 3, {stride = 2, padding = 1, output_padding = 1})
      end},
    {name = "ConvTranspose1d", step = "ConvolutionTranspose", inputs = randn({1, 2, 6}),
      make = function()
        return nn.ConvTranspose1d(2, 3, 4, {stride = 2})
      end},
    {name = "Unfold", step = "Im2Col", inputs = randn({2, 2, 5, 5}), make = function()
      return nn.Unfold({2, 3}, {padding = 1, stride = 2})
    end},
    {name = "Fold", step = "Col2Im", inputs = randn({2, 8, 9}), make = function()
      return nn.Fold({4, 4}, 2, {stride = 1})
    end},
    {name = "Conv2d, ConvTranspose2d, Unfold on strided views (copied, not retained)",
      step = "Im2Col", inputs = randn({2, 3, 5, 6}), make = function()
        return module(function(self, x)
          local y = self.ct(self.c(x:transpose(3, 4)):transpose(3, 4))
          return {y, nn.functional.unfold(y:transpose(3, 4), 2)}
        end, {c = nn.Conv2d(3, 4, 3), ct = nn.ConvTranspose2d(4, 2, 2)})
      end},
    {name = "Unfold then Fold", step = "Col2Im", inputs = randn({1, 2, 4, 4}), make = function()
      return nn.Sequential(nn.Unfold(2), nn.Fold({4, 4}, 2))
    end},
  })
end)

describe("compiled pooling, normalisation and resampling layers", function()
  run({
    {name = "MaxPool2d", step = "MaxPool2D", inputs = randn({2, 3, 7, 6}), make = function()
      return nn.MaxPool2d(3, {stride = 2, padding = 1, dilation = 1, ceil_mode = true})
    end},
    {name = "MaxPool2d (dilation)", step = "MaxPool2D", inputs = randn({1, 2, 9, 9}), make = function()
      return nn.MaxPool2d(2, {dilation = 2})
    end},
    {name = "MaxPool1d", step = "MaxPool2D", inputs = randn({2, 3, 9}), make = function()
      return nn.MaxPool1d(3, {stride = 2})
    end},
    {name = "AvgPool2d", step = "AvgPool2D", inputs = randn({2, 3, 7, 6}), make = function()
      return nn.AvgPool2d(3, {stride = 2, padding = 1, count_include_pad = false, ceil_mode = true})
    end},
    {name = "AvgPool2d (divisor_override)", step = "AvgPool2D", inputs = randn({1, 2, 4, 4}),
      make = function()
        return nn.AvgPool2d(2, {divisor_override = 3})
      end},
    {name = "AvgPool1d", step = "AvgPool2D", inputs = randn({2, 3, 8}), make = function()
      return nn.AvgPool1d(2)
    end},
    {name = "pools, batch norm and Upsample on strided views", step = "Upsample2D",
      inputs = randn({2, 3, 6, 5}), make = function()
        local bn = nn.BatchNorm2d(3)
        return module(function(self, x)
          local t = x:transpose(3, 4)
          return {self.mp(t), self.ap(t), self.bn(t), self.up(t)}
        end, {mp = nn.MaxPool2d(2), ap = nn.AvgPool2d(2), bn = bn, up = nn.Upsample({scale_factor = 2})})
      end},
    {name = "AdaptiveAvgPool2d", step = "AvgPool2D", inputs = randn({2, 3, 7, 5}), make = function()
      return nn.AdaptiveAvgPool2d({3, 2})
    end},
    {name = "AdaptiveAvgPool1d", step = "AvgPool2D", inputs = randn({2, 3, 7}), make = function()
      return nn.AdaptiveAvgPool1d(3)
    end},
    {name = "AdaptiveMaxPool2d", step = "MaxPool2D", inputs = randn({2, 3, 7, 5}), make = function()
      return nn.AdaptiveMaxPool2d(3)
    end},
    {name = "AdaptiveMaxPool1d", step = "MaxPool2D", inputs = randn({2, 3, 7}), make = function()
      return nn.AdaptiveMaxPool1d(4)
    end},
    {name = "BatchNorm1d (eval)", step = "NativeBatchNorm", inputs = randn({4, 3}), make = function()
      local m = nn.BatchNorm1d(3)
      lucid.no_grad(function()  -- running statistics other than 0 and 1
        m.running_mean:copy_(lucid.randn({3}))
        m.running_var:copy_(lucid.rand({3}) + 0.5)
        m.weight:copy_(lucid.randn({3}))
      end)
      return m
    end},
    {name = "BatchNorm1d (eval, 3-d, no affine)", step = "NativeBatchNorm", inputs = randn({2, 3, 5}),
      make = function()
        local m = nn.BatchNorm1d(3, {affine = false})
        lucid.no_grad(function() m.running_mean:copy_(lucid.randn({3})) end)
        return m
      end},
    {name = "BatchNorm1d (batch statistics)", step = "NativeBatchNorm", inputs = randn({4, 3}),
      make = function()
        return nn.BatchNorm1d(3, {track_running_stats = false})
      end},
    {name = "BatchNorm2d (eval)", step = "NativeBatchNorm", make = function()
        local m = nn.BatchNorm2d(3)
        lucid.no_grad(function() m.running_var:copy_(lucid.rand({3}) + 0.5) end)
        return nn.Sequential(nn.Conv2d(2, 3, 1), m, nn.ReLU())
      end,
      inputs = randn({2, 2, 4, 4})},
    {name = "InstanceNorm2d", step = "NativeBatchNorm", inputs = randn({2, 3, 4, 5}), make = function()
      return nn.InstanceNorm2d(3, {affine = true})
    end},
    {name = "InstanceNorm2d (eval, running statistics)", step = "NativeBatchNorm",
      inputs = randn({2, 3, 4, 5}), make = function()
        local m = nn.InstanceNorm2d(3, {track_running_stats = true})
        lucid.no_grad(function() m.running_mean:copy_(lucid.randn({3})) end)
        return m
      end},
    {name = "GroupNorm", step = "NativeBatchNorm", inputs = randn({2, 4, 3, 3}), make = function()
      return nn.GroupNorm(2, 4)
    end},
    {name = "Upsample (nearest)", step = "Upsample2D", inputs = randn({1, 2, 3, 4}), make = function()
      return nn.Upsample({scale_factor = 2})
    end},
    {name = "Upsample (bilinear)", step = "Upsample2D", inputs = randn({1, 2, 3, 4}), make = function()
      return nn.Upsample({size = {5, 7}, mode = "bilinear"})
    end},
    {name = "Upsample (bilinear, align_corners)", step = "Upsample2D", inputs = randn({1, 2, 3, 4}),
      make = function()
        return nn.Upsample({scale_factor = 1.5, mode = "bilinear", align_corners = true})
      end},
    {name = "Upsample (linear)", step = "Upsample2D", inputs = randn({2, 3, 5}), make = function()
      return nn.Upsample({scale_factor = 3, mode = "linear"})
    end},
    {name = "UpsamplingNearest2d", step = "Upsample2D", inputs = randn({1, 2, 3, 3}), make = function()
      return nn.UpsamplingNearest2d({size = 5})
    end},
    {name = "UpsamplingBilinear2d", step = "Upsample2D", inputs = randn({1, 2, 3, 3}), make = function()
      return nn.UpsamplingBilinear2d({scale_factor = 2})
    end},
  })

  it("reads batch norm's running statistics in place, as it does parameters", function()
    local m = nn.BatchNorm1d(3):eval()
    local fast = m:compile(lucid.randn({4, 3}))
    lucid.no_grad(function()
      m.running_mean:copy_(lucid.randn({3}))
      m.running_var:copy_(lucid.rand({3}) + 0.5)
      local x = lucid.randn({4, 3})
      assert.are.equal(0, max_diff(fast(x), m(x)))
    end)
  end)

  it("gives x its gradient when running_mean requires grad (the statistics are inputs only "
    .. "while tracing)", function()
    local F = nn.functional
    local x = lucid.randn({4, 3}, {requires_grad = true})
    local rm = lucid.randn({3}, {requires_grad = true})
    F.batch_norm(x, rm, lucid.rand({3}) + 1):sum():backward()
    assert.is_truthy(x.grad)
    assert.is_nil(rm.grad)
  end)

  it("refuses batch norm in training mode, which updates the running statistics", function()
    local m = nn.BatchNorm1d(3)
    H.assert_error("nn.BatchNorm1d: batch_norm in training mode updates running_mean and "
      .. "running_var in place, which a compiled plan would not do again: compile in eval mode "
      .. "(model:eval()), or with track_running_stats = false",
      function() m:compile(lucid.randn({4, 3})) end)
    m:eval()
    assert.is_truthy(m:compile(lucid.randn({4, 3})))
  end)

  it("replays the pools' adjoints (a gradient taken with create_graph in the forward)", function()
    local F = nn.functional
    local m = nn.Module()
    function m:forward(x, v, w)
      local xr = x:detach():requires_grad_()
      local y = F.avg_pool2d(xr, 2, {padding = 1, stride = 1})
      local y2 = F.interpolate(xr, {scale_factor = 2, mode = "bilinear"})
      return lucid.autograd.grad({y, y2}, {xr}, {v, w}, {create_graph = true})[1]
    end
    for _, dtype in ipairs({"float32", "float64"}) do
      local ins = randn({1, 2, 4, 4}, {1, 2, 5, 5}, {1, 2, 8, 8})
      local fast = m:compile(unpack(ins(dtype)))
      local xs = ins(dtype)
      local got = lucid.no_grad(function() return fast(unpack(xs)) end)
      assert.are.equal(0, max_diff(got, m(unpack(xs))))
      assert.are.equal("AvgPool2D Upsample2D Add Select", table.concat(fast:steps(), " "))
    end
  end)

  it("compiles max pool's indices and max unpool, with the model's gradients", function()
    for _, dtype in ipairs({"float32", "float64"}) do
      lucid.manual_seed(12)
      local u = nn.Module()
      u.conv = nn.Conv2d(2, 2, 3, {padding = 1})
      u.pool, u.unpool = nn.MaxPool2d(2, {return_indices = true}), nn.MaxUnpool2d(2)
      function u:forward(x)
        local y, i = self.pool(self.conv(x))
        return self.unpool(y:tanh(), i)
      end
      u:to(dtype)
      local x = lucid.randn({2, 2, 6, 6}, {dtype = dtype})
      local fast = u:compile(x)
      assert.are.equal("Convolution MaxPool2D max_pool2d_indices Add Tanh Sub MaxUnpool2D",
        table.concat(fast:steps(), " "))
      local x2 = lucid.randn({2, 2, 6, 6}, {dtype = dtype})
      assert.is_true(lucid.equal(lucid.no_grad(u, x2), lucid.no_grad(fast, x2)))
      H.check_compiled_grads("unpool " .. dtype, u, {x2})
      -- the pool's indices as a result, and indices given as the plan's input
      local p = nn.MaxPool2d(2, {return_indices = true}):to(dtype)
      local fp = p:compile(x)
      local y1, i1 = lucid.no_grad(p, x2)
      local y2, i2 = lucid.no_grad(fp, x2)
      assert.is_true(lucid.equal(y1, y2) and lucid.equal(i1, i2))
      local un = nn.MaxUnpool2d(2)
      local fu = un:compile(y1, i1)
      assert.is_true(lucid.equal(lucid.no_grad(fu, y1, i1), un(y1, i1)))
      local bad = i1:clone()
      bad[1][1][1][1] = 99
      H.assert_error("max_unpool2d: found an invalid index 99 (1-based) for an output plane of 36 "
        .. "elements (6x6)", function() lucid.no_grad(fu, y1, bad) end)
    end
  end)
end)

describe("compiled shape, activation and other layers", function()
  run({
    {name = "PixelShuffle", step = "Convolution", inputs = randn({1, 2, 3, 3}), make = function()
      return nn.Sequential(nn.Conv2d(2, 8, 1), nn.PixelShuffle(2))
    end},
    {name = "PixelUnshuffle", step = "Convolution", inputs = randn({1, 2, 4, 4}), make = function()
      return nn.Sequential(nn.PixelUnshuffle(2), nn.Conv2d(8, 2, 1))
    end},
    {name = "Flatten and Unflatten", step = "Convolution", inputs = randn({2, 3, 4, 4}), make = function()
      return nn.Sequential(nn.Conv2d(3, 2, 3), nn.Flatten(), nn.Linear(8, 6), nn.Unflatten(2, {2, 3}))
    end},
    {name = "Dropout (eval) and Identity", step = "Convolution", inputs = randn({2, 3, 4, 4}),
      make = function()
        return nn.Sequential(nn.Conv2d(3, 2, 1), nn.Dropout(0.5), nn.Dropout2d(0.3), nn.Identity())
      end},
  })
end)

-- A module over one of the core's recurrent ops with layer's first weights
-- (the layers themselves stack their states, an op of another family).
local function recurrent(fn, layer, opts, lstm)
  local m = nn.Module()
  m.layer = layer
  function m:forward(x, h, c)
    local l = self.layer
    local state = lstm and {h, c} or h
    local a = {x, state, l.weight_ih_l0, l.weight_hh_l0, l.bias_ih_l0, l.bias_hh_l0}
    if l.weight_hr_l0 then a[#a + 1] = l.weight_hr_l0 end
    if opts then a[#a + 1] = opts end
    return {lucid[fn](unpack(a, 1, #a))}
  end
  return m
end

describe("compiled recurrent ops", function()
  run({
    {name = "rnn_tanh", step = "RnnTanh", inputs = randn({5, 2, 3}, {2, 4}), make = function()
      return recurrent("rnn_tanh", nn.RNN(3, 4))
    end},
    {name = "rnn_relu (reverse)", step = "RnnRelu", inputs = randn({5, 2, 3}, {2, 4}), make = function()
      return recurrent("rnn_relu", nn.RNN(3, 4, {nonlinearity = "relu"}), {reverse = true})
    end},
    {name = "lstm (out, h_n, c_n)", step = "Lstm", inputs = randn({4, 3, 2}, {3, 5}, {3, 5}),
      make = function()
        return recurrent("lstm", nn.LSTM(2, 5), nil, true)
      end},
    {name = "lstm (proj_size, packed, reverse)", step = "Lstm",
      inputs = randn({8, 2}, {3, 3}, {3, 5}), make = function()
        return recurrent("lstm", nn.LSTM(2, 5, {proj_size = 3}),
          {batch_sizes = {3, 2, 2, 1}, reverse = true}, true)
      end},
    {name = "gru", step = "Gru", inputs = randn({4, 2, 3}, {2, 4}), make = function()
      return recurrent("gru", nn.GRU(3, 4))
    end},
    {name = "gru (a strided input)", step = "Gru", inputs = randn({2, 4, 3}, {2, 4}), make = function()
      local m = recurrent("gru", nn.GRU(3, 4))
      local inner = m.forward
      m.forward = function(self, x, h) return inner(self, x:transpose(1, 2), h) end
      return m
    end},
    {name = "gru (no bias)", step = "Gru", inputs = randn({4, 2, 3}, {2, 4}), make = function()
      return recurrent("gru", nn.GRU(3, 4, {bias = false}))
    end},
  })
end)

describe("compiled recurrent cells", function()
  run({
    {name = "RNNCell", step = "RnnTanhCell", inputs = randn({3, 2}, {3, 4}), make = function()
      return nn.RNNCell(2, 4)
    end},
    {name = "RNNCell (relu, no state)", step = "RnnReluCell", inputs = randn({3, 2}), make = function()
      return nn.RNNCell(2, 4, {nonlinearity = "relu"})
    end},
    {name = "LSTMCell", step = "LstmCell", inputs = randn({3, 2}), make = function()
      return nn.LSTMCell(2, 4)
    end},
    {name = "GRUCell", step = "GruCell", inputs = randn({3, 2}, {3, 4}), make = function()
      return nn.GRUCell(2, 4)
    end},
  })
end)

describe("compiled attention", function()
  run({
    {name = "masked_softmax (a float mask as an input)", step = "MaskedSoftmax",
      inputs = randn({2, 3, 4}, {3, 4}), make = function()
        return module(function(_, x, mask) return lucid.masked_softmax(x, mask, 0.5) end)
      end},
    {name = "masked_softmax (a strided input)", step = "MaskedSoftmax",
      inputs = randn({2, 4, 3}, {3, 4}), make = function()
        return module(function(_, x, mask) return lucid.masked_softmax(x:transpose(2, 3), mask) end)
      end},
    {name = "masked_softmax (a bool mask made before)", step = "MaskedSoftmax",
      inputs = randn({2, 3, 4}), make = function()
        local mask = lucid.tensor({{false, true, false, false}, {false, false, false, true},
          {true, false, false, false}})
        return module(function(_, x) return lucid.masked_softmax(x, mask) end)
      end},
    {name = "MultiheadAttention (batch_first, need_weights = false)", step = "MaskedSoftmax",
      inputs = randn({2, 5, 8}, {2, 4, 8}), make = function()
        return module(function(self, q, kv) return self.a(q, kv, kv, {need_weights = false}) end,
          {a = nn.MultiheadAttention(8, 2, {batch_first = true})})
      end},
  })
end)

describe("ctc_loss", function()
  it("is refused (its targets and lengths are copied into its node, not inputs)", function()
    local m = module(function(_, lp, tg, il, tl) return lucid.ctc_loss(lp, tg, il, tl, 1, "none") end)
    local lp = lucid.randn({5, 2, 4}):log_softmax(3)
    local tg = lucid.tensor({{2, 3}, {4, 4}}, {dtype = "int64"})
    local len = lucid.tensor({5, 4}, {dtype = "int64"})
    local tl = lucid.tensor({2, 1}, {dtype = "int64"})
    H.assert_error("nn.Module:compile: CtcLoss cannot be compiled yet",
      function() m:compile(lp, tg, len, tl) end)
  end)
end)

-- Layers whose forward also runs ops of the shape and reduce families (cat,
-- stack, index_select, mean, sum, softmax, masked_fill, where).

-- int64 indices in 1 .. n of this shape
local function indices(n, shape)
  return function()
    local t = lucid.randint(1, n + 1, shape)
    return {t}
  end
end

local other = {
  {name = "RNN (2 layers, bidirectional)", step = "RnnTanh", inputs = randn({5, 2, 3}), make = function()
    return nn.RNN(3, 4, {num_layers = 2, bidirectional = true})
  end},
  {name = "LSTM (out, (h, c))", step = "Lstm", inputs = randn({4, 3, 2}), make = function()
    return nn.LSTM(2, 3)
  end},
  {name = "LSTM (2 layers, batch_first, bidirectional, proj_size)", step = "Lstm",
    inputs = randn({3, 4, 2}), make = function()
      return nn.LSTM(2, 5, {num_layers = 2, batch_first = true, bidirectional = true, proj_size = 3})
    end},
  {name = "GRU (2 layers, initial state)", step = "Gru", inputs = randn({4, 2, 3}, {2, 2, 4}),
    make = function()
      return nn.GRU(3, 4, {num_layers = 2})
    end},
  {name = "LayerNorm", step = "Linear", inputs = randn({2, 5, 8}), make = function()
    return nn.Sequential(nn.Linear(8, 8), nn.LayerNorm(8))
  end},
  {name = "LocalResponseNorm", step = "AvgPool2D", inputs = randn({1, 4, 3, 3}), make = function()
    return nn.LocalResponseNorm(2)
  end},
  {name = "ConstantPad2d", step = "Convolution", inputs = randn({1, 2, 3, 3}), make = function()
    return nn.Sequential(nn.ConstantPad2d(1, 0.5), nn.Conv2d(2, 2, 3))
  end},
  {name = "ZeroPad2d", step = "Convolution", inputs = randn({1, 2, 3, 3}), make = function()
    return nn.Sequential(nn.ZeroPad2d({1, 0, 2, 1}), nn.Conv2d(2, 2, 3))
  end},
  {name = "ConstantPad1d", step = "Convolution", inputs = randn({1, 2, 3}), make = function()
    return nn.Sequential(nn.ConstantPad1d(2, 1), nn.Conv1d(2, 2, 3))
  end},
  {name = "ReflectionPad1d/2d", step = "Convolution", inputs = randn({1, 2, 3, 3}), make = function()
    return nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(2, 2, 3), nn.Flatten(3),
      nn.ReflectionPad1d(1))
  end},
  {name = "ReplicationPad1d/2d", step = "Convolution", inputs = randn({1, 2, 3, 3}), make = function()
    return nn.Sequential(nn.ReplicationPad2d(1), nn.Conv2d(2, 2, 3), nn.Flatten(3),
      nn.ReplicationPad1d(2))
  end},
  {name = "Embedding", step = "Linear", inputs = indices(10, {2, 3}), make = function()
    return nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 2))
  end},
  {name = "Softmax and LogSoftmax", step = "Linear", inputs = randn({2, 5, 8}), make = function()
    return nn.Sequential(nn.Linear(8, 4), nn.Softmax(2), nn.LogSoftmax(3))
  end},
  {name = "ELU, SELU, LeakyReLU, Hardtanh", step = "Linear", inputs = randn({3, 4}), make = function()
    return nn.Sequential(nn.Linear(4, 4), nn.ELU(), nn.SELU(), nn.LeakyReLU(0.1), nn.Hardtanh())
  end},
  {name = "Bilinear", step = "Matmul", inputs = randn({3, 2}, {3, 3}), make = function()
    return nn.Bilinear(2, 3, 4)
  end},
  {name = "CosineSimilarity, PairwiseDistance", step = "Linear", inputs = randn({3, 4}, {3, 4}),
    make = function()
      return module(function(self, a, b)
        return {self.cos(self.l(a), b), self.pd(a, self.l(b))}
      end, {l = nn.Linear(4, 4), cos = nn.CosineSimilarity(), pd = nn.PairwiseDistance()})
    end},
  {name = "MultiheadAttention (averaged weights)", step = "MaskedSoftmax", inputs = randn({2, 5, 8}),
    make = function()
      return module(function(self, x) return {self.a(x, x, x)} end,
        {a = nn.MultiheadAttention(8, 2, {batch_first = true})})
    end},
  {name = "MultiheadAttention (per-head weights, attn_mask, key_padding_mask)",
    step = "MaskedSoftmax", inputs = randn({3, 2, 8}, {3, 3}), make = function()
      local kpm = lucid.tensor({{false, false, true}, {false, false, false}})
      return module(function(self, x, am)
        return {self.a(x, x, x, {key_padding_mask = kpm, attn_mask = am, need_weights = true,
          average_attn_weights = false})}
      end, {a = nn.MultiheadAttention(8, 4)})
    end},
  {name = "TransformerEncoderLayer", step = "MaskedSoftmax", inputs = randn({2, 5, 8}), make = function()
    return nn.TransformerEncoderLayer(8, 2, {dim_feedforward = 16, batch_first = true})
  end},
  {name = "TransformerDecoderLayer", step = "MaskedSoftmax", inputs = randn({2, 4, 8}, {2, 5, 8}),
    make = function()
      return nn.TransformerDecoderLayer(8, 2, {dim_feedforward = 16, batch_first = true,
        norm_first = true})
    end},
  {name = "Transformer", step = "MaskedSoftmax", inputs = randn({5, 2, 8}, {4, 2, 8}), make = function()
    return nn.Transformer({d_model = 8, nhead = 2, num_encoder_layers = 2, num_decoder_layers = 1,
      dim_feedforward = 16})
  end},
}

describe("compiled layers that need the shape and reduce replays", function()
  run(other)

end)
