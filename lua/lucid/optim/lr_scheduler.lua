--- Learning-rate schedules that rewrite lr in the optimizer's param_groups: call
-- sched:step() once per epoch after opt:step(); sched:get_last_lr() reads it.
-- Arguments also go positionally in PyTorch's order.
-- @module lucid.optim.lr_scheduler
-- @usage optim.lr_scheduler.StepLR(opt, {step_size =, gamma = 0.1, last_epoch = -1, verbose = false})  (every schedule takes last_epoch and verbose last; also ExponentialLR(opt, {gamma =}), CosineAnnealingLR(opt, {T_max =, eta_min = 0}), LambdaLR(opt, {lr_lambda = f}); MultiStepLR(opt, {milestones =, gamma = 0.1}), LinearLR(opt, {start_factor = 1/3, end_factor = 1, total_iters = 5}), CosineAnnealingWarmRestarts(opt, {T_0 =, T_mult = 1, eta_min = 0}) (step(epoch) takes fractions), OneCycleLR(opt, {max_lr =, total_steps | epochs and steps_per_epoch, pct_start = 0.3, anneal_strategy = "cos", cycle_momentum = true, base_momentum = 0.85, max_momentum = 0.95, div_factor = 25, final_div_factor = 1e4, three_phase = false}), SequentialLR(opt, {schedulers =, milestones =}), ReduceLROnPlateau(opt, {mode = "min", factor = 0.1, patience = 10, threshold = 1e-4, threshold_mode = "rel", cooldown = 0, min_lr = 0, eps = 1e-8}) with step(metric))
-- @also optim.lr_scheduler.StepLR optim.lr_scheduler.ExponentialLR optim.lr_scheduler.CosineAnnealingLR optim.lr_scheduler.LambdaLR optim.lr_scheduler.MultiStepLR optim.lr_scheduler.LinearLR optim.lr_scheduler.CosineAnnealingWarmRestarts optim.lr_scheduler.OneCycleLR optim.lr_scheduler.SequentialLR optim.lr_scheduler.ReduceLROnPlateau

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
local C = require("lucid.core")
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
      #unexpected > 1 and "s" or "", args.name_list(unexpected)))
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

-- An array of integers (milestones), as given or sorted.
local function check_int_list(v, name)
  if type(v) ~= "table" then return name .. " must be an array of integers, got " .. type(v) end
  for k in pairs(v) do  -- a named key would be ignored
    if type(k) ~= "number" or k < 1 or k > #v or k ~= math.floor(k) then
      return string.format("%s must be an array of integers, got a table with the key %s", name, fmt(k))
    end
  end
  for i, e in ipairs(v) do
    if check_int(e, name) then return string.format("%s[%d] must be an integer, got %s", name, i, fmt(e)) end
  end
end
local function check_factor(v, name)
  if type(v) ~= "number" then return name .. " must be a number, got " .. type(v) end
  if not (v >= 0 and v <= 1) then
    return string.format("invalid %s: %s (expected a factor between 0 and 1)", name, fmt(v))
  end
end
local function check_nonneg_int(v, name)
  local problem = check_int(v, name)
  if problem then return problem end
  if v < 0 then return string.format("invalid %s: %s (expected %s >= 0)", name, fmt(v), name) end
end
-- a number, or an array of numbers (one per group)
local function check_number_or_list(v, name)
  if type(v) == "number" then return nil end
  if type(v) == "table" and #v > 0 then
    for i, e in ipairs(v) do
      if type(e) ~= "number" then return string.format("%s[%d] must be a number, got %s", name, i, type(e)) end
    end
    return nil
  end
  return name .. " must be a number or an array of numbers (one per group), got " .. type(v)
end
-- v for every group: the array given (its length checked) or v repeated
local function per_group(what, name, v, n)
  if type(v) ~= "table" then
    local out = {}
    for i = 1, n do out[i] = v end
    return out
  end
  if #v ~= n then raise(string.format("%s: expected %d values for %s, got %d", what, n, name, #v)) end
  return compat.move(v, 1, n, 1, {})
end

