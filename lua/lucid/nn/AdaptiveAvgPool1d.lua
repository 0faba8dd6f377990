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
local function forward(self, x)
  return F.adaptive_avg_pool1d(x, self.output_size)
end
local core_args = P.adaptive1_args("avg", "nn.AdaptiveAvgPool1d")
local C = require("lucid.core")

return P.layer("AdaptiveAvgPool1d", {
  {"output_size", args.REQUIRED, P.out_sizes(1)},
}, function(self, x)
  -- reuse_buffers on a batch: the usual path the first time, then into the kept result
  local y = C.is_tensor(x) and x.ndim == 3 and P.reuse(self, x, forward, core_args)
  if y then return y end
  return forward(self, x)
end)
