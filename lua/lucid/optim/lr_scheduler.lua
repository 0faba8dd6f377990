--- Learning-rate schedules that rewrite lr in the optimizer's param_groups: call
-- sched:step() once per epoch after opt:step(); sched:get_last_lr() reads it.
-- Arguments also go positionally in PyTorch's order.
-- @module lucid.optim.lr_scheduler
-- @usage optim.lr_scheduler.StepLR(opt, {step_size =, gamma = 0.1, last_epoch = -1, verbose = false})  (every schedule takes last_epoch and verbose last; also ExponentialLR(opt, {gamma =}), CosineAnnealingLR(opt, {T_max =, eta_min = 0}), LambdaLR(opt, {lr_lambda = f}))
-- @also optim.lr_scheduler.StepLR optim.lr_scheduler.ExponentialLR optim.lr_scheduler.CosineAnnealingLR optim.lr_scheduler.LambdaLR

-- optim.lr_scheduler: learning-rate schedules that rewrite `lr` in an
-- optimizer's param_groups, with PyTorch 1.13's semantics.
--
--   local sched = lr_scheduler.StepLR(opt, {step_size = 30, gamma = 0.1})
--   -- also positionally in PyTorch's order: StepLR(opt, 30, 0.1)
--   for epoch = 1, 100 do train(); sched:step() end   -- after opt:step()
--
-- Every scheduler takes `last_epoch` (-1: start; else resume, which needs
-- `initial_lr` in every group) and `verbose` last. Construction already takes
-- the first step (epoch 0), as in PyTorch. step() uses PyTorch's recursive
-- forms, which start from the groups' current lr (so changes made by others
-- compose); step(epoch) jumps to `epoch` with the closed form.
-- A new schedule: LRScheduler:extend(name, options) and a get_lr method.
local Optimizer = require("lucid.optim.Optimizer")

local args = require("lucid._args")
local compat = require("lucid._compat")
local raise, fmt = args.raise, Optimizer.fmt
local required = args.REQUIRED

local lr_scheduler = {}

local function check_int(v, name)
  if compat.math_type(v) ~= "integer" and not (type(v) == "number" and v == math.floor(v)) then
    return name .. " must be an integer, got " .. fmt(v)
  end
end
local function check_posint(v, name)
  local problem = check_int(v, name)
  if problem then return problem end
  if v <= 0 then return string.format("invalid %s: %s (expected %s > 0)", name, fmt(v), name) end
end
local function check_positive(v, name)
  if type(v) ~= "number" then return name .. " must be a number, got " .. type(v) end
  if not (v > 0) then return string.format("invalid %s: %s (expected %s > 0)", name, fmt(v), name) end
end
local callable = args.callable
local function check_lambda(v, name)
  if callable(v) then return nil end
  if type(v) == "table" and #v > 0 then
    for i, f in ipairs(v) do
      if not callable(f) then return string.format("%s[%d] must be a function, got %s", name, i, type(f)) end
    end
    return nil
  end
  return name .. " must be a function or an array of functions (one per group), got " .. type(v)
end

--- The base class of the schedules: LRScheduler:extend(name, options) makes a
-- new one, which defines get_lr() (the group's next lr from self.last_epoch and
-- self.base_lrs); step(), get_last_lr(), state_dict() and load_state_dict(sd)
-- come with it.
-- @function LRScheduler
-- @usage local MyLR = optim.lr_scheduler.LRScheduler:extend(name, options)
-- @within optim: optimizers
local LRScheduler = {}
LRScheduler.__name = "LRScheduler"
LRScheduler.__index = LRScheduler
LRScheduler.options = {}

local function construct(cls, optimizer, ...)
  local what = cls.schema.name
  if type(optimizer) ~= "table" or type(optimizer.param_groups) ~= "table"
      or #optimizer.param_groups == 0 then
    raise(string.format("%s: expected an optimizer (with param_groups), got %s", what,
      type(optimizer)))
  end
  local self = setmetatable({optimizer = optimizer}, cls)
  for k, v in pairs(cls.schema:table(...)) do self[k] = v end
  self:__init()

  local groups = optimizer.param_groups
  if self.last_epoch == -1 then
    for _, group in ipairs(groups) do
      if group.initial_lr == nil then group.initial_lr = group.lr end
    end
  else
    for i, group in ipairs(groups) do
      if group.initial_lr == nil then
        raise(string.format("%s: param_groups[%d] has no initial_lr (needed to resume at last_epoch = %s)",
          what, i, fmt(self.last_epoch)))
      end
    end
  end
  self.base_lrs = {}
  for i, group in ipairs(groups) do self.base_lrs[i] = group.initial_lr end
  self._step_count = 0
  self:step()
  return self
end

