-- nn.Module: classes, registration, traversal, state dicts, modes, printing.
local lucid = require("lucid")
local nn = require("lucid.nn")
local H = dofile("tests/helpers.lua")

local function names(iter)
  local out = {}
  for name in iter do out[#out + 1] = name end
  return out
end

describe("nn.Module", function()
  local Net = nn.Module:extend("Net")
  function Net:__init(hidden)
    self.fc1 = nn.Linear(3, hidden)
    self.act = nn.Tanh()
    self.fc2 = nn.Linear(hidden, 1, false)
    self.scale = nn.Parameter(lucid.ones(1))
    self.note = "plain fields stay plain"
  end
  function Net:forward(x)
    return self.fc2(self.act(self.fc1(x))) * self.scale
  end

  it("registers modules and parameters in assignment order", function()
    local net = Net(4)
    -- as in PyTorch: a module's own parameters, then each child's, depth first
    assert.are.same({"scale", "fc1.weight", "fc1.bias", "fc2.weight"}, names(net:named_parameters()))
    assert.are.equal(4, #net:parameters())
    assert.are.equal(3, #net:children())
    assert.are.equal(4, #net:modules())
    assert.are.equal("plain fields stay plain", net.note)
    assert.is_nil(net.fc2.bias)
  end)

  it("calls forward when called and backpropagates to every parameter", function()
    local net = Net(4)
    local y = net(lucid.randn(5, 3))
    assert.are.same({5, 1}, y.shape)
    y:sum():backward()
    for name, p in net:named_parameters() do
      assert.are.same(p.shape, p.grad.shape, name)
    end
    net:zero_grad()
    for _, p in ipairs(net:parameters()) do assert.is_nil(p.grad) end
  end)

  it("unregisters on nil and refuses plain tensors for parameters", function()
    local net = Net(2)
    net.act = nil
    assert.are.equal(2, #net:children())
    assert.has_error(function() net.scale = lucid.ones(1) end,
      "Net: cannot assign a plain tensor to parameter 'scale' (nn.Parameter or nil expected)")
    net.scale = nil
    assert.are.equal(3, #net:parameters())
  end)

  it("round-trips a state dict and checks names and shapes", function()
    local a, b = Net(4), Net(4)
    local sd = a:state_dict()
    assert.are.same({1}, sd.scale.shape)
    b:load_state_dict(sd)
    for name, p in b:named_parameters() do
      assert.are.same(sd[name]:tolist(), p:tolist(), name)
    end
    local c = Net(5)
    assert.has_error(function() c:load_state_dict(sd) end,
      'Net:load_state_dict: shape mismatch for "fc1.weight": the module has {5, 3}, the state dict {4, 3}')
    sd.extra = lucid.zeros(1)
    local res = b:load_state_dict(sd, false)
    assert.are.same({'"extra"'}, res.unexpected_keys)
  end)

  it("switches train and eval on every module", function()
    local net = Net(2)
    assert.is_true(net.training)
    net:eval()
    for _, m in ipairs(net:modules()) do assert.is_false(m.training) end
    net:train()
    assert.is_true(net.fc1.training)
    net:train({mode = false})
    assert.is_false(net.fc1.training)
    net:train(true)
    assert.is_true(net.fc1.training)
  end)

  it("checks train's and reuse_buffers' arguments like every option", function()
    local net = Net(2)
    assert.has_error(function() net:train(0) end,
      "nn.Module:train: mode must be a boolean, got 0")
    assert.has_error(function() net:train("eval") end,
      "nn.Module:train: mode must be a boolean, got string")
    assert.has_error(function() net:train(true, false) end,
      "nn.Module:train: too many arguments (1 positional options at most: mode)")
    assert.has_error(function() net:reuse_buffers({onn = true}) end,
      "nn.Module:reuse_buffers: unknown option 'onn' (did you mean 'on'?)")
    assert.has_error(function() net:reuse_buffers(1) end,
      "nn.Module:reuse_buffers: on must be a boolean, got 1")
    assert.is_true(net.training)  -- nothing changed by the refused calls
  end)

  it("can be extended again, with super reaching the parent", function()
    local Wider = Net:extend("Wider")
    function Wider:__init()
      Wider.super.__init(self, 8)
      self.extra = nn.Linear(1, 1)
    end
    function Wider:forward(x)
      return self.extra(Wider.super.forward(self, x))
    end
    local w = Wider()
    assert.are.equal(8, w.fc1.out_features)
    assert.are.same({2, 1}, w(lucid.randn(2, 3)).shape)
    assert.are.equal("class Wider", tostring(Wider))
  end)

  it("prints as a tree, nested children indented", function()
    local seq = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Tanh(), nn.Linear(3, 1, false)))
    assert.are.equal(table.concat({
      "Sequential(",
      "  (1): Linear(in_features=2, out_features=3, bias=true)",
      "  (2): Sequential(",
      "    (1): Tanh()",
      "    (2): Linear(in_features=3, out_features=1, bias=false)",
      "  )",
      ")"}, "\n"), tostring(seq))
  end)
end)

describe("nn.Sequential", function()
  it("runs its modules in order and indexes them from 1", function()
    local seq = nn.Sequential({nn.Linear(4, 8), nn.Tanh()})
    seq:append(nn.Linear(8, 2))
    assert.are.equal(3, H.len(seq))
    assert.are.equal(8, seq[2] and seq[1].out_features)
    assert.are.same({"1.weight", "1.bias", "3.weight", "3.bias"}, names(seq:named_parameters()))
    local x = lucid.randn(5, 4)
    local manual = seq[3](lucid.tanh(seq[1](x)))
    assert.are.same(manual:tolist(), seq(x):tolist())
  end)
end)

describe("nn.Linear", function()
  it("draws weights in U(-1/sqrt(in), 1/sqrt(in)) and accepts named arguments", function()
    local l = nn.Linear{in_features = 16, out_features = 32}
    assert.are.same({32, 16}, l.weight.shape)
    assert.are.same({32}, l.bias.shape)
    local lo, hi = math.huge, -math.huge
    for _, row in ipairs(l.weight:tolist()) do
      for _, v in ipairs(row) do lo, hi = math.min(lo, v), math.max(hi, v) end
    end
    assert.is_true(lo >= -0.25 and hi <= 0.25 and hi - lo > 0.4)
    assert.are.equal("Linear(in_features=16, out_features=32, bias=true)", tostring(l))
  end)

  it("matches F.linear", function()
    local l = nn.Linear(3, 2)
    local x = lucid.randn(4, 3)
    assert.are.same(nn.functional.linear(x, l.weight, l.bias):tolist(), l(x):tolist())
  end)
end)

describe("nn.Module: names and grad mode", function()
  local function fails(expected, f, ...)
    local ok, msg = pcall(f, ...)
    assert.is_false(ok, "expected an error containing: " .. expected)
    msg = tostring(msg)
    assert.is_truthy(msg:find(expected, 1, true), string.format("error %q does not contain %q", msg, expected))
  end

  it("register_parameter, register_buffer and add_module refuse bad names", function()
    local m = nn.Linear(2, 2)
    local p = nn.Parameter(lucid.zeros(1))
    fails("Linear:register_parameter: the name must be a string, got nil", m.register_parameter, m, nil, p)
    fails("Linear:register_parameter: the name must not be empty", m.register_parameter, m, "", p)
    fails('Linear:register_parameter: the name "a.b" must not contain "."', m.register_parameter, m, "a.b", p)
    fails("Linear:register_buffer: the name must be a string, got a tensor", m.register_buffer, m,
      lucid.zeros(1), lucid.zeros(1))
    fails("Linear:register_buffer: the name must be a string, got number", m.register_buffer, m, 1, lucid.zeros(1))
    fails("Linear:add_module: the name must be a string, got nil", m.add_module, m, nil, nn.Tanh())
    fails('Linear:add_module: the name "x.y" must not contain "."', m.add_module, m, "x.y", nn.Tanh())
    -- nothing was registered, and the module still works
    local keys = {}
    for k in pairs(m:state_dict()) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.are.same({"bias", "weight"}, keys)
    assert.is_string(tostring(m))
    m:register_buffer("ok", lucid.zeros(1))
    assert.are.same({1}, m:state_dict().ok.shape)
  end)

  it("load_state_dict reads PyTorch's 0-based names of Sequential and ModuleList children", function()
    local net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Sequential(nn.Linear(3, 1)))
    local function t(shape, v) return lucid.full(shape, v) end
    -- what torch.save(net.state_dict()) names them
    net:load_state_dict({["0.weight"] = t({3, 2}, 1), ["0.bias"] = t({3}, 2),
                         ["2.0.weight"] = t({1, 3}, 3), ["2.0.bias"] = t({1}, 4)})
    assert.are.same({2, 2, 2}, net[1].bias:tolist())
    assert.are.same({{3, 3, 3}}, net[3][1].weight:tolist())
    -- this library's own names still load, and win when both could be meant
    local own = net:state_dict()
    assert.is_truthy(own["3.1.bias"])
    local other = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Sequential(nn.Linear(3, 1)))
    other:load_state_dict(own)
    assert.are.same({4}, other[3][1].bias:tolist())
    -- a PyTorch key that matches nothing is still named
    assert.has_error(function()
      net:load_state_dict({["0.weight"] = t({3, 2}, 1), ["0.bias"] = t({3}, 2), ["2.0.weight"] = t({1, 3}, 3),
                           ["2.1.bias"] = t({1}, 4)})
    end, 'Sequential:load_state_dict: missing keys "2.0.bias"; unexpected keys "2.1.bias"')
  end)

  it("load_state_dict restores grad mode when the copy fails", function()
    local m = nn.Linear(2, 1)
    local good = m:state_dict()
    local reads = 0
    -- the checks read each key once; the copy reads them again, and fails
    local sd = setmetatable({}, {
      __index = function(_, k)
        reads = reads + 1
        if reads > 2 then error("sd: read failed") end
        return good[k]
      end,
      __pairs = function() return next, {weight = true, bias = true}, nil end,
    })
    assert.is_true(lucid.is_grad_enabled())
    local ok, msg = pcall(m.load_state_dict, m, sd)
    assert.is_false(ok)
    assert.is_truthy(tostring(msg):find("sd: read failed", 1, true))
    assert.is_true(lucid.is_grad_enabled())
  end)
end)

describe("nn.Module: assignment", function()
  it("refuses to register under a key that is not a name, and cycles", function()
    local m = nn.Linear(2, 2)
    local ok, msg = pcall(function() m[lucid.zeros(1)] = nn.Tanh() end)
    assert.is_false(ok)
    assert.is_truthy(msg:find("Linear: cannot register a submodule: the name must be a string, got a tensor", 1, true))
    ok, msg = pcall(function() m["a.b"] = nn.Parameter(lucid.zeros(1)) end)
    assert.is_false(ok)
    assert.is_truthy(msg:find('Linear: cannot register a parameter: the name "a.b" must not contain "."', 1, true))
    local outer = nn.Sequential(m)
    ok, msg = pcall(function() m.loop = outer end)
    assert.is_false(ok)
    assert.is_truthy(msg:find("Linear: cannot register submodule 'loop': it contains this module (a cycle)", 1, true))
    ok = pcall(function() m.self = m end)
    assert.is_false(ok)
    assert.are.equal("Sequential(\n  (1): Linear(in_features=2, out_features=2, bias=true)\n)", tostring(outer))
  end)
end)

describe("nn.Module: dtypes (to, double, float)", function()
  local function make()
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2))
  end
  local function dtypes(m)
    local out = {}
    for k, v in pairs(m:state_dict()) do out[k] = v.dtype end
    return out
  end

  it("converts floating parameters and buffers in place, leaving integer ones, and returns the module", function()
    local m = make()
    assert.are.equal(m, m:double())
    assert.are.same({["1.weight"] = "float64", ["1.bias"] = "float64", ["2.weight"] = "float64",
      ["2.bias"] = "float64", ["2.running_mean"] = "float64", ["2.running_var"] = "float64",
      ["2.num_batches_tracked"] = "int64", ["4.weight"] = "float64", ["4.bias"] = "float64"}, dtypes(m))
    local y = m(lucid.randn(5, 3, {dtype = "float64"}))
    assert.are.equal("float64", y.dtype)
    assert.are.equal(m, m:float())
    assert.are.equal("float32", m[1].weight.dtype)
    assert.are.equal("float32", m[2].running_var.dtype)
    assert.are.equal("int64", m[2].num_batches_tracked.dtype)
    assert.are.equal(1, m[2].num_batches_tracked:item())
    -- PyTorch's names and aliases, and a tensor's dtype
    assert.are.equal("float64", m:to("double")[4].bias.dtype)
    assert.are.equal("float32", m:to("float")[4].bias.dtype)
    assert.are.equal("float64", m:to{dtype = "float64"}[4].bias.dtype)
    assert.are.equal("float32", m:to(lucid.zeros(1))[4].bias.dtype)
  end)

  it("keeps the values, and the parameters' identity, requires_grad, gradients and hooks", function()
    local m = make()
    local w, b = m[1].weight, m[4].bias
    local before = w:tolist()
    m[4].weight.requires_grad = false
    m(lucid.randn(5, 3)):sum():backward()
    local g = w.grad:tolist()
    local calls = 0
    local h = b:register_hook(function(grad) calls = calls + 1 return grad end)
    m:double()
    assert.are.equal(w, m[1].weight)
    assert.are.equal(b, m[4].bias)
    assert.are.equal(w, m:parameters()[1])
    assert.is_true(lucid.is_parameter(w))
    assert.is_true(w.requires_grad)
    assert.is_false(m[4].weight.requires_grad)
    H.assert_close(w, lucid.tensor(before, {dtype = "float64"}), 1e-7, 0, "weight")
    assert.are.equal("float64", w.grad.dtype)
    H.assert_close(w.grad, lucid.tensor(g, {dtype = "float64"}), 1e-7, 0, "gradient")
    m:zero_grad()
    m(lucid.randn(5, 3, {dtype = "float64"})):sum():backward()
    assert.are.equal(1, calls)
    assert.are.equal("float64", b.grad.dtype)
    h.remove()
    m(lucid.randn(5, 3, {dtype = "float64"})):sum():backward()
    assert.are.equal(1, calls)
  end)

  it("an optimizer made before the conversion steps the converted parameters, as one made after", function()
    lucid.manual_seed(3)
    local a = make()
    lucid.manual_seed(3)
    local b = make()
    local opt_a = lucid.optim.Adam(a:parameters(), {lr = 0.01})
    a:double()
    b:double()
    local opt_b = lucid.optim.Adam(b:parameters(), {lr = 0.01})
    local x = lucid.randn(6, 3, {dtype = "float64"})
    for _ = 1, 3 do
      for _, pair in ipairs({{a, opt_a}, {b, opt_b}}) do
        pair[2]:zero_grad()
        pair[1](x):pow(2):sum():backward()
        pair[2]:step()
      end
    end
    local pa, pb = a:parameters(), b:parameters()
    for i = 1, #pa do
      assert.are.equal("float64", pa[i].dtype)
      assert.are.same(pb[i]:tolist(), pa[i]:tolist())
    end
    assert.are_not.same(make():double()[1].weight:tolist(), pa[1]:tolist())
  end)

  it("converts a shared parameter once and a shared buffer to one tensor", function()
    local l = nn.Linear(2, 2)
    local m = nn.Sequential(l, nn.Tanh(), l)
    local stat = lucid.zeros(2)
    local bn1, bn2 = nn.BatchNorm1d(2), nn.BatchNorm1d(2)
    bn1:register_buffer("shared", stat)
    bn2:register_buffer("shared", stat)
    local both = nn.Sequential(m, bn1, bn2)
    both:double()
    assert.are.equal(l.weight, m[3].weight)
    assert.are.equal("float64", l.weight.dtype)
    assert.are.equal(2, #both:parameters() - 4)
    assert.are.equal("float64", bn1.shared.dtype)
    assert.are.equal(bn1.shared, bn2.shared)
  end)

  it("a graph recorded before the conversion still runs backward", function()
    local m = nn.Linear(3, 1)
    local y = m(lucid.randn(2, 3))
    m:double()
    y:sum():backward()   -- the gradient goes to the values the graph used, not to the parameter
    assert.is_nil(m.weight.grad)
    assert.are.equal("float64", m.weight.dtype)
  end)

  it("refuses integer and unknown dtypes and other arguments, as PyTorch, changing nothing", function()
    local m = make()
    H.assert_error("nn.Module:to: only floating point dtypes are accepted (float32, float64), but got "
      .. "desired dtype=int64", m.to, m, "int64")
    H.assert_error("desired dtype=bool", m.to, m, lucid.zeros(1, {dtype = "bool"}))
    H.assert_error("desired dtype=long", m.to, m, "long")
    H.assert_error([[nn.Module:to: unknown dtype 'half' (expected "float32" or "float64")]], m.to, m, "half")
    H.assert_error("nn.Module:to: dtype must be a dtype name or a tensor, got 64", m.to, m, 64)
    H.assert_error("nn.Module:to: dtype is required", m.to, m)
    H.assert_error("nn.Module:to: option 'device' is not supported", m.to, m, {device = "cpu"})
    H.assert_error("nn.Module:to: unknown option 'dtyp' (did you mean 'dtype'?)", m.to, m, {dtyp = "float64"})
    H.assert_error("nn.Module:double: too many arguments", m.double, m, "float64")
    H.assert_error("nn.Module:float: too many arguments", m.float, m, true)
    assert.are.equal("float32", m[1].weight.dtype)
    assert.are.equal("float32", m[2].running_mean.dtype)
  end)

  it("lucid.core._set_data moves a tensor into a parameter's object", function()
    local C = require("lucid.core")
    local p = nn.Parameter(lucid.zeros(2))
    local src = lucid.ones(2, {dtype = "float64"})
    assert.are.equal(p, C._set_data(p, src, lucid.full({2}, 3, {dtype = "float64"})))
    assert.are.same({1, 1}, p:tolist())
    assert.are.equal("float64", p.dtype)
    assert.are.same({3, 3}, p.grad:tolist())
    assert.is_true(p.requires_grad and lucid.is_parameter(p))
    assert.has_error(function() return src:numel() end)   -- moved: src is closed
    H.assert_error("only float tensors can require grad", C._set_data, p, lucid.zeros(2, {dtype = "int64"}))
    H.assert_error("grad must be a tensor of src's shape", C._set_data, p, lucid.zeros(2), lucid.zeros(3))
    H.assert_error("the same tensor", C._set_data, p, p)
    assert.are.same({1, 1}, p:tolist())
  end)
end)

describe("nn.Module: apply, requires_grad_, get_submodule, get_parameter, get_buffer", function()
  local Block = nn.Module:extend("Block")
  function Block:__init()
    self.fc = nn.Linear(2, 2)
    self.bn = nn.BatchNorm1d(2)
  end
  local function make()
    local outer = nn.Module:extend("Outer")()
    outer.first = Block()
    outer.layers = nn.ModuleList({nn.Linear(2, 2), Block()})
    outer.scale = nn.Parameter(lucid.ones(1))
    return outer
  end

  it("apply calls fn on every submodule, children first, then self, and returns the module", function()
    local m = make()
    local order = {}
    assert.are.equal(m, m:apply(function(mod) order[#order + 1] = mod.__name end))
    assert.are.same({"Linear", "BatchNorm1d", "Block", "Linear", "Linear", "BatchNorm1d", "Block", "ModuleList",
      "Outer"}, order)
    -- the usual use: initialising weights
    m:apply(function(mod) if mod.__name == "Linear" then nn.init.zeros_(mod.weight) end end)
    assert.are.same({{0, 0}, {0, 0}}, m.layers[2].fc.weight:tolist())
    H.assert_error("nn.Module:apply: fn must be a function, got 3", m.apply, m, 3)
    H.assert_error("nn.Module:apply: fn must be a function, got nil", m.apply, m)
    local ok, err = pcall(m.apply, m, function() error("stop here") end)
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("stop here", 1, true))
  end)

  it("requires_grad_ sets every parameter's flag and returns the module", function()
    local m = make()
    assert.are.equal(m, m:requires_grad_(false))
    for _, p in ipairs(m:parameters()) do assert.is_false(p.requires_grad) end
    m:requires_grad_()
    for _, p in ipairs(m:parameters()) do assert.is_true(p.requires_grad) end
    m:requires_grad_{requires_grad = false}
    assert.is_false(m.scale.requires_grad)
    H.assert_error("nn.Module:requires_grad_: requires_grad must be a boolean, got 0", m.requires_grad_, m, 0)
  end)

  it("get_submodule, get_parameter and get_buffer read state-dict names", function()
    local m = make()
    assert.are.equal(m, m:get_submodule(""))
    assert.are.equal(m.layers[2].bn, m:get_submodule("layers.2.bn"))
    assert.are.equal(m.layers[1], m:get_submodule("layers.1"))
    assert.are.equal(m.scale, m:get_parameter("scale"))
    assert.are.equal(m.layers[2].fc.weight, m:get_parameter("layers.2.fc.weight"))
    assert.are.equal(m.first.bn.running_var, m:get_buffer("first.bn.running_var"))
    for name, p in m:named_parameters() do assert.are.equal(p, m:get_parameter(name)) end
    for name, b in m:named_buffers() do assert.are.equal(b, m:get_buffer(name)) end
    for name, sub in m:named_modules() do assert.are.equal(sub, m:get_submodule(name)) end
    assert.are.equal(m.scale, m:get_parameter{target = "scale"})
  end)

  it("their errors name the missing part and the whole name", function()
    local m = make()
    H.assert_error("Outer:get_submodule: ModuleList has no submodule '3' (in 'layers.3.fc')", m.get_submodule, m,
      "layers.3.fc")
    H.assert_error("Outer:get_submodule: 'scale' is not an nn.Module (in 'scale')", m.get_submodule, m, "scale")
    H.assert_error("Outer:get_parameter: Outer has no submodule 'second' (in 'second.fc.weight')", m.get_parameter,
      m, "second.fc.weight")
    H.assert_error("Outer:get_parameter: Linear has no parameter 'wieght' (in 'first.fc.wieght')", m.get_parameter,
      m, "first.fc.wieght")
    H.assert_error("Outer:get_parameter: 'running_mean' is not a parameter (in 'first.bn.running_mean')",
      m.get_parameter, m, "first.bn.running_mean")
    H.assert_error("Outer:get_parameter: 'fc' is not a parameter (in 'first.fc')", m.get_parameter, m, "first.fc")
    H.assert_error("Outer:get_buffer: 'weight' is not a buffer (in 'first.bn.weight')", m.get_buffer, m,
      "first.bn.weight")
    H.assert_error("Outer:get_buffer: BatchNorm1d has no buffer 'mean' (in 'first.bn.mean')", m.get_buffer, m,
      "first.bn.mean")
    H.assert_error("nn.Module:get_parameter: target must be a string, got 1", m.get_parameter, m, 1)
    H.assert_error("nn.Module:get_submodule: target must be a string, got nil", m.get_submodule, m)
  end)
end)
