--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.AdaptiveAvgPool1d: a pooling layer (lucid/nn/_pool.lua has the work).
local args = require("lucid._args")
local P = require("lucid.nn._pool")
local F = P.F

--- Average pooling of {N, C, L} or {C, L} to output_size along L
-- (F.adaptive_avg_pool1d).
-- @function AdaptiveAvgPool1d
-- @usage nn.AdaptiveAvgPool1d(output_size)
-- @within nn: more layers
return P.layer("AdaptiveAvgPool1d", {
  {"output_size", args.REQUIRED, P.out_sizes(1)},
}, function(self, x)
  return F.adaptive_avg_pool1d(x, self.output_size)
end)
