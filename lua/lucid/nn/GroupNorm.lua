--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.GroupNorm(num_groups, num_channels [, eps = 1e-5, affine = true]): the
-- channels of {N, C, ...} in num_groups groups, each normalised over its
-- channels and the other dims (lucid/nn/_norm.lua), then weight (ones) and
-- bias (zeros) per channel. The same in training and eval mode.
local lucid = require("lucid")
local nn = require("lucid.nn")
local args = require("lucid._args")
local norm = require("lucid.nn._norm")
local raise, shape_str = args.raise, args.shape_str

--- Normalises groups of channels of {N, C, ...} input, then scales by
-- weight and adds bias per channel.
-- @function GroupNorm
-- @usage nn.GroupNorm(num_groups, num_channels [, eps = 1e-5, affine = true])
-- @within nn: more layers
local GroupNorm = nn.Module:extend("GroupNorm")

GroupNorm.schema = args.schema("nn.GroupNorm", {
  {"num_groups", args.REQUIRED, "posint"},
  {"num_channels", args.REQUIRED, "posint"},
  {"eps", 1e-5, "number"},
  {"affine", true, "boolean"},
  unsupported = {"device", "dtype"},
})

function GroupNorm:__init(...)
  local g, c, eps, affine = GroupNorm.schema:parse(...)
  if c % g ~= 0 then
    raise("nn.GroupNorm: num_channels (%d) must be divisible by num_groups (%d)", c, g)
  end
  args.numel("nn.GroupNorm", "weight", c)
  self.num_groups, self.num_channels, self.eps, self.affine = g, c, eps, affine
  if affine then
    self.weight = nn.Parameter(lucid.ones(c))
    self.bias = nn.Parameter(lucid.zeros(c))
  end
end

local C = require("lucid.core")
local norm_out, is_grad_enabled = C._norm_out, C.is_grad_enabled

function GroupNorm:forward(x)
  -- reuse_buffers: after a first call through the checks below, the same
  -- shape writes into that call's result (core's lc_group_norm_out)
  local out = rawget(self, "_reuse") and self:_kept(x)
  if out then
    return norm_out(x, "group", self.num_groups, self.weight, self.bias, self.eps, out, "nn.GroupNorm")
  end
  args.tensor("nn.GroupNorm", x)
  if x.ndim < 2 or x.shape[2] ~= self.num_channels then
    raise("nn.GroupNorm: expected an input {N, %d, ...} (num_channels in dim 2), got %s",
      self.num_channels, shape_str(x))
  end
  local dtype = x.dtype
  if rawget(self, "_reuse") and not is_grad_enabled() and (dtype == "float32" or dtype == "float64") then
    return self:_keep(x, norm_out(x, "group", self.num_groups, self.weight, self.bias, self.eps,
      lucid.empty(x.shape, {dtype = dtype}), "nn.GroupNorm"))
  end
  return norm.group_norm("nn.GroupNorm", x, self.num_groups, self.weight, self.bias, self.eps)
end

function GroupNorm:extra_repr()
  return string.format("%d, %d, eps=%s, affine=%s", self.num_groups, self.num_channels,
    tostring(self.eps), tostring(self.affine))
end

return GroupNorm