-- LRScheduler:extend(name, options): a subclass taking `options` (ordered
-- {name, default, check}; the parent's when nil) then last_epoch and verbose.
function LRScheduler.extend(parent, name, options)
  options = options or parent.own_options or {}
  local opts = {}
  for _, o in ipairs(options) do opts[#opts + 1] = o end
  opts[#opts + 1] = {"last_epoch", -1, check_int}
  opts[#opts + 1] = {"verbose", false, "boolean"}
  local cls = {__name = name, super = parent, options = opts, own_options = options,
    schema = args.schema("lr_scheduler." .. name, opts)}
  cls.__index = cls
  cls.__tostring = parent.__tostring  -- metamethods are read from the metatable itself
  return setmetatable(cls, {
    __index = parent,
    __call = construct,
    __tostring = function() return "class lr_scheduler." .. name end,
  })
end

-- Set-up after the options are read and before the first step.
function LRScheduler:__init() end

function LRScheduler:get_lr()
  raise("lr_scheduler." .. self.__name .. ": get_lr is not implemented")
end

--- sched:step([epoch]): the next epoch (or `epoch`, by the closed form).
-- @function LRScheduler:step
-- @usage optim.lr_scheduler.LRScheduler:step(epoch)
-- @within optim: optimizers
function LRScheduler:step(epoch)
  self._step_count = self._step_count + 1
  local values
  if epoch == nil then
    self.last_epoch = self.last_epoch + 1
    values = self:get_lr()
  else
    local problem = check_int(epoch, "epoch")
    if problem then raise("lr_scheduler." .. self.__name .. ":step: " .. problem) end
    self.last_epoch = epoch
    values = self.closed_form and self:closed_form() or self:get_lr()
  end
  local last = {}
  for i, group in ipairs(self.optimizer.param_groups) do
    group.lr = values[i]
    last[i] = values[i]
    if self.verbose then
      print(string.format("Adjusting learning rate of group %d to %.4e.", i, values[i]))
    end
  end
  self._last_lr = last
end

--- The lr of each group set by the last step (a new array).
-- @function LRScheduler:get_last_lr
-- @usage optim.lr_scheduler.LRScheduler:get_last_lr()
-- @within optim: optimizers
function LRScheduler:get_last_lr()
  return compat.move(self._last_lr, 1, #self._last_lr, 1, {})
end

-- Fields that are not state: the optimizer and functions (lambdas).
local function is_state(k, v)
  return k ~= "optimizer" and k ~= "lr_lambdas" and type(v) ~= "function"
end

--- Every field but the optimizer and the lambdas (functions cannot be saved):
-- last_epoch, base_lrs, _step_count, _last_lr and the options. A copy.
-- @function LRScheduler:state_dict
-- @usage optim.lr_scheduler.LRScheduler:state_dict()
-- @within optim: optimizers
function LRScheduler:state_dict()
  local sd = {}
  for k, v in pairs(self) do
    if is_state(k, v) then
      sd[k] = type(v) == "table" and compat.move(v, 1, #v, 1, {}) or v
    end
  end
  return sd
end

function LRScheduler:load_state_dict(sd)
  local what = "lr_scheduler." .. self.__name .. ":load_state_dict"
  if type(sd) ~= "table" then raise(what .. ": expected a table from state_dict(), got " .. type(sd)) end
  local keys, unexpected = {}, {}
  for k in pairs(sd) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)  -- the same message every run
  for _, k in ipairs(keys) do
    local mine = rawget(self, k)
    if mine == nil or not is_state(k, mine) then
      unexpected[#unexpected + 1] = "'" .. k .. "'"
    elseif type(sd[k]) ~= type(mine) then
      raise(string.format("%s: '%s' is a %s, expected a %s", what, k, type(sd[k]), type(mine)))
    end
  end
  if #unexpected > 0 then
    raise(string.format("%s: unexpected key%s %s (a state dict of another scheduler?)", what,
      #unexpected > 1 and "s" or "", table.concat(unexpected, ", ")))
  end
  local missing = {}
  for _, k in ipairs({"base_lrs", "last_epoch"}) do
    if sd[k] == nil then missing[#missing + 1] = "'" .. k .. "'" end
  end
  if #missing > 0 then
    raise(string.format("%s: missing key%s %s", what, #missing > 1 and "s" or "", table.concat(missing, ", ")))
  end
  for _, k in ipairs({"base_lrs", "_last_lr"}) do
    local list = sd[k]
    if list ~= nil then
      for i = 1, #list do
        if type(list[i]) ~= "number" then
          raise(string.format("%s: %s[%d] is a %s, expected a number", what, k, i, type(list[i])))
        end
      end
    end
  end
  for _, k in ipairs({"last_epoch", "_step_count"}) do
    local v = sd[k]
    if v ~= nil and check_int(v, k) then raise(what .. ": " .. check_int(v, k)) end
  end
  if #sd.base_lrs ~= #self.base_lrs then
    raise(string.format("%s: base_lrs has %d values, the optimizer %d parameter groups", what,
      #sd.base_lrs, #self.base_lrs))
  end
  for k, v in pairs(sd) do
    self[k] = type(v) == "table" and compat.move(v, 1, #v, 1, {}) or v
  end
end

function LRScheduler:__tostring()
  return string.format("%s(last_epoch=%s, lr=%s)", self.__name, fmt(self.last_epoch), fmt(self._last_lr))
end

setmetatable(LRScheduler, {__tostring = function() return "class lr_scheduler.LRScheduler" end})
lr_scheduler.LRScheduler = LRScheduler

-- Current lr of every group (what the recursive forms start from).
local function current(self, f)
  local out = {}
  for i, group in ipairs(self.optimizer.param_groups) do out[i] = f(group.lr, self.base_lrs[i]) end
  return out
end
local function from_base(self, f)
  local out = {}
  for i, base in ipairs(self.base_lrs) do out[i] = f(base) end
  return out
end

-- StepLR(opt, {step_size =, gamma = 0.1}): lr times gamma every step_size epochs.
local StepLR = LRScheduler:extend("StepLR", {
  {"step_size", required, check_posint},
  {"gamma", 0.1, "number"},
})
function StepLR:get_lr()
  local decay = self.last_epoch ~= 0 and self.last_epoch % self.step_size == 0
  return current(self, function(lr) return decay and lr * self.gamma or lr end)
end
function StepLR:closed_form()
  return from_base(self, function(base) return base * self.gamma ^ compat.idiv(self.last_epoch, self.step_size) end)
end
lr_scheduler.StepLR = StepLR

-- ExponentialLR(opt, {gamma =}): lr times gamma every epoch.
local ExponentialLR = LRScheduler:extend("ExponentialLR", {
  {"gamma", required, "number"},
})
function ExponentialLR:get_lr()
  local decay = self.last_epoch ~= 0
  return current(self, function(lr) return decay and lr * self.gamma or lr end)
end
function ExponentialLR:closed_form()
  return from_base(self, function(base) return base * self.gamma ^ self.last_epoch end)
end
lr_scheduler.ExponentialLR = ExponentialLR

-- CosineAnnealingLR(opt, {T_max =, eta_min = 0}): from the initial lr down
-- to eta_min along half a cosine over T_max epochs (and back up after, as
-- PyTorch's recursive form does).
local CosineAnnealingLR = LRScheduler:extend("CosineAnnealingLR", {
  {"T_max", required, check_positive},
  {"eta_min", 0, "number"},
})
function CosineAnnealingLR:get_lr()
  local e, T, eta_min, pi = self.last_epoch, self.T_max, self.eta_min, math.pi
  if e == 0 then
    return current(self, function(lr) return lr end)
  elseif self._step_count == 1 and e > 0 then  -- resumed: nothing to recurse from
    return self:closed_form()
  elseif (e - 1 - T) % (2 * T) == 0 then  -- at the bottom: the step back up
    return current(self, function(lr, base)
      return lr + (base - eta_min) * (1 - math.cos(pi / T)) / 2
    end)
  end
  return current(self, function(lr)
    return (1 + math.cos(pi * e / T)) / (1 + math.cos(pi * (e - 1) / T)) * (lr - eta_min) + eta_min
  end)
end
function CosineAnnealingLR:closed_form()
  local e, T, eta_min = self.last_epoch, self.T_max, self.eta_min
  return from_base(self, function(base)
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * e / T)) / 2
  end)
end
lr_scheduler.CosineAnnealingLR = CosineAnnealingLR

-- LambdaLR(opt, {lr_lambda = function(epoch) ... end}): initial lr times
-- lr_lambda(epoch); lr_lambda may be an array, one function per group.
local LambdaLR = LRScheduler:extend("LambdaLR", {
  {"lr_lambda", required, check_lambda},
})
function LambdaLR:__init()
  local f, n = self.lr_lambda, #self.optimizer.param_groups
  self.lr_lambda = nil  -- functions are not state: keep them out of state_dict
  if callable(f) then
    self.lr_lambdas = {}
    for i = 1, n do self.lr_lambdas[i] = f end
  else
    if #f ~= n then
      raise(string.format("lr_scheduler.LambdaLR: expected %d lr_lambdas (one per group), got %d", n, #f))
    end
    self.lr_lambdas = compat.move(f, 1, n, 1, {})
  end
end
function LambdaLR:get_lr()
  local out = {}
  for i, base in ipairs(self.base_lrs) do out[i] = base * self.lr_lambdas[i](self.last_epoch) end
  return out
end
lr_scheduler.LambdaLR = LambdaLR

return lr_scheduler
