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

--- An option as PyTorch's extra_repr prints it: floats with a ".0" when
-- whole (on every Lua version), integer options (dims) as integers.
function losses.repr(v, integer)
  if type(v) ~= "number" then return tostring(v) end
  if integer then return string.format("%d", v) end
  if v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%.1f", v) end
  return tostring(v)
end

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
  kl_div = {{"reduction", "mean", args.one_of("mean", "batchmean", "sum", "none")},
    {"log_target", false, "boolean"}},
  cosine_embedding_loss = {{"margin", 0.0, "number"}, {"reduction", "mean", losses.REDUCTION}},
  margin_ranking_loss = {{"margin", 0.0, "number"}, {"reduction", "mean", losses.REDUCTION}},
  triplet_margin_loss = {{"margin", 1.0, "number"}, {"p", 2.0, "positive"}, {"eps", 1e-6, "number"},
    {"swap", false, "boolean"}, {"reduction", "mean", losses.REDUCTION}},
  multilabel_soft_margin_loss = {{"weight", nil, "tensor"}, {"reduction", "mean", losses.REDUCTION}},
  poisson_nll_loss = {{"log_input", true, "boolean"}, {"full", false, "boolean"}, {"eps", 1e-8, "number"},
    {"reduction", "mean", losses.REDUCTION}},
  gaussian_nll_loss = {{"full", false, "boolean"}, {"eps", 1e-6, "nonneg"}, {"reduction", "mean", losses.REDUCTION}},
  cosine_similarity = {{"dim", 2, "integer"}, {"eps", 1e-8, "number"}},
  ctc_loss = {{"blank", 1, "posint"}, {"reduction", "mean", losses.REDUCTION}, {"zero_infinity", false, "boolean"}},
  pairwise_distance = {{"p", 2.0, "number"}, {"eps", 1e-6, "number"}, {"keepdim", false, "boolean"}},
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

-- ---- distances and similarities ---------------------------------------------------

local function check_float(name, x, what)
  check_tensor(name, x, what)
  if x.dtype ~= "float32" and x.dtype ~= "float64" then
    raise("%s: %s must be a float tensor, got %s", name, what, x.dtype)
  end
end

