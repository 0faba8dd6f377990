-- Inference that reuses its buffers: out= arguments and Module:reuse_buffers.
local lucid = require("lucid")
local nn = lucid.nn
local H = dofile("tests/helpers.lua")

describe("out= arguments", function()
  it("write into the given tensor and return it", function()
    local x, w, b = lucid.randn(3, 4), lucid.randn(2, 4), lucid.randn(2)
    local out = lucid.empty(3, 2)
    assert.is_true(rawequal(out, lucid.linear(x, w, b, out)))
    assert.are.same(lucid.linear(x, w, b):tolist(), out:tolist())
    local t = lucid.empty(3, 4)
    assert.is_true(rawequal(t, lucid.tanh(x, {out = t})))
    assert.are.same(lucid.tanh(x):tolist(), t:tolist())
    lucid.tanh(t, t)  -- in place is fine
    assert.are.same(lucid.tanh(lucid.tanh(x)):tolist(), t:tolist())
  end)

  it("refuse buffers of the wrong kind and graphs they cannot record", function()
    local x, w = lucid.randn(3, 4), lucid.randn(2, 4)
    assert.has_error(function() lucid.linear(x, w, nil, lucid.empty(2, 3)) end,
      "lucid.linear: out must be a contiguous float32 tensor of shape {3, 2}, got float32 {2, 3}")
    assert.has_error(function() lucid.tanh(x, lucid.empty(4, 3):transpose(1, 2)) end,
      "lucid.tanh: out must be a contiguous float32 tensor of shape {3, 4}, got float32 {3, 4} (not contiguous)")
    local xg = lucid.randn(3, 4, {requires_grad = true})
    assert.has_error(function() lucid.tanh(xg, lucid.empty(3, 4)) end,
      "lucid.tanh: out= writes without recording a graph: use it under no_grad, with an out that does not require grad")
    lucid.no_grad(function() lucid.tanh(xg, lucid.empty(3, 4)) end)
  end)
end)

describe("Module:reuse_buffers", function()
  local function model()
    lucid.manual_seed(3)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
  end

  it("gives the same values, in the same tensor every call, allocating nothing", function()
    local m, x = model(), lucid.randn(5, 4)
    local expected = m(x):tolist()
    m:reuse_buffers()
    -- a guard (`local g <close>` on 5.4), closed by hand on every Lua before any assert
    local g = lucid.no_grad()
    local first = m(x)
    local function calls(n)
      local same = true
      for _ = 1, n do same = same and rawequal(first, m(x)) end
      return same
    end
    collectgarbage("collect")
    -- Calls before measuring: a full collection of 5.2 and 5.3 shrinks the
    -- string table and buffers, which the next call grows back once (~1 KB),
    -- and LuaJIT's compiled traces are objects of its heap (~3 KB). LuaJIT
    -- may start a new trace (or a side trace) at any later call, so its
    -- compiler is off while measuring: what is measured is the library.
    local same = calls(200)
    local jit = rawget(_G, "jit")
    if jit then jit.off() end
    collectgarbage("stop")
    local lua_before, tensor_before = collectgarbage("count"), lucid.memory_allocated()
    same = calls(200) and same
    local lua_growth, tensor_growth = collectgarbage("count") - lua_before, lucid.memory_allocated() - tensor_before
    collectgarbage("restart")
    if jit then jit.on() end
    H.close(g)
    assert.are.same(expected, first:tolist())
    assert.is_true(same)
    assert.are.equal(0, tensor_growth)
    assert.is_true(lua_growth < 1, string.format("the Lua heap grew by %.2f KB", lua_growth))
  end)

  it("follows a change of input shape, and behaves as usual while recording", function()
    local m = model():reuse_buffers()
    local a = lucid.no_grad(m, lucid.randn(1, 4))
    local b = lucid.no_grad(m, lucid.randn(3, 4))
    assert.are.same({1, 2}, a.shape)
    assert.are.same({3, 2}, b.shape)
    local y = m(lucid.randn(2, 4))  -- recording on: a fresh tensor with a graph
    assert.is_true(y.requires_grad)
    m:reuse_buffers(false)
    assert.is_false(lucid.no_grad(function() return rawequal(m(lucid.randn(2, 4)), m(lucid.randn(2, 4))) end))
  end)
end)

describe("out= forms of the activations", function()
  it("write the op's values into out and return it", function()
    lucid.manual_seed(4)
    local x = lucid.randn(3, 4, {dtype = "float64"}) * 3
    local cases = {
      relu = function(o) return lucid.relu(x, o) end, sigmoid = function(o) return lucid.sigmoid(x, o) end,
      silu = function(o) return lucid.silu(x, o) end, expm1 = function(o) return lucid.expm1(x, o) end,
      gelu = function(o) return lucid.gelu(x, "tanh", o) end,
      gelu_erf = function(o) return lucid.gelu(x, "none", o) end,
      softplus = function(o) return lucid.softplus(x, 2, 1, o) end,
      clamp = function(o) return lucid.clamp(x, -0.5, 0.5, o) end,
      clamp_max = function(o) return lucid.clamp(x, nil, 0, o) end,
      softmax = function(o) return lucid.softmax(x, 2, o) end,
      log_softmax = function(o) return lucid.log_softmax(x, 1, o) end,
    }
    for name, f in pairs(cases) do
      local out = lucid.empty(3, 4, {dtype = "float64"})
      assert.is_true(rawequal(out, f(out)), name)
      assert.is_true(lucid.equal(f(nil), out), name)
    end
    local out = lucid.empty(3, 4, {dtype = "float64"})
    assert.is_true(rawequal(out, lucid.softmax(x, {dim = 2, out = out})))
    assert.is_true(rawequal(out, lucid.gelu(x, {out = out})))
    assert.is_true(rawequal(out, lucid.relu(x, {out = out})))
  end)

  it("refuse integer inputs, wrong buffers, a missing bound and graphs", function()
    local x = lucid.randn(3, 4)
    assert.has_error(function() lucid.relu(lucid.tensor({1, 2}, {dtype = "int64"}), lucid.empty(2)) end,
      "lucid.relu: out= needs a float input, got int64")
    assert.has_error(function() lucid.softmax(x, 2, lucid.empty(3)) end,
      "lucid.softmax: out must be a contiguous float32 tensor of shape {3, 4}, got float32 {3}")
    assert.has_error(function() lucid.gelu(x, "tanh", lucid.empty(3, 4, {dtype = "float64"})) end,
      "lucid.gelu: out must be a contiguous float32 tensor of shape {3, 4}, got float64 {3, 4}")
    assert.has_error(function() lucid.clamp(x, nil, nil, lucid.empty(3, 4)) end,
      "lucid.clamp: at least one of min and max must be given")
    local xg = lucid.randn(3, 4, {requires_grad = true})
    assert.has_error(function() lucid.sigmoid(xg, lucid.empty(3, 4)) end,
      "lucid.sigmoid: out= writes without recording a graph: use it under no_grad, with an out that does not require grad")
  end)
end)

