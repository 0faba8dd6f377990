--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.AdaptiveAvgPool2d: a pooling layer (lucid/nn/_pool.lua has the work).
local args = require("lucid._args")
local P = require("lucid.nn._pool")
local F = P.F

--- Average pooling of {N, C, H, W} or {C, H, W} to output_size {oh, ow}
-- (a number for both; false keeps that dim) (F.adaptive_avg_pool2d).
-- @function AdaptiveAvgPool2d
-- @usage nn.AdaptiveAvgPool2d(output_size)
-- @within nn: more layers
local function forward(self, x)
  return F.adaptive_avg_pool2d(x, self.output_size)
end
local core_args = P.adaptive_args("avg", "nn.AdaptiveAvgPool2d")

return P.layer("AdaptiveAvgPool2d", {
  {"output_size", args.REQUIRED, P.out_sizes(2)},
}, function(self, x)
  -- reuse_buffers: the usual path the first time, then into the kept result
  return P.reuse(self, x, forward, core_args) or forward(self, x)
end)
