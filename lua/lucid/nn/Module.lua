--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.Module: the base class of every layer and model.
--
--   local Net = nn.Module:extend("Net")
--   function Net:__init(n) self.fc = nn.Linear(n, 1) end
--   function Net:forward(x) return self.fc(x) end
--   local net = Net(4)            -- base set-up, then Net.__init
--   local y = net(x)              -- calls forward
--
-- Assigning a Module or an nn.Parameter to a field registers it, in order;
-- registered things live in self._modules / self._parameters and are found
-- by the instance's __index, which is why assignment is intercepted
-- (__newindex only fires for keys that are not raw fields).
local args = require("lucid._args")
local raise, shape_str = args.raise, args.shape_str
local C = require("lucid.core")
local compat = require("lucid._compat")

--- The base class of every layer and model, as torch.nn.Module. Make a class with
-- extend, give it __init(...) (the base set-up runs first) and forward(...);
-- calling the class builds an instance and calling the instance calls forward.
-- Assigning a Module or nn.Parameter to a field registers it, in order; a model
-- prints as a tree of its submodules.
-- @function Module
-- @usage local Net = nn.Module:extend("Net")
-- @within nn: modules
local Module = {}
Module.__name = "Module"

--- Whether v is a module instance (made by nn.Module or a class of its).
-- @function Module.is_module
-- @usage nn.Module.is_module(v)
-- @within nn: modules
local function is_module(v)
  return type(v) == "table" and rawget(v, "_modules") ~= nil
end
Module.is_module = is_module

local function remove_name(list, name)
  for i, n in ipairs(list) do
    if n == name then table.remove(list, i) return end
  end
end

local function make_index(cls)
  return function(self, k)
    local v = self._parameters[k]
    if v ~= nil then return v end
    v = self._modules[k]
    if v ~= nil then return v end
    v = self._buffers[k]
    if v ~= nil then return v end
    if compat.math_type(k) == "integer" then return self._modules[tostring(k)] end
    return cls[k]
  end
end

-- Why k cannot name a parameter, buffer or submodule (nil when it can): names
-- are non-empty strings without "." (the separator of state-dict keys).
local function bad_name(k)
  if type(k) ~= "string" then
    return "the name must be a string, got " .. (C.is_tensor(k) and "a tensor" or type(k))
  end
  if k == "" then return "the name must not be empty" end
  if k:find(".", 1, true) then return 'the name "' .. k .. '" must not contain "."' end
end