-- Calls f() (which returns the output) n times under no_grad with the
-- collector stopped; returns the first output, whether every call returned
-- that same tensor, and the growth of tensor memory over the calls after
-- the first two.
local function reuse_calls(f, n)
  local g = lucid.no_grad()
  local first = f()
  local same = rawequal(first, f())
  collectgarbage("collect")
  collectgarbage("stop")
  local before = lucid.memory_allocated()
  for _ = 1, n do same = rawequal(first, f()) and same end
  local growth = lucid.memory_allocated() - before
  collectgarbage("restart")
  H.close(g)
  return first, same, growth
end

-- The same for m(x).
local function reuse_run(m, x, n)
  return reuse_calls(function() return m(x) end, n)
end

-- m (a model not yet reusing its buffers) called on x under reuse_buffers:
-- the same tensor every call, no new tensor memory after the first call, the
-- usual values (exactly, or within tol), and with recording on a fresh tensor
-- with a graph, as usual. Returns the usual values and that recorded result.
local function check_reuse(name, m, x, tol)
  local expected = lucid.no_grad(m, x)
  m:reuse_buffers()
  local y, same, growth = reuse_run(m, x, 20)
  assert.is_true(same, name)
  assert.are.equal(0, growth, name)
  if tol then H.assert_close(y, expected, tol, tol, name) else assert.is_true(lucid.equal(expected, y), name) end
  local z = m(x)  -- recording on: a fresh tensor with a graph, as usual
  assert.is_true(z.requires_grad and not rawequal(z, y), name)
  return expected, z
end

describe("reuse_buffers in the activation layers", function()
  local layers = {
    {"ReLU", function() return nn.ReLU() end}, {"Sigmoid", function() return nn.Sigmoid() end},
    {"GELU", function() return nn.GELU() end}, {"GELU tanh", function() return nn.GELU("tanh") end},
    {"SiLU", function() return nn.SiLU() end}, {"LeakyReLU", function() return nn.LeakyReLU(0.2) end},
    {"ELU", function() return nn.ELU(0.7) end}, {"Softplus", function() return nn.Softplus(2, 1) end},
    {"Hardtanh", function() return nn.Hardtanh(-0.5, 0.8) end}, {"Softmax", function() return nn.Softmax(2) end},
    {"LogSoftmax", function() return nn.LogSoftmax() end},
  }
  for _, dtype in ipairs({"float32", "float64"}) do
    it("allocate nothing after the first call and give the usual values (" .. dtype .. ")", function()
      for _, l in ipairs(layers) do
        lucid.manual_seed(6)
        local m = nn.Sequential(nn.Linear(4, 6), l[2]()):to(dtype)
        local x = lucid.randn(5, 4, {dtype = dtype}) * 3
        local expected = lucid.no_grad(m, x)
        m:reuse_buffers()
        local y, same, growth = reuse_run(m, x, 20)
        assert.is_true(same, l[1])
        assert.are.equal(0, growth, l[1])
        assert.is_true(lucid.equal(expected, y), l[1])
        local z = m(x)  -- recording on: a fresh tensor with a graph, as usual
        assert.is_true(z.requires_grad and not rawequal(z, y), l[1])
        assert.is_true(lucid.equal(expected, z), l[1])
      end
    end)
  end

  it("leave integer inputs to the usual path", function()
    local m = nn.ReLU():reuse_buffers()
    local y = lucid.no_grad(m, lucid.tensor({-1, 2}, {dtype = "int64"}))
    assert.are.same({0, 2}, y:tolist())
    assert.are.equal("int64", y.dtype)
  end)
end)

