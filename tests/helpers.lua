--- Shared helpers for the busted specs:  local H = dofile("tests/helpers.lua")
--
-- A fixture tensor is {shape = {...}, data = {flat row-major values}}
-- (0-d: shape = {} and one value), as written by scripts/gen_fixtures.py.
local lucid = require("lucid")
-- busted's assert lives in the spec's environment, not in _G that dofile sees
local assert = require("luassert")

local H = {}

-- ---- The Lua running the specs -------------------------------------------------
-- The suite runs under lua5.1, lua5.2, lua5.3, lua5.4 and LuaJIT. A spec about
-- one version's feature runs only where it applies (each says why); these say
-- which Lua this is.

H.luajit = rawget(_G, "jit") ~= nil
--- "lua5.1" ... "lua5.4" or "luajit": the Debian name of this interpreter,
-- which child processes must run (a module built for one Lua loads in no other).
H.lua_name = H.luajit and "luajit" or "lua" .. _VERSION:match("%d+%.%d+")
--- Lua 5.4 (and only it) has `<close>` variables and generational GC.
H.lua54 = H.lua_name == "lua5.4"
--- Lua 5.3 and 5.4 have an integer subtype (math.type, 3 vs 3.0, `//`, `<<`);
-- older Luas and LuaJIT have one number type, a double.
H.has_integers = math.type ~= nil
--- The Makefile's build directory of this Lua: build/ for 5.4, build/<lua>/ else.
H.build_dir = H.lua54 and "build" or "build/" .. H.lua_name

--- `#t` calls a table's __len from 5.2; 5.1 and LuaJIT ignore it.
H.table_len = #setmetatable({}, {__len = function() return 1 end}) == 1

--- -0.0: Lua 5.1 and LuaJIT read the constant -0.0 as 0 (5.2+ keep the sign).
H.neg_zero = -1 / math.huge

--- The length of an object with __len (a module list, a dataset, a loader):
-- `#x` where tables have __len; on 5.1 and LuaJIT, which ignore it on tables,
-- the metamethod itself (what `#` means there).
function H.len(x)
  if H.table_len then return #x end
  return getmetatable(x).__len(x)
end

--- Text written as Lua 5.3+ (and PyTorch) print whole floats, "1.0", made
-- what this Lua prints: "1" on 5.1, 5.2 and LuaJIT, whose one number type
-- prints whole values without ".0".
function H.as_printed(text)
  if H.has_integers then return text end
  return (text:gsub("(%d)%.0%f[^%d]", "%1"))
end

--- ipairs reads through __index from 5.3 (5.1, 5.2 and LuaJIT read raw).
H.ipairs_index = (function()
  for _, v in ipairs(setmetatable({}, {__index = function(_, i) if i == 1 then return true end end})) do
    return v
  end
  return false
end)()
--- pairs calls __pairs from 5.2 (not 5.1 nor LuaJIT).
H.pairs_meta = (function()
  for k in pairs(setmetatable({}, {__pairs = function() return next, {true}, nil end})) do return k == 1 end
  return false
end)()

H.unpack = table.unpack or unpack  -- 5.1 and LuaJIT: unpack
--- table.pack, which 5.1 lacks.
function H.pack(...) return {n = select("#", ...), ...} end

--- "integer" or "float" as math.type on 5.3+; on the others every number is
-- a double, "float" (H.has_integers says which case the caller is in).
function H.number_type(x)
  if math.type then return math.type(x) end
  return type(x) == "number" and "float" or nil
end

--- Compiles `src`, which uses Lua 5.4 syntax (`<close>`), so that a spec file
-- still parses on every Lua. Only on 5.4 (H.lua54): a spec defines the test
-- that needs it only there. The chunk sees _G, not the spec's environment:
-- pass it what it uses as arguments (`...`).
function H.load54(src)
  assert(H.lua54, "Lua 5.4 syntax compiled under " .. _VERSION)
  local info = debug.getinfo(2, "Sl")
  return assert(load(src, "=" .. info.short_src .. ":" .. info.currentline .. " (Lua 5.4 block)", "t"))
end

--- Closes a tensor, a no_grad guard or a progress bar as leaving a `<close>`
-- scope does: the form that works on every Lua.
function H.close(x)
  getmetatable(x).__close(x)
end