-- the broadcast shape of a and b, or an error naming both
local function broadcast_shape(name, wa, a, wb, b)
  local n = math.max(#a, #b)
  local out = {}
  for i = 1, n do
    local x, y = a[#a - n + i] or 1, b[#b - n + i] or 1
    if x ~= y and x ~= 1 and y ~= 1 then
      raise("%s: %s %s and %s %s do not broadcast", name, wa, shape_str(a), wb, shape_str(b))
    end
    out[i] = x == 1 and y or x
  end
  return out
end

-- A value v whose gradient flows through as if it were `through` (PyTorch's
-- clamps done under no_grad on a tensor that stays in the graph).
local function value_of(v, through)
  return through + (v - through):detach()
end

--- cosine similarity along dim: sum(x1 x2) / sqrt(|x1|^2 |x2|^2), each
-- squared norm clamped at eps^2 (PyTorch 1.13: the clamp not differentiated)
function losses._cosine_similarity(name, x1, x2, dim, eps)
  check_float(name, x1, "x1")
  check_float(name, x2, "x2")
  local shape = broadcast_shape(name, "x1", x1.shape, "x2", x2.shape)
  local n = #shape
  if not (dim >= -n and dim <= n and dim ~= 0) or n == 0 then
    raise("%s: dim %d is out of range for %d-d inputs (expected %s)", name, dim, n,
      n == 0 and "inputs with a dim" or string.format("-%d..-1 or 1..%d", n, n))
  end
  if #x1.shape < n then x1 = x1:expand(shape) end
  if #x2.shape < n then x2 = x2:expand(shape) end
  local w1, w2 = (x1 * x1):sum(dim), (x2 * x2):sum(dim)
  w1 = value_of(lucid.clamp_min(w1:detach(), eps * eps), w1)
  w2 = value_of(lucid.clamp_min(w2:detach(), eps * eps), w2)
  return (x1 * x2):sum(dim) * lucid.rsqrt(w1 * w2)
end

--- pairwise distance: the p-norm of x1 - x2 + eps over the last dim
function losses._pairwise_distance(name, x1, x2, p, eps, keepdim)
  check_float(name, x1, "x1")
  check_float(name, x2, "x2")
  local shape = broadcast_shape(name, "x1", x1.shape, "x2", x2.shape)
  if #shape == 0 then
    raise("%s: x1 and x2 must have at least one dim, got %s and %s", name, shape_str(x1.shape),
      shape_str(x2.shape))
  end
  return lucid.linalg.vector_norm(x1 - x2 + eps, p, -1, keepdim)
end

-- ---- more losses ------------------------------------------------------------------

--- KL divergence of target from input (log-probabilities):
-- target (log target - input), or exp(target) (target - input) with log_target
function losses._kl_div(name, input, target, reduction, log_target)
  local problem = ENTRIES.kl_div[1][3](reduction, "reduction")
  if problem then raise("%s: %s", name, problem) end
  check_same_shape(name, input, target)
  local l
  if log_target then
    l = lucid.exp(target) * (target - input)
  else
    l = lucid.xlogy(target, target) - target * input
  end
  if reduction == "batchmean" then
    if input.ndim == 0 then return l:sum() end
    return l:sum() / input.shape[1]
  end
  return reduce(l, reduction)
end

-- target of -1 and 1 values with the shape `expected`
local function check_sign_target(name, target, expected, what)
  check_tensor(name, target, "target")
  if not same_shape(target.shape, expected) then
    raise("%s: target %s does not match %s (expected %s)", name, shape_str(target.shape), what,
      shape_str(expected))
  end
end

--- 1 - cos(x1, x2) where target is 1, max(0, cos - margin) where it is -1
function losses._cosine_embedding(name, x1, x2, target, margin, reduction)
  check_reduction(name, reduction)
  check_float(name, x1, "input1")
  check_float(name, x2, "input2")
  if not same_shape(x1.shape, x2.shape) or x1.ndim == 0 or x1.ndim > 2 then
    raise("%s: input1 %s and input2 %s must be of one shape, {N, D} or {D}", name,
      shape_str(x1.shape), shape_str(x2.shape))
  end
  local expected = x1.ndim == 2 and {x1.shape[1]} or {}
  check_sign_target(name, target, expected, "input1 " .. shape_str(x1.shape))
  local d = x1.ndim
  local EPSILON = 1e-12
  local prod = (x1 * x2):sum(d)
  local m1 = (x1 * x1):sum(d) + EPSILON
  local m2 = (x2 * x2):sum(d) + EPSILON
  local cos = prod / lucid.sqrt(m1 * m2)
  local t = target:detach()
  local zeros = cos * 0
  local l = lucid.where(lucid.eq(t, 1), 1 - cos, zeros)
    + lucid.where(lucid.eq(t, -1), lucid.clamp_min(cos - margin, 0), zeros)
  return reduce(l, reduction)
end

--- max(0, -target (x1 - x2) + margin)
function losses._margin_ranking(name, x1, x2, target, margin, reduction)
  check_reduction(name, reduction)
  check_float(name, x1, "input1")
  check_float(name, x2, "input2")
  check_tensor(name, target, "target")
  if not same_shape(x1.shape, x2.shape) or not same_shape(x1.shape, target.shape) then
    raise("%s: input1 %s, input2 %s and target %s must be of one shape", name,
      shape_str(x1.shape), shape_str(x2.shape), shape_str(target.shape))
  end
  return reduce(lucid.clamp_min(-target * (x1 - x2) + margin, 0), reduction)
end

--- max(0, margin + d(anchor, positive) - d(anchor, negative)), d the p-norm
-- distance (with swap: the smaller of d(a, n) and d(p, n))
function losses._triplet_margin(name, a, pos, neg, margin, p, eps, swap, reduction)
  check_reduction(name, reduction)
  check_float(name, a, "anchor")
  check_float(name, pos, "positive")
  check_float(name, neg, "negative")
  local nd = a.ndim
  if not (nd == 1 or nd == 2) or pos.ndim ~= nd or neg.ndim ~= nd then
    raise("%s: anchor %s, positive %s and negative %s must all be {N, D} or all {D}", name,
      shape_str(a.shape), shape_str(pos.shape), shape_str(neg.shape))
  end
  local d_ap = losses._pairwise_distance(name, a, pos, p, eps, false)
  local d_an = losses._pairwise_distance(name, a, neg, p, eps, false)
  if swap then
    local d_pn = losses._pairwise_distance(name, pos, neg, p, eps, false)
    d_an = lucid.minimum(d_an, d_pn)
  end
  return reduce(lucid.clamp_min(d_ap - d_an + margin, 0), reduction)
end

--- -(t log sigmoid(x) + (1 - t) log sigmoid(-x)), weighted, averaged over the classes
function losses._multilabel_soft_margin(name, input, target, weight, reduction)
  check_reduction(name, reduction)
  check_same_shape(name, input, target)
  check_float(name, input, "input")
  if input.ndim == 0 then raise("%s: input must have a class dim, got a 0-d tensor", name) end
  weight = check_broadcast_weight(name, "weight", weight, input.shape)
  local l = -(target * log_sigmoid(input) + (1 - target) * log_sigmoid(-input))
  if weight then l = l * weight end
  local cdim = input.ndim
  l = l:sum(cdim) / input.shape[cdim]
  return reduce(l, reduction)
end

--- exp(x) - t x (log_input) or x - t log(x + eps); full adds Stirling's
-- t log t - t + 0.5 log(2 pi t) where t > 1
function losses._poisson_nll(name, input, target, log_input, full, eps, reduction)
  check_reduction(name, reduction)
  check_same_shape(name, input, target)
  check_float(name, input, "input")
  local l
  if log_input then
    l = lucid.exp(input) - target * input
  else
    l = input - target * lucid.log(input + eps)
  end
  if full then
    local big = lucid.gt(target:detach(), 1)
    local safe = lucid.where(big, target, 2)  -- no log of 0 even where masked out
    local stirling = safe * lucid.log(safe) - safe + lucid.log(safe * (2 * math.pi)) * 0.5
    l = l + lucid.where(big, stirling, 0)
  end
  return reduce(l, reduction)
end

--- 0.5 (log var + (input - target)^2 / var) (+ 0.5 log 2 pi with full), var
-- clamped at eps (the clamp not differentiated, as PyTorch)
function losses._gaussian_nll(name, input, target, var, full, eps, reduction)
  check_reduction(name, reduction)
  check_float(name, input, "input")
  check_tensor(name, target, "target")
  check_tensor(name, var, "var")
  local is, vs = input.shape, var.shape
  if not same_shape(vs, is) then
    local head = {}
    for i = 1, #is - 1 do head[i] = is[i] end
    local vhead = {}
    for i = 1, #vs - 1 do vhead[i] = vs[i] end
    if #is > 0 and same_shape(vs, head) then
      var = var:unsqueeze(-1)
    elseif not (#is > 0 and #vs == #is and same_shape(vhead, head) and vs[#vs] == 1) then
      raise("%s: var %s is of incorrect size for input %s (expected %s, %s or the last dim 1)", name,
        shape_str(vs), shape_str(is), shape_str(is), shape_str(head))
    end
  end
  broadcast_shape(name, "input", is, "target", target.shape)
  if var:numel() > 0 and lucid.min(var):item() < 0 then raise("%s: var has negative entry/entries", name) end
  var = value_of(lucid.clamp_min(var:detach(), eps), var)
  local d = input - target
  local l = (lucid.log(var) + d * d / var) * 0.5
  if full then l = l + 0.5 * math.log(2 * math.pi) end
  return reduce(l, reduction)
end


-- ---- CTC --------------------------------------------------------------------------

local INT_DTYPES = {int64 = true, int32 = true, uint8 = true}

-- lengths (a table of whole numbers, a number, or an integer tensor) as an
-- int64 tensor {n}
local function lengths_of(name, what, v, n)
  local t
  if type(v) == "number" then v = {v} end
  if C.is_tensor(v) then
    if not INT_DTYPES[v.dtype] then raise("%s: %s must be an integer tensor or a table, got %s", name, what, v.dtype) end
    t = v:detach():to("int64"):reshape(-1)
  elseif type(v) == "table" then
    for i = 1, #v do
      if type(v[i]) ~= "number" or v[i] ~= math.floor(v[i]) then
        raise("%s: %s[%d] must be a whole number, got %s", name, what, i, tostring(v[i]))
      end
    end
    t = lucid.tensor(#v > 0 and v or {}, {dtype = "int64"})
    if #v == 0 then t = lucid.zeros({0}, {dtype = "int64"}) end
  else
    raise("%s: %s must be a table of lengths or an int64 tensor, got %s", name, what, type(v))
  end
  if t:numel() ~= n then
    raise("%s: %s has %d values, expected %d (one per sample)", name, what, t:numel(), n)
  end
  return t
end

--- The CTC loss of log_probs {T, N, C} (or {T, C}) for 1-based targets:
-- per-sample nll from the core's kernel, then zero_infinity and reduction
-- as PyTorch ("mean" divides each by its target length first).
function losses._ctc(name, log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity)
  check_reduction(name, reduction)
  check_float(name, log_probs, "log_probs")
  check_tensor(name, targets, "targets")
  local batched = log_probs.ndim == 3
  if not batched and log_probs.ndim ~= 2 then
    raise("%s: log_probs must be {T, N, C} or {T, C}, got %s", name, shape_str(log_probs.shape))
  end
  local lp = batched and log_probs or log_probs:unsqueeze(2)
  local n, c = lp.shape[2], lp.shape[3]
  if blank > c then raise("%s: blank %d is out of range 1..%d (the classes of log_probs %s)", name, blank, c,
    shape_str(log_probs.shape)) end
  if not INT_DTYPES[targets.dtype] then
    raise("%s: targets must be an integer tensor (int64) of 1-based classes, got %s", name, targets.dtype)
  end
  local tg = targets:detach():to("int64")
  if not batched then
    if tg.ndim ~= 1 then raise("%s: targets must be {S} with log_probs {T, C}, got %s", name, shape_str(tg.shape)) end
    tg = tg:unsqueeze(1)
  end
  local il = lengths_of(name, "input_lengths", input_lengths, n)
  local tl = lengths_of(name, "target_lengths", target_lengths, n)
  for b, v in ipairs(il:tolist()) do
    if v < 0 or v > lp.shape[1] then
      raise("%s: input_lengths[%d] is %d, expected 0..%d (T)", name, b, v, lp.shape[1])
    end
  end
  -- the counted targets must be classes other than blank (1-based messages)
  local tlv, flat, width = tl:tolist(), tg:reshape(-1):tolist(), tg.ndim == 2 and tg.shape[2] or nil
  local off = 0
  for b = 1, n do
    local len = tlv[b]
    if len < 0 then raise("%s: target_lengths[%d] is %d, expected at least 0", name, b, len) end
    if width and len > width then
      raise("%s: target_lengths[%d] is %d, more than the %d columns of targets %s", name, b, len, width,
        shape_str(tg.shape))
    end
    local base = width and (b - 1) * width or off
    for k = 1, len do
      local v = flat[base + k]
      if v == nil then
        raise("%s: targets has %d values, target_lengths sum to more", name, #flat)
      end
      if v < 1 or v > c or v == blank then
        raise("%s: target %d of sample %d is %d, expected a class in 1..%d other than blank (%d)", name, k, b,
          v, c, blank)
      end
    end
    off = off + len
  end
  local nll = C._ctc_loss(lp, tg - 1, il, tl, blank - 1, zero_infinity)
  if reduction == "sum" then return nll:sum() end
  if reduction == "mean" then return (nll / lucid.clamp_min(tl:to(nll.dtype), 1)):mean() end
  return batched and nll or nll:reshape({})
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

function losses.kl_div(input, target, ...)
  return losses._kl_div(F .. "kl_div", input, target, S.kl_div:parse(...))
end

function losses.cosine_embedding_loss(input1, input2, target, ...)
  local margin, reduction = S.cosine_embedding_loss:parse(...)
  return losses._cosine_embedding(F .. "cosine_embedding_loss", input1, input2, target, margin, reduction)
end

function losses.margin_ranking_loss(input1, input2, target, ...)
  local margin, reduction = S.margin_ranking_loss:parse(...)
  return losses._margin_ranking(F .. "margin_ranking_loss", input1, input2, target, margin, reduction)
end

function losses.triplet_margin_loss(anchor, positive, negative, ...)
  return losses._triplet_margin(F .. "triplet_margin_loss", anchor, positive, negative,
    S.triplet_margin_loss:parse(...))
end

function losses.multilabel_soft_margin_loss(input, target, ...)
  return losses._multilabel_soft_margin(F .. "multilabel_soft_margin_loss", input, target,
    S.multilabel_soft_margin_loss:parse(...))
end

function losses.poisson_nll_loss(input, target, ...)
  return losses._poisson_nll(F .. "poisson_nll_loss", input, target, S.poisson_nll_loss:parse(...))
end

function losses.gaussian_nll_loss(input, target, var, ...)
  return losses._gaussian_nll(F .. "gaussian_nll_loss", input, target, var, S.gaussian_nll_loss:parse(...))
end

function losses.ctc_loss(log_probs, targets, input_lengths, target_lengths, ...)
  return losses._ctc(F .. "ctc_loss", log_probs, targets, input_lengths, target_lengths, S.ctc_loss:parse(...))
end

function losses.cosine_similarity(x1, x2, ...)
  return losses._cosine_similarity(F .. "cosine_similarity", x1, x2, S.cosine_similarity:parse(...))
end

function losses.pairwise_distance(x1, x2, ...)
  return losses._pairwise_distance(F .. "pairwise_distance", x1, x2, S.pairwise_distance:parse(...))
end

return losses