describe("reuse_buffers in pooling, batch norm and transposed convolution layers", function()
  local function bn(make, c)
    local b = make(c)
    b.running_mean:copy_(lucid.randn(c))
    b.running_var:copy_(lucid.rand(c) + 0.5)
    return b
  end
  local conv = function() return nn.Conv2d(3, 4, 3, {padding = 1}) end
  local cases = {
    {"MaxPool2d", conv, function() return nn.MaxPool2d(2) end},
    {"MaxPool2d padded", conv, function() return nn.MaxPool2d({3}, {stride = 2, padding = 1, ceil_mode = true}) end},
    {"AvgPool2d", conv, function() return nn.AvgPool2d(3, {stride = 2, padding = 1, count_include_pad = false}) end},
    {"AdaptiveAvgPool2d", conv, function() return nn.AdaptiveAvgPool2d({3, false}) end},
    {"AdaptiveMaxPool2d", conv, function() return nn.AdaptiveMaxPool2d(2) end},
    {"BatchNorm2d", conv, function() return bn(nn.BatchNorm2d, 4) end},
    {"BatchNorm1d", function() return nn.Linear(7, 4) end, function() return bn(nn.BatchNorm1d, 4) end},
    {"ConvTranspose2d", conv, function() return nn.ConvTranspose2d(4, 2, 3, {stride = 2, padding = 1, output_padding = 1}) end},
    {"ConvTranspose2d grouped", conv, function() return nn.ConvTranspose2d(4, 2, 2, {groups = 2, bias = false, dilation = 2}) end},
  }
  for _, dtype in ipairs({"float32", "float64"}) do
    it("allocate nothing after the first call and give the usual values (" .. dtype .. ")", function()
      for _, c in ipairs(cases) do
        lucid.manual_seed(7)
        local m = nn.Sequential(c[2](), c[3]()):to(dtype):eval()
        local x = c[1] == "BatchNorm1d" and lucid.randn(5, 7, {dtype = dtype}) or lucid.randn(2, 3, 7, 7, {dtype = dtype})
        local expected, z = check_reuse(c[1], m, x)
        assert.is_true(lucid.equal(expected, z), c[1])
      end
    end)
  end

  it("follow a change of shape, keep the layers' errors, and leave training and indices alone", function()
    local p = nn.MaxPool2d(2):reuse_buffers()
    local g = lucid.no_grad()
    local a = p(lucid.randn(1, 2, 4, 4))
    local b = p(lucid.randn(1, 2, 6, 6))
    local b2 = p(lucid.randn(1, 2, 6, 6))
    local r = nn.MaxPool2d(2, {return_indices = true}):reuse_buffers()
    local _, idx = r(lucid.randn(1, 1, 4, 4))
    local _, idx2 = r(lucid.randn(1, 1, 4, 4))
    local n = nn.BatchNorm1d(3):reuse_buffers()
    local t1 = n(lucid.randn(4, 3))
    local t2 = n(lucid.randn(4, 3))  -- training: batch statistics, no buffer
    n:eval()
    n(lucid.randn(4, 3))
    local ok, err = pcall(n, lucid.randn(4, 5))
    H.close(g)
    assert.are.same({1, 2, 2, 2}, a.shape)
    assert.are.same({1, 2, 3, 3}, b.shape)
    assert.is_true(rawequal(b, b2))
    assert.is_true(idx ~= nil and not rawequal(idx, idx2))
    assert.is_false(rawequal(t1, t2))
    assert.is_false(ok)
    assert.matches("nn.BatchNorm1d: input {4, 5} has 5 channels in dim 2, expected 3 (num_features)", err, 1, true)
  end)
end)

describe("reuse_buffers in LayerNorm, GroupNorm and InstanceNorm2d", function()
  local cases = {
    {"LayerNorm", function() return nn.LayerNorm(5) end},
    {"LayerNorm 2 dims", function() return nn.LayerNorm({4, 5}) end},
    {"LayerNorm without affine", function() return nn.LayerNorm(5, {elementwise_affine = false}) end},
    {"GroupNorm", function() return nn.GroupNorm(2, 4) end},
    {"GroupNorm without affine", function() return nn.GroupNorm(4, 4, {affine = false}) end},
    {"InstanceNorm2d", function() return nn.InstanceNorm2d(4) end},
    {"InstanceNorm2d affine", function() return nn.InstanceNorm2d(4, {affine = true}) end},
    {"InstanceNorm2d running statistics in eval", function()
      local l = nn.InstanceNorm2d(4, {track_running_stats = true}):eval()
      lucid.no_grad(function()
        l.running_mean:copy_(lucid.randn(4))
        l.running_var:copy_(lucid.rand(4) + 0.5)
      end)
      return l
    end},
  }
  for _, dtype in ipairs({"float32", "float64"}) do
    it("allocate nothing after the first call and give the usual values (" .. dtype .. ")", function()
      local tol = dtype == "float32" and 1e-5 or 1e-12
      for _, c in ipairs(cases) do
        lucid.manual_seed(8)
        local m = nn.Sequential(nn.Conv2d(3, 4, 2, {padding = 1}), c[2]()):to(dtype)
        if m[2].weight then
          lucid.no_grad(function()
            m[2].weight:copy_(lucid.randn(m[2].weight.shape))
            m[2].bias:copy_(lucid.randn(m[2].bias.shape))
          end)
        end
        local x = lucid.randn(2, 3, 3, 4, {dtype = dtype})
        local expected, z = check_reuse(c[1], m, x, tol)
        assert.is_true(lucid.equal(expected, z), c[1])
      end
    end)
  end

  it("keep the layers' errors", function()
    local l = nn.LayerNorm(5):reuse_buffers()
    local g = nn.GroupNorm(2, 4):reuse_buffers()
    local guard = lucid.no_grad()
    l(lucid.randn(2, 5))
    local ok1, e1 = pcall(l, lucid.randn(2, 4))
    local ok2, e2 = pcall(g, lucid.randn(2, 3, 5))
    H.close(guard)
    assert.is_false(ok1 or ok2)
    assert.matches("nn.LayerNorm: input {2, 4} does not end with normalized_shape {5}", e1, 1, true)
    assert.matches("nn.GroupNorm: expected an input {N, 4, ...} (num_channels in dim 2), got {2, 3, 5}", e2, 1, true)
  end)
end)

