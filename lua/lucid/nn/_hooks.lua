-- Module hooks (register_forward_pre_hook, register_forward_hook,
-- register_full_backward_hook), PyTorch 1.13's semantics. A module without
-- hooks never reaches this file: Module's call checks one raw field.
--
-- The full backward hook gets each tensor input's gradient and each tensor
-- output's at once, and may replace the inputs' gradients. For that the
-- inputs that require grad go through two kinds of identity nodes:
--
--   x1 .. xk --> gate (one node, inputs x1 .. xk, a 1-element output)
--   gate --> x1' .. xk' (each x_i's values, recorded as a function of gate)
--
-- The module computes with x1' .. xk'. In backward, each x_i' stores the
-- gradient it receives and passes zeros to the gate; the gate runs after all
-- of them (autograd visits a node once all its consumers are done), calls the
-- hooks with the stored gradients and hands what they return to x1 .. xk.
-- The outputs go through identity nodes that store grad_output.
local args = require("lucid._args")
local C = require("lucid.core")
local compat = require("lucid._compat")
local raise = args.raise
local pack, unpack = compat.pack, compat.unpack

local M = {}

local FIELDS = {
  forward_pre = "_forward_pre_hooks",
  forward = "_forward_hooks",
  backward = "_backward_hooks",
}

-- A handle with :remove() (and .id, as PyTorch's RemovableHandle).
local Handle = {}
Handle.__index = Handle
function Handle:remove()
  local list = rawget(self.module, self.field)
  if list then
    for i, h in ipairs(list) do
      if h == self.entry then table.remove(list, i) break end
    end
  end
  local m = self.module
  local any = false
  for _, f in pairs(FIELDS) do
    local l = rawget(m, f)
    if l and #l > 0 then any = true end
  end
  if not any then rawset(m, "_hooks", nil) end
end
function Handle:__tostring() return "RemovableHandle(" .. tostring(self.id) .. ")" end

local next_id = 0

function M.register(self, kind, hook, fname)
  if not args.callable(hook) then raise("%s: hook must be a function, got %s", fname, type(hook)) end
  local field = FIELDS[kind]
  local list = rawget(self, field)
  if not list then
    list = {}
    rawset(self, field, list)
  end
  next_id = next_id + 1
  local entry = {fn = hook, id = next_id}
  list[#list + 1] = entry
  rawset(self, "_hooks", true)
  return setmetatable({module = self, field = field, entry = entry, id = next_id}, Handle)
end

-- A plain Lua array (hooks may return one): the new arguments; anything else
-- is the one argument.
local function as_args(r)
  if type(r) == "table" and not C.is_tensor(r) and getmetatable(r) == nil then
    return {n = #r, unpack(r, 1, #r)}
  end
  return {n = 1, r}
end

local function as_array(p)
  local t = {}
  for i = 1, p.n do t[i] = p[i] end
  return t
end

local function wants_grad(v)
  return C.is_tensor(v) and v.requires_grad
end

-- The hooks' grad tables, one slot per argument or output (nil where it is
-- not a tensor that requires grad).
local function run_backward_hooks(self, state)
  local grad_input, grad_output = {}, {}
  for i = 1, state.nin do grad_input[i] = state.gin[i] end
  for i = 1, state.nout do grad_output[i] = state.gout[i] end
  local list = rawget(self, "_backward_hooks") or {}
  local hooks = {}
  for i, h in ipairs(list) do hooks[i] = h end  -- a hook removing itself does not skip the next
  for _, h in ipairs(hooks) do
    local r = h.fn(self, grad_input, grad_output)
    if r ~= nil then
      if type(r) ~= "table" or C.is_tensor(r) then
        raise("%s: a backward hook must return nil or a table of %d gradients, got %s", self.__name, state.nin,
          C.is_tensor(r) and "a tensor" or type(r))
      end
      grad_input = r
    end
  end
  return grad_input
end

-- The gate and the aliases x_i' (see the top of the file).
local function wrap_inputs(self, argv, state)
  local idx = {}
  local inputs = {}
  for i = 1, argv.n do
    if wants_grad(argv[i]) then
      idx[#idx + 1] = i
      inputs[#inputs + 1] = argv[i]
    end
  end
  state.nin = argv.n
  state.gin = {}
  if #inputs == 0 then return argv end
  state.has_inputs = true
  local proto = inputs[1]
  local gate = C._attach_function(C.zeros({1}, {dtype = proto.dtype}), inputs, function()
    local grads = run_backward_hooks(self, state)
    local out = {}
    for k, i in ipairs(idx) do out[k] = grads[i] end
    return unpack(out, 1, #idx)
  end, "BackwardHookFunctionBackward")
  local out = {n = argv.n}
  for i = 1, argv.n do out[i] = argv[i] end
  for _, i in ipairs(idx) do
    local x = argv[i]
    out[i] = C._attach_function(x, {gate}, function(g)
      state.gin[i] = g
      return C.zeros({1}, {dtype = gate.dtype})
    end, "BackwardHookFunctionBackward")
  end
  return out
end

local function wrap_outputs(self, res, state)
  state.nout = res.n
  state.gout = {}
  local count, seen = 0, 0
  for i = 1, res.n do if wants_grad(res[i]) then count = count + 1 end end
  local out = {n = res.n}
  for i = 1, res.n do
    local y = res[i]
    if wants_grad(y) then
      out[i] = C._attach_function(y, {y}, function(g)
        state.gout[i] = g
        seen = seen + 1
        -- no input needs a gradient: the hooks run here, with grad_input all nil
        if not state.has_inputs and seen == count then run_backward_hooks(self, state) end
        return g
      end, "BackwardHookFunctionBackward")
    else
      out[i] = y
    end
  end
  return out
end

function M.call(self, f, ...)
  local argv = pack(...)
  local pre = rawget(self, "_forward_pre_hooks")
  if pre and #pre > 0 then
    local hooks = {}
    for i, h in ipairs(pre) do hooks[i] = h end
    for _, h in ipairs(hooks) do
      local r = h.fn(self, as_array(argv))
      if r ~= nil then argv = as_args(r) end
    end
  end
  local bw = rawget(self, "_backward_hooks")
  local state
  if bw and #bw > 0 and C.is_grad_enabled() then
    state = {}
    argv = wrap_inputs(self, argv, state)
  end
  local res = pack(f(self, unpack(argv, 1, argv.n)))
  local post = rawget(self, "_forward_hooks")
  if post and #post > 0 then
    local hooks = {}
    for i, h in ipairs(post) do hooks[i] = h end
    for _, h in ipairs(hooks) do
      local shown = res.n == 1 and res[1] or as_array(res)
      local r = h.fn(self, as_array(argv), shown)
      if r ~= nil then
        if res.n == 1 then res = {n = 1, r} else res = as_args(r) end
      end
    end
  end
  if state then res = wrap_outputs(self, res, state) end
  return unpack(res, 1, res.n)
end

return M
