--- The loss functions, as nn.functional exposes them (the nn.*Loss modules
-- call the same code). PyTorch 1.13's semantics and numbers:
--
--   mse_loss(input, target [, reduction])
--   l1_loss(input, target [, reduction])
--   huber_loss(input, target [, reduction [, delta = 1]])
--   smooth_l1_loss(input, target [, reduction [, beta = 1]])
--   cross_entropy(input, target [, weight [, ignore_index = -100 [, reduction [, label_smoothing = 0]]]])
--   nll_loss(input, target [, weight [, ignore_index = -100 [, reduction]]])
--   binary_cross_entropy(input, target [, weight [, reduction]])
--   binary_cross_entropy_with_logits(input, target [, weight [, reduction [, pos_weight]]])
--
-- Optional arguments go positionally (PyTorch's order without the deprecated
-- size_average and reduce) or in a table after the target:
-- cross_entropy(x, y, {weight = w, label_smoothing = 0.1}). reduction is
-- "mean" (the default), "sum" or "none".
--
-- Class indices (cross_entropy, nll_loss) are int64 tensors of 1-based
-- classes (any integer dtype, or a float tensor of whole numbers, works too): input {N, C} with target {N}, input {C} with a 0-d target, or
-- input {N, C, d1, ...} with target {N, d1, ...}. cross_entropy also takes
-- class probabilities: a target of the input's shape. ignore_index is
-- compared with the target's values, so a class to ignore is given 1-based
-- (the default -100 is no class).
--
-- Regression targets must have the input's shape (PyTorch broadcasts them
-- with a warning; here a different shape is an error).
local lucid = require("lucid")
local C = require("lucid.core")
local autograd = require("lucid.autograd")
local args = require("lucid._args")
local compat = require("lucid._compat")
local raise = args.raise

local losses = {}

-- ---- argument checking ----------------------------------------------------------

local shape_str = args.shape_str

local function same_shape(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

-- Errors point at the user's line, however deep the check (lucid._args.raise).

local function check_tensor(name, v, what)
  if not C.is_tensor(v) then raise("%s: %s must be a tensor, got %s", name, what, type(v)) end
end

-- ---- the options, one schema per function and module ---------------------------

--- Checks shared by the functional forms and the nn.*Loss modules.
losses.REDUCTION = args.one_of("mean", "sum", "none")
function losses.DELTA(v, name)
  if type(v) ~= "number" or not (v > 0) then return name .. " must be a positive number, got " .. tostring(v) end
end
function losses.BETA(v, name)
  if type(v) ~= "number" or not (v >= 0) then
    return name .. " must be a non-negative number, got " .. tostring(v)
  end
end
local function check_label_smoothing(v, name)
  if type(v) ~= "number" or not (v >= 0 and v <= 1) then
    return name .. " must be between 0.0 and 1.0, got " .. tostring(v)
  end
end

-- The optional arguments after (input, target), in PyTorch's order without
-- the deprecated size_average and reduce.
local ENTRIES = {
  mse_loss = {{"reduction", "mean", losses.REDUCTION}},
  l1_loss = {{"reduction", "mean", losses.REDUCTION}},
  huber_loss = {{"reduction", "mean", losses.REDUCTION}, {"delta", 1.0, losses.DELTA}},
  smooth_l1_loss = {{"reduction", "mean", losses.REDUCTION}, {"beta", 1.0, losses.BETA}},
  cross_entropy = {{"weight", nil, "tensor"}, {"ignore_index", -100, "integer"},
    {"reduction", "mean", losses.REDUCTION}, {"label_smoothing", 0.0, check_label_smoothing}},
  nll_loss = {{"weight", nil, "tensor"}, {"ignore_index", -100, "integer"},
    {"reduction", "mean", losses.REDUCTION}},
  binary_cross_entropy = {{"weight", nil, "tensor"}, {"reduction", "mean", losses.REDUCTION}},
  binary_cross_entropy_with_logits = {{"weight", nil, "tensor"}, {"reduction", "mean", losses.REDUCTION},
    {"pos_weight", nil, "tensor"}},
}

--- The schema entries of a loss (a new table; the module forms take the same options).
function losses.schema_entries(fname)
  local out = {}
  for i, e in ipairs(ENTRIES[fname]) do out[i] = {e[1], e[2], e[3]} end
  return out
end

local function check_reduction(name, reduction)
  local problem = losses.REDUCTION(reduction, "reduction")
  if problem then raise("%s: %s", name, problem) end
end

local function check_same_shape(name, input, target)
  check_tensor(name, input, "input")
  check_tensor(name, target, "target")
  local is, ts = input.shape, target.shape
  if not same_shape(is, ts) then
    raise("%s: target %s does not match input %s (expected %s)", name, shape_str(ts),
      shape_str(is), shape_str(is))
  end
end

local function reduce(l, reduction)
  if reduction == "mean" then return l:mean() end
  if reduction == "sum" then return l:sum() end
  return l
end

-- ---- regression losses ------------------------------------------------------------

--- mse: (input - target)^2
function losses._mse(name, input, target, reduction)
  check_reduction(name, reduction)
  check_same_shape(name, input, target)
  local d = input - target
  return reduce(d * d, reduction)
end

--- l1: |input - target| (gradient 0 where they are equal)
function losses._l1(name, input, target, reduction)
  check_reduction(name, reduction)
  check_same_shape(name, input, target)
  return reduce(lucid.abs(input - target), reduction)
end

--- huber: 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)
function losses._huber(name, input, target, reduction, delta)
  check_reduction(name, reduction)
  if type(delta) ~= "number" or not (delta > 0) then
    raise("%s: delta must be a positive number, got %s", name, tostring(delta))
  end
  check_same_shape(name, input, target)
  local d = input - target
  local ad = lucid.abs(d)
  local l = lucid.where(lucid.lt(ad, delta), d * d * 0.5, (ad - 0.5 * delta) * delta)
  return reduce(l, reduction)