describe("reuse_buffers in the recurrent cells", function()
  local cells = {
    {"LSTMCell", function() return nn.LSTMCell(4, 5) end, true},
    {"GRUCell", function() return nn.GRUCell(4, 5) end},
    {"RNNCell", function() return nn.RNNCell(4, 5) end},
    {"RNNCell relu, no bias", function() return nn.RNNCell(4, 5, {nonlinearity = "relu", bias = false}) end},
    {"LSTMCell unbatched", function() return nn.LSTMCell(4, 5) end, true, true},
    {"GRUCell unbatched", function() return nn.GRUCell(4, 5) end, false, true},
  }
  for _, dtype in ipairs({"float32", "float64"}) do
    it("run a recurrence allocating nothing after the first step, with the usual values (" .. dtype .. ")",
      function()
        for _, c in ipairs(cells) do
          lucid.manual_seed(9)
          local cell, lstm = c[2]():to(dtype), c[3]
          local xs = {}
          for i = 1, 4 do xs[i] = c[4] and lucid.randn(4, {dtype = dtype}) or lucid.randn(3, 4, {dtype = dtype}) end
          -- steps fed their own outputs back, as an inference loop does
          local function steps()
            local h, s = cell(xs[1])
            for i = 2, #xs do
              if lstm then h, s = cell(xs[i], {h, s}) else h = cell(xs[i], h) end
            end
            return h, s
          end
          local eh, es = lucid.no_grad(steps)
          cell:reuse_buffers()
          local h, same, growth = reuse_calls(steps, 10)
          local s = lstm and lucid.no_grad(function() return select(2, steps()) end) or nil
          assert.is_true(same, c[1])
          assert.are.equal(0, growth, c[1])
          assert.is_true(lucid.equal(eh, h), c[1])
          if lstm then assert.is_true(lucid.equal(es, s), c[1]) end
          local z = cell(xs[1])  -- recording on: a fresh tensor with a graph, as usual
          assert.is_true(z.requires_grad and not rawequal(z, h), c[1])
        end
      end)
  end

  it("follow a change between unbatched and batched input and keep the errors", function()
    local cell = nn.LSTMCell(4, 5):reuse_buffers()
    local g = lucid.no_grad()
    local h1 = cell(lucid.randn(4))
    cell(lucid.randn(2, 4))
    local ok1, e1 = pcall(cell, lucid.randn(2, 4), lucid.randn(2, 5))
    local ok2, e2 = pcall(cell, lucid.randn(2, 4), {lucid.randn(3, 5), lucid.randn(2, 5)})
    H.close(g)
    assert.are.same({5}, h1.shape)
    assert.is_false(ok1 or ok2)
    assert.matches("nn.LSTMCell: hx must be a table {h, c}, got", e1, 1, true)
    assert.matches("nn.LSTMCell: expected h (hx[1]) of shape {2, 5}, got {3, 5}", e2, 1, true)
  end)
end)

describe("reuse_buffers in the recurrent layers", function()
  local layers = {
    {"LSTM", function() return nn.LSTM(4, 5) end, true},
    {"LSTM 2 layers, projected, batch first", function()
      return nn.LSTM(4, 5, {num_layers = 2, proj_size = 3, batch_first = true})
    end, true},
    {"GRU 2 layers", function() return nn.GRU(4, 5, {num_layers = 2}) end},
    {"RNN relu, batch first", function() return nn.RNN(4, 5, {nonlinearity = "relu", batch_first = true}) end},
    {"LSTM bidirectional", function() return nn.LSTM(4, 5, {bidirectional = true}) end, true},
    {"LSTM bidirectional, 2 layers, projected", function()
      return nn.LSTM(4, 5, {bidirectional = true, num_layers = 2, proj_size = 3})
    end, true},
    {"GRU bidirectional, 2 layers, batch first", function()
      return nn.GRU(4, 5, {bidirectional = true, num_layers = 2, batch_first = true})
    end},
    {"RNN bidirectional, 3 layers", function() return nn.RNN(4, 5, {bidirectional = true, num_layers = 3}) end},
    {"LSTM unbatched", function() return nn.LSTM(4, 5) end, true, true},
    {"LSTM unbatched, bidirectional, 2 layers, projected", function()
      return nn.LSTM(4, 5, {bidirectional = true, num_layers = 2, proj_size = 3})
    end, true, true},
    {"GRU unbatched, 2 layers, batch first", function()
      return nn.GRU(4, 5, {num_layers = 2, batch_first = true})
    end, false, true},
  }
  for _, dtype in ipairs({"float32", "float64"}) do
    it("run sequences allocating nothing after the first call, with the usual values (" .. dtype .. ")",
      function()
        for _, c in ipairs(layers) do
          lucid.manual_seed(10)
          local m, lstm = c[2]():to(dtype):eval(), c[3]
          local xs = {}
          for i = 1, 3 do xs[i] = c[4] and lucid.randn(6, 4, {dtype = dtype}) or lucid.randn(6, 3, 4, {dtype = dtype}) end
          -- chunks of a long sequence, each starting from the last one's state
          local function chunks()
            local o, s = m(xs[1])
            for i = 2, #xs do o, s = m(xs[i], s) end
            return o, s
          end
          local eo, es = lucid.no_grad(chunks)
          m:reuse_buffers()
          local o, same, growth = reuse_calls(chunks, 10)
          local s = lucid.no_grad(function() return select(2, chunks()) end)
          assert.is_true(same, c[1])
          assert.are.equal(0, growth, c[1])
          assert.is_true(lucid.equal(eo, o), c[1])
          if lstm then
            assert.is_true(lucid.equal(es[1], s[1]) and lucid.equal(es[2], s[2]), c[1])
          else
            assert.is_true(lucid.equal(es, s), c[1])
          end
          local z = m(xs[1])  -- recording on: a fresh tensor with a graph, as usual
          assert.is_true(z.requires_grad and not rawequal(z, o), c[1])
        end
      end)
  end

  it("leave training dropout to the usual path, and keep the errors", function()
    local bi = nn.GRU(4, 5, {bidirectional = true}):reuse_buffers()
    local m = nn.LSTM(4, 5):reuse_buffers()
    local g = lucid.no_grad()
    local ob = bi(lucid.randn(3, 2, 4))
    local ou = m(lucid.randn(3, 4))
    m(lucid.randn(3, 2, 4))
    local ok1, e1 = pcall(m, lucid.randn(3, 2, 4), lucid.randn(1, 2, 5))
    local ok2, e2 = pcall(m, lucid.randn(3, 2, 4), {lucid.randn(1, 3, 5), lucid.randn(1, 2, 5)})
    H.close(g)
    assert.are.same({3, 2, 10}, ob.shape)
    assert.are.same({3, 5}, ou.shape)
    assert.is_false(ok1 or ok2)
    assert.matches("nn.LSTM: hx must be a table {h0, c0}, got", e1, 1, true)
    assert.matches("nn.LSTM: expected h0 (hx[1]) of shape {1, 2, 5}, got {1, 3, 5}", e2, 1, true)
    -- dropout between layers in training mode, recording off: the usual path draws it
    local d = nn.GRU(4, 5, {num_layers = 2, dropout = 0.5})
    local x = lucid.randn(3, 2, 4)
    lucid.manual_seed(21)
    local expected = lucid.no_grad(d, x)
    d:reuse_buffers()
    lucid.manual_seed(21)
    assert.is_true(lucid.equal(expected, (lucid.no_grad(d, x))))
  end)
end)