-- True when `target` is m or below it (m's submodules, depth first).
local function contains(m, target, seen)
  if m == target then return true end
  if seen[m] then return false end
  seen[m] = true
  for _, name in ipairs(m._module_names) do
    if contains(m._modules[name], target, seen) then return true end
  end
  return false
end

local function newindex(self, k, v)
  local params, modules = self._parameters, self._modules
  if C.is_parameter(v) or is_module(v) then
    local why = bad_name(k)
    if why then
      raise(string.format("%s: cannot register a %s: %s", self.__name,
        is_module(v) and "submodule" or "parameter", why))
    end
    if is_module(v) and contains(v, self, {}) then
      raise(string.format("%s: cannot register submodule '%s': it contains this module (a cycle)",
        self.__name, k))
    end
  end
  if C.is_parameter(v) then
    if modules[k] ~= nil then modules[k] = nil remove_name(self._module_names, k) end
    if params[k] == nil then table.insert(self._param_names, k) end
    params[k] = v
  elseif is_module(v) then
    if params[k] ~= nil then params[k] = nil remove_name(self._param_names, k) end
    if modules[k] == nil then table.insert(self._module_names, k) end
    modules[k] = v
  elseif params[k] ~= nil then
    if v ~= nil then
      raise(string.format("%s: cannot assign a %s to parameter '%s' (nn.Parameter or nil expected)",
        self.__name, C.is_tensor(v) and "plain tensor" or type(v), tostring(k)))
    end
    params[k] = nil
    remove_name(self._param_names, k)
  elseif modules[k] ~= nil then
    if v ~= nil then
      raise(string.format("%s: cannot assign a %s to submodule '%s' (Module or nil expected)",
        self.__name, type(v), tostring(k)))
    end
    modules[k] = nil
    remove_name(self._module_names, k)
  elseif self._buffers[k] ~= nil then
    if v ~= nil and not C.is_tensor(v) then
      raise(string.format("%s: buffer '%s' must be a tensor or nil", self.__name, tostring(k)))
    end
    self._buffers[k] = v
    if v == nil then remove_name(self._buffer_names, k) end
  else
    rawset(self, k, v)
  end
end

-- model(x) calls forward. It is looked up on the class chain directly (plain
-- table lookups in C) rather than through the instance's __index function:
-- this runs for every layer of every call.
-- A module with hooks has the raw field _hooks (one more table lookup here).
local hooks_impl
local function call(self, ...)
  local f = rawget(self, "forward") or getmetatable(self).forward
  if rawget(self, "_hooks") then
    hooks_impl = hooks_impl or require("lucid.nn._hooks")
    return hooks_impl.call(self, f, ...)
  end
  return f(self, ...)
end

local function construct(cls, ...)
  local self = setmetatable({
    _parameters = {}, _param_names = {},
    _modules = {}, _module_names = {},
    _buffers = {}, _buffer_names = {},
    training = true,
  }, cls)
  self:__init(...)
  return self
end

local function tostring_module(self)
  return self:__repr()
end

--- A new class named name deriving from Parent (nn.Module or any module class);
-- Cls.super is Parent, so Cls.super.__init(self, ...) calls the parent's set-up.
-- @function Module:extend
-- @usage local Cls = Parent:extend(name)
-- @within nn: modules
-- @aka nn.Module.extend

-- Class:extend(name): a subclass; Class.super is the parent.
function Module.extend(parent, name)
  if type(name) ~= "string" then
    raise("nn.Module:extend: expected a class name (string), got " .. type(name))
  end
  local cls = {__name = name, super = parent}
  cls.__index = make_index(cls)
  cls.__newindex = newindex
  cls.__call = call
  cls.__tostring = tostring_module
  return setmetatable(cls, {
    __index = parent,
    __call = construct,
    __tostring = function() return "class " .. name end,
  })
end

Module.__index = make_index(Module)
Module.__newindex = newindex
Module.__call = call
Module.__tostring = tostring_module
setmetatable(Module, {__call = construct, __tostring = function() return "class Module" end})

-- The base set-up is done before __init runs; calling this again is harmless.
function Module:__init() end

--- The computation of the module; define it in your class. Calling the module
-- calls it.
-- @function Module:forward
-- @usage function Net:forward(x) ... end;  net(x)
-- @within nn: modules
-- @aka nn.Module.forward
function Module:forward()
  raise(self.__name .. ": forward is not implemented")
end

--- Registers hook(module, args) to run before each forward: args is the
-- array of the call's arguments; a non-nil result replaces them (an array, or
-- one value for a single argument). Returns a handle; handle:remove() undoes it.
-- @function Module:register_forward_pre_hook
-- @usage local h = model:register_forward_pre_hook(function(m, args) ... end); h:remove()
-- @within nn: modules
function Module:register_forward_pre_hook(hook)
  hooks_impl = hooks_impl or require("lucid.nn._hooks")
  return hooks_impl.register(self, "forward_pre", hook, "nn.Module:register_forward_pre_hook")
end

--- Registers hook(module, args, output) to run after each forward: output is
-- what forward returned (an array when it returned several values); a
-- non-nil result replaces it. Returns a handle with :remove().
-- @function Module:register_forward_hook
-- @usage local h = model:register_forward_hook(function(m, args, output) ... end); h:remove()
-- @within nn: modules
function Module:register_forward_hook(hook)
  hooks_impl = hooks_impl or require("lucid.nn._hooks")
  return hooks_impl.register(self, "forward", hook, "nn.Module:register_forward_hook")
end

--- Registers hook(module, grad_input, grad_output) to run in backward once the
-- gradients of the module's inputs are known, as PyTorch's full backward hook:
-- grad_input[i] is the gradient of the i-th argument (nil where it is not a
-- tensor requiring grad), grad_output[j] that of the j-th result; a non-nil
-- result (an array) replaces grad_input. Returns a handle with :remove().
-- @function Module:register_full_backward_hook
-- @usage local h = model:register_full_backward_hook(function(m, grad_input, grad_output) ... end)
-- @within nn: modules
function Module:register_full_backward_hook(hook)
  hooks_impl = hooks_impl or require("lucid.nn._hooks")
  return hooks_impl.register(self, "backward", hook, "nn.Module:register_full_backward_hook")
end

-- A name for register_parameter, register_buffer and add_module: a
-- non-empty string without "." (the separator of state-dict keys), as PyTorch.
local function check_name(self, method, name)
  local why = bad_name(name)
  if why then raise(string.format("%s:%s: %s", self.__name, method, why)) end
end

--- Registers an nn.Parameter (or removes one, with nil) under name; the same as
-- assigning it to the field.
-- @function Module:register_parameter
-- @usage model:register_parameter(name, p)
-- @within nn: modules
-- @aka nn.Module.register_parameter
function Module:register_parameter(name, p)
  check_name(self, "register_parameter", name)
  if p ~= nil and not C.is_parameter(p) then
    raise(self.__name .. ":register_parameter: expected an nn.Parameter or nil")
  end
  newindex(self, name, p)
end