end

--- smooth L1: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (beta = 0: L1)
function losses._smooth_l1(name, input, target, reduction, beta)
  check_reduction(name, reduction)
  if type(beta) ~= "number" or not (beta >= 0) then
    raise("%s: beta must be a non-negative number, got %s", name, tostring(beta))
  end
  check_same_shape(name, input, target)
  local d = input - target
  local ad = lucid.abs(d)
  if beta == 0 then return reduce(ad, reduction) end
  local l = lucid.where(lucid.lt(ad, beta), d * d * (0.5 / beta), ad - 0.5 * beta)
  return reduce(l, reduction)
end

-- ---- classification: class indices ------------------------------------------------

-- For input {C} / {N, C} / {N, C, d...}: the class dim, C, and the target
-- shape that class indices must have.
local function class_layout(name, input)
  local is = input.shape
  if #is == 0 then
    raise("%s: input must have a class dim: {C}, {N, C} or {N, C, d1, ...}, got a 0-d tensor", name)
  end
  local cdim = #is == 1 and 1 or 2
  local expected = {}
  for i, s in ipairs(is) do if i ~= cdim then expected[#expected + 1] = s end end
  return cdim, is[cdim], expected
end

-- input {.., C, ..} with the class dim cdim -> rows {M, C} (M = N * d1 * ...,
-- in the order of the target's elements)
local function class_rows(x, _, c)
  if x.ndim == 1 then return x:reshape(1, c) end
  if x.ndim == 2 then return x end
  return x:reshape(x.shape[1], c, -1):transpose(2, 3):reshape(-1, c)
end

local function check_weight(name, weight, c)
  if weight == nil then return nil end
  check_tensor(name, weight, "weight")
  if weight.ndim ~= 1 or weight.shape[1] ~= c then
    raise("%s: weight %s does not match the %d classes (expected {%d})", name,
      shape_str(weight.shape), c, c)
  end
  return weight:detach()
end

-- Raises unless every value of t (flat {M}) other than ignore_index is an
-- integer in 1..c, naming the first one that is not.
local function check_classes(name, t, keep, c)
  if t:numel() == 0 then return end
  local tv = lucid.where(keep, t, 1)
  local ok = lucid.min(tv):item() >= 1 and lucid.max(tv):item() <= c
    and lucid.eq(tv, lucid.floor(tv)):min():item()
  if ok then return end
  local vals, kept = t:tolist(), keep:tolist()
  for i, v in ipairs(vals) do
    if kept[i] then
      local shown = (v == math.floor(v) and compat.tointeger(v)) or v
      if v ~= math.floor(v) then
        raise("%s: target value %s (element %d) is not a class index (an integer in 1..%d)",
          name, tostring(shown), i, c)
      elseif v < 1 or v > c then
        raise("%s: target class %s (element %d) is out of range 1..%d", name, tostring(shown), i, c)
      end
    end
  end
end

-- The negative log likelihood of log-probabilities logp (input's layout),
-- with class-index targets; also returns what label smoothing needs.
local function nll_core(name, logp, target, weight, ignore_index, reduction)
  local cdim, c, expected = class_layout(name, logp)
  check_tensor(name, target, "target")
  if not same_shape(target.shape, expected) then
    raise("%s: target %s does not match input %s (expected %s)", name, shape_str(target.shape),
      shape_str(logp.shape), shape_str(expected))
  end
  if compat.math_type(ignore_index) ~= "integer" and not (type(ignore_index) == "number"
      and ignore_index == math.floor(ignore_index)) then
    raise("%s: ignore_index must be an integer, got %s", name, tostring(ignore_index))
  end
  weight = check_weight(name, weight, c)
  local t = target:detach():reshape(-1)
  local keep = lucid.ne(t, ignore_index)                   -- {M}: 1 where counted
  check_classes(name, t, keep, c)
  local safe = lucid.where(keep, t, 1)                      -- a valid class everywhere
  local rows = class_rows(logp, cdim, c)                    -- {M, C}
  local picked = lucid.gather(rows, 2, safe:reshape(-1, 1)):reshape(-1)
  local w = keep
  if weight then w = lucid.index_select(weight, 1, safe) * keep end
  w = w:to(picked.dtype)
  local l = -(picked * w)
  local out
  if reduction == "none" then out = l:reshape(expected)
  elseif reduction == "sum" then out = l:sum()
  else out = l:sum() / w:sum() end
  return out, {cdim = cdim, c = c, expected = expected, rows = rows, keep = keep, w = w, weight = weight}
end

-- ---- cross entropy / nll ---------------------------------------------------------

function losses._nll(name, input, target, weight, ignore_index, reduction)
  check_reduction(name, reduction)
  check_tensor(name, input, "input")
  return (nll_core(name, input, target, weight, ignore_index, reduction))
end

function losses._cross_entropy(name, input, target, weight, ignore_index, reduction, label_smoothing)
  check_reduction(name, reduction)
  check_tensor(name, input, "input")
  check_tensor(name, target, "target")
  if type(label_smoothing) ~= "number" or not (label_smoothing >= 0 and label_smoothing <= 1) then
    raise("%s: label_smoothing must be between 0.0 and 1.0, got %s", name, tostring(label_smoothing))
  end
  local cdim, c = class_layout(name, input)
  local logp = lucid.log_softmax(input, cdim)

  if same_shape(input.shape, target.shape) then
    -- class probabilities
    if ignore_index ~= -100 then
      raise("%s: ignore_index is not supported with class probabilities as target", name)
    end
    weight = check_weight(name, weight, c)
    local t = target
    if label_smoothing > 0 then t = t * (1 - label_smoothing) + label_smoothing / c end
    local l = logp * t
    if weight then
      local wshape = {}
      for i = 1, input.ndim do wshape[i] = i == cdim and c or 1 end
      l = l * weight:reshape(wshape)
    end
    l = -l
    if reduction == "none" then return l:sum(cdim) end
    if reduction == "sum" then return l:sum() end
    return l:sum() / (input:numel() / c)
  end

  local nll, k = nll_core(name, logp, target, weight, ignore_index, reduction)
  if label_smoothing == 0 then return nll end
  local smooth = k.rows
  if k.weight then smooth = smooth * k.weight end
  smooth = -smooth:sum(2) * k.keep:to(smooth.dtype)      -- {M}
  local ret
  if reduction == "none" then ret = smooth:reshape(k.expected)
  elseif reduction == "sum" then ret = smooth:sum()
  else ret = smooth:sum() / k.w:sum() end
  return nll * (1 - label_smoothing) + ret * (label_smoothing / c)
end

-- ---- binary cross entropy ------------------------------------------------------

-- PyTorch's formulas, forward and backward, so that values and gradients
-- agree at the edges too (log clamped at -100, the gradient's denominator
-- x (1 - x) at 1e-12).
local BCE = autograd.Function:extend("BinaryCrossEntropy")

-- PyTorch's EPSILON is the float 1e-12, i.e. this double
local BCE_EPSILON = 9.999999960041972e-13

function BCE.forward(ctx, x, t, w)
  ctx:save_for_backward(x, t, w)
  local l = (t - 1) * lucid.clamp(lucid.log1p(-x), -100) - t * lucid.clamp(lucid.log(x), -100)
  if w then l = l * w end
  return l
end

function BCE.backward(ctx, g)
  local x, t, w = ctx.saved_tensors[1], ctx.saved_tensors[2], ctx.saved_tensors[3]
  local gx, gt
  if ctx.needs_input_grad[1] then
    gx = g * (x - t) / lucid.clamp((1 - x) * x, BCE_EPSILON)
    if w then gx = gx * w end
  end
  if ctx.needs_input_grad[2] then
    gt = g * (lucid.clamp(lucid.log1p(-x), -100) - lucid.clamp(lucid.log(x), -100))
    if w then gt = gt * w end
  end
  return gx, gt, nil
end

local function check_broadcast_weight(name, what, w, shape)
  if w == nil then return nil end
  check_tensor(name, w, what)
  local ws = w.shape
  local ok = #ws <= #shape
  for i = 1, #ws do
    local s, d = ws[#ws + 1 - i], shape[#shape + 1 - i]
    ok = ok and (s == d or s == 1)
  end
  if not ok then
    raise("%s: %s %s does not broadcast to input %s", name, what, shape_str(ws), shape_str(shape))
  end
  return w:detach()
end

function losses._bce(name, input, target, weight, reduction)
  check_reduction(name, reduction)
  check_same_shape(name, input, target)
  if input.dtype ~= "float32" and input.dtype ~= "float64" then  -- probabilities: floats only
    raise("%s: input must be a float tensor of probabilities, got %s", name, input.dtype)
  end
  weight = check_broadcast_weight(name, "weight", weight, input.shape)
  if input:numel() > 0 then
    local lo, hi = lucid.min(input):item(), lucid.max(input):item()
    if not (lo >= 0 and hi <= 1) then
      raise("%s: all elements of input should be between 0 and 1 (found %s)", name,
        tostring(not (lo >= 0) and lo or hi))
    end
  end
  return reduce(BCE.apply(input, target, weight), reduction)
end

-- log(sigmoid(z)), stably: -(max(-z, 0) + log1p(exp(-|z|)))
local function log_sigmoid(z)
  return -(lucid.relu(-z) + lucid.log1p(lucid.exp(-lucid.abs(z))))
end

local BCEWithLogits = autograd.Function:extend("BinaryCrossEntropyWithLogits")

function BCEWithLogits.forward(ctx, x, t, w, pw)
  ctx:save_for_backward(x, t, w, pw)
  local m = lucid.clamp(-x, 0)
  local lse = lucid.log(lucid.exp(-m) + lucid.exp(-x - m)) + m    -- log(1 + exp(-x))
  local l
  if pw then
    l = (1 - t) * x + ((pw - 1) * t + 1) * lse
  else
    l = (1 - t) * x + lse
  end
  if w then l = l * w end
  return l
end

function BCEWithLogits.backward(ctx, g)
  local s = ctx.saved_tensors
  local x, t, w, pw = s[1], s[2], s[3], s[4]
  local gx, gt
  if ctx.needs_input_grad[1] then
    if pw then
      local pt = pw * t
      gx = ((pt + 1 - t) * lucid.sigmoid(x) - pt) * g
    else
      gx = (lucid.sigmoid(x) - t) * g
    end
    if w then gx = gx * w end
  end
  if ctx.needs_input_grad[2] then
    if pw then
      gt = (log_sigmoid(-x) - log_sigmoid(x) * pw) * g
    else
      gt = -x * g
    end
    if w then gt = gt * w end
  end
  return gx, gt, nil, nil
end

function losses._bce_with_logits(name, input, target, weight, pos_weight, reduction)
  check_reduction(name, reduction)
  check_same_shape(name, input, target)
  weight = check_broadcast_weight(name, "weight", weight, input.shape)
  pos_weight = check_broadcast_weight(name, "pos_weight", pos_weight, input.shape)
  return reduce(BCEWithLogits.apply(input, target, weight, pos_weight), reduction)
end

-- ---- the functional forms ----------------------------------------------------------

local F = "nn.functional."
local S = {}
for name in pairs(ENTRIES) do S[name] = args.schema(F .. name, losses.schema_entries(name)) end

function losses.mse_loss(input, target, ...)
  return losses._mse(F .. "mse_loss", input, target, S.mse_loss:parse(...))
end

function losses.l1_loss(input, target, ...)
  return losses._l1(F .. "l1_loss", input, target, S.l1_loss:parse(...))
end

function losses.huber_loss(input, target, ...)
  return losses._huber(F .. "huber_loss", input, target, S.huber_loss:parse(...))
end

function losses.smooth_l1_loss(input, target, ...)
  return losses._smooth_l1(F .. "smooth_l1_loss", input, target, S.smooth_l1_loss:parse(...))
end

function losses.cross_entropy(input, target, ...)
  return losses._cross_entropy(F .. "cross_entropy", input, target, S.cross_entropy:parse(...))
end

function losses.nll_loss(input, target, ...)
  return losses._nll(F .. "nll_loss", input, target, S.nll_loss:parse(...))
end

function losses.binary_cross_entropy(input, target, ...)
  return losses._bce(F .. "binary_cross_entropy", input, target, S.binary_cross_entropy:parse(...))
end

function losses.binary_cross_entropy_with_logits(input, target, ...)
  local weight, reduction, pos_weight = S.binary_cross_entropy_with_logits:parse(...)
  return losses._bce_with_logits(F .. "binary_cross_entropy_with_logits", input, target, weight,
    pos_weight, reduction)
end

return losses
