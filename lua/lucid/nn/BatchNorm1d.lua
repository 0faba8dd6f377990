--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.BatchNorm1d(num_features [, eps = 1e-5 [, momentum = 0.1 [, affine = true
-- [, track_running_stats = true]]]]), or with a table of those names:
-- normalises each channel of an input {N, C} or {N, C, L} (C = num_features)
-- y = (x - mean) / sqrt(var + eps) * weight + bias.
--
-- In training mode (and always without running stats) mean and var are the
-- batch's, over N (and L), var biased; the running statistics (buffers
-- running_mean, running_var, and num_batches_tracked, an int64 count as
-- PyTorch's, which model:to and model:double leave alone) are then updated as
-- running = (1 - momentum) * running + momentum * batch, with the unbiased
-- batch variance. momentum = false uses the cumulative average instead
-- (PyTorch's momentum=None). In eval mode the running statistics are used.
--
-- BatchNorm2d extends this class (PyTorch's _BatchNorm): a subclass sets its
-- own schema and the input ranks it takes (input_ranks, input_text); the
-- arithmetic is lucid/nn/_norm.lua's, shared with InstanceNorm2d and the
-- functional forms.
local lucid = require("lucid")
local nn = require("lucid.nn")
local args = require("lucid._args")
local norm = require("lucid.nn._norm")
local raise, shape_str = args.raise, args.shape_str

--- Normalises each channel of {N, C} or {N, C, L} input with the batch's
-- statistics in training mode (updating the running_mean and running_var
-- buffers) and the running ones in eval mode, then scales by weight and adds
-- bias.
-- @function BatchNorm1d
-- @usage nn.BatchNorm1d(num_features [, eps = 1e-5 [, momentum = 0.1 [, affine = true [, track_running_stats = true]]]])
-- @within nn: more layers
local BatchNorm1d = nn.Module:extend("BatchNorm1d")

-- momentum: a number, or false for the cumulative average (PyTorch's None)
local function momentum_check(v, name)
  if v ~= false and type(v) ~= "number" then
    return name .. " must be a number or false, got " .. args.describe(v)
  end
end

-- The options schema of a batch norm class named fname (BatchNorm1d's and
-- its subclasses').
function BatchNorm1d._make_schema(fname)
  return args.schema(fname, {
    {"num_features", args.REQUIRED, "posint"},
    {"eps", 1e-5, "number"},
    {"momentum", 0.1, momentum_check},
    {"affine", true, "boolean"},
    {"track_running_stats", true, "boolean"},
    unsupported = {"device", "dtype"},
  })
end
BatchNorm1d.schema = BatchNorm1d._make_schema("nn.BatchNorm1d")
BatchNorm1d.input_ranks = {[2] = true, [3] = true}
BatchNorm1d.input_text = "2-d or 3-d input {N, C} or {N, C, L}"

function BatchNorm1d:__init(...)
  local num_features, eps, momentum, affine, track_running_stats = self.schema:parse(...)
  args.numel(self.schema.name, "running statistics", num_features)
  self.num_features, self.eps, self.momentum = num_features, eps, momentum
  self.affine, self.track_running_stats = affine, track_running_stats
  if self.affine then
    self.weight = nn.Parameter(lucid.ones(num_features))
    self.bias = nn.Parameter(lucid.zeros(num_features))
  end
  if self.track_running_stats then
    self:register_buffer("running_mean", lucid.zeros(num_features))
    self:register_buffer("running_var", lucid.ones(num_features))
    self:register_buffer("num_batches_tracked", lucid.tensor(0, {dtype = "int64"}))
  end
end

--- Zeroes the running statistics (mean 0, var 1, no batches).
-- @function BatchNorm1d:reset_running_stats
-- @usage nn.BatchNorm1d:reset_running_stats()
-- @within nn: more layers
function BatchNorm1d:reset_running_stats()
  if not self.track_running_stats then return end
  lucid.no_grad(function()
    self.running_mean:fill_(0)
    self.running_var:fill_(1)
    self.num_batches_tracked:fill_(0)
  end)
end

local batch_norm = require("lucid.core")._batch_norm

function BatchNorm1d:forward(x)
  local fname = self.schema.name
  -- reuse_buffers in eval mode: after a first call through the checks
  -- below, the same shape writes into that call's result
  local eval = not self.training and self.track_running_stats
  local out = eval and rawget(self, "_reuse") and self:_kept(x)
  if out then
    local p, b = self._parameters, self._buffers
    return batch_norm(x, p.weight, p.bias, b.running_mean, b.running_var, false, self.eps, fname, out)
  end
  args.tensor(fname, x)
  local xs, c = x.shape, self.num_features
  if not self.input_ranks[#xs] then
    raise(string.format("%s: expected %s, got %s", fname, self.input_text, shape_str(xs)))
  end
  if xs[2] ~= c then
    raise(string.format("%s: input %s has %d channels in dim 2, expected %d (num_features)",
      fname, shape_str(xs), xs[2], c))
  end
  local use_batch = self.training or not self.track_running_stats
  local update = self.training and self.track_running_stats
  local f = self.momentum
  if use_batch and x:numel() / c <= 1 then  -- before the count below moves
    raise("%s: expected more than 1 value per channel when training, got input %s", fname, shape_str(xs))
  end
  if update then
    lucid.no_grad(function()
      local nbt = self.num_batches_tracked
      nbt:copy_(nbt + 1)
      if f == false then f = 1 / nbt:item() end
    end)
  end
  local y = norm.batch_norm(fname, x, (update or not use_batch) and self.running_mean or nil,
    (update or not use_batch) and self.running_var or nil, self.weight, self.bias, use_batch, f, self.eps)
  if eval and rawget(self, "_reuse") then self:_keep(x, y) end
  return y
end

function BatchNorm1d:extra_repr()
  return string.format("%d, eps=%s, momentum=%s, affine=%s, track_running_stats=%s", self.num_features,
    tostring(self.eps), tostring(self.momentum), tostring(self.affine), tostring(self.track_running_stats))
end

return BatchNorm1d