--- Registers a submodule under name; the same as assigning it to the field.
-- @function Module:add_module
-- @usage model:add_module(name, m)
-- @within nn: modules
-- @aka nn.Module.add_module
function Module:add_module(name, m)
  check_name(self, "add_module", name)
  if m ~= nil and not is_module(m) then
    raise(self.__name .. ":add_module: expected a Module or nil")
  end
  newindex(self, name, m)
end

--- Registers a tensor that is saved in the state dict but not trained (running
-- statistics, masks); read it as model[name].
-- @function Module:register_buffer
-- @usage model:register_buffer(name, t)
-- @within nn: modules
-- @aka nn.Module.register_buffer

-- A tensor kept in the state dict but not trained (running statistics).
function Module:register_buffer(name, t)
  check_name(self, "register_buffer", name)
  if t ~= nil and not C.is_tensor(t) then
    raise(self.__name .. ":register_buffer: expected a tensor or nil")
  end
  if self._buffers[name] == nil and t ~= nil then table.insert(self._buffer_names, name) end
  self._buffers[name] = t
end

-- Walks (name, module) pairs depth-first in registration order.
local function walk_modules(m, prefix, out)
  out[#out + 1] = {prefix, m}
  for _, name in ipairs(m._module_names) do
    walk_modules(m._modules[name], prefix == "" and name or prefix .. "." .. name, out)
  end
  return out
end

local function iterate(list)
  local i = 0
  return function()
    i = i + 1
    local e = list[i]
    if e then return e[1], e[2] end
  end
end

local function named_list(self, field, names_field, recurse)
  local out = {}
  local mods = recurse == false and {{"", self}} or walk_modules(self, "", {})
  local seen = {}
  for _, e in ipairs(mods) do
    local prefix, m = e[1], e[2]
    for _, name in ipairs(m[names_field]) do
      local v = m[field][name]
      if not seen[v] then
        seen[v] = true
        out[#out + 1] = {prefix == "" and name or prefix .. "." .. name, v}
      end
    end
  end
  return out
end

--- Iterates (name, parameter) with dotted names like PyTorch's "fc1.weight".
-- @function Module:named_parameters
-- @usage for name, p in model:named_parameters() do ... end
-- @within nn: modules
-- @aka nn.Module.named_parameters

-- for name, p in model:named_parameters() do ... end  (names like "fc1.weight")
function Module:named_parameters(recurse)
  return iterate(named_list(self, "_parameters", "_param_names", recurse))
end

--- An array of all parameters (own first, then each submodule's, depth first, in
-- registration order), for an optimiser.
-- @function Module:parameters
-- @usage model:parameters()
-- @within nn: modules
-- @aka nn.Module.parameters

-- An array of the parameters, in registration order.
function Module:parameters(recurse)
  local out = {}
  for _, e in ipairs(named_list(self, "_parameters", "_param_names", recurse)) do
    out[#out + 1] = e[2]
  end
  return out
end

--- Iterates (dotted name, tensor) over the registered buffers.
-- @function Module:named_buffers
-- @usage for name, b in model:named_buffers() do ... end
-- @within nn: modules
-- @aka nn.Module.named_buffers
function Module:named_buffers(recurse)
  return iterate(named_list(self, "_buffers", "_buffer_names", recurse))
end

--- Iterates (name, submodule) over the direct submodules.
-- @function Module:named_children
-- @usage for name, m in model:named_children() do ... end
-- @within nn: modules
-- @aka nn.Module.named_children
function Module:named_children()
  local out = {}
  for _, name in ipairs(self._module_names) do out[#out + 1] = {name, self._modules[name]} end
  return iterate(out)
end

--- An array of the direct submodules, in registration order.
-- @function Module:children
-- @usage model:children()
-- @within nn: modules
-- @aka nn.Module.children

-- An array of the direct submodules.
function Module:children()
  local out = {}
  for _, name in ipairs(self._module_names) do out[#out + 1] = self._modules[name] end
  return out
end

--- Iterates (dotted name, module) over the module ("" for itself) and all below.
-- @function Module:named_modules
-- @usage for name, m in model:named_modules() do ... end
-- @within nn: modules
-- @aka nn.Module.named_modules
function Module:named_modules()
  return iterate(walk_modules(self, "", {}))
end

--- An array of the module itself and every module below it, depth first.
-- @function Module:modules
-- @usage model:modules()
-- @within nn: modules
-- @aka nn.Module.modules

-- An array of this module and all below it, depth first.
function Module:modules()
  local out = {}
  for _, e in ipairs(walk_modules(self, "", {})) do out[#out + 1] = e[2] end
  return out
end

--- Sets training mode on the module and all below it (module.training); returns
-- the module.
-- @function Module:train
-- @usage model:train([mode = true])
-- @within nn: modules
-- @aka nn.Module.train
local TRAIN = args.schema("nn.Module:train", {{"mode", true, "boolean"}})
function Module:train(...)
  local mode = TRAIN:parse(...)
  for _, m in ipairs(self:modules()) do rawset(m, "training", mode) end
  return self
end

--- Evaluation mode, the same as model:train(false); returns the module.
-- @function Module:eval
-- @usage model:eval()
-- @within nn: modules
-- @aka nn.Module.eval
function Module:eval()
  return self:train(false)
end

--- For inference loops: while on and gradient recording is off, built-in layers
-- write their output into a buffer they keep, so a model called every frame on
-- same-shaped input allocates nothing. The tensor a layer returns is overwritten
-- by its next call; clone what must last.
-- @function Module:reuse_buffers
-- @usage model:reuse_buffers([on = true])
-- @within nn: modules
-- @aka nn.Module.reuse_buffers

-- model:reuse_buffers([on = true]): for inference loops. While on, and while
-- gradient recording is off, a layer whose op can write into a given tensor
-- writes its output into a buffer it keeps (made again only when the input's
-- shape or dtype changes), so a model called every frame on same-shaped
-- input allocates nothing for those layers. The price: the tensor such a
-- layer returns is overwritten by its next call; copy (clone) what must
-- outlive the frame. With recording on, layers behave as usual.
--
-- Covered: nn.Linear, nn.Tanh, nn.ReLU, nn.Sigmoid, nn.GELU, nn.SiLU,
-- nn.Softplus, nn.Hardtanh, nn.Softmax and nn.LogSoftmax, whose ops have an
-- out= form (lucid.linear, lucid.tanh, lucid.relu, ..., lucid.clamp for
-- Hardtanh's values); nn.LeakyReLU and nn.ELU, which compose out= forms and
-- in-place ops over a second buffer ("_out2"); nn.Conv2d on a batch with
-- symmetric zero padding (core's lc_conv2d_out, its buffer kept by the layer
-- itself, since its shape is not the input's); nn.MaxPool2d and
-- nn.AdaptiveMaxPool2d without return_indices, nn.AvgPool2d,
-- nn.AdaptiveAvgPool2d, their 1-d forms on a batch, nn.BatchNorm1d and
-- nn.BatchNorm2d in eval mode with running statistics, nn.LayerNorm,
-- nn.GroupNorm, nn.InstanceNorm2d on a batch (unless training updates running
-- statistics), nn.Conv1d on a batch with symmetric zero padding, and
-- nn.ConvTranspose1d and nn.ConvTranspose2d on a batch without output_size:
-- these keep their first call's result as the buffer (Module:_keep below) and
-- write into it through the core's out= forms (lc_max_pool2d_out,
-- lc_avg_pool2d_out, lc_batch_norm_out, lc_layer_norm_out, lc_group_norm_out,
-- lc_conv2d_out and lc_conv_transpose2d_out, over 4-d views for the 1-d
-- layers); and nn.RNNCell, nn.LSTMCell and nn.GRUCell, and nn.RNN, nn.LSTM
-- and nn.GRU (not packed, no dropout drawn between layers), batched or not,
-- whose steps go into kept buffers (lc_rnn_cell_out, lc_rnn_layer_out, per
-- layer and direction; a bidirectional layer's two outputs copied into the
-- halves of one kept buffer) that the next call may read back as its state;
-- nn.MultiheadAttention not dropping out, with at most one mask and without
-- add_bias_kv and add_zero_attn, whose projections, scores (lc_matmul_out,
-- then lc_masked_softmax_out in place, which are the per-head weights; the
-- averaged ones one more lc_matmul_out), heads and output go into kept
-- buffers (self._attn, with the views of them it reads);
-- nn.TransformerEncoderLayer, nn.TransformerDecoderLayer and the
-- nn.TransformerEncoder, nn.TransformerDecoder and nn.Transformer made of
-- them, with the "relu" or "gelu" activation, which apply it in place on
-- linear1's buffer and add each residual into the sublayer's result; and
-- nn.Embedding given a tensor of indices (lc_index_select_out into its kept
-- result). nn.Identity and nn.Dropout in eval mode return their input;
-- nn.Flatten and nn.Unflatten keep the view they made of the last input
-- tensor (Module:_view_for), which inside such a model is the previous
-- layer's buffer. Every other layer or case (packed recurrent input,
-- attention with two masks, a transformer layer's activation given as a
-- function, Bilinear, the losses) allocates its output as usual, as does any
-- layer given integer input or an input the cases above leave out. A layer of
-- your own joins in through Module:_buffer, Module:_kept and _keep, or
-- Module:_view_for and _keep_view (below), the mechanisms all of these use.
local REUSE = args.schema("nn.Module:reuse_buffers", {{"on", true, "boolean"}})
function Module:reuse_buffers(...)
  local on = REUSE:parse(...)
  for _, m in ipairs(self:modules()) do
    rawset(m, "_reuse", on or nil)
    if not on then
      rawset(m, "_out", nil)
      rawset(m, "_out2", nil)
      rawset(m, "_out_key", nil)
      rawset(m, "_rnn_buffers", nil)
      rawset(m, "_attn", nil)
      rawset(m, "_view_in", nil)
    end
  end
  return self
end

--- A compiled form of the model for inference loops: its forward traced once
-- for inputs shaped like the examples, then replayed by the core in one C call
-- per call (no Lua dispatch, nothing allocated), with the same results. Call it
-- like the model under lucid.no_grad (with gradient recording on and
-- parameters that require grad it runs the model itself, so training works).
-- Inputs of other shapes are traced again; the results are the plan's own
-- buffers, overwritten by the next call. See README "Compiled models".
-- @function Module:compile
-- @usage local fast = model:compile(example_input [, more inputs...])
-- @within nn: modules
-- @aka nn.Module.compile
function Module:compile(...)
  return require("lucid.nn._compile").compile(self, ...)
end

local is_grad_enabled, fits, empty, is_tensor = C.is_grad_enabled, C._fits, C.empty, C.is_tensor

-- self:_buffer(x [, last [, key]]): the output buffer for an op that writes a
-- tensor of x's shape (its last size replaced by `last` when given) and
-- dtype, or nil when this module is not reusing buffers (reuse_buffers off,
-- or recording on) or x is not a float tensor (the out= forms take floats):
-- pass the result as the op's `out`. key "_out2" is a second buffer, for a
-- layer that needs a scratch tensor as well (LeakyReLU, ELU). Hot paths
-- guard the call with rawget(self, "_reuse") so that the common case pays
-- one lookup.
function Module:_buffer(x, last, key)
  if not rawget(self, "_reuse") or is_grad_enabled() then return nil end
  key = key or "_out"
  local out = rawget(self, key)
  if not fits(out, x, last) then
    -- a cached buffer is a float one, so an integer x always lands here
    local dtype = x.dtype
    if dtype ~= "float32" and dtype ~= "float64" then return nil end
    local shape = x.shape
    if last then shape[#shape] = last end
    out = empty(shape, {dtype = dtype})
    rawset(self, key, out)
  end
  return out
end

-- For a layer whose output shape is not its input's (pooling): the first
-- call under reuse_buffers computes as usual and hands its result to
-- self:_keep(x, y), which keeps it, with x's shape and dtype, as the buffer;
-- later calls ask self:_kept(x) for it (nil when not reusing buffers, when
-- recording, or when x differs in shape or dtype from the kept input) and
-- write into it through the op's out= form.
function Module:_kept(x)
  if not rawget(self, "_reuse") or is_grad_enabled() then return nil end
  local key = rawget(self, "_out_key")
  if key == nil or not is_tensor(x) or key.dtype ~= x.dtype or key.n ~= x.ndim then return nil end
  for d = 1, key.n do
    if key[d] ~= x:size(d) then return nil end
  end
  return rawget(self, "_out")
end

-- For a layer that returns a view of its input (Flatten, Unflatten): a view
-- is a new tensor object, so a frame that makes one allocates; but inside a
-- model reusing its buffers the input is the previous layer's buffer, the
-- same tensor every call. self:_view_for(x) gives the view made of that very
-- tensor last time (nil when not reusing buffers, when recording, or for
-- another tensor), self:_keep_view(x, y) records it and returns y.
function Module:_view_for(x)
  if not rawget(self, "_reuse") or is_grad_enabled() or not rawequal(rawget(self, "_view_in"), x) then
    return nil
  end
  return rawget(self, "_out")
end

function Module:_keep_view(x, y)
  if rawget(self, "_reuse") and not is_grad_enabled() then
    rawset(self, "_view_in", x)
    rawset(self, "_out", y)
  end
  return y
end

function Module:_keep(x, y)
  if rawget(self, "_reuse") and not is_grad_enabled() and is_tensor(y) and not y.requires_grad then
    local key = {dtype = x.dtype, n = x.ndim}
    for d = 1, key.n do key[d] = x:size(d) end
    rawset(self, "_out_key", key)
    rawset(self, "_out", y)
  end
  return y
end

--- Calls fn(m) on every submodule, children first (each child's own
-- submodules before it), then on the module itself, as PyTorch's apply;
-- returns the module. The usual use: initialising weights.
-- @function Module:apply
-- @usage model:apply(function(m) if m.__name == "Linear" then nn.init.zeros_(m.bias) end end)
-- @within nn: modules
-- @aka nn.Module.apply
local APPLY = args.schema("nn.Module:apply", {{"fn", args.REQUIRED, "callable"}})
local function apply(m, fn)
  for _, child in ipairs(m:children()) do apply(child, fn) end
  fn(m)
end
function Module:apply(...)
  local fn = APPLY:parse(...)
  apply(self, fn)
  return self
end

--- Sets requires_grad on every parameter (freezing them with false, or
-- unfreezing); returns the module.
-- @function Module:requires_grad_
-- @usage model:requires_grad_([requires_grad = true])
-- @within nn: modules
-- @aka nn.Module.requires_grad_
local REQUIRES_GRAD = args.schema("nn.Module:requires_grad_", {{"requires_grad", true, "boolean"}})
function Module:requires_grad_(...)
  local on = REQUIRES_GRAD:parse(...)
  for _, p in ipairs(self:parameters()) do p:requires_grad_(on) end
  return self
end

-- A name for a message: long ones cut short, so that a message stays readable.
local function q(name)
  if #name > 80 then name = name:sub(1, 77) .. "..." end
  return "'" .. name .. "'"
end

-- The submodule at a dotted path ("" is the module itself), or an error
-- naming the method, the module and the part that is missing.
-- (full: the whole path asked for, when target is a part of it).
local function submodule(self, target, method, full)
  full = full or target
  if target == "" then return self end
  local mod = self
  for item in (target .. "."):gmatch("([^.]*)%.") do
    local child = mod._modules[item]
    if child == nil then
      local what = (mod._parameters[item] or mod._buffers[item] or rawget(mod, item) ~= nil)
        and "is not an nn.Module" or nil
      if what then raise(string.format("%s:%s: %s %s (in %s)", self.__name, method, q(item), what, q(full))) end
      raise(string.format("%s:%s: %s has no submodule %s (in %s)", self.__name, method, mod.__name, q(item),
        q(full)))
    end
    mod = child
  end
  return mod
end

local function path_check(fname)
  return args.schema(fname, {{"target", args.REQUIRED, "string"}})
end
local GET_SUBMODULE = path_check("nn.Module:get_submodule")
local GET_PARAMETER = path_check("nn.Module:get_parameter")
local GET_BUFFER = path_check("nn.Module:get_buffer")

--- The submodule at a dotted path, named as in named_modules() and the state
-- dict's keys ("fc1", "encoder.layers.1"; "" is the module itself). An error
-- names the part that is missing.
-- @function Module:get_submodule
-- @usage model:get_submodule(target)  as model:get_submodule("1")
-- @within nn: modules
-- @aka nn.Module.get_submodule
function Module:get_submodule(...)
  return submodule(self, GET_SUBMODULE:parse(...), "get_submodule")
end

-- The module and the last name of a dotted path "a.b.name".
local function split_path(self, target, method)
  local path, name = target:match("^(.*)%.([^.]*)$")
  if not path then path, name = "", target end
  return submodule(self, path, method, target), name
end

--- The parameter at a dotted path, the state dict's key of it ("fc1.weight",
-- "1.bias"). An error names the part that is missing, or says that it is not
-- a parameter.
-- @function Module:get_parameter
-- @usage model:get_parameter(target)  as model:get_parameter("1.weight")
-- @within nn: modules
-- @aka nn.Module.get_parameter
function Module:get_parameter(...)
  local target = GET_PARAMETER:parse(...)
  local mod, name = split_path(self, target, "get_parameter")
  local p = mod._parameters[name]
  if p == nil then
    if mod._modules[name] or mod._buffers[name] or rawget(mod, name) ~= nil then
      raise(string.format("%s:get_parameter: %s is not a parameter (in %s)", self.__name, q(name), q(target)))
    end
    raise(string.format("%s:get_parameter: %s has no parameter %s (in %s)", self.__name, mod.__name, q(name),
      q(target)))
  end
  return p
end

--- The buffer at a dotted path, its state dict key ("bn.running_mean"). An
-- error names the part that is missing, or says that it is not a buffer.
-- @function Module:get_buffer
-- @usage model:get_buffer(target)  as model:get_buffer("2.running_var")
-- @within nn: modules
-- @aka nn.Module.get_buffer
function Module:get_buffer(...)
  local target = GET_BUFFER:parse(...)
  local mod, name = split_path(self, target, "get_buffer")
  local b = mod._buffers[name]
  if b == nil then
    if mod._modules[name] or mod._parameters[name] or rawget(mod, name) ~= nil then
      raise(string.format("%s:get_buffer: %s is not a buffer (in %s)", self.__name, q(name), q(target)))
    end
    raise(string.format("%s:get_buffer: %s has no buffer %s (in %s)", self.__name, mod.__name, q(name),
      q(target)))
  end
  return b
end

-- Module:to's dtypes: PyTorch's names and aliases; the integer ones are
-- refused, as PyTorch's nn.Module.to refuses them.
local FLOAT_DTYPE = {float32 = "float32", float = "float32", float64 = "float64", double = "float64"}
local OTHER_DTYPE = {int64 = true, long = true, int32 = true, int = true, uint8 = true, bool = true}

local function check_dtype(v, name)
  if C.is_tensor(v) then v = v.dtype end
  if type(v) ~= "string" then return name .. " must be a dtype name or a tensor, got " .. args.describe(v) end
  if FLOAT_DTYPE[v] then return nil, FLOAT_DTYPE[v] end
  if OTHER_DTYPE[v] then
    return "only floating point dtypes are accepted (float32, float64), but got desired dtype=" .. v
  end
  return "unknown dtype '" .. v .. "' (expected \"float32\" or \"float64\")"
end
local TO = args.schema("nn.Module:to", {{"dtype", args.REQUIRED, check_dtype},
  unsupported = {"device", "non_blocking", "memory_format"}})
local NO_ARGS = {double = args.schema("nn.Module:double", {}), float = args.schema("nn.Module:float", {})}

local FLOATS = {float32 = true, float64 = true}

-- Converts every float parameter and buffer of the module and all below it
-- to dtype, as PyTorch's Module._apply: a parameter keeps its identity
-- (lucid.core._set_data, PyTorch's `param.data = ...`), with its gradient
-- converted too; a buffer is replaced by its converted copy. Everything is
-- converted first and swapped in after, so a failure (out of memory) leaves
-- the module as it was.
local function cast(self, dtype)
  local params, buffers, done, converted = {}, {}, {}, {}
  local function convert()
    for _, m in ipairs(self:modules()) do
      for _, name in ipairs(m._param_names) do
        local p = m._parameters[name]
        if not done[p] and FLOATS[p.dtype] and p.dtype ~= dtype then
          local g = p.grad
          done[p] = true
          params[#params + 1] = {p, p:to(dtype), g and FLOATS[g.dtype] and g:to(dtype) or g}
        end
      end
      for _, name in ipairs(m._buffer_names) do
        local b = m._buffers[name]
        if FLOATS[b.dtype] and b.dtype ~= dtype then
          converted[b] = converted[b] or b:to(dtype)   -- a buffer two modules share stays shared
          buffers[#buffers + 1] = {m, name, converted[b]}
        end
      end
    end
  end
  local prev = C.set_grad_enabled(false)
  local ok, err = pcall(convert)
  C.set_grad_enabled(prev)
  if not ok then error(err, 0) end
  for _, e in ipairs(params) do C._set_data(e[1], e[2], e[3]) end
  for _, e in ipairs(buffers) do e[1]._buffers[e[2]] = e[3] end
  return self
end

--- Converts every floating point parameter and buffer, in place on the module
-- (and all below it), to dtype ("float32" or "float64", or a tensor's dtype),
-- and returns the module; integer and bool ones (BatchNorm1d's
-- num_batches_tracked) are left alone, and integer dtypes are refused, as
-- PyTorch's nn.Module.to does. Parameters stay the same tensor objects
-- (their values and gradients change dtype), so an optimizer made before
-- keeps working, as in PyTorch; buffers are replaced by converted tensors
-- (read them again through the module).
-- @function Module:to
-- @usage model:to(dtype)  as model:to("float64")
-- @within nn: modules
-- @aka nn.Module.to
function Module:to(...)
  return cast(self, TO:parse(...))
end

--- model:to("float64"): every floating point parameter and buffer to float64;
-- returns the module.
-- @function Module:double
-- @usage model:double()
-- @within nn: modules
-- @aka nn.Module.double
function Module:double(...)
  NO_ARGS.double:parse(...)
  return cast(self, "float64")
end

--- model:to("float32"): every floating point parameter and buffer to float32;
-- returns the module.
-- @function Module:float
-- @usage model:float()
-- @within nn: modules
-- @aka nn.Module.float
function Module:float(...)
  NO_ARGS.float:parse(...)
  return cast(self, "float32")
end

--- Sets every parameter's gradient to nil, as PyTorch's default.
-- @function Module:zero_grad
-- @usage model:zero_grad()
-- @within nn: modules
-- @aka nn.Module.zero_grad

-- Drops every parameter's gradient (sets it to nil, as PyTorch does).
function Module:zero_grad()
  for _, p in ipairs(self:parameters()) do p.grad = nil end
end

--- A table name -> tensor of every parameter and buffer, sharing storage with
-- them; lucid.save writes it to a file.
-- @function Module:state_dict
-- @usage model:state_dict()
-- @within nn: modules
-- @aka nn.Module.state_dict

-- A table name -> tensor (sharing storage with the parameters and buffers).
function Module:state_dict()
  local sd = {}
  for _, e in ipairs(named_list(self, "_parameters", "_param_names")) do sd[e[1]] = e[2]:detach() end
  for _, e in ipairs(named_list(self, "_buffers", "_buffer_names")) do sd[e[1]] = e[2]:detach() end
  return sd
end

-- name with every number in it (a child of a Sequential or ModuleList, the
-- only modules named by numbers) one less: PyTorch's name of a parameter.
local function zero_based(name)
  local parts = {}
  for part in name:gmatch("[^.]+") do
    parts[#parts + 1] = part:match("^%d+$") and tostring(tonumber(part) - 1) or part
  end
  return table.concat(parts, ".")
end

--- Copies the values of a state dict in. Names and shapes must match: a missing
-- or unexpected name (with strict) or a wrong shape is an error naming them.
-- Returns {missing_keys =, unexpected_keys =}. PyTorch's names of Sequential and
-- ModuleList children count from 0 ("0.weight"), this library's from 1: a state
-- dict matching more names in PyTorch's numbering is read in it.
-- @function Module:load_state_dict
-- @usage model:load_state_dict(sd [, strict = true])
-- @within nn: modules
-- @aka nn.Module.load_state_dict

-- Copies values in. Names and shapes must match (strict, the default), else
-- an error names every missing or unexpected key, or the first wrong shape.
-- strict is positional only, and any value but false and nil means true:
-- model:load_state_dict(lucid.load(path)) passes load's metadata table there.
function Module:load_state_dict(sd, strict)
  if type(sd) ~= "table" then
    raise(self.__name .. ":load_state_dict: expected a table name -> tensor, got " .. type(sd))
  end
  if strict == nil then strict = true end
  local targets = named_list(self, "_parameters", "_param_names")
  for _, e in ipairs(named_list(self, "_buffers", "_buffer_names")) do targets[#targets + 1] = e end
  -- PyTorch counts the children of Sequential and ModuleList from 0 ("0.weight",
  -- "layers.0.linear1.weight"), this library from 1: a state dict whose keys
  -- match more names in PyTorch's numbering is read in it, so PyTorch's
  -- checkpoints load unchanged (and this library's own, 1-based, as they are)
  local ours, theirs = 0, 0
  for _, e in ipairs(targets) do
    e[3] = zero_based(e[1])
    if sd[e[1]] ~= nil then ours = ours + 1 end
    if sd[e[3]] ~= nil then theirs = theirs + 1 end
  end
  local key = theirs > ours and 3 or 1
  local missing, known = {}, {}
  for _, e in ipairs(targets) do
    local name, dst = e[key], e[2]
    known[name] = true
    local src = sd[name]
    if src == nil then
      missing[#missing + 1] = '"' .. name .. '"'
    elseif not C.is_tensor(src) then
      raise(string.format('%s:load_state_dict: "%s" is a %s, expected a tensor', self.__name, name, type(src)))
    elseif shape_str(src) ~= shape_str(dst) then
      raise(string.format('%s:load_state_dict: shape mismatch for "%s": the module has %s, the state dict %s',
        self.__name, name, shape_str(dst), shape_str(src)))
    end
  end
  local unexpected = {}
  for k in pairs(sd) do
    if not known[k] then unexpected[#unexpected + 1] = '"' .. tostring(k) .. '"' end
  end
  table.sort(unexpected)
  if strict and (#missing > 0 or #unexpected > 0) then
    -- a large model (nn.Transformer has hundreds of tensors): the first few names
    local list = args.name_list
    local parts = {}
    if #missing > 0 then parts[#parts + 1] = "missing keys " .. list(missing) end
    if #unexpected > 0 then parts[#parts + 1] = "unexpected keys " .. list(unexpected) end
    raise(self.__name .. ":load_state_dict: " .. table.concat(parts, "; "))
  end
  local result = {missing_keys = missing, unexpected_keys = unexpected}
  local function copy_all()
    for _, e in ipairs(targets) do
      local src = sd[e[key]]
      if src ~= nil then e[2]:copy_(src) end
    end
  end
  -- everything that can fail to allocate is made before recording is turned off
  local prev = C.set_grad_enabled(false)
  local ok, err = pcall(copy_all)
  C.set_grad_enabled(prev)
  if not ok then error(err, 0) end
  return result
end

--- The settings shown inside the parentheses when the module prints, such as
-- "in_features=3, out_features=2, bias=true"; override it in your layers.
-- @function Module:extra_repr
-- @usage function Cls:extra_repr() return "..." end
-- @within nn: modules
-- @aka nn.Module.extra_repr

-- One line of settings shown inside the parentheses; layers override it.
function Module:extra_repr()
  return ""
end

local function indent(s, n)
  return (s:gsub("\n", "\n" .. string.rep(" ", n)))
end

function Module:__repr()
  local extra = self:extra_repr()
  local lines = {}
  if extra ~= "" then
    for l in (extra .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = l end
  end
  local nextra = #lines
  for _, name in ipairs(self._module_names) do
    lines[#lines + 1] = "(" .. name .. "): " .. indent(self._modules[name]:__repr(), 2)
  end
  local s = self.__name .. "("
  if #lines > 0 then
    if nextra == 1 and #lines == 1 then s = s .. lines[1]
    else s = s .. "\n  " .. table.concat(lines, "\n  ") .. "\n" end
  end
  return s .. ")"
end

return Module
