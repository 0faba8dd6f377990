--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.InstanceNorm2d(num_features [, eps = 1e-5, momentum = 0.1, affine =
-- false, track_running_stats = false]): each channel of each sample
-- normalised over H and W (lucid/nn/_norm.lua). With track_running_stats,
-- training updates running_mean and running_var with the batch's average of
-- the instance statistics and eval mode uses them, as PyTorch's (whose
-- num_batches_tracked buffer never moves).
local nn = require("lucid.nn")
local args = require("lucid._args")
local norm = require("lucid.nn._norm")
local BatchNorm1d = require("lucid.nn.BatchNorm1d")
local raise, shape_str = args.raise, args.shape_str

--- Normalises each channel of each sample of {N, C, H, W} (or unbatched {C,
-- H, W}) over H and W, then (affine) scales by weight and adds bias.
-- @function InstanceNorm2d
-- @usage nn.InstanceNorm2d(num_features [, eps = 1e-5, momentum = 0.1, affine = false, track_running_stats = false])
-- @within nn: more layers
local InstanceNorm2d = nn.Module:extend("InstanceNorm2d")

InstanceNorm2d.schema = args.schema("nn.InstanceNorm2d", {
  {"num_features", args.REQUIRED, "posint"},
  {"eps", 1e-5, "number"},
  {"momentum", 0.1, "number"},  -- PyTorch's instance_norm takes no None
  {"affine", false, "boolean"},
  {"track_running_stats", false, "boolean"},
  unsupported = {"device", "dtype"},
})

-- The same parameters and buffers as a batch norm of these options.
InstanceNorm2d.__init = BatchNorm1d.__init
InstanceNorm2d.reset_running_stats = BatchNorm1d.reset_running_stats
InstanceNorm2d.extra_repr = BatchNorm1d.extra_repr

local C = require("lucid.core")

function InstanceNorm2d:forward(x)
  local fname = "nn.InstanceNorm2d"
  -- reuse_buffers on a batch (unless training updates running statistics):
  -- after a first call through the checks below, the same shape writes into
  -- that call's result, as a group norm of one channel per group or, with
  -- running statistics in eval mode, a batch norm
  local updates = self.training and self.track_running_stats
  local out = not updates and rawget(self, "_reuse") and self:_kept(x)
  if out then
    local p = self._parameters
    if self.track_running_stats then
      local b = self._buffers
      return C._batch_norm(x, p.weight, p.bias, b.running_mean, b.running_var, false, self.eps, fname, out)
    end
    return C._norm_out(x, "group", x:size(2), p.weight, p.bias, self.eps, out, fname)
  end
  args.tensor(fname, x)
  local xs, c = x.shape, self.num_features
  if #xs ~= 3 and #xs ~= 4 then
    raise("%s: expected 3-d or 4-d input {C, H, W} or {N, C, H, W}, got %s", fname, shape_str(xs))
  end
  local unbatched = #xs == 3
  if unbatched then x = x:unsqueeze(1) end
  -- PyTorch only warns about other channel counts when nothing is per channel
  if x.shape[2] ~= c and (self.affine or self.track_running_stats) then
    raise("%s: input %s has %d channels, expected %d (num_features)", fname, shape_str(xs),
      x.shape[2], c)
  end
  -- as PyTorch's, num_batches_tracked stays 0: only the momentum counts
  local use_input = self.training or not self.track_running_stats
  local y = norm.instance_norm(fname, x, self.track_running_stats and self.running_mean or nil,
    self.track_running_stats and self.running_var or nil, self.weight, self.bias, use_input,
    self.momentum, self.eps)
  if unbatched then return y:squeeze(1) end
  if not updates and rawget(self, "_reuse") then self:_keep(x, y) end
  return y
end

return InstanceNorm2d