--- Runs a shell command: whether it exited with status 0, and its exit status
-- (5.1 and LuaJIT's os.execute return the wait status, 5.2+ true or nil, "exit"
-- and the status).
function H.execute(cmd)
  local a, how, code = os.execute(cmd)
  if type(a) == "number" then
    code = a >= 256 and math.floor(a / 256) or a  -- a signal's number stays
    return code == 0, code
  end
  return a == true, code or (a and 0 or -1), how
end

--- Runs a shell command; returns its standard output and whether it exited
-- with status 0 (a popen handle's close says so only from 5.2).
function H.capture(cmd)
  local p = assert(io.popen("(" .. cmd .. "); echo \"<exit $?>\""))
  local out = p:read("*a")
  p:close()
  local body, status = out:match("^(.*)<exit (%d+)>\n?$")
  return body, status == "0"
end

-- ---- Little-endian bytes (string.pack/unpack's "<f", "<d", "<i8", "<I8") ----------
-- string.pack exists from 5.3; the specs that write or read raw safetensors
-- bytes use these, which are string.pack where it exists and an exact pure-Lua
-- equivalent otherwise (tests/helpers_spec.lua checks them against each other).

local function frexp(x)  -- x > 0 finite: m in [0.5, 1), x = m * 2^e (halving and doubling are exact)
  local e = 0
  while x >= 1 do x, e = x / 2, e + 1 end
  while x < 0.5 do x, e = x * 2, e - 1 end
  return x, e
end

local function round_even(v)
  local f = math.floor(v)
  local d = v - f
  if d > 0.5 or (d == 0.5 and f % 2 == 1) then f = f + 1 end
  return f
end

local function le_bytes(n, count)  -- 0 <= n < 2^(8 count), whole
  local t = {}
  for i = 1, count do
    local b = n % 256
    t[i] = string.char(b)
    n = (n - b) / 256
  end
  return table.concat(t)
end

local function le_number(s, pos, count)
  local n = 0
  for i = pos + count - 1, pos, -1 do n = n * 256 + s:byte(i) end
  return n
end

-- IEEE 754 bits of x for `mant` mantissa bits and `ebits` exponent bits, as
-- (sign, exponent field, mantissa field), rounding to nearest even.
local function ieee(x, mant, ebits)
  local bias = 2 ^ (ebits - 1) - 1
  local emax = 2 ^ ebits - 1
  local sign = (x < 0 or (x == 0 and 1 / x < 0)) and 1 or 0
  if x ~= x then return 1, emax, 2 ^ (mant - 1) end  -- the quiet NaN x86 makes of 0/0
  x = math.abs(x)
  if x == math.huge then return sign, emax, 0 end
  if x == 0 then return sign, 0, 0 end
  local m, e = frexp(x)
  local E = e - 1 + bias
  local f
  if E <= 0 then  -- subnormal: in units of the smallest one
    f, E = round_even(x / 2 ^ (1 - bias - mant)), 0
    if f == 2 ^ mant then E, f = 1, 0 end
  else
    f = round_even((2 * m - 1) * 2 ^ mant)
    if f == 2 ^ mant then E, f = E + 1, 0 end
  end
  if E >= emax then return sign, emax, 0 end  -- overflows to infinity
  return sign, E, f
end

local function from_ieee(sign, E, f, mant, ebits)
  local bias = 2 ^ (ebits - 1) - 1
  local v
  if E == 2 ^ ebits - 1 then
    if f ~= 0 then return 0 / 0 end
    v = math.huge
  elseif E == 0 then
    v = f * 2 ^ (1 - bias - mant)
  else
    v = (1 + f / 2 ^ mant) * 2 ^ (E - bias)
  end
  return sign == 1 and -v or v
end

local codecs = {
  f = {4, function(x)
    local s, E, f = ieee(x, 23, 8)
    return le_bytes(s * 2 ^ 31 + E * 2 ^ 23 + f, 4)
  end, function(s, pos)
    local n = le_number(s, pos, 4)
    local sign = n >= 2 ^ 31 and 1 or 0
    n = n - sign * 2 ^ 31
    return from_ieee(sign, math.floor(n / 2 ^ 23), n % 2 ^ 23, 23, 8)
  end},
  d = {8, function(x)
    local s, E, f = ieee(x, 52, 11)
    local hi = s * 2 ^ 31 + E * 2 ^ 20 + math.floor(f / 2 ^ 32)
    return le_bytes(f % 2 ^ 32, 4) .. le_bytes(hi, 4)
  end, function(s, pos)
    local lo, hi = le_number(s, pos, 4), le_number(s, pos + 4, 4)
    local sign = hi >= 2 ^ 31 and 1 or 0
    hi = hi - sign * 2 ^ 31
    return from_ieee(sign, math.floor(hi / 2 ^ 20), (hi % 2 ^ 20) * 2 ^ 32 + lo, 52, 11)
  end},
  i8 = {8, function(n)  -- two's complement through 32-bit halves, exact for |n| <= 2^63
    local hi = math.floor(n / 2 ^ 32)
    local lo = n - hi * 2 ^ 32
    if hi < 0 then hi = hi + 2 ^ 32 end
    return le_bytes(lo, 4) .. le_bytes(hi, 4)
  end, function(s, pos)
    local lo, hi = le_number(s, pos, 4), le_number(s, pos + 4, 4)
    if hi >= 2 ^ 31 then hi = hi - 2 ^ 32 end
    return hi * 2 ^ 32 + lo
  end},
  I8 = {8, function(n)
    local hi = math.floor(n / 2 ^ 32)
    return le_bytes(n - hi * 2 ^ 32, 4) .. le_bytes(hi, 4)
  end, function(s, pos)
    return le_number(s, pos + 4, 4) * 2 ^ 32 + le_number(s, pos, 4)
  end},
}

local function items(fmt)
  assert(fmt:sub(1, 1) == "<", "little-endian formats only: " .. fmt)
  local list = {}
  for code in fmt:sub(2):gmatch("[fdiI]8?") do
    list[#list + 1] = assert(codecs[code], "unsupported format item " .. code)
  end
  return list
end

--- The pure-Lua string.pack for "<" followed by f, d, i8 and I8 items.
function H.lua_pack(fmt, ...)
  local out = {}
  for i, c in ipairs(items(fmt)) do out[i] = c[2]((select(i, ...))) end
  return table.concat(out)
end

--- The pure-Lua string.unpack for the same formats: the values, then the
-- position after them.
function H.lua_unpack(fmt, s, pos)
  pos = pos or 1
  local out = {}
  for i, c in ipairs(items(fmt)) do
    assert(#s >= pos + c[1] - 1, "data string too short")
    out[i] = c[3](s, pos)
    pos = pos + c[1]
  end
  out[#out + 1] = pos
  return H.unpack(out)
end

H.bytes = string.pack or H.lua_pack
H.from_bytes = string.unpack or H.lua_unpack

--- x rounded to float32, as a float32 tensor stores it.
function H.f32(x) return (H.from_bytes("<f", H.bytes("<f", x))) end

-- Nests the flat values `data` into tables of `shape` (row-major).
local function nest(data, shape, dim, pos)
  if dim > #shape then return data[pos[1]] end
  local t = {}
  for i = 1, shape[dim] do
    if dim == #shape then
      t[i] = data[pos[1]]
      pos[1] = pos[1] + 1
    else
      t[i] = nest(data, shape, dim + 1, pos)
    end
  end
  return t
end

--- A tensor of `shape` holding the flat values `data`. opts as for lucid.tensor,
-- dtype defaulting to float64. An empty shape such as {2, 0, 3}, which nested
-- tables cannot say, gives lucid.zeros of it.
function H.from_flat(data, shape, opts)
  opts = opts or {}
  local o = {dtype = opts.dtype or "float64", requires_grad = opts.requires_grad or false}
  if #shape == 0 then return lucid.tensor(data[1], o) end
  for _, d in ipairs(shape) do
    if d == 0 then return lucid.zeros(shape, o) end
  end
  return lucid.tensor(nest(data, shape, 1, {1}), o)
end

--- A tensor from a fixture entry {shape = ..., data = ...}.
function H.tensor(fx, opts)
  return H.from_flat(fx.data, fx.shape, opts)
end

local function flatten_into(v, out)
  if type(v) == "boolean" then  -- bool tensors compare as 1 and 0
    out[#out + 1] = v and 1 or 0
  elseif type(v) == "number" then
    out[#out + 1] = v
  else
    for _, e in ipairs(v) do flatten_into(e, out) end
  end
  return out
end

--- The values of a tensor as a flat Lua array (row-major).
function H.flat(t)
  return flatten_into(t:tolist(), {})
end

local function shape_str(shape)
  return "{" .. table.concat(shape, ", ") .. "}"
end
H.shape_str = shape_str

-- Shape and flat values of a tensor or a fixture entry.
local function shape_and_values(x)
  if lucid.is_tensor(x) then return x.shape, H.flat(x) end
  return x.shape, x.data
end

local function close(a, e, rtol, atol)
  if a == e then return true end  -- also equal infinities
  if a ~= a or e ~= e then return a ~= a and e ~= e end  -- NaN only matches NaN
  return math.abs(a - e) <= atol + rtol * math.abs(e)
end

--- Checks shape and every value: |a - e| <= atol + rtol * |e|.
-- Returns true, or false and a message naming `what`, the flat element
-- index (1-based) and both values.
function H.check_close(actual, expected, rtol, atol, what)
  rtol, atol, what = rtol or 1e-10, atol or 0, what or "tensor"
  if actual == nil then return false, what .. ": got nil, expected a tensor" end
  local ashape, avals = shape_and_values(actual)
  local eshape, evals = shape_and_values(expected)
  if shape_str(ashape) ~= shape_str(eshape) then
    return false, string.format("%s: shape %s, expected %s", what, shape_str(ashape), shape_str(eshape))
  end
  if #avals ~= #evals then
    return false, string.format("%s: %d values, expected %d", what, #avals, #evals)
  end
  for i = 1, #evals do
    if not close(avals[i], evals[i], rtol, atol) then
      return false, string.format("%s: element %d is %.17g, expected %.17g (diff %.3g, rtol %g, atol %g)",
        what, i, avals[i], evals[i], math.abs(avals[i] - evals[i]), rtol, atol)
    end
  end
  return true
end

--- Asserts (busted failure, not error) that `actual` matches `expected`.
function H.assert_close(actual, expected, rtol, atol, what)
  local ok, msg = H.check_close(actual, expected, rtol, atol, what)
  assert.is_true(ok, msg)
end

--- Asserts the gradients of `leaves` against a fixture's `grads`, one per
-- leaf: false means the leaf must have none, a fixture tensor is compared
-- within rtol/atol (in `dtype` too, when given). `name` starts the messages.
function H.assert_grads(leaves, grads, rtol, atol, name, dtype)
  for i, g in ipairs(grads) do
    local what = string.format("%s: grad of input %d", name, i)
    if g == false then
      assert.is_nil(leaves[i].grad, what .. " should be nil")
    else
      assert.is_not_nil(leaves[i].grad, what .. " is nil")
      if dtype then assert.are.equal(dtype, leaves[i].grad.dtype, what .. " dtype") end
      H.assert_close(leaves[i].grad, g, rtol, atol, what)
    end
  end
end

--- Asserts that f(...) raises an error whose message contains `expected`
-- (plain text, not a pattern).
function H.assert_error(expected, f, ...)
  local ok, msg = pcall(f, ...)
  assert.is_false(ok, "expected an error containing: " .. expected)
  msg = tostring(msg)
  assert.is_truthy(msg:find(expected, 1, true), string.format("error %q does not contain %q", msg, expected))
end

--- In a describe block: lucid's default dtype is `dtype` for its specs, and
-- the previous one again after them.
function H.use_default_dtype(dtype)
  local busted = require("busted")  -- setup and teardown of the running spec
  local previous
  busted.setup(function()
    previous = lucid.get_default_dtype()
    lucid.set_default_dtype(dtype)
  end)
  busted.teardown(function() lucid.set_default_dtype(previous) end)
end

--- A float64 leaf of `shape` from lucid's generator, its values mapped by
-- `f` when given.
function H.randn_leaf(shape, f)
  local flat = H.flat(lucid.randn(shape, {dtype = "float64"}))
  if f then for i, v in ipairs(flat) do flat[i] = f(v) end end
  return H.from_flat(flat, shape, {dtype = "float64", requires_grad = true})
end

--- Makers of gradcheck inputs: H.maker(f)(2, 3) is a function that makes a
-- {2, 3} H.randn_leaf with `f` when a case runs (so under the case's seed).
function H.maker(f)
  return function(...)
    local shape = {...}
    return function() return H.randn_leaf(shape, f) end
  end
end

--- Finite-difference gradient check in float64.
-- fn(inputs...) returns a tensor y; with a fixed random seed tensor s of y's
-- shape, the analytic gradient of L = sum(y * s) w.r.t. every input (leaves
-- that require grad, perturbed in place: module parameters work too) is
-- compared with central differences (eps 1e-6).
-- opts: eps, rtol (1e-5), atol (1e-6), seed (random seed, 1234).
-- Returns true, or false and a message.
function H.gradcheck(fn, inputs, opts)
  opts = opts or {}
  local eps, rtol, atol = opts.eps or 1e-6, opts.rtol or 1e-5, opts.atol or 1e-6
  for i, x in ipairs(inputs) do
    if x.dtype ~= "float64" then return false, "input " .. i .. " is " .. x.dtype .. ", not float64" end
    if not x.is_leaf then return false, "input " .. i .. " is not a leaf" end
  end

  local y = fn(H.unpack(inputs))
  lucid.manual_seed(opts.seed or 1234)
  local s = lucid.randn(y.shape, {dtype = "float64"})
  local function loss()
    return lucid.no_grad(function() return (fn(H.unpack(inputs)) * s):sum():item() end)
  end

  -- analytic
  for _, x in ipairs(inputs) do x.grad = nil end
  y:backward(s)
  local analytic = {}
  for i, x in ipairs(inputs) do
    analytic[i] = x.grad and H.flat(x.grad) or false
    x.grad = nil
  end

  -- numeric
  for i, x in ipairs(inputs) do
    local vals, shape = H.flat(x), x.shape
    local function set(j, v)
      local saved = vals[j]
      vals[j] = v
      lucid.no_grad(function() x:copy_(H.from_flat(vals, shape)) end)
      vals[j] = saved
    end
    for j = 1, #vals do
      local v = vals[j]
      set(j, v + eps)
      local fp = loss()
      set(j, v - eps)
      local fm = loss()
      set(j, v)
      local num = (fp - fm) / (2 * eps)
      local ana = analytic[i] and analytic[i][j]
      if ana == false then
        if num ~= 0 then
          return false, string.format("input %d: no gradient, but d/dx[%d] is %.10g numerically", i, j, num)
        end
      elseif not close(ana, num, rtol, atol) then
        return false, string.format("input %d (shape %s), element %d: autograd %.12g, numeric %.12g",
          i, shape_str(shape), j, ana, num)
      end
    end
  end
  return true
end

--- Asserts (busted failure) that H.gradcheck(fn, inputs, opts) passes.
function H.assert_gradcheck(fn, inputs, opts)
  local ok, msg = H.gradcheck(fn, inputs, opts)
  assert.is_true(ok, msg)
end

--- One busted `it` per case {name, fn, makers, opts}: each makes its inputs
-- with the makers (see H.maker) after lucid.manual_seed(seed), then asserts
-- the gradcheck of fn over them.
function H.gradcheck_cases(list, seed)
  local it = require("busted").it
  for _, c in ipairs(list) do
    it(c[1], function()
      lucid.manual_seed(seed)
      local inputs = {}
      for i, make in ipairs(c[3]) do inputs[i] = make() end
      H.assert_gradcheck(c[2], inputs, c[4])
    end)
  end
end

-- A compiled model's recorded call against the model's own (Module:compile):
-- the result and the gradients of every float input and of every parameter,
-- equal bit for bit (the plan runs the ops' own backward rules). xs: the
-- inputs (a list); a model with several results is left alone (compiled, it
-- runs itself when recorded).
function H.check_compiled_grads(name, m, xs)
  local fast = m:compile(H.unpack(xs))
  local xg = {}
  for i, x in ipairs(xs) do
    xg[i] = x:clone()
    if x.dtype == "float32" or x.dtype == "float64" then xg[i]:requires_grad_() end
  end
  local res = H.pack(fast(H.unpack(xg)))
  if res.n ~= 1 or not lucid.is_tensor(res[1]) then return end
  local w = lucid.randn(res[1].shape, {dtype = res[1].dtype})
  m:zero_grad()
  local y = fast(H.unpack(xg))
  assert(y.grad_fn == "CompiledBackward", name .. ": " .. tostring(y.grad_fn))
  lucid.sum(y * w):backward()
  local function grads()
    local g = {}
    for i, x in ipairs(xg) do g[#g + 1] = {"input " .. i, x.grad} end
    for i, prm in ipairs(m:parameters()) do g[#g + 1] = {"parameter " .. i, prm.grad} end
    return g
  end
  local got = grads()
  for _, pair in ipairs(got) do if pair[2] then pair[2] = pair[2]:clone() end end
  m:zero_grad()
  for _, x in ipairs(xg) do x.grad = nil end
  local want = m(H.unpack(xg))
  assert(lucid.equal(want, y), name .. ": values")
  lucid.sum(want * w):backward()
  for i, pair in ipairs(grads()) do
    local a, b = pair[2], got[i][2]
    assert((a == nil and b == nil) or (a and b and lucid.equal(a, b)),
      name .. ": the gradient of " .. pair[1])
  end
end

return H
