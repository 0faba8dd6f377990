-- Recurrent layers: nn.RNN, nn.LSTM, nn.GRU and their cells against PyTorch
-- (tests/fixtures/rnn.lua, written by scripts/gen_fixtures_rnn.py), the
-- fused core ops (lucid.lstm, lucid.gru_cell, ...) by finite differences,
-- PackedSequence and its helpers, and the errors.
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")
local fixtures = dofile("tests/fixtures/rnn.lua")

local nn = lucid.nn
local U = nn.utils.rnn

-- the module of a fixture case, with its parameters, in dtype
local function module_of(c, dtype)
  local opts = {}
  for k, v in pairs(c.options) do opts[k] = v end
  opts.input_size, opts.hidden_size = nil, nil
  opts.dtype = dtype
  local m = nn[c.module](c.options.input_size, c.options.hidden_size, opts)
  local sd = {}
  for k, t in pairs(c.params) do sd[k] = H.tensor(t, {dtype = dtype}) end
  m:load_state_dict(sd)
  return m
end

local function run_case(c, dtype, rtol, atol)
  local m = module_of(c, dtype)
  local x = H.tensor(c.input, {dtype = dtype, requires_grad = true})
  local hx = {}
  for i, h in ipairs(c.hx) do hx[i] = H.tensor(h, {dtype = dtype, requires_grad = true}) end
  local cell = c.module:find("Cell$") ~= nil
  local lstm = c.module:find("^LSTM") ~= nil
  local arg
  if #hx > 0 then arg = lstm and hx or hx[1] end
  local inp = x
  if c.lengths then
    inp = U.pack_padded_sequence(x, c.lengths, {batch_first = c.options.batch_first or false,
      enforce_sorted = c.enforce_sorted})
  end
  local outs
  if cell then
    outs = {m(inp, arg)}
  else
    local out, h = m(inp, arg)
    if c.lengths then
      out = U.pad_packed_sequence(out, {batch_first = c.options.batch_first or false})
    end
    outs = lstm and {out, h[1], h[2]} or {out, h}
  end
  assert.are.equal(#c.outputs, #outs, c.name)
  local loss
  for k, o in ipairs(outs) do
    assert.are.equal(dtype, o.dtype)
    H.assert_close(o:double(), c.outputs[k], rtol, atol, c.name .. ": output " .. k)
    local term = (o * H.tensor(c.seeds[k], {dtype = dtype})):sum()
    loss = loss and loss + term or term
  end
  loss:backward()
  H.assert_close(x.grad:double(), c.grads.input, rtol, atol, c.name .. ": grad of input")
  for i, g in ipairs(c.grads.hx) do
    H.assert_close(hx[i].grad:double(), g, rtol, atol, c.name .. ": grad of hx " .. i)
  end
  local n = 0
  for k, g in pairs(c.grads.params) do
    n = n + 1
    local p = m[k]
    assert.is_not_nil(p.grad, c.name .. ": no grad for " .. k)
    H.assert_close(p.grad:double(), g, rtol, atol, c.name .. ": grad of " .. k)
  end
  assert.are.equal(n, #m:parameters())
end

describe("recurrent layers against PyTorch", function()
  for _, c in ipairs(fixtures) do
    it(c.name .. " (float64)", function() run_case(c, "float64", 1e-10, 1e-12) end)
    it(c.name .. " (float32)", function() run_case(c, "float32", 1e-5, 1e-5) end)
  end

  it("covers every recurrent op of the registry", function()
    local seen = {}
    for _, c in ipairs(fixtures) do seen[c.op] = true end
    for _, op in ipairs(require("lucid.core")._ops()) do
      if op.family == "rnn" then assert.is_true(seen[op.name], op.name) end
    end
  end)
end)

-- all results of a recurrent op as one flat tensor (for gradcheck)
local function flat_all(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = select(i, ...):reshape(-1) end
  return lucid.cat(parts)
end

describe("the fused recurrent ops by finite differences (float64)", function()
  local m = H.maker()
  local function away(v) return v + (v < 0 and -0.3 or 0.3) end  -- relu's kink stays away
  local cases = {
    {"rnn_tanh", function(x, h, wi, wh, bi, bh) return flat_all(lucid.rnn_tanh(x, h, wi, wh, bi, bh)) end,
     {m(3, 2, 3), m(2, 4), m(4, 3), m(4, 4), m(4), m(4)}},
    {"rnn_relu, reverse", function(x, h, wi, wh, bi, bh)
      return flat_all(lucid.rnn_relu(x, h, wi, wh, bi, bh, {reverse = true}))
    end, {H.maker(away)(3, 2, 3), H.maker(away)(2, 4), m(4, 3), m(4, 4), m(4), m(4)}},
    {"lstm", function(x, h, c, wi, wh, bi, bh) return flat_all(lucid.lstm(x, {h, c}, wi, wh, bi, bh)) end,
     {m(3, 2, 3), m(2, 4), m(2, 4), m(16, 3), m(16, 4), m(16), m(16)}},
    {"lstm with a projection, packed, reverse", function(x, h, c, wi, wh, bi, bh, wr)
      return flat_all(lucid.lstm(x, {h, c}, wi, wh, bi, bh, wr, {batch_sizes = {3, 2, 2, 1}, reverse = true}))
    end, {m(8, 3), m(3, 2), m(3, 4), m(16, 3), m(16, 2), m(16), m(16), m(2, 4)}},
    {"gru, packed", function(x, h, wi, wh, bi, bh)
      return flat_all(lucid.gru(x, h, wi, wh, bi, bh, {batch_sizes = lucid.tensor({3, 1}, {dtype = "int64"})}))
    end, {m(4, 3), m(3, 4), m(12, 3), m(12, 4), m(12), m(12)}},
    {"gru without biases", function(x, h, wi, wh) return flat_all(lucid.gru(x, h, wi, wh)) end,
     {m(3, 2, 3), m(2, 4), m(12, 3), m(12, 4)}},
    {"rnn_tanh_cell", function(x, h, wi, wh, bi, bh) return lucid.rnn_tanh_cell(x, h, wi, wh, bi, bh) end,
     {m(2, 3), m(2, 4), m(4, 3), m(4, 4), m(4), m(4)}},
    {"rnn_relu_cell", function(x, h, wi, wh) return lucid.rnn_relu_cell(x, h, wi, wh) end,
     {H.maker(away)(2, 3), H.maker(away)(2, 4), m(4, 3), m(4, 4)}},
    {"lstm_cell", function(x, h, c, wi, wh, bi, bh) return flat_all(lucid.lstm_cell(x, {h, c}, wi, wh, bi, bh)) end,
     {m(2, 3), m(2, 4), m(2, 4), m(16, 3), m(16, 4), m(16), m(16)}},
    {"gru_cell", function(x, h, wi, wh, bi, bh) return lucid.gru_cell(x, h, wi, wh, bi, bh) end,
     {m(2, 3), m(2, 4), m(12, 3), m(12, 4), m(12), m(12)}},
  }
  H.gradcheck_cases(cases, 42)
end)

describe("the recorded rule (create_graph)", function()
  it("gives the fused rule's gradients, with a graph", function()
    lucid.manual_seed(11)
    local F = {dtype = "float64", requires_grad = true}
    local function leaves(...)
      local t = {}
      for i, s in ipairs({...}) do t[i] = lucid.randn(s, F) end
      return t
    end
    local runs = {
      {function(a) return flat_all(lucid.lstm(a[1], {a[2], a[3]}, a[4], a[5], a[6], a[7], a[8],
        {batch_sizes = {3, 2, 2, 1}, reverse = true})) end,
       leaves({8, 3}, {3, 2}, {3, 4}, {16, 3}, {16, 2}, {16}, {16}, {2, 4})},
      {function(a) return flat_all(lucid.gru(a[1], a[2], a[3], a[4], a[5], a[6], {batch_sizes = {2, 1}})) end,
       leaves({3, 3}, {2, 4}, {12, 3}, {12, 4}, {12}, {12})},
      {function(a) return lucid.rnn_relu(a[1], a[2], a[3], a[4]) end, leaves({3, 2, 3}, {2, 4}, {4, 3}, {4, 4})},
    }
    for k, r in ipairs(runs) do
      local y = r[1](r[2])
      local seed = lucid.randn(y.shape, {dtype = "float64"})
      local fused = {lucid.autograd.grad(y, r[2], seed, {retain_graph = true})}
      local recorded = {lucid.autograd.grad(y, r[2], seed, {create_graph = true})}
      for i = 1, #r[2] do
        H.assert_close(recorded[i], fused[i], 1e-12, 1e-13, "run " .. k .. ", input " .. i)
      end
      assert.is_true(recorded[4].requires_grad)
    end
  end)
end)

describe("recurrent modules", function()
  it("have PyTorch's parameter names, shapes and order, and its init bounds", function()
    local lstm = nn.LSTM(3, 5, {num_layers = 2, bidirectional = true, proj_size = 2, bias = true})
    local names = {}
    for name, p in lstm:named_parameters() do
      names[#names + 1] = name .. " " .. H.shape_str(p.shape)
      assert.is_true(p:abs():max():item() <= 1 / math.sqrt(5))
    end
    assert.are.same({
      "weight_ih_l0 {20, 3}", "weight_hh_l0 {20, 2}", "bias_ih_l0 {20}", "bias_hh_l0 {20}", "weight_hr_l0 {2, 5}",
      "weight_ih_l0_reverse {20, 3}", "weight_hh_l0_reverse {20, 2}", "bias_ih_l0_reverse {20}",
      "bias_hh_l0_reverse {20}", "weight_hr_l0_reverse {2, 5}",
      "weight_ih_l1 {20, 4}", "weight_hh_l1 {20, 2}", "bias_ih_l1 {20}", "bias_hh_l1 {20}", "weight_hr_l1 {2, 5}",
      "weight_ih_l1_reverse {20, 4}", "weight_hh_l1_reverse {20, 2}", "bias_ih_l1_reverse {20}",
      "bias_hh_l1_reverse {20}", "weight_hr_l1_reverse {2, 5}"}, names)
    local gru = nn.GRUCell(3, 4, {bias = false, dtype = "float64"})
    names = {}
    for name, p in gru:named_parameters() do
      names[#names + 1] = name .. " " .. H.shape_str(p.shape)
      assert.are.equal("float64", p.dtype)
    end
    assert.are.same({"weight_ih {12, 3}", "weight_hh {12, 4}"}, names)
    assert.are.equal("RNN(3, 4, num_layers=2, nonlinearity=relu, bias=false, batch_first=true)",
      tostring(nn.RNN(3, 4, 2, false, {batch_first = true, nonlinearity = "relu"})))
    assert.are.equal("LSTMCell(3, 4, bias=false)", tostring(nn.LSTMCell(3, 4, false)))
    assert.is_nil(lstm:flatten_parameters())  -- PyTorch's, for cuDNN: nothing to do here
  end)

  it("load a state dict PyTorch saved as safetensors, unchanged", function()
    local fx = fixtures.interop
    local sd = lucid.load("tests/fixtures/rnn_lstm.safetensors")
    local o = fx.options
    local lstm = nn.LSTM(o.input_size, o.hidden_size, {num_layers = o.num_layers,
      bidirectional = o.bidirectional, proj_size = o.proj_size, batch_first = o.batch_first})
    lstm:load_state_dict(sd)  -- strict: every key and shape as PyTorch's
    assert.are.equal("float32", lstm.weight_hr_l1_reverse.dtype)
    local out, hc = lstm(H.tensor(fx.input, {dtype = "float32"}))
    H.assert_close(out:double(), fx.outputs[1], 1e-5, 1e-6, "output")
    H.assert_close(hc[1]:double(), fx.outputs[2], 1e-5, 1e-6, "h_n")
    H.assert_close(hc[2]:double(), fx.outputs[3], 1e-5, 1e-6, "c_n")
  end)

  it("feed their state back: two calls equal one over the joined sequence", function()
    lucid.manual_seed(3)
    local lstm = nn.LSTM(3, 4, {num_layers = 2, dtype = "float64"})
    local x = lucid.randn({6, 2, 3}, {dtype = "float64"})
    local all = lstm(x)
    local o1, hc = lstm(x:narrow(1, 1, 2))
    local o2 = lstm(x:narrow(1, 3, 4), hc)
    H.assert_close(lucid.cat({o1, o2}, 1), all, 1e-12, 1e-14)
    -- the cell, step by step, is the layer
    local cell = nn.GRUCell(3, 4, {dtype = "float64"})
    local gru = nn.GRU(3, 4, {dtype = "float64"})
    gru:load_state_dict({weight_ih_l0 = cell.weight_ih, weight_hh_l0 = cell.weight_hh,
      bias_ih_l0 = cell.bias_ih, bias_hh_l0 = cell.bias_hh})
    local out = gru(x)
    local h
    for t = 1, 6 do
      h = cell(x[t], h)
      H.assert_close(h, out[t], 1e-12, 1e-14)
    end
  end)

  it("give the same results under no_grad (a per-step workspace, nothing kept)", function()
    lucid.manual_seed(4)
    local lstm = nn.LSTM(3, 4, {num_layers = 2, bidirectional = true, proj_size = 2, dtype = "float64"})
    local gru = nn.GRU(3, 4, {bidirectional = true, dtype = "float64"})
    local packed = U.pack_sequence({lucid.randn({4, 3}, {dtype = "float64"}),
      lucid.randn({2, 3}, {dtype = "float64"}), lucid.randn({3, 3}, {dtype = "float64"})},
      {enforce_sorted = false})
    for _, m in ipairs({lstm, gru}) do
      local out, h = m(packed)
      local out0, h0 = lucid.no_grad(function() return m(packed) end)
      assert.is_nil(out0.data.grad_fn)
      H.assert_close(out0.data, out.data, 0, 0)
      if m == lstm then
        H.assert_close(h0[1], h[1], 0, 0)
        H.assert_close(h0[2], h[2], 0, 0)
      else
        H.assert_close(h0, h, 0, 0)
      end
    end
  end)

  it("apply dropout between layers in training mode only", function()
    lucid.manual_seed(5)
    local rnn = nn.RNN(3, 4, {num_layers = 2, dropout = 0.5, dtype = "float64"})
    local x = lucid.randn({4, 2, 3}, {dtype = "float64"})
    rnn:eval()
    local a = rnn(x)
    local plain = nn.RNN(3, 4, {num_layers = 2, dtype = "float64"})
    plain:load_state_dict(rnn:state_dict())
    H.assert_close(a, plain(x), 0, 0)
    rnn:train()
    assert.is_false(lucid.allclose(rnn(x), a))
  end)

  it("take and give PackedSequence, sorted back to the input's order", function()
    lucid.manual_seed(9)
    local gru = nn.GRU(2, 3, {dtype = "float64"})
    local seqs = {lucid.randn({2, 2}, {dtype = "float64"}), lucid.randn({4, 2}, {dtype = "float64"}),
      lucid.randn({3, 2}, {dtype = "float64"})}
    local packed = U.pack_sequence(seqs, {enforce_sorted = false})
    assert.is_true(U.is_packed(packed))
    assert.are.same({2, 3, 1}, H.flat(packed.sorted_indices))
    assert.are.same({3, 1, 2}, H.flat(packed.unsorted_indices))
    assert.are.same({3, 3, 2, 1}, H.flat(packed.batch_sizes))
    local out, h_n = gru(packed)
    assert.is_true(U.is_packed(out))
    local padded, lengths = U.pad_packed_sequence(out, {batch_first = true})
    assert.are.same({2, 4, 3}, H.flat(lengths))
    for i, s in ipairs(seqs) do
      local o, h = gru(s)  -- unbatched, one sequence alone
      H.assert_close(padded[i]:narrow(1, 1, s.shape[1]), o, 1e-12, 1e-14)
      H.assert_close(h_n[{{}, i}], h, 1e-12, 1e-14)
      if s.shape[1] < 4 then
        assert.are.equal(0, padded[i]:narrow(1, s.shape[1] + 1, 4 - s.shape[1]):abs():sum():item())
      end
    end
    local p2 = U.pad_sequence(seqs, {padding_value = -1})
    assert.are.same({4, 3, 2}, p2.shape)
    assert.are.equal(-1, p2[4][1][1]:item())
    local again = U.pad_packed_sequence(packed, {total_length = 6})
    assert.are.same({6, 3, 2}, again.shape)
  end)
end)

describe("recurrent errors", function()
  local x = lucid.zeros(5, 3, 4)
  it("name the module, the argument and the shapes", function()
    H.assert_error("nn.LSTM: input {5, 3, 4}: the last dim must be input_size 2, got 4",
      function() nn.LSTM(2, 3)(x) end)
    H.assert_error("nn.GRU: expected input to be 2-D (unbatched) or 3-D, got 4-D {1, 5, 3, 4}",
      function() nn.GRU(4, 3)(x:unsqueeze(1)) end)
    H.assert_error("nn.GRU: expected hx of shape {2, 3, 3}, got {1, 3, 3}",
      function() nn.GRU(4, 3, 2)(x, lucid.zeros(1, 3, 3)) end)
    H.assert_error("nn.LSTM: hx must be a table {h0, c0}, got a tensor",
      function() nn.LSTM(4, 3)(x, lucid.zeros(1, 3, 3)) end)
    H.assert_error("nn.LSTM: expected c0 (hx[2]) of shape {1, 3, 5}, got {1, 3, 2}",
      function() nn.LSTM(4, 5, {proj_size = 2})(x, {lucid.zeros(1, 3, 2), lucid.zeros(1, 3, 2)}) end)
    H.assert_error("nn.LSTM: proj_size has to be smaller than hidden_size, got proj_size 3 and hidden_size 3",
      function() nn.LSTM(4, 3, {proj_size = 3}) end)
    H.assert_error("nn.RNN: nonlinearity must be 'tanh' or 'relu', got 'gelu'",
      function() nn.RNN(4, 3, {nonlinearity = "gelu"}) end)
    H.assert_error("nn.GRU: unknown option 'proj_size'", function() nn.GRU(4, 3, {proj_size = 2}) end)
    H.assert_error("nn.LSTMCell: expected c (hx[2]) of shape {3, 2}, got {3, 3}",
      function() nn.LSTMCell(4, 2)(x[1], {lucid.zeros(3, 2), lucid.zeros(3, 3)}) end)
    H.assert_error("nn.GRUCell: input {3, 4}: the last dim must be input_size 2, got 4",
      function() nn.GRUCell(2, 2)(x[1]) end)
  end)

  it("name the op and the operand in the fused ops", function()
    local h = lucid.zeros(3, 2)
    H.assert_error("lucid.gru: weight_ih must be 2-D with 3 * hidden_size rows, got shape {7, 4}",
      function() lucid.gru(x, h, lucid.zeros(7, 4), lucid.zeros(6, 2)) end)
    H.assert_error("lucid.gru: weight_ih {6, 3} does not fit input {5, 3, 4} (input_size 4)",
      function() lucid.gru(x, h, lucid.zeros(6, 3), lucid.zeros(6, 2)) end)
    H.assert_error("lucid.rnn_tanh: h0 must have shape {3, 2} (batch 3, size 2), got {2, 2}",
      function() lucid.rnn_tanh(x, lucid.zeros(2, 2), lucid.zeros(2, 4), lucid.zeros(2, 2)) end)
    H.assert_error("lucid.rnn_tanh: weight_hh must have shape {2, 2} (1 * hidden_size, hidden_size 2), got {2, 3}",
      function() lucid.rnn_tanh(x, h, lucid.zeros(2, 4), lucid.zeros(2, 3)) end)
    H.assert_error("lucid.rnn_tanh: bias_ih and bias_hh go together",
      function() lucid.rnn_tanh(x, h, lucid.zeros(2, 4), lucid.zeros(2, 2), lucid.zeros(2)) end)
    H.assert_error("lucid.lstm: hx must be a table {h, c} of two tensors, got a tensor",
      function() lucid.lstm(x, h, lucid.zeros(8, 4), lucid.zeros(8, 2)) end)
    H.assert_error("lucid.rnn_tanh: weight_hh must have the input's dtype float32, got float64",
      function() lucid.rnn_tanh(x, h, lucid.zeros(2, 4), lucid.zeros({2, 2}, {dtype = "float64"})) end)
    H.assert_error("lucid.rnn_tanh: input must be 3-D (seq_len, batch, input_size), got shape {3, 4}",
      function() lucid.rnn_tanh(x[1], h, lucid.zeros(2, 4), lucid.zeros(2, 2)) end)
    local packed = lucid.zeros(6, 4)
    H.assert_error("lucid.rnn_tanh: batch_sizes must be positive and non-increasing, got 3 at step 2 after 2",
      function() lucid.rnn_tanh(packed, lucid.zeros(2, 2), lucid.zeros(2, 4), lucid.zeros(2, 2),
        {batch_sizes = {2, 3, 1}}) end)
    H.assert_error("lucid.rnn_tanh: batch_sizes add up to 5 rows, but input {6, 4} has 6",
      function() lucid.rnn_tanh(packed, lucid.zeros(3, 2), lucid.zeros(2, 4), lucid.zeros(2, 2),
        {batch_sizes = {3, 2}}) end)
    H.assert_error("lucid.lstm: weight_hr must have shape (proj_size, hidden_size 2) with 0 < proj_size < hidden_size, got {2, 2}",
      function() lucid.lstm(x, {h, h}, lucid.zeros(8, 4), lucid.zeros(8, 2), nil, nil, lucid.zeros(2, 2)) end)
  end)

  it("check the packing helpers' arguments", function()
    H.assert_error("nn.utils.rnn.pack_padded_sequence: lengths must be sorted in decreasing order when enforce_sorted is true",
      function() U.pack_padded_sequence(lucid.zeros(3, 2, 1), {1, 3}) end)
    H.assert_error("nn.utils.rnn.pack_padded_sequence: lengths[2] = 4: every length must be between 1 and the padded length 3",
      function() U.pack_padded_sequence(lucid.zeros(3, 2, 1), {3, 4}) end)
    H.assert_error("nn.utils.rnn.pack_padded_sequence: expected 2 lengths (the batch of input {3, 2, 1}), got 3",
      function() U.pack_padded_sequence(lucid.zeros(3, 2, 1), {3, 2, 1}) end)
    H.assert_error("nn.utils.rnn.pad_packed_sequence: sequence must be a PackedSequence, got a tensor",
      function() U.pad_packed_sequence(lucid.zeros(3)) end)
    H.assert_error("nn.utils.rnn.pad_sequence: sequences[2] {2, 3} does not match sequences[1] {2, 2} past the first dim",
      function() U.pad_sequence({lucid.zeros(2, 2), lucid.zeros(2, 3)}) end)
  end)
end)
