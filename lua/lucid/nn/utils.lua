--- Part of lucid.nn.utils; help() and `make doc` read these comments.
-- @module lucid.nn.utils

-- nn.utils: gradient clipping (PyTorch 1.13's torch.nn.utils.clip_grad).
--
--   local total = nn.utils.clip_grad_norm_(model:parameters(), 1.0)
--   -- or clip_grad_norm_(params, {max_norm = 1.0, norm_type = math.huge})
--
-- Both work on the gradients in place (parameters whose .grad is nil are
-- skipped) and take a tensor or an array of tensors.
local args = require("lucid._args")
local raise = args.raise
local lucid = require("lucid")
local C = require("lucid.core")

local utils = {}

-- Looked up at each call: this file may load while lucid is still loading.
local function abs(t) return lucid.abs(t) end
local function clamp(t, lo, hi) return lucid.clamp(t, lo, hi) end

-- The tensors in `params` (a tensor or an array); errors at the user's call.
local function tensors(params, fname)
  if C.is_tensor(params) then return {params} end
  if type(params) ~= "table" then
    raise(string.format("%s: parameters must be a tensor or an array of tensors, got %s", fname,
      type(params)))
  end
  for i, p in ipairs(params) do
    if not C.is_tensor(p) then
      raise(string.format("%s: parameters[%d] is a %s, expected a tensor", fname, i, type(p)))
    end
  end
  return params
end

-- norm_type: a number, or "inf" for math.huge
local function norm_type_check(v, name)
  if v == "inf" then return nil, math.huge end
  if type(v) ~= "number" then return name .. " must be a number, got " .. type(v) end
end

utils.schemas = {
  clip_grad_norm_ = args.schema("nn.utils.clip_grad_norm_", {
    {"parameters", nil, nil, table_arg = true},
    {"max_norm", args.REQUIRED, "number"},
    {"norm_type", 2, norm_type_check},
    {"error_if_nonfinite", false, "boolean"},
    unsupported = {"foreach"},
  }),
  clip_grad_value_ = args.schema("nn.utils.clip_grad_value_", {
    {"parameters", nil, nil, table_arg = true},
    {"clip_value", args.REQUIRED, "number"},
    unsupported = {"foreach"},
  }),
}

-- The p-norm of a gradient (p > 0, finite or math.huge), as a Lua number.
local function grad_norm(g, p)
  if p == math.huge then return abs(g):max():item() end
  if p == 2 then return math.sqrt((g * g):sum():item()) end
  if p == 1 then return abs(g):sum():item() end
  return (abs(g) ^ p):sum():item() ^ (1 / p)
end

--- Scales all gradients in place so that their joint norm is at most max_norm;
-- returns the norm before clipping, as a number. Call it between backward and
-- opt:step().
-- @function clip_grad_norm_
-- @usage nn.utils.clip_grad_norm_(params, max_norm [, norm_type = 2])
-- @within nn: initialisation and clipping

-- clip_grad_norm_(parameters, max_norm [, norm_type = 2 [, error_if_nonfinite = false]])
-- (or a trailing table with those names): the norm of all gradients together
-- (as if concatenated into one vector) is computed; when it exceeds max_norm
-- every gradient is scaled by max_norm / (norm + 1e-6). Returns the norm
-- before clipping, as a number. norm_type is a number > 0, or math.huge
-- (also "inf") for the largest absolute value.
function utils.clip_grad_norm_(...)
  local fname = "nn.utils.clip_grad_norm_"
  local parameters, max_norm, norm_type, error_if_nonfinite = utils.schemas.clip_grad_norm_:parse(...)
  local params = tensors(parameters, fname)
  if not (max_norm >= 0) then
    -- PyTorch would flip the gradients' sign; that is never what is meant
    raise(string.format("%s: invalid max_norm: %s (expected max_norm >= 0)", fname, tostring(max_norm)))
  end
  if not (norm_type > 0) then
    raise(string.format("%s: invalid norm_type: %s (expected a number > 0 or math.huge)", fname,
      tostring(norm_type)))
  end

  -- a function, not a <close> guard: the library runs on Lua before 5.4 too
  return lucid.no_grad(function()
    local grads = {}
    for _, p in ipairs(params) do
      local g = p.grad
      if g ~= nil then grads[#grads + 1] = g end
    end
    if #grads == 0 then return 0.0 end
    -- per-gradient norms, then the norm of those: what PyTorch computes
    local total = 0.0
    for _, g in ipairs(grads) do
      local n = g:numel() > 0 and grad_norm(g, norm_type) or 0.0
      if norm_type == math.huge then
        if n > total or n ~= n then total = n end
      else
        total = total + n ^ norm_type
      end
    end
    if norm_type ~= math.huge then total = total ^ (1 / norm_type) end
    if error_if_nonfinite and (total ~= total or total == math.huge) then
      raise(string.format("%s: the total norm of order %s of the gradients is non-finite, so it cannot "
        .. "be clipped (pass error_if_nonfinite = false to scale them by it anyway)", fname,
        tostring(norm_type)))
    end
    local coef = max_norm / (total + 1e-6)
    if coef < 1 or coef ~= coef then  -- PyTorch multiplies by min(coef, 1): 1 changes nothing
      for _, g in ipairs(grads) do g:copy_(g * coef) end
    end
    return total
  end)
end

--- Clamps every gradient value into [-clip_value, clip_value], in place.
-- @function clip_grad_value_
-- @usage nn.utils.clip_grad_value_(params, clip_value)
-- @within nn: initialisation and clipping

-- clip_grad_value_(parameters, clip_value): every gradient value clamped
-- into [-clip_value, clip_value].
function utils.clip_grad_value_(...)
  local fname = "nn.utils.clip_grad_value_"
  local parameters, clip_value = utils.schemas.clip_grad_value_:parse(...)
  local params = tensors(parameters, fname)
  if not (clip_value >= 0) then
    raise(string.format("%s: invalid clip_value: %s (expected clip_value >= 0)", fname,
      tostring(clip_value)))
  end
  -- a function, not a <close> guard: the library runs on Lua before 5.4 too
  return lucid.no_grad(function()
    for _, p in ipairs(params) do
      local g = p.grad
      if g ~= nil then g:copy_(clamp(g, -clip_value, clip_value)) end
    end
  end)
end

-- nn.utils.rnn: pad_sequence, pack_padded_sequence, pad_packed_sequence,
-- pack_sequence and PackedSequence (lucid/nn/_rnn_utils.lua).
utils.rnn = require("lucid.nn._rnn_utils")

return utils
