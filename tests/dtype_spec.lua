-- The integer and bool dtypes (int64, int32, uint8, bool beside float32 and
-- float64) against PyTorch 1.13 (tests/fixtures/dtypes.lua, written by
-- scripts/gen_fixtures_dtypes.py):
--   * promotion: add sub mul div eq lt where maximum for every ordered pair of
--     dtypes, and floor_divide remainder fmod for the integer and bool pairs,
--     tensor with tensor, with a 0-d tensor and with a Lua number;
--   * edges: integer wrapping, division signs and division by zero, sum prod
--     mean max min amax amin argmax argmin of integer tensors, to between
--     every pair of dtypes, int64 values past 2^53; the float ops of integer
--     tensors (tan ... logit, copysign, xlogy, hypot, logaddexp), trunc,
--     nan_to_num, isfinite, heaviside, the bitwise ops, isclose, allclose
--     and equal.
-- Each case checks the result's dtype and t:tolist() (bools as Lua booleans,
-- integers as Lua integers on 5.3+), or that the op raises an error naming
-- itself where PyTorch raises. Cases with values past 2^53 (big) run only on
-- Lua 5.3+: on 5.1, 5.2 and LuaJIT a number is a double and cannot hold them.
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")
local fixture = dofile("tests/fixtures/dtypes.lua")

-- A fixture tensor as a lucid tensor; a Lua number stays a number.
local function make(x)
  if type(x) ~= "table" then return x end
  local opts = {dtype = x.dtype}
  if #x.shape == 0 then return lucid.tensor(x.data[1], opts) end
  return lucid.tensor(x.data, opts)
end

-- The case's op on its operands: lucid.<op>(..., args...) for the binary
-- forms and where, operands[1]:<op>(args...) for the unary form.
local function call(c, operands)
  if c.form == "unary" then
    local t = operands[1]
    return t[c.op](t, H.unpack(c.args or {}))
  end
  local all = {}
  for i, x in ipairs(operands) do all[i] = x end
  for _, a in ipairs(c.args or {}) do all[#all + 1] = a end
  return lucid[c.op](H.unpack(all))
end

local RTOL = {float32 = 1e-6, float64 = 1e-12}

-- nil if value a (from tolist) matches e of the fixture in dtype, else why not.
local function mismatch(a, e, dtype)
  if dtype == "bool" then
    if a == e then return nil end
    return "not the boolean"
  end
  if type(a) ~= "number" then return "not a number" end
  local rtol = RTOL[dtype]
  if rtol then
    if a ~= a or e ~= e then
      if a ~= a and e ~= e then return nil end
      return "NaN mismatch"
    end
    if a == e or math.abs(a - e) <= rtol * math.abs(e) then return nil end
    return "beyond rtol " .. rtol
  end
  if H.has_integers and math.type(a) ~= "integer" then return "not a Lua integer" end
  if a == e then return nil end
  return "not equal"
end

local function check(c)
  local operands = {}
  for i, x in ipairs(c.inputs) do operands[i] = make(x) end
  if c.error then
    assert.has_error(function() call(c, operands) end)
    H.assert_error(c.op, call, c, operands)  -- the message names the function
    return
  end
  local t = call(c, operands)
  if type(c.out) == "boolean" then  -- allclose, equal
    assert.are.equal(c.out, t, c.name)
    return
  end
  assert.is_true(lucid.is_tensor(t), c.name .. ": not a tensor")
  assert.are.equal(c.out.dtype, t.dtype, c.name .. ": dtype")
  assert.are.same(c.out.shape, t.shape, c.name .. ": shape")
  local got = t:tolist()
  if #c.out.shape == 0 then got = {got} end
  assert.are.equal(#c.out.data, #got, c.name .. ": number of values")
  for i, e in ipairs(c.out.data) do
    local why = mismatch(got[i], e, c.out.dtype)
    assert.is_nil(why, string.format("%s: element %d is %s, expected %s (%s)",
      c.name, i, tostring(got[i]), tostring(e), tostring(why)))
  end
end

-- One `it` per case; big cases only where Lua has integers.
local function cases(list)
  for _, c in ipairs(list) do
    if H.has_integers or not c.big then
      it(c.name .. " (" .. c.form .. ")", function() check(c) end)
    end
  end
end

describe("dtype promotion against PyTorch", function()
  cases(fixture.promotion)
end)

describe("integer and bool edge cases against PyTorch", function()
  cases(fixture.edges)
end)

describe("integer powers", function()
  it("keep integers for whole non-negative exponents (wrapping), as PyTorch", function()
    local i = lucid.tensor({2, 3, -2}, {dtype = "int64"})
    assert.are.equal("int64", (i ^ 2).dtype)
    assert.are.same({4, 9, 4}, (i ^ 2):tolist())
    assert.are.same({1, 1, 1}, (i ^ 0):tolist())
    assert.are.same({8, 9, -8}, lucid.pow(i, lucid.tensor({3, 2, 3}, {dtype = "int32"})):tolist())
    assert.are.same({4, 8, 4}, lucid.pow(2, i:abs()):tolist())
    assert.are.same({217}, (lucid.tensor({3}, {dtype = "uint8"}) ^ 6):tolist())  -- 729 mod 256
    assert.are.same({0}, (lucid.tensor({2}, {dtype = "int64"}) ^ 64):tolist())
    local f = i ^ 2.5  -- a fractional exponent: the default float dtype
    assert.are.equal("float32", f.dtype)
    assert.is_true(math.abs(f:tolist()[1] - 5.656854) < 1e-5)
  end)

  it("refuse negative integer exponents, naming the function", function()
    local i = lucid.tensor({2, 3}, {dtype = "int64"})
    assert.has_error(function() return i ^ -1 end,
      "lucid.pow: integers to negative integer powers are not allowed")
    assert.has_error(function() return lucid.pow(i, lucid.tensor({1, -1}, {dtype = "int64"})) end,
      "lucid.pow: integers to negative integer powers are not allowed")
  end)
end)

describe("Lua integers into float tensors", function()
  -- Lua 5.3+ only: before it a number past 2^53 is already a double
  if math.type then
    it("round through double, as a Python int into torch.tensor (fuzz_table's finding)", function()
      local v = -289360691284934661  -- just past the midpoint of two float32 values
      -- torch.tensor([v], dtype=torch.float32).item() and torch.tensor([v]).float().item()
      assert.are.equal(-2.893606741050655e+17, lucid.tensor({v}):item())
      assert.are.equal(-2.8936070846480384e+17, lucid.tensor({v}, {dtype = "int64"}):float():item())
    end)
  end
end)
