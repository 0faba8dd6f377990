-- The elementwise ops (unary math and activations, clamp, isnan/isinf,
-- maximum/minimum/atan2, comparisons, where, the dtype conversion to, log,
-- the trigonometric, hyperbolic and special functions, logit, nan_to_num,
-- hypot, copysign, xlogy, logaddexp, heaviside, isclose, allclose, equal):
--   * against PyTorch 1.13 (tests/fixtures/elementwise.lua, written by
--     scripts/gen_fixtures_elementwise.py): output and the gradient of
--     sum(output * seed) for every input, in float64 and in float32 (an
--     entry with in_dtype, a to, only in that dtype's pass);
--   * finite-difference gradchecks in float64, away from kinks;
--   * dtypes, empty and 0-d tensors, strided and broadcast operands;
--   * bad input: each op's error text, and the state keeps working.
-- Masks are tensors of the input dtype holding 1.0/0.0 (no bool dtype).
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")
local fixtures = dofile("tests/fixtures/elementwise.lua")

-- ---- running a fixture entry ------------------------------------------------

-- "r<op>_scalar" -> op(number, x); "<op>_scalar" -> op(x, number)
local function scalar_form(op)
  local r = op:match("^r([%w_]+)_scalar$")
  if r and lucid[r] and not lucid["r" .. r] then return r, true end
  local name = op:match("^([%w_]+)_scalar$")
  if name and lucid[name] then return name, false end
end

-- Calls the entry's op on operands `o`, as lucid.op(...) ("function") or as
-- a method ("method"); returns nil when the op has no method form (a
-- number comes first).
local function call(entry, o, form)
  local op, args = entry.op, entry.args
  local method = form == "method"
  if op == "where" then
    if method then return o[2]:where(o[1], o[3]) end
    return lucid.where(o[1], o[2], o[3])
  elseif op == "where_scalar_b" then
    if method then return o[2]:where(o[1], args[1]) end
    return lucid.where(o[1], o[2], args[1])
  elseif op == "where_scalar_a" then
    if method then return nil end
    return lucid.where(o[1], args[1], o[2])
  elseif op == "where_leaky" then
    if method then return o[1]:where(o[1]:gt(0), o[1] * 0.1) end
    return lucid.where(lucid.gt(o[1], 0), o[1], o[1] * 0.1)
  end
  local name, reversed = scalar_form(op)
  if name then
    if reversed then
      if method then return nil end
      return lucid[name](args[1], o[1])
    end
    if method then return o[1][name](o[1], args[1]) end
    return lucid[name](o[1], args[1])
  end
  assert.is_function(lucid[op], "no lucid." .. op)
  local all = {}
  for _, t in ipairs(o) do all[#all + 1] = t end
  for _, a in ipairs(args) do all[#all + 1] = a end
  if method then return o[1][op](H.unpack(all)) end
  return lucid[op](H.unpack(all))
end

local MASKS = {isnan = true, isinf = true, isfinite = true, logical_not = true, isclose = true}
for _, op in ipairs({"eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"}) do
  MASKS[op], MASKS[op .. "_scalar"], MASKS["r" .. op .. "_scalar"] = true, true, true
end

local function contains(list, v)
  for _, x in ipairs(list or {}) do if x == v then return true end end
  return false
end

-- Leaves (requires_grad) from the entry, and the operands made from them.
local function make_inputs(entry, dtype)
  local leaves, operands = {}, {}
  for i, fx in ipairs(entry.inputs) do
    local leaf = H.tensor(fx, {dtype = dtype, requires_grad = true})
    local x = leaf
    if contains(entry.transpose, i) then
      x = x:transpose(1, 2)
      assert.is_false(x:is_contiguous() and x.shape[1] > 1 and x.shape[2] > 1)
    end
    if entry.expand and entry.expand[i] then x = x:expand(entry.expand[i]) end
    leaves[i], operands[i] = leaf, x
  end
  return leaves, operands
end

-- Whether the entry is part of the pass in dtype.
local function in_pass(entry, dtype)
  if entry.in_dtype then return entry.in_dtype == dtype end
  return dtype ~= "float32" or entry.f32 ~= false
end

local function check_entry(entry, dtype, rtol, atol)
  local leaves, o = make_inputs(entry, dtype)
  local out = call(entry, o, "function")
  if type(entry.output) == "boolean" then  -- allclose, equal: a Lua boolean
    assert.are.equal(entry.output, out, entry.name .. ": answer")
    assert.are.equal(entry.output, call(entry, o, "method"), entry.name .. ": method form")
    return
  end
  -- out_dtype: a conversion (to); the gradients still come back in dtype.
  -- Masks are bool (the fixture writes them as 1.0 and 0.0)
  local out_dtype = entry.out_dtype or (MASKS[entry.op] and "bool") or dtype
  assert.are.equal(out_dtype, out.dtype, entry.name .. ": dtype")
  H.assert_close(out, entry.output, rtol, atol, entry.name .. ": output")

  -- the method form computes the same values (where's method is PyTorch's
  -- Tensor.where: x:where(cond, y) = where(cond, x, y))
  local m = call(entry, o, "method")
  if m then H.assert_close(m, out, 0, 0, entry.name .. ": method form") end

  if entry.requires_grad == false then
    assert.is_false(out.requires_grad, entry.name .. ": output should not require grad")
    assert.is_nil(out.grad_fn)
    return
  end
  assert.is_true(out.requires_grad, entry.name .. ": output should require grad")
  out:backward(H.tensor(entry.seed, {dtype = out_dtype}))
  H.assert_grads(leaves, entry.grads, rtol, atol, entry.name, dtype)
end

describe("elementwise ops against PyTorch (float64)", function()
  for _, entry in ipairs(fixtures.ops) do
    if in_pass(entry, "float64") then
      it(entry.name, function()
        check_entry(entry, "float64", 1e-10, 1e-15)
      end)
    end
  end
end)

describe("elementwise ops against PyTorch (float32)", function()
  -- the inputs are the float64 values rounded to float32, so values near 0
  -- get a small absolute tolerance too
  for _, entry in ipairs(fixtures.ops) do
    if in_pass(entry, "float32") then
      it(entry.name, function()
        check_entry(entry, "float32", 1e-5, 1e-5)
      end)
    end
  end
end)

describe("elementwise fixtures", function()
  it("cover every op", function()
    local seen = {}
    for _, e in ipairs(fixtures.ops) do
      seen[(scalar_form(e.op)) or e.op:match("^where") and "where" or e.op] = true
    end
    for _, op in ipairs({"exp", "log1p", "expm1", "sqrt", "rsqrt", "abs", "sign",
        "reciprocal", "square", "sin", "cos", "sigmoid", "relu", "gelu", "silu", "softplus",
        "floor", "ceil", "round", "clamp", "isnan", "isinf", "maximum", "minimum", "atan2",
        "eq", "ne", "lt", "le", "gt", "ge", "where", "to", "log", "tan", "asin", "acos", "atan",
        "sinh", "cosh", "asinh", "acosh", "atanh", "erf", "erfc", "erfinv", "lgamma", "digamma",
        "exp2", "log2", "log10", "trunc", "frac", "isfinite", "logit", "nan_to_num", "clamp_min",
        "clamp_max", "hypot", "copysign", "xlogy", "logaddexp", "heaviside", "isclose",
        "allclose", "equal"}) do
      assert.is_true(seen[op], "no fixture for " .. op)
    end
  end)
end)

-- ---- gradcheck (float64, away from kinks) ----------------------------------

-- makers (H.maker): a function of a shape that makes a float64 leaf, its
-- randn values mapped as below, when the case runs
local maker = H.maker
local rn = maker()
local pos = maker(function(v) return math.abs(v) + 0.5 end)       -- sqrt, rsqrt
local nz = maker(function(v) return v < 0 and v - 0.3 or v + 0.3 end)  -- |x| >= 0.3
local wide = maker(function(v) return 3 * v end)
local above = maker(function(v) return math.abs(v) * 0.5 - 0.8 end)  -- > -0.8, log1p
-- keeps 0.1 away from the clamp bounds -0.5, 0.5
local off_bounds = maker(function(v)
  for _, b in ipairs({-0.5, 0.5}) do
    if math.abs(v - b) < 0.1 then v = v + (v < b and -0.1 or 0.1) end
  end
  return v
end)
-- away from integers and from halves: floor, ceil and round are flat there
local off_steps = maker(function(v)
  local f = (v * 2) % 1
  if f < 0.1 then v = v + 0.05 elseif f > 0.9 then v = v - 0.05 end
  return v
end)
local function scalar() return lucid.tensor(0.7, {dtype = "float64", requires_grad = true}) end

-- one `it` per {name, fn, makers, opts}, seeded with 7
local function cases(list) H.gradcheck_cases(list, 7) end

describe("gradcheck: unary ops", function()
  local T = function(x) return x:transpose(1, 2) end
  cases({
    {"exp", function(x) return x:exp() end, {rn(3, 4)}},
    {"exp transposed", function(x) return lucid.exp(T(x)) end, {rn(3, 4)}},
    {"log1p", function(x) return x:log1p() end, {above(3, 4)}},
    {"log", function(x) return x:log() end, {pos(3, 4)}},
    {"expm1", function(x) return x:expm1() end, {rn(3, 4)}},
    {"sqrt", function(x) return x:sqrt() end, {pos(3, 4)}},
    {"rsqrt", function(x) return x:rsqrt() end, {pos(3, 4)}},
    {"abs away from 0", function(x) return x:abs() end, {nz(3, 4)}},
    {"sign (zero gradient)", function(x) return x:sign() end, {nz(3, 4)}},
    {"reciprocal", function(x) return x:reciprocal() end, {nz(3, 4)}},
    {"square", function(x) return x:square() end, {rn(3, 4)}},
    {"sin", function(x) return x:sin() end, {wide(3, 4)}},
    {"cos", function(x) return x:cos() end, {wide(3, 4)}},
    {"sigmoid", function(x) return x:sigmoid() end, {wide(3, 4)}},
    {"relu away from 0", function(x) return x:relu() end, {nz(3, 4)}},
    {"relu transposed", function(x) return T(x):relu() end, {nz(3, 4)}},
    {"gelu", function(x) return x:gelu() end, {wide(3, 4)}},
    {"gelu tanh", function(x) return x:gelu("tanh") end, {wide(3, 4)}},
    {"silu", function(x) return x:silu() end, {wide(3, 4)}},
    {"softplus", function(x) return x:softplus() end, {wide(3, 4)}},
    {"softplus beta 2 threshold 3", function(x) return x:softplus(2, 3) end, {wide(3, 4)}},
    {"floor (zero gradient)", function(x) return x:floor() end, {off_steps(3, 4)}},
    {"ceil (zero gradient)", function(x) return x:ceil() end, {off_steps(3, 4)}},
    {"round (zero gradient)", function(x) return x:round() end, {off_steps(3, 4)}},
    {"clamp", function(x) return x:clamp(-0.5, 0.5) end, {off_bounds(3, 4)}},
    {"clamp min", function(x) return x:clamp{min = -0.5} end, {off_bounds(3, 4)}},
    {"clamp max", function(x) return x:clamp(nil, 0.5) end, {off_bounds(3, 4)}},
    {"0-d chain", function(x) return x:sigmoid():gelu():exp():sqrt() end, {scalar}},
    {"expanded input", function(x) return x:expand(3, 4):silu() end, {rn(1, 4)}},
  })
end)

describe("gradcheck: trigonometric, hyperbolic and special functions", function()
  local inside = maker(function(v) return math.tanh(v) * 0.8 end)         -- (-0.8, 0.8)
  local above1 = maker(function(v) return math.abs(v) + 1.2 end)          -- acosh
  local unit = maker(function(v) return 0.15 + 0.7 / (1 + math.exp(-v)) end)  -- (0.15, 0.85)
  -- lgamma and digamma on both sides of 0, away from the poles
  local gamma = maker(function(v)
    local x = 3 * v
    local f = x - math.floor(x)
    if f < 0.2 then x = x + 0.2 elseif f > 0.8 then x = x - 0.2 end
    return x
  end)
  cases({
    {"tan", function(x) return x:tan() end, {inside(3, 4)}},
    {"asin", function(x) return x:asin() end, {inside(3, 4)}},
    {"acos", function(x) return x:acos() end, {inside(3, 4)}},
    {"atan", function(x) return x:atan() end, {wide(3, 4)}},
    {"sinh", function(x) return x:sinh() end, {rn(3, 4)}},
    {"cosh", function(x) return x:cosh() end, {rn(3, 4)}},
    {"asinh", function(x) return x:asinh() end, {wide(3, 4)}},
    {"acosh", function(x) return x:acosh() end, {above1(3, 4)}},
    {"atanh", function(x) return x:atanh() end, {inside(3, 4)}},
    {"erf", function(x) return x:erf() end, {rn(3, 4)}},
    {"erfc", function(x) return x:erfc() end, {rn(3, 4)}},
    {"erfinv", function(x) return x:erfinv() end, {inside(3, 4)}},
    {"lgamma", function(x) return x:lgamma() end, {gamma(3, 4)}},
    {"digamma", function(x) return x:digamma() end, {gamma(3, 4)}},
    {"exp2", function(x) return x:exp2() end, {rn(3, 4)}},
    {"log2", function(x) return x:log2() end, {pos(3, 4)}},
    {"log10", function(x) return x:log10() end, {pos(3, 4)}},
    {"trunc (zero gradient)", function(x) return x:trunc() end, {off_steps(3, 4)}},
    {"frac", function(x) return x:frac() end, {off_steps(3, 4)}},
    {"logit", function(x) return x:logit() end, {unit(3, 4)}},
    {"logit eps 0.3 (flat outside)", function(x) return x:logit(0.3) end, {unit(3, 4)}},
    {"nan_to_num", function(x) return x:nan_to_num() end, {rn(3, 4)}},
    {"clamp_min", function(x) return x:clamp_min(-0.5) end, {off_bounds(3, 4)}},
    {"clamp_max", function(x) return x:clamp_max(0.5) end, {off_bounds(3, 4)}},
  })
end)

describe("gradcheck: binary ops and where", function()
  local T = function(x) return x:transpose(1, 2) end
  local shapes = {
    {"(2,3) (2,3)", {2, 3}, {2, 3}},
    {"(2,3) (3)", {2, 3}, {3}},
    {"(3,1) (1,4)", {3, 1}, {1, 4}},
    {"(2,1,3) (4,1)", {2, 1, 3}, {4, 1}},
    {"0-d (2,3)", {}, {2, 3}},
  }
  local list = {}
  for _, op in ipairs({"maximum", "minimum", "atan2"}) do
    for _, s in ipairs(shapes) do
      list[#list + 1] = {op .. " " .. s[1], function(a, b) return lucid[op](a, b) end,
        {rn(H.unpack(s[2])), nz(H.unpack(s[3]))}}
    end
    list[#list + 1] = {op .. " with a number", function(a) return a[op](a, 0.25) end, {nz(2, 3)}}
    list[#list + 1] = {op .. " transposed", function(a, b) return lucid[op](T(a), b) end,
      {rn(3, 4), nz(3)}}
  end
  for _, s in ipairs({
      {"where c(2,3) a(2,3) b(2,3)", {2, 3}, {2, 3}, {2, 3}},
      {"where c(3) a(2,1) b()", {3}, {2, 1}, {}},
      {"where c(2,1,3) a(4,1) b(1,3)", {2, 1, 3}, {4, 1}, {1, 3}}}) do
    list[#list + 1] = {s[1], function(a, b)
      lucid.manual_seed(3)
      local c = lucid.rand(s[2], {dtype = "float64"}):gt(0.5)
      return lucid.where(c, a, b)
    end, {rn(H.unpack(s[3])), rn(H.unpack(s[4]))}}
  end
  for _, op in ipairs({"hypot", "copysign", "logaddexp", "xlogy"}) do
    for _, sh in ipairs(shapes) do
      list[#list + 1] = {op .. " " .. sh[1], function(a, b) return lucid[op](a, b) end,
        {nz(H.unpack(sh[2])), (op == "xlogy" and pos or nz)(H.unpack(sh[3]))}}
    end
    list[#list + 1] = {op .. " with a number", function(a) return a[op](a, 1.5) end, {nz(2, 3)}}
    list[#list + 1] = {"a number " .. op, function(b) return lucid[op](2, b) end, {pos(2, 3)}}
  end
  list[#list + 1] = {"where with a number", function(a) return lucid.where(a:gt(0), a, 0) end, {nz(3, 4)}}
  list[#list + 1] = {"x:where(cond, y) transposed", function(a, b)
    return T(a):where(T(a):lt(0), b)
  end, {nz(3, 4), rn(4, 1)}}
  cases(list)
end)

-- ---- dtypes, shapes, strides ------------------------------------------------

local unary_ops = {"exp", "log1p", "expm1", "sqrt", "rsqrt", "abs", "sign", "reciprocal",
  "square", "sin", "cos", "sigmoid", "relu", "gelu", "silu", "softplus", "floor", "ceil",
  "round", "clamp", "isnan", "isinf", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh",
  "acosh", "atanh", "erf", "erfc", "erfinv", "lgamma", "digamma", "exp2", "log2", "log10",
  "trunc", "frac", "logit", "nan_to_num", "isfinite", "clamp_min", "clamp_max"}
local binary_ops = {"maximum", "minimum", "atan2", "eq", "ne", "lt", "le", "gt", "ge", "hypot",
  "copysign", "xlogy", "logaddexp", "heaviside"}
local function apply_unary(op, x)
  if op == "clamp" then return x:clamp(-0.5, 0.5) end
  if op == "clamp_min" or op == "clamp_max" then return x[op](x, 0.5) end
  return x[op](x)
end

describe("elementwise dtypes", function()
  it("float32 with float64 computes in float64, gradients return in each dtype", function()
    local a = lucid.tensor({1, 2, 3}, {requires_grad = true})
    local b = lucid.tensor({3, 2, 1}, {dtype = "float64", requires_grad = true})
    for _, op in ipairs({"maximum", "minimum", "atan2"}) do
      a.grad, b.grad = nil, nil
      local y = lucid[op](a, b)
      assert.are.equal("float64", y.dtype)
      y:sum():backward()
      assert.are.equal("float32", a.grad.dtype)
      assert.are.equal("float64", b.grad.dtype)
    end
    H.assert_close(lucid.maximum(a, b), {shape = {3}, data = {3, 2, 3}}, 0, 0)
    a.grad, b.grad = nil, nil
    lucid.maximum(a, b):sum():backward()
    H.assert_close(a.grad, {shape = {3}, data = {0, 0.5, 1}}, 0, 0, "a.grad (tie splits)")
    H.assert_close(b.grad, {shape = {3}, data = {1, 0.5, 0}}, 0, 0, "b.grad (tie splits)")
  end)

  it("comparisons are bool masks, computed in the promoted dtype, and never require grad", function()
    local a = lucid.tensor({1, 2, 3}, {requires_grad = true})
    local b = lucid.tensor({3, 2, 1}, {dtype = "float64"})
    for _, op in ipairs({"eq", "ne", "lt", "le", "gt", "ge"}) do
      local m = lucid[op](a, b)
      assert.are.equal("bool", m.dtype)
      assert.is_false(m.requires_grad)
      assert.is_true(m.is_leaf)
      assert.are.equal("bool", a[op](a, 2).dtype)
    end
    assert.are.same({true, true, false}, a:le(b):tolist())
    -- compared in float64: 0.1 as float32 is not 0.1 as float64
    assert.are.same({false}, lucid.tensor({0.1}):eq(lucid.tensor({0.1}, {dtype = "float64"})):tolist())
    assert.are.equal("bool", a:isnan().dtype)
    assert.is_false(a:isinf().requires_grad)
  end)

  it("a number operand takes the tensor's dtype", function()
    local x = lucid.tensor({-1, 0.5, 2})
    assert.are.equal("float32", lucid.maximum(x, 0.5).dtype)
    assert.are.equal("float32", lucid.atan2(1, x).dtype)
    assert.are.equal("float64", lucid.minimum(x:double(), 0.5).dtype)
  end)

  it("where promotes a and b; the condition's dtype does not matter", function()
    local c64 = lucid.tensor({1, 0, 1e-300}, {dtype = "float64"})
    local a = lucid.tensor({1, 2, 3}, {requires_grad = true})
    local b = lucid.tensor({7, 8, 9}, {requires_grad = true})
    local y = lucid.where(c64, a, b)
    assert.are.equal("float32", y.dtype)
    -- 1e-300 is nonzero in float64 even though it is 0 in float32
    H.assert_close(y, {shape = {3}, data = {1, 8, 3}}, 0, 0)
    y:sum():backward()
    H.assert_close(a.grad, {shape = {3}, data = {1, 0, 1}}, 0, 0)
    H.assert_close(b.grad, {shape = {3}, data = {0, 1, 0}}, 0, 0)
    local z = lucid.where(c64:float(), a, b:double())
    assert.are.equal("float64", z.dtype)
    H.assert_close(z, {shape = {3}, data = {1, 8, 9}}, 0, 0)
  end)

  it("where of two numbers: int64 for whole numbers, the default float for fractions, no graph", function()
    local c = lucid.tensor({1, 0}, {dtype = "float64", requires_grad = true})
    local y = lucid.where(c, 1, -1)
    assert.are.equal("int64", y.dtype)  -- torch.where(c, 1, -1) is int64 too
    assert.is_false(y.requires_grad)
    assert.are.same({1, -1}, y:tolist())
    assert.are.equal("float32", lucid.where(c, 1.5, -1).dtype)
    lucid.set_default_dtype("float64")
    local ok, z = pcall(lucid.where, c, 1.5, -1)
    lucid.set_default_dtype("float32")
    assert(ok, z)
    assert.are.equal("float64", z.dtype)
  end)
end)

describe("float32 gelu (erf form)", function()
  it("keeps its relative accuracy where 1 + erf(x / sqrt 2) cancels in float32", function()
    -- x Phi(x) (mpmath, at the float32 inputs); PyTorch's float32 formula
    -- gives 0 from x = -5.7 on and is hundreds of ulp off below -3
    local xs = {-12.5, -6.0, -4.0, -3.0, -0.7, 0.5, 2.0}
    local want = {-4.6657053735971e-35, -5.9195258702262e-9, -1.2668496733248e-4,
                  -4.0496940948903e-3, -0.16937455627737, 0.34573123063701, 1.9544997361036}
    local x = lucid.tensor(xs, {dtype = "float32"})
    local strided = lucid.tensor({xs, xs}, {dtype = "float32"}):t()[{{}, 1}]  -- one at a time
    for _, y in ipairs({x:gelu(), lucid.nn.functional.gelu(x), strided:gelu()}) do
      local got = y:tolist()
      for i = 1, #xs do
        assert(math.abs(got[i] - want[i]) <= 3e-7 * math.abs(want[i]),
          string.format("gelu(%g): %.9g, expected %.9g", xs[i], got[i], want[i]))
      end
    end
  end)
end)

describe("predicates and integer results", function()
  it("isclose takes a number on either side; allclose and equal answer with booleans", function()
    local x = lucid.tensor({1, 1 + 1e-6, 2, 0 / 0}, {dtype = "float64"})
    assert.are.same({true, true, false, false}, x:isclose(1):tolist())
    assert.are.same({true, true, false, false}, lucid.isclose(1, x):tolist())
    assert.are.same({true, true, true, false}, x:isclose(x:clone(), 0, 0):tolist())
    assert.are.same({true, true, true, true}, x:isclose(x:clone(), 0, 0, true):tolist())
    assert.is_true(lucid.allclose(x:narrow(1, 1, 2), 1))
    assert.is_false(lucid.allclose(x, x))
    assert.is_true(x:allclose(x, {equal_nan = true}))
    assert.is_true(lucid.allclose(lucid.zeros(0), lucid.ones(3, 0)))  -- no element: all close
    assert.is_true(lucid.equal(lucid.zeros(0), lucid.zeros(0)))
    assert.is_false(lucid.equal(lucid.zeros(0), lucid.zeros(1)))
    -- equal compares values, whatever the dtypes
    assert.is_true(lucid.tensor({1, 2}, {dtype = "int64"}):equal(lucid.tensor({1, 2})))
  end)

  it("keeps integers in trunc, nan_to_num and heaviside; bitwise ops promote as PyTorch", function()
    local i = lucid.tensor({-3, 0, 5}, {dtype = "int32"})
    assert.are.equal("int32", i:trunc().dtype)
    assert.are.equal("int32", i:nan_to_num().dtype)
    assert.are.same({0, 7, 1}, i:heaviside(7):tolist())
    assert.are.equal("int64", lucid.bitwise_and(i, lucid.tensor({1, 1, 1}, {dtype = "int64"})).dtype)
    assert.are.same({-3, 0, 5}, lucid.bitwise_xor(i, 0):tolist())
    assert.are.same({2, -1, -6}, i:bitwise_not():tolist())
    assert.are.same({true, false}, lucid.tensor({false, true}):bitwise_not():tolist())
    assert.are.equal("float32", i:tan().dtype)
    assert.are.equal("float32", lucid.hypot(i, i).dtype)
  end)

  it("nan_to_num's defaults are the dtype's largest finite values", function()
    local x = lucid.tensor({0 / 0, math.huge, -math.huge, 1})
    assert.are.same({0, 3.4028234663852886e38, -3.4028234663852886e38, 1}, x:nan_to_num():tolist())
    local d = x:double():nan_to_num(nil, nil, -1)
    assert.are.same({0, 1.7976931348623157e308, -1, 1}, d:tolist())
  end)
end)

describe("elementwise shapes and strides", function()
  it("empty tensors give empty results and empty gradients", function()
    for _, op in ipairs(unary_ops) do
      local x = lucid.zeros(0, 3, {requires_grad = true})
      local y = apply_unary(op, x)
      assert.are.same({0, 3}, y.shape, op)
      if y.requires_grad then
        y:sum():backward()
        assert.are.same({0, 3}, x.grad.shape, op)
      end
    end
    for _, op in ipairs(binary_ops) do
      local a = lucid.zeros(0, 3, {requires_grad = true})
      local b = lucid.ones(3, {requires_grad = true})
      local y = lucid[op](a, b)
      assert.are.same({0, 3}, y.shape, op)
      if y.requires_grad then
        y:sum():backward()
        assert.are.same({0, 3}, a.grad.shape, op)
        H.assert_close(b.grad, {shape = {3}, data = {0, 0, 0}}, 0, 0, op)
      end
    end
    local a = lucid.zeros(2, 0, {requires_grad = true})
    local y = lucid.where(lucid.zeros(1, 0), a, 1)
    assert.are.same({2, 0}, y.shape)
    y:sum():backward()
    assert.are.same({2, 0}, a.grad.shape)
  end)

  it("0-d operands give 0-d results", function()
    local x = lucid.tensor(0.3, {dtype = "float64"})
    for _, op in ipairs(unary_ops) do assert.are.same({}, apply_unary(op, x).shape, op) end
    for _, op in ipairs(binary_ops) do assert.are.same({}, lucid[op](x, 0.5).shape, op) end
    assert.are.same({}, lucid.where(x, x, 1).shape)
  end)

  -- The strided, the broadcast and the contiguous loops must agree exactly:
  -- large enough for long rows, odd sizes so nothing divides evenly.
  it("strided and broadcast operands give the same values as contiguous ones", function()
    lucid.manual_seed(11)
    local x = lucid.randn(37, 23, {dtype = "float64"})
    local xt = x:t():contiguous():t()       -- same values, column-major storage
    assert.is_false(xt:is_contiguous())
    for _, op in ipairs(unary_ops) do
      H.assert_close(apply_unary(op, xt), apply_unary(op, x), 0, 0, op)
    end
    local row = lucid.randn(23, {dtype = "float64"})
    local rows = row:expand(37, 23):contiguous()
    for _, op in ipairs(binary_ops) do
      local want = lucid[op](x, rows)
      H.assert_close(lucid[op](xt, row), want, 0, 0, op .. " (strided, broadcast)")
      H.assert_close(lucid[op](xt, row:expand(37, 23)), want, 0, 0, op .. " (expanded)")
      H.assert_close(lucid[op](x, 0.25), lucid[op](x, lucid.full({37, 23}, 0.25, {dtype = "float64"})),
        0, 0, op .. " (scalar)")
    end
    local c = x:gt(0)
    H.assert_close(lucid.where(c:t():contiguous():t(), xt, row), lucid.where(c, x, rows), 0, 0, "where")
  end)

  it("gradients are right for transposed, broadcast and expanded operands", function()
    lucid.manual_seed(12)
    local a = lucid.randn(5, 4, {dtype = "float64", requires_grad = true})
    local b = lucid.randn(5, {dtype = "float64", requires_grad = true})
    local y = lucid.maximum(a:t(), b)           -- (4, 5)
    y:sum():backward()
    local ga, gb = H.flat(a.grad), H.flat(b.grad)
    local av, bv = H.flat(a), H.flat(b)
    for i = 1, 5 do
      local sum_b = 0
      for j = 1, 4 do
        local va = av[(i - 1) * 4 + j]
        assert.are.equal(va > bv[i] and 1 or 0, ga[(i - 1) * 4 + j])
        sum_b = sum_b + (va < bv[i] and 1 or 0)
      end
      assert.are.equal(sum_b, gb[i])
    end
  end)
end)

describe("elementwise autograd", function()
  it("ops that save their output can run backward twice with retain_graph", function()
    for _, op in ipairs({"exp", "sqrt", "sigmoid", "relu", "reciprocal", "rsqrt", "expm1"}) do
      local x = lucid.tensor({0.5, 1.5}, {dtype = "float64", requires_grad = true})
      local y = x[op](x):sum()
      y:backward(nil, {retain_graph = true})
      local g1 = H.flat(x.grad)
      y:backward()
      H.assert_close(x.grad, {shape = {2}, data = {2 * g1[1], 2 * g1[2]}}, 1e-15, 0, op)
    end
  end)

  it("names its grad_fn like PyTorch", function()
    local x = lucid.tensor({0.5}, {requires_grad = true})
    assert.are.equal("ExpBackward", x:exp().grad_fn)
    assert.are.equal("ClampBackward", x:clamp(0, 1).grad_fn)
    assert.are.equal("FloorBackward", x:floor().grad_fn)
    assert.are.equal("PowBackward", x:square().grad_fn)
    assert.are.equal("MaximumBackward", x:maximum(0).grad_fn)
    assert.are.equal("WhereBackward", lucid.where(x:gt(0), x, 0).grad_fn)
    assert.is_nil(x:gt(0).grad_fn)
    assert.are.equal("LgammaBackward", x:lgamma().grad_fn)
    assert.are.equal("LogitBackward", x:logit(0.1).grad_fn)
    assert.are.equal("NanToNumBackward", x:nan_to_num().grad_fn)
    assert.are.equal("XlogyBackward", lucid.xlogy(x, 2).grad_fn)
    assert.are.equal("CopysignBackward", x:copysign(-1).grad_fn)
    -- clamp_min and clamp_max are clamp's forms (PyTorch: ClampMinBackward0)
    assert.are.equal("ClampBackward", x:clamp_min(0).grad_fn)
    assert.is_nil(x:heaviside(0.5).grad_fn)
    assert.is_false(x:heaviside(0.5).requires_grad)
    assert.is_nil(x:isclose(x).grad_fn)
  end)

  it("differentiates digamma as often as asked (polygamma of every order)", function()
    -- psi'(1) = pi^2 / 6, psi''(1) = -2 zeta(3), psi'''(1) = 6 zeta(4) = pi^4 / 15;
    -- trigamma's series (PyTorch's, to the bit) is off by 7.9e-10 at 1
    local x = lucid.tensor(1.0, {dtype = "float64", requires_grad = true})
    local g1 = lucid.autograd.grad(x:digamma(), {x}, nil, {create_graph = true})
    local g2 = lucid.autograd.grad(g1, {x}, nil, {create_graph = true})
    local g3 = lucid.autograd.grad(g2, {x})
    assert.is_true(math.abs(g1:item() - math.pi ^ 2 / 6) < 1e-9)
    assert.is_true(math.abs(g2:item() + 2 * 1.2020569031595942) < 1e-12)
    assert.is_true(math.abs(g3:item() - math.pi ^ 4 / 15) < 1e-12)
  end)

  it("records nothing under no_grad", function()
    local x = lucid.tensor({0.5}, {requires_grad = true})
    local y = lucid.no_grad(function() return x:sigmoid():maximum(x) end)
    assert.is_false(y.requires_grad)
  end)

  it("masks work as numbers: x * x:gt(0) is relu", function()
    local x = lucid.tensor({-1, 0.5, 2}, {dtype = "float64", requires_grad = true})
    local y = x * x:gt(0)
    H.assert_close(y, x:relu(), 0, 0)
    y:sum():backward()
    H.assert_close(x.grad, {shape = {3}, data = {0, 1, 1}}, 0, 0)
  end)
end)

-- ---- errors -------------------------------------------------------------------

-- Asserts f(...) raises an error containing `expected` (plain text), then
-- that the state still computes, elementwise ops included.
local function check_error(expected, f, ...)
  H.assert_error(expected, f, ...)
  local x = lucid.tensor({{1, 2}}, {requires_grad = true})
  local y = (x:square() + x:clamp(0, 1.5) + lucid.where(x:gt(1), x, 0)):sum()
  y:backward()
  assert.are.same({{3, 5}}, x.grad:tolist())
end

describe("elementwise errors", function()
  local a, b = lucid.zeros(2, 3), lucid.zeros(4, 5)

  it("name the op when the tensor is missing", function()
    for _, op in ipairs(unary_ops) do
      check_error("lucid." .. op .. ": bad argument #1 (lucid.Tensor expected, got number)", lucid[op], 3)
      check_error("lucid." .. op .. ": bad argument #1 (lucid.Tensor expected, got table)", lucid[op], {1, 2})
      check_error("lucid." .. op .. ": bad argument #1 (lucid.Tensor expected, got no value)", lucid[op])
    end
  end)

  it("refuse a closed tensor", function()
    local t = lucid.ones(2)
    getmetatable(t).__close(t)
    check_error("lucid.exp: bad argument #1 (tensor was closed)", lucid.exp, t)
    check_error("lucid.maximum: tensor was closed", lucid.maximum, lucid.ones(2), t)
    check_error("lucid.where: the condition tensor was closed", lucid.where, t, 1, 2)
  end)

  it("check gelu's approximate", function()
    check_error('lucid.gelu: approximate must be "none" or "tanh", got "fast"', lucid.gelu, a, "fast")
    check_error('lucid.gelu: approximate must be "none" or "tanh", got number', lucid.gelu, a, 1)
    check_error('lucid.gelu: option \'approximate\' must be "none" or "tanh", got boolean', a.gelu, a,
      {approximate = true})
  end)

  it("check softplus's beta and threshold", function()
    check_error("lucid.softplus: beta must be a number, got string", lucid.softplus, a, "2")
    check_error("lucid.softplus: threshold must be a number, got boolean", lucid.softplus, a, 1, true)
    check_error("lucid.softplus: option 'beta' must be a number, got table", a.softplus, a, {beta = {}})
  end)

  it("check clamp's bounds", function()
    check_error("lucid.clamp: at least one of min and max must be given", lucid.clamp, a)
    check_error("lucid.clamp: at least one of min and max must be given", a.clamp, a, nil, nil)
    check_error("lucid.clamp: at least one of min and max must be given", a.clamp, a, {})
    check_error("lucid.clamp: min must be a number or nil, got string", lucid.clamp, a, "0")
    check_error("lucid.clamp: max must be a number or nil, got boolean", lucid.clamp, a, 0, false)
    check_error("lucid.clamp: max must be a number or nil, got a tensor", lucid.clamp, a, 0, lucid.ones(1))
    check_error("lucid.clamp: option 'min' must be a number or nil, got string", a.clamp, a, {min = "x"})
  end)

  it("name both shapes when binary operands do not broadcast", function()
    for _, op in ipairs(binary_ops) do
      check_error("lucid." .. op .. ": shapes {2, 3} and {4, 5} do not broadcast (2 ~= 4)", lucid[op], a, b)
      check_error("lucid." .. op .. ": shapes {2, 3} and {2} do not broadcast (3 ~= 2)", a[op], a, lucid.zeros(2))
      check_error("lucid." .. op .. ": expected at least one tensor, got two numbers", lucid[op], 1, 2)
      check_error("lucid." .. op .. ": expected a tensor or a number, got string", lucid[op], a, "x")
      check_error("lucid." .. op .. ": bad argument #1 (lucid.Tensor expected, got boolean)", lucid[op], true, 1)
      check_error("lucid." .. op .. ": bad argument #2 (lucid.Tensor expected, got nil)", lucid[op], 1, nil)
    end
  end)

  it("refuse float tensors in the bitwise ops, naming the op", function()
    local i = lucid.tensor({1, 2}, {dtype = "int64"})
    for _, op in ipairs({"bitwise_and", "bitwise_or", "bitwise_xor"}) do
      check_error("lucid." .. op .. ": float32 tensors are not supported (integer and bool tensors only)",
        lucid[op], a, a)
      check_error("lucid." .. op .. ": float32 tensors are not supported", lucid[op], i, 2.5)
      check_error("lucid." .. op .. ": float64 tensors are not supported", lucid[op], i, a:double())
    end
    check_error("lucid.bitwise_not: float32 tensors are not supported", lucid.bitwise_not, a)
    check_error("lucid.bitwise_not: float64 tensors are not supported", a.bitwise_not, a:double())
  end)

  it("check heaviside's dtypes, isclose's dtypes and tolerances, equal's operands", function()
    check_error("lucid.heaviside: tensors of different dtypes (float32 and float64) are not supported",
      lucid.heaviside, a, a:double())
    check_error("lucid.isclose: the dtypes differ (float32 and float64)", lucid.isclose, a, a:double())
    check_error("lucid.allclose: the dtypes differ (int64 and float32)", lucid.allclose,
      a:long(), a)
    check_error("lucid.isclose: rtol must be greater than or equal to zero, got -1", a.isclose, a, a, -1)
    check_error("lucid.isclose: atol must be greater than or equal to zero, got nan", a.isclose, a, a,
      {atol = 0 / 0})
    check_error("lucid.isclose: other is required", lucid.isclose, a)
    check_error("lucid.isclose: expected at least one tensor, got two numbers", lucid.isclose, 1, 2)
    check_error("lucid.isclose: option 'equal_nan' must be a boolean, got number", a.isclose, a, a,
      {equal_nan = 1})
    check_error("lucid.isclose: shapes {2, 3} and {4, 5} do not broadcast", lucid.isclose, a, b)
    check_error("lucid.equal: other must be a tensor, got number", lucid.equal, a, 1)
    check_error("lucid.equal: bad argument #1 (lucid.Tensor expected, got number)", lucid.equal, 1, a)
    check_error("lucid.logit: eps must be a number or nil, got string", lucid.logit, a, "0.1")
    check_error("lucid.nan_to_num: option 'posinf' must be a number or nil, got boolean",
      a.nan_to_num, a, {posinf = true})
    check_error("lucid.clamp_min: min is required", lucid.clamp_min, a)
    check_error("lucid.clamp_max: max must be a number, got string", lucid.clamp_max, a, "1")
  end)

  it("check where's condition and shapes", function()
    check_error("lucid.where: the condition must be a tensor, got number", lucid.where, 1, a, a)
    check_error("lucid.where: the condition must be a tensor, got boolean", lucid.where, true, a, a)
    check_error("lucid.where: the condition must be a tensor, got nil", a.where, a, nil, a)
    check_error("lucid.where: shapes {2, 3}, {4, 5} and {} do not broadcast (2 ~= 4)",
      lucid.where, a, b, 0)
    check_error("lucid.where: shapes {2}, {2, 3} and {2, 3} do not broadcast (2 ~= 3)",
      lucid.where, lucid.zeros(2), a, a)
    check_error("lucid.where: expected a tensor or a number, got no value", lucid.where, a, a)
    check_error("lucid.where: expected a tensor or a number, got string", lucid.where, a, "x", 1)
  end)
end)