describe("reuse_buffers in the 1-d convolutions", function()
  local cases = {
    {"Conv1d", function() return nn.Conv1d(3, 4, 3, {padding = 1}) end},
    {"Conv1d same, dilated", function() return nn.Conv1d(3, 4, 3, {padding = "same", dilation = 2}) end},
    {"Conv1d strided, grouped", function() return nn.Conv1d(3, 6, 2, {stride = 2, groups = 3, bias = false}) end},
    {"ConvTranspose1d", function() return nn.ConvTranspose1d(3, 4, 3, {stride = 2, padding = 1, output_padding = 1}) end},
  }
  for _, dtype in ipairs({"float32", "float64"}) do
    it("allocate nothing after the first call and give the usual values (" .. dtype .. ")", function()
      for _, c in ipairs(cases) do
        lucid.manual_seed(11)
        local m = nn.Sequential(nn.Conv1d(2, 3, 1), c[2]()):to(dtype)
        local x = lucid.randn(2, 2, 9, {dtype = dtype})
        check_reuse(c[1], m, x)
      end
    end)
  end

  it("leave other padding modes and unbatched input to the usual path", function()
    local r = nn.Conv1d(3, 4, 3, {padding = 1, padding_mode = "reflect"}):reuse_buffers()
    local g = lucid.no_grad()
    local x = lucid.randn(2, 3, 9)
    local a, b = r(x), r(x)
    local u = nn.Conv1d(3, 4, 3):reuse_buffers()
    u(x)
    local single = u(x[1])
    H.close(g)
    assert.is_false(rawequal(a, b))
    assert.are.same({4, 7}, single.shape)
  end)
end)

describe("reuse_buffers in a whole per-frame model", function()
  it("allocates neither tensor memory nor Lua objects after the first calls", function()
    lucid.manual_seed(12)
    local m = nn.Sequential(nn.Conv2d(3, 8, 3, {padding = 1}), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
      nn.Conv2d(8, 16, 3, {padding = 1}), nn.GroupNorm(4, 16), nn.SiLU(), nn.AvgPool2d(2),
      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 12), nn.Unflatten(2, {3, 4}), nn.LayerNorm(4),
      nn.GELU(), nn.Flatten(), nn.Dropout(0.5), nn.Linear(12, 10), nn.LogSoftmax(-1)):eval()
    local x = lucid.randn(2, 3, 16, 16)
    local expected = lucid.no_grad(m, x)
    m:reuse_buffers()
    local g = lucid.no_grad()
    local first = m(x)
    collectgarbage("collect")
    for _ = 1, 50 do m(x) end  -- LuaJIT's traces, the string table's regrowth (see above)
    local jit = rawget(_G, "jit")
    if jit then jit.off() end
    collectgarbage("stop")
    local lua_before, tensor_before = collectgarbage("count"), lucid.memory_allocated()
    local same = true
    for _ = 1, 100 do same = rawequal(first, m(x)) and same end
    local lua_growth, tensor_growth = collectgarbage("count") - lua_before, lucid.memory_allocated() - tensor_before
    collectgarbage("restart")
    if jit then jit.on() end
    H.close(g)
    assert.is_true(same)
    assert.are.equal(0, tensor_growth)
    assert.is_true(lua_growth < 1, string.format("the Lua heap grew by %.2f KB", lua_growth))
    H.assert_close(first, expected, 1e-5, 1e-5, "reused")
    local y = m(x)  -- recording on: as usual
    assert.is_true(y.requires_grad and not rawequal(y, first))
  end)

  it("gives Flatten a new view for a new tensor", function()
    local f = nn.Flatten():reuse_buffers()
    local g = lucid.no_grad()
    local a, b = lucid.randn(2, 3, 4), lucid.randn(2, 3, 4)
    local fa, fa2, fb = f(a), f(a), f(b)
    H.close(g)
    assert.is_true(rawequal(fa, fa2))
    assert.is_false(rawequal(fa, fb))
    assert.are.same(b:reshape(2, 12):tolist(), fb:tolist())
  end)
end)

describe("reuse_buffers in the 1-d pools", function()
  local cases = {
    {"MaxPool1d", function() return nn.MaxPool1d(2) end},
    {"MaxPool1d padded", function() return nn.MaxPool1d({3}, {stride = 2, padding = 1, ceil_mode = true}) end},
    {"AvgPool1d", function() return nn.AvgPool1d(3, {stride = 2, padding = 1, count_include_pad = false}) end},
    {"AdaptiveAvgPool1d", function() return nn.AdaptiveAvgPool1d(4) end},
    {"AdaptiveMaxPool1d", function() return nn.AdaptiveMaxPool1d({3}) end},
  }
  for _, dtype in ipairs({"float32", "float64"}) do
    it("allocate nothing after the first call and give the usual values (" .. dtype .. ")", function()
      for _, c in ipairs(cases) do
        lucid.manual_seed(13)
        local m = nn.Sequential(nn.Conv1d(2, 3, 1), c[2]()):to(dtype)
        local x = lucid.randn(2, 2, 9, {dtype = dtype})
        check_reuse(c[1], m, x)
      end
    end)
  end

  it("leave unbatched input and indices to the usual path", function()
    local p = nn.MaxPool1d(2):reuse_buffers()
    local r = nn.MaxPool1d(2, {return_indices = true}):reuse_buffers()
    local g = lucid.no_grad()
    local x = lucid.randn(2, 3, 8)
    p(x)
    local single = p(x[1])
    local _, i1 = r(x)
    local _, i2 = r(x)
    H.close(g)
    assert.are.same({3, 4}, single.shape)
    assert.is_false(rawequal(i1, i2))
  end)
end)

