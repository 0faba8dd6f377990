--- Part of lucid.optim; help() and `make doc` read these comments.
-- @module lucid.optim

-- optim.Optimizer: the base class of the optimizers (PyTorch 1.13 semantics).
--
--   local SGD = Optimizer:extend("SGD", {          -- options in PyTorch's order
--     {"lr", Optimizer.required, "nonneg"},
--     {"momentum", 0, "nonneg"},
--     {"maximize", false, "boolean", keyword = true},  -- not positional
--   })
--   function SGD:update(p, grad, group, state) ... end  -- one parameter's step
--
-- An instance has `param_groups` (an array of tables: `params` plus every
-- option, which schedulers and users may change between steps), `state`
-- (a table parameter -> its per-parameter state) and `defaults`. The base does
-- the argument checking, the loop over parameters with a gradient, and the
-- state dict; a subclass only says how one parameter moves.
local args = require("lucid._args")
local raise, shape_str = args.raise, args.shape_str
local lucid = require("lucid")
local C = require("lucid.core")
local compat = require("lucid._compat")

--- The base class of the optimizers; instances have param_groups (lr and the
-- other options, changeable between steps), state, step(), zero_grad(),
-- add_param_group(g), state_dict() and load_state_dict(sd).
-- @function Optimizer
-- @usage optim.Optimizer:extend(name, options)
-- @within optim: optimizers
-- @aka optim.Optimizer.extend optim.Optimizer:extend
local Optimizer = {}

