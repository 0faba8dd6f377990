--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.AdaptiveMaxPool1d: a pooling layer (lucid/nn/_pool.lua has the work).
local args = require("lucid._args")
local P = require("lucid.nn._pool")
local F = P.F

--- Max pooling of {N, C, L} or {C, L} to output_size along L
-- (F.adaptive_max_pool1d); with return_indices, also the 1-based indices.
-- @function AdaptiveMaxPool1d
-- @usage nn.AdaptiveMaxPool1d(output_size [, return_indices = false])
-- @within nn: more layers
return P.layer("AdaptiveMaxPool1d", {
  {"output_size", args.REQUIRED, P.out_sizes(1)},
  {"return_indices", false, "boolean"},
}, function(self, x)
  return F.adaptive_max_pool1d(x, self.output_size, self.return_indices)
end)
