--- Gradients on demand and ops written in Lua: autograd.grad(outputs, inputs)
-- computes gradients without touching .grad, autograd.Function:extend(name)
-- defines an op with your own forward and backward, and autograd.gradcheck
-- compares them with finite differences.
-- @module lucid.autograd
-- @usage lucid.autograd

-- lucid.autograd: gradients on demand, ops written in Lua, and a gradient
-- checker for them.
--
--   local Square = lucid.autograd.Function:extend("Square")
--   function Square.forward(ctx, x) ctx:save_for_backward(x); return x * x end
--   function Square.backward(ctx, g) local x = ctx.saved_tensors[1]; return g * 2 * x end
--   local y = Square.apply(x)
local args = require("lucid._args")
local raise = args.raise
local C = require("lucid.core")
local compat = require("lucid._compat")
local pack, unpack = compat.pack, compat.unpack

local autograd = {}

--- The gradients of the outputs (summed) with respect to each input, returned as
-- multiple results, without changing any .grad: local gx, gw =
-- lucid.autograd.grad(loss, {x, w}).
-- @function grad
-- @usage lucid.autograd.grad(outputs, inputs [, grad_outputs] [, {retain_graph =, allow_unused =}])
-- @within Autograd

-- grad(outputs, inputs [, grad_outputs] [, {retain_graph =, allow_unused =}]):
-- the gradients of the outputs (summed) with respect to each input, returned
-- as multiple results; no tensor's .grad changes.
autograd.grad = C._autograd_grad

-- ---- Function -----------------------------------------------------------------

local Ctx = {}
Ctx.__index = Ctx