-- Group keys that are not options: params, and what PyTorch's schedulers add
-- (initial_lr; OneCycleLR's max_lr, min_lr, max_momentum, base_momentum).
local SCHEDULER_KEYS = {params = true, initial_lr = true, max_lr = true, min_lr = true, max_momentum = true,
  base_momentum = true}
Optimizer.__name = "Optimizer"
Optimizer.__index = Optimizer
Optimizer.options = {}

--- Marks an option without a default (SGD's lr).
-- @function Optimizer.required
-- @usage optim.Optimizer.required
-- @within optim: optimizers
Optimizer.required = args.REQUIRED

-- pairs() in a fixed order (numbers first, then by text), so that the first
-- problem reported does not change from run to run.
local function sorted_pairs(t)
  local keys = args.sorted_keys(t)
  local i = 0
  return function()
    i = i + 1
    if keys[i] ~= nil then return keys[i], t[keys[i]] end
  end
end
--- pairs in a stable order (numbers, then strings, sorted), for subclasses
-- that print or save their state.
-- @function Optimizer.sorted_pairs
-- @usage for k, v in optim.Optimizer.sorted_pairs(t) do ... end
-- @within optim: optimizers
Optimizer.sorted_pairs = sorted_pairs

-- A value for a message: arrays as {a, b, ...} (cycles shown as "{...}",
-- at most 3 levels deep and 8 items a level), others by tostring.
local function fmt_in(v, seen, depth)
  if type(v) == "table" and not C.is_tensor(v) then
    if seen[v] or depth >= 3 then return "{...}" end
    seen[v] = true
    local parts = {}
    for i = 1, 9 do
      local e = rawget(v, i)
      if e == nil then break end
      parts[i] = i == 9 and "..." or fmt_in(e, seen, depth + 1)
    end
    seen[v] = nil
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return tostring(v)
end
local function fmt(v) return fmt_in(v, {}, 0) end
--- An option's value as the messages and printing show it (numbers
-- shortest-exact, tables in braces).
-- @function Optimizer.fmt
-- @usage optim.Optimizer.fmt(v)
-- @within optim: optimizers
Optimizer.fmt = fmt

-- Value checks by kind: each returns nil when fine, else what is wrong.
local checks = {}
function checks.number(v, name)
  if type(v) ~= "number" then return name .. " must be a number, got " .. type(v) end
end
function checks.nonneg(v, name)
  if type(v) ~= "number" then return name .. " must be a number, got " .. type(v) end
  if not (v >= 0) then  -- also refuses NaN
    return string.format("invalid %s: %s (expected %s >= 0)", name, fmt(v), name)
  end
end
function checks.boolean(v, name)
  if type(v) ~= "boolean" then return name .. " must be a boolean, got " .. type(v) end
end
function checks.betas(v, name)
  if type(v) ~= "table" or C.is_tensor(v) or #v ~= 2 then
    return name .. " must be a table of two numbers, got " .. fmt(v)
  end
  for i = 1, 2 do
    local b = v[i]
    if type(b) ~= "number" then return string.format("beta %d must be a number, got %s", i, type(b)) end
    if not (b >= 0 and b < 1) then
      return string.format("invalid beta %d: %s (expected 0 <= beta < 1)", i, fmt(b))
    end
  end
end
Optimizer.checks = checks

-- Copies tables (betas) so that groups, defaults and state dicts share nothing.
local function copy(v)
  if type(v) == "table" and not C.is_tensor(v) then
    local t = {}
    for k, e in pairs(v) do t[k] = copy(e) end
    return t
  end
  return v
end

-- cls(params, ...): parses options, then adds the groups.
local function construct(cls, params, ...)
  local schema = cls.schema
  local what = schema.name
  local self = setmetatable({param_groups = {}, state = {}}, cls)
  local given = schema:given(...)
  local defaults = {}
  for _, p in ipairs(schema.params) do
    local v = given[p.name]
    if v == nil then v = p.default else v = schema:check_value(p.name, v) end
    defaults[p.name] = v == args.REQUIRED and v or copy(v)
  end
  self.defaults = defaults

  if type(params) ~= "table" or C.is_tensor(params) then
    raise(string.format("%s: params must be an array of tensors or of parameter groups, got %s",
      what, C.is_tensor(params) and "a single tensor (wrap it: {t})" or type(params)))
  end
  if #params == 0 then raise(what .. ": got an empty parameter list") end
  if C.is_tensor(params[1]) then
    self:_add_group({params = params}, "")  -- plain array: no group to name in errors
  else
    for i, g in ipairs(params) do
      if type(g) ~= "table" or C.is_tensor(g) then
        raise(string.format("%s: params[%d] is a %s, expected a parameter group (a table with params)",
          what, i, C.is_tensor(g) and "tensor" or type(g)))
      end
      self:_add_group(g, string.format("parameter group %d: ", i))
    end
  end
  return self
end

-- PyTorch's options that no optimizer here has (implementation switches).
local UNSUPPORTED = {"foreach", "capturable", "differentiable", "fused"}

-- Optimizer:extend(name, options): a subclass whose options are `options`
-- (or the parent's): {name, default, check [, keyword = true]} in PyTorch's
-- order (Optimizer.required: no default; check: a name in Optimizer.checks or
-- lucid._args's checks, or a function). Class.schema is their lucid._args
-- schema; Class.super is the parent.
function Optimizer.extend(parent, name, options)
  options = options or parent.options
  local entries = {unsupported = options.unsupported or UNSUPPORTED}
  for i, o in ipairs(options) do
    entries[i] = {o[1], o[2], checks[o[3]] or o[3], keyword = o.keyword}
  end
  local cls = {__name = name, super = parent, options = options,
    schema = args.schema("optim." .. name, entries)}
  cls.__index = cls
  cls.__tostring = parent.__tostring
  return setmetatable(cls, {
    __index = parent,
    __call = construct,
    __tostring = function() return "class optim." .. name end,
  })
end

--- Adds parameters with their own options (the others from the defaults).
-- @function Optimizer:add_param_group
-- @usage opt:add_param_group({params = {...}, lr = ...})
-- @within optim: optimizers
-- @aka optim.Optimizer.add_param_group

-- opt:add_param_group{params = {...}, lr = ...}: missing options take the
-- optimizer's defaults. The table given is not changed (it is copied).
function Optimizer:add_param_group(group)
  return self:_add_group(group, string.format("parameter group %d: ", #self.param_groups + 1))
end

-- `where` ("parameter group 2: " or "") prefixes the problems found.
function Optimizer:_add_group(group, where)
  local what = "optim." .. self.__name
  if type(group) ~= "table" or C.is_tensor(group) then
    raise(string.format("%s: a parameter group must be a table with params, got %s", what,
      C.is_tensor(group) and "a tensor" or type(group)))
  end
  local ps = group.params
  if C.is_tensor(ps) then ps = {ps} end
  if type(ps) ~= "table" then
    raise(string.format("%s: %sparams must be an array of tensors, got %s", what, where, type(ps)))
  end
  self.schema:check_names(group, where, SCHEDULER_KEYS)
  local g = {params = {}}
  for k, v in sorted_pairs(group) do
    if k ~= "params" then g[k] = self.schema:check_value(k, copy(v), where) end
  end

  local seen = {}
  for _, other in ipairs(self.param_groups) do
    for _, p in ipairs(other.params) do seen[p] = "another parameter group" end
  end
  local n = #ps
  if n == 0 then raise(what .. ": " .. where .. "empty parameter list") end
  for i = 1, n do
    local p = ps[i]
    if not C.is_tensor(p) then
      raise(string.format("%s: %sparams[%d] is a %s, expected a tensor", what, where, i, type(p)))
    end
    if not p.is_leaf then
      raise(string.format("%s: %sparams[%d] is not a leaf tensor (only leaves can be optimized)",
        what, where, i))
    end
    if seen[p] then
      raise(string.format("%s: %sparams[%d] appears twice (also in %s)", what, where, i, seen[p]))
    end
    seen[p] = "this group"
    g.params[i] = p
  end

  for _, o in ipairs(self.options) do
    if g[o[1]] == nil then
      if self.defaults[o[1]] == Optimizer.required then
        raise(string.format("%s: %s%s is required", what, where, o[1]))
      end
      g[o[1]] = copy(self.defaults[o[1]])
    end
  end
  local problem = self:check_group(g)
  if problem then raise(what .. ": " .. where .. problem) end
  table.insert(self.param_groups, g)
  for _, p in ipairs(g.params) do
    if self.state[p] == nil then
      self.state[p] = {}
      self:init_state(p, g, self.state[p])
    end
  end
end

function Optimizer:_knows(name)
  for _, o in ipairs(self.options) do
    if o[1] == name then return true end
  end
  return false
end

--- A hook for subclasses: checks a param group's options together; returns
-- what is wrong as a string, or nil.
-- @function Optimizer:check_group
-- @usage function MyOpt:check_group(group) ... end
-- @within optim: optimizers

-- Hooks for subclasses: a check across options (returns what is wrong, or
-- nil), and eager state set-up (PyTorch's Adagrad fills its state at once).
function Optimizer:check_group() return nil end
--- A hook for subclasses: sets up a parameter's state when the optimizer is
-- made (PyTorch's Adagrad fills its sums at once); by default the state starts
-- empty and update fills it.
-- @function Optimizer:init_state
-- @usage function MyOpt:init_state(p, group, state) ... end
-- @within optim: optimizers
function Optimizer:init_state() end

--- The one method a subclass defines: moves parameter p by its gradient grad
-- (p.grad), with the group's options and p's state table; step() calls it under
-- no_grad for every parameter that has a gradient.
-- @function Optimizer:update
-- @usage function MyOpt:update(p, grad, group, state) ... end
-- @within optim: optimizers

-- One parameter's update; `grad` is p.grad, `state` its state table.
function Optimizer:update()
  raise("optim." .. self.__name .. ": update is not implemented")
end

--- Updates every parameter that has a gradient, by the optimizer's rule.
-- @function Optimizer:step
-- @usage opt:step()
-- @within optim: optimizers
-- @aka optim.Optimizer.step

-- opt:step([closure]): one update of every parameter that has a gradient
-- (others are skipped, as in PyTorch). A closure re-evaluates the loss with
-- gradients on and its result is returned.
function Optimizer:step(closure)
  local loss
  if closure ~= nil then
    local mt = getmetatable(closure)
    if type(closure) ~= "function" and not (type(mt) == "table" and rawget(mt, "__call") ~= nil) then
      raise(string.format("optim.%s:step: closure must be a function (or nil), got %s",
        tostring(self.__name), type(closure)))
    end
    loss = lucid.enable_grad(closure)
  end
  -- updates write into the parameters: recording must be off for that
  -- a function, not a <close> guard: the library runs on Lua before 5.4 too
  return lucid.no_grad(function()
    for _, group in ipairs(self.param_groups) do
      for _, p in ipairs(group.params) do
        local grad = p.grad
        if grad ~= nil then
          local state = self.state[p]
          if state == nil then state = {} self.state[p] = state end
          self:update(p, grad, group, state)
        end
      end
    end
    return loss
  end)
end

-- opt:zero_grad([set_to_none = true]): drops the gradients (or, with false,
-- fills them with zeros).
local ZERO_GRAD = args.schema("optim.Optimizer:zero_grad", {
  {"set_to_none", true, "boolean"},
})

--- Sets the parameters' gradients to nil (or to zeros with false), before the
-- next backward.
-- @function Optimizer:zero_grad
-- @usage opt:zero_grad([set_to_none = true])
-- @within optim: optimizers
-- @aka optim.Optimizer.zero_grad
function Optimizer:zero_grad(...)
  local set_to_none = ZERO_GRAD:parse(...)
  for _, group in ipairs(self.param_groups) do
    for _, p in ipairs(group.params) do
      if set_to_none == false then
        local g = p.grad
        if g ~= nil then lucid.no_grad(g.fill_, g, 0) end
      else
        p.grad = nil
      end
    end
  end
end

--- The optimizer's state and options as a table (parameters by their 1-based
-- index), to save and restore; loading checks counts, shapes and options and
-- changes nothing on a mismatch.
-- @function Optimizer:state_dict
-- @usage opt:state_dict(),  opt:load_state_dict(sd)
-- @within optim: optimizers
-- @also optim.Optimizer:load_state_dict
-- @aka optim.Optimizer.state_dict optim.Optimizer.load_state_dict

-- {state = {[i] = {step = n, exp_avg = T, ...}}, param_groups = {{lr = ...,
-- params = {1, 2, ...}}}}: parameters are named by their 1-based position
-- across the groups. Everything is a copy: later steps do not change it.
function Optimizer:state_dict()
  local state, groups, n = {}, {}, 0
  for gi, group in ipairs(self.param_groups) do
    local g = {params = {}}
    for k, v in pairs(group) do
      if k ~= "params" then g[k] = copy(v) end
    end
    for _, p in ipairs(group.params) do
      n = n + 1
      g.params[#g.params + 1] = n
      local s = self.state[p]
      if s and next(s) then
        local saved = {}
        for k, v in pairs(s) do saved[k] = C.is_tensor(v) and v:clone() or copy(v) end
        state[n] = saved
      end
    end
    groups[gi] = g
  end
  return {state = state, param_groups = groups}
end

-- Loads a table made by state_dict(): group hyperparameters are replaced,
-- state tensors copied (into the parameter's dtype). Counts and shapes are
-- checked before anything changes.
function Optimizer:load_state_dict(sd)
  local what = "optim." .. self.__name .. ":load_state_dict"
  if type(sd) ~= "table" or type(sd.param_groups) ~= "table" or type(sd.state) ~= "table" then
    raise(what .. ": expected a table with state and param_groups (from state_dict())")
  end
  local saved_groups = sd.param_groups
  if #saved_groups ~= #self.param_groups then
    raise(string.format("%s: the state dict has %d parameter groups, the optimizer %d", what,
      #saved_groups, #self.param_groups))
  end
  local by_index = {}  -- saved index -> parameter
  for gi, group in ipairs(self.param_groups) do
    local sg = saved_groups[gi]
    if type(sg) ~= "table" or type(sg.params) ~= "table" then
      raise(string.format("%s: parameter group %d has no params", what, gi))
    end
    if #sg.params ~= #group.params then
      raise(string.format("%s: parameter group %d has %d parameters in the state dict, %d in the optimizer",
        what, gi, #sg.params, #group.params))
    end
    for i, idx in ipairs(sg.params) do by_index[compat.tointeger(tonumber(idx)) or idx] = group.params[i] end
    for k in sorted_pairs(sg) do
      if not SCHEDULER_KEYS[k] and not self:_knows(k) then
        raise(string.format("%s: parameter group %d has option '%s', which optim.%s does not have"
          .. " (a state dict of another optimizer?)", what, gi, tostring(k), self.__name))
      end
    end
    for k, v in sorted_pairs(sg) do
      if not SCHEDULER_KEYS[k] then self.schema:check_value(k, v, string.format("parameter group %d: ", gi), what) end
    end
  end

  local new_state = {}
  for k, s in sorted_pairs(sd.state) do
    local idx = compat.tointeger(tonumber(k)) or k  -- a serializer may give "3" for 3
    local p = by_index[idx]
    if p == nil then
      raise(string.format("%s: state for parameter %s, which no parameter group has", what, tostring(k)))
    end
    if type(s) ~= "table" then
      raise(string.format("%s: state of parameter %s is a %s, expected a table", what, tostring(k), type(s)))
    end
    local st = {}
    for key, v in sorted_pairs(s) do
      if C.is_tensor(v) and key == "step" and v:numel() == 1 then
        st[key] = v:item()  -- PyTorch 1.13 keeps step as a tensor
      elseif C.is_tensor(v) then
        if shape_str(v) ~= shape_str(p) then
          raise(string.format("%s: state '%s' of parameter %s has shape %s, the parameter %s", what,
            tostring(key), tostring(k), shape_str(v), shape_str(p)))
        end
        st[key] = v  -- copied below, once every check has passed
      else
        st[key] = copy(v)
      end
    end
    new_state[p] = st
  end

  -- a function, not a <close> guard: the library runs on Lua before 5.4 too
  return lucid.no_grad(function()
    for p, st in pairs(new_state) do
      for key, v in pairs(st) do
        if C.is_tensor(v) then st[key] = lucid.empty_like(p):copy_(v) end
      end
    end
    for gi, group in ipairs(self.param_groups) do
      for k, v in pairs(saved_groups[gi]) do
        if k ~= "params" then group[k] = copy(v) end
      end
    end
    self.state = {}
    for _, group in ipairs(self.param_groups) do
      for _, p in ipairs(group.params) do
        local st = new_state[p]
        if st == nil then st = {} self:init_state(p, group, st) end
        self.state[p] = st
      end
    end
  end)
end

-- Prints like PyTorch's repr: the class, then each group's options sorted.
function Optimizer:__tostring()
  local lines = {self.__name .. " ("}
  for i, group in ipairs(self.param_groups) do
    lines[#lines + 1] = "Parameter Group " .. i
    local keys = {}
    for k in pairs(group) do
      if k ~= "params" then keys[#keys + 1] = k end
    end
    table.sort(keys)
    for _, k in ipairs(keys) do lines[#lines + 1] = "    " .. k .. ": " .. fmt(group[k]) end
  end
  lines[#lines + 1] = ")"
  return table.concat(lines, "\n")
end

return Optimizer
