-- The layers (lua/lucid/nn/<Layer>.lua) and nn.init against PyTorch
-- (tests/fixtures/nn.lua, written by scripts/gen_fixtures_nn.py): outputs,
-- input and parameter gradients and running statistics in float64, then
-- finite-difference gradient checks, printing, train/eval behaviour, the
-- containers and the initialisers' statistics.
local lucid = require("lucid")
local nn = require("lucid.nn")
local H = dofile("tests/helpers.lua")
local fixtures = dofile("tests/fixtures/nn.lua")

-- The layers by name; required directly so the spec does not depend on
-- lucid.nn having been wired up yet.
local L = {Tanh = nn.Tanh, Linear = nn.Linear}
for _, name in ipairs({"Identity", "Bilinear", "Flatten", "Unflatten", "Dropout", "Embedding",
                       "LayerNorm", "BatchNorm1d", "ReLU", "LeakyReLU", "ELU", "SELU", "GELU",
                       "SiLU", "Sigmoid", "Softplus", "Softmax", "LogSoftmax", "Hardtanh",
                       "ModuleList", "ModuleDict"}) do
  L[name] = require("lucid.nn." .. name)
end
local init = require("lucid.nn.initializers")

local RTOL, ATOL = 1e-10, 1e-12

local function state_of(fx)
  local sd = {}
  for name, t in pairs(fx) do sd[name] = H.tensor(t) end
  return sd
end

local function named(iter)
  local out = {}
  for name, t in iter do out[name] = t end
  return out
end

local function check_layer(entry)
  local layer = L[entry.layer](H.unpack(entry.args))
  layer:load_state_dict(state_of(entry.params))
  if entry.eval then layer:eval() else layer:train() end
  local inputs = {}
  for i, fx in ipairs(entry.inputs) do
    inputs[i] = H.tensor(fx, {requires_grad = entry.needs_grad[i]})
  end
  for _ = 1, (entry.steps or 1) - 1 do layer(H.unpack(inputs)) end
  local out = layer(H.unpack(inputs))
  H.assert_close(out, entry.output, RTOL, ATOL, entry.name .. ": output")
  out:backward(H.tensor(entry.seed))
  H.assert_grads(inputs, entry.grads.input, RTOL, ATOL, entry.name)
  local params = named(layer:named_parameters())
  for name, g in pairs(entry.grads.params) do
    assert.is_not_nil(params[name], entry.name .. ": no parameter " .. name)
    H.assert_close(params[name].grad, g, RTOL, ATOL, entry.name .. ": grad of " .. name)
  end
  for name in pairs(params) do
    assert.is_not_nil(entry.grads.params[name], entry.name .. ": unexpected parameter " .. name)
  end
  if entry.state_after then
    local buffers = named(layer:named_buffers())
    for name, t in pairs(entry.state_after) do
      H.assert_close(buffers[name], t, RTOL, ATOL, entry.name .. ": buffer " .. name .. " after")
    end
  end
end

describe("layers against PyTorch (float64)", function()
  H.use_default_dtype("float64")
  for _, entry in ipairs(fixtures.layers) do
    it(entry.name, function() check_layer(entry) end)
  end
end)