--- ctx:save_for_backward(...): tensors backward will need, as ctx.saved_tensors.
-- They are kept as detached aliases: values without the graph, so an output
-- saved here cannot keep its own graph alive.
-- @function Ctx:save_for_backward
-- @usage ctx:save_for_backward(t1, t2, ...)  (in a Function's forward)
-- @within Autograd
function Ctx:save_for_backward(...)
  local saved = {}
  for i = 1, select("#", ...) do
    local t = select(i, ...)
    saved[i] = C.is_tensor(t) and t:detach() or t
  end
  self.saved_tensors = saved
end

local Function = {__name = "Function"}
--- An op written in Lua: define Op.forward(ctx, ...) (computed without recording;
-- ctx:save_for_backward(...) keeps tensors in ctx.saved_tensors) and
-- Op.backward(ctx, grad) returning one gradient per input (nil for none); call
-- it as Op.apply(...). As torch.autograd.Function.
-- @function Function
-- @usage local Op = lucid.autograd.Function:extend(name)
-- @within Autograd
autograd.Function = Function

local function apply(cls, ...)
  local argv = pack(...)
  local ctx = setmetatable({saved_tensors = {}, needs_input_grad = {}}, Ctx)
  local inputs, positions, wanted = {}, {}, false
  for i = 1, argv.n do
    local a = argv[i]
    local is_t = C.is_tensor(a)
    ctx.needs_input_grad[i] = is_t and a.requires_grad or false
    if is_t then
      inputs[#inputs + 1], positions[#positions + 1] = a, i
      wanted = wanted or a.requires_grad
    end
  end
  local previous = C.set_grad_enabled(false)
  local ok, out = pcall(cls.forward, ctx, ...)
  C.set_grad_enabled(previous)
  if not ok then error(out, 0) end
  if not C.is_tensor(out) then
    raise(cls.__name .. ".forward must return a tensor, got " .. type(out))
  end
  if not (wanted and previous) then return out end
  -- backward(ctx, g) returns one value per forward argument; keep the tensors'
  local function backward(g)
    local res = pack(cls.backward(ctx, g))
    local grads = {}
    for k, pos in ipairs(positions) do grads[k] = res[pos] end
    return unpack(grads, 1, #positions)
  end
  return C._attach_function(out, inputs, backward, cls.__name .. "Backward")
end

-- Function:extend(name): a class with forward(ctx, ...) and backward(ctx, grad)
-- to fill in; Class.apply(...) runs it and records it for autograd.
function Function:extend(name)
  if type(name) ~= "string" then
    raise("lucid.autograd.Function:extend: expected a name (string), got " .. type(name))
  end
  local cls = setmetatable({__name = name, super = self}, {__index = self})
  cls.apply = function(...) return apply(cls, ...) end
  return cls
end

function Function.forward()
  raise("lucid.autograd.Function: forward is not implemented")
end

function Function.backward()
  raise("lucid.autograd.Function: backward is not implemented")
end

-- ---- gradcheck ------------------------------------------------------------------

local function flat(t)
  return t:detach():reshape(-1):tolist()
end

-- gradcheck(fn, inputs [, {eps = 1e-6, atol = 1e-5, rtol = 1e-3, raise = true}]):
-- compares autograd's gradients of sum(fn(inputs...) * r), for a fixed random
-- r, with central finite differences, element by element, for every input
-- that requires grad. Use float64 inputs. Returns true, or raises (or with
-- raise = false returns false and the message) naming the input, the element
-- and both values.
local callable = args.callable

local function fn_check(v, name)
  if not callable(v) then return name .. " must be a function, got " .. type(v) end
end
local function inputs_check(v, name)
  if not C.is_tensor(v) and type(v) ~= "table" then
    return name .. " must be a tensor or a table of inputs, got " .. type(v)
  end
end
local function eps_check(v, name)
  if type(v) ~= "number" then return name .. " must be a number, got " .. type(v) end
  if not (v > 0) then return name .. " must be positive, got " .. tostring(v) end
end
-- PyTorch's switches that have no meaning here
local UNSUPPORTED = {"raise_exception", "nondet_tol", "check_undefined_grad", "check_grad_dtypes",
  "check_batched_grad", "check_batched_forward_grad", "check_forward_ad", "check_backward_ad",
  "fast_mode", "check_sparse_nnz"}
local function check_entries(extra)
  local e = {
    {"fn", args.REQUIRED, fn_check},
    {"inputs", args.REQUIRED, inputs_check, table_arg = true},
  }
  for _, x in ipairs(extra) do e[#e + 1] = x end
  for _, x in ipairs({{"eps", 1e-6, eps_check, keyword = true}, {"atol", 1e-5, "number", keyword = true},
      {"rtol", 1e-3, "number", keyword = true}, {"raise", true, "boolean", keyword = true}}) do
    e[#e + 1] = x
  end
  e.unsupported = UNSUPPORTED
  return e
end
autograd.schemas = {
  gradcheck = args.schema("lucid.autograd.gradcheck", check_entries({})),
  gradgradcheck = args.schema("lucid.autograd.gradgradcheck", check_entries({
    {"grad_outputs", nil, "tensor"},
  })),
  -- only the options grad itself reads in Lua (the rest is the binding's)
}


-- The finite-difference check of gradcheck, for fname; o: the parsed options.
local function check(fname, fn, inputs, o)
  local G = fname .. ": "
  local eps, atol, rtol = o.eps, o.atol, o.rtol
  if C.is_tensor(inputs) then inputs = {inputs} end
  local opts = {raise = o.raise}
  local plain = {}  -- a plain array (no metamethods from here on)
  for i = 1, #inputs do plain[i] = inputs[i] end
  inputs = plain
  local function fail(msg)
    if opts.raise == false then return false, msg end
    raise(G .. msg)
  end
  local out = fn(unpack(inputs))
  if not C.is_tensor(out) then return fail("the function must return a tensor") end
  local r = C.rand(out.shape, {dtype = out.dtype}) + 0.5  -- away from 0, so no term vanishes
  local wrt = {}
  for _, t in ipairs(inputs) do
    if C.is_tensor(t) and t.requires_grad then wrt[#wrt + 1] = t end
  end
  if #wrt == 0 then return fail("no input requires grad") end
  -- an output that records no graph has zero derivatives (a backward that is
  -- right but not itself differentiable gives one under gradgradcheck)
  local analytic = out.requires_grad
    and pack(autograd.grad((out * r):sum(), wrt, {allow_unused = true})) or {}
  -- fn's value with recording off; the switch happens inside the pcall and
  -- nothing is allocated between the pcall's end and the restore
  local previous
  local function measure()
    previous = C.set_grad_enabled(false)
    local y = fn(unpack(inputs))
    if not C.is_tensor(y) then raise(G .. "the function must return a tensor, got " .. type(y)) end
    return (y * r):sum():item()
  end
  local function value()
    previous = nil
    local ok, v = pcall(measure)
    if previous ~= nil then C.set_grad_enabled(previous) end
    if not ok then error(v, 0) end
    return v
  end
  for k, t in ipairs(wrt) do
    if t.dtype ~= "float64" then
      return fail(string.format("input %d is %s; finite differences need float64", k, t.dtype))
    end
    local base = flat(t)
    local a = analytic[k] and flat(analytic[k]) or {}
    local view = t:detach():reshape(-1)  -- shares t's storage: perturbs t in place
    for i = 1, #base do
      view[i] = base[i] + eps
      local hi = value()
      view[i] = base[i] - eps
      local lo = value()
      view[i] = base[i]
      local numeric, got = (hi - lo) / (2 * eps), a[i] or 0
      if math.abs(numeric - got) > atol + rtol * math.abs(numeric) then
        return fail(string.format("input %d, element %d: autograd %.10g, finite differences %.10g",
          k, i, got, numeric))
      end
    end
  end
  return true
end

--- Compares autograd's gradients of fn(inputs...) with central finite
-- differences for every input that requires grad; use float64. Returns true, or
-- raises naming the input and element that differ (with raise = false returns
-- false and the message).
-- @function gradcheck
-- @usage lucid.autograd.gradcheck(fn, inputs [, {eps =, atol =, rtol =, raise =}])
-- @within Autograd
function autograd.gradcheck(...)
  local o = autograd.schemas.gradcheck:table(...)
  return check("lucid.autograd.gradcheck", o.fn, o.inputs, o)
end


--- Checks second derivatives as PyTorch's: the first derivatives of
-- sum(fn(inputs...) * grad_outputs) (grad_outputs a fixed random tensor unless
-- given) are computed with create_graph = true, and gradcheck runs on them as a
-- function of the inputs. Use float64 inputs.
-- @function gradgradcheck
-- @usage lucid.autograd.gradgradcheck(fn, inputs [, grad_outputs] [, {eps =, atol =, rtol =, raise =}])
-- @within Autograd

-- gradgradcheck(fn, inputs [, grad_outputs] [, {eps =, atol =, rtol =, raise =}]):
-- checks second derivatives, as PyTorch's: the first derivatives of
-- sum(fn(inputs...) * grad_outputs) (grad_outputs: a fixed random tensor
-- unless given) are computed with create_graph = true, and gradcheck runs on
-- them as a function of the inputs. Use float64 inputs.
function autograd.gradgradcheck(...)
  local o = autograd.schemas.gradgradcheck:table(...)
  local fn, inputs = o.fn, o.inputs
  if C.is_tensor(inputs) then inputs = {inputs} end
  local wrt = {}
  for i = 1, #inputs do
    local t = inputs[i]
    if C.is_tensor(t) and t.requires_grad then wrt[#wrt + 1] = t end
  end
  local go = o.grad_outputs
  local function first_grads(...)
    local y = fn(...)
    if not C.is_tensor(y) then
      raise("lucid.autograd.gradgradcheck: the function must return a tensor, got %s", type(y))
    end
    if go == nil then go = C.rand(y.shape, {dtype = y.dtype}) + 0.5 end  -- away from 0
    local grads = pack(C._autograd_grad(y, wrt, go, {create_graph = true, allow_unused = true}))
    local parts = {}
    for k, t in ipairs(wrt) do
      local g = grads[k] or C.zeros(t.shape, {dtype = t.dtype})
      parts[k] = g:reshape(-1)
    end
    return C.cat(parts, 1)
  end
  -- the first derivatives need recording on, also where gradcheck measures
  -- with it off; the mode is restored however first_grads ends
  local function first(...)
    local previous = C.set_grad_enabled(true)
    local r = pack(pcall(first_grads, ...))
    C.set_grad_enabled(previous)
    if not r[1] then error(r[2], 0) end
    return unpack(r, 2, r.n)
  end
  return check("lucid.autograd.gradgradcheck", first, inputs, o)
end

return autograd
