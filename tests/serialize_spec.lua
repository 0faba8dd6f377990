-- lucid.save / lucid.load: safetensors files. Fixtures come from
-- scripts/gen_fixtures_serialize.py (an independent writer in Python), and the
-- same script's --check mode reads back what Lucid writes (run when Debian's
-- Python with torch is present).
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")
local nn = require("lucid.nn")
local serialize = require("lucid.serialize")

local FIXTURES = "tests/fixtures/"
local PYTHON = os.getenv("LUCID_PYTHON") or "/usr/bin/python3"  -- override to test the skip
local SCRIPT = "scripts/gen_fixtures_serialize.py"

local f32 = H.f32

local tmpfiles = {}
local function tmpname()
  local p = os.tmpname()
  tmpfiles[#tmpfiles + 1] = p
  return p
end

local function read_bytes(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function write_bytes(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

-- A file from a header string and data bytes.
local function raw_file(header, data)
  local p = tmpname()
  write_bytes(p, H.bytes("<I8", #header) .. header .. (data or ""))
  return p
end

local function header_of(bytes)
  local n = H.from_bytes("<I8", bytes)
  return bytes:sub(9, 8 + n), n
end

-- Same values, bit for bit (NaN matches NaN, -0.0 only -0.0).
local function same_number(a, b)
  if a ~= a then return b ~= b end
  if a == 0 and b == 0 then return 1 / a == 1 / b end
  return a == b and H.number_type(a) == H.number_type(b)
end

local function assert_tensor(t, dtype, shape, values)
  assert.is_true(lucid.is_tensor(t), "not a tensor")
  assert.are.equal(dtype, t.dtype)
  assert.are.same(shape, t.shape)
  local got = t:numel() == 0 and {} or t:reshape(-1):tolist()
  if type(got) == "number" then got = {got} end
  assert.are.equal(#values, #got)
  for i, v in ipairs(values) do
    if type(v) == "boolean" then
      assert(got[i] == v, string.format("element %d: got %s, expected %s", i, tostring(got[i]), tostring(v)))
    else  -- integer dtypes give Lua integers (5.3+), which compare as their float value
      assert(same_number(got[i] + 0.0, v + 0.0), string.format("element %d: got %.17g, expected %.17g", i, got[i], v))
    end
  end
end

-- Deep equality for loaded tables: tensors by dtype, shape and values;
-- numbers by value and integer/float subtype.
local function assert_same_tree(expected, actual, where)
  where = where or "root"
  if lucid.is_tensor(expected) then
    assert.is_true(lucid.is_tensor(actual), where .. ": expected a tensor")
    local vals = expected:numel() == 0 and {} or expected:reshape(-1):tolist()
    if type(vals) == "number" then vals = {vals} end
    assert_tensor(actual, expected.dtype, expected.shape, vals)
  elseif type(expected) == "table" then
    assert.are.equal("table", type(actual), where .. ": expected a table")
    for k, v in pairs(expected) do assert_same_tree(v, actual[k], where .. "." .. tostring(k)) end
    for k in pairs(actual) do
      assert(expected[k] ~= nil, where .. ": unexpected key " .. tostring(k) .. " (" .. (H.number_type(k) or type(k)) .. ")")
    end
  elseif type(expected) == "number" then
    assert(type(actual) == "number" and same_number(expected, actual),
      string.format("%s: expected %s %s, got %s %s", where, H.number_type(expected), tostring(expected),
        tostring(H.number_type(actual) or type(actual)), tostring(actual)))
  else
    assert.are.equal(expected, actual, where)
  end
end

local has_python
local function python_with_torch()
  if has_python == nil then
    local f = io.open(PYTHON, "rb")
    has_python = f ~= nil and H.execute(PYTHON .. " -c 'import torch, numpy' >/dev/null 2>&1")
    if f then f:close() end
  end
  return has_python
end

-- Runs the Python checker on path; returns its decoded JSON report, or nil
-- (with a message printed) when Python with torch is not available.
local function python_check(path)
  if not python_with_torch() then
    print("\nserialize_spec: " .. PYTHON .. " with torch not found, skipping the Python read-back of " .. path)
    return nil
  end
  local errfile = tmpname()
  local out, ok = H.capture(string.format("%s %s --check '%s' 2>'%s'", PYTHON, SCRIPT, path, errfile))
  assert(ok, "the Python checker failed: " .. read_bytes(errfile) .. out)
  return serialize._json_decode(out)
end

-- The state keeps working after an error.
local function assert_state_works()
  local x = lucid.tensor({1, 2, 3}, {requires_grad = true})
  local y = (x * x):sum()
  y:backward()
  assert.are.same({2, 4, 6}, x.grad:tolist())
end

local function load_error(path)
  local ok, msg = pcall(lucid.load, path)
  assert.is_false(ok, "expected lucid.load to fail on " .. path)
  msg = tostring(msg):gsub("^[^\n]-:%d+: ", "", 1)  -- the caller's position, which errors carry
  assert(msg:find("lucid.load: ", 1, true) == 1, "message does not start with 'lucid.load: ': " .. msg)
  assert_state_works()
  return msg
end

local function assert_load_error(path, ...)
  local msg = load_error(path)
  for _, expected in ipairs({...}) do
    assert(msg:find(expected, 1, true), string.format("error %q does not contain %q", msg, expected))
  end
  return msg
end

local function save_error(expected, tbl, path, opts)
  if path == nil then path = tmpname() elseif path == false then path = nil end
  local ok, msg = pcall(lucid.save, tbl, path, opts)
  assert.is_false(ok, "expected lucid.save to fail: " .. expected)
  msg = tostring(msg):gsub("^[^\n]-:%d+: ", "", 1)  -- the caller's position, which errors carry
  assert(msg:find("lucid.save: ", 1, true) == 1, "message does not start with 'lucid.save: ': " .. msg)
  assert(msg:find(expected, 1, true), string.format("error %q does not contain %q", msg, expected))
  assert_state_works()
end

-- the fixture's contents (see scripts/gen_fixtures_serialize.py)
local INTEROP = {
  weight = {"float32", {2, 3}, {-1.25, -0.75, -0.25, 0.25, 0.75, 1.25}},
  scalar = {"float64", {}, {math.pi}},
  empty = {"float32", {0}, {}},
  third = {"float64", {4}, {1 / 3, -2 / 3, 1e-300, 2.0 ^ 60}},
  empty2d = {"float64", {2, 0}, {}},
  ["block.0.bias"] = {"float32", {2, 2, 1}, {1, 2, 3, 4}},
  f32_tricky = {"float32", {7}, {f32(0.1), H.neg_zero, math.huge, -math.huge, 3.4028234663852886e38,
    1.401298464324817e-45, -2.5}},
}

describe("lucid.load", function()
  teardown(function()
    for _, p in ipairs(tmpfiles) do os.remove(p) end
  end)

  it("reads a file written by an independent implementation (Python)", function()
    local t, meta = lucid.load(FIXTURES .. "interop.safetensors")
    local n = 0
    for name, spec in pairs(INTEROP) do
      assert_tensor(t[name], spec[1], spec[2], spec[3])
      assert.is_false(t[name].requires_grad)
      n = n + 1
    end
    for _ in pairs(t) do n = n - 1 end
    assert.are.equal(0, n, "unexpected tensors")
    assert.are.same({format = "pt", source = "scripts/gen_fixtures_serialize.py"}, meta)
  end)

  it("reads I64 I32 U8 BOOL as they are, widens the other integers, F16 and BF16 to float32 (exactly)", function()
    local t = lucid.load(FIXTURES .. "dtypes.safetensors")
    assert_tensor(t.i64, "int64", {4}, {-1099511627776, -1, 0, 7})
    assert_tensor(t.i32, "int32", {2}, {-2147483648, 2147483647})
    assert_tensor(t.i16, "int32", {2, 1}, {-32768, 32767})
    assert_tensor(t.i8, "int32", {3}, {-128, 127, 0})
    assert_tensor(t.u8, "uint8", {2}, {0, 255})
    assert_tensor(t.u16, "int32", {2}, {65535, 1})
    assert_tensor(t.u32, "int64", {2}, {4294967295, 2})
    assert_tensor(t.u64, "float64", {2}, {2.0 ^ 64, 5.0})  -- 2^64 - 1 rounds to 2^64 in float64
    assert_tensor(t.bool, "bool", {3}, {true, false, true})
    assert_tensor(t.f16, "float32", {7}, {1, -2.5, 65504, 2.0 ^ -24, math.huge, H.neg_zero, 0.0999755859375})
    assert_tensor(t.bf16, "float32", {4}, {1, -3.140625, 2.0 ^ -130, -math.huge})
  end)

  it("refuses 8-bit floats and unknown dtypes, naming the tensor", function()
    assert_load_error(raw_file('{"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}', "\1\2"),
      "tensor 'w'", "dtype F8_E4M3 is not supported")
    assert_load_error(raw_file('{"w":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}}', "\0\0\0\0"),
      "tensor 'w'", "unknown dtype 'F17'")
  end)

  it("reads header padding, unsorted entries, null metadata and an empty file of tensors", function()
    local p = raw_file('{"__metadata__":null,"b":{"dtype":"F64","shape":[],"data_offsets":[4,12]},'
      .. '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}   \n\t ',
      H.bytes("<f", 1.5) .. H.bytes("<d", -2))
    local t, meta = lucid.load(p)
    assert_tensor(t.a, "float32", {1}, {1.5})
    assert_tensor(t.b, "float64", {}, {-2})
    assert.are.same({}, meta)
    local e = lucid.load(raw_file("{}"))
    assert.are.same({}, e)
  end)
end)

describe("lucid.save", function()
  teardown(function()
    for _, p in ipairs(tmpfiles) do os.remove(p) end
  end)

  it("round-trips a model's state_dict into a fresh model with equal outputs", function()
    lucid.manual_seed(1)
    local net = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
    local path = tmpname()
    lucid.save(net:state_dict(), path)
    lucid.manual_seed(2)
    local fresh = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
    local x = lucid.randn(4, 3)
    assert.are_not.same(net(x):tolist(), fresh(x):tolist())
    local sd, meta = lucid.load(path)
    assert.are.same({format = "pt"}, meta)
    fresh:load_state_dict(sd)
    assert.are.same(net(x):tolist(), fresh(x):tolist())
    for name, p in pairs(net:state_dict()) do
      assert.are.same(p:tolist(), sd[name]:tolist(), name)
    end
  end)

  it("keeps int64, int32, uint8 and bool as I64, I32, U8 and BOOL, the widest data first", function()
    local t = {
      ids = lucid.tensor({-3, 0, 9007199254740993}, {dtype = "int64"}),
      small = lucid.tensor({{-2147483648}, {2147483647}}, {dtype = "int32"}),
      pixels = lucid.tensor({0, 200, 255}, {dtype = "uint8"}),
      mask = lucid.tensor({true, false}),
      w = lucid.tensor({0.5, -1}),
    }
    local path = tmpname()
    lucid.save(t, path)
    local header = header_of(read_bytes(path))
    for name, want in pairs({ids = "I64", small = "I32", pixels = "U8", mask = "BOOL", w = "F32"}) do
      assert.is_truthy(header:find('"' .. name .. '":{"dtype":"' .. want .. '"', 1, true), name)
    end
    -- 8-byte elements, then 4-byte ones, then bytes: each tensor aligned to its size
    local offset = {}
    for name in pairs(t) do
      offset[name] = tonumber(header:match('"' .. name .. '":{[^}]-"data_offsets":%[(%d+)'))
    end
    assert.is_true(offset.ids < offset.small and offset.small < offset.w)
    assert.is_true(offset.w < offset.mask and offset.w < offset.pixels)
    local back = lucid.load(path)
    for name, x in pairs(t) do
      assert.are.equal(x.dtype, back[name].dtype, name)
      assert.are.same(x:tolist(), back[name]:tolist(), name)
    end
    if H.has_integers then  -- past 2^53: exact only where Lua has integers to show it
      assert.are.equal(9007199254740993, back.ids[3]:item())
    end
  end)

  it("writes a plain, deterministic safetensors file: sorted names, float64 data first, aligned", function()
    local a = lucid.tensor({1, 2, 3})
    local b = lucid.tensor({{0.5}}, {dtype = "float64"})
    local p1, p2 = tmpname(), tmpname()
    lucid.save({["z.weight"] = a, ["a.bias"] = a, mid = b}, p1)
    local again = {}
    again.mid = b
    again["a.bias"] = a
    again["z.weight"] = a
    lucid.save(again, p2)
    local bytes = read_bytes(p1)
    assert.are.equal(bytes, read_bytes(p2))
    local header, n = header_of(bytes)
    assert.are.equal(0, n % 8)
    assert.are.equal('{"__metadata__":{"format":"pt"},'
      .. '"a.bias":{"dtype":"F32","shape":[3],"data_offsets":[8,20]},'
      .. '"mid":{"dtype":"F64","shape":[1,1],"data_offsets":[0,8]},'
      .. '"z.weight":{"dtype":"F32","shape":[3],"data_offsets":[20,32]}}', (header:gsub(" +$", "")))
    assert.are.equal(8 + n + 32, #bytes)
    assert.are.equal(H.bytes("<d", 0.5) .. H.bytes("<fff", 1, 2, 3), bytes:sub(9 + n, 8 + n + 20))
  end)

  it("saves views, 0-d and empty tensors, float64, and user metadata", function()
    local m = lucid.tensor({{1, 2, 3}, {4, 5, 6}})
    local tbl = {
      t = m:transpose(1, 2),  -- not contiguous: saved in its logical order
      s = lucid.tensor(7, {dtype = "float64"}),
      e = lucid.zeros(0, 3),
      g = lucid.tensor({1, 2}, {requires_grad = true}),
    }
    local p = tmpname()
    lucid.save(tbl, p, {metadata = {epoch = "3", note = "héllo \"quoted\"\n"}})
    local back, meta = lucid.load(p)
    assert_tensor(back.t, "float32", {3, 2}, {1, 4, 2, 5, 3, 6})
    assert_tensor(back.s, "float64", {}, {7})
    assert_tensor(back.e, "float32", {0, 3}, {})
    assert_tensor(back.g, "float32", {2}, {1, 2})
    assert.is_false(back.g.requires_grad)
    assert.are.same({format = "pt", epoch = "3", note = "héllo \"quoted\"\n"}, meta)
  end)

  it("round-trips a nested optimizer-like table exactly", function()
    local tbl = {
      state = {[1] = {step = 3, exp_avg = lucid.tensor({0.1, -0.2})},
               [2] = {step = 3, exp_avg = lucid.zeros(2, 2, {dtype = "float64"})}},
      param_groups = {{lr = 0.1, betas = {0.9, 0.999}, params = {1, 2}, amsgrad = false,
                       eps = 1e-8, weight_decay = 0, name = "group one"}},
    }
    local p = tmpname()
    lucid.save(tbl, p)
    local back, meta = lucid.load(p)
    assert_same_tree(tbl, back)
    if H.has_integers then  -- 5.3+: the subtypes come back too (older Luas have one number type)
      assert.are.equal("integer", math.type(back.state[1].step))
      assert.are.equal("integer", math.type(back.param_groups[1].weight_decay))
      assert.are.equal("float", math.type(back.param_groups[1].lr))
    end
    assert.are.same({format = "pt"}, meta)
    -- other readers see plain tensors under dotted names
    local header = header_of(read_bytes(p))
    assert.truthy(header:find('"state.1.exp_avg":{"dtype":"F32","shape":[2]', 1, true))
    assert.truthy(header:find('"state.2.exp_avg":{"dtype":"F64","shape":[2,2]', 1, true))
    assert.truthy(header:find('"lucid.layout":', 1, true))
  end)

  it("keeps every kind of leaf and key: integer vs string keys, floats, inf, nan, -0.0, binary strings", function()
    local tbl = {
      [1] = "one", ["1"] = "string one", [-5] = true, [0] = false,
      [math.maxinteger or 2 ^ 53] = math.mininteger or -2 ^ 63,  -- the extremes each Lua's numbers hold
      floats = {0.1, 1.0, H.neg_zero, 1e300, 5e-324, math.huge, -math.huge, 2 ^ 53, 1 / 3},
      bytes = "\0\1\255\254 not utf-8 \200",
      text = "tab\t quote\" backslash\\ newline\n unicode \240\159\152\128 \127",
      empty = {},
      nested = {deep = {deeper = {t = lucid.tensor({{1.5}})}}},
      ["key with.dots"] = 1,
    }
    local p = tmpname()
    lucid.save(tbl, p)
    local back = lucid.load(p)
    assert_same_tree(tbl, back)
    local nan = lucid.load((function() local q = tmpname() lucid.save({x = 0 / 0}, q) return q end)())
    assert.is_true(nan.x ~= nan.x)
  end)

  it("saves a checkpoint {model = ..., optim = ..., epoch = ...}", function()
    lucid.manual_seed(3)
    local net = nn.Linear(2, 2)
    local ckpt = {model = net:state_dict(), epoch = 7, optim = {state = {}, param_groups = {{lr = 0.01}}}}
    local p = tmpname()
    lucid.save(ckpt, p)
    local back = lucid.load(p)
    assert_same_tree(ckpt, back)
    local fresh = nn.Linear(2, 2)
    fresh:load_state_dict(back.model)
    assert.are.same(net.weight:tolist(), fresh.weight:tolist())
  end)

  it("round-trips a real optimizer's state when lucid.optim has Adam", function()
    local ok, optim = pcall(require, "lucid.optim")
    if not ok or type(optim) ~= "table" or not optim.Adam then
      print("\nserialize_spec: lucid.optim.Adam not available, optimizer round trip not run")
      return
    end
    lucid.manual_seed(4)
    local net = nn.Linear(3, 1)
    local opt = optim.Adam(net:parameters(), {lr = 0.01})
    local x = lucid.randn(5, 3)
    for _ = 1, 2 do
      opt:zero_grad()
      net(x):sum():backward()
      opt:step()
    end
    local p = tmpname()
    lucid.save({model = net:state_dict(), optim = opt:state_dict()}, p)
    local back = lucid.load(p)
    assert_same_tree(opt:state_dict(), back.optim)
  end)

  it("saves a single tensor, which loads as that tensor", function()
    local p = tmpname()
    lucid.save(lucid.tensor({{1, 2}}), p)
    local t = lucid.load(p)
    assert_tensor(t, "float32", {1, 2}, {1, 2})
  end)

  it("is read back by Python (scripts/gen_fixtures_serialize.py --check)", function()
    local flat = {
      ["fc.weight"] = lucid.tensor({{0.1, -0.2, 0.3}, {1e-3, 1e3, H.neg_zero}}),
      ["fc.bias"] = lucid.tensor({math.huge, -math.huge}, {dtype = "float64"}),
      scalar = lucid.tensor(2.5),
      empty = lucid.zeros(0, 2, {dtype = "float64"}),
      third = lucid.tensor({1 / 3, 2 / 3}, {dtype = "float64"}),
    }
    local p = tmpname()
    lucid.save(flat, p)
    local report = python_check(p)
    if report then
      assert.are.same({format = "pt"}, setmetatable(report.metadata, nil))
      local n = 0
      for name, t in pairs(flat) do
        local r = report.tensors[name]
        assert(r, "Python did not see " .. name)
        assert.are.equal(t.dtype == "float64" and "F64" or "F32", r.dtype)
        assert.are.same(t.shape, {H.unpack(r.shape, 1, r.shape.n)})
        local vals = t:numel() == 0 and {} or t:reshape(-1):tolist()
        if type(vals) == "number" then vals = {vals} end
        assert.are.equal(#vals, r.values.n)
        for i, v in ipairs(vals) do
          local pv = r.values[i]
          pv = pv == "inf" and math.huge or pv == "-inf" and -math.huge or pv
          assert(same_number(v + 0.0, pv + 0.0), string.format("%s[%d]: Lua %.17g, Python %s", name, i, v, tostring(pv)))
        end
        n = n + 1
      end
      for _ in pairs(report.tensors) do n = n - 1 end
      assert.are.equal(0, n)

      -- a nested table: Python sees the dotted names and a JSON layout
      local q = tmpname()
      lucid.save({state = {[1] = {exp_avg = lucid.ones(2)}}, lr = 0.5}, q)
      local r2 = python_check(q)
      assert.truthy(r2.tensors["state.1.exp_avg"])
      assert.are.equal("pt", r2.metadata.format)
      assert.truthy(r2.metadata["lucid.layout"])
      -- and the fixtures Python wrote survive a Lucid round trip unchanged
      local r3p = tmpname()
      lucid.save(lucid.load(FIXTURES .. "interop.safetensors"), r3p)
      local r3 = python_check(r3p)
      for name, spec in pairs(INTEROP) do
        assert.are.equal(spec[1] == "float64" and "F64" or "F32", r3.tensors[name].dtype)
        assert.are.equal(#spec[3], r3.tensors[name].values.n, name)
      end
    end
  end)

  it("names the problem when the table cannot be saved, without touching the file", function()
    local p = tmpname()
    write_bytes(p, "precious")
    save_error("expected a table of tensors (or a tensor) as argument 1, got number", 3, p)
    save_error("expected a file path (string) as argument 2, got nil", {}, false)
    save_error("the value at a.f is a function", {a = {f = print}}, p)
    save_error("contains itself (a cycle)", (function() local t = {x = {}} t.x.y = t return t end)(), p)
    save_error("is a table with a metatable", {m = nn.Linear(1, 1)}, p)
    save_error("has a key of type float (1.5)", {[1.5] = 1}, p)
    save_error("has a key of type boolean", {[true] = 1}, p)
    save_error("would both be stored as tensor 'a.b'", {["a.b"] = lucid.ones(1), a = {b = lucid.ones(1)}}, p)
    save_error("'__metadata__'", {__metadata__ = lucid.ones(1)}, p)
    save_error("unknown option 'meta'", {}, p, {meta = {}})
    save_error("opts.metadata must map strings to strings", {}, p, {metadata = {a = 1}})
    save_error("the key 'lucid.layout' is reserved", {}, p, {metadata = {["lucid.layout"] = "x"}})
    save_error("the name \"\\255\" is not valid UTF-8", {["\255"] = lucid.ones(1)}, p)
    assert.are.equal("precious", read_bytes(p))
    save_error("cannot write /nonexistent-dir/x.safetensors: No such file or directory", {}, "/nonexistent-dir/x.safetensors")
  end)
end)

describe("lucid.load on damaged files", function()
  local valid, vbytes, hlen
  setup(function()
    valid = tmpname()
    lucid.save({a = lucid.tensor({1, 2, 3}), b = lucid.tensor({{4, 5}}, {dtype = "float64"})}, valid)
    vbytes = read_bytes(valid)
    hlen = H.from_bytes("<I8", vbytes)
  end)
  teardown(function()
    for _, p in ipairs(tmpfiles) do os.remove(p) end
  end)

  it("fails clearly on a missing file or a path that is not a file", function()
    assert_load_error("/nonexistent/file.safetensors", "cannot open", "No such file")
    assert_load_error("/", "cannot read")
    local ok, msg = pcall(lucid.load, 42)
    assert.is_false(ok)
    assert.truthy(tostring(msg):find("lucid.load: expected a file path (string), got number", 1, true))
  end)

  it("fails clearly when the file is cut at any byte of the header and in the data", function()
    local p = tmpname()
    local cuts = {}
    for k = 0, 8 + hlen - 1 do cuts[#cuts + 1] = k end
    for _, k in ipairs({8 + hlen + 1, 8 + hlen + 8, #vbytes - 1}) do cuts[#cuts + 1] = k end
    for _, k in ipairs(cuts) do
      write_bytes(p, vbytes:sub(1, k))
      local msg = load_error(p)
      local expected = k < 8 and "too short for the 8-byte header length"
        or k < 8 + hlen and "header length " .. hlen .. " is larger than the rest of the file"
        or "lie outside the data"
      assert(msg:find(expected, 1, true), string.format("cut at %d: %q lacks %q", k, msg, expected))
      assert(msg:find(p, 1, true), "the message names the file")
    end
  end)

  it("fails clearly on trailing bytes after the data", function()
    local p = tmpname()
    write_bytes(p, vbytes .. "X")
    assert_load_error(p, "1 bytes of trailing data after the last tensor")
  end)

  it("fails clearly on header lengths larger than the file, up to 2^64 - 1", function()
    local body = vbytes:sub(9)
    for _, n in ipairs({#body + 1, 2 ^ 32, math.maxinteger or 2 ^ 63 - 1024}) do  -- (the largest double below 2^63)
      local p = tmpname()
      write_bytes(p, H.bytes("<i8", n) .. body)
      assert_load_error(p, string.format("header length %d is larger than the rest of the file", n))
    end
    local p = tmpname()
    write_bytes(p, H.bytes("<i8", math.mininteger or -2 ^ 63) .. body)  -- 2^63
    assert_load_error(p, "header length 9223372036854775808 is larger")
    write_bytes(p, H.bytes("<i8", -1) .. body)  -- 2^64 - 1
    assert_load_error(p, "header length 18446744073709551615 is larger")
  end)

  it("fails clearly on a header that is not a JSON object", function()
    local cases = {
      {"", "not valid JSON"},
      {"{", "not valid JSON"},
      {"not json", "not valid JSON"},
      {'{"a":1,}', "not valid JSON"},
      {'{"a" 1}', "expected ':'"},
      {'{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}} x', "unexpected text after the JSON value"},
      {'{"a":1,"a":2}', "duplicate key 'a'"},
      {'{"a":"\\x"}', "invalid escape"},
      {'{"a":"\\ud800"}', "unpaired surrogate"},
      {'{"a":01}', "not valid JSON"},
      {'{"a":NaN}', "not valid JSON"},
      {"{\"a\":\"\1\"}", "control character in string"},
      {string.rep("[", 600) .. string.rep("]", 600), "nested too deeply"},
      {"[]", "the header is an array, not a JSON object"},
      {'"text"', "the header is a string, not a JSON object"},
      {"\255\254{}", "not valid UTF-8"},
    }
    for _, c in ipairs(cases) do
      assert_load_error(raw_file(c[1]), c[2])
    end
  end)

  it("fails clearly on bad tensor entries, offsets and metadata", function()
    local four = "\0\0\128\63"  -- 1.0f
    local function entry(dtype, shape, offs)
      return string.format('{"w":{"dtype":"%s","shape":%s,"data_offsets":%s}}', dtype, shape, offs)
    end
    local cases = {
      {'{"w":3}', four, "tensor 'w': expected an object, got a number"},
      {'{"w":{"shape":[1],"data_offsets":[0,4]}}', four, "'dtype' must be a string"},
      {entry("F32", "[1.0]", "[0,4]"), four, "shape entry 1 is not a non-negative integer"},
      {entry("F32", "[-1]", "[0,4]"), four, "shape entry 1 is not a non-negative integer"},
      {entry("F32", "{}", "[0,4]"), four, "'shape' must be an array, got an object"},
      {entry("F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]"), four, "9 dimensions, lucid supports at most 8"},
      {entry("F32", "[1]", "[0]"), four, "'data_offsets' must be an array [begin, end]"},
      {entry("F32", "[1]", "[4,0]"), four, "are not integers 0 <= begin <= end"},
      {entry("F32", "[1]", "[-4,0]"), four, "are not integers 0 <= begin <= end"},
      {entry("F32", "[2]", "[0,4]"), four, "shape {2} of F32 needs 8 bytes, data_offsets [0, 4] hold 4"},
      {entry("F64", "[1]", "[0,4]"), four, "shape {1} of F64 needs 8 bytes"},
      {entry("F32", "[4611686018427387904,4]", "[0,4]"), four, "needs too many bytes"},
      {entry("F32", "[1]", "[4,8]"), four, "data_offsets [4, 8] lie outside the data (4 bytes)"},
      {entry("F32", "[1]", "[0,4]"), four .. four, "4 bytes of trailing data"},
      {entry("F32", "[1]", "[4,8]"), four .. four, "bytes [0, 4) of the data belong to no tensor"},
      {'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
        four .. four, "tensors 'a' [0, 8] and 'b' [4, 8] overlap"},
      {'{"__metadata__":{"k":1}}', "", "__metadata__ 'k' is a number, not a string"},
      {'{"__metadata__":[]}', "", "__metadata__ is an array, not an object"},
      {'{"__metadata__":{"lucid.layout":"{"}}', "", "metadata 'lucid.layout' is invalid"},
      {'{"__metadata__":{"lucid.layout":"{\\"version\\":1,\\"root\\":[\\"T\\",\\"x\\"]}"}}', "",
        "refers to a tensor 'x' that the file does not hold"},
      {'{"__metadata__":{"lucid.layout":"{\\"version\\":2,\\"root\\":[\\"t\\",[]]}"}}', "",
        "expected {\"version\": 1"},
      {'{"__metadata__":{"lucid.layout":"{\\"version\\":1,\\"root\\":[\\"t\\",[]]}"},'
        .. '"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', four, "tensor 'w' is not referred to"},
      {'{"__metadata__":{"lucid.layout":"{\\"version\\":1,\\"root\\":[\\"t\\",[1,[\\"q\\",1]]]}"}}', "",
        "unknown node tag 'q'"},
    }
    for _, c in ipairs(cases) do
      assert_load_error(raw_file(c[1], c[2]), c[3])
    end
  end)

  it("fails clearly on a wrong dtype for the data size", function()
    -- replace "F64" by "F32" in a valid file: sizes no longer match
    local bad = vbytes:gsub('"F64"', '"F32"', 1)
    local p = tmpname()
    write_bytes(p, bad)
    assert_load_error(p, "tensor 'b'", "of F32 needs 8 bytes, data_offsets [0, 16] hold 16")
  end)
end)
