-- Compiled models (Module:compile): a model's forward traced once per input
-- shape and replayed by the core as one C call (core/lc_plan.h says how).
--
-- A Compiled holds one plan per input signature (shapes, dtypes and the
-- model's training flag); a call tries the last plan first, then the others,
-- and traces a new one when none fits, so a frame loop on fixed shapes does
-- no Lua work beyond the call itself and allocates nothing. Each plan keeps
-- the model's results as traced, with the plan's output buffers in place of
-- the tensors: a call returns those same buffers (and tables), overwritten
-- by the next call.
local C = require("lucid.core")
local args = require("lucid._args")
local compat = require("lucid._compat")

local raise = args.raise
local unpack, pack = compat.unpack, compat.pack
local is_tensor, is_grad_enabled, set_grad_enabled = C.is_tensor, C.is_grad_enabled,
  C.set_grad_enabled
local plan_run, plan_record = C._plan_run, C._plan_record

local Compiled = {}
Compiled.__index = Compiled

-- The traced results with every tensor replaced by what swap(tensor) gives.
local function map_tensors(v, swap, seen)
  if is_tensor(v) then return swap(v) end
  if type(v) ~= "table" or getmetatable(v) ~= nil then return v end
  if seen[v] then return seen[v] end
  local copy = {}
  seen[v] = copy
  for k, x in pairs(v) do copy[k] = map_tensors(x, swap, seen) end
  return copy
end

-- The forward on the plan's inputs between the trace's start and end: the
-- results, the tensors among them (in order, and their indices) and the plan.
local function traced(model, ins, n)
  C._trace_begin()
  local res = pack(model(unpack(ins, 1, n)))
  local outs, index = {}, {}
  map_tensors(res, function(t)
    if not index[t] then
      outs[#outs + 1] = t
      index[t] = #outs
    end
    return t
  end, {})
  return res, outs, index, C._trace_end(ins, outs)
end

local function trace(self, n, ...)
  local model, fname = self.model, "nn.Module:compile"
  local ins = {}
  for i = 1, n do
    local x = select(i, ...)
    if not is_tensor(x) then
      raise("%s: argument %d is a %s: a compiled model takes tensors only", fname, i, type(x))
    end
    ins[i] = x:detach():clone()  -- the plan's own input buffer, contiguous
  end
  -- everything from the trace's start to its end is protected, so that any
  -- error on the way (the forward's, or running out of memory) ends it
  local was = is_grad_enabled()
  set_grad_enabled(true)
  local ok, res, outs, index, plan = pcall(traced, model, ins, n)
  set_grad_enabled(was)
  if not ok then
    C._trace_abort()
    error(res, 0)
  end
  local bufs = {}
  for i = 1, #outs do bufs[i] = C._plan_output(plan, i) end
  local result = map_tensors(res, function(t) return bufs[index[t]] end, {})
  local p = {plan = plan, n = res.n, result = result, nin = n, training = model.training,
    single = #outs == 1 and res.n == 1 and is_tensor(res[1])}
  self._plans[#self._plans + 1] = p
  return p
end

-- Whether this call must be recorded: then the model runs itself, op by op.
local function records(self, n, ...)
  if not is_grad_enabled() then return false end
  for i = 1, n do
    local x = select(i, ...)
    if is_tensor(x) and x.requires_grad then return true end
  end
  for _, w in ipairs(self._params) do
    if w.requires_grad then return true end
  end
  return false
end

-- A recorded call: one node for the whole plan (lc_plan_record), for a
-- model with one tensor result; one with other results runs itself.
local function call_recorded(self, n, ...)
  local last = self._last
  if last and not last.single then return self.model(...) end
  local training = self.model.training
  for _, q in ipairs(self._plans) do
    if q.nin == n and q.training == training then
      local y = plan_record(q.plan, ...)
      if y then
        self._last = q
        return y
      end
    end
  end
  local q = trace(self, n, ...)
  self._last = q
  if not q.single then return self.model(...) end
  return plan_record(q.plan, ...)
end

local function call(self, ...)
  local n = select("#", ...)
  if records(self, n, ...) then return call_recorded(self, n, ...) end
  local training = self.model.training
  local p = self._last
  if p and p.nin == n and p.training == training and plan_run(p.plan, ...) then
    return unpack(p.result, 1, p.n)
  end
  for _, q in ipairs(self._plans) do
    if q ~= p and q.nin == n and q.training == training and plan_run(q.plan, ...) then
      self._last = q
      return unpack(q.result, 1, q.n)
    end
  end
  p = trace(self, n, ...)
  self._last = p
  plan_run(p.plan, ...)
  return unpack(p.result, 1, p.n)
end
Compiled.__call = call

local function last(self, fname)
  local p = self._last
  if not p then raise("%s: no plan yet: call the compiled model first", fname) end
  return p
end

--- The plan of the last call (a "lucid.Plan" userdata), for a C host:
-- lucid_toplan(L, idx) in lucid.h, then lucid_plan_run from any thread.
-- @function Compiled:plan
-- @usage local plan = fast:plan()
-- @within nn: compiled models
function Compiled:plan() return last(self, "lucid.Compiled:plan").plan end

--- Input buffer i of the last call's plan: write into it and pass it to the
-- call (fast(fast:input(1))), and nothing is copied.
-- @function Compiled:input
-- @usage local obs = fast:input(1)
-- @within nn: compiled models
function Compiled:input(i) return C._plan_input(last(self, "lucid.Compiled:input").plan, i or 1) end

--- The op names the last call's plan runs, in order.
-- @function Compiled:steps
-- @usage print(table.concat(fast:steps(), " "))
-- @within nn: compiled models
function Compiled:steps() return C._plan_steps(last(self, "lucid.Compiled:steps").plan) end

Compiled.__tostring = function(self)
  local p = self._last
  return string.format("Compiled(%s, %d plan%s%s)", tostring(self.model.__name or "Module"),
    #self._plans, #self._plans == 1 and "" or "s",
    p and string.format(", %d steps", #C._plan_steps(p.plan)) or "")
end

local M = {}

function M.compile(model, ...)
  local self = setmetatable({model = model, _plans = {}, _params = model:parameters()}, Compiled)
  local n = select("#", ...)
  if n == 0 then raise("nn.Module:compile: expected example inputs, got none") end
  self._last = trace(self, n, ...)
  return self
end

return M
