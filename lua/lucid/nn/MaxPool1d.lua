--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.MaxPool1d: a pooling layer (lucid/nn/_pool.lua has the work).
local args = require("lucid._args")
local P = require("lucid.nn._pool")
local F = P.F

--- Max pooling over the last dim of {N, C, L} or {C, L} (F.max_pool1d);
-- with return_indices, calling it returns the output and the 1-based
-- indices. stride defaults to kernel_size.
-- @function MaxPool1d
-- @usage nn.MaxPool1d(kernel_size [, stride, padding = 0, dilation = 1, return_indices = false, ceil_mode = false])
-- @within nn: more layers
local function forward(self, x)
  return F.max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
    self.return_indices)
end
local C = require("lucid.core")

return P.layer("MaxPool1d", {
  {"kernel_size", args.REQUIRED, P.sizes(1, 1)},
  {"stride", nil, P.optional(P.sizes(1, 1))},
  {"padding", 0, P.sizes(1, 0)},
  {"dilation", 1, P.sizes(1, 1)},
  {"return_indices", false, "boolean"},
  {"ceil_mode", false, "boolean"},
}, function(self, x)
  -- reuse_buffers on a batch: the usual path the first time, then into the kept result
  local y = not self.return_indices and C.is_tensor(x) and x.ndim == 3 and P.reuse(self, x, forward, P.max1_args)
  if y then return y end
  return forward(self, x)
end)
