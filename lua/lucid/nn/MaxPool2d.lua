--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.MaxPool2d: a pooling layer (lucid/nn/_pool.lua has the work).
local args = require("lucid._args")
local P = require("lucid.nn._pool")
local F = P.F

--- Max pooling over the last two dims of {N, C, H, W} or {C, H, W}
-- (F.max_pool2d); with return_indices, calling it returns the output and
-- the 1-based indices flat over each plane. stride defaults to kernel_size.
-- @function MaxPool2d
-- @usage nn.MaxPool2d(kernel_size [, stride, padding = 0, dilation = 1, return_indices = false, ceil_mode = false])
-- @within nn: more layers
local function forward(self, x)
  return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
    self.return_indices)
end

return P.layer("MaxPool2d", {
  {"kernel_size", args.REQUIRED, P.sizes(2, 1)},
  {"stride", nil, P.optional(P.sizes(2, 1))},
  {"padding", 0, P.sizes(2, 0)},
  {"dilation", 1, P.sizes(2, 1)},
  {"return_indices", false, "boolean"},
  {"ceil_mode", false, "boolean"},
}, function(self, x)
  -- reuse_buffers: the usual path the first time, then into the kept result
  local y = not self.return_indices and P.reuse(self, x, forward, P.max_args)
  if y then return y end
  return forward(self, x)
end)
