-- The binding's one argument checker (lua/lucid_args.c): every option of every
-- binding function is checked, never ignored (issue 10). Driven by
-- lucid.core._options, the binding's own list of each function's options, so
-- a function added later is covered without touching this file. Also: the
-- error position (the caller's line), create_graph (refused until the core
-- supports it), and one out-of-memory policy for every op family.
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")
local nn = require("lucid.nn")
local C = require("lucid.core")

local SPEC = debug.getinfo(1, "S").short_src

-- The message of f(...)'s error, without its "file:line: " position.
local function message(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  assert.is_string(err)
  return (err:gsub("^[^\n]-:%d+: ", "")), err
end

local function fails(expected, f, ...)
  local body, err = message(f, ...)
  assert(body:sub(1, #expected) == expected,
    string.format("error %q does not start with %q", err, expected))
end

-- The name errors use for the binding function registered as `name`.
local FNAME = {_autograd_grad = "lucid.autograd.grad", parameter = "nn.Parameter",
  _ctc_loss = "nn.functional.ctc_loss"}
local function fname(name) return FNAME[name] or "lucid." .. name end

-- Arguments that get a call as far as its options: the tensor first for
-- methods, and what a function checks before it reads its options.
local function leading(name)
  local x = lucid.zeros(2, 3)
  local w = lucid.ones(2, {requires_grad = true})
  local special = {
    _autograd_grad = {(w * w):sum(), {w}},
    backward = {(w * w):sum()},
    linear = {x, lucid.zeros(4, 3)}, matmul = {x, lucid.zeros(3, 2)},
    cat = {{x, x}}, stack = {{x, x}},
    from_string = {string.rep("\0", 4), 1},
    randint = {0, 10, {2}},
    full = {{2}, 1},
    parameter = {x},
    masked_softmax = {x},
    _ctc_loss = {x},
  }
  for _, op in ipairs({"rnn_tanh", "rnn_relu", "lstm", "gru", "rnn_tanh_cell", "rnn_relu_cell",
                       "lstm_cell", "gru_cell"}) do
    special[op] = {x}  -- the input is checked before the options
  end
  if special[name] then return special[name] end
  if C._methods[name] then return {x} end
  return {}
end

describe("binding options", function()
  it("lists the options of every binding function in lucid.core._options", function()
    local opts = C._options
    assert.is_table(opts)
    assert.are.same({"dim", "keepdim"}, opts.sum)
    assert.are.same({"dtype", "requires_grad"}, opts.zeros)
    assert.are.same({"gradient", "retain_graph", "create_graph"}, opts.backward)
    assert.are.same({"outputs", "inputs", "grad_outputs", "retain_graph", "create_graph",
      "allow_unused"}, opts._autograd_grad)
    assert.are.same({}, opts.exp)
    -- every public function and method of the binding is listed
    for name, f in pairs(C) do
      if type(f) == "function" and name:sub(1, 1) ~= "_" then
        assert.is_table(opts[name], "no _options entry for lucid.core." .. name)
      end
    end
    for name, f in pairs(C._methods) do  -- the C ones (the Lua library adds its own)
      if debug.getinfo(f, "S").what == "C" then
        assert.is_table(opts[name], "no _options entry for method " .. name)
      end
    end
  end)

  it("refuses an unknown option in every function that takes options", function()
    local checked = 0
    for name, names in pairs(C._options) do
      if #names > 0 then
        local targets = {}
        if rawget(C, name) then targets[#targets + 1] = C[name] end
        if C._methods[name] and C._methods[name] ~= C[name] then
          targets[#targets + 1] = C._methods[name]
        end
        for _, f in ipairs(targets) do
          local args = leading(name)
          args[#args + 1] = {bogus_option = 1}
          local body, err = message(f, H.unpack(args))
          local want = fname(name) .. ": unknown option 'bogus_option'"
          assert(body:sub(1, #want) == want,
            string.format("%s: error %q does not start with %q", name, err, want))
          assert(err:sub(1, #SPEC) == SPEC, "the error should point at this file: " .. err)
          checked = checked + 1
        end
      end
    end
    assert.is_true(checked >= 60, "only " .. checked .. " functions checked")
  end)

  it("refuses an unknown option in every lucid.linalg function of the binding", function()
    local checked = 0
    local a, b = lucid.eye(3), lucid.ones(3, 1)
    for name, names in pairs(lucid.linalg._options) do
      local args = (name == "solve" or name == "lstsq") and {a, b} or {a}
      args[#args + 1] = {bogus_option = 1}
      local body, err = message(lucid.linalg[name], H.unpack(args))
      local want = "lucid.linalg." .. name .. ": unknown option 'bogus_option'"
      assert(body:sub(1, #want) == want, string.format("%s: error %q does not start with %q", name, err, want))
      assert(err:sub(1, #SPEC) == SPEC, "the error should point at this file: " .. err)
      checked = checked + (#names > 0 and 1 or 0)
    end
    assert.is_true(checked >= 7, "only " .. checked .. " functions with options checked")
  end)

  it("suggests the option meant by a typo", function()
    local x = lucid.zeros(2, 3)
    local w = lucid.ones(2, {requires_grad = true})
    local y = (w * w):sum()
    fails("lucid.zeros: unknown option 'dtyp' (did you mean 'dtype'?)", lucid.zeros, 2,
      {dtyp = "float64"})
    fails("lucid.tensor: unknown option 'requires_gard' (did you mean 'requires_grad'?)",
      lucid.tensor, {1}, {requires_gard = true})
    fails("lucid.sum: unknown option 'keep_dim' (did you mean 'keepdim'?)", x.sum, x,
      {dim = 2, keep_dim = true})
    fails("lucid.backward: unknown option 'retain_grahp' (did you mean 'retain_graph'?)",
      y.backward, y, nil, {retain_grahp = true})
    fails("lucid.autograd.grad: unknown option 'alow_unused' (did you mean 'allow_unused'?)",
      lucid.autograd.grad, y, {w}, {alow_unused = true})
    -- far from every name: the list instead
    fails("lucid.sum: unknown option 'axis' (expected dim or keepdim)", x.sum, x, {axis = 1})
    fails("lucid.exp: unknown option 'out' (it takes no options)", x.exp, x, {out = x})
    fails("lucid.max: unknown option '1' (expected dim or keepdim)", x.max, x, {1})
    -- nothing was changed by the refused calls
    assert.is_nil(w.grad)
  end)

  it("names the option and the type when a value has the wrong type", function()
    local x = lucid.zeros(2, 3)
    fails("lucid.sum: option 'keepdim' must be a boolean, got number", x.sum, x, {keepdim = 1})
    fails("lucid.sum: keepdim must be a boolean, got number", x.sum, x, 1, 1)
    fails("lucid.zeros: option 'dtype' must be a dtype name, got number", lucid.zeros, 2,
      {dtype = 5})
    fails("lucid.zeros: unknown dtype 'float16'", lucid.zeros, 2, {dtype = "float16"})
    fails("lucid.tensor: option 'requires_grad' must be a boolean, got string", lucid.tensor,
      {1}, {requires_grad = "yes"})
    fails("lucid.softplus: option 'threshold' must be a number, got string", x.softplus, x,
      {threshold = "x"})
    fails("lucid.tanh: option 'out' must be a tensor, got number", x.tanh, x, {out = 1})
    fails("lucid.narrow: option 'length' must be an integer, got a fraction", x.narrow, x, 1, 1,
      {length = 0.5})
    fails("lucid.sum: option 'dim' must be an integer, got string", x.sum, x, {dim = "1"})
  end)

  it("refuses a value given both positionally and by name, and surplus arguments", function()
    local x = lucid.zeros(2, 3)
    fails("lucid.sum: dim is given twice (positionally and by name)", x.sum, x, 1, {dim = 2})
    fails("lucid.softplus: beta is given twice", x.softplus, x, 2, {beta = 3})
    fails("lucid.cat: dim is given twice", lucid.cat, {x, x}, 1, {dim = 2})
    fails("lucid.exp: too many arguments", x.exp, x, 1)
    fails("lucid.add: too many arguments", lucid.add, x, x, x)
    fails("lucid.transpose: too many arguments", x.transpose, x, 1, 2, 1)
    fails("lucid.softmax: dim is required", x.softmax, x)
  end)

  it("reads options positionally, by name, or both, to the same effect", function()
    local x = lucid.tensor({{1, 2, 3}, {4, 5, 6}})
    assert.are.same(x:sum(2, true):tolist(), x:sum{dim = 2, keepdim = true}:tolist())
    assert.are.same(x:sum(2, true):tolist(), x:sum(2, {keepdim = true}):tolist())
    assert.are.same({{6}, {15}}, x:sum(-1, true):tolist())
    assert.are.equal("float64", lucid.zeros(2, {dtype = "float64"}).dtype)
    assert.are.equal("float64", lucid.zeros({2, 3}, {dtype = "float64"}).dtype)
    assert.is_true(lucid.tensor({1}, {requires_grad = true}).requires_grad)
    assert.are.same({{7, 7}}, lucid.full(1, 2, 7):tolist())
    assert.are.same({{7, 7}}, lucid.full({1, 2}, {fill_value = 7}):tolist())
    assert.are.same({0, 2, 4}, lucid.arange(0, 6, {step = 2}):tolist())
    local out = lucid.zeros(2, 3)
    assert.are.equal(out, lucid.tanh(x, {out = out}))
    assert.are.same(lucid.tanh(x):tolist(), out:tolist())
    local v, i = x:max{dim = 2}
    assert.are.same({3, 6}, v:tolist())
    assert.are.same({3, 3}, i:tolist())
    assert.are.same({{1, 2}, {4, 5}}, x:narrow{dim = 2, start = 1, length = 2}:tolist())
    assert.are.same({1, 2, 3}, x:unsqueeze{dim = 1}.shape)
    assert.are.same({2, 6}, lucid.cat({x, x}, {dim = 2}).shape)
    assert.are.same({2, 3, 2}, lucid.stack({x, x}, {dim = -1}).shape)
    assert.are.same({{1, 2, 3}}, x:split(1, {dim = 1})[1]:tolist())
    assert.are.same({6, 15}, x:sum{dim = -1}:tolist())
    assert.are.same({2, 3}, x:flatten{start_dim = 1, end_dim = 1}.shape)
    assert.are.equal("float64", x:to{dtype = "float64"}.dtype)
  end)

  it("builds the backward's own graph with create_graph = true, by name or by position", function()
    local w = lucid.tensor({1, 2}, {dtype = "float64", requires_grad = true})
    local y = (w * w * w):sum()
    local g = lucid.autograd.grad(y, {w}, nil, {create_graph = true})
    assert.is_true(g.requires_grad)
    assert.are.same({3, 12}, g:tolist())
    -- create_graph keeps the graph (retain_graph defaults to it, as in PyTorch)
    local g2 = lucid.autograd.grad(y, {w}, {create_graph = true})
    assert.are.same({3, 12}, g2:tolist())
    assert.are.same({6, 12}, (lucid.autograd.grad(g:sum(), {w})):tolist())
    y = (w * w * w):sum()  -- that grad freed the graph g shared with y
    y:backward(nil, true, true)  -- positional: gradient, retain_graph, create_graph
    assert.is_true(w.grad.requires_grad)
    assert.are.same({6, 12}, lucid.autograd.grad(w.grad:sum(), {w}):tolist())
    -- without it, the gradient is a plain tensor
    local z = (w * w * w):sum()
    assert.is_false(lucid.autograd.grad(z, {w}).requires_grad)
  end)

  it("frees the cycle a create_graph backward leaves in a leaf's .grad", function()
    collectgarbage()
    collectgarbage()
    local before = lucid.memory_allocated()
    for _ = 1, 50 do
      local w = lucid.randn(1000, {dtype = "float64", requires_grad = true})
      local y = (w * w * w):sum()
      y:backward{create_graph = true}
      assert.is_true(w.grad.requires_grad)  -- w -> w.grad -> its graph -> w
    end
    collectgarbage()
    collectgarbage()
    assert.are.equal(before, lucid.memory_allocated())
    -- a second reference to the same tensor keeps the gradient
    local w = lucid.randn(4, {dtype = "float64", requires_grad = true})
    local other = w:contiguous()  -- the same tensor, a second Lua value
    ;(w * w):sum():backward{create_graph = true}
    w = nil  -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.is_true(other.grad.requires_grad)
    other = nil  -- luacheck: ignore
    -- the leaf goes while another graph still refers to it, then that graph
    -- goes too; or the leaf has no Lua reference when the backward runs
    local x = lucid.randn(3, {dtype = "float64", requires_grad = true})
    local y = x:log()
    y:sum():backward(nil, {create_graph = true})
    x = nil  -- luacheck: ignore
    collectgarbage()
    y = nil  -- luacheck: ignore
    collectgarbage()
    local z = lucid.randn(3, {dtype = "float64", requires_grad = true}):log()
    collectgarbage()
    z:sum():backward(nil, {create_graph = true})
    z = nil  -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.are.equal(before, lucid.memory_allocated())
    -- two leaves whose gradients hold each other (d(ab)/da = b)
    local a = lucid.randn(3, {dtype = "float64", requires_grad = true})
    local b = lucid.randn(3, {dtype = "float64", requires_grad = true})
    ;(a * b):sum():backward(nil, {create_graph = true})
    a = nil  -- luacheck: ignore
    collectgarbage()
    assert.is_true(b.grad.requires_grad)  -- b still there, its gradient too
    b = nil  -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.are.equal(before, lucid.memory_allocated())
    -- the last outside reference is an intermediate of the cycle, not the leaf
    local c = lucid.randn(3, {dtype = "float64", requires_grad = true})
    local u = c:exp()
    ;(u * u):sum():backward(nil, {create_graph = true})
    c = nil  -- luacheck: ignore
    collectgarbage()
    u = nil  -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.are.equal(before, lucid.memory_allocated())
  end)

  it("keeps the graph for retain_graph, by name or by position", function()
    local w = lucid.tensor({1, 2}, {requires_grad = true})
    local y = (w * w):sum()
    y:backward(nil, {retain_graph = true})
    y:backward(nil, true)
    y:backward()
    assert.are.same({6, 12}, w.grad:tolist())
  end)

  it("points an error raised under a Lua layer at the caller's line", function()
    -- no tail calls: Lua 5.1 and LuaJIT keep no line for a frame a tail call replaced
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(function() local y = nn.Linear(2, 3)(lucid.zeros(2, 4)) return y end)
    assert.is_false(ok)
    local want = SPEC .. ":" .. line .. ": lucid.linear: "
    assert(err:sub(1, #want) == want, string.format("error %q does not start with %q", err, want))
    local x = lucid.zeros(2, 3)
    line = debug.getinfo(1, "l").currentline + 1
    ok, err = pcall(function() local y = x:sum{dim = 2, keep_dim = true} return y end)
    want = SPEC .. ":" .. line .. ": lucid.sum: unknown option 'keep_dim'"
    assert(err:sub(1, #want) == want, string.format("error %q does not start with %q", err, want))
  end)
end)

-- One out-of-memory policy: when a core call fails for want of memory, the
-- binding runs a full collection and tries once more, in every op family. A
-- Lua state is run under a memory cap (prlimit on a child of the same Lua, so
-- that tensors, which come from Lua's allocator, count): each op makes a
-- 4 MB result, drops it (garbage a 5.4 minor collection keeps: it is old), and
-- is called again with room for less than one more result. It succeeds only
-- if the garbage is collected first. A control keeps the first result
-- referenced: then the call must fail.
local CHILD = [==[
local lucid = require("lucid")
-- lua5.4's default, said explicitly; the other Luas have the incremental collector only
if _VERSION == "Lua 5.4" then collectgarbage("generational") end
local N = 1024 * 1024                    -- 4 MB of float32
local x = lucid.zeros(1, N)
local OPS = {
  tanh = function() return x:tanh() end,               -- ops
  exp = function() return x:exp() end,                 -- elementwise
  sum = function() return x:sum(1) end,                -- reduce
  softmax = function() return x:softmax(2) end,        -- reduce (scan)
  cat = function() return lucid.cat({x}, 2) end,       -- shape
  zeros = function() return lucid.zeros(1, N) end,     -- creation
  add = function() return x + 1 end,                   -- binary
}
local function vm_kb()
  for line in io.lines("/proc/self/status") do
    local kb = line:match("^VmSize:%s*(%d+)")
    if kb then return tonumber(kb) end
  end
end
local f = assert(io.open("/proc/self/stat"))
local pid = f:read("*n")
f:close()
local function limit(spec)
  local ok = os.execute(("prlimit --pid %d --as=%s"):format(pid, spec))
  assert(ok == true or ok == 0, "prlimit failed")  -- 5.2+: true; 5.1, LuaJIT: the status
end
for _, a in ipairs(arg) do
  local name, keep = a:match("^(%w+)(.*)$")
  collectgarbage() collectgarbage()
  do  -- push 4 MB blocks out of the core's cache of freed blocks (8 entries)
    local t = {}
    for i = 1, 8 do t[i] = lucid.zeros(1024 + i) end
  end
  collectgarbage() collectgarbage()
  local garbage = OPS[name]()
  collectgarbage()                       -- garbage is old now: minor collections keep it
  if keep ~= ":keep" then garbage = nil end
  limit(("%d:unlimited"):format((vm_kb() + 2048) * 1024))  -- room for less than one result
  local ok, err = pcall(OPS[name])
  limit("unlimited:unlimited")
  garbage = nil
  io.write(a, " ", ok and "ok" or ("failed: " .. tostring(err)), "\n")
end
]==]

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function capture(cmd)
  local p = io.popen(cmd)
  local s = p:read("*a")
  p:close()
  return s
end

describe("out of memory", function()
  local usable = H.execute("command -v prlimit >/dev/null 2>&1")
    and io.open("/proc/self/status") ~= nil
  local run = usable and it or pending

  run("every op family collects garbage and tries again before failing", function()
    local path = os.tmpname()
    local fh = assert(io.open(path, "w"))
    fh:write(CHILD)
    fh:close()
    local root = SPEC:match("^(.*)/tests/[^/]*$") or "."
    local env = string.format("LUA_PATH=%s LUA_CPATH=%s OPENBLAS_NUM_THREADS=1 " ..
      "MALLOC_MMAP_THRESHOLD_=65536 ",  -- big blocks go back to the system when freed
      q(root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. (os.getenv("LUA_PATH") or ";")),
      q(os.getenv("LUA_CPATH") or root .. "/" .. H.build_dir .. "/?.so;;"))
    local out = capture(env .. H.lua_name .. " " .. q(path) ..
      " exp:keep tanh exp sum softmax cat zeros add 2>&1")
    os.remove(path)
    -- the control: with the first result still referenced, there is no room
    assert.truthy(out:find("exp:keep failed: [^\n]*lucid.exp: not enough memory"),
      "the cap should refuse a second result: " .. out)
    for _, name in ipairs({"tanh", "exp", "sum", "softmax", "cat", "zeros", "add"}) do
      assert.truthy(out:find("\n" .. name .. " ok\n", 1, true), name .. " did not recover: " .. out)
    end
  end)
end)
