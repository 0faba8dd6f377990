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
local function forward(self, x)
  return F.adaptive_max_pool1d(x, self.output_size, self.return_indices)
end
local core_args = P.adaptive1_args("max", "nn.AdaptiveMaxPool1d")
local C = require("lucid.core")

return P.layer("AdaptiveMaxPool1d", {
  {"output_size", args.REQUIRED, P.out_sizes(1)},
  {"return_indices", false, "boolean"},
}, function(self, x)
  -- reuse_buffers on a batch: the usual path the first time, then into the kept result
  local y = not self.return_indices and C.is_tensor(x) and x.ndim == 3 and P.reuse(self, x, forward, core_args)
  if y then return y end
  return forward(self, x)
end)