describe("layers: finite-difference gradients", function()
  H.use_default_dtype("float64")
  local function leaf(...)
    return lucid.randn({...}, {requires_grad = true})
  end
  local function check(layer, inputs)
    local all = {}
    for _, x in ipairs(inputs) do all[#all + 1] = x end
    for _, p in ipairs(layer:parameters()) do all[#all + 1] = p end
    H.assert_gradcheck(function(...) return layer(H.unpack(inputs, 1, #inputs)) end, all)
  end
  before_each(function() lucid.manual_seed(11) end)

  it("Bilinear", function() check(L.Bilinear(3, 2, 4), {leaf(5, 3), leaf(5, 2)}) end)
  it("Bilinear, 3-d input", function() check(L.Bilinear(2, 3, 2), {leaf(2, 2, 2), leaf(2, 2, 3)}) end)
  it("Flatten", function() check(L.Flatten(), {leaf(2, 3, 2)}) end)
  it("Unflatten", function() check(L.Unflatten(2, {2, 2}), {leaf(3, 4)}) end)
  it("Embedding (weight)", function()
    local e = L.Embedding(5, 3)  -- (a padding row would get no gradient, as in PyTorch)
    local idx = lucid.tensor({{1, 2, 5}, {5, 5, 3}})
    H.assert_gradcheck(function() return e(idx) end, {e.weight})
  end)
  it("LayerNorm", function()
    local ln = L.LayerNorm({2, 3})
    init.normal_(ln.weight, 1, 0.3)
    init.normal_(ln.bias)
    check(ln, {leaf(4, 2, 3)})
  end)
  it("nn.functional.layer_norm: the layer's arithmetic, gradients to input, weight and bias", function()
    local ln = L.LayerNorm({2, 3})
    init.normal_(ln.weight, 1, 0.3)
    init.normal_(ln.bias)
    local x = leaf(4, 2, 3)
    H.assert_close(lucid.nn.functional.layer_norm(x, {2, 3}, ln.weight, ln.bias), ln(x), 0, 0)
    local w, b = leaf(3), leaf(3)
    H.assert_gradcheck(function(t, tw, tb) return lucid.nn.functional.layer_norm(t, 3, tw, tb, 1e-3) end,
      {leaf(2, 3), w, b})
    H.assert_error("nn.functional.layer_norm: input {4, 2, 3} does not end with normalized_shape {2} (expected {*, 2})",
      function() return lucid.nn.functional.layer_norm(x, 2) end)
    H.assert_error("nn.functional.layer_norm: bias has shape {3}, expected normalized_shape {2, 3}",
      function() return lucid.nn.functional.layer_norm(x, {2, 3}, nil, b) end)
  end)
  it("BatchNorm1d train {N, C}", function()
    local bn = L.BatchNorm1d(3)
    init.normal_(bn.weight, 1, 0.3)
    check(bn, {leaf(5, 3)})
  end)
  it("BatchNorm1d train {N, C, L}", function() check(L.BatchNorm1d(2), {leaf(3, 2, 4)}) end)
  it("BatchNorm1d eval", function()
    local bn = L.BatchNorm1d(3)
    bn(lucid.randn(6, 3) * 2 + 1)
    bn:eval()
    check(bn, {leaf(4, 3)})
  end)
  for _, case in ipairs({
    {"ReLU", {}}, {"LeakyReLU", {0.2}}, {"ELU", {0.7}}, {"SELU", {}}, {"GELU", {}}, {"GELU", {"tanh"}},
    {"SiLU", {}}, {"Sigmoid", {}}, {"Softplus", {}}, {"Softplus", {2, 1}}, {"Softmax", {2}},
    {"LogSoftmax", {-1}}, {"Hardtanh", {-0.5, 0.5}}, {"Identity", {}},
  }) do
    it(case[1] .. "(" .. table.concat(case[2], ", ") .. ")", function()
      -- random inputs, away from the kinks (finite differences straddle them)
      check(L[case[1]](H.unpack(case[2])), {leaf(3, 4)})
    end)
  end
  it("through lucid.autograd.gradcheck too", function()
    local x = leaf(3, 4)
    assert.is_true(lucid.autograd.gradcheck(function(t) return L.LayerNorm(4)(t) end, {x}))
  end)
end)

describe("layers: printing", function()
  H.use_default_dtype("float64")
  local cases = {
    {function() return L.Identity() end, "Identity()"},
    {function() return L.ReLU() end, "ReLU()"},
    {function() return L.LeakyReLU() end, "LeakyReLU(negative_slope=0.01)"},
    {function() return L.LeakyReLU(0.2) end, "LeakyReLU(negative_slope=0.2)"},
    {function() return L.ELU() end, "ELU(alpha=1.0)"},
    {function() return L.SELU() end, "SELU()"},
    {function() return L.GELU() end, "GELU(approximate='none')"},
    {function() return L.GELU("tanh") end, "GELU(approximate='tanh')"},
    {function() return L.SiLU() end, "SiLU()"},
    {function() return L.Sigmoid() end, "Sigmoid()"},
    {function() return L.Softplus() end, "Softplus(beta=1, threshold=20)"},
    {function() return L.Softmax(2) end, "Softmax(dim=2)"},
    {function() return L.Softmax() end, "Softmax(dim=nil)"},
    {function() return L.LogSoftmax(-1) end, "LogSoftmax(dim=-1)"},
    {function() return L.Hardtanh() end, "Hardtanh(min_val=-1.0, max_val=1.0)"},
    {function() return L.Dropout() end, "Dropout(p=0.5, inplace=false)"},
    {function() return L.Dropout(0.1) end, "Dropout(p=0.1, inplace=false)"},
    {function() return L.Flatten() end, "Flatten(start_dim=2, end_dim=-1)"},
    {function() return L.Unflatten(2, {2, 5}) end, "Unflatten(dim=2, unflattened_size={2, 5})"},
    {function() return L.Bilinear(2, 3, 4) end, "Bilinear(in1_features=2, in2_features=3, out_features=4, bias=true)"},
    {function() return L.Bilinear{in1_features = 2, in2_features = 3, out_features = 4, bias = false} end,
      "Bilinear(in1_features=2, in2_features=3, out_features=4, bias=false)"},
    {function() return L.Embedding(10, 3) end, "Embedding(10, 3)"},
    {function() return L.Embedding(10, 3, 1) end, "Embedding(10, 3, padding_idx=1)"},
    {function() return L.LayerNorm(4) end, "LayerNorm({4}, eps=1e-05, elementwise_affine=true)"},
    {function() return L.LayerNorm({2, 3}, 1e-3, false) end, "LayerNorm({2, 3}, eps=0.001, elementwise_affine=false)"},
    {function() return L.BatchNorm1d(4) end,
      "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)"},
    {function() return L.BatchNorm1d{num_features = 4, momentum = false, affine = false} end,
      "BatchNorm1d(4, eps=1e-05, momentum=false, affine=false, track_running_stats=true)"},
  }
  for _, case in ipairs(cases) do
    it(case[2], function() assert.are.equal(H.as_printed(case[2]), tostring(case[1]())) end)
  end

  it("containers print as trees, children numbered from 1", function()
    local ml = L.ModuleList{nn.Linear(2, 3), L.ReLU()}
    assert.are.equal("ModuleList(\n  (1): Linear(in_features=2, out_features=3, bias=true)\n  (2): ReLU()\n)",
      tostring(ml))
    local md = L.ModuleDict{{"act", L.GELU()}, {"norm", L.LayerNorm(3)}}
    assert.are.equal("ModuleDict(\n  (act): GELU(approximate='none')\n"
      .. "  (norm): LayerNorm({3}, eps=1e-05, elementwise_affine=true)\n)", tostring(md))
  end)

  it("a model of layers prints as PyTorch's tree", function()
    local Net = nn.Module:extend("Net")
    function Net:__init()
      self.embed = L.Embedding(10, 4)
      self.norm = L.LayerNorm(4)
      self.blocks = L.ModuleList{nn.Linear(4, 4), L.GELU()}
      self.drop = L.Dropout(0.1)
    end
    assert.are.equal(table.concat({
      "Net(",
      "  (embed): Embedding(10, 4)",
      "  (norm): LayerNorm({4}, eps=1e-05, elementwise_affine=true)",
      "  (blocks): ModuleList(",
      "    (1): Linear(in_features=4, out_features=4, bias=true)",
      "    (2): GELU(approximate='none')",
      "  )",
      "  (drop): Dropout(p=0.1, inplace=false)",
      ")"}, "\n"), tostring(Net()))
  end)
end)

describe("layers: behaviour", function()
  H.use_default_dtype("float64")
  before_each(function() lucid.manual_seed(3) end)

  it("layers accept PyTorch's names in a table", function()
    assert.are.equal(0.3, L.LeakyReLU{negative_slope = 0.3}.negative_slope)
    assert.are.equal(2, L.Softplus{beta = 2}.beta)
    assert.are.equal(3, L.Flatten{start_dim = 3}.start_dim)
    assert.are.equal(2, L.Embedding{num_embeddings = 4, embedding_dim = 2}.weight.shape[2])
    assert.are.equal(1e-3, L.LayerNorm{normalized_shape = 3, eps = 1e-3}.eps)
  end)

  it("shapes: Flatten, Unflatten, Bilinear, Embedding keep leading dims", function()
    assert.are.same({2, 12}, L.Flatten()(lucid.randn(2, 3, 4)).shape)
    assert.are.same({24}, L.Flatten(1)(lucid.randn(2, 3, 4)).shape)
    assert.are.same({2, 3, 4}, L.Flatten(2, 2)(lucid.randn(2, 3, 4)).shape)
    assert.are.same({2, 2, 3, 4}, L.Unflatten(2, {2, 3})(lucid.randn(2, 6, 4)).shape)
    assert.are.same({2, 3, 2, 2}, L.Unflatten(-1, {2, -1})(lucid.randn(2, 3, 4)).shape)
    assert.are.same({2, 3, 5}, L.Bilinear(4, 2, 5)(lucid.randn(2, 3, 4), lucid.randn(2, 3, 2)).shape)
    assert.are.same({2, 3, 4}, L.Embedding(5, 4)(lucid.tensor({{1, 2, 3}, {5, 4, 3}})).shape)
    assert.are.same({4}, L.Embedding(5, 4)(lucid.tensor(2)).shape)
    assert.are.same({3, 4}, L.Embedding(5, 4)({1, 2, 3}).shape)  -- a Lua array of indices
  end)

  it("the same layer works in float32", function()
    lucid.set_default_dtype("float32")
    local ln, bn = L.LayerNorm(3), L.BatchNorm1d(3)
    local x = lucid.randn(4, 3)
    assert.are.equal("float32", ln(x).dtype)
    assert.are.equal("float32", bn(x).dtype)
    assert.are.equal("float32", L.Softmax(2)(x).dtype)
    lucid.set_default_dtype("float64")
  end)

  it("Softmax rows sum to one, LogSoftmax is its log, even for logits of 1000", function()
    local x = lucid.tensor({{1000, -1000, 0}, {1, 2, 3}})
    local p = L.Softmax(2)(x)
    H.assert_close(p:sum(2), lucid.ones(2), 1e-12, 1e-12, "row sums")
    local lp = L.LogSoftmax(2)(x)
    for _, v in ipairs(H.flat(lp)) do assert.is_true(v == v and v > -math.huge) end
    H.assert_close(lp[2]:exp(), p[2], 1e-12, 1e-12, "exp(log_softmax)")
  end)

  it("Dropout: identity in eval mode and for p = 0, zeros everything for p = 1", function()
    local x = lucid.randn(3, 4, {requires_grad = true})
    local d = L.Dropout(0.5)
    d:eval()
    assert.are.equal(x, d(x))
    assert.are.equal(x, L.Dropout(0)(x))
    local z = L.Dropout(1)(x)
    assert.are.same({3, 4}, z.shape)
    for _, v in ipairs(H.flat(z)) do assert.are.equal(0, v) end
  end)

  it("Dropout in training: about p zeros, the rest scaled by 1 / (1 - p), mask = gradient", function()
    local p, n = 0.3, 200000
    local x = lucid.ones(n, {requires_grad = true})
    local d = L.Dropout(p)
    assert.is_true(d.training)
    local y = d(x)
    local vals = H.flat(y)
    local zeros, scale = 0, 1 / (1 - p)
    for _, v in ipairs(vals) do
      if v == 0 then zeros = zeros + 1 else assert.is_true(math.abs(v - scale) < 1e-12, "kept value " .. v) end
    end
    -- binomial: std of the fraction is sqrt(p (1 - p) / n) ~ 0.001
    assert.is_true(math.abs(zeros / n - p) < 0.006, "fraction zeroed " .. zeros / n)
    assert.is_true(math.abs(y:mean():item() - 1) < 0.01, "mean " .. y:mean():item())
    y:backward()
    H.assert_close(x.grad, y:detach(), 0, 0, "gradient is the scaled mask")
  end)

  it("Dropout masks are repeatable with lucid.manual_seed and differ between calls", function()
    local d, x = L.Dropout(0.5), lucid.ones(64)
    lucid.manual_seed(42)
    local a = H.flat(d(x))
    local b = H.flat(d(x))
    lucid.manual_seed(42)
    assert.are.same(a, H.flat(d(x)))
    assert.are_not.same(a, b)
  end)

  it("Dropout follows train() / eval() of the model that holds it", function()
    local seq = nn.Sequential(nn.Linear(4, 4), L.Dropout(0.9))
    local x = lucid.randn(2, 4)
    seq:eval()
    H.assert_close(seq(x), seq(x), 0, 0, "eval is deterministic")
    seq:train()
    assert.is_true(seq[2].training)
  end)

  it("BatchNorm1d: train updates the running stats, eval uses them and leaves them", function()
    local bn = L.BatchNorm1d(2)
    local x = lucid.tensor({{1, 10}, {3, 20}, {5, 60}})
    local y = bn(x)
    -- batch-normalised: mean 0, biased var 1 per channel
    H.assert_close(y:mean(1), lucid.zeros(2), 0, 1e-12, "mean")
    H.assert_close((y * y):mean(1), lucid.full({2}, 1), 1e-4, 0, "var")
    H.assert_close(bn.running_mean, lucid.tensor({0.3, 3}), 1e-12, 0, "running_mean")
    -- unbiased var: 4 and 700; 0.9 * 1 + 0.1 * v
    H.assert_close(bn.running_var, lucid.tensor({1.3, 70.9}), 1e-12, 0, "running_var")
    assert.are.equal(1, bn.num_batches_tracked:item())
    bn:eval()
    local before = H.flat(bn.running_mean)
    local ye = bn(x)
    assert.are.same(before, H.flat(bn.running_mean))
    assert.are.equal(1, bn.num_batches_tracked:item())
    local expect = (x - bn.running_mean) / (bn.running_var + 1e-5):sqrt()
    H.assert_close(ye, expect, 1e-12, 1e-12, "eval output")
    bn:train()
    bn(x)
    assert.are.equal(2, bn.num_batches_tracked:item())
  end)

  it("BatchNorm1d keeps its statistics in the state dict and loads them", function()
    local bn = L.BatchNorm1d(3)
    bn(lucid.randn(5, 3))
    local sd = bn:state_dict()
    local keys = {}
    for k in pairs(sd) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.are.same({"bias", "num_batches_tracked", "running_mean", "running_var", "weight"}, keys)
    local other = L.BatchNorm1d(3)
    other:load_state_dict(sd)
    assert.are.same(H.flat(bn.running_var), H.flat(other.running_var))
    assert.are.equal(2, #other:parameters())
    -- the count is int64, as PyTorch's (a float count, as older files hold, still loads)
    assert.are.equal("int64", other.num_batches_tracked.dtype)
    assert.are.equal(1, other.num_batches_tracked:item())
    sd.num_batches_tracked = lucid.tensor(7, {dtype = "float64"})
    other:load_state_dict(sd)
    assert.are.equal("int64", other.num_batches_tracked.dtype)
    assert.are.equal(7, other.num_batches_tracked:item())
    local plain = L.BatchNorm1d(3, 1e-5, 0.1, false, false)
    assert.are.equal(0, #plain:parameters())
    assert.is_nil(next(plain:state_dict()))
  end)

  it("Embedding: only the rows used get gradient; the padding row never does", function()
    local e = L.Embedding(6, 2, 3)
    assert.are.same({0, 0}, H.flat(e.weight[3]))
    local out = e(lucid.tensor({1, 3, 1, 6}))
    out:sum():backward()
    assert.are.same({2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1}, H.flat(e.weight.grad))
  end)

  it("Embedding.from_pretrained shares the values, frozen by default", function()
    local w = lucid.tensor({{1, 2}, {3, 4}, {5, 6}})
    local e = L.Embedding.from_pretrained(w)
    assert.is_false(e.weight.requires_grad)
    assert.are.same({5, 6, 1, 2}, H.flat(e(lucid.tensor({3, 1}))))
    assert.is_true(L.Embedding.from_pretrained(w, false).weight.requires_grad)
  end)

  it("ModuleList: indexing, length, iteration, append, insert, registration", function()
    local a, b, c = nn.Linear(2, 2), L.ReLU(), nn.Linear(2, 3)
    local ml = L.ModuleList{a, b}
    assert.are.equal(2, H.len(ml))
    assert.are.equal(a, ml[1])
    assert.are.equal(b, ml[-1])
    assert.is_nil(ml[3])
    ml:append(c)
    assert.are.equal(c, ml[3])
    local seen = {}
    for i, m in ml:iter() do seen[i] = m end
    assert.are.same({a, b, c}, seen)
    -- ipairs goes through __index from Lua 5.3, pairs through __pairs from 5.2;
    -- ml:iter() is the form for every Lua
    if H.ipairs_index then
      seen = {}
      for i, m in ipairs(ml) do seen[i] = m end
      assert.are.same({a, b, c}, seen)
    end
    if H.pairs_meta then
      seen = {}
      for i, m in pairs(ml) do seen[i] = m end
      assert.are.same({a, b, c}, seen)
    end
    local d = L.Tanh()
    ml:insert(1, d)
    assert.are.same({d, a, b, c}, {ml[1], ml[2], ml[3], ml[4]})
    ml[2] = nn.Linear(2, 2)
    assert.are_not.equal(a, ml[2])
    ml:extend({L.Sigmoid()})
    assert.are.equal(5, H.len(ml))
    local keys = {}
    for k in pairs(ml:state_dict()) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.are.same({"2.bias", "2.weight", "4.bias", "4.weight"}, keys)
    assert.are.equal(4, #ml:parameters())
  end)

  it("ModuleList in a model: parameters found, forward walks it", function()
    local Net = nn.Module:extend("Net")
    function Net:__init()
      self.layers = L.ModuleList()
      for _ = 1, 3 do self.layers:append(nn.Linear(3, 3)) end
    end
    function Net:forward(x)
      for _, layer in self.layers:iter() do x = layer(x) end
      return x
    end
    local net = Net()
    assert.are.equal(6, #net:parameters())
    local names = {}
    for name in net:named_parameters() do names[#names + 1] = name end
    assert.are.same({"layers.1.weight", "layers.1.bias", "layers.2.weight", "layers.2.bias",
                     "layers.3.weight", "layers.3.bias"}, names)
    assert.are.same({2, 3}, net(lucid.randn(2, 3)).shape)
  end)

  it("ModuleDict: insertion order, keys, access, removal", function()
    local md = L.ModuleDict{{"z", L.ReLU()}, {"a", nn.Linear(2, 2)}}
    assert.are.same({"z", "a"}, md:keys())
    assert.are.equal(2, H.len(md))
    assert.are.equal("Linear", md["a"].__name)
    assert.are.equal(md.a, md["a"])
    md["m"] = L.Tanh()
    assert.are.same({"z", "a", "m"}, md:keys())
    assert.is_true(md:contains("m"))
    if H.pairs_meta then  -- pairs goes through __pairs from Lua 5.2; md:keys() everywhere
      local order = {}
      for k in pairs(md) do order[#order + 1] = k end
      assert.are.same({"z", "a", "m"}, order)
    end
    assert.are.equal("Tanh", md:pop("m").__name)
    assert.are.same({"z", "a"}, md:keys())
    md.z = nil
    assert.are.same({"a"}, md:keys())
    assert.are.same({"a.bias", "a.weight"}, (function()
      local k = {}
      for name in pairs(md:state_dict()) do k[#k + 1] = name end
      table.sort(k)
      return k
    end)())
    -- a plain table has no order: its names are sorted
    assert.are.same({"a", "b", "c"}, L.ModuleDict{c = L.ReLU(), a = L.ReLU(), b = L.ReLU()}:keys())
    md:clear()
    assert.are.equal(0, H.len(md))
  end)
end)

describe("layers: errors", function()
  H.use_default_dtype("float64")
  local fails = H.assert_error

  it("bad constructor arguments", function()
    fails("nn.Dropout: p must be a probability between 0 and 1, got 1.5", L.Dropout, 1.5)
    fails("nn.Hardtanh: max_val (-1) must be greater than min_val (1)", L.Hardtanh, 1, -1)
    fails("nn.GELU: approximate must be 'none' or 'tanh', got 'fast'", L.GELU, "fast")
    fails("nn.Embedding: padding_idx must be within 1..4", L.Embedding, 4, 2, 5)
    fails("nn.LayerNorm: normalized_shape[2] must be a positive integer", L.LayerNorm, {2, 0})
    fails("nn.BatchNorm1d: num_features must be a positive integer", L.BatchNorm1d, 0)
    fails("nn.ReLU: inplace = true is not supported", L.ReLU, true)
    fails("nn.Bilinear: in2_features must be a non-negative integer", L.Bilinear, 2, -1, 3)
  end)

  it("bad input shapes, in Lua's terms", function()
    fails("nn.LayerNorm: input {2, 3} does not end with normalized_shape {4} (expected {*, 4})",
      L.LayerNorm(4), lucid.randn(2, 3))
    fails("nn.BatchNorm1d: input {2, 5} has 5 channels in dim 2, expected 4 (num_features)",
      L.BatchNorm1d(4), lucid.randn(2, 5))
    fails("nn.BatchNorm1d: expected 2-d or 3-d input {N, C} or {N, C, L}, got {2, 4, 3, 1}",
      L.BatchNorm1d(4), lucid.randn(2, 4, 3, 1))
    fails("nn.BatchNorm1d: expected more than 1 value per channel when training, got input {1, 4}",
      L.BatchNorm1d(4), lucid.randn(1, 4))
    fails("nn.Bilinear: inputs {5, 2} and {4, 3} do not fit", L.Bilinear(2, 3, 4), lucid.randn(5, 2),
      lucid.randn(4, 3))
    fails("nn.Unflatten: unflattened_size {4, 2} does not fit dim 2 of size 6 (input {3, 6})",
      L.Unflatten(2, {4, 2}), lucid.randn(3, 6))
    fails("nn.Flatten: dims 4..-1 are out of range for input {2, 3}", L.Flatten(4), lucid.randn(2, 3))
    fails("nn.Embedding: index 7 (element 2 of the input {3}) is out of range 1..6",
      L.Embedding(6, 2), lucid.tensor({1, 7, 2}))
    fails("nn.Embedding: index 0 (element 1 of the input {1}) is out of range 1..6",
      L.Embedding(6, 2), lucid.tensor({0}))
    fails("nn.Embedding: index 1.5", L.Embedding(6, 2), lucid.tensor({1.5}))
  end)

  it("containers refuse what is not a module", function()
    fails("nn.ModuleList: item 2 is a number, expected a Module", L.ModuleList, {L.ReLU(), 3})
    fails("nn.ModuleList: index 5 is out of range (the list has 1 modules)", function()
      local ml = L.ModuleList{L.ReLU()}
      ml[5] = L.ReLU()
    end)
    fails("nn.ModuleDict: \"x\" is a string, expected a Module", function()
      local md = L.ModuleDict()
      md.x = "no"
    end)
    fails("nn.ModuleDict: \"keys\" is the name of a method and cannot be a key",
      L.ModuleDict, {{"keys", L.ReLU()}})
    fails("nn.ModuleList: it has no forward", function() L.ModuleList()(lucid.randn(2)) end)
  end)

  it("forward refuses what is not a tensor, naming the layer", function()
    fails("nn.LayerNorm: expected a tensor, got string", L.LayerNorm(3), "x")
    fails("nn.BatchNorm1d: expected a tensor, got number", L.BatchNorm1d(3), 2)
    fails("nn.Unflatten: expected a tensor, got table", L.Unflatten(2, {2, 2}), {})
    fails("nn.Softmax: expected a tensor, got nil", L.Softmax(1))
    fails("nn.LogSoftmax: expected a tensor, got boolean", L.LogSoftmax(1), true)
    fails("nn.Flatten: expected a tensor, got string", L.Flatten(), "x")
    fails("nn.Bilinear: expected a tensor as input 2, got number", L.Bilinear(2, 3, 4), lucid.randn(5, 2), 1)
    fails("nn.Bilinear: expected a tensor as input 1, got nil", L.Bilinear(2, 3, 4))
    fails("nn.Embedding: expected a tensor of indices, got string", L.Embedding(3, 2), "x")
  end)

  it("constructors check every argument, in order, and accept integer-valued floats", function()
    fails("nn.Bilinear: in2_features must be a non-negative integer, got nil", L.Bilinear, 3)
    fails("nn.Bilinear: in1_features must be a non-negative integer, got nil", L.Bilinear)
    fails("nn.Bilinear: out_features must be a non-negative integer, got 1.5", L.Bilinear, 1, 2, 1.5)
    fails("nn.Embedding: num_embeddings must be a non-negative integer, got nil", L.Embedding)
    fails("nn.Embedding: embedding_dim must be a non-negative integer, got nil", L.Embedding, 3)
    fails("nn.Softplus: beta must be a number, got string", L.Softplus, "x")
    fails("nn.Softplus: threshold must be a number, got string", L.Softplus, 1, "x")  -- {} is an options table now
    fails("nn.Linear: in_features must be a non-negative integer, got string", L.Linear, "4", 2)
    fails("nn.Softmax: dim must be an integer or nil, got 1.5", L.Softmax, 1.5)
    fails("nn.Flatten: end_dim must be an integer, got string", L.Flatten, 1, "x")
    local l = L.Linear(4.0, 2.0)
    assert.are.equal(4, l.in_features)
    -- 5.3+: stored as an integer, so it prints "4" (older Luas have no 4.0)
    if H.has_integers then assert.are.equal("integer", math.type(l.in_features)) end
    assert.are.same({2, 4}, l.weight.shape)
    assert.are.same({3, 5}, L.Embedding(3.0, 5.0).weight.shape)
    assert.are.same({6, 2, 3}, L.Bilinear(2.0, 3.0, 6.0).weight.shape)
    assert.are.same({3}, L.BatchNorm1d(3.0).running_mean.shape)
    assert.are.same({2, 3}, L.LayerNorm({2.0, 3.0}).weight.shape)
    assert.are.same({2, 2, 3}, L.Unflatten(2.0, {2.0, -1})(lucid.randn(2, 6)).shape)
    assert.are.equal("Linear(in_features=4, out_features=2, bias=true)", tostring(l))
  end)

  it("sizes too big for a tensor are refused naming the layer", function()
    fails("nn.Linear: the weight {out_features, in_features} would have", L.Linear, 2 ^ 40, 2 ^ 40)
    -- the largest size a Lua number holds exactly: 2^63 - 1 on 5.3+, 2^53 before
    local biggest = math.maxinteger or 2 ^ 53
    fails("nn.Linear: the weight", L.Linear, biggest, biggest)
    fails("nn.Bilinear: the weight", L.Bilinear, 2 ^ 31, 2 ^ 31, 4)
    fails("nn.Embedding: the weight", L.Embedding, 2 ^ 40, 2 ^ 40)
    fails("nn.LayerNorm: the weight", L.LayerNorm, {2 ^ 40, 2 ^ 40})
  end)

  it("the state stays usable after an error", function()
    local bn = L.BatchNorm1d(2)
    assert.is_false(pcall(bn, lucid.randn(3, 5)))
    assert.are.same({3, 2}, bn(lucid.randn(3, 2)).shape)
  end)
end)

describe("nn.init", function()
  H.use_default_dtype("float64")
  local function stats(t)
    local v = H.flat(t)
    local sum, lo, hi = 0, math.huge, -math.huge
    for _, x in ipairs(v) do
      sum = sum + x
      lo, hi = math.min(lo, x), math.max(hi, x)
    end
    local mean = sum / #v
    local ss = 0
    for _, x in ipairs(v) do ss = ss + (x - mean) ^ 2 end
    return mean, math.sqrt(ss / (#v - 1)), lo, hi
  end
  local function near(actual, expected, tol, what)
    assert.is_true(math.abs(actual - expected) <= tol,
      string.format("%s: %.6g, expected %.6g +- %.3g", what, actual, expected, tol))
  end
  before_each(function() lucid.manual_seed(2024) end)

  it("uniform_ and normal_", function()
    local t = lucid.empty(300, 300)
    assert.are.equal(t, init.uniform_(t, -2, 3))
    local mean, std, lo, hi = stats(t)
    assert.is_true(lo >= -2 and hi <= 3)
    near(mean, 0.5, 0.03, "uniform mean")
    near(std, 5 / math.sqrt(12), 0.02, "uniform std")
    init.normal_(t, 1, 2)
    mean, std = stats(t)
    near(mean, 1, 0.03, "normal mean")
    near(std, 2, 0.02, "normal std")
    init.uniform_(t)
    mean, std, lo, hi = stats(t)
    assert.is_true(lo >= 0 and hi <= 1)
    init.normal_(t, {std = 0.5})
    mean, std = stats(t)
    near(mean, 0, 0.01, "normal{std} mean")
    near(std, 0.5, 0.01, "normal{std} std")
  end)

  it("constant_, zeros_, ones_", function()
    local t = lucid.empty(3, 4)
    init.constant_(t, 0.25)
    for _, v in ipairs(H.flat(t)) do assert.are.equal(0.25, v) end
    init.zeros_(t)
    for _, v in ipairs(H.flat(t)) do assert.are.equal(0, v) end
    init.ones_(t)
    for _, v in ipairs(H.flat(t)) do assert.are.equal(1, v) end
  end)

  it("fans as PyTorch: {out, in, k...}", function()
    assert.are.same({200, 300}, {init.calculate_fan_in_and_fan_out(lucid.empty(300, 200))})
    assert.are.same({72, 144}, {init.calculate_fan_in_and_fan_out(lucid.empty(16, 8, 3, 3))})
  end)

  it("calculate_gain", function()
    assert.are.equal(1, init.calculate_gain("linear"))
    assert.are.equal(1, init.calculate_gain("sigmoid"))
    assert.are.equal(1, init.calculate_gain("conv2d"))
    near(init.calculate_gain("tanh"), 5 / 3, 1e-15, "tanh")
    near(init.calculate_gain("relu"), math.sqrt(2), 1e-15, "relu")
    near(init.calculate_gain("leaky_relu"), math.sqrt(2 / (1 + 0.01 ^ 2)), 1e-15, "leaky_relu")
    near(init.calculate_gain("leaky_relu", 0.2), math.sqrt(2 / 1.04), 1e-15, "leaky_relu 0.2")
    near(init.calculate_gain("selu"), 0.75, 0, "selu")
  end)

  it("xavier_uniform_ and xavier_normal_", function()
    local t = lucid.empty(300, 200)
    local a = 2 * math.sqrt(6 / 500)
    init.xavier_uniform_(t, 2)
    local mean, std, lo, hi = stats(t)
    assert.is_true(lo >= -a and hi <= a)
    near(std, a / math.sqrt(3), 0.003, "xavier_uniform std")
    init.xavier_normal_(t)
    mean, std = stats(t)
    near(mean, 0, 0.002, "xavier_normal mean")
    near(std, math.sqrt(2 / 500), 0.0006, "xavier_normal std")
  end)

  it("kaiming_uniform_ and kaiming_normal_", function()
    local t = lucid.empty(200, 300)
    init.kaiming_uniform_(t)  -- a = 0, fan_in, leaky_relu: gain sqrt(2)
    local b = math.sqrt(3) * math.sqrt(2) / math.sqrt(300)
    local _, std, lo, hi = stats(t)
    assert.is_true(lo >= -b and hi <= b and hi > 0.99 * b)
    near(std, b / math.sqrt(3), 0.001, "kaiming_uniform std")
    init.kaiming_uniform_(t, {a = math.sqrt(5)})  -- nn.Linear's: bound 1 / sqrt(fan_in)
    _, std, lo, hi = stats(t)
    b = 1 / math.sqrt(300)
    assert.is_true(lo >= -b and hi <= b and hi > 0.99 * b)
    init.kaiming_normal_(t, 0, "fan_out", "relu")
    _, std = stats(t)
    near(std, math.sqrt(2) / math.sqrt(200), 0.0015, "kaiming_normal fan_out std")
    init.kaiming_normal_(t, {mode = "fan_in", nonlinearity = "tanh"})
    _, std = stats(t)
    near(std, 5 / 3 / math.sqrt(300), 0.0015, "kaiming_normal tanh std")
  end)

  it("fills parameters that require grad, in place, and keeps them leaves", function()
    local lin = nn.Linear(4, 3)
    local w = lin.weight
    init.xavier_uniform_(lin.weight)
    init.zeros_(lin.bias)
    assert.are.equal(w, lin.weight)
    assert.is_true(lin.weight.requires_grad and lin.weight.is_leaf)
    assert.is_nil(lin.weight.grad_fn)
    assert.are.same({0, 0, 0}, H.flat(lin.bias))
    assert.is_true(lucid.is_grad_enabled())
  end)

  it("is repeatable with lucid.manual_seed", function()
    for _, fill in ipairs({
      function(t) return init.uniform_(t, -1, 1) end, function(t) return init.normal_(t) end,
      init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_,
    }) do
      lucid.manual_seed(99)
      local a = H.flat(fill(lucid.empty(5, 4)))
      local b = H.flat(fill(lucid.empty(5, 4)))
      lucid.manual_seed(99)
      assert.are.same(a, H.flat(fill(lucid.empty(5, 4))))
      assert.are_not.same(a, b)
    end
  end)

  it("errors name the initialiser", function()
    local ok, err = pcall(init.xavier_uniform_, lucid.empty(5))
    assert.is_false(ok)
    assert.is_truthy(err:find("nn.init.xavier_uniform_: fan in and fan out can not be computed for a "
      .. "tensor with fewer than 2 dimensions (got shape {5})", 1, true), err)
    ok, err = pcall(init.kaiming_normal_, lucid.empty(2, 2), {mode = "fan_up"})
    assert.is_truthy(err:find("nn.init.kaiming_normal_: mode must be 'fan_in' or 'fan_out', got 'fan_up'", 1, true), err)
    ok, err = pcall(init.calculate_gain, "swish")
    assert.is_truthy(err:find("nn.init.calculate_gain: unsupported nonlinearity swish", 1, true), err)
    ok, err = pcall(init.ones_, 3)
    assert.is_truthy(err:find("nn.init.ones_: expected a tensor, got number", 1, true), err)
    -- zero-element tensors are left alone, as PyTorch
    assert.are.same({0, 3}, init.kaiming_uniform_(lucid.empty(0, 3)).shape)
  end)
end)

describe("nn.functional.one_hot", function()
  local F = nn.functional
  local function long(v) return lucid.tensor(v, {dtype = "int64"}) end

  it("encodes 1-based classes along a new last dim, int64, inferring num_classes from the largest", function()
    local y = F.one_hot(long({3, 1, 2, 3}))
    assert.are.equal("int64", y.dtype)
    assert.are.same({{0, 0, 1}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, y:tolist())
    local z = F.one_hot(long({{1, 4}, {2, 2}}), 5)
    assert.are.same({2, 2, 5}, z.shape)
    assert.are.same({{{1, 0, 0, 0, 0}, {0, 0, 0, 1, 0}}, {{0, 1, 0, 0, 0}, {0, 1, 0, 0, 0}}}, z:tolist())
    assert.are.same({0, 1, 0}, F.one_hot(long(2), 3):tolist())          -- 0-d: {num_classes}
    assert.are.same({{1, 0}, {0, 1}}, F.one_hot(long({1, 2}), {num_classes = 2}):tolist())
    assert.are.same({0, 1}, F.one_hot{tensor = long(2), num_classes = 2}:tolist())
    -- a view, and the other integer dtypes
    assert.are.same({{0, 1}, {1, 0}}, F.one_hot(long({{1, 2}, {2, 1}}):t()[2]):tolist())
    for _, dtype in ipairs({"int32", "uint8"}) do
      local w = F.one_hot(lucid.tensor({2, 1}, {dtype = dtype}), 3)
      assert.are.equal("int64", w.dtype)
      assert.are.same({{0, 1, 0}, {1, 0, 0}}, w:tolist())
    end
    -- the classes back: argmax of the encoding
    local cls = lucid.randint(1, 8, {20})
    assert.are.same(cls:tolist(), F.one_hot(cls, 7):argmax(2):tolist())
    assert.are.same({20, cls:max():item()}, F.one_hot(cls).shape)
    assert.are.same(lucid.ones(20, {dtype = "int64"}):tolist(), F.one_hot(cls):sum(2):tolist())
  end)

  it("an empty tensor needs num_classes", function()
    local e = F.one_hot(lucid.zeros(0, 2, {dtype = "int64"}), 3)
    assert.are.same({0, 2, 3}, e.shape)
    assert.are.equal("int64", e.dtype)
    H.assert_error("nn.functional.one_hot: cannot infer the number of classes from an empty tensor",
      F.one_hot, lucid.zeros(0, {dtype = "int64"}))
  end)

  it("refuses classes out of range and tensors that are not of indices", function()
    H.assert_error("nn.functional.one_hot: class values must be at least 1 (classes are 1-based), got 0",
      F.one_hot, long({1, 0}))
    H.assert_error("nn.functional.one_hot: class values must be at least 1 (classes are 1-based), got -2",
      F.one_hot, long({-2}), 3)
    H.assert_error("nn.functional.one_hot: class values must be at most num_classes (2), got 3",
      F.one_hot, long({3, 1}), 2)
    H.assert_error("nn.functional.one_hot: class values must be at most num_classes (0), got 1",
      F.one_hot, long({1}), 0)
    H.assert_error("nn.functional.one_hot: expected a tensor of class indices (int64), got float32",
      F.one_hot, lucid.tensor({1, 2}))
    H.assert_error("nn.functional.one_hot: expected a tensor of class indices (int64), got bool",
      F.one_hot, lucid.tensor({true}))
    H.assert_error("nn.functional.one_hot: tensor must be a tensor, got table", F.one_hot, {1, 2})
    H.assert_error("nn.functional.one_hot: num_classes must be an integer, got 2.5", F.one_hot, long({1}), 2.5)
    H.assert_error("nn.functional.one_hot: the result would have 9 dims (at most 8)", F.one_hot,
      lucid.ones(1, 1, 1, 1, 1, 1, 1, 1, {dtype = "int64"}))
  end)
end)
