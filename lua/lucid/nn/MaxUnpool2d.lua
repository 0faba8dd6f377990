--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.MaxUnpool2d: a pooling layer (lucid/nn/_pool.lua has the work).
local args = require("lucid._args")
local P = require("lucid.nn._pool")
local F = P.F

--- The partial inverse of MaxPool2d: called as unpool(x, indices [,
-- output_size]), it puts x's values back at the 1-based indices that
-- MaxPool2d returned, zeros elsewhere (F.max_unpool2d).
-- @function MaxUnpool2d
-- @usage nn.MaxUnpool2d(kernel_size [, stride, padding = 0])
-- @within nn: more layers
return P.layer("MaxUnpool2d", {
  {"kernel_size", args.REQUIRED, P.sizes(2, 1)},
  {"stride", nil, P.optional(P.sizes(2, 1))},
  {"padding", 0, P.sizes(2, 0)},
}, function(self, x, indices, output_size)
  return F.max_unpool2d(x, indices, self.kernel_size, self.stride, self.padding, output_size)
end)
