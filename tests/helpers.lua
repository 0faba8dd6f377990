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
-- dtype defaulting to float64.
function H.from_flat(data, shape, opts)
  opts = opts or {}
  local o = {dtype = opts.dtype or "float64", requires_grad = opts.requires_grad or false}
  if #shape == 0 then return lucid.tensor(data[1], o) end
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

return H
