--- lucid.autograd: gradients on demand, ops written in Lua, and a gradient
-- checker for them.
--
--   local Square = lucid.autograd.Function:extend("Square")
--   function Square.forward(ctx, x) ctx:save_for_backward(x); return x * x end
--   function Square.backward(ctx, g) local x = ctx.saved_tensors[1]; return g * 2 * x end
--   local y = Square.apply(x)
local raise = require("lucid._args").raise
local C = require("lucid.core")

local autograd = {}

--- grad(outputs, inputs [, grad_outputs] [, {retain_graph =, allow_unused =}]):
-- the gradients of the outputs (summed) with respect to each input, returned
-- as multiple results; no tensor's .grad changes.
autograd.grad = C._autograd_grad

-- ---- Function -----------------------------------------------------------------

local Ctx = {}
Ctx.__index = Ctx

--- ctx:save_for_backward(...): tensors backward will need, as ctx.saved_tensors.
-- They are kept as detached aliases: values without the graph, so an output
-- saved here cannot keep its own graph alive.
function Ctx:save_for_backward(...)
  local saved = {}
  for i = 1, select("#", ...) do
    local t = select(i, ...)
    saved[i] = C.is_tensor(t) and t:detach() or t
  end
  self.saved_tensors = saved
end

local Function = {__name = "Function"}
autograd.Function = Function

local function apply(cls, ...)
  local args = table.pack(...)
  local ctx = setmetatable({saved_tensors = {}, needs_input_grad = {}}, Ctx)
  local inputs, positions, wanted = {}, {}, false
  for i = 1, args.n do
    local a = args[i]
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
    local res = table.pack(cls.backward(ctx, g))
    local grads = {}
    for k, pos in ipairs(positions) do grads[k] = res[pos] end
    return table.unpack(grads, 1, #positions)
  end
  return C._attach_function(out, inputs, backward, cls.__name .. "Backward")
end

--- Function:extend(name): a class with forward(ctx, ...) and backward(ctx, grad)
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

--- gradcheck(fn, inputs [, {eps = 1e-6, atol = 1e-5, rtol = 1e-3, raise = true}]):
-- compares autograd's gradients of sum(fn(inputs...) * r), for a fixed random
-- r, with central finite differences, element by element, for every input
-- that requires grad. Use float64 inputs. Returns true, or raises (or with
-- raise = false returns false and the message) naming the input, the element
-- and both values.
local function callable(f)
  if type(f) == "function" then return true end
  local mt = getmetatable(f)
  return type(mt) == "table" and rawget(mt, "__call") ~= nil
end

function autograd.gradcheck(fn, inputs, opts)
  local G = "lucid.autograd.gradcheck: "
  if not callable(fn) then raise(G .. "fn must be a function, got " .. type(fn)) end
  if C.is_tensor(inputs) then inputs = {inputs} end
  if type(inputs) ~= "table" then
    raise(G .. "inputs must be a tensor or a table of inputs, got " .. type(inputs))
  end
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then raise(G .. "opts must be a table, got " .. type(opts)) end
  local eps, atol, rtol = opts.eps or 1e-6, opts.atol or 1e-5, opts.rtol or 1e-3
  if type(eps) ~= "number" then raise(G .. "eps must be a number, got " .. type(eps)) end
  if type(atol) ~= "number" then raise(G .. "atol must be a number, got " .. type(atol)) end
  if type(rtol) ~= "number" then raise(G .. "rtol must be a number, got " .. type(rtol)) end
  if not (eps > 0) then raise(G .. "eps must be positive, got " .. tostring(eps)) end
  inputs = table.move(inputs, 1, #inputs, 1, {})  -- a plain array (no metamethods from here on)
  local function fail(msg)
    if opts.raise == false then return false, msg end
    raise("lucid.autograd.gradcheck: " .. msg)
  end
  local out = fn(table.unpack(inputs))
  if not C.is_tensor(out) then return fail("the function must return a tensor") end
  local r = C.rand(out.shape, {dtype = out.dtype}) + 0.5  -- away from 0, so no term vanishes
  local wrt = {}
  for _, t in ipairs(inputs) do
    if C.is_tensor(t) and t.requires_grad then wrt[#wrt + 1] = t end
  end
  if #wrt == 0 then return fail("no input requires grad") end
  local analytic = table.pack(autograd.grad((out * r):sum(), wrt, {allow_unused = true}))
  -- fn's value with recording off; the switch happens inside the pcall and
  -- nothing is allocated between the pcall's end and the restore
  local previous
  local function measure()
    previous = C.set_grad_enabled(false)
    local y = fn(table.unpack(inputs))
    if not C.is_tensor(y) then error(G .. "the function must return a tensor, got " .. type(y), 0) end
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

return autograd
