-- Attention against PyTorch (tests/fixtures/attn.lua, written by
-- scripts/gen_fixtures_attn.py): lucid.masked_softmax (the core's fused op),
-- nn.functional.scaled_dot_product_attention, nn.MultiheadAttention and the
-- transformer layers, outputs and the gradients of inputs and every
-- parameter, in float64 and float32; finite-difference gradient checks of
-- the fused op; the error messages of wrong shapes and mask dtypes.
local lucid = require("lucid")
local nn = require("lucid.nn")
local F = require("lucid.nn.functional")
local H = dofile("tests/helpers.lua")
local fixtures = dofile("tests/fixtures/attn.lua")

local TOL = {float64 = {1e-10, 1e-12}, float32 = {1e-5, 1e-5}}

local function T(fx, dtype, bool, requires_grad)
  if bool then return H.tensor(fx):bool() end
  return H.tensor(fx, {dtype = dtype, requires_grad = requires_grad})
end

local function close(actual, expected, dtype, what)
  local tol = TOL[dtype]
  H.assert_close(actual, expected, tol[1], tol[2], dtype .. " " .. what)
end

describe("lucid.masked_softmax", function()
  for _, dtype in ipairs({"float64", "float32"}) do
    it("matches PyTorch's softmax of scale * x + mask, and its gradients (" .. dtype .. ")", function()
      for _, c in ipairs(fixtures.ops) do
        local x = T(c.inputs[1], dtype, false, true)
        local m
        if c.inputs[2] then m = T(c.inputs[2], dtype, c.mask_bool, c.mask_grad) end
        local y = lucid.masked_softmax(x, m, c.scale)
        close(y, c.output, dtype, c.name)
        y:backward(T(c.seed, dtype))
        close(x.grad, c.grads[1], dtype, c.name .. " grad x")
        if c.mask_grad then close(m.grad, c.grads[2], dtype, c.name .. " grad mask") end
      end
    end)
  end

  it("passes finite-difference gradient checks, first and second order", function()
    lucid.manual_seed(3)
    local x = lucid.randn(2, 3, 4, {dtype = "float64", requires_grad = true})
    local fm = lucid.randn(3, 4, {dtype = "float64", requires_grad = true})
    local bm = lucid.tensor({false, true, false, false}, {dtype = "bool"})
    local gc, ggc = lucid.autograd.gradcheck, lucid.autograd.gradgradcheck
    assert.is_true(gc(function(a) return lucid.masked_softmax(a, bm, 0.7) end, {x}))
    assert.is_true(gc(function(a, b) return lucid.masked_softmax(a, b, 0.7) end, {x, fm}))
    assert.is_true(gc(function(a) return lucid.masked_softmax(a) end, {x}))
    assert.is_true(ggc(function(a, b) return lucid.masked_softmax(a, b, 0.7) end, {x, fm}))
  end)

  it("records MaskedSoftmaxBackward and keeps the mask out of autograd when bool", function()
    local x = lucid.randn(2, 3, {requires_grad = true})
    local y = lucid.masked_softmax(x, lucid.tensor({true, false, false}, {dtype = "bool"}))
    assert.are.equal("MaskedSoftmaxBackward", y.grad_fn)
    assert.are.same({0, 0}, H.flat(y[{{}, 1}]))
  end)

  it("gives NaN for a row whose every score is masked out, as PyTorch's softmax", function()
    local y = lucid.masked_softmax(lucid.zeros(2, 2), lucid.tensor({{true, true}, {false, true}}, {dtype = "bool"}))
    local v = H.flat(y)
    assert.is_true(v[1] ~= v[1] and v[2] ~= v[2])
    assert.are.same({1, 0}, {v[3], v[4]})
  end)

  it("refuses masks of other dtypes and shapes, naming them", function()
    local x = lucid.zeros(2, 3)
    assert.has_error(function() lucid.masked_softmax(x, lucid.zeros(3, {dtype = "int64"})) end,
      "lucid.masked_softmax: mask must be bool or of the scores' dtype float32, got int64")
    assert.has_error(function() lucid.masked_softmax(x, lucid.zeros(3, {dtype = "float64"})) end,
      "lucid.masked_softmax: mask must be bool or of the scores' dtype float32, got float64")
    local ok, err = pcall(lucid.masked_softmax, x, lucid.zeros(4))
    assert.is_false(ok)
    assert.truthy(err:find("mask {4} does not broadcast to the scores {2, 3}", 1, true), err)
    ok, err = pcall(lucid.masked_softmax, lucid.zeros(3, {dtype = "int64"}))
    assert.truthy(err:find("scores must be float32 or float64, got int64", 1, true), err)
  end)
end)

describe("nn.functional.scaled_dot_product_attention", function()
  for _, dtype in ipairs({"float64", "float32"}) do
    it("matches the math of PyTorch 2.x, masks true = masked out (" .. dtype .. ")", function()
      for _, c in ipairs(fixtures.sdpa) do
        local q = T(c.inputs[1], dtype, false, true)
        local k = T(c.inputs[2], dtype, false, true)
        local v = T(c.inputs[3], dtype, false, true)
        local m = c.mask and T(c.mask, dtype, c.mask_bool) or nil
        local out = F.scaled_dot_product_attention(q, k, v, m, 0, c.is_causal, {scale = c.scale})
        close(out, c.output, dtype, c.name)
        out:backward(T(c.seed, dtype))
        close(q.grad, c.grads[1], dtype, c.name .. " grad q")
        close(k.grad, c.grads[2], dtype, c.name .. " grad k")
        close(v.grad, c.grads[3], dtype, c.name .. " grad v")
      end
    end)
  end

  it("passes a finite-difference gradient check", function()
    lucid.manual_seed(5)
    local o = {dtype = "float64", requires_grad = true}
    local q, k, v = lucid.randn(2, 3, 4, o), lucid.randn(2, 5, 4, o), lucid.randn(2, 5, 2, o)
    local m = lucid.randn(3, 5, o)
    assert.is_true(lucid.autograd.gradcheck(function(a, b, c, d)
      return F.scaled_dot_product_attention(a, b, c, d)
    end, {q, k, v, m}))
  end)

  it("drops attention weights with dropout_p, from the seeded generator", function()
    local q, k, v = lucid.randn(4, 3), lucid.randn(5, 3), lucid.randn(5, 2)
    local ref = F.scaled_dot_product_attention(q, k, v)
    lucid.manual_seed(1)
    local a = F.scaled_dot_product_attention(q, k, v, nil, 0.5)
    lucid.manual_seed(1)
    local b = F.scaled_dot_product_attention(q, k, v, {dropout_p = 0.5})
    assert.is_true(lucid.equal(a, b))
    assert.is_false(lucid.allclose(a, ref))
    assert.is_true(lucid.allclose(F.scaled_dot_product_attention(q, k, v, nil, 1), lucid.zeros(4, 2)))
  end)

  it("names the shapes and options that do not fit", function()
    local q, k, v = lucid.zeros(2, 3, 4), lucid.zeros(2, 5, 4), lucid.zeros(2, 5, 6)
    local f = F.scaled_dot_product_attention
    local function err(...)
      local ok, e = pcall(f, ...)
      assert.is_false(ok)
      return e
    end
    local e = err(q, lucid.zeros(2, 5, 3), v)
    assert.truthy(e:find("nn.functional.scaled_dot_product_attention: query {2, 3, 4} and key {2, 5, 3} must end with the same size E (4 ~= 3)", 1, true), e)
    e = err(q, k, lucid.zeros(2, 4, 6))
    assert.truthy(e:find("key {2, 5, 4} and value {2, 4, 6} must have the same length S (5 ~= 4)", 1, true), e)
    e = err(q, k, v, lucid.zeros(3, 5, {dtype = "int64"}))
    assert.truthy(e:find("attn_mask must be bool (true: masked out) or float32 like the query (added to the scores), got int64", 1, true), e)
    e = err(q, k, v, lucid.zeros(4, 5, {dtype = "bool"}))
    assert.truthy(e:find("attn_mask {4, 5} does not broadcast to the scores {2, 3, 5} (..., L, S)", 1, true), e)
    e = err(q, k, v, lucid.zeros(3, 5, {dtype = "bool"}), 0, true)
    assert.truthy(e:find("attn_mask cannot be given with is_causal = true", 1, true), e)
    e = err(q, k, v, {scal = 1})
    assert.truthy(e:find("unknown option 'scal' (did you mean 'scale'?)", 1, true), e)
    e = err(lucid.zeros(3), k, v)
    assert.truthy(e:find("need at least 2 dims", 1, true), e)
  end)
end)

-- ---- modules --------------------------------------------------------------------

local function state_of(params, dtype)
  local sd = {}
  for name, t in pairs(params) do sd[name] = H.tensor(t, {dtype = dtype}) end
  return sd
end

-- nn[class] built from a fixture's args (the stacks take a layer to clone).
local function build(c)
  local a = c.args
  if c.class == "TransformerEncoder" then
    local layer = nn.TransformerEncoderLayer(a.d_model, a.nhead, a.dim_feedforward, 0)
    return nn.TransformerEncoder(layer, a.num_layers, a.norm and nn.LayerNorm(a.d_model) or nil)
  elseif c.class == "TransformerDecoder" then
    local layer = nn.TransformerDecoderLayer(a.d_model, a.nhead, a.dim_feedforward, 0,
      {norm_first = a.norm_first})
    return nn.TransformerDecoder(layer, a.num_layers, a.norm and nn.LayerNorm(a.d_model) or nil)
  end
  return nn[c.class](a)
end

local function check_module(c, dtype)
  local m = build(c)
  m:to(dtype)
  m:load_state_dict(state_of(c.params, dtype))
  local inputs = {}
  for i, t in ipairs(c.inputs) do inputs[i] = T(t, dtype, false, true) end
  local opts = {}
  for k, v in pairs(c.options or {}) do opts[k] = v end
  for k, t in pairs(c.masks or {}) do opts[k] = T(t, dtype, c.bool and c.bool[k]) end
  local call = c.self_attn and {inputs[1], inputs[1], inputs[1]} or inputs
  call[#call + 1] = opts
  local out, weights = m(H.unpack(call))
  close(out, c.output, dtype, c.name)
  if c.weights then close(weights, c.weights, dtype, c.name .. " weights")
  elseif c.class == "MultiheadAttention" then assert.is_nil(weights) end
  out:backward(T(c.seed, dtype))
  for i, g in ipairs(c.grads.inputs) do close(inputs[i].grad, g, dtype, c.name .. " grad input " .. i) end
  local seen = 0
  for name, p in m:named_parameters() do
    assert.is_truthy(c.grads.params[name], c.name .. ": parameter " .. name .. " not in PyTorch's")
    close(p.grad, c.grads.params[name], dtype, c.name .. " grad " .. name)
    seen = seen + 1
  end
  local want = 0
  for _ in pairs(c.grads.params) do want = want + 1 end
  assert.are.equal(want, seen, c.name .. ": parameter count")
end

describe("nn.MultiheadAttention and the transformer layers", function()
  for _, dtype in ipairs({"float64", "float32"}) do
    it("match PyTorch 1.13: outputs, weights, input and parameter gradients (" .. dtype .. ")", function()
      for _, c in ipairs(fixtures.modules) do
        check_module(c, dtype)
      end
    end)
  end
end)

describe("nn.MultiheadAttention", function()
  it("has PyTorch's parameters, names, shapes and initialisation", function()
    lucid.manual_seed(0)
    local m = nn.MultiheadAttention(8, 2)
    local names = {}
    for name, p in m:named_parameters() do names[#names + 1] = name .. " " .. H.shape_str(p.shape) end
    assert.are.same({"in_proj_weight {24, 8}", "in_proj_bias {24}", "out_proj.weight {8, 8}",
      "out_proj.bias {8}"}, names)
    assert.are.equal(0, m.in_proj_bias:abs():sum():item())
    assert.are.equal(0, m.out_proj.bias:abs():sum():item())
    local bound = math.sqrt(6 / (8 + 24))  -- xavier_uniform_ of (24, 8)
    assert.is_true(m.in_proj_weight:abs():max():item() <= bound)
    local kv = nn.MultiheadAttention(8, 4, {kdim = 3, vdim = 5, add_bias_kv = true, bias = false})
    names = {}
    for name, p in kv:named_parameters() do names[#names + 1] = name .. " " .. H.shape_str(p.shape) end
    assert.are.same({"q_proj_weight {8, 8}", "k_proj_weight {8, 3}", "v_proj_weight {8, 5}",
      "bias_k {1, 1, 8}", "bias_v {1, 1, 8}", "out_proj.weight {8, 8}"}, names)
    assert.are.equal("float64", nn.MultiheadAttention(4, 2, {dtype = "float64"}).in_proj_weight.dtype)
  end)

  it("passes a finite-difference gradient check (inputs and a float attn_mask)", function()
    lucid.manual_seed(8)
    local m = nn.MultiheadAttention(4, 2, {add_bias_kv = true, dtype = "float64"})
    local o = {dtype = "float64", requires_grad = true}
    local q, kv, am = lucid.randn(3, 2, 4, o), lucid.randn(2, 2, 4, o), lucid.randn(3, 2, o)
    local pad = lucid.tensor({{false, true}, {false, false}})
    assert.is_true(lucid.autograd.gradcheck(function(a, b, c)
      return (m(a, b, b, {attn_mask = c, key_padding_mask = pad}))
    end, {q, kv, am}))
  end)

  it("prints as PyTorch's, its out_proj inside", function()
    assert.are.equal("MultiheadAttention(\n  (out_proj): Linear(in_features=8, out_features=8, bias=true)\n)",
      tostring(nn.MultiheadAttention(8, 2)))
  end)

  it("drops attention weights in training mode only", function()
    local m = nn.MultiheadAttention(4, 2, 0.5)
    local x = lucid.randn(3, 2, 4)
    m:eval()
    local a = m(x, x, x)
    local b = m(x, x, x)
    assert.is_true(lucid.equal(a, b))
    m:train()
    lucid.manual_seed(2)
    local _, w = m(x, x, x, {average_attn_weights = false})
    assert.is_true(w:eq(0):any():item())
  end)

  it("names what is wrong with its arguments", function()
    local function err(f)
      local ok, e = pcall(f)
      assert.is_false(ok)
      return e
    end
    local e = err(function() nn.MultiheadAttention(6, 4) end)
    assert.truthy(e:find("nn.MultiheadAttention: embed_dim (6) must be divisible by num_heads (4)", 1, true), e)
    e = err(function() nn.MultiheadAttention(8, 2, {batch_frist = true}) end)
    assert.truthy(e:find("unknown option 'batch_frist' (did you mean 'batch_first'?)", 1, true), e)
    local m = nn.MultiheadAttention(8, 2)
    local q, k = lucid.zeros(3, 2, 8), lucid.zeros(4, 2, 8)
    e = err(function() m(q, k, k, {key_padding_mask = lucid.zeros(2, 3, {dtype = "bool"})}) end)
    assert.truthy(e:find("key_padding_mask is {2, 3}, expected {2, 4} (N, S)", 1, true), e)
    e = err(function() m(q, k, k, {attn_mask = lucid.zeros(3, 3, {dtype = "bool"})}) end)
    assert.truthy(e:find("the 2-D attn_mask is {3, 3}, expected {3, 4} (L, S)", 1, true), e)
    e = err(function() m(q, k, k, {attn_mask = lucid.zeros(2, 3, 4, {dtype = "bool"})}) end)
    assert.truthy(e:find("the 3-D attn_mask is {2, 3, 4}, expected {4, 3, 4} (N * num_heads, L, S)", 1, true), e)
    e = err(function() m(q, k, k, {attn_mask = lucid.zeros(3, 4, {dtype = "int32"})}) end)
    assert.truthy(e:find("attn_mask must be bool (true: masked out) or float32", 1, true), e)
    e = err(function() m(lucid.zeros(3, 2, 7), k, k) end)
    assert.truthy(e:find("query {3, 2, 7} must end with embed_dim 8", 1, true), e)
    e = err(function() m(q, lucid.zeros(4, 3, 8), lucid.zeros(4, 3, 8)) end)
    assert.truthy(e:find("must have the same length and the batch size of query {3, 2, 8}", 1, true), e)
    e = err(function() m(lucid.zeros(8), k, k) end)
    assert.truthy(e:find("query {8} must be 3-D (batched) or 2-D (unbatched)", 1, true), e)
  end)
end)

describe("the transformer layers", function()
  it("have PyTorch's submodules and state-dict keys (ModuleList children from 1)", function()
    local enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, 0), 2, nn.LayerNorm(8))
    local keys = {}
    for k in pairs(enc:state_dict()) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.are.same({"layers.1.linear1.bias", "layers.1.linear1.weight", "layers.1.linear2.bias",
      "layers.1.linear2.weight", "layers.1.norm1.bias", "layers.1.norm1.weight", "layers.1.norm2.bias",
      "layers.1.norm2.weight", "layers.1.self_attn.in_proj_bias", "layers.1.self_attn.in_proj_weight",
      "layers.1.self_attn.out_proj.bias", "layers.1.self_attn.out_proj.weight"}, {H.unpack(keys, 1, 12)})
    assert.are.equal(26, #keys)  -- 12 per layer and norm.weight, norm.bias
    local names = {}
    for name in nn.TransformerDecoderLayer(8, 2):named_children() do names[#names + 1] = name end
    assert.are.same({"self_attn", "multihead_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "norm3",
      "dropout1", "dropout2", "dropout3"}, names)
  end)

  it("copy the layer into each place of a stack, values included, as PyTorch's deepcopy", function()
    local layer = nn.TransformerEncoderLayer(4, 2, 8, 0)
    local enc = nn.TransformerEncoder(layer, 2)
    assert.is_true(lucid.equal(enc.layers[1].linear1.weight, layer.linear1.weight))
    assert.is_true(lucid.equal(enc.layers[2].linear1.weight, layer.linear1.weight))
    enc.layers[1].linear1.weight.requires_grad = false
    enc.layers[1].linear1.weight:fill_(1)
    assert.is_false(lucid.equal(enc.layers[2].linear1.weight, enc.layers[1].linear1.weight))
    local ok, err = pcall(nn.TransformerEncoder, nn.Linear(2, 2), 2)
    assert.is_false(ok)
    assert.truthy(err:find("nn.TransformerEncoder: expected a layer made by nn.TransformerEncoderLayer", 1, true), err)
  end)

  it("take activation as \"relu\", \"gelu\" or a function", function()
    lucid.manual_seed(4)
    local x = lucid.randn(3, 2, 4)
    local a = nn.TransformerEncoderLayer(4, 2, 8, 0, "gelu")
    local b = nn.TransformerEncoderLayer(4, 2, 8, 0, {activation = lucid.gelu})
    b:load_state_dict(a:state_dict())
    assert.is_true(lucid.allclose(a(x), b(x)))
    local ok, err = pcall(nn.TransformerEncoderLayer, 4, 2, {activation = "tanh"})
    assert.is_false(ok)
    assert.truthy(err:find('activation must be "relu", "gelu" or a function, got "tanh"', 1, true), err)
  end)

  it("load PyTorch's state dicts unchanged: 0-based layers.0. keys read as layers.1.", function()
    for _, c in ipairs(fixtures.modules) do
      if c.class == "Transformer" or c.class == "TransformerEncoder" or c.class == "TransformerDecoder" then
        local m = build(c)
        m:to("float64")
        local sd = {}
        for name, t in pairs(c.params) do   -- the fixture's names back to PyTorch's
          name = name:gsub("layers%.(%d+)%.", function(i) return "layers." .. (tonumber(i) - 1) .. "." end)
          sd[name] = H.tensor(t)
        end
        assert.is_not_nil(sd["layers.0.linear1.weight"] or sd["encoder.layers.0.linear1.weight"])
        m:load_state_dict(sd)
        for name, t in pairs(m:state_dict()) do close(t, c.params[name], "float64", c.name .. " " .. name) end
      end
    end
  end)

  it("a state dict that does not fit names the first keys and how many, not hundreds", function()
    local enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8), 3)
    local ok, err = pcall(enc.load_state_dict, enc, {})
    assert.is_false(ok)
    assert.truthy(err:find('TransformerEncoder:load_state_dict: missing keys "layers.1.self_attn.in_proj_weight", ', 1, true), err)
    assert.truthy(err:find(", ... (36 in all)", 1, true), err)
    assert.is_true(#err < 500)
  end)

  it("generate_square_subsequent_mask is PyTorch's: -inf above the diagonal", function()
    local m = nn.Transformer.generate_square_subsequent_mask(3)
    assert.are.equal("float32", m.dtype)
    assert.are.same({{0, -math.huge, -math.huge}, {0, 0, -math.huge}, {0, 0, 0}}, m:tolist())
    assert.are.equal("float64", nn.Transformer.generate_square_subsequent_mask(2, {dtype = "float64"}).dtype)
  end)

  it("Transformer draws every matrix by xavier_uniform_ and checks its inputs", function()
    lucid.manual_seed(6)
    local t = nn.Transformer{d_model = 8, nhead = 2, num_encoder_layers = 1, num_decoder_layers = 1,
      dim_feedforward = 16}
    local lin = t.encoder.layers[1].linear1.weight
    assert.is_true(lin:abs():max():item() <= math.sqrt(6 / (8 + 16)))
    local ok, err = pcall(t, lucid.zeros(3, 2, 8), lucid.zeros(4, 3, 8))
    assert.is_false(ok)
    assert.truthy(err:find("nn.Transformer: the batch sizes of src {3, 2, 8} and tgt {4, 3, 8} differ", 1, true), err)
    ok, err = pcall(t, lucid.zeros(3, 2, 8), lucid.zeros(4, 2, 6))
    assert.truthy(err:find("must end with d_model 8", 1, true), err)
    local out = t(lucid.randn(3, 2, 8), lucid.randn(4, 2, 8),
      {tgt_mask = nn.Transformer.generate_square_subsequent_mask(4)})
    assert.are.same({4, 2, 8}, out.shape)
  end)
end)