describe("out= forms of matmul and masked_softmax", function()
  it("write the op's values into out and return it", function()
    lucid.manual_seed(5)
    for _, dtype in ipairs({"float32", "float64"}) do
      local a, b = lucid.randn(2, 3, 4, 5, {dtype = dtype}), lucid.randn(3, 5, 6, {dtype = dtype})
      local o = lucid.empty(2, 3, 4, 6, {dtype = dtype})
      assert.is_true(rawequal(o, lucid.matmul(a, b, o)))
      assert.is_true(lucid.equal(lucid.matmul(a, b), o))
      local bt = b:transpose(2, 3):contiguous():transpose(2, 3)  -- a transposed operand, as attention's K^T
      assert.is_true(rawequal(o, a:matmul(bt, {out = o})))
      assert.is_true(lucid.equal(lucid.matmul(a, b), o))
      local s, m = lucid.randn(2, 3, 4, 5, {dtype = dtype}), lucid.rand(4, 5):lt(0.3)
      local e = lucid.masked_softmax(s, m, 0.5)
      local so = lucid.empty(2, 3, 4, 5, {dtype = dtype})
      assert.is_true(rawequal(so, lucid.masked_softmax(s, m, 0.5, so)))
      assert.is_true(lucid.equal(e, so))
      assert.is_true(rawequal(s, lucid.masked_softmax(s, m, 0.5, s)))  -- in place
      assert.is_true(lucid.equal(e, s))
    end
  end)

  it("refuse overlapping or wrong buffers, integer operands and graphs", function()
    local a, b = lucid.randn(2, 4, 5), lucid.randn(5, 3)
    assert.has_error(function() lucid.matmul(a, b, lucid.empty(2, 3, 4)) end,
      "lucid.matmul: out must be a contiguous float32 tensor of shape {2, 4, 3}, got float32 {2, 3, 4}")
    local sq = lucid.randn(4, 4)
    assert.has_error(function() lucid.matmul(sq, sq, sq) end,
      "lucid.matmul: out must not share its elements with an operand")
    assert.has_error(function() lucid.matmul(a, b:double(), lucid.empty(2, 4, 3)) end,
      "lucid.matmul: out= needs two float operands of one dtype, got float32 and float64")
    assert.has_error(function() lucid.matmul(lucid.randn(5), b, lucid.empty(3)) end,
      "lucid.matmul: out= needs operands of at least 2 dims, got 1 and 2")
    assert.has_error(function() lucid.matmul(lucid.randn(2, 4, 5, {requires_grad = true}), b, lucid.empty(2, 4, 3)) end,
      "lucid.matmul: out= writes without recording a graph: use it under no_grad, with an out that does not require grad")
    local s = lucid.randn(3, 4)
    assert.has_error(function() lucid.masked_softmax(s, nil, 1, lucid.empty(4, 3)) end,
      "lucid.masked_softmax: out must be a contiguous float32 tensor of shape {3, 4}, got float32 {4, 3}")
    local big = lucid.randn(6, 4)
    assert.has_error(function() lucid.masked_softmax(big:narrow(1, 1, 3), nil, 1, big:narrow(1, 2, 3)) end,
      "lucid.masked_softmax: out must be the scores themselves or share no elements with them")
    assert.are.equal(7, lucid.matmul(lucid.tensor({{1, 2}}), lucid.tensor({{1}, {3}})):item())  -- no out: as before
  end)
end)


