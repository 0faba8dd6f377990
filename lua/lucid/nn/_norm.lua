--- Part of lucid.nn.functional; help() and `make doc` read these comments.
-- @module lucid.nn.functional

-- The normalisations over channels that BatchNorm1d, BatchNorm2d,
-- InstanceNorm2d and GroupNorm share (and their functional forms, merged
-- into lucid.nn.functional): all run on the core's batch_norm (a fused
-- kernel and backward, core/pool.c, through lucid.core._batch_norm), group
-- and instance norms as a batch norm of x viewed as {1, N G, ...}; biased
-- variance for normalising, the unbiased one for running statistics.
local lucid = require("lucid")
local C = require("lucid.core")
local args = require("lucid._args")
local raise, shape_str = args.raise, args.shape_str

local M = {}

-- {1, C, 1, ...} for x of ndim dims: a {C} vector broadcast along dim 2.
local function channel_shape(ndim, c)
  local s = {1, c}
  for i = 3, ndim do s[i] = 1 end
  return s
end
M.channel_shape = channel_shape

-- running = (1 - f) running + f batch, for mean and (unbiased) var, under
-- no_grad: what every layer with running statistics does after a batch.
function M.update_running(running_mean, running_var, mean, var, count, f)
  lucid.no_grad(function()
    local unbiased = var:detach() * (count / math.max(count - 1, 1))
    if count <= 1 then unbiased = var:detach() * (0 / 0) end  -- PyTorch's NaN for one value
    running_mean:copy_(running_mean * (1 - f) + mean:detach() * f)
    running_var:copy_(running_var * (1 - f) + unbiased * f)
  end)
end

--- The batch norm of x {N, C, ...}: with use_batch, the batch's statistics
-- (and, given running tensors, their update by momentum f), else the
-- running ones; then weight and bias (either may be nil).
function M.batch_norm(fname, x, running_mean, running_var, weight, bias, use_batch, f, eps)
  if not use_batch then
    return (C._batch_norm(x, weight, bias, running_mean, running_var, false, eps, fname))
  end
  local count = x:numel() / x.shape[2]
  if count <= 1 then
    raise("%s: expected more than 1 value per channel when training, got input %s", fname,
      shape_str(x))
  end
  -- the running tensors go in too, unread in training, so that the core can
  -- refuse to compile a forward that updates them (a plan would not)
  local y, mean, var = C._batch_norm(x, weight, bias, running_mean, running_var, true, eps, fname)
  if running_mean then M.update_running(running_mean, running_var, mean, var, count, f) end
  return y
end

-- y * weight + bias per channel (either may be nil).
local function affine(y, w, b)
  local bshape = channel_shape(y.ndim, y.shape[2])
  if w then y = y * w:reshape(bshape) end
  if b then y = y + b:reshape(bshape) end
  return y
end

-- Checks a {C} tensor argument of a functional form (nil passes).
local function vector(fname, name, t, c)
  if t == nil then return end
  args.tensor(fname, t, name)
  if t.ndim ~= 1 or t.shape[1] ~= c then
    raise("%s: %s %s must have shape {%d} (the input's channels)", fname, name, shape_str(t), c)
  end
end

local function at_least(fname, x, n, what)
  args.tensor(fname, x)
  if x.ndim < n then raise("%s: expected an input %s, got %s", fname, what, shape_str(x)) end
end

local F = {}
M.F = F

local BN = args.schema("nn.functional.batch_norm", {
  {"input", args.REQUIRED, "tensor"},
  {"running_mean", nil, "tensor"},
  {"running_var", nil, "tensor"},
  {"weight", nil, "tensor"},
  {"bias", nil, "tensor"},
  {"training", false, "boolean"},
  {"momentum", 0.1, "number"},
  {"eps", 1e-5, "number"},
})

--- Batch normalisation of {N, C, ...} over every dim but C, as PyTorch's
-- F.batch_norm: with training the batch's statistics, updating running_mean and running_var in
-- place when given (momentum; the unbiased variance), else the running ones.
-- @function batch_norm
-- @usage nn.functional.batch_norm(input, running_mean, running_var [, weight, bias, training = false, momentum = 0.1, eps = 1e-5])
-- @within nn: modules
function F.batch_norm(...)
  local fname = "nn.functional.batch_norm"
  local x, rm, rv, w, b, training, momentum, eps = BN:parse(...)
  at_least(fname, x, 2, "{N, C, ...}")
  local c = x.shape[2]
  vector(fname, "running_mean", rm, c)
  vector(fname, "running_var", rv, c)
  vector(fname, "weight", w, c)
  vector(fname, "bias", b, c)
  if (rm == nil) ~= (rv == nil) then raise("%s: running_mean and running_var go together", fname) end
  if not training and rm == nil then
    raise("%s: running_mean and running_var are needed when not training", fname)
  end
  if training then return M.batch_norm(fname, x, rm, rv, w, b, true, momentum, eps) end
  return M.batch_norm(fname, x, rm, rv, w, b, false, momentum, eps)
end