-- MultiStepLR(opt, {milestones = {...}, gamma = 0.1}): lr times gamma at
-- each milestone (an epoch listed twice decays twice).
local MultiStepLR = LRScheduler:extend("MultiStepLR", {
  {"milestones", required, check_int_list},
  {"gamma", 0.1, "number"},
})
function MultiStepLR:__init()
  local m = compat.move(self.milestones, 1, #self.milestones, 1, {})
  table.sort(m)
  self.milestones = m
end
-- how many milestones equal e, and how many are at most e
local function milestone_counts(list, e)
  local at, upto = 0, 0
  for _, m in ipairs(list) do
    if m == e then at = at + 1 end
    if m <= e then upto = upto + 1 end
  end
  return at, upto
end
function MultiStepLR:get_lr()
  local at = milestone_counts(self.milestones, self.last_epoch)
  return current(self, function(lr) return at > 0 and lr * self.gamma ^ at or lr end)
end
function MultiStepLR:closed_form()
  local _, upto = milestone_counts(self.milestones, self.last_epoch)
  return from_base(self, function(base) return base * self.gamma ^ upto end)
end
lr_scheduler.MultiStepLR = MultiStepLR

-- LinearLR(opt, {start_factor = 1/3, end_factor = 1, total_iters = 5}): the
-- initial lr times a factor going linearly from start_factor to end_factor
-- over total_iters epochs.
local LinearLR = LRScheduler:extend("LinearLR", {
  {"start_factor", 1 / 3, check_factor},
  {"end_factor", 1.0, check_factor},
  {"total_iters", 5, check_posint},
})
function LinearLR:get_lr()
  local e, s, f, n = self.last_epoch, self.start_factor, self.end_factor, self.total_iters
  if e == 0 then return current(self, function(lr) return lr * s end) end
  if e > n then return current(self, function(lr) return lr end) end
  return current(self, function(lr) return lr * (1 + (f - s) / (n * s + (e - 1) * (f - s))) end)
end
function LinearLR:closed_form()
  local e, s, f, n = self.last_epoch, self.start_factor, self.end_factor, self.total_iters
  return from_base(self, function(base) return base * (s + (f - s) * math.min(n, e) / n) end)
end
lr_scheduler.LinearLR = LinearLR

-- CosineAnnealingWarmRestarts(opt, {T_0 =, T_mult = 1, eta_min = 0}):
-- cosine annealing from the initial lr to eta_min over T_i epochs, then a
-- restart with T_i times T_mult. step(epoch) takes fractional epochs
-- (epoch + batch / batches), as PyTorch.
local CosineAnnealingWarmRestarts = LRScheduler:extend("CosineAnnealingWarmRestarts", {
  {"T_0", required, check_posint},
  {"T_mult", 1, check_posint},
  {"eta_min", 0, "number"},
})
function CosineAnnealingWarmRestarts:__init()
  self.T_i = self.T_0
  self.T_cur = self.last_epoch
end
function CosineAnnealingWarmRestarts:get_lr()
  local f = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
  return from_base(self, function(base) return self.eta_min + (base - self.eta_min) * f end)
end
function CosineAnnealingWarmRestarts:step(epoch)
  local what = "lr_scheduler.CosineAnnealingWarmRestarts:step"
  self._step_count = self._step_count + 1
  if epoch == nil and self.last_epoch < 0 then epoch = 0 end
  if epoch == nil then
    epoch = self.last_epoch + 1
    self.T_cur = self.T_cur + 1
    if self.T_cur >= self.T_i then
      self.T_cur = self.T_cur - self.T_i
      self.T_i = self.T_i * self.T_mult
    end
  else
    if type(epoch) ~= "number" or not (epoch >= 0) then
      raise(string.format("%s: expected a non-negative epoch, got %s", what, fmt(epoch)))
    end
    local T0, Tm = self.T_0, self.T_mult
    if epoch >= T0 then
      if Tm == 1 then
        self.T_cur = epoch % T0
      else
        local n = math.floor(math.log(epoch / T0 * (Tm - 1) + 1) / math.log(Tm))
        self.T_cur = epoch - T0 * (Tm ^ n - 1) / (Tm - 1)
        self.T_i = T0 * Tm ^ n
      end
    else
      self.T_i = T0
      self.T_cur = epoch
    end
  end
  self.last_epoch = math.floor(epoch)
  local last = {}
  for i, lr in ipairs(self:get_lr()) do
    self.optimizer.param_groups[i].lr = lr
    last[i] = lr
    if self.verbose then print(string.format("Adjusting learning rate of group %d to %.4e.", i, lr)) end
  end
  self._last_lr = last
end
lr_scheduler.CosineAnnealingWarmRestarts = CosineAnnealingWarmRestarts

-- OneCycleLR(opt, {max_lr =, total_steps | epochs and steps_per_epoch,
-- pct_start = 0.3, anneal_strategy = "cos" | "linear", cycle_momentum = true,
-- base_momentum = 0.85, max_momentum = 0.95, div_factor = 25,
-- final_div_factor = 1e4, three_phase = false}): the 1cycle policy, stepped
-- once per batch; with cycle_momentum the momentum (SGD) or betas[1] (Adam)
-- goes the other way.
local OneCycleLR = LRScheduler:extend("OneCycleLR", {
  {"max_lr", required, check_number_or_list},
  {"total_steps", nil, check_posint},
  {"epochs", nil, check_posint},
  {"steps_per_epoch", nil, check_posint},
  {"pct_start", 0.3, check_factor},
  {"anneal_strategy", "cos", args.one_of("cos", "linear")},
  {"cycle_momentum", true, "boolean"},
  {"base_momentum", 0.85, check_number_or_list, table_arg = true},
  {"max_momentum", 0.95, check_number_or_list, table_arg = true},
  {"div_factor", 25.0, "number"},
  {"final_div_factor", 1e4, "number"},
  {"three_phase", false, "boolean"},
})
function OneCycleLR:__init()
  local what = "lr_scheduler.OneCycleLR"
  if self.total_steps == nil then
    if self.epochs == nil or self.steps_per_epoch == nil then
      raise(what .. ": give total_steps, or epochs and steps_per_epoch")
    end
    self.total_steps = self.epochs * self.steps_per_epoch
  end
  local total, pct = self.total_steps, self.pct_start
  if self.three_phase then
    self._schedule_phases = {
      {end_step = pct * total - 1, start_lr = "initial_lr", end_lr = "max_lr",
        start_momentum = "max_momentum", end_momentum = "base_momentum"},
      {end_step = 2 * pct * total - 2, start_lr = "max_lr", end_lr = "initial_lr",
        start_momentum = "base_momentum", end_momentum = "max_momentum"},
      {end_step = total - 1, start_lr = "initial_lr", end_lr = "min_lr",
        start_momentum = "max_momentum", end_momentum = "max_momentum"},
    }
  else
    self._schedule_phases = {
      {end_step = pct * total - 1, start_lr = "initial_lr", end_lr = "max_lr",
        start_momentum = "max_momentum", end_momentum = "base_momentum"},
      {end_step = total - 1, start_lr = "max_lr", end_lr = "min_lr",
        start_momentum = "base_momentum", end_momentum = "max_momentum"},
    }
  end
  local groups = self.optimizer.param_groups
  local n = #groups
  local max_lrs = per_group(what, "max_lr", self.max_lr, n)
  if self.last_epoch == -1 then
    for i, g in ipairs(groups) do
      g.initial_lr = max_lrs[i] / self.div_factor
      g.max_lr = max_lrs[i]
      g.min_lr = g.initial_lr / self.final_div_factor
    end
  end
  if self.cycle_momentum then
    local defaults = self.optimizer.defaults or {}
    if defaults.momentum == nil and defaults.betas == nil then
      raise(what .. ": the optimizer has no momentum or betas to cycle (cycle_momentum = true)")
    end
    self.use_beta1 = defaults.betas ~= nil
    local maxm = per_group(what, "max_momentum", self.max_momentum, n)
    local basem = per_group(what, "base_momentum", self.base_momentum, n)
    if self.last_epoch == -1 then
      for i, g in ipairs(groups) do
        if self.use_beta1 then g.betas = {maxm[i], g.betas[2]} else g.momentum = maxm[i] end
        g.max_momentum, g.base_momentum = maxm[i], basem[i]
      end
    end
  end
end
function OneCycleLR:_anneal(a, b, pct)
  if self.anneal_strategy == "cos" then return b + (a - b) / 2 * (math.cos(math.pi * pct) + 1) end
  return (b - a) * pct + a
end
function OneCycleLR:get_lr()
  local step = self.last_epoch
  if step > self.total_steps then
    raise(string.format("lr_scheduler.OneCycleLR: tried to step %d times; total_steps is %d", step + 1,
      self.total_steps))
  end
  local out, phases = {}, self._schedule_phases
  for gi, g in ipairs(self.optimizer.param_groups) do
    local start, lr, mom = 0, nil, nil
    for i, ph in ipairs(phases) do
      if step <= ph.end_step or i == #phases then
        local pct = (step - start) / (ph.end_step - start)
        lr = self:_anneal(g[ph.start_lr], g[ph.end_lr], pct)
        if self.cycle_momentum then mom = self:_anneal(g[ph.start_momentum], g[ph.end_momentum], pct) end
        break
      end
      start = ph.end_step
    end
    out[gi] = lr
    if self.cycle_momentum then
      if self.use_beta1 then g.betas = {mom, g.betas[2]} else g.momentum = mom end
    end
  end
  return out
end
lr_scheduler.OneCycleLR = OneCycleLR

-- ---- SequentialLR ------------------------------------------------------------

local SEQUENTIAL = args.schema("lr_scheduler.SequentialLR", {
  {"schedulers", required, "table"},
  {"milestones", required, check_int_list, table_arg = true},
  {"last_epoch", -1, check_int},
  {"verbose", false, "boolean"},
})

-- SequentialLR(opt, {schedulers = {s1, s2, ...}, milestones = {m1, ...}}):
-- s1 until epoch m1, then s2 (restarted at its epoch 0) until m2, ...
local SequentialLR = {__name = "SequentialLR"}
SequentialLR.__index = SequentialLR
SequentialLR.__tostring = LRScheduler.__tostring
setmetatable(SequentialLR, {
  __tostring = function() return "class lr_scheduler.SequentialLR" end,
  __call = function(_, optimizer, ...)
    local what = "lr_scheduler.SequentialLR"
    local o = SEQUENTIAL:table(...)
    local scheds = o.schedulers
    if #scheds == 0 then raise(what .. ": schedulers must be a non-empty array of schedulers") end
    for i, sc in ipairs(scheds) do
      if type(sc) ~= "table" or sc.optimizer ~= optimizer then
        raise(string.format("%s: schedulers[%d] does not belong to the optimizer given", what, i))
      end
    end
    if #o.milestones ~= #scheds - 1 then
      raise(string.format("%s: expected %d milestones (one fewer than the %d schedulers), got %d", what,
        #scheds - 1, #scheds, #o.milestones))
    end
    local self = setmetatable({optimizer = optimizer, _schedulers = compat.move(scheds, 1, #scheds, 1, {}),
      _milestones = compat.move(o.milestones, 1, #o.milestones, 1, {}), last_epoch = o.last_epoch + 1,
      verbose = o.verbose}, SequentialLR)
    for _, g in ipairs(optimizer.param_groups) do g.lr = g.initial_lr end
    for _, sc in ipairs(scheds) do sc.last_epoch = sc.last_epoch - 1 end
    scheds[1]._step_count = 0
    scheds[1]:step()
    self._last_lr = scheds[1]:get_last_lr()
    return self
  end,
})
function SequentialLR:step()
  self.last_epoch = self.last_epoch + 1
  local idx = 1
  for _, m in ipairs(self._milestones) do
    if m <= self.last_epoch then idx = idx + 1 end
  end
  local sc = self._schedulers[idx]
  if idx > 1 and self._milestones[idx - 1] == self.last_epoch then sc:step(0) else sc:step() end
  self._last_lr = sc:get_last_lr()
end
SequentialLR.get_last_lr = LRScheduler.get_last_lr
function SequentialLR:state_dict()
  local sub = {}
  for i, sc in ipairs(self._schedulers) do sub[i] = sc:state_dict() end
  return {last_epoch = self.last_epoch, _milestones = compat.move(self._milestones, 1, #self._milestones, 1, {}),
    _last_lr = self:get_last_lr(), verbose = self.verbose, _schedulers = sub}
end
function SequentialLR:load_state_dict(sd)
  local what = "lr_scheduler.SequentialLR:load_state_dict"
  if type(sd) ~= "table" or type(sd._schedulers) ~= "table" or #sd._schedulers ~= #self._schedulers then
    raise(string.format("%s: expected a table from state_dict() with %d _schedulers", what, #self._schedulers))
  end
  for i, sc in ipairs(self._schedulers) do sc:load_state_dict(sd._schedulers[i]) end
  self.last_epoch, self.verbose = sd.last_epoch, sd.verbose
  self._milestones = compat.move(sd._milestones, 1, #sd._milestones, 1, {})
  self._last_lr = compat.move(sd._last_lr, 1, #sd._last_lr, 1, {})
end
lr_scheduler.SequentialLR = SequentialLR

-- ---- ReduceLROnPlateau ---------------------------------------------------------

local PLATEAU = args.schema("lr_scheduler.ReduceLROnPlateau", {
  {"mode", "min", args.one_of("min", "max")},
  {"factor", 0.1, function(v, name)
    if type(v) ~= "number" then return name .. " must be a number, got " .. type(v) end
    if not (v < 1) then return string.format("invalid %s: %s (expected %s < 1)", name, fmt(v), name) end
  end},
  {"patience", 10, check_nonneg_int},
  {"threshold", 1e-4, "number"},
  {"threshold_mode", "rel", args.one_of("rel", "abs")},
  {"cooldown", 0, check_nonneg_int},
  {"min_lr", 0, check_number_or_list, table_arg = true},
  {"eps", 1e-8, "number"},
  {"verbose", false, "boolean"},
})

-- ReduceLROnPlateau(opt, {mode = "min", factor = 0.1, patience = 10,
-- threshold = 1e-4, threshold_mode = "rel", cooldown = 0, min_lr = 0, eps =
-- 1e-8}): step(metric) after each validation; the lr times factor once the
-- metric has not improved for more than patience epochs.
local ReduceLROnPlateau = {__name = "ReduceLROnPlateau"}
ReduceLROnPlateau.__index = ReduceLROnPlateau
setmetatable(ReduceLROnPlateau, {
  __tostring = function() return "class lr_scheduler.ReduceLROnPlateau" end,
  __call = function(_, optimizer, ...)
    local what = "lr_scheduler.ReduceLROnPlateau"
    if type(optimizer) ~= "table" or type(optimizer.param_groups) ~= "table" or #optimizer.param_groups == 0 then
      raise(string.format("%s: expected an optimizer (with param_groups), got %s", what, type(optimizer)))
    end
    local self = setmetatable({optimizer = optimizer}, ReduceLROnPlateau)
    for k, v in pairs(PLATEAU:table(...)) do self[k] = v end
    self.min_lrs = per_group(what, "min_lr", self.min_lr, #optimizer.param_groups)
    self.min_lr = nil
    self.last_epoch = 0
    self:_reset()
    local last = {}
    for i, g in ipairs(optimizer.param_groups) do last[i] = g.lr end
    self._last_lr = last
    return self
  end,
})
function ReduceLROnPlateau:_reset()
  self.best = self.mode == "min" and math.huge or -math.huge
  self.cooldown_counter = 0
  self.num_bad_epochs = 0
end
function ReduceLROnPlateau:is_better(a, best)
  for _, arg in ipairs({{"a", a}, {"best", best}}) do  -- (pairs: a nil must be seen too)
    if type(arg[2]) ~= "number" then
      raise(string.format("lr_scheduler.ReduceLROnPlateau:is_better: %s must be a number, got %s",
        arg[1], type(arg[2])))
    end
  end
  local t = self.threshold
  if self.mode == "min" then
    if self.threshold_mode == "rel" then return a < best * (1 - t) end
    return a < best - t
  end
  if self.threshold_mode == "rel" then return a > best * (t + 1) end
  return a > best + t
end
function ReduceLROnPlateau:step(metric, epoch)
  local what = "lr_scheduler.ReduceLROnPlateau:step"
  if C.is_tensor(metric) then metric = metric:item() end
  if type(metric) ~= "number" then
    raise(string.format("%s: expected the metric (a number or a 0-d tensor), got %s", what, type(metric)))
  end
  if epoch == nil then epoch = self.last_epoch + 1 end
  self.last_epoch = epoch
  if self:is_better(metric, self.best) then
    self.best = metric
    self.num_bad_epochs = 0
  else
    self.num_bad_epochs = self.num_bad_epochs + 1
  end
  if self.cooldown_counter > 0 then
    self.cooldown_counter = self.cooldown_counter - 1
    self.num_bad_epochs = 0
  end
  if self.num_bad_epochs > self.patience then
    for i, g in ipairs(self.optimizer.param_groups) do
      local old = g.lr
      local new = math.max(old * self.factor, self.min_lrs[i])
      if old - new > self.eps then
        g.lr = new
        if self.verbose then print(string.format("Epoch %d: reducing learning rate of group %d to %.4e.", epoch, i, new)) end
      end
    end
    self.cooldown_counter = self.cooldown
    self.num_bad_epochs = 0
  end
  local last = {}
  for i, g in ipairs(self.optimizer.param_groups) do last[i] = g.lr end
  self._last_lr = last
end
ReduceLROnPlateau.get_last_lr = LRScheduler.get_last_lr
function ReduceLROnPlateau:state_dict()
  local sd = {}
  for k, v in pairs(self) do
    if k ~= "optimizer" then sd[k] = type(v) == "table" and compat.move(v, 1, #v, 1, {}) or v end
  end
  return sd
end
function ReduceLROnPlateau:load_state_dict(sd)
  if type(sd) ~= "table" then
    raise("lr_scheduler.ReduceLROnPlateau:load_state_dict: expected a table from state_dict(), got " .. type(sd))
  end
  for k, v in pairs(sd) do
    if k ~= "optimizer" then self[k] = type(v) == "table" and compat.move(v, 1, #v, 1, {}) or v end
  end
end
function ReduceLROnPlateau:__tostring()
  return string.format("ReduceLROnPlateau(mode=%s, best=%s, lr=%s)", self.mode, fmt(self.best), fmt(self._last_lr))
end
lr_scheduler.ReduceLROnPlateau = ReduceLROnPlateau

return lr_scheduler