describe("reuse_buffers in MultiheadAttention", function()
  local N, L = 3, 4
  local cases = {
    {"self-attention"},
    {"batch first", {batch_first = true}},
    {"cross-attention", {}, 6},
    {"kdim and vdim", {kdim = 3, vdim = 5}, 6},
    {"unbatched", {}, nil, true},
    {"no bias, bool attn_mask", {bias = false}, nil, nil, "bool"},
    {"float 3-d attn_mask", {}, nil, nil, "float3"},
    {"key_padding_mask", {batch_first = true}, nil, nil, "kpm"},
    {"unbatched key_padding_mask", {}, 6, true, "kpm"},
  }
  for _, dtype in ipairs({"float32", "float64"}) do
    it("allocates nothing after the first call and gives the usual values (" .. dtype .. ")", function()
      for _, c in ipairs(cases) do
        lucid.manual_seed(11)
        local o = c[2] or {}
        local m = nn.MultiheadAttention(8, 2, o):to(dtype):eval()
        local S, unbatched = c[3] or L, c[4]
        local function seq(len, e)
          if unbatched then return lucid.randn(len, e, {dtype = dtype}) end
          if o.batch_first then return lucid.randn(N, len, e, {dtype = dtype}) end
          return lucid.randn(len, N, e, {dtype = dtype})
        end
        local q = seq(L, 8)
        local k, v = q, q
        if c[3] then k, v = seq(S, o.kdim or 8), seq(S, o.vdim or 8) end
        local opts = {need_weights = false}
        if c[5] == "bool" then opts.attn_mask = lucid.rand(L, S):lt(0.3) end
        if c[5] == "float3" then opts.attn_mask = lucid.randn(N * 2, L, S, {dtype = dtype}) end
        if c[5] == "kpm" then
          opts.key_padding_mask = unbatched and lucid.rand(S):lt(0.3) or lucid.rand(N, S):lt(0.3)
        end
        local expected = lucid.no_grad(m, q, k, v, opts)
        m:reuse_buffers()
        local y, same, growth = reuse_calls(function() return m(q, k, v, opts) end, 10)
        assert.is_true(same, c[1])
        assert.are.equal(0, growth, c[1])
        assert.is_true(lucid.equal(expected, y), c[1])
        local z = m(q, k, v, opts)  -- recording on: a fresh tensor with a graph, as usual
        assert.is_true(z.requires_grad and not rawequal(z, y), c[1])
        assert.is_true(lucid.equal(expected, z), c[1])
      end
    end)
  end

  for _, dtype in ipairs({"float32", "float64"}) do
    it("keeps the attention weights too, averaged or per head (" .. dtype .. ")", function()
      for _, c in ipairs({{"averaged", true}, {"per head", false}, {"averaged, unbatched", true, true},
                          {"per head, unbatched", false, true}, {"averaged over 3 heads", true, false, 3}}) do
        lucid.manual_seed(17)
        local heads = c[4] or 2
        local m = nn.MultiheadAttention(2 * heads, heads):to(dtype):eval()
        local x = c[3] and lucid.randn(4, 2 * heads, {dtype = dtype}) or lucid.randn(4, 3, 2 * heads, {dtype = dtype})
        local opts = {average_attn_weights = c[2]}
        local expected, ew = lucid.no_grad(m, x, x, x, opts)
        m:reuse_buffers()
        local w
        local y, same, growth = reuse_calls(function()
          local o, wt = m(x, x, x, opts)
          w = w or wt
          return rawequal(w, wt) and o or nil
        end, 10)
        assert.is_true(same, c[1])
        assert.are.equal(0, growth, c[1])
        assert.is_true(lucid.equal(expected, y), c[1])
        assert.are.same(ew.shape, w.shape, c[1])
        -- the mean over the heads is a GEMM with a row of 1 / H: its own rounding
        assert.is_true(lucid.allclose(ew, w, {atol = dtype == "float32" and 1e-7 or 1e-16}), c[1])
      end
    end)
  end

  it("follows new shapes and weights, leaves other cases to the usual path, keeps the errors", function()
    lucid.manual_seed(12)
    local m = nn.MultiheadAttention(8, 2):eval():reuse_buffers()
    local g = lucid.no_grad()
    local a = m(lucid.randn(4, 2, 8), lucid.randn(4, 2, 8), lucid.randn(4, 2, 8), {need_weights = false})
    local x = lucid.randn(5, 3, 8)
    local b = m(x, x, x, {need_weights = false})
    local before = b:clone()
    m.in_proj_weight = nn.Parameter(m.in_proj_weight * 2)  -- a new weight: new views of it
    local c = m(x, x, x, {need_weights = false})
    local out, w = m(x, x, x)  -- need_weights: the averaged weights in a kept buffer too
    local ok, e = pcall(m, x, x, x, {need_weights = false, attn_mask = lucid.rand(2, 2):lt(0.5)})
    H.close(g)
    assert.are.same({4, 2, 8}, a.shape)
    assert.are.same({5, 3, 8}, b.shape)
    assert.is_false(lucid.equal(before, c))
    assert.is_true(lucid.allclose(out, c, {atol = 1e-6}))
    assert.are.same({3, 5, 5}, w.shape)
    assert.is_false(ok)
    assert.matches("nn.MultiheadAttention: the 2-D attn_mask is {2, 2}, expected {5, 5} (L, S)", e, 1, true)
    m:reuse_buffers(false)
    assert.is_nil(rawget(m, "_attn"))
  end)

  it("follows Module:to, which converts the weights in place", function()
    lucid.manual_seed(18)
    local m = nn.MultiheadAttention(8, 2):eval()  -- cross-attention: views of in_proj_weight
    local q, kv = lucid.randn(4, 2, 8), lucid.randn(5, 2, 8)
    local g = lucid.no_grad()
    m:reuse_buffers()
    m(q, kv, kv, {need_weights = false})
    m:to("float64")
    local ok, e = pcall(m, q, kv, kv, {need_weights = false})
    local y = m(q:double(), kv:double(), kv:double(), {need_weights = false})
    m:reuse_buffers(false)
    local expected = m(q:double(), kv:double(), kv:double(), {need_weights = false})
    H.close(g)
    assert.is_false(ok)
    assert.matches("lucid.linear: input, weight and bias must share a dtype, got float32, float64 and float64", e, 1, true)
    assert.is_true(lucid.equal(expected, y))
  end)
end)

describe("reuse_buffers in the transformer layers", function()
  local cases = {
    {"post-norm, relu, causal mask", {}, true},
    {"pre-norm, gelu, batch first", {norm_first = true, activation = "gelu", batch_first = true}},
  }
  for _, dtype in ipairs({"float32", "float64"}) do
    it("allocates nothing after the first call and gives the usual values (" .. dtype .. ")", function()
      for _, c in ipairs(cases) do
        lucid.manual_seed(13)
        local o = c[2]
        o.dim_feedforward = 16
        local m = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, o), 2, nn.LayerNorm(8)):to(dtype):eval()
        local x = o.batch_first and lucid.randn(3, 4, 8, {dtype = dtype}) or lucid.randn(4, 3, 8, {dtype = dtype})
        local mask = c[3] and nn.Transformer.generate_square_subsequent_mask(4, {dtype = dtype}) or nil
        local expected = lucid.no_grad(m, x, mask)
        m:reuse_buffers()
        local y, same, growth = reuse_calls(function() return m(x, mask) end, 10)
        assert.is_true(same, c[1])
        assert.are.equal(0, growth, c[1])
        -- (LayerNorm's out= form rounds float32 differently in the last bit)
        assert.is_true(lucid.allclose(expected, y, {atol = dtype == "float32" and 1e-6 or 1e-14}), c[1])
        local z = m(x, mask)  -- recording on: a fresh tensor with a graph, as usual
        assert.is_true(z.requires_grad and not rawequal(z, y), c[1])
        assert.is_true(lucid.equal(expected, z), c[1])
      end
    end)
  end

  for _, dtype in ipairs({"float32", "float64"}) do
    it("allocates nothing in a whole nn.Transformer after the first call (" .. dtype .. ")", function()
      for _, o in ipairs({{}, {norm_first = true, activation = "gelu", batch_first = true}}) do
        lucid.manual_seed(16)
        o.d_model, o.nhead, o.num_encoder_layers, o.num_decoder_layers, o.dim_feedforward = 8, 2, 2, 2, 16
        local m = nn.Transformer(o):to(dtype):eval()
        local src = o.batch_first and lucid.randn(3, 5, 8, {dtype = dtype}) or lucid.randn(5, 3, 8, {dtype = dtype})
        local tgt = o.batch_first and lucid.randn(3, 4, 8, {dtype = dtype}) or lucid.randn(4, 3, 8, {dtype = dtype})
        local opts = {tgt_mask = nn.Transformer.generate_square_subsequent_mask(4, {dtype = dtype})}
        local expected = lucid.no_grad(m, src, tgt, opts)
        m:reuse_buffers()
        local y, same, growth = reuse_calls(function() return m(src, tgt, opts) end, 10)
        assert.is_true(same)
        assert.are.equal(0, growth)
        assert.is_true(lucid.allclose(expected, y, {atol = dtype == "float32" and 2e-6 or 1e-14}))
        local z = m(src, tgt, opts)  -- recording on: a fresh tensor with a graph, as usual
        assert.is_true(z.requires_grad and not rawequal(z, y))
        assert.is_true(lucid.equal(expected, z))
      end
    end)
  end

  it("leaves a function given as activation to the usual path", function()
    lucid.manual_seed(14)
    local layer = nn.TransformerEncoderLayer(8, 2, {dim_feedforward = 16, activation = lucid.tanh}):eval()
    local x = lucid.randn(4, 3, 8)
    local expected = lucid.no_grad(layer, x)
    layer:reuse_buffers()
    local y = reuse_calls(function() return layer(x) end, 2)
    assert.is_true(lucid.allclose(expected, y, {atol = 1e-6}))
  end)
