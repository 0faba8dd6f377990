--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.MaxUnpool1d: a pooling layer (lucid/nn/_pool.lua has the work).
local args = require("lucid._args")
local P = require("lucid.nn._pool")
local F = P.F

--- The partial inverse of MaxPool1d: called as unpool(x, indices [,
-- output_size]) (F.max_unpool1d).
-- @function MaxUnpool1d
-- @usage nn.MaxUnpool1d(kernel_size [, stride, padding = 0])
-- @within nn: more layers
return P.layer("MaxUnpool1d", {
  {"kernel_size", args.REQUIRED, P.sizes(1, 1)},
  {"stride", nil, P.optional(P.sizes(1, 1))},
  {"padding", 0, P.sizes(1, 0)},
}, function(self, x, indices, output_size)
  return F.max_unpool1d(x, indices, self.kernel_size, self.stride, self.padding, output_size)
end)
