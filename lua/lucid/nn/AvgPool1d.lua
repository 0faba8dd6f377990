--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.AvgPool1d: a pooling layer (lucid/nn/_pool.lua has the work).
local args = require("lucid._args")
local P = require("lucid.nn._pool")
local F = P.F

--- Average pooling over the last dim of {N, C, L} or {C, L} (F.avg_pool1d).
-- @function AvgPool1d
-- @usage nn.AvgPool1d(kernel_size [, stride, padding = 0, ceil_mode = false, count_include_pad = true])
-- @within nn: more layers
local function forward(self, x)
  return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)
end
local C = require("lucid.core")

return P.layer("AvgPool1d", {
  {"kernel_size", args.REQUIRED, P.sizes(1, 1)},
  {"stride", nil, P.optional(P.sizes(1, 1))},
  {"padding", 0, P.sizes(1, 0)},
  {"ceil_mode", false, "boolean"},
  {"count_include_pad", true, "boolean"},
}, function(self, x)
  -- reuse_buffers on a batch: the usual path the first time, then into the kept result
  local y = C.is_tensor(x) and x.ndim == 3 and P.reuse(self, x, forward, P.avg1_args)
  if y then return y end
  return forward(self, x)
end)