end)

describe("index_select with out", function()
  it("writes the rows picked by an index of any shape and returns out", function()
    local w = lucid.randn(10, 9, {dtype = "float64"})
    local idx = lucid.tensor({{1, 10, 3}, {3, 2, 2}}, {dtype = "int64"})
    local out = lucid.empty(2, 3, 9, {dtype = "float64"})
    assert.is_true(rawequal(out, lucid.no_grad(lucid.index_select, w, 1, idx, out)))
    assert.is_true(lucid.equal(w:index_select(1, idx:reshape(-1)):reshape(2, 3, 9), out))
    -- a short row (the strided copy) along the second dim, indices as floats and as a list
    local a = lucid.randn(4, 5)
    local o2 = lucid.empty(4, 2, 2)
    lucid.no_grad(function() a:index_select(2, lucid.tensor({{5, 1}, {2, 2}}), o2) end)
    assert.is_true(lucid.equal(a:index_select(2, lucid.tensor({5, 1, 2, 2}, {dtype = "int64"})):reshape(4, 2, 2), o2))
    local o3 = lucid.empty(4, 2)
    assert.is_true(lucid.equal(a:index_select(2, {4, 1}), lucid.no_grad(lucid.index_select, a, 2, {4, 1}, o3)))
  end)

  it("refuses bad indices, wrong buffers and graphs", function()
    local w = lucid.randn(5, 3)
    local g = lucid.no_grad()
    local ok1, e1 = pcall(lucid.index_select, w, 1, lucid.tensor({1, 6}, {dtype = "int64"}), lucid.empty(2, 3))
    local ok2, e2 = pcall(lucid.index_select, w, 1, lucid.tensor({{1, 2}}, {dtype = "int64"}), lucid.empty(2, 3))
    local ok3, e3 = pcall(lucid.index_select, w, 1, lucid.tensor({true}), lucid.empty(1, 3))
    local ok4, e4 = pcall(lucid.index_select, w, 1, lucid.tensor({1.5}), lucid.empty(1, 3))
    H.close(g)
    assert.is_false(ok1 or ok2 or ok3 or ok4)
    assert.matches("lucid.index_select: index 6 is out of range for dimension 1 of size 5", e1, 1, true)
    assert.matches("lucid.index_select: out must be a contiguous float32 tensor of shape {1, 2, 3}, got float32 {2, 3}",
      e2, 1, true)
    assert.matches("lucid.index_select: index must hold integers, got a bool tensor", e3, 1, true)
    assert.matches("lucid.index_select: index 1.5 is not an integer", e4, 1, true)
    local wg = lucid.randn(5, 3, {requires_grad = true})
    assert.has_error(function() lucid.index_select(wg, 1, lucid.tensor({1}), lucid.empty(1, 3)) end,
      "lucid.index_select: out= writes without recording a graph: use it under no_grad, with an out that does not require grad")
  end)
end)

describe("reuse_buffers in Embedding", function()
  for _, dtype in ipairs({"float32", "float64"}) do
    it("allocates nothing after the first call and gives the usual values (" .. dtype .. ")", function()
      for _, c in ipairs({{"int64 indices"}, {"padding_idx", 2}, {"float indices", nil, "float32"}}) do
        lucid.manual_seed(15)
        local m = nn.Embedding(10, 6, c[2]):to(dtype)
        local idx = lucid.tensor({{1, 2, 3}, {10, 2, 2}}, {dtype = c[3] or "int64"})
        local expected = lucid.no_grad(m, idx)
        m:reuse_buffers()
        local y, same, growth = reuse_run(m, idx, 10)
        assert.is_true(same, c[1])
        assert.are.equal(0, growth, c[1])
        assert.is_true(lucid.equal(expected, y), c[1])
        local z = m(idx)  -- recording on: a fresh tensor with a graph, as usual
        assert.is_true(z.requires_grad and not rawequal(z, y), c[1])
      end
    end)
  end

  it("keeps the layer's error for a bad index and follows new shapes", function()
    local m = nn.Embedding(10, 6):reuse_buffers()
    local g = lucid.no_grad()
    local a = m(lucid.tensor({1, 2}, {dtype = "int64"}))
    local ok, e = pcall(m, lucid.tensor({3, 11}, {dtype = "int64"}))
    local b = m({{4}, {5}})
    H.close(g)
    assert.are.same({2, 6}, a.shape)
    assert.is_false(ok)
    assert.matches("nn.Embedding: index 11 (element 2 of the input {2}) is out of range 1..10", e, 1, true)
    assert.are.same({2, 1, 6}, b.shape)
  end)
end)
