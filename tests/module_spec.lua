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