-- The number of elements of each (n, c) of a shape {N, C, ...} (explicit: a
-- reshape's -1 cannot be worked out when N or C is 0).
local function spatial(xs)
  local k = 1
  for i = 3, #xs do k = k * xs[i] end
  return k
end

local GN = args.schema("nn.functional.group_norm", {
  {"input", args.REQUIRED, "tensor"},
  {"num_groups", args.REQUIRED, "posint"},
  {"weight", nil, "tensor"},
  {"bias", nil, "tensor"},
  {"eps", 1e-5, "number"},
})

--- The group norm of x {N, C, ...}.
function M.group_norm(fname, x, g, w, b, eps)
  at_least(fname, x, 2, "{N, C, ...}")
  local xs = x.shape
  local c = xs[2]
  if c % g ~= 0 then
    raise("%s: input %s has %d channels, not divisible by num_groups (%d)", fname, shape_str(x), c, g)
  end
  vector(fname, "weight", w, c)
  vector(fname, "bias", b, c)
  -- each (sample, group) is a channel of a batch norm over x viewed as {1, N G, ...}
  local y = C._batch_norm(x:reshape(1, xs[1] * g, c / g * spatial(xs)), nil, nil, nil, nil, true, eps, fname)
  return affine(y:reshape(xs), w, b)
end

--- Group normalisation as PyTorch's F.group_norm: the C channels of {N, C,
-- ...} split into num_groups groups, each normalised over its channels and
-- the other dims (biased variance), then weight and bias per channel.
-- @function group_norm
-- @usage nn.functional.group_norm(input, num_groups [, weight, bias, eps = 1e-5])
-- @within nn: modules
function F.group_norm(...)
  return M.group_norm("nn.functional.group_norm", GN:parse(...))
end

--- The instance norm of x {N, C, ...}: each (n, c) over the other dims.
-- With use_input_stats its statistics (updating the running ones, given,
-- by f with the batch's average), else the running ones.
function M.instance_norm(fname, x, rm, rv, w, b, use_input_stats, f, eps)
  local xs = x.shape
  local n, c = xs[1], xs[2]
  if not use_input_stats then return (C._batch_norm(x, w, b, rm, rv, false, eps, fname)) end
  local count = x:numel() / (n * c)
  if count <= 1 then
    raise("%s: expected more than 1 spatial element when training, got input %s", fname, shape_str(x))
  end
  -- each (sample, channel) is a channel of a batch norm over x viewed as {1, N C, ...}
  local y, mean, var = C._batch_norm(x:reshape(1, n * c, spatial(xs)), nil, nil, nil, nil, true, eps, fname)
  if rm then
    M.update_running(rm, rv, mean:reshape(n, c):mean(1), var:reshape(n, c):mean(1), count, f)
  end
  return affine(y:reshape(xs), w, b)
end

local IN = args.schema("nn.functional.instance_norm", {
  {"input", args.REQUIRED, "tensor"},
  {"running_mean", nil, "tensor"},
  {"running_var", nil, "tensor"},
  {"weight", nil, "tensor"},
  {"bias", nil, "tensor"},
  {"use_input_stats", true, "boolean"},
  {"momentum", 0.1, "number"},
  {"eps", 1e-5, "number"},
})

--- Instance normalisation as PyTorch's F.instance_norm: each channel of
-- each sample of {N, C, ...} over the other dims; with use_input_stats
-- (the default) the input's statistics, updating running_mean and
-- running_var when given, else the running ones.
-- @function instance_norm
-- @usage nn.functional.instance_norm(input [, running_mean, running_var, weight, bias, use_input_stats = true, momentum = 0.1, eps = 1e-5])
-- @within nn: modules
function F.instance_norm(...)
  local fname = "nn.functional.instance_norm"
  local x, rm, rv, w, b, use, momentum, eps = IN:parse(...)
  at_least(fname, x, 3, "{N, C, ...} with at least one more dim")
  local c = x.shape[2]
  vector(fname, "running_mean", rm, c)
  vector(fname, "running_var", rv, c)
  vector(fname, "weight", w, c)
  vector(fname, "bias", b, c)
  if (rm == nil) ~= (rv == nil) then raise("%s: running_mean and running_var go together", fname) end
  if not use and rm == nil then
    raise("%s: running_mean and running_var are needed without use_input_stats", fname)
  end
  return M.instance_norm(fname, x, rm, rv, w, b, use, momentum, eps)
end

local LRN = args.schema("nn.functional.local_response_norm", {
  {"input", args.REQUIRED, "tensor"},
  {"size", args.REQUIRED, "posint"},
  {"alpha", 1e-4, "number"},
  {"beta", 0.75, "number"},
  {"k", 1.0, "number"},
})

--- x / (k + alpha / size * (sum of x^2 over `size` neighbouring channels))^beta.
function M.local_response_norm(fname, x, size, alpha, beta, k)
  at_least(fname, x, 3, "{N, C, ...} with at least one more dim")
  local xs = x.shape
  local n, c = xs[1], xs[2]
  if x:numel() == 0 then return x * 1 end  -- nothing to normalise (the pooling below needs a C)
  local sq = (x * x):reshape(n, 1, c, spatial(xs))
  local rest = sq.shape[4]
  local front, back = math.floor(size / 2), math.floor((size - 1) / 2)
  local parts = {}
  if front > 0 then parts[#parts + 1] = lucid.zeros(n, 1, front, rest, {dtype = x.dtype}) end
  parts[#parts + 1] = sq
  if back > 0 then parts[#parts + 1] = lucid.zeros(n, 1, back, rest, {dtype = x.dtype}) end
  local padded = #parts > 1 and lucid.cat(parts, 3) or sq
  local div = C._pool2d(padded, "avg", size, 1, 1, 1, 0, 0, 1, 1, false, false, 0, 0, true, 0, fname)
  div = (div:reshape(xs) * alpha + k) ^ beta
  return x / div
end

--- Local response normalisation as PyTorch's F.local_response_norm: each
-- element divided by (k + alpha * mean of x^2 over `size` channels around
-- it (zeros past the edges))^beta, over {N, C, ...}.
-- @function local_response_norm
-- @usage nn.functional.local_response_norm(input, size [, alpha = 1e-4, beta = 0.75, k = 1])
-- @within nn: modules
function F.local_response_norm(...)
  return M.local_response_norm("nn.functional.local_response_norm", LRN:parse(...))
end

return M
