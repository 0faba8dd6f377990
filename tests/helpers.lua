--- Shared helpers for the busted specs:  local H = dofile("tests/helpers.lua")
--
-- A fixture tensor is {shape = {...}, data = {flat row-major values}}
-- (0-d: shape = {} and one value), as written by scripts/gen_fixtures.py.
local lucid = require("lucid")
-- busted's assert lives in the spec's environment, not in _G that dofile sees
local assert = require("luassert")

local H = {}

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
  if type(v) == "number" then
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

  local y = fn(table.unpack(inputs))
  lucid.manual_seed(opts.seed or 1234)
  local s = lucid.randn(y.shape, {dtype = "float64"})
  local function loss()
    return lucid.no_grad(function() return (fn(table.unpack(inputs)) * s):sum():item() end)
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

return H
