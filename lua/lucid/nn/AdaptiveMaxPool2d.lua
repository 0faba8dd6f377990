--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.AdaptiveMaxPool2d: a pooling layer (lucid/nn/_pool.lua has the work).
local args = require("lucid._args")
local P = require("lucid.nn._pool")
local F = P.F

--- Max pooling of {N, C, H, W} or {C, H, W} to output_size {oh, ow}
-- (F.adaptive_max_pool2d); with return_indices, also the 1-based indices.
-- @function AdaptiveMaxPool2d
-- @usage nn.AdaptiveMaxPool2d(output_size [, return_indices = false])
-- @within nn: more layers
local function forward(self, x)
  return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)
end
local core_args = P.adaptive_args("max", "nn.AdaptiveMaxPool2d")

return P.layer("AdaptiveMaxPool2d", {
  {"output_size", args.REQUIRED, P.out_sizes(2)},
  {"return_indices", false, "boolean"},
}, function(self, x)
  -- reuse_buffers: the usual path the first time, then into the kept result
  local y = not self.return_indices and P.reuse(self, x, forward, core_args)
  if y then return y end
  return forward(self, x)
end)
