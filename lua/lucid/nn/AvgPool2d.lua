--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.AvgPool2d: a pooling layer (lucid/nn/_pool.lua has the work).
local args = require("lucid._args")
local P = require("lucid.nn._pool")
local F = P.F

--- Average pooling over the last two dims of {N, C, H, W} or {C, H, W}
-- (F.avg_pool2d).
-- @function AvgPool2d
-- @usage nn.AvgPool2d(kernel_size [, stride, padding = 0, ceil_mode = false, count_include_pad = true, divisor_override])
-- @within nn: more layers
local function forward(self, x)
  return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
    self.divisor_override)
end

return P.layer("AvgPool2d", {
  {"kernel_size", args.REQUIRED, P.sizes(2, 1)},
  {"stride", nil, P.optional(P.sizes(2, 1))},
  {"padding", 0, P.sizes(2, 0)},
  {"ceil_mode", false, "boolean"},
  {"count_include_pad", true, "boolean"},
  {"divisor_override", nil, P.optional(args.checks.integer)},
}, function(self, x)
  -- reuse_buffers: the usual path the first time, then into the kept result
  return P.reuse(self, x, forward, P.avg_args) or forward(self, x)
end)
