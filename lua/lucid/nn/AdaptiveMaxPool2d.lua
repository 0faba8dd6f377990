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
return P.layer("AdaptiveMaxPool2d", {
  {"output_size", args.REQUIRED, P.out_sizes(2)},
  {"return_indices", false, "boolean"},
}, function(self, x)
  return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)
end)
